"""Protection from removal (issue 14, item 5; ADR 0040): the rule for every status, the check
page and API for immigration enforcement officers only, the same answer for an unknown
reference as for one that is not protected, one audit event per check, and the alert to the
competent authority and the referrer when a removal is planned for a protected person."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus as S
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.protection import selectors
from opennrm.protection.models import PlannedRemoval
from opennrm.protection.rules import (
    NOT_PROTECTED_ANSWER,
    Protection,
    Reason,
    nrm_protection,
)
from opennrm.protection.selectors import Finding, protection_of
from opennrm.protection.services import planned_removal_record, protection_check

from . import api_helpers, factories

DAY = date(2027, 3, 1)
UNKNOWN = "NRM-ZZZZ-9999"


# --- The rule, status by status ----------------------------------------------------------------


def _rule(
    status: S, *, recovery_ends: date | None = None, reconsider_until: date | None = None
) -> Protection:
    return nrm_protection(
        status=status,
        on=DAY,
        recovery_period_ends=recovery_ends,
        reconsideration_until=reconsider_until,
    )


def test_awaiting_reasonable_grounds_is_protected_until_a_decision() -> None:
    for status in (S.AWAITING_REASONABLE_GROUNDS, S.RG_SUSPENDED):
        protection = _rule(status)
        assert protection.protected
        assert protection.reason == Reason.AWAITING_REASONABLE_GROUNDS
        assert protection.until is None
        assert protection.answer == (
            "Removal must not proceed: a reasonable grounds decision is awaited."
        )


def test_the_recovery_period_protects_to_its_last_day_and_names_it() -> None:
    for last_day in (DAY, date(2027, 3, 14)):
        protection = _rule(S.RECOVERY_PERIOD, recovery_ends=last_day)
        assert protection.protected
        # Not the protection's last day: it goes on until the CG (ADR 40, stop 36).
        assert protection.until is None
    assert _rule(S.RECOVERY_PERIOD, recovery_ends=date(2027, 3, 14)).answer == (
        "Removal must not proceed: recovery period ends 14 March 2027, and the protection "
        "lasts until a conclusive grounds decision is made."
    )


def test_after_the_recovery_period_a_positive_rg_still_protects_until_the_cg() -> None:
    protection = _rule(S.RECOVERY_PERIOD, recovery_ends=DAY - timedelta(days=1))
    assert protection.protected
    assert protection.reason == Reason.AWAITING_CONCLUSIVE_GROUNDS
    assert protection.answer == (
        "Removal must not proceed: a conclusive grounds decision is awaited."
    )


def test_a_negative_cg_protects_only_while_it_may_be_reconsidered() -> None:
    within = _rule(S.NEGATIVE_CONCLUSIVE_GROUNDS, reconsider_until=DAY)
    assert within.protected
    assert within.reason == Reason.IDENTIFICATION_NOT_COMPLETE
    assert within.answer == (
        "Removal must not proceed: the identification process is not complete "
        "(at least until 1 March 2027)."
    )
    after = _rule(S.NEGATIVE_CONCLUSIVE_GROUNDS, reconsider_until=DAY - timedelta(days=1))
    assert not after.protected


def test_a_reconsideration_waiting_for_an_answer_protects() -> None:
    protection = _rule(S.RECONSIDERATION)
    assert protection.protected
    assert "decision" not in protection.answer  # which decision is not said


@pytest.mark.parametrize(
    "status",
    [
        S.NEGATIVE_REASONABLE_GROUNDS,
        S.POSITIVE_CONCLUSIVE_GROUNDS,
        S.DISQUALIFIED,
        S.RG_WITHDRAWN,
        S.CLOSED,
    ],
)
def test_these_statuses_carry_no_nrm_protection_and_say_nothing_else(status: S) -> None:
    # Even with a reconsideration window or a recovery period still open on the dates.
    protection = _rule(status, recovery_ends=DAY, reconsider_until=DAY)
    assert not protection.protected
    assert protection.answer == NOT_PROTECTED_ANSWER


def test_every_status_has_an_answer() -> None:
    for status in S:
        assert _rule(status, recovery_ends=DAY, reconsider_until=DAY).answer


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    """An immigration enforcement officer."""
    return factories.user(
        "ivan@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Ivan Ives",
    )


def _in_recovery(case: Case, ends: date) -> Case:
    Case.objects.filter(pk=case.pk).update(status=S.RECOVERY_PERIOD, recovery_period_ends=ends)
    case.refresh_from_db()
    return case


def _ended(case: Case) -> Case:
    """Recovery period over, negative CG, its reconsideration window closed."""
    today = timezone.localdate()
    Case.objects.filter(pk=case.pk).update(
        status=S.NEGATIVE_CONCLUSIVE_GROUNDS,
        recovery_period_ends=today - timedelta(days=90),
        reconsideration_until=today - timedelta(days=1),
    )
    case.refresh_from_db()
    return case


def _reads(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action="person.viewed").order_by("pk"))


def test_protection_of_a_case_follows_its_status(case: Case) -> None:
    today = timezone.localdate()
    assert protection_of(case, today).reason == Reason.AWAITING_REASONABLE_GROUNDS
    assert not protection_of(_ended(case), today).protected


# --- The check and its audit event ------------------------------------------------------------


def test_each_check_is_one_read_naming_who_checked_which_reference(ivan: User, case: Case) -> None:
    before = AuditEvent.objects.count()
    protection_check(by=ivan, reference=case.reference)
    protection_check(by=ivan, reference=UNKNOWN)
    assert AuditEvent.objects.count() == before + 2
    found, unknown = _reads(ivan)
    assert found.person_id == case.person_id
    assert found.object_id == str(case.pk)
    assert found.detail == {
        "fields": ["protection from removal"],
        "protection_check": {"reference": case.reference, "found": True},
    }
    assert unknown.person_id is None
    assert unknown.object_id == ""
    assert unknown.detail["protection_check"] == {"reference": UNKNOWN, "found": False}


@pytest.mark.page("protection:check")
def test_the_check_page_answers_protected_and_shows_nothing_else(
    ivan: User, alice: User, dmitri: User, case: Case
) -> None:
    url = reverse("protection:check")
    client = factories.signed_in_client(ivan)
    assert client.put(url).status_code == 405
    for other in (alice, dmitri):
        assert factories.signed_in_client(other).get(url).status_code == 404
    assert client.get(url).status_code == 200
    assert _reads(ivan) == []
    ends = timezone.localdate() + timedelta(days=20)
    _in_recovery(case, ends)
    # Typed in lower case with spaces around: found all the same.
    page = client.post(url, {"reference": f" {case.reference.lower()} "}).content.decode()
    assert f"Removal must not proceed: recovery period ends {ends.day} {ends:%B %Y}, and" in page
    assert f"{case.reference}: protected" in page
    for shown_nowhere in ("Zorica", "Testova", "Albania", "Recovery period: awaiting"):
        assert shown_nowhere not in page
    # The nationality's code as a word of its own (a random token may hold the letters "AL").
    assert not re.search(r"\bAL\b", page)
    (read,) = _reads(ivan)
    assert read.person_id == case.person_id
    # The planned-removal form comes with the reference filled in.
    assert f'name="reference" value="{case.reference}"' in page


def test_unknown_and_unprotected_references_get_the_same_page(ivan: User, case: Case) -> None:
    client = factories.signed_in_client(ivan)
    url = reverse("protection:check")
    _ended(case)
    known = client.post(url, {"reference": case.reference}).content.decode()
    unknown = client.post(url, {"reference": UNKNOWN}).content.decode()
    assert NOT_PROTECTED_ANSWER in known

    # Byte for byte, once the reference each was asked about is set aside (and the forms'
    # one-time tokens).
    def masked(page: str, reference: str) -> str:
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        page = re.sub(r'nonce="[^"]+"', "", page)
        page = re.sub(r'name="submission_key" value="[^"]+"', "", page)
        return page.replace(reference, "REFERENCE")

    assert masked(known, case.reference) == masked(unknown, UNKNOWN)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the reference"),
        ("NRM 7K3Q", "Enter the reference in the form NRM-7K3Q-9XPD"),
        ("NRM-7K3Q-9XPU", "Enter the reference in the form NRM-7K3Q-9XPD"),
        ("x" * 41, "Enter the reference in the form NRM-7K3Q-9XPD"),
    ],
)
def test_a_malformed_reference_is_named_and_kept(ivan: User, typed: str, message: str) -> None:
    response = factories.signed_in_client(ivan).post(
        reverse("protection:check"), {"reference": typed}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert message in page
    assert f'value="{typed}"' in page if typed else True
    assert _reads(ivan) == []  # nothing was checked


# --- Planned removals and the alert -----------------------------------------------------------


@pytest.fixture
def elsewhere_decider(db: None) -> User:
    other = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("other-dm@example.org", organisation=other, role=Role.DECISION_MAKER)


@pytest.mark.page("protection:planned_removal")
def test_a_removal_planned_for_a_protected_person_alerts_the_authority_and_the_referrer(
    ivan: User,
    alice: User,
    bob: User,
    dmitri: User,
    sally: User,
    elsewhere_decider: User,
    case: Case,
) -> None:
    url = reverse("protection:planned_removal")
    client = factories.signed_in_client(ivan)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(alice).get(url).status_code == 404
    assert client.get(f"{url}?reference={case.reference}").status_code == 200
    ends = timezone.localdate() + timedelta(days=20)
    _in_recovery(case, ends)
    planned_on = timezone.localdate() + timedelta(days=3)
    page = client.post(url, _removal(case.reference, planned_on)).content.decode()
    assert '<h1 class="govuk-heading-l">Removal must not proceed</h1>' in page
    assert f"recovery period ends {ends.day} {ends:%B %Y}" in page
    assert "Zorica" not in page
    planned = PlannedRemoval.objects.get()
    assert (planned.reference, planned.planned_on, planned.protected) == (
        case.reference,
        planned_on,
        True,
    )
    told = Notification.objects.filter(kind="protection.planned_removal")
    # The authority's decision makers and the referring first responder; nobody else (not
    # Bob, Alice's colleague, nor another authority's decision maker, nor the officer).
    assert {n.recipient for n in told} == {dmitri, sally, alice}
    for notification in told:
        assert case.reference in notification.subject
        assert f"{planned_on.day} {planned_on:%B %Y}" in notification.body
        assert "Test Immigration Enforcement" in notification.body
        assert "Zorica" not in notification.subject + notification.body
        assert notification.case_id == case.pk
    assert planned.alerted == 3
    (entry,) = case.events.filter(kind="protection.removal_planned")
    assert entry.description.startswith("Test Immigration Enforcement recorded a removal")
    assert entry.actor == ivan
    (event,) = AuditEvent.objects.filter(action="removal.planned")
    assert event.detail["alerted"] == sorted([dmitri.pk, sally.pk, alice.pk])
    assert event.detail["protected"] is True


def _removal(reference: str, planned_on: date) -> dict[str, str]:
    return {
        "reference": reference,
        "planned_on_day": str(planned_on.day),
        "planned_on_month": str(planned_on.month),
        "planned_on_year": str(planned_on.year),
    }


def test_no_alert_once_the_recovery_period_has_ended_and_the_decision_is_final(
    ivan: User, dmitri: User, case: Case
) -> None:
    _ended(case)
    page = (
        factories.signed_in_client(ivan)
        .post(
            reverse("protection:planned_removal"),
            _removal(case.reference, timezone.localdate() + timedelta(days=1)),
        )
        .content.decode()
    )
    assert "Planned removal recorded" in page
    assert NOT_PROTECTED_ANSWER in page
    assert not Notification.objects.exists()
    assert PlannedRemoval.objects.get().protected is False
    assert not case.events.filter(kind="protection.removal_planned").exists()


def test_protection_is_judged_on_the_planned_day(
    ivan: User, border_enforcement: Organisation, case: Case
) -> None:
    """A negative CG open to reconsideration for two more days: a removal planned within the
    window alerts; one planned after it does not."""
    today = timezone.localdate()
    Case.objects.filter(pk=case.pk).update(
        status=S.NEGATIVE_CONCLUSIVE_GROUNDS, reconsideration_until=today + timedelta(days=2)
    )
    inside = planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=case.reference,
        planned_on=today + timedelta(days=2),
    )
    after = planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=case.reference,
        planned_on=today + timedelta(days=3),
    )
    # Only the referrer is told: this test's authority has no decision maker.
    assert inside.protection.protected
    assert inside.planned.alerted == 1
    assert not after.protection.protected
    assert after.planned.alerted == 0


def test_every_protection_service_leaves_one_event(
    ivan: User, border_enforcement: Organisation, case: Case
) -> None:
    from opennrm.protection import services

    calls = {
        "protection_check": lambda: protection_check(by=ivan, reference=case.reference),
        "planned_removal_record": lambda: planned_removal_record(
            by=ivan,
            organisation=border_enforcement,
            reference=case.reference,
            planned_on=timezone.localdate(),
        ),
    }
    public = {
        name
        for name, value in vars(services).items()
        if callable(value)
        and getattr(value, "__module__", "") == services.__name__
        and not name.startswith("_")
        and not isinstance(value, type)
    }
    assert public == set(calls)
    for name, call in calls.items():
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        call()
        events = AuditEvent.objects.filter(pk__gt=last).order_by("pk")
        actions = list(events.values_list("action", flat=True))
        # A planned removal gives the check's answer: the same read, then its own event.
        assert actions == {"protection_check": ["person.viewed"]}.get(
            name, ["person.viewed", "removal.planned"]
        )


def test_a_planned_removal_records_one_event_and_an_unknown_reference_alerts_nobody(
    ivan: User, border_enforcement: Organisation
) -> None:
    before = AuditEvent.objects.count()
    recorded = planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=UNKNOWN,
        planned_on=timezone.localdate(),
    )
    assert AuditEvent.objects.count() == before + 1
    assert recorded.protection.answer == NOT_PROTECTED_ANSWER
    assert not Notification.objects.exists()


def test_the_planned_removal_form_refuses_a_past_day_and_keeps_what_was_typed(
    ivan: User, case: Case
) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    page = (
        factories.signed_in_client(ivan)
        .post(reverse("protection:planned_removal"), _removal(case.reference, yesterday))
        .content.decode()
    )
    assert "The date of the planned removal must be today or in the future" in page
    assert f'value="{case.reference}"' in page
    assert not PlannedRemoval.objects.exists()


# --- Another source of protection -------------------------------------------------------------


@pytest.fixture
def operation_source() -> Iterator[None]:
    """A stand-in for the operations app's source: one reception reference it protects."""

    def source(reference: str, on: date) -> Finding | None:
        if reference != "OPR-AAAA-0001":
            return None
        return Finding(
            Protection(
                True,
                Reason.OTHER_SOURCE,
                source="operations",
                explanation="taken in during an operation; a referral is being made",
            )
        )

    selectors.register_source(source)
    yield
    selectors._SOURCES.remove(source)


