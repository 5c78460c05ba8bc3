"""Gaps found in review of an operation's surge places (ADR 0044, addendum of stop 35): places
outside the operation's days, beds kept at sites nobody of it could use, and the morning check
when one operation fails; and of stop 37 (ADR 0043, 0044, 0046 addenda): a child whose draft was
deleted published as "declined", a child found at referral counted as an adult, and an operation
cancelled after people were taken in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation_services
from opennrm.accommodation import surge as beds
from opennrm.accommodation.models import SiteAges
from opennrm.accounts.models import Organisation, User
from opennrm.operations import gap_warning, surge
from opennrm.operations import services as operation_services
from opennrm.operations.forecast import WOMEN
from opennrm.operations.models import Operation
from opennrm.operations.public_account import SOURCE
from opennrm.operations.report import operation_report
from opennrm.operations.selectors import Standing, standing_of
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.referrals.models import ReferralDraft
from opennrm.statistics import capacity
from opennrm.statistics import operation_account as account
from opennrm.statistics.operation_account import became_of
from opennrm.statistics.tables import StatTable

from . import factories, operation_helpers, surge_helpers
from . import operation_helpers as op
from . import support_factories as s


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    return surge_helpers.invited_operation(alice, northmoor_police, provider)


# --- Surge places outside the operation's days -----------------------------------------------


@pytest.mark.django_db
def test_surge_places_starting_after_the_operation_has_ended_are_refused(
    planned: Operation, maya: User
) -> None:
    """A first day mistyped as 10 December for an operation of 10 to 16 March: 20 places that
    exist only months after it would have closed its shortfall."""
    house = s.site(maya, planned.partners.get().organisation, setting="women_only")
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        with pytest.raises(ValidationError) as refused:
            surge.surge_add(
                by=maya,
                operation=planned,
                provider=planned.partners.get().organisation,
                site=house,
                places=20,
                starts_on=date(2027, 12, 10),
                ends_on=date(2027, 12, 20),
            )
        assert refused.value.message_dict == {
            "starts_on": [
                "The first day must be the operation's last day, 16 March 2027, or earlier"
            ]
        }
        assert surge.surge_by_kind(planned)[WOMEN] == 0
        # The last day itself is within the operation.
        surge.surge_add(
            by=maya,
            operation=planned,
            provider=planned.partners.get().organisation,
            site=house,
            places=2,
            starts_on=date(2027, 3, 16),
            ends_on=date(2027, 3, 20),
        )
        assert surge.surge_by_kind(planned)[WOMEN] == 2


@pytest.mark.django_db
def test_places_saved_outside_the_operations_days_are_not_counted_as_agreed(
    planned: Operation, maya: User
) -> None:
    """Places saved before `surge_add` refused them (written here as it wrote them) keep no bed
    for the operation's people, so the forecast does not count them."""
    house = s.site(maya, planned.partners.get().organisation, setting="women_only")
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        beds.add_surge_beds(
            house,
            room_name="Extra places LATE",
            places=20,
            operation_id=planned.pk,
            starts_on=date(2027, 12, 10),
            ends_on=date(2027, 12, 20),
            by=maya,
        )
        assert surge.surge_by_kind(planned)[WOMEN] == 0


@pytest.mark.django_db
def test_the_operations_end_cannot_move_before_its_surge_places_begin(
    planned: Operation, maya: User, alice: User
) -> None:
    house = s.site(maya, planned.partners.get().organisation)
    added = surge_helpers.add_surge(maya, planned, house, places=3)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        later = surge.surge_add(
            by=maya,
            operation=planned,
            provider=planned.partners.get().organisation,
            site=house,
            places=2,
            starts_on=date(2027, 3, 14),
            ends_on=date(2027, 3, 20),
        )

        def change(ends_on: date) -> Operation:
            return operation_services.operation_change(
                by=alice,
                operation=planned,
                name=planned.name,
                confidential=True,
                starts_on=planned.starts_on,
                ends_on=ends_on,
                region=planned.region,
                expected={("female", "adult", "sexual"): 30},
                languages=["ro"],
            )

        with pytest.raises(ValidationError) as refused:
            change(date(2027, 3, 13))
        assert refused.value.message_dict == {
            "ends_on": [
                "Surge places for this operation start on 14 March 2027: the last day must be "
                "that day or later. To end sooner, the support provider ends those places first"
            ]
        }
        planned.refresh_from_db()
        assert planned.ends_on == date(2027, 3, 16)
        # On the places' first day is allowed; places ended no longer hold the end back.
        assert change(date(2027, 3, 14)).ends_on == date(2027, 3, 14)
        surge.surge_end(by=maya, surge=later)
        assert change(date(2027, 3, 11)).ends_on == date(2027, 3, 11)
    assert added.ended_at is None  # the places from the first day stand


