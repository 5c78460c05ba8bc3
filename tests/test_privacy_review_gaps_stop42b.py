"""Review of commit 0713958 (stop 42), fixed in stop 42b: two-person erasure and kept
refusals (tests/_review_privacy42/test_erasure_requests.py), and an approval and the
retention run at once (tests/_review_privacy42/test_erasure_race.py; PostgreSQL only: SQLite
lets one writer in at a time, so the two cannot interleave).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.privacy import models as privacy_models
from opennrm.privacy import services

from . import case_factories, factories

RETENTION = "retention-run"


def test_the_subject_access_export_tells_the_person_their_erasure_request_was_refused(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The person asked for erasure; an officer refused it under a legal hold. A month later
    they make a subject access request to see what is held about them, and why. The export
    (everything held about them) says nothing of their request, the refusal or its reason,
    though the record now keeps all three about them (`privacy.ErasureRequest`): UK GDPR
    Art. 15 gives them those too, and Art. 12(4) the reason for the refusal."""
    case = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-REFUSED-1")
    services.erasure_request_refuse(by=second_dpo, erasure_request=request, reason="legal_hold")

    exported = json.dumps(
        services.subject_access_export(by=dpo, person=case.person, request_reference="SAR-9")
    )
    assert "DPR-REFUSED-1" in exported or "legal hold" in exported.lower(), (
        "the export holds nothing of the person's refused erasure request"
    )


@pytest.mark.parametrize(
    ("reason", "why_false"),
    [
        ("open_case", "every case of theirs is closed"),
        ("linked_referral", "no referral is linked to them"),
        ("support", "no support is under way"),
    ],
)
def test_a_refusal_cannot_give_a_reason_the_record_contradicts(
    dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    reason: str,
    why_false: str,
) -> None:
    """Every case is closed, nothing links the person and no support is under way: erasure is
    due. One officer alone refuses the request as "a case is open" (or a linked referral, or
    support): the service keeps the refusal with a reason the record itself shows to be false,
    and the person is told so. Erasure takes two officers, refusal one, and the ADR says the
    refusal is kept "so that it can be checked"; a coded reason the service can check (a case
    open, a linked referral holding them, support under way) should be refused when untrue."""
    case = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-FALSE")
    with pytest.raises(ValidationError):
        services.erasure_request_refuse(by=dpo, erasure_request=request, reason=reason)
    request.refresh_from_db()
    assert request.status == "awaiting_approval", f"refused as {reason!r}, yet {why_false}"


