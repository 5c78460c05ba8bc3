"""A child whose case is open when they turn 18 moves to the adult pathway on their birthday
(`safeguarding.coming_of_age`): by the date of birth recorded, never by an estimated age or
while the age is disputed; still "a child when the exploitation began"; the adult dates of the
decisions in effect start; everyone acting on the case is told, without a name."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus, ExploitationAgeGroup
from opennrm.cases.models import Case, Person
from opennrm.notifications.models import Notification
from opennrm.safeguarding import coming_of_age, services
from opennrm.safeguarding.coming_of_age import eighteenth_birthday, years_later
from opennrm.safeguarding.tasks import move_children_turned_18

from . import case_factories


def child(
    alice: User,
    police: Organisation,
    authority: Organisation,
    *,
    born: date | None,
    age_at_referral: int = 17,
    estimated: bool = False,
    age_group: AgeGroup = AgeGroup.CHILD,
    status: CaseStatus = CaseStatus.AWAITING_REASONABLE_GROUNDS,
) -> Case:
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=police,
        authority=authority,
        age_group=age_group,
        date_of_birth=born,
        status=status,
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(
        age_at_referral=age_at_referral, age_is_estimated=estimated
    )
    return case


def today() -> date:
    return timezone.localdate()


def born_18_years_before(day: date) -> date:
    return years_later(day, -18)


def test_the_eighteenth_birthday_of_someone_born_on_29_february_is_1_march() -> None:
    assert eighteenth_birthday(date(2008, 2, 29)) == date(2026, 3, 1)
    assert eighteenth_birthday(date(2008, 3, 1)) == date(2026, 3, 1)
    assert eighteenth_birthday(date(2007, 12, 5)) == date(2025, 12, 5)


def test_a_child_who_turned_18_moves_to_the_adult_pathway_and_those_acting_are_told(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    case = child(alice, northmoor_police, authority, born=born_18_years_before(today()))

    result = coming_of_age.run(today())

    case.refresh_from_db()
    assert (result.turned_18, case.age_group) == (1, AgeGroup.ADULT)
    assert not case.is_child
    # Referred as a child: still a child when the exploitation began (no means needed).
    assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD
    assert case.exploited_as_child
    event = case.events.get(kind="case.age_group_changed")
    assert "turned 18" in event.description
    assert event.actor is None
    told = set(
        Notification.objects.filter(case=case, kind=coming_of_age.KIND).values_list(
            "recipient__email", flat=True
        )
    )
    assert {alice.email, dmitri.email, lena.email, gail.email} <= told
    for note in Notification.objects.filter(case=case, kind=coming_of_age.KIND):
        assert "Test Person" not in note.subject + note.body
    audit = AuditEvent.objects.get(action=coming_of_age.KIND)
    assert audit.actor is None
    assert audit.detail["told"]["local_authority"] == 1


def test_a_child_whose_birthday_is_tomorrow_stays_a_child_until_then(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    birthday = today() + timedelta(days=1)
    case = child(alice, northmoor_police, authority, born=born_18_years_before(birthday))

    assert coming_of_age.run(today()).turned_18 == 0
    case.refresh_from_db()
    assert case.age_group == AgeGroup.CHILD

    assert coming_of_age.run(birthday).turned_18 == 1
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT


@pytest.mark.parametrize(
    "why",
    ["age disputed", "age estimated", "no date of birth", "case closed"],
)
def test_only_a_child_with_a_recorded_date_of_birth_and_an_open_case_is_moved(
    why: str, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    born = date(2000, 1, 1)  # long past 18, if the date were known and trusted
    case = child(
        alice,
        northmoor_police,
        authority,
        born=None if why == "no date of birth" else born,
        estimated=why == "age estimated",
        age_group=AgeGroup.PRESUMED_CHILD if why == "age disputed" else AgeGroup.CHILD,
        status=CaseStatus.CLOSED
        if why == "case closed"
        else CaseStatus.AWAITING_REASONABLE_GROUNDS,
    )
    was = case.age_group

    assert coming_of_age.run(today()).turned_18 == 0

    case.refresh_from_db()
    assert case.age_group == was
    assert not Notification.objects.filter(case=case).exists()


def test_a_young_child_s_date_of_birth_is_not_even_read(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The date of birth is encrypted: it is read only where the age when referred says the
    person may be 18 by now."""
    child(alice, northmoor_police, authority, born=date(2020, 1, 1), age_at_referral=6)
    old_enough = child(
        alice, northmoor_police, authority, born=date(2008, 6, 1), age_at_referral=17
    )

    result = coming_of_age.run(today())

    assert result.checked == 1
    old_enough.refresh_from_db()
    assert old_enough.age_group == AgeGroup.ADULT


