"""Gaps found in review of an operation's surge places (ADR 0044, addendum of stop 35): places
outside the operation's days, beds kept at sites nobody of it could use, and the morning check
when one operation fails."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.accommodation import services as accommodation_services
from opennrm.accommodation import surge as beds
from opennrm.accommodation.models import SiteAges
from opennrm.accounts.models import Organisation, User
from opennrm.operations import gap_warning, surge
from opennrm.operations import services as operation_services
from opennrm.operations.forecast import WOMEN
from opennrm.operations.models import Operation
from opennrm.operations.report import operation_report
from opennrm.statistics import capacity

from . import operation_helpers, surge_helpers
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
