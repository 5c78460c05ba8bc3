"""The capacity history counts a bed held for an operation as reserved, as the figures now do
(ADR 0044). A hold writes no bed event, so the history, built from bed events, showed a held
bed as free while "beds now" showed it reserved: a bed held before a confidential operation
starts, free in one figure and reserved in the other, told every coordinator and analyst that
something was coming (ADR 39)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import BedHold, Site
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.operations import services as operation_services
from opennrm.operations import surge
from opennrm.operations.models import Operation
from opennrm.statistics import capacity

from . import case_factories, operation_helpers
from . import support_factories as s

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)  # operation_helpers.BEFORE: the operation starts on 10 March 2027


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    """A confidential operation, 10 to 16 March 2027, to which Test Refuge (Cora's and Maya's
    provider) is invited as a support provider."""
    with time_machine.travel(at(ago(20)), tick=False):
        made = operation_helpers.operation(alice, northmoor_police, region="north_west")
        operation_services.operation_partner_invite(
            by=alice, operation=made, organisation=provider, role="support_provider"
        )
    assert made.confidential
    return made


@pytest.fixture
def new_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    def make() -> Case:
        return case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )

    return make


def _hold(maya: User, operation: Operation, expires_at: datetime) -> BedHold:
    (hold,) = surge.beds_hold(
        by=maya,
        operation=operation,
        provider=operation.partners.get().organisation,
        site=Site.objects.get(),
        count=1,
        expires_at=expires_at,
    )
    return hold


def test_the_last_day_of_the_history_counts_live_holds_as_beds_now_does(
    planned: Operation, maya: User
) -> None:
    """Held before the confidential operation starts: one bed until after it, one only until
    this evening, which is still held now although not at the end of today."""
    with time_machine.travel(at(ago(10)), tick=False) as clock:
        s.beds(maya, s.site(maya, planned.partners.get().organisation), 3)
        clock.move_to(at(ago(1)))
        _hold(maya, planned, at(date(2027, 3, 17)))
        clock.move_to(at(TODAY))
        _hold(maya, planned, at(TODAY, 20))

        now = capacity.beds_now().total
        assert (now.beds, now.free, now.reserved) == (3, 1, 2)
        first, last = capacity.period(TODAY, 30)
        history = capacity.bed_history(first, last)
        assert history[-1].day == TODAY
        assert history[-1].counts == now
        assert history[-2].counts == capacity.BedCounts(beds=3, free=2, reserved=1)
        # The waiting list's "place offered" is the beds reserved, holds and all: counted
        # apart, the two tables of the page would differ by the beds held.
        assert capacity.waiting_history(first, last, history)[-1].offered == now.reserved


def test_a_past_holds_days_count_as_reserved(
    planned: Operation, maya: User, cora: User, new_case: Any
) -> None:
    """Beds A and B held; A's hold expires at noon on its fourth day, B's is released early.
    The operation's own person is placed in B and arrives while it is held: B counts once,
    reserved and then occupied, never also free or reserved twice."""
    with time_machine.travel(at(ago(9)), tick=False) as clock:
        s.beds(maya, s.site(maya, planned.partners.get().organisation), 3)
        clock.move_to(at(ago(7)))
        _hold(maya, planned, at(ago(4)))  # A
        clock.move_to(at(ago(6)))
        b = _hold(maya, planned, at(date(2027, 3, 17)))
        clock.move_to(at(ago(5)))
        ours = s.request(new_case(), operation_id=planned.pk)
        placement = accommodation.placement_make(by=cora, request=ours, bed=b.bed)
        clock.move_to(at(ago(4)))
        accommodation.placement_respond(by=maya, placement=placement, accept=True)
        accommodation.placement_arrive(by=maya, placement=placement, on=ago(4))
        clock.move_to(at(ago(3), 9))
        surge.hold_release(by=maya, hold=b, provider=planned.partners.get().organisation)
        clock.move_to(at(TODAY))

        history = capacity.bed_history(ago(9), TODAY)
        # (free, reserved, occupied) of the 3 beds at the end of each day
        assert [(d.counts.free, d.counts.reserved, d.counts.occupied) for d in history] == [
            (3, 0, 0),  # 9 days ago: the beds are added
            (3, 0, 0),
            (2, 1, 0),  # 7: A held
            (1, 2, 0),  # 6: B held too
            (1, 2, 0),  # 5: B offered to the operation's person, and still held
            (2, 0, 1),  # 4: A's hold expired at noon; the person arrived in B
            (2, 0, 1),  # 3: B's hold released
            (2, 0, 1),
            (2, 0, 1),
            (2, 0, 1),  # today
        ]
        assert all(d.counts.beds == 3 for d in history)
        assert history[-1].counts == capacity.beds_now().total