# --- The report's places kept free ---------------------------------------------------------


@pytest.mark.django_db
def test_surge_places_at_a_closed_house_are_not_counted_as_kept_free_in_the_report(
    planned: Operation, maya: User
) -> None:
    """5 surge places agreed at a house closed before the raid: nobody could be placed there,
    so the report keeps none of them free, as the capacity figures and the forecast do."""
    house = s.site(maya, planned.partners.get().organisation, setting="women_only")
    surge_helpers.add_surge(maya, planned, house, places=5)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        accommodation_services.site_update(by=maya, site=house, is_active=False)
    with time_machine.travel("2027-03-12 12:00:00+00:00", tick=False):
        assert capacity.beds_now().total.beds == 0  # the figures know the house is closed
        report = operation_report(planned, date(2027, 3, 12))
    assert [d.kept_free for d in report.days] == [0, 0, 0]


@pytest.mark.django_db
def test_beds_at_a_childrens_site_are_not_counted_as_kept_free_in_the_report(
    planned: Operation, maya: User
) -> None:
    """An adult of the operation is never placed at a children's site: its surge places and the
    beds held there for the operation are no room for them."""
    home = s.site(maya, planned.partners.get().organisation, ages=SiteAges.CHILDREN)
    s.beds(maya, home, 2)
    surge_helpers.add_surge(maya, planned, home, places=3)
    with time_machine.travel(operation_helpers.DURING, tick=False):
        surge_helpers.hold(
            maya, planned, home, expires_at=surge.end_of_day(date(2027, 3, 14)), count=2
        )
        report = operation_report(planned, date(2027, 3, 12))
    assert [d.kept_free for d in report.days] == [0, 0, 0]
    assert [d.other_free for d in report.days] == [0, 0, 0]


# --- The morning check -----------------------------------------------------------------------


