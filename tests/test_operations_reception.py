"""Reception of many people in one night (issue 14, item 4; ADR 0043): the service, the
uniqueness of each person's number, the reception page, the board and protection of a person
taken in before their case exists."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.models import Placement, PlacementStatus
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup as CaseAgeGroup
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.operations import selectors, services
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord
from opennrm.protection.services import planned_removal_record, protection_check
from opennrm.referrals import selectors as referral_selectors
from opennrm.referrals import steps
from opennrm.referrals.models import DraftStatus

from . import factories, support_factories
from . import operation_helpers as op

# --- The people -----------------------------------------------------------------------------


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        return op.operation(alice, northmoor_police)


@pytest.fixture
def invited(
    larkspur: Operation,
    alice: User,
    council: Organisation,
    lena: User,
    gail: User,
    provider: Organisation,
) -> Operation:
    """The council (local authority, Lena its safeguarding lead), the guardian service (Gail)
    and the refuge (a support provider) invited."""
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
        services.operation_partner_invite(
            by=alice,
            operation=larkspur,
            organisation=gail.memberships.get().organisation,
            role=PartnerRole.CHILD_GUARDIAN_SERVICE,
        )
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role=PartnerRole.SUPPORT_PROVIDER
        )
    return larkspur


@pytest.fixture
def grace(provider: Organisation) -> User:
    """A support coordinator at the invited refuge: reads the board, takes nobody in."""
    return factories.user("grace@example.org", organisation=provider, role=Role.SUPPORT_COORDINATOR)


@pytest.fixture
def immigration_officer(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def take_in(by: User, operation: Operation, **changes: Any) -> ReceptionRecord:
    values: dict[str, Any] = {
        "name_or_description": "Ana Testova",
        "sex": "female",
        "age_group": "adult",
        "language": "ro",
        "urgent_needs": [],
        "interpreter_needed": True,
    }
    values.update(changes)
    with time_machine.travel(op.DURING, tick=False):
        return services.reception_take_in(by=by, operation=operation, **values)


def reception_input(**changes: str | list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name_or_description": "Ana Testova",
        "sex": "female",
        "age_group": "adult",
        "language": "ro",
        "interpreter_needed": "yes",
        "urgent_needs": ["medical"],
    }
    data.update(changes)
    return data


# --- The service ----------------------------------------------------------------------------


def test_taking_a_person_in_writes_the_record_and_a_prefilled_draft(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    record = take_in(alice, larkspur, urgent_needs=["bed_tonight", "medical"])

    assert record.sequence == 1
    assert record.reference.startswith("OPR-")
    assert record.taken_in_by == alice
    draft = record.draft
    assert draft is not None
    assert draft.created_by == alice
    assert draft.organisation == northmoor_police
    assert draft.status == DraftStatus.DRAFT
    assert draft.answers["age"] == {"under_18": "no"}
    assert draft.answers["person"] == {
        "given_names": "Ana Testova",
        "sex": "female",
        "language_1": "ro",
        "interpreter_needed": "yes",
    }
    assert draft.answers["needs"] == {"needs": ["bed_tonight", "medical"]}
    # The draft is completed through the normal journey: the age page is already answered.
    assert steps.age_group(draft.answers) == CaseAgeGroup.ADULT
    events = AuditEvent.objects.filter(action="operations.person_taken_in")
    assert events.count() == 1
    assert events.get().detail["sequence"] == 1
    # The name is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name_or_description FROM operations_receptionrecord WHERE id = %s", [record.pk]
        )
        stored = cursor.fetchone()[0]
    assert "Ana" not in stored
    assert take_in(alice, larkspur, name_or_description="man in blue").sequence == 2


@pytest.mark.parametrize(
    ("age_group", "age_answers", "case_age_group"),
    [
        ("child", {"under_18": "yes"}, CaseAgeGroup.CHILD),
        (
            "age_disputed",
            {"under_18": "not_sure", "reason_to_believe_child": "yes"},
            CaseAgeGroup.PRESUMED_CHILD,
        ),
    ],
)
def test_a_child_is_routed_as_a_child_and_the_local_authority_told(
    invited: Operation,
    alice: User,
    lena: User,
    gail: User,
    grace: User,
    age_group: str,
    age_answers: dict[str, str],
    case_age_group: CaseAgeGroup,
) -> None:
    record = take_in(alice, invited, age_group=age_group, urgent_needs=["bed_tonight"])

    assert record.draft is not None
    assert record.draft.answers["age"] == age_answers
    assert steps.age_group(record.draft.answers) == case_age_group
    told = Notification.objects.filter(kind="operations.child_taken_in")
    assert {n.recipient for n in told} == {lena, gail}
    # The message names nobody.
    assert all("Ana" not in n.subject + n.body for n in told)
    assert (
        AuditEvent.objects.get(action="operations.person_taken_in").detail["children_services_told"]
        == 2
    )
    # A child never waits for an adult bed: the children's services arrange it.
    assert selectors.standing_of(record) == selectors.Standing.DRAFT


def test_an_adult_is_not_reported_to_children_services(invited: Operation, alice: User) -> None:
    take_in(alice, invited)
    assert not Notification.objects.filter(kind="operations.child_taken_in").exists()


@pytest.mark.parametrize("when", [op.BEFORE, op.AFTER])
def test_nobody_is_taken_in_before_or_after_the_operation(
    larkspur: Operation, alice: User, when: str
) -> None:
    with time_machine.travel(when, tick=False), pytest.raises(ValidationError):
        services.reception_take_in(
            by=alice,
            operation=larkspur,
            name_or_description="Ana",
            sex="female",
            age_group="adult",
        )
    assert not ReceptionRecord.objects.exists()


def test_on_the_first_day_people_are_taken_in(larkspur: Operation, alice: User) -> None:
    with time_machine.travel("2027-03-10 03:00:00+00:00", tick=False):
        record = services.reception_take_in(
            by=alice, operation=larkspur, name_or_description="Ana", sex="female", age_group="adult"
        )
    assert record.sequence == 1


def test_only_first_responders_of_the_lead_or_an_invited_police_or_council_take_in(
    invited: Operation,
    alice: User,
    charlie: User,
    grace: User,
    lena: User,
    southvale_police: Organisation,
) -> None:
    for outsider in (charlie, grace):
        with pytest.raises(PermissionDenied):
            take_in(outsider, invited)
    # The council's safeguarding lead may: the council is invited as the local authority.
    assert take_in(lena, invited).draft.organisation.kind == OrganisationKind.LOCAL_AUTHORITY
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=invited, organisation=southvale_police, role=PartnerRole.POLICE
        )
    assert take_in(charlie, invited).sequence == 2


def test_bad_input_is_refused_with_a_message_for_each_field(
    larkspur: Operation, alice: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        take_in(alice, larkspur, name_or_description=" ", sex="x", age_group="old", language="zz")
    assert set(refused.value.message_dict) == {
        "name_or_description",
        "sex",
        "age_group",
        "language",
    }


# --- Numbers: never lost, never shared --------------------------------------------------------


def test_two_people_never_share_a_number_in_one_operation(larkspur: Operation, alice: User) -> None:
    first = take_in(alice, larkspur)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReceptionRecord.objects.create(
            operation=larkspur,
            sequence=first.sequence,
            reference="OPR-0000-0000",
            taken_in_by=alice,
            taken_in_at=first.taken_in_at,
            organisation=first.organisation,
            name_or_description="someone else",
            sex="male",
            age_group="adult",
        )


def test_a_number_taken_by_another_responder_at_the_same_instant_is_retried(
    larkspur: Operation, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob read the same highest number as Alice: the constraint refuses his first try, the
    retry gives him the next number, and both people are on record with their drafts."""
    alices = take_in(alice, larkspur)
    real = services._next_sequence
    stale = iter([alices.sequence])
    monkeypatch.setattr(services, "_next_sequence", lambda o: next(stale, None) or real(o))

    bobs = take_in(bob, larkspur, name_or_description="Bogdan")

    assert (alices.sequence, bobs.sequence) == (1, 2)
    assert ReceptionRecord.objects.count() == 2
    # The failed try left nothing behind: one draft per person, one event per person.
    assert {r.draft_id for r in ReceptionRecord.objects.all()} == {
        alices.draft_id,
        bobs.draft_id,
    }
    assert bobs.draft is not None
    assert bobs.draft.__class__.objects.count() == 2
    assert AuditEvent.objects.filter(action="operations.person_taken_in").count() == 2


