"""Reception of many people in one night (issue 14, item 4; ADR 0043): the service, the
uniqueness of each person's number, the reception page, the board and protection of a person
taken in before their case exists."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup as CaseAgeGroup
from opennrm.notifications.models import Notification
from opennrm.operations import selectors, services
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord
from opennrm.referrals import steps
from opennrm.referrals.models import DraftStatus

from . import factories
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
    assert draft.created_by == alice and draft.organisation == northmoor_police
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


def test_numbers_are_per_operation(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        other = op.operation(alice, northmoor_police, name="Operation Yarrow")
    assert take_in(alice, larkspur).sequence == 1
    assert take_in(alice, other).sequence == 1
    assert take_in(alice, larkspur).sequence == 2