def test_the_second_officer_can_find_requests_awaiting_their_approval(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """An officer records a request; it now awaits a second officer, and nothing erases or
    refuses it until one acts. But nothing tells the second officer: no notification, no list
    on the data-protection pages (find, retention, home). The only mention is on the person's
    own page, which they can reach only if they already know the person. The request can sit
    past the one month the law gives (UK GDPR Art. 12(3)) with nobody aware of it."""
    case = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    factories.erasure_requested(case.person, by=dpo, request_reference="DPR-WAITING-7")
    client = factories.signed_in_client(second_dpo)
    pages = {}
    for path in ("/", "/privacy/people/", "/privacy/retention/", "/notifications/"):
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        pages[path] = response.content.decode()
    assert any("DPR-WAITING-7" in page for page in pages.values()), (
        "no page the second officer reaches lists the request awaiting their approval"
    )


@pytest.mark.django_db(transaction=True)
def test_an_approval_while_the_retention_run_erases_the_same_person_is_not_a_deadlock(  # noqa: C901
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second officer approves a request on the night the retention run reaches the same
    person. The approval locks the request, then the person (`erasure_request_approve`:
    `_awaiting`, then `_erase`); the run locks the person, then updates the request still
    awaiting (`_erase`). In opposite orders: PostgreSQL finds a deadlock and kills one. The
    officer then meets a server error, or the run logs the person as an unexpected failure
    ("pseudonymising person N failed (OperationalError)") and counts them in `people_failed`.
    One should simply win and the other be told it was erased (a `ValidationError`)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    case = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-RACE")
    person_locked = threading.Event()
    original = services._remove_identifying_records

    def slow_remove(person: Any) -> dict[str, int]:
        # The run holds the person's lock here; give the approval time to lock the request.
        if threading.current_thread().name == RETENTION:
            person_locked.set()
            time.sleep(1.5)
        return original(person)

    monkeypatch.setattr(services, "_remove_identifying_records", slow_remove)
    unexpected: list[BaseException] = []
    results: dict[str, Any] = {}

    def run() -> None:
        try:
            results["run"] = services.retention_apply(today=timezone.localdate().replace(year=2099))
        except BaseException as error:  # noqa: BLE001
            unexpected.append(error)
        finally:
            connection.close()

    def approve() -> None:
        try:
            person_locked.wait(timeout=30)
            services.erasure_request_approve(by=second_dpo, erasure_request=request)
        except ValidationError:
            pass
        except BaseException as error:  # noqa: BLE001
            unexpected.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=RETENTION), threading.Thread(target=approve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert unexpected == [], f"the approval failed with {unexpected!r}"
    assert results["run"].people_failed == 0, "the run logged the person as failed"
    assert privacy_models.Erasure.objects.filter(person=case.person).count() == 1


@pytest.mark.page("privacy:erase")
def test_the_erase_page_says_why_a_contradicted_reason_is_refused_and_keeps_the_choice(
    dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The officer refuses a request as "a case is open" when every case is closed: the page
    must say why that reason cannot be given, with the reason still selected, and nothing be
    refused; a true reason (a legal hold) is then kept."""
    case = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-PAGE")
    client = factories.signed_in_client(dpo)
    page = client.post(
        f"/privacy/people/{case.person_id}/erase/",
        {"action": "refuse", "erasure_request": request.pk, "reason": "open_case"},
    ).content.decode()
    assert "cases are closed: select the reason the request is really refused for" in page
    assert 'value="open_case" checked' in page
    request.refresh_from_db()
    assert request.status == "awaiting_approval"
    client.post(
        f"/privacy/people/{case.person_id}/erase/",
        {"action": "refuse", "erasure_request": request.pk, "reason": "legal_hold"},
    )
    request.refresh_from_db()
    assert (request.status, request.refusal_reason) == ("refused", "legal_hold")


@pytest.mark.page("privacy:export")
def test_the_readable_export_lists_the_erasure_requests_without_the_officers(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The page to print shows the person's refused request with its reason, and names no
    officer who recorded or refused it (staff names are left out of the export)."""
    case = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-PRINT")
    services.erasure_request_refuse(by=second_dpo, erasure_request=request, reason="legal_hold")
    page = (
        factories.signed_in_client(dpo)
        .post(
            f"/privacy/people/{case.person_id}/export/",
            {"request_reference": "SAR-10", "format": "html"},
        )
        .content.decode()
    )
    section = page[page.index('data-export="erasure_requests"') : page.index('data-export="cases"')]
    assert "DPR-PRINT" in section
    assert "A legal hold" in section
    assert second_dpo.full_name not in section
    assert dpo.full_name not in section


@pytest.mark.page("privacy:find")
def test_the_find_page_lists_requests_awaiting_approval_oldest_first(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The second officer opens "Data requests": the requests awaiting approval are listed, the
    oldest received first, with how many days each has waited and a link to its erase page;
    a decided one is not listed."""
    older = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    newer = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    today = timezone.localdate()
    services.erasure_request_record(
        by=dpo,
        person=newer.person,
        request_reference="DPR-NEWER",
        request_received_on=today - timedelta(days=2),
    )
    services.erasure_request_record(
        by=dpo,
        person=older.person,
        request_reference="DPR-OLDER",
        request_received_on=today - timedelta(days=20),
    )
    refused = case_factories.withdrawn_and_closed(alice, northmoor_police, authority, by=dmitri)
    request = factories.erasure_requested(refused.person, by=dpo, request_reference="DPR-DECIDED")
    services.erasure_request_refuse(by=dpo, erasure_request=request, reason="legal_hold")

    page = factories.signed_in_client(second_dpo).get("/privacy/people/").content.decode()
    assert page.index("DPR-OLDER") < page.index("DPR-NEWER")
    assert f'href="/privacy/people/{older.person_id}/erase/"' in page
    row = page[page.index("DPR-OLDER") :]
    assert ">20</td>" in row[: row.index("</tr>")]
    assert "DPR-DECIDED" not in page