def test_a_reference_another_person_holds_is_refused_and_a_new_one_drawn(
    larkspur: Operation, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """References are drawn without a look-up first: the one time in 10**12 a drawn reference is
    taken already, the constraint refuses it and the take-in draws again, leaving nothing of
    the failed try behind."""
    first = take_in(alice, larkspur)
    real = services.new_reference
    drawn = iter([first.reference])
    monkeypatch.setattr(services, "new_reference", lambda prefix: next(drawn, None) or real(prefix))

    second = take_in(alice, larkspur, name_or_description="Bogdan")

    assert second.reference != first.reference
    assert second.reference.startswith("OPR-")
    assert second.sequence == 2
    assert ReceptionRecord.objects.count() == 2
    assert AuditEvent.objects.filter(action="operations.person_taken_in").count() == 2


def test_numbers_are_per_operation(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        other = op.operation(alice, northmoor_police, name="Operation Yarrow")
    assert take_in(alice, larkspur).sequence == 1
    assert take_in(alice, other).sequence == 1
    assert take_in(alice, larkspur).sequence == 2


# --- The reception page -----------------------------------------------------------------------


def _reception_url(operation: Operation) -> str:
    return reverse("operations:reception", args=[operation.id])


@pytest.mark.page("operations:reception")
def test_the_reception_page_takes_a_person_in_and_offers_an_empty_form_for_the_next(
    larkspur: Operation, alice: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        form = client.get(_reception_url(larkspur)).content.decode()
        assert 'name="name_or_description"' in form
        response = client.post(_reception_url(larkspur), reception_input(), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == _reception_url(larkspur)
    assert "Person 1 taken in" in page
    assert "Ana Testova" not in page  # an empty form for the next person
    record = ReceptionRecord.objects.get()
    assert record.name_or_description == "Ana Testova"
    assert record.urgent_needs == ["medical"]
    assert record.interpreter_needed is True
    assert record.draft is not None


def test_the_reception_page_says_a_child_is_treated_as_a_child(
    larkspur: Operation, alice: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        response = client.post(
            _reception_url(larkspur), reception_input(age_group="age_disputed"), follow=True
        )
    page = response.content.decode()
    assert "Person 1 taken in and treated as a child" in page
    # Larkspur invites no local authority: the page says none was told, never that one was.
    assert "children&#39;s services told" not in page
    assert "No local authority or child guardian service is invited" in page


def test_the_reception_page_says_children_services_were_told_when_they_were(
    invited: Operation, alice: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        response = client.post(
            _reception_url(invited), reception_input(age_group="child"), follow=True
        )
    assert "treated as a child: children&#39;s services told" in response.content.decode()


def test_the_reception_page_shows_each_error_and_keeps_what_was_typed(
    larkspur: Operation, alice: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        response = client.post(
            _reception_url(larkspur), reception_input(age_group="", interpreter_needed="")
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Select whether they are an adult or a child" in page
    assert "Select whether they need an interpreter" in page
    assert 'value="Ana Testova"' in page
    assert not ReceptionRecord.objects.exists()


def test_the_reception_page_refuses_once_the_operation_has_ended(
    larkspur: Operation, alice: User
) -> None:
    with time_machine.travel(op.AFTER, tick=False):
        client = factories.signed_in_client(alice)
        page = client.get(_reception_url(larkspur)).content.decode()
        response = client.post(_reception_url(larkspur), reception_input())
    assert "only while the operation is under way" in page
    assert 'name="name_or_description"' not in page
    assert "only while the operation is under way" in response.content.decode()
    assert not ReceptionRecord.objects.exists()


def test_the_reception_page_takes_only_get_and_post(larkspur: Operation, alice: User) -> None:
    client = factories.signed_in_client(alice)
    assert client.put(_reception_url(larkspur)).status_code == 405
    assert client.delete(_reception_url(larkspur)).status_code == 405


def test_the_reception_page_is_404_to_outsiders_and_to_readers_who_take_nobody_in(
    invited: Operation, charlie: User, grace: User
) -> None:
    for outsider in (charlie, grace):
        with time_machine.travel(op.DURING, tick=False):
            client = factories.signed_in_client(outsider)
            assert client.get(_reception_url(invited)).status_code == 404
            assert client.post(_reception_url(invited), reception_input()).status_code == 404
    assert not ReceptionRecord.objects.exists()


# --- The board --------------------------------------------------------------------------------


def _board_url(operation: Operation) -> str:
    return reverse("operations:board", args=[operation.id])


def _submitted(record: ReceptionRecord, case: Case) -> None:
    """The draft became this case (as referrals.services.referral_submit leaves it)."""
    draft = record.draft
    assert draft is not None
    draft.status = DraftStatus.SUBMITTED
    draft.case = case
    draft.answers = {}
    draft.save()


def test_the_board_derives_where_each_person_stands(
    larkspur: Operation,
    alice: User,
    case: Case,
    authority: Organisation,
    maya: User,
    provider: Organisation,
) -> None:
    from . import case_factories

    draft_only = take_in(alice, larkspur)
    waiting = take_in(alice, larkspur, urgent_needs=["bed_tonight"])
    reported = take_in(alice, larkspur)
    declined = take_in(alice, larkspur)
    referred = take_in(alice, larkspur)
    placed = take_in(alice, larkspur)
    missing = take_in(alice, larkspur)
    waiting_with_case = take_in(alice, larkspur)

    assert reported.draft is not None
    reported.draft.status = DraftStatus.REPORTED
    reported.draft.save()
    assert declined.draft is not None
    declined.draft.delete()
    declined.refresh_from_db()

    def new_case(**values: Any) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=alice.memberships.get().organisation,
            authority=authority,
            **values,
        )

    _submitted(referred, case)
    placed_case = new_case(given_names="Petra Testova")
    (bed,) = support_factories.beds(maya, support_factories.site(maya, provider))
    Placement.objects.create(
        request=support_factories.request(placed_case, status="placed"),
        bed=bed,
        status=PlacementStatus.OCCUPIED,
        proposed_at=timezone.now(),
        arrived_on=timezone.localdate(),
    )
    _submitted(placed, placed_case)
    missing_case = new_case(given_names="Mira Testova")
    Case.objects.filter(pk=missing_case.pk).update(status=CaseStatus.RG_SUSPENDED)
    _submitted(missing, missing_case)
    waiting_case = new_case(given_names="Vera Testova")
    support_factories.request(waiting_case)
    _submitted(waiting_with_case, waiting_case)

    standing = {r.sequence: selectors.standing_of(r) for r in selectors.reception_of(larkspur)}
    S = selectors.Standing
    assert standing == {
        draft_only.sequence: S.DRAFT,
        waiting.sequence: S.WAITING_FOR_BED,
        reported.sequence: S.DUTY_TO_NOTIFY,
        declined.sequence: S.DECLINED,
        referred.sequence: S.REFERRED,
        placed.sequence: S.PLACED,
        missing.sequence: S.MISSING,
        waiting_with_case.sequence: S.WAITING_FOR_BED,
    }
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        page = client.get(_board_url(larkspur)).content.decode()
    assert "8 people, by number" in page
    for label in (
        "Draft referral",
        "Waiting for a bed",
        "Duty to notify only",
        "Placed",
        "Missing",
    ):
        assert label in page
    assert "Last updated at 10:00" in page


@pytest.mark.page("operations:board")
def test_the_board_shows_names_only_to_the_taker_and_the_leads_responders(
    invited: Operation, alice: User, bob: User, lena: User, grace: User
) -> None:
    take_in(lena, invited, name_or_description="Lidia Testova")
    take_in(alice, invited, name_or_description="Anca Testova")

    def board_for(user: User) -> str:
        with time_machine.travel(op.DURING, tick=False):
            response = factories.signed_in_client(user).get(_board_url(invited))
        assert response.status_code == 200
        return response.content.decode()

    # The lead's first responder (not the taker) sees both.
    page = board_for(bob)
    assert "Lidia Testova" in page
    assert "Anca Testova" in page
    # The council's lead who took one in sees that one only.
    page = board_for(lena)
    assert "Lidia Testova" in page
    assert "Anca Testova" not in page
    # The refuge's coordinator sees numbers and standings, no name.
    page = board_for(grace)
    assert "Testova" not in page
    assert "Not shown to you" in page
    assert 'id="person-2"' in page
    reads = AuditEvent.objects.filter(action="person.viewed", object_type="operations.operation")
    assert {(e.actor_id, tuple(e.detail["reception_sequences"])) for e in reads} == {
        (bob.pk, (1, 2)),
        (lena.pk, (1,)),
    }


def test_the_board_takes_only_get(larkspur: Operation, alice: User) -> None:
    client = factories.signed_in_client(alice)
    assert client.post(_board_url(larkspur)).status_code == 405


def test_the_board_is_404_to_outsiders(larkspur: Operation, alice: User, charlie: User) -> None:
    take_in(alice, larkspur)
    with time_machine.travel(op.DURING, tick=False):
        response = factories.signed_in_client(charlie).get(_board_url(larkspur))
    assert response.status_code == 404


# --- Protection -------------------------------------------------------------------------------


def test_a_person_taken_in_is_protected_by_their_reception_reference(
    larkspur: Operation, alice: User, case: Case, immigration_officer: User
) -> None:
    record = take_in(alice, larkspur)
    with time_machine.travel(op.DURING, tick=False):
        answer = protection_check(by=immigration_officer, reference=record.reference)
    assert answer.protected
    assert answer.answer == (
        "Removal must not proceed: taken in during an operation; a referral is being made."
    )
    # The check is recorded against the reception record.
    check = AuditEvent.objects.filter(action="person.viewed").get()
    assert (check.object_type, check.object_id) == ("operations.receptionrecord", str(record.pk))

    # Once the draft is a case, the case answers (here: awaiting a reasonable grounds decision).
    _submitted(record, case)
    with time_machine.travel(op.DURING, tick=False):
        answer = protection_check(by=immigration_officer, reference=record.reference)
    assert answer.protected
    assert answer.source == "nrm"
    assert "reasonable grounds decision is awaited" in answer.answer


def test_a_person_who_declined_or_was_only_reported_has_no_protection_from_the_operation(
    larkspur: Operation, alice: User, immigration_officer: User
) -> None:
    """No referral is being made for them, so the operation's answer no longer holds."""
    from opennrm.referrals.models import ReferralDraft

    declined, reported = take_in(alice, larkspur), take_in(alice, larkspur)
    assert declined.draft is not None
    assert reported.draft is not None
    ReferralDraft.objects.filter(pk=reported.draft.pk).update(status=DraftStatus.REPORTED)
    declined.draft.delete()
    with time_machine.travel(op.DURING, tick=False):
        for record in (declined, reported):
            answer = protection_check(by=immigration_officer, reference=record.reference)
            assert not answer.protected
            assert answer.answer == "No NRM protection recorded for this reference."


def test_a_removal_planned_for_a_person_taken_in_alerts_the_taker_and_the_leads_responders(
    invited: Operation,
    alice: User,
    bob: User,
    lena: User,
    immigration_officer: User,
    border_enforcement: Organisation,
) -> None:
    record = take_in(lena, invited)
    with time_machine.travel(op.DURING, tick=False):
        recorded = planned_removal_record(
            by=immigration_officer,
            organisation=border_enforcement,
            reference=record.reference,
            planned_on=op.ENDS,
        )
    assert recorded.protection.protected
    told = Notification.objects.filter(kind="protection.planned_removal")
    assert sorted(n.recipient.email for n in told) == sorted([lena.email, alice.email, bob.email])


def test_an_unknown_reception_reference_is_not_protected(
    larkspur: Operation, immigration_officer: User
) -> None:
    answer = protection_check(by=immigration_officer, reference="OPR-0000-0000")
    assert not answer.protected


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database refuses a second writer at once ('table is "
    "locked') instead of queueing it: run with DATABASE_URL set to PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_responders_taking_people_in_at_once_never_lose_or_merge_anyone(
    alice: User, bob: User, northmoor_police: Organisation
) -> None:
    """Four responders, each in their own thread and database connection, take in 10 people
    each at the same moment: 40 records numbered 1 to 40, each with its own draft."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    responders = [alice, bob, alice, bob]
    start = threading.Barrier(len(responders))
    failures: list[BaseException] = []

    def responder(user: User, name: str) -> None:
        try:
            start.wait()
            for n in range(10):
                take_in(user, operation, name_or_description=f"{name} {n}")
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=responder, args=(user, f"responder {i}"))
        for i, user in enumerate(responders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    records = list(ReceptionRecord.objects.filter(operation=operation))
    assert sorted(r.sequence for r in records) == list(range(1, 41))
    assert len({r.draft_id for r in records}) == 40
    assert len({r.name_or_description for r in records}) == 40


def test_the_draft_carries_its_operation_to_the_placement_request_its_referral_raises(
    larkspur: Operation, alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    """So that the operation's surge places and held beds can take the person (ADR 44)."""
    from opennrm.accommodation.models import PlacementRequest
    from opennrm.referrals import services as referrals

    from . import referral_helpers

    record = take_in(alice, larkspur, urgent_needs=["bed_tonight"])
    assert record.draft is not None
    assert record.draft.operation_id == larkspur.pk
    # The same draft completed through the journey (here, answered in full) and submitted.
    draft = referral_helpers.draft_through_services(
        alice, northmoor_police, referral_helpers.ADULT_REFERRAL
    )
    draft.operation_id = larkspur.pk
    draft.save(update_fields=["operation_id"])
    case = referrals.referral_submit(by=alice, draft=draft).case
    assert case is not None
    assert PlacementRequest.objects.get(case=case).operation_id == larkspur.pk


# --- Gone missing before a case exists --------------------------------------------------------


def _missing_url(record: ReceptionRecord) -> str:
    return reverse("operations:reception_missing", args=[record.operation_id, record.sequence])


def test_a_person_gone_before_their_referral_is_recorded_missing_and_found_again(
    invited: Operation, alice: User, bob: User, lena: User, grace: User, case: Case
) -> None:
    """Found in review: someone who slipped away before their draft was submitted stayed a
    "Draft referral" on the board and in the report, there being no case to suspend."""
    from opennrm.operations.report import operation_report

    gone = take_in(lena, invited, urgent_needs=["bed_tonight"])
    other = take_in(alice, invited)
    # Only who may see who they are records it: the taker, or a lead responder.
    with pytest.raises(PermissionDenied):
        services.reception_missing(by=grace, record=gone, missing=True)
    with time_machine.travel(op.DURING, tick=False):
        services.reception_missing(by=bob, record=gone, missing=True)
    gone.refresh_from_db()
    assert gone.missing_recorded_by == bob
    assert selectors.standing_of(gone) == selectors.Standing.MISSING
    assert selectors.standing_of(other) == selectors.Standing.DRAFT
    with time_machine.travel(op.AFTER, tick=False):
        counted = operation_report(invited, op.ENDS)
    assert counted.standings[selectors.Standing.MISSING] == 1
    with pytest.raises(ValidationError, match="already recorded as missing"):
        services.reception_missing(by=lena, record=gone, missing=True)
    (event,) = AuditEvent.objects.filter(action="operations.person_missing")
    assert event.detail == {"operation": invited.pk, "sequence": gone.sequence}

    services.reception_missing(by=lena, record=gone, missing=False)
    gone.refresh_from_db()
    assert gone.missing_since is None
    assert selectors.standing_of(gone) == selectors.Standing.WAITING_FOR_BED
    assert AuditEvent.objects.filter(action="operations.person_found").count() == 1

    # Once a case exists, it is the case's to record (the RG is suspended there).
    _submitted(other, case)
    with pytest.raises(ValidationError, match="referral has been submitted"):
        services.reception_missing(by=alice, record=other, missing=True)


@pytest.mark.page("operations:reception_missing")
def test_the_board_records_a_person_missing(
    invited: Operation, lena: User, grace: User, charlie: User
) -> None:
    record = take_in(lena, invited, name_or_description="Lidia Testova")
    with time_machine.travel(op.DURING, tick=False):
        taker = factories.signed_in_client(lena)
        page = taker.get(_board_url(invited)).content.decode()
        assert "Record person 1 as missing" in page
        # A reader who may not see who they are is not offered it, and is refused with 404.
        assert (
            "as missing"
            not in factories.signed_in_client(grace).get(_board_url(invited)).content.decode()
        )
        outsider = factories.signed_in_client(grace)
        assert outsider.post(_missing_url(record), {"missing": "yes"}).status_code == 404
        assert taker.get(_missing_url(record)).status_code == 405
        response = taker.post(_missing_url(record), {"missing": "yes"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Person 1 recorded as missing" in page
    assert "Record person 1 as found again" in page
    record.refresh_from_db()
    assert record.missing_since is not None
    with time_machine.travel(op.DURING, tick=False):
        again = taker.post(_missing_url(record), {"missing": "yes"}, follow=True).content.decode()
    assert "Person 1: They are already recorded as missing" in again
    # Someone with no sight of the operation at all: 404 too.
    with time_machine.travel(op.DURING, tick=False):
        refused = factories.signed_in_client(charlie).post(_missing_url(record), {"missing": "no"})
    assert refused.status_code == 404
    record.refresh_from_db()
    assert record.missing_since is not None


# --- Handing a reception draft over (ADR 0043) ------------------------------------------------


@pytest.fixture
def cora(council: Organisation) -> User:
    """A first responder at the council: may be handed the drafts its safeguarding lead starts."""
    return factories.user(
        "cora@example.org", organisation=council, role=Role.FIRST_RESPONDER, full_name="Cora Lane"
    )


def _hand_over_url(record: ReceptionRecord) -> str:
    return reverse("operations:reception_hand_over", args=[record.operation_id, record.sequence])


def test_a_safeguarding_lead_hands_the_draft_they_started_to_a_first_responder(
    invited: Operation, lena: User, cora: User
) -> None:
    """Found in review: a safeguarding lead may take people in, but only first responders make
    referrals, so the draft a lead started could be completed by nobody."""
    record = take_in(lena, invited, name_or_description="Lidia Testova")
    assert record.draft is not None
    assert not referral_selectors.drafts_of(Actor.of_session(lena)).exists()
    assert not referral_selectors.drafts_of(Actor.of_session(cora)).exists()

    services.reception_draft_hand_over(by=lena, record=record, to=cora)

    record.draft.refresh_from_db()
    assert record.draft.created_by == cora
    assert list(referral_selectors.drafts_of(Actor.of_session(cora))) == [record.draft]
    # Its answers are kept: the name typed on the night is still the draft's.
    assert record.draft.answers["person"]["given_names"] == "Lidia Testova"
    (told,) = Notification.objects.filter(kind="operations.draft_handed_over")
    assert told.recipient == cora
    assert "Lidia" not in told.subject + told.body  # the message names nobody
    (event,) = AuditEvent.objects.filter(action="operations.draft_handed_over")
    assert event.detail == {
        "operation": invited.pk,
        "sequence": record.sequence,
        "draft": str(record.draft.public_id),
        "from": lena.pk,
        "to": cora.pk,
    }


def test_only_the_holder_or_a_safeguarding_lead_hands_over_and_only_to_a_first_responder(
    invited: Operation, alice: User, bob: User, lena: User, cora: User, case: Case
) -> None:
    record = take_in(alice, invited)
    # Bob is a first responder of the same force, but the draft is Alice's.
    with pytest.raises(PermissionDenied):
        services.reception_draft_hand_over(by=bob, record=record, to=bob)
    # Lena leads safeguarding at the council, not at the force that took the person in.
    with pytest.raises(PermissionDenied):
        services.reception_draft_hand_over(by=lena, record=record, to=bob)
    # A first responder of another organisation could not submit it.
    with pytest.raises(ValidationError, match="first responder of the organisation"):
        services.reception_draft_hand_over(by=alice, record=record, to=cora)
    with pytest.raises(ValidationError, match="someone other than"):
        services.reception_draft_hand_over(by=alice, record=record, to=alice)
    assert not AuditEvent.objects.filter(action="operations.draft_handed_over").exists()
    record.refresh_from_db()
    assert record.draft is not None
    assert record.draft.created_by == alice

    services.reception_draft_hand_over(by=alice, record=record, to=bob)
    record.draft.refresh_from_db()
    assert record.draft.created_by == bob
    # Submitted: nothing left to hand over.
    _submitted(record, case)
    with pytest.raises(ValidationError, match="no draft left"):
        services.reception_draft_hand_over(by=bob, record=record, to=alice)


@pytest.mark.page("operations:reception_hand_over")
def test_the_hand_over_page_gives_the_draft_to_the_first_responder_chosen(
    invited: Operation, lena: User, cora: User, grace: User, charlie: User, alice: User
) -> None:
    record = take_in(lena, invited)
    with time_machine.travel(op.DURING, tick=False):
        lead = factories.signed_in_client(lena)
        board = lead.get(_board_url(invited)).content.decode()
        assert _hand_over_url(record) in board
        page = lead.get(_hand_over_url(record))
        assert page.status_code == 200
        assert "Cora Lane" in page.content.decode()
        assert page["Cache-Control"] == "no-store"
        # Nothing chosen: said, and nothing changed.
        empty = lead.post(_hand_over_url(record), {}).content.decode()
        assert "Select who will complete the referral" in empty
        assert lead.put(_hand_over_url(record)).status_code == 405
        # A reader of the operation who may not hand it over, and an outsider: 404.
        for other in (grace, charlie, alice):
            client = factories.signed_in_client(other)
            assert client.get(_hand_over_url(record)).status_code == 404, other
            assert client.post(_hand_over_url(record), {"to": other.pk}).status_code == 404
        response = lead.post(_hand_over_url(record), {"to": cora.pk}, follow=True)
    assert response.status_code == 200
    assert "the referral draft is now Cora Lane" in response.content.decode()
    record.draft.refresh_from_db()
    assert record.draft.created_by == cora
