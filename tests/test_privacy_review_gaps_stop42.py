"""Gaps found in review of data protection and of the synthetic dataset's API (stop 42).

- An erasure request the data-protection officer refused (a case still open, a legal hold)
  left nothing behind: the refusal and its reason could not be audited, nor the person
  answered from the record. Each request is now kept (`privacy.models.ErasureRequest`), with
  its decision and, when refused, its coded reason (ADR 0014, addendum of stop 42).
- An erasure cannot be undone, yet one officer could record the request and erase at once. It
  now needs a second data-protection officer: one records the request, another approves it
  before anything is erased; the officer who recorded it cannot approve it.
- The API's synthetic dataset gave the privacy spent in all by a release's datasets only in
  words (`privacy`); it now gives it as numbers too (`epsilon_in_all`, `delta_in_all`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.privacy import models as privacy_models
from opennrm.privacy import services
from opennrm.statistics import releases, synthetic, tables

from . import case_factories, factories

GIVEN = "Tarvenka"


def _withdrawn(alice: User, police: Organisation, authority: Organisation) -> Case:
    return case_factories.withdrawn(
        alice,
        police,
        authority,
        given_names=GIVEN,
        submitted_at=timezone.now() - timedelta(days=40),
    )


def _record(client: Client, case: Case, reference: str = "DPR-42") -> str:
    day = timezone.localdate() - timedelta(days=1)
    return client.post(
        f"/privacy/people/{case.person_id}/erase/",
        {
            "action": "request",
            "request_reference": reference,
            "request_received_on_day": str(day.day),
            "request_received_on_month": str(day.month),
            "request_received_on_year": str(day.year),
            "confirm": "on",
        },
        follow=True,
    ).content.decode()


@pytest.mark.page("privacy:erase")
def test_a_refused_erasure_request_is_kept_with_its_reason(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The person asked for erasure while their case was still open. The officer recorded the
    request; the second officer could not erase (the authority needs the details) and refused
    it. Before, nothing was kept: no request, no refusal, no reason, so nobody could answer the
    person or check the refusal later."""
    case = _withdrawn(alice, northmoor_police, authority)
    first = factories.signed_in_client(dpo)
    page = _record(first, case)
    assert "must close case" in page
    request = privacy_models.ErasureRequest.objects.get(person=case.person)
    assert (request.status, request.requested_by, request.request_reference) == (
        "awaiting_approval",
        dpo,
        "DPR-42",
    )

    second = factories.signed_in_client(second_dpo)
    page = second.post(
        f"/privacy/people/{case.person_id}/erase/",
        {"action": "approve", "erasure_request": request.pk},
    ).content.decode()
    assert f"must close case {case.reference}" in page
    assert not privacy_models.Erasure.objects.exists()

    page = second.post(
        f"/privacy/people/{case.person_id}/erase/",
        {"action": "refuse", "erasure_request": request.pk, "reason": "open_case"},
        follow=True,
    ).content.decode()
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.refusal_reason) == (
        "refused",
        second_dpo,
        "open_case",
    )
    assert request.decided_at is not None
    assert "Refused" in page
    assert "DPR-42" in page
    event = AuditEvent.objects.get(action="person.erasure_refused")
    assert (event.actor, event.detail) == (
        second_dpo,
        {"request_reference": "DPR-42", "reason": "open_case"},
    )
    # The request keeps the officer's reference, never the person's details.
    assert not [where for where in factories.rows_containing(GIVEN) if "erasurerequest" in where]
    # A new request may be recorded later (the case closed): the refused one stays.
    case_factories.closed(case, by=dmitri)
    _record(first, case, reference="DPR-43")
    assert privacy_models.ErasureRequest.objects.filter(person=case.person).count() == 2