def test_another_app_can_add_protection_for_its_own_references(
    ivan: User, operation_source: None
) -> None:
    protection = protection_check(by=ivan, reference="OPR-AAAA-0001")
    assert protection.answer == (
        "Removal must not proceed: taken in during an operation; a referral is being made."
    )
    assert protection.source == "operations"
    assert not protection_check(by=ivan, reference=UNKNOWN).protected


# --- The API ----------------------------------------------------------------------------------


def _ivan_api(ivan: User, border_enforcement: Organisation) -> Client:
    _, secret = api_helpers.token(ivan, border_enforcement, scopes=[api_helpers.PROTECTION_CHECK])
    return api_helpers.client_with(secret)


def test_the_api_check_answers_as_the_page_and_records_the_read(
    ivan: User, border_enforcement: Organisation, case: Case
) -> None:
    client = _ivan_api(ivan, border_enforcement)
    response = client.get(f"/api/v1/protection/{case.reference}")
    assert response.status_code == 200
    assert response.json() == {
        "reference": case.reference,
        "protected": True,
        "answer": "Removal must not proceed: a reasonable grounds decision is awaited.",
        "reason": "awaiting_reasonable_grounds",
        "until": None,
        "recovery_period_ends": None,
    }
    assert len(_reads(ivan)) == 1
    assert client.delete(f"/api/v1/protection/{case.reference}").status_code == 405