@pytest.mark.django_db
def test_one_operation_failing_the_morning_check_leaves_the_others_checked(
    alice: User,
    northmoor_police: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error working out one operation's gap (the forecast, the mailer) is logged, by the
    operation's number only, and counted; the operations after it are still checked."""
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        first = operation_helpers.operation(alice, northmoor_police, name="Operation A")
        second = operation_helpers.operation(alice, northmoor_police, name="Operation B")
    seen: list[int] = []

    def warn(operation: Operation, **_: object) -> int:
        seen.append(operation.pk)
        if operation.pk == first.pk:
            raise RuntimeError("the forecast of this one fails")
        return 0

    monkeypatch.setattr(gap_warning, "gap_warn", warn)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        result = gap_warning.gap_check(date(2027, 3, 1))
    assert seen == [first.pk, second.pk]
    assert (result.operations_checked, result.operations_failed) == (2, 1)
    (logged,) = [r for r in caplog.records if r.name == gap_warning.__name__]
    assert logged.levelname == "ERROR"
    assert logged.exc_info is not None
    assert str(first.pk) in logged.getMessage()
    assert "Operation A" not in logged.getMessage()


# --- Stop 37 -------------------------------------------------------------------------------

# The public account of an operation said a child "declined".
#
# Story: on the night a reception officer takes in a girl who says she is 17 ("age disputed").
# Her referral draft is never finished and retention deletes it as an untouched draft. The board
# shows her "Not referred: the draft was deleted" (a child does not consent to a referral and so
# cannot decline one, ADR 0043) and she stays protected from removal. But the operation's public
# account (ADR 0046), read from `operations.public_account._outcome`, published her under
# "Declined (no referral and no report)": the official account told the public that a child
# refused help, and hid that a child was never referred.


@pytest.mark.django_db
@pytest.mark.parametrize("age_group", ["child", "age_disputed"])
def test_a_child_whose_draft_retention_deleted_is_not_published_as_declined(
    alice: User, northmoor_police: Organisation, age_group: str
) -> None:
    """Harmed: the child (and the public record): the account says she declined a referral,
    which a child cannot do; the board says 'not referred'."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operation_services.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="Girl who says she is 17",
            sex="female",
            age_group=age_group,
        )
    # As `referrals.services.drafts_unsubmitted_delete` (retention) deletes an untouched draft.
    ReferralDraft.objects.filter(reception_record=record).delete()
    record.refresh_from_db()
    assert standing_of(record) == Standing.NOT_REFERRED  # the board: never "declined"
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        made = SOURCE.account(operation.pk, date(2027, 3, 20))
    (person,) = made.people
    assert person.outcome != "declined"
    assert became_of(person) != "declined"
    assert became_of(person) == account.CHILD_NOT_REFERRED
    # Its own row, one of the people not referred (whom the decisions table counts too).
    assert account.CHILD_NOT_REFERRED in account.NOT_REFERRED_ROWS
    tables = [t for t in account.account_tables(made) if isinstance(t, StatTable)]
    (became,) = [t for t in tables if t.table.name == "people_by_what_became_of_them"]
    assert became.labels["became"][account.CHILD_NOT_REFERRED].startswith("Not referred")


@pytest.mark.django_db
def test_an_adult_whose_draft_was_deleted_still_declined(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operation_services.reception_take_in(
            by=alice, operation=operation, name_or_description="Man", sex="male", age_group="adult"
        )
    ReferralDraft.objects.filter(reception_record=record).delete()
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        (person,) = SOURCE.account(operation.pk, date(2027, 3, 20)).people
    assert person.outcome == "declined"


# A person who looked adult on the night and then says they are 16 is treated as a child
# everywhere (ADR 0043, 0046 addenda: board, deletion, protection, children's services told,
# `ReceptionRecord.treated_as_child`), except, before stop 37, in the counts of the operation by
# age: the report (`operations.report.operation_report`, `by_sex_and_age`) and the public account
# (`operations.public_account.OperationsSource.account`, `Person.age_group`) read only the
# reception's first impression, `ReceptionRecord.age_group`.
#
# Harmed: the child, and the local authority that plans for the operation's children from the
# report: the report said "0 children" while children's services were told of one
# (`operations.child_taken_in` / `children_so_far`), and the published account said every person
# found was an adult.


def _found_later(alice: User, northmoor_police: Organisation, under_18: dict[str, str]):
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operation_services.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="young man in red",
            sex="male",
            age_group="adult",
        )
        # Asked properly, he says he is 16: the first responder records it on the age page.
        referrals.draft_save_answers(
            by=alice, draft=record.draft, step=steps.STEP_BY_SLUG["age"], data=under_18
        )
    record.refresh_from_db()
    assert record.treated_as_child  # the app itself now treats him as a child
    return operation, record


@pytest.fixture
def found_child(alice: User, northmoor_police: Organisation) -> Operation:
    return _found_later(alice, northmoor_police, {"under_18": "yes"})[0]


@pytest.mark.django_db
def test_the_report_does_not_count_a_child_found_at_referral_as_an_adult(
    found_child: Operation,
) -> None:
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        report = operation_report(found_child, date(2027, 3, 20))
    assert report.by_sex_and_age[("male", "adult")] == 0
    assert (
        report.by_sex_and_age[("male", "child")] + report.by_sex_and_age[("male", "age_disputed")]
        == 1
    )
    assert report.by_sex_and_age[("male", "child")] == 1  # the age page says under 18


@pytest.mark.django_db
def test_the_public_account_does_not_publish_a_child_found_at_referral_as_an_adult(
    found_child: Operation,
) -> None:
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        (person,) = SOURCE.account(found_child.pk, date(2027, 3, 20)).people
    assert person.age_group != "adult"
    assert person.age_group == "child"


@pytest.mark.django_db
def test_a_person_found_age_disputed_whose_draft_is_gone_stays_age_disputed(
    alice: User, northmoor_police: Organisation
) -> None:
    operation, record = _found_later(
        alice, northmoor_police, {"under_18": "not_sure", "reason_to_believe_child": "yes"}
    )
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        (person,) = SOURCE.account(operation.pk, date(2027, 3, 20)).people
        assert person.age_group == "age_disputed"
    ReferralDraft.objects.filter(reception_record=record).delete()
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        (person,) = SOURCE.account(operation.pk, date(2027, 3, 20)).people
        report = operation_report(operation, date(2027, 3, 20))
    assert person.age_group == "age_disputed"
    assert person.outcome == account.CHILD_NOT_REFERRED
    assert report.by_sex_and_age[("male", "age_disputed")] == 1


# Cancelling an operation once people have been taken in gave away the beds kept for them.
#
# Story: the raid starts; the safe house holds its beds for the operation and adds surge places;
# the reception officer takes in two women who need a bed tonight (the board: "Waiting for a
# bed"). The force then calls the rest of the operation off and, the only way to close it early,
# presses "Cancel the operation". `operations.services.operation_cancel` ended every surge place
# today and released every hold "so no bed stays kept for an operation that will not happen" -
# but it did happen: the people already found still need exactly those beds, and from that
# moment the beds were free for anyone else. The cancel page gave no warning, and the service
# did not refuse. (The cancelled operation also can never have its account published, ADR 0046,
# though people were found in it.)

CANCEL_DAY = date(2027, 3, 11)  # the operation (10 to 16 March 2027) is under way


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.mark.django_db
def test_cancelling_once_people_wait_for_beds_does_not_give_their_beds_away(
    alice: User, northmoor_police: Organisation, provider: Organisation, maya: User
) -> None:
    """Harmed: the women found in the raid, waiting for a bed tonight, whose held beds and surge
    places are handed back to everyone by a cancel the lead thought closed the operation."""
    operation = surge_helpers.invited_operation(alice, northmoor_police, provider)
    house = s.site(maya, provider)
    s.beds(maya, house, 3)
    surge_helpers.add_surge(maya, operation, house, places=2)
    with time_machine.travel(_noon(CANCEL_DAY), tick=False):
        surge_helpers.hold(
            maya, operation, house, count=3, expires_at=_noon(op.ENDS + timedelta(1))
        )
        taken = [
            operation_services.reception_take_in(
                by=alice,
                operation=operation,
                name_or_description=f"Woman {n}, flat {n}",
                sex="female",
                age_group="adult",
                urgent_needs=["bed_tonight"],
            )
            for n in (1, 2)
        ]
        assert all(standing_of(r) == Standing.WAITING_FOR_BED for r in taken)
        kept_before = surge.surge_by_kind(operation, CANCEL_DAY)
        with pytest.raises(ValidationError) as refused:
            operation_services.operation_cancel(by=alice, operation=operation)
        assert "change the plan so that its last day is today" in refused.value.messages[0]
        # Refused: the beds kept for the people already found stay kept.
        operation.refresh_from_db()
        assert operation.cancelled_at is None
        assert surge.holds_of(operation).count() == 3
        assert surge.surge_by_kind(operation, CANCEL_DAY) == kept_before

        # The page says so, and offers ending it instead; the operation's page has no cancel.
        client = factories.signed_in_client(alice)
        url = reverse("operations:cancel", args=[operation.id])
        page = client.get(url).content.decode()
        assert "it cannot be cancelled" in page
        assert reverse("operations:edit", args=[operation.id]) in page
        assert "govuk-button--warning" not in page  # no cancel button
        assert "it cannot be cancelled" in client.post(url).content.decode()
        detail = client.get(reverse("operations:detail", args=[operation.id])).content.decode()
        assert url not in detail
        assert "can no longer be cancelled" in detail
    operation.refresh_from_db()
    assert operation.cancelled_at is None