def test_a_child_with_a_positive_conclusive_decision_gets_the_adult_move_on_period(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = child(
        alice,
        northmoor_police,
        authority,
        born=born_18_years_before(today()),
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
    )
    assert case.move_on_ends is None  # a child has no adult move-on period

    coming_of_age.run(today())

    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
    assert case.move_on_ends is not None


def test_running_again_moves_nobody_twice(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = child(alice, northmoor_police, authority, born=born_18_years_before(today()))
    assert coming_of_age.run(today()).turned_18 == 1
    version = Case.objects.get(pk=case.pk).version

    again = coming_of_age.run(today())

    assert again.turned_18 == 0
    assert Case.objects.get(pk=case.pk).version == version
    assert AuditEvent.objects.filter(action=coming_of_age.KIND).count() == 1


def test_the_task_and_the_schedule_command_run_it(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    child(alice, northmoor_police, authority, born=born_18_years_before(today()))
    second = child(alice, northmoor_police, authority, born=born_18_years_before(today()))

    assert move_children_turned_18.call(reschedule=False)["turned_18"] == 2
    second.refresh_from_db()
    assert second.age_group == AgeGroup.ADULT

    out = StringIO()
    call_command("schedule", "turned-18", "--now", stdout=out)
    assert "Moved 0 cases of children who turned 18" in out.getvalue()


def test_every_open_case_of_the_person_is_moved(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Referred twice (by two organisations, say): both cases follow the adult pathway."""
    first = child(alice, northmoor_police, authority, born=born_18_years_before(today()))
    second = child(alice, northmoor_police, authority, born=None)
    Case.objects.filter(pk=second.pk).update(person_id=first.person_id)

    assert coming_of_age.run(today()).turned_18 == 2

    for case in (first, second):
        case.refresh_from_db()
        assert case.age_group == AgeGroup.ADULT


def test_a_person_found_a_child_by_an_age_assessment_is_not_made_an_adult_by_the_disputed_dob(
    alice: User, northmoor_police: Organisation, authority: Organisation, lena: User
) -> None:
    """Referred as an adult with a date of birth from (say) a false passport saying 25, the
    person's age is disputed and the local authority's age assessment finds them a CHILD. The
    next morning the daily task reads the discredited date of birth and moves them back to the
    adult pathway (adult accommodation, adult clocks, "the person is now 18" to everyone),
    overturning the assessment. A child found a child by an assessment must stay a child: the
    recorded date of birth is exactly what the assessment rejected."""
    today = timezone.localdate()
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
        date_of_birth=today.replace(year=today.year - 25, day=1),
        submitted_at=timezone.now() - timedelta(days=30),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=25, age_is_estimated=False)
    case.refresh_from_db()
    services.age_assessment_record(
        by=lena,
        case=case,
        outcome="child",
        assessed_on=today,
        reasons="Merton-compliant assessment: about 15.",
        expected_version=case.version,
    )
    case.refresh_from_db()
    assert case.age_group == AgeGroup.CHILD

    coming_of_age.run(today)

    case.refresh_from_db()
    assert case.age_group == AgeGroup.CHILD