def test_the_api_gives_an_unknown_reference_the_unprotected_answer(
    ivan: User, border_enforcement: Organisation, case: Case
) -> None:
    client = _ivan_api(ivan, border_enforcement)
    _ended(case)
    known = client.get(f"/api/v1/protection/{case.reference}").json()
    unknown = client.get(f"/api/v1/protection/{UNKNOWN}").json()
    assert known.pop("reference") == case.reference
    assert unknown.pop("reference") == UNKNOWN
    assert (
        known
        == unknown
        == {
            "protected": False,
            "answer": NOT_PROTECTED_ANSWER,
            "reason": None,
            "until": None,
            "recovery_period_ends": None,
        }
    )


def test_the_api_refuses_a_malformed_reference_and_other_roles(
    ivan: User, border_enforcement: Organisation, alice: User, northmoor_police: Organisation
) -> None:
    response = _ivan_api(ivan, border_enforcement).get("/api/v1/protection/NRM-12")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reference"
    _, secret = api_helpers.token(alice, northmoor_police, scopes=api_helpers.EVERY_SCOPE)
    refused = api_helpers.client_with(secret).get(f"/api/v1/protection/{UNKNOWN}")
    assert refused.status_code == 403
    # A token without the scope: refused too, whatever the member's role.
    _, narrow = api_helpers.token(ivan, border_enforcement, scopes=[api_helpers.READ])
    assert api_helpers.client_with(narrow).get(f"/api/v1/protection/{UNKNOWN}").status_code == 403
    assert _reads(ivan) == []


