"""Retention and erasure (issue 5): a case is closed by its competent authority; six years (by
default) after a person's last case closed, the nightly task removes everything that identifies
them and keeps the statistical fields; a data-protection officer can erase the same at the
person's request. Either way the audit trail keeps every event, and its chain stays whole (the
conftest checks the chain after each test)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation.models import PlacementRequest, PlacementRequestStatus
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases import services as case_services
from opennrm.cases.choices import CaseStatus, CloseReason
from opennrm.cases.models import Case, CaseEvent, Person
from opennrm.decisions import services as decisions
from opennrm.notifications.models import Notification
from opennrm.privacy import selectors, services
from opennrm.privacy.models import Erasure, RetentionRun
from opennrm.referrals import services as referral_services
from opennrm.referrals.models import EvidenceFile, ReferralDraft

from . import case_factories, factories
from . import referral_helpers as r

GIVEN, FAMILY = "Wendeloria", "Quarstenbrook"
BORN = date(1991, 4, 17)
CONTACT = "Leave word at the Tollgate chapel"
ACCOUNT = "Worked nights at the Ferngully packing shed"
REASONS = "Wendeloria left for Harvelstad before the interview"
FILE_NAME = "Wendeloria ticket.pdf"
SECRETS = [GIVEN, FAMILY, CONTACT, ACCOUNT, "Harvelstad", FILE_NAME, "Tollgate", "Ferngully"]

REFERRED_ON = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.get_fixed_timezone(0))
CLOSED_ON = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.get_fixed_timezone(0))


def referred(alice: User, organisation: Organisation) -> Case:
    """A person referred through the real services, with evidence and distinctive details."""
    pages = {
        **r.ADULT_REFERRAL,
        "person": {
            **r.PERSON,
            "given_names": GIVEN,
            "family_name": FAMILY,
            "date_of_birth_day": str(BORN.day),
            "date_of_birth_month": str(BORN.month),
            "date_of_birth_year": str(BORN.year),
            "safe_contact": CONTACT,
        },
        "account": {"persons_account": ACCOUNT, "responders_account": "Seen at the shed."},
    }
    with time_machine.travel(REFERRED_ON, tick=False):
        draft = r.draft_through_services(
            alice, organisation, pages, evidence=[(FILE_NAME, b"%PDF-1.7\nticket")]
        )
        case = referral_services.referral_submit(by=alice, draft=draft).case
    assert case is not None
    return case


def withdrawn_and_closed(case: Case, decider: User) -> Case:
    """The person left before a decision; the authority closes the case on CLOSED_ON, and the
    request for a place their referral raised is withdrawn (set directly here: the support
    services have tests of their own)."""
    PlacementRequest.objects.filter(case=case).update(status=PlacementRequestStatus.WITHDRAWN)
    with time_machine.travel(CLOSED_ON, tick=False):
        decisions.decision_record_reasonable_grounds(
            by=decider, case=case, outcome="withdrawn", reasons=REASONS, expected_version=1
        )
        case.refresh_from_db()
        return case_services.case_close(
            by=decider, case=case, reason=CloseReason.LEFT, expected_version=case.version
        )


def found_anywhere() -> list[str]:
    return [
        f"{secret}: {where}" for secret in SECRETS for where in factories.rows_containing(secret)
    ]


@pytest.fixture
def files(settings, tmp_path: Path) -> Path:
    settings.PRIVATE_FILES_DIR = tmp_path
    return tmp_path


@pytest.fixture
def closed_case(
    alice: User, dmitri: User, northmoor_police: Organisation, routing: Organisation, files: Path
) -> Case:
    return withdrawn_and_closed(referred(alice, northmoor_police), dmitri)


class TestClosingACase:
    def test_the_authority_closes_a_case_and_the_referrer_is_told(
        self, alice: User, dmitri: User, closed_case: Case
    ) -> None:
        assert closed_case.status == CaseStatus.CLOSED
        assert closed_case.closed_at == CLOSED_ON
        assert Notification.objects.filter(
            recipient=alice, case=closed_case, subject__contains="closed"
        ).exists()
        event = AuditEvent.objects.get(action="case.closed")
        assert (event.actor, event.detail) == (dmitri, {"reason": "left"})

    @pytest.mark.page("cases:close")
    def test_the_close_page_closes_it(
        self, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
            # Decided long enough ago that move-on support has ended: closable for that reason.
            submitted_at=timezone.now() - timedelta(days=200),
        )
        client = factories.signed_in_client(dmitri)
        assert "Close the case" in client.get(f"/cases/{case.reference}/").content.decode()
        missing = client.post(f"/cases/{case.reference}/close/", {"expected_version": 1})
        assert "Select why the case is being closed" in missing.content.decode()
        done = client.post(
            f"/cases/{case.reference}/close/", {"reason": "support_ended", "expected_version": 1}
        )
        assert done.status_code == 302
        case.refresh_from_db()
        assert case.status == CaseStatus.CLOSED
        assert case.closed_at is not None

    def test_not_while_reconsideration_can_still_be_asked_for(
        self, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            status=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
            reconsideration_until=timezone.localdate() + timedelta(days=3),
        )
        with pytest.raises(ValidationError, match="Reconsideration can still be asked for"):
            case_services.case_close(
                by=dmitri, case=case, reason=CloseReason.DECISION_FINAL, expected_version=1
            )
        response = factories.signed_in_client(dmitri).post(
            f"/cases/{case.reference}/close/", {"reason": "decision_final", "expected_version": 1}
        )
        assert "Reconsideration can still be asked for" in response.content.decode()
        case.refresh_from_db()
        assert case.status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS

    def test_a_case_still_being_decided_cannot_be_closed(
        self, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        page = factories.signed_in_client(dmitri).get(f"/cases/{case.reference}/close/")
        assert "This case cannot be closed now" in page.content.decode()
        assert "Close the case" not in factories.signed_in_client(dmitri).get(
            f"/cases/{case.reference}/"
        ).content.decode().replace("<title>", "")

    def test_others_cannot_close_it(
        self, alice: User, charlie: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        )
        for person in (alice, charlie):
            response = factories.signed_in_client(person).post(
                f"/cases/{case.reference}/close/",
                {"reason": "support_ended", "expected_version": 1},
            )
            assert response.status_code == 404
            with pytest.raises(ValidationError):
                case_services.case_close(
                    by=person, case=case, reason=CloseReason.SUPPORT_ENDED, expected_version=1
                )


class TestRetention:
    def test_nothing_is_removed_before_the_period_ends(self, closed_case: Case) -> None:
        last_day = date(2032, 3, 2)  # six years after closing: still within the period
        assert selectors.retention_ends(closed_case.closed_at) == date(2032, 3, 3)
        result = services.retention_apply(today=last_day)
        assert result.people_pseudonymised == 0
        assert not Erasure.objects.exists()
        assert {secret for secret in SECRETS if factories.rows_containing(secret)} == set(SECRETS)

    def test_after_the_period_nothing_identifying_remains_and_the_figures_do(
        self, closed_case: Case, files: Path, django_capture_on_commit_callbacks
    ) -> None:
        person = closed_case.person
        events_before = AuditEvent.objects.count()
        assert found_anywhere(), "the control: the details were stored"
        assert [p for p in files.rglob("*") if p.is_file()], "the control: the file was stored"

        with django_capture_on_commit_callbacks(execute=True):
            result = services.retention_apply(today=date(2032, 3, 3))

        assert result.people_pseudonymised == 1
        assert found_anywhere() == []
        assert not EvidenceFile.objects.exists()
        assert [p for p in files.rglob("*") if p.is_file()] == []
        # The statistical fields stay.
        person.refresh_from_db()
        case = Case.objects.get(pk=closed_case.pk)
        assert (person.sex, person.nationalities, person.age_at_referral) == (
            "female",
            ["AL"],
            person.age_at_referral,
        )
        assert (case.status, case.exploitation_types, case.area) == (
            CaseStatus.CLOSED,
            closed_case.exploitation_types,
            closed_case.area,
        )
        assert case.decisions.get().outcome == "withdrawn"
        # Every audit event is kept, with one more for the pseudonymisation, and one for the run.
        assert AuditEvent.objects.count() == events_before + 2
        event = AuditEvent.objects.get(action="person.pseudonymised")
        assert (event.actor, event.object_id) == (None, str(person.pk))
        assert event.detail["removed"]["identity"] == 1
        erasure = Erasure.objects.get()
        assert (erasure.person, erasure.reason, erasure.by) == (person, "retention", None)
        assert CaseEvent.objects.filter(case=case, kind="person.erased").exists()

    def test_running_again_or_twice_changes_nothing(self, closed_case: Case) -> None:
        services.retention_apply(today=date(2032, 3, 3))
        again = services.retention_apply(today=date(2032, 3, 3))
        assert again.people_pseudonymised == 0
        assert Erasure.objects.count() == 1
        assert RetentionRun.objects.count() == 2
        with pytest.raises(ValidationError, match="already been erased"):
            services._erase(person=closed_case.person, reason="retention", by=None)

    def test_a_person_with_a_case_still_open_keeps_their_details(
        self,
        closed_case: Case,
        alice: User,
        northmoor_police: Organisation,
        authority: Organisation,
    ) -> None:
        Case.objects.create(
            **{
                field.name: getattr(closed_case, field.name)
                for field in Case._meta.concrete_fields
                if field.name not in ("id", "reference", "status", "closed_at", "screening")
            },
            reference="NRM-TEST-OPEN",
        )
        assert services.retention_apply(today=date(2040, 1, 1)).people_pseudonymised == 0
        assert found_anywhere()

    def test_drafts_never_submitted_are_deleted_after_their_period(
        self,
        alice: User,
        northmoor_police: Organisation,
        files: Path,
        settings,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.RETENTION_DRAFT_DAYS = 90
        with time_machine.travel(CLOSED_ON, tick=False):
            old = r.draft_through_services(
                alice,
                northmoor_police,
                {"person": {**r.PERSON, "given_names": GIVEN}},
                evidence=[(FILE_NAME, b"%PDF-1.7\nold")],
            )
        recent = r.draft_through_services(
            alice, northmoor_police, {"person": {**r.PERSON, "given_names": "Recentia"}}
        )
        # Past its 90 days, its author is told first: it goes only after the notice period.
        today = timezone.localdate(CLOSED_ON) + timedelta(days=91)
        with time_machine.travel(today, tick=False):
            assert services.retention_apply(today=today).drafts_deleted == 0
        assert ReferralDraft.objects.filter(pk=old.pk).exists()
        assert Notification.objects.filter(
            recipient=alice, kind="referrals.draft_deletion"
        ).exists()
        today += timedelta(days=settings.RETENTION_DRAFT_NOTICE_DAYS)
        with (
            time_machine.travel(today, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = services.retention_apply(today=today)
        assert result.drafts_deleted == 1
        assert list(ReferralDraft.objects.values_list("pk", flat=True)) == [recent.pk]
        assert not ReferralDraft.objects.filter(pk=old.pk).exists()
        assert found_anywhere() == []
        assert [p for p in files.rglob("*") if p.is_file()] == []

    def test_old_notifications_are_deleted(self, closed_case: Case, settings) -> None:
        settings.RETENTION_NOTIFICATION_DAYS = 30
        assert Notification.objects.exists()
        result = services.retention_apply(today=timezone.localdate() + timedelta(days=31))
        assert result.notifications_deleted > 0
        assert not Notification.objects.exists()

    def test_the_task_records_its_run(self, closed_case: Case) -> None:
        from opennrm.privacy.tasks import apply_retention

        with time_machine.travel(datetime(2032, 3, 3, 3, 0, tzinfo=timezone.get_fixed_timezone(0))):
            outcome = apply_retention.enqueue(reschedule=False)
        assert outcome.return_value["people_pseudonymised"] == 1
        run = RetentionRun.objects.get()
        assert (run.people_pseudonymised, run.finished_at is not None) == (1, True)
        assert AuditEvent.objects.filter(action="retention.applied", object_id=str(run.pk)).exists()


@pytest.fixture
def closed_person(closed_case: Case) -> Person:
    return closed_case.person


class TestErasureOnRequest:
    @pytest.mark.page("privacy:find")
    def test_the_officer_finds_the_person_by_name_and_date_of_birth(
        self, dpo: User, closed_person: Person
    ) -> None:
        client = factories.signed_in_client(dpo)
        page = client.post(
            "/privacy/people/",
            {
                "name": f"{GIVEN.upper()}  {FAMILY}",
                "date_of_birth_day": str(BORN.day),
                "date_of_birth_month": str(BORN.month),
                "date_of_birth_year": str(BORN.year),
            },
        ).content.decode()
        assert f"/privacy/people/{closed_person.pk}/" in page
        assert GIVEN not in page, "the results show no names"
        event = AuditEvent.objects.get(action="privacy.people_searched")
        assert event.detail == {"by": "name+date_of_birth", "found": 1}
        assert GIVEN not in json.dumps(event.detail)

    def test_a_search_with_nothing_to_search_by_says_so(self, dpo: User) -> None:
        page = factories.signed_in_client(dpo).post("/privacy/people/", {"name": ""})
        assert "Enter a case reference, or a whole name or date of birth" in page.content.decode()

    @pytest.mark.page("privacy:erase")
    def test_erasing_removes_the_details_and_keeps_every_audit_event(
        self, dpo: User, second_dpo: User, alice: User, dmitri: User, closed_person: Person
    ) -> None:
        case = closed_person.cases.get()
        # People looked at the case before: those reads stay recorded after erasure.
        factories.signed_in_client(alice).get(f"/cases/{case.reference}/")
        reads_before = AuditEvent.objects.filter(person_id=closed_person.pk).count()
        events_before = AuditEvent.objects.count()
        client = factories.signed_in_client(dpo)
        form = client.get(f"/privacy/people/{closed_person.pk}/erase/").content.decode()
        assert "cannot be brought back" in form

        # One officer records the request; a second approves it, and only then is it erased.
        recorded = client.post(
            f"/privacy/people/{closed_person.pk}/erase/",
            {
                "action": "request",
                "request_reference": "DPR-2026-0007",
                "request_received_on_day": "1",
                "request_received_on_month": "4",
                "request_received_on_year": "2026",
                "confirm": "on",
            },
        )
        assert recorded.status_code == 302
        assert not Erasure.objects.exists()
        waiting = closed_person.erasure_requests.get()
        response = factories.signed_in_client(second_dpo).post(
            f"/privacy/people/{closed_person.pk}/erase/",
            {"action": "approve", "erasure_request": waiting.pk, "confirm": "on"},
        )

        assert response.status_code == 302
        assert found_anywhere() == []
        assert AuditEvent.objects.count() == events_before + 2
        assert AuditEvent.objects.filter(person_id=closed_person.pk).count() == reads_before
        erased = AuditEvent.objects.get(action="person.erased")
        assert (erased.actor, erased.detail["request_reference"]) == (
            second_dpo,
            "DPR-2026-0007",
        )
        erasure = Erasure.objects.get()
        assert (erasure.reason, erasure.by, erasure.request_received_on) == (
            "request",
            second_dpo,
            date(2026, 4, 1),
        )
        # The referrer's case page says what happened and shows no details; no letter is made.
        page = factories.signed_in_client(alice).get(f"/cases/{case.reference}/").content.decode()
        assert "were removed on" in page
        assert "asked for their details to be erased" in page
        assert GIVEN not in page
        decision = case.decisions.get()
        assert (
            factories.signed_in_client(dmitri).get(f"/decisions/{decision.pk}/letter/").status_code
            == 404
        )

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"request_reference": ""}, "Enter your reference for the request"),
            ({"request_received_on_year": ""}, "must include a year"),
            ({"request_received_on_year": "2999"}, "must be today or earlier"),
            (
                {"request_received_on_year": "1900"},
                "cannot be before they were first referred (12 January 2026)",
            ),
            (
                {"request_received_on_day": ""}
                | {"request_received_on_month": "", "request_received_on_year": ""},
                "Enter the date the request was received",
            ),
            ({"confirm": ""}, "Confirm that the details may be erased"),
        ],
    )
    def test_a_form_with_a_problem_erases_nothing_and_keeps_what_was_typed(
        self, dpo: User, closed_person: Person, change: dict[str, str], message: str
    ) -> None:
        data = {
            "request_reference": "DPR-2026-0007",
            "request_received_on_day": "1",
            "request_received_on_month": "4",
            "request_received_on_year": "2026",
            "confirm": "on",
        } | change
        response = factories.signed_in_client(dpo).post(
            f"/privacy/people/{closed_person.pk}/erase/", {k: v for k, v in data.items() if v}
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        assert "There is a problem" in page
        if data["request_reference"]:
            assert 'value="DPR-2026-0007"' in page
        assert not Erasure.objects.exists()
        assert found_anywhere()

    def test_not_while_support_is_under_way(self, dpo: User, closed_person: Person) -> None:
        """The places a person must keep away from protect them while a request for a place is
        open: erasing them then could let matching place them near their traffickers."""
        request = PlacementRequest.objects.get(case__person=closed_person)
        PlacementRequest.objects.filter(pk=request.pk).update(status=PlacementRequestStatus.OPEN)
        with pytest.raises(ValidationError, match="a request for a place is open"):
            factories.person_erased(
                closed_person,
                recorded_by=dpo,
                request_reference="DPR-1",
                request_received_on=date(2026, 4, 1),
            )
        assert services.retention_apply(today=date(2040, 1, 1)).people_pseudonymised == 0
        assert found_anywhere()

    def test_not_while_a_case_is_open(
        self, dpo: User, alice: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        page = factories.signed_in_client(dpo).get(f"/privacy/people/{case.person.pk}/erase/")
        assert f"must close case {case.reference} first" in page.content.decode()
        with pytest.raises(ValidationError, match=f"must close case {case.reference}"):
            factories.person_erased(
                case.person,
                recorded_by=dpo,
                request_reference="DPR-1",
                request_received_on=timezone.localdate(),
            )
        assert not Erasure.objects.exists()

    def test_only_the_officer_may_erase(
        self, dmitri: User, sysadmin: User, closed_person: Person
    ) -> None:
        for person in (dmitri, sysadmin):
            response = factories.signed_in_client(person).post(
                f"/privacy/people/{closed_person.pk}/erase/",
                {"request_reference": "X", "confirm": "on"},
            )
            assert response.status_code == 404
        assert not Erasure.objects.exists()


class TestSubjectAccess:
    @pytest.mark.page("privacy:export")
    def test_the_export_holds_everything_and_is_recorded(
        self, dpo: User, alice: User, closed_person: Person
    ) -> None:
        case = closed_person.cases.get()
        factories.signed_in_client(alice).get(f"/cases/{case.reference}/")
        response = factories.signed_in_client(dpo).post(
            f"/privacy/people/{closed_person.pk}/export/",
            {"request_reference": "DPR-2026-0009", "format": "json"},
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Cache-Control"] == "private, no-store"
        data = json.loads(response.content)
        identity = data["person"]["identity"]
        assert (identity["given_names"], identity["family_name"], identity["date_of_birth"]) == (
            GIVEN,
            FAMILY,
            BORN.isoformat(),
        )
        exported = data["cases"][0]
        assert exported["reference"] == case.reference
        assert exported["accounts"]["persons_account"] == ACCOUNT
        assert exported["decisions"][0]["reasons"] == REASONS
        [letter] = exported["letters"]
        assert GIVEN in letter["text"]["greeting"]
        assert letter["text"]["reasons"] == REASONS
        assert exported["evidence"][0]["file_name"] == FILE_NAME
        assert "Northmoor Police" in [row["organisation"] for row in data["shown_to"]]
        assert "alice@example.org" not in response.content.decode(), "staff are not named"
        event = AuditEvent.objects.get(action="person.exported")
        assert (event.actor, event.person_id) == (dpo, closed_person.pk)
        assert event.detail["purpose"] == "subject access request DPR-2026-0009"
        assert "given_names" in event.detail["fields"]

    def test_the_readable_page(self, dpo: User, closed_person: Person) -> None:
        response = factories.signed_in_client(dpo).post(
            f"/privacy/people/{closed_person.pk}/export/",
            {"request_reference": "DPR-2026-0009", "format": "html"},
        )
        page = response.content.decode()
        assert GIVEN in page
        assert ACCOUNT in page
        assert REASONS in page
        assert "Subject access request DPR-2026-0009" in page
        # The letter as it was issued to the person.
        assert "Letter: Reasonable grounds decision" in page

    def test_no_reference_no_export(self, dpo: User, closed_person: Person) -> None:
        response = factories.signed_in_client(dpo).post(
            f"/privacy/people/{closed_person.pk}/export/", {"format": "json"}
        )
        assert "Enter your reference for the request" in response.content.decode()
        assert GIVEN not in response.content.decode()
        assert not AuditEvent.objects.filter(action="person.exported").exists()

    def test_after_erasure_the_export_holds_nothing_identifying(
        self, dpo: User, closed_person: Person
    ) -> None:
        factories.person_erased(
            closed_person,
            recorded_by=dpo,
            request_reference="DPR-1",
            request_received_on=date(2026, 4, 1),
        )
        data = services.subject_access_export(
            by=dpo, person=closed_person, request_reference="DPR-2"
        )
        text = json.dumps(data)
        assert data["person"]["identity"] is None
        assert data["erasure"]["reason"] == "The person asked for their details to be erased"
        assert [secret for secret in SECRETS if secret in text] == []

    def test_only_the_officer(self, dmitri: User, alice: User, closed_person: Person) -> None:
        for person in (dmitri, alice):
            client = factories.signed_in_client(person)
            assert client.get(f"/privacy/people/{closed_person.pk}/").status_code == 404
            response = client.post(
                f"/privacy/people/{closed_person.pk}/export/",
                {"request_reference": "X", "format": "json"},
            )
            assert response.status_code == 404
        assert not AuditEvent.objects.filter(action="person.exported").exists()


@pytest.mark.page("privacy:retention")
def test_the_retention_page_shows_the_rules_and_what_is_due(dpo: User, closed_case: Case) -> None:
    with time_machine.travel(datetime(2032, 3, 3, 12, 0, tzinfo=timezone.get_fixed_timezone(0))):
        page = factories.signed_in_client(dpo).get("/privacy/retention/").content.decode()
    assert "6 years after the last of their cases is closed" in page
    assert "1 person is past the retention period" in page


def test_the_export_says_where_the_person_stayed_and_what_they_asked_for(
    dpo: User,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    from opennrm.accommodation import services as support
    from tests import support_factories as s

    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    (bed,) = s.beds(maya, s.site(maya, provider), 1, takes_dependants=1)
    request = s.request(case, dependants=1)
    placement = support.placement_make(by=cora, request=request, bed=bed)
    support.placement_respond(by=maya, placement=placement, accept=True)
    data = services.subject_access_export(by=dpo, person=case.person, request_reference="DPR-9")
    (asked,) = data["cases"][0]["placement_requests"]
    assert asked["children_with_them"] == 1
    assert asked["places"] == [
        {
            "provider": "Test Refuge",
            "region": "North West",
            "status": "Accepted: waiting for the person to arrive",
            "offered_at": asked["places"][0]["offered_at"],
            "declined_because": None,
            "arrived_on": None,
            "left_on": None,
            "left_because": None,
        }
    ]
    assert s.ADDRESS not in json.dumps(data)


def test_the_export_does_not_name_the_decision_maker_the_case_was_assigned_to(
    alice: User,
    dmitri: User,
    sally: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The export leaves out the names of the staff who worked on the cases (its "about", and
    ADR 14): the timeline says that the case was assigned, and unassigned, never to whom."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    decisions.case_assign(by=sally, case=case, assignee=dmitri, expected_version=case.version)
    case.refresh_from_db()
    decisions.case_assign(by=sally, case=case, assignee=None, expected_version=case.version)
    data = services.subject_access_export(by=dpo, person=case.person, request_reference="DPR-3")
    assert "staff who worked on the cases are left out" in data["about"]
    what = [event["what"] for event in data["cases"][0]["timeline"]]
    assert what[-2:] == ["Assigned to a decision maker", "Unassigned"]
    assert dmitri.full_name not in json.dumps(data, ensure_ascii=False)
