"""Gaps found in review of accommodation (stop 35): a person's stays cannot overlap, and the sites
page counts as free only the beds `free_beds` lists (ADR 0044, addendum)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import selectors, services
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.operations.models import Operation

from . import support_factories as s
from . import surge_helpers

pytestmark = pytest.mark.django_db


def test_arrival_at_a_new_place_cannot_be_dated_before_leaving_the_old_one(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A person moves from house A to house B. The manager records their exit from A on day 8
    (transferred), then their arrival at B dated day 6: refused, naming the day they left (it
    put them in both beds from day 6 to 8). Arriving the day they left is a move, accepted."""
    start = timezone.now() + timedelta(days=1)
    house_a = s.site(maya, provider)
    house_b = s.site(maya, provider)
    (bed_a,) = s.beds(maya, house_a)
    (bed_b,) = s.beds(maya, house_b)
    with time_machine.travel(start, tick=False):
        first = services.placement_make(by=cora, request=s.request(case), bed=bed_a)
        services.placement_respond(by=maya, placement=first, accept=True)
        services.placement_arrive(by=maya, placement=first, on=timezone.localdate())
    with time_machine.travel(start + timedelta(days=5), tick=False):
        second = services.placement_make(by=cora, request=s.request(case), bed=bed_b)
        services.placement_respond(by=maya, placement=second, accept=True)
    with time_machine.travel(start + timedelta(days=8), tick=False):
        today = timezone.localdate()
        services.placement_end(by=maya, placement=first, on=today, reason="transferred")
        with pytest.raises(ValidationError) as refused:
            services.placement_arrive(by=maya, placement=second, on=today - timedelta(days=2))
        assert f"{today:%-d %B %Y}" in refused.value.message_dict["on"][0]
        services.placement_arrive(by=maya, placement=second, on=today)


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    return surge_helpers.invited_operation(alice, northmoor_police, provider)


def test_surge_places_whose_surge_ended_are_not_counted_free_on_the_sites_page(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """After an operation's surge has ended (20 March 2027) its places are in no one's free list
    (`free_beds`, matching, the capacity figures); the sites page counted them free. Only the
    house's one real bed is free, and the ended places leave the counts."""
    house = s.site(maya, provider)
    s.beds(maya, house, 1)
    surge_helpers.add_surge(maya, planned, house, places=2)  # 10 to 20 March 2027
    after = timezone.make_aware(datetime.combine(date(2027, 3, 25), time(12)))
    with time_machine.travel(after, tick=False):
        assert selectors.free_beds().filter(room__site=house).count() == 1
        actor = Actor.of_session(maya)
        (summary,) = [row for row in selectors.site_summaries(actor) if row.site == house]
        assert (summary.beds, summary.free) == (1, 1)


def test_a_closed_sites_beds_are_not_counted_free_on_the_sites_page(
    cora: User, maya: User, provider: Organisation
) -> None:
    """A closed site's beds (is_active false) are in no free list and no capacity figure; every
    coordinator's sites page (and `GET /api/v1/support/sites`) counted them free."""
    house = s.site(maya, provider)
    s.beds(maya, house, 2)
    services.site_update(by=maya, site=house, is_active=False)
    assert selectors.free_beds().filter(room__site=house).count() == 0
    rows = [row for row in selectors.site_summaries(Actor.of_session(cora)) if row.site == house]
    (row,) = rows
    assert row.free == 0


def test_the_site_page_shows_surge_places_reserved_before_they_begin_and_drops_them_after(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """The site's own page listed every surge place as "Available" before its first day
    (nobody can be placed in it yet) and after its last (it is no bed any more)."""
    house = s.site(maya, provider)
    s.beds(maya, house, 1)
    surge_helpers.add_surge(maya, planned, house, places=2)  # 10 to 20 March 2027
    actor = Actor.of_session(maya)

    def states(day: date) -> list[str]:
        moment = timezone.make_aware(datetime.combine(day, time(12)))
        with time_machine.travel(moment, tick=False):
            return sorted(bed.state for bed in selectors.beds_of_site(actor, house))

    assert states(date(2027, 3, 1)) == ["available", "reserved", "reserved"]
    assert states(date(2027, 3, 15)) == ["available", "available", "available"]
    assert states(date(2027, 3, 25)) == ["available"]