def test_the_api_records_a_planned_removal_and_alerts(
    ivan: User, border_enforcement: Organisation, alice: User, dmitri: User, case: Case
) -> None:
    client = _ivan_api(ivan, border_enforcement)
    url = f"/api/v1/protection/{case.reference}/planned-removals"
    planned_on = timezone.localdate() + timedelta(days=5)
    response = api_helpers.post_json(client, url, {"planned_on": planned_on.isoformat()})
    assert response.status_code == 201
    body = response.json()
    assert body["protected"] is True
    assert body["alerted"] is True
    assert body["planned_on"] == planned_on.isoformat()
    assert {n.recipient for n in Notification.objects.all()} == {alice, dmitri}
    past = api_helpers.post_json(client, url, {"planned_on": "2020-01-01"})
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "planned_on"
    extra = api_helpers.post_json(client, url, {"planned_on": "2099-01-01", "name": "x"})
    assert extra.status_code == 422
    assert PlannedRemoval.objects.count() == 1


def test_the_check_does_not_reveal_the_case_to_the_officer_anywhere_else(
    ivan: User, case: Case
) -> None:
    client = factories.signed_in_client(ivan)
    assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 404
    assert client.get(reverse("cases:search")).status_code == 404


def test_the_data_protection_officer_sees_each_check_of_a_person(
    ivan: User, dpo: User, case: Case
) -> None:
    factories.signed_in_client(ivan).post(
        reverse("protection:check"), {"reference": case.reference}
    )
    html = (
        factories.signed_in_client(dpo)
        .get(reverse("privacy:person_reads"), {"reference": case.reference})
        .content.decode()
    )
    assert "ivan@example.org" in html
    assert "Checked protection from removal" in html
    assert "protection from removal" in html


def test_a_recovery_period_over_with_the_cg_still_awaited_still_alerts(
    ivan: User, border_enforcement: Organisation, alice: User, case: Case
) -> None:
    """CETS Art. 10(2): no removal until identification is complete (ADR 40). The recovery
    period's end alone does not lift the protection; the conclusive grounds decision does."""
    _in_recovery(case, timezone.localdate() - timedelta(days=1))
    recorded = planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=case.reference,
        planned_on=timezone.localdate(),
    )
    assert recorded.protection.reason == Reason.AWAITING_CONCLUSIVE_GROUNDS
    assert [n.recipient for n in Notification.objects.all()] == [alice]