def test_a_legal_hold_refuses_the_erasure_of_a_closed_case_and_is_recorded(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Every case was closed, but the details were needed for proceedings (a legal hold): the
    officer refused the request. Before, a refusal the system did not itself make left no
    trace."""
    case = case_factories.closed(_withdrawn(alice, northmoor_police, authority), by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-7")
    services.erasure_request_refuse(by=dpo, erasure_request=request, reason="legal_hold")
    request.refresh_from_db()
    assert (request.status, request.refusal_reason, request.decided_by) == (
        "refused",
        "legal_hold",
        dpo,
    )
    with pytest.raises(ValidationError, match="already been decided"):
        services.erasure_request_approve(by=second_dpo, erasure_request=request)
    assert not privacy_models.Erasure.objects.exists()
    with pytest.raises(ValidationError, match="Select why"):
        services.erasure_request_refuse(
            by=dpo,
            erasure_request=factories.erasure_requested(
                case.person, by=dpo, request_reference="DPR-8"
            ),
            reason="because",
        )


def test_the_officer_who_recorded_an_erasure_cannot_approve_it(
    dpo: User,
    second_dpo: User,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    settings,
    tmp_path: Path,
) -> None:
    """One officer recorded the request and pressed "Erase the details": the person's details
    were gone for good on one person's word. Now the same officer is told that another
    data-protection officer must approve it, and nothing is erased until one does."""
    settings.PRIVATE_FILES_DIR = tmp_path
    case = case_factories.closed(_withdrawn(alice, northmoor_police, authority), by=dmitri)
    first = factories.signed_in_client(dpo)
    page = _record(first, case)
    assert not privacy_models.Erasure.objects.exists(), "recording the request erases nothing"
    assert "awaiting approval" in page.lower()
    request = privacy_models.ErasureRequest.objects.get(person=case.person)

    page = first.post(
        f"/privacy/people/{case.person_id}/erase/",
        {"action": "approve", "erasure_request": request.pk},
    ).content.decode()
    assert "another data-protection officer must approve it" in page
    assert not privacy_models.Erasure.objects.exists()
    with pytest.raises(ValidationError, match="another data-protection officer must approve"):
        services.erasure_request_approve(by=dpo, erasure_request=request)

    page = (
        factories.signed_in_client(second_dpo)
        .post(
            f"/privacy/people/{case.person_id}/erase/",
            {"action": "approve", "erasure_request": request.pk, "confirm": "on"},
            follow=True,
        )
        .content.decode()
    )
    assert "have been erased" in page
    erasure = privacy_models.Erasure.objects.get(person=case.person)
    request.refresh_from_db()
    assert (erasure.by, erasure.request_reference) == (second_dpo, "DPR-42")
    assert (request.status, request.decided_by, request.erasure) == (
        "carried_out",
        second_dpo,
        erasure,
    )
    erased = AuditEvent.objects.get(action="person.erased")
    assert (erased.actor, erased.detail["requested_by"]) == (second_dpo, dpo.pk)
    assert AuditEvent.objects.filter(action="person.erasure_requested", actor=dpo).exists()


def test_retention_settles_a_request_still_awaiting_approval(
    dpo: User, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The retention run removed the details of a person whose erasure request still awaited
    a second officer: the request is settled with the erasure, not left to be approved."""
    case = case_factories.closed(_withdrawn(alice, northmoor_police, authority), by=dmitri)
    request = factories.erasure_requested(case.person, by=dpo, request_reference="DPR-9")
    assert (
        services.retention_apply(today=timezone.localdate().replace(year=2099)).people_pseudonymised
        == 1
    )
    request.refresh_from_db()
    assert request.status == "carried_out"
    assert request.erasure == privacy_models.Erasure.objects.get(person=case.person)


# --- The synthetic dataset's privacy spent in all, as numbers --------------------------------

Q2 = tables.Period.quarter(2024, 2)


def test_the_api_gives_the_privacy_spent_in_all_as_numbers(db: None, client: Client) -> None:
    """A program reading the API had the total epsilon of a release's synthetic datasets only
    inside a sentence (`privacy`); now `epsilon_in_all` and `delta_in_all` give it, and for a
    first version they equal its own."""
    ada, ben = factories.analysts_and_referrals()
    first = releases.approve_release(
        by=Actor(ben),
        version=releases.prepare_release(
            by=Actor(ada),
            period=Q2,
            jurisdiction=None,
            title="Q2 2024",
            synthetic_epsilon=Decimal("1"),
        ),
    )
    releases.approve_release(
        by=Actor(ben),
        version=releases.revise_release(
            by=Actor(ada),
            release=first.release,
            reason="A note was corrected",
            synthetic_epsilon=Decimal("1.5"),
        ),
    )
    url = f"/api/v1/statistics/releases/{first.release_id}/versions/"
    one = client.get(url + "1").json()["synthetic"]
    two = client.get(url + "2").json()["synthetic"]
    assert (one["epsilon"], one["epsilon_in_all"], one["delta_in_all"]) == (
        1.0,
        1.0,
        synthetic.DELTA,
    )
    assert (two["epsilon"], two["epsilon_in_all"]) == (1.5, 2.5)
    assert two["delta_in_all"] == pytest.approx(2 * synthetic.DELTA)
    documented = (Path(__file__).parent.parent / "docs" / "api.md").read_text()
    assert "`epsilon_in_all`" in documented


def test_each_new_erasure_service_leaves_one_audit_event(
    dpo: User, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Recording, approving and refusing a request each leave exactly one audit event, as every
    write does (the entries proposed for tests/test_audit_services.py, checked here)."""

    def events(write: object) -> list[str]:
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        assert callable(write)
        write()
        return list(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))

    def awaiting(case: Case, requested_by: User) -> privacy_models.ErasureRequest:
        return privacy_models.ErasureRequest.objects.create(
            person=case.person,
            request_reference="DPR-2",
            request_received_on=timezone.localdate(),
            requested_by=requested_by,
            requested_at=timezone.now(),
        )

    closed = case_factories.closed(_withdrawn(alice, northmoor_police, authority), by=dmitri)
    other = case_factories.closed(_withdrawn(alice, northmoor_police, authority), by=dmitri)
    assert events(
        lambda: services.erasure_request_record(
            by=dpo,
            person=closed.person,
            request_reference="DPR-1",
            request_received_on=timezone.localdate(),
        )
    ) == ["person.erasure_requested"]
    assert events(
        lambda: services.erasure_request_refuse(
            by=dpo,
            erasure_request=privacy_models.ErasureRequest.objects.get(person=closed.person),
            reason="legal_hold",
        )
    ) == ["person.erasure_refused"]
    assert events(
        lambda: services.erasure_request_approve(by=dpo, erasure_request=awaiting(other, alice))
    ) == ["person.erased"]
