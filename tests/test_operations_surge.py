"""Surge places and beds held for an operation (issue 14, item 3; ADR 0044): kept for the
operation's people alone, gone from matching and capacity when the surge ends without evicting
anyone, a hold that frees its bed at its expiry and is never a double booking, and the
forecast's shortfall shrinking as places are agreed."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import matching, selectors
from opennrm.accommodation import services as accommodation_services
from opennrm.accommodation import surge as accommodation_surge
from opennrm.accommodation.models import (
    BedEvent,
    BedHold,
    Placement,
    PlacementRequest,
    PlacementStatus,
)
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.operations import selectors as operation_selectors
from opennrm.operations import services as operation_services
from opennrm.operations import surge
from opennrm.operations.forecast import MEN, MIXED, WOMEN
from opennrm.operations.models import Operation, SurgePlaces
from opennrm.statistics import capacity

from . import factories, operation_helpers, surge_helpers
from . import support_factories as s
from .test_operations_forecast import histories, referred  # noqa: F401 -- fixtures

DAY = date(2027, 3, 11)  # the operation (10 to 16 March 2027) is under way


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


# --- The rule, in matching itself --------------------------------------------------------------


def _bed(bed_id: int, operation_id: int | None) -> matching.Bed:
    return matching.Bed(
        id=bed_id,
        site_id=1,
        provider_id=1,
        region="north_west",
        setting="women_only",
        operation_id=operation_id,
    )


def _request(request_id: int, operation_id: int | None) -> matching.Request:
    return matching.Request(
        id=request_id,
        accepted_settings=frozenset({"women_only"}),
        needed_from=DAY,
        waiting_since=DAY,
        operation_id=operation_id,
    )


def test_a_bed_kept_for_an_operation_takes_only_its_people() -> None:
    kept = _bed(1, 7)
    assert matching.check(_request(1, 7), kept) == []
    for other in (_request(2, 8), _request(3, None)):
        assert matching.check(other, kept) == [
            "the bed is kept for the people of an operation the person was not found in"
        ]
    assert matching.check(_request(4, 8), _bed(2, None)) == []  # an open bed is anyone's
    result = matching.match([_request(2, 8), _request(3, None), _request(1, 7)], [kept], DAY)
    assert [(p.request_id, p.bed_id) for p in result.proposals] == [(1, 1)]
    assert {u.request_id: u.code for u in result.unplaced} == {2: "operation", 3: "operation"}


# --- Through the database ----------------------------------------------------------------------


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    return surge_helpers.invited_operation(alice, northmoor_police, provider)


@pytest.fixture
def other_operation(alice: User, northmoor_police: Organisation) -> Operation:
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        return operation_helpers.operation(alice, northmoor_police, name="Operation Other")


@pytest.fixture
def person(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    return surge_helpers.person_maker(alice, northmoor_police, authority)


@pytest.mark.django_db
def test_matching_places_only_the_operations_people_in_its_surge_places(
    planned: Operation,
    other_operation: Operation,
    maya: User,
    cora: User,
    provider: Organisation,
    person: Any,
) -> None:
    house = s.site(maya, provider, setting="women_only")
    added = surge_helpers.add_surge(maya, planned, house, places=1)
    surge_bed = added.room.beds.get()
    with time_machine.travel(noon(DAY), tick=False):
        ours = s.request(person(), operation_id=planned.pk)
        theirs = s.request(person(), operation_id=other_operation.pk)
        nobodys = s.request(person())
        outcome = selectors_run(cora)
    assert [(p.request_id, p.bed_id) for p in outcome.result.proposals] == [(ours.pk, surge_bed.pk)]
    assert {u.request_id: u.code for u in outcome.result.unplaced} == {
        theirs.pk: "operation",
        nobodys.pk: "operation",
    }
    # placing by hand is refused for the same reason
    with time_machine.travel(noon(DAY), tick=False):
        reasons = dict((bed.pk, why) for bed, why in selectors.free_beds_for(nobodys, DAY))
    assert reasons[surge_bed.pk] == [
        "the bed is kept for the people of an operation the person was not found in"
    ]


def selectors_run(cora: User) -> Any:
    from opennrm.accommodation.services import matching_run

    return matching_run(by=cora)


@pytest.mark.django_db
def test_surge_places_are_free_only_from_their_first_day(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    house = s.site(maya, provider)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        beds = [selectors.matching_bed(b, date(2027, 3, 1)) for b in added.room.beds.all()]
    assert {b.available_from for b in beds} == {date(2027, 3, 10)}
    assert {b.operation_id for b in beds} == {planned.pk}


@pytest.mark.django_db
def test_the_surge_ends_and_its_places_leave_capacity_without_evicting_anyone(
    planned: Operation, maya: User, provider: Organisation, person: Any
) -> None:
    house = s.site(maya, provider)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    lived_in, empty = list(added.room.beds.order_by("pk"))
    with time_machine.travel(noon(DAY), tick=False):
        request = s.request(person(), operation_id=planned.pk, status="placed")
        placement = Placement.objects.create(
            request=request,
            bed=lived_in,
            status=PlacementStatus.OCCUPIED,
            proposed_at=timezone.now(),
            arrived_on=DAY,
        )
        assert capacity.beds_now().total.beds == 2
        assert set(selectors.free_beds().values_list("pk", flat=True)) == {empty.pk}
        surge.surge_end(by=maya, surge=added)
        # from today: the empty place is gone; the lived-in one stays, and so does its placement
        assert capacity.beds_now().total.beds == 1
        assert capacity.beds_now().total.occupied == 1
        assert not selectors.free_beds().exists()
        placement.refresh_from_db()
        assert placement.status == PlacementStatus.OCCUPIED
        with pytest.raises(ValidationError, match="already ended"):
            surge.surge_end(by=maya, surge=added)
        Placement.objects.filter(pk=placement.pk).update(status=PlacementStatus.ENDED, ended_on=DAY)
        # once the placement ends, the bed goes too: never back among the free
        assert capacity.beds_now().total.beds == 0
        assert not selectors.free_beds().exists()
    # a surge that runs to its last day ends by itself, with no one to end it
    other = surge_helpers.add_surge(maya, planned, house, places=3)
    with time_machine.travel(noon(date(2027, 3, 20)), tick=False):
        assert capacity.beds_now().total.beds == 3
    with time_machine.travel(noon(date(2027, 3, 21)), tick=False):
        assert capacity.beds_now().total.beds == 0
        assert not selectors.free_beds().filter(room=other.room).exists()


@pytest.mark.django_db
def test_matchings_loader_sees_each_bed_as_matching_bed_does(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """The loader reads beds as plain rows and each site once (for speed with 10,000 beds):
    it must see every free bed exactly as `matching_bed` does, kept beds included (a surge
    place, a held bed, an open one), at a site with and one without a location."""
    house = s.site(maya, provider)
    other = s.site(maya, provider, location=None)
    held_bed, open_bed = s.beds(maya, house, 2)
    s.beds(maya, other, 1)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    with time_machine.travel(noon(DAY), tick=False):
        surge_helpers.hold(maya, planned, house, count=1, expires_at=noon(DAY) + timedelta(hours=6))
        loaded = {b.id: b for b in selectors.matching_instance(DAY)[1]}
        one_by_one = {
            bed.pk: selectors.matching_bed(bed, DAY)
            for bed in selectors.free_beds().select_related("room__site")
        }
    assert loaded == one_by_one
    assert loaded[held_bed.pk].operation_id == planned.pk
    assert loaded[open_bed.pk].operation_id is None
    assert {loaded[b.pk].operation_id for b in added.room.beds.all()} == {planned.pk}
    assert any(b.location is None for b in loaded.values())
    assert any(b.location is not None for b in loaded.values())


@pytest.mark.django_db
def test_a_held_bed_is_offered_only_to_the_operation_and_freed_at_its_expiry(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    house = s.site(maya, provider)
    held_bed, open_bed = s.beds(maya, house, 2)
    with time_machine.travel(noon(DAY), tick=False):
        surge_helpers.hold(maya, planned, house, count=1, expires_at=noon(DAY) + timedelta(hours=6))
        assert [h.bed for h in surge.holds_of(planned)] == [held_bed]
        open_to_anyone = set(selectors.free_beds_open_to_anyone().values_list("pk", flat=True))
        assert open_to_anyone == {open_bed.pk}
        kept = {b.id: b.operation_id for b in selectors.matching_instance(DAY)[1]}
        assert kept == {held_bed.pk: planned.pk, open_bed.pk: None}
    with time_machine.travel(noon(DAY) + timedelta(hours=7), tick=False):
        # expired: no job ran, and the bed is anyone's again
        assert not surge.holds_of(planned).exists()
        kept = {b.id: b.operation_id for b in selectors.matching_instance(DAY)[1]}
        assert kept == {held_bed.pk: None, open_bed.pk: None}
        # and it can be held again: the expired hold is closed, not left to collide
        surge_helpers.hold(maya, planned, house, count=2, expires_at=noon(DAY) + timedelta(days=2))
        assert surge.holds_of(planned).count() == 2


@pytest.mark.django_db
def test_a_hold_is_never_a_double_booking(
    planned: Operation,
    other_operation: Operation,
    maya: User,
    provider: Organisation,
    person: Any,
) -> None:
    house = s.site(maya, provider)
    (bed,) = s.beds(maya, house, 1)
    now = noon(DAY)
    with time_machine.travel(now, tick=False):
        request = s.request(person())
        Placement.objects.create(
            request=request, bed=bed, status=PlacementStatus.RESERVED, proposed_at=now
        )
        with pytest.raises(ValidationError, match="someone is placed in it"):
            accommodation_surge.bed_hold(
                [bed],
                operation_id=planned.pk,
                expires_at=now + timedelta(hours=1),
                by=maya,
                now=now,
            )
        with pytest.raises(ValidationError, match="0 free beds"):
            surge_helpers.hold(maya, planned, house, count=1, expires_at=now + timedelta(hours=1))
        Placement.objects.filter(bed=bed).update(status=PlacementStatus.CANCELLED)
        accommodation_surge.bed_hold(
            [bed], operation_id=planned.pk, expires_at=now + timedelta(hours=1), by=maya, now=now
        )
        with pytest.raises(ValidationError, match="already held"):
            accommodation_surge.bed_hold(
                [bed],
                operation_id=other_operation.pk,
                expires_at=now + timedelta(hours=2),
                by=maya,
                now=now,
            )
        # and the database itself refuses a second open hold of one bed
        with pytest.raises(IntegrityError), transaction.atomic():
            BedHold.objects.create(
                bed=bed,
                operation_id=other_operation.pk,
                held_at=now,
                held_by=maya,
                expires_at=now + timedelta(hours=2),
            )
    assert BedHold.objects.filter(bed=bed).count() == 1


@pytest.mark.django_db
def test_surge_places_and_held_beds_count_per_kind_of_the_forecast(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    women = s.site(maya, provider, setting="women_only")
    mixed = s.site(maya, provider, setting="mixed")
    men = s.site(maya, provider, setting="men_only")
    children = s.site(maya, provider, setting="mixed", ages="children")
    s.beds(maya, mixed, 2)
    surge_helpers.add_surge(maya, planned, women, places=10)
    surge_helpers.add_surge(maya, planned, men, places=1)
    surge_helpers.add_surge(maya, planned, children, places=4)  # no adult kind: not counted
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        surge_helpers.hold(maya, planned, mixed, count=2, expires_at=noon(DAY))
        assert surge.surge_by_kind(planned) == {WOMEN: 10, MEN: 1, MIXED: 2}
    with time_machine.travel(noon(DAY) + timedelta(hours=1), tick=False):
        assert surge.surge_by_kind(planned) == {WOMEN: 10, MEN: 1, MIXED: 0}


@pytest.mark.django_db
def test_only_an_invited_providers_people_act_for_it(
    planned: Operation, maya: User, cora: User, omar: User, alice: User
) -> None:
    assert list(surge.providers_acting_for(Actor.of_session(maya), planned)) == [
        planned.partners.get().organisation
    ]
    assert list(surge.providers_acting_for(Actor.of_session(cora), planned)) != []
    assert not surge.providers_acting_for(Actor.of_session(omar), planned).exists()
    assert not surge.providers_acting_for(Actor.of_session(alice), planned).exists()


# --- The pages ---------------------------------------------------------------------------------


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def _date(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


@pytest.mark.django_db
@pytest.mark.page("operations:surge_add")
def test_an_invited_provider_adds_surge_places(
    planned: Operation, maya: User, omar: User, alice: User, provider: Organisation
) -> None:
    house = s.site(maya, provider, setting="women_only")
    s.site(omar, omar.memberships.get().organisation, name="Far Refuge")
    url = reverse("operations:surge_add", args=[planned.id])
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        client = factories.signed_in_client(maya)
        assert client.put(url).status_code == 405
        form = client.get(url).content.decode()
        assert "Add surge places" in form
        # Never at an uninvited provider's site: the room would tell it of the operation.
        assert "Far Refuge" not in form
        wrong = client.post(
            url,
            {"site": house.pk, "places": "", "funding_note": "Operation budget"}
            | _date("starts_on", date(2027, 3, 12))
            | _date("ends_on", date(2027, 3, 10)),
        ).content.decode()
        assert "Enter how many places" in wrong
        assert "The last day must be the same as or after the first" in wrong
        assert 'value="Operation budget"' in wrong  # nothing entered is lost
        assert not SurgePlaces.objects.exists()
        response = client.post(
            url,
            {"site": house.pk, "places": "10", "funding_note": "Operation budget"}
            | _date("starts_on", date(2027, 3, 10))
            | _date("ends_on", date(2027, 3, 20)),
        )
        assert response.status_code == 302
        page = client.get(reverse("operations:detail", args=[planned.id])).content.decode()
        # the outsider provider and the lead (not a provider) get 404
        assert factories.signed_in_client(omar).get(url).status_code == 404
        assert factories.signed_in_client(alice).get(url).status_code == 404
    added = SurgePlaces.objects.get()
    assert (added.places, added.room.site, added.provider) == (10, house, provider)
    assert set(added.room.beds.values_list("operation_id", flat=True)) == {planned.pk}
    assert added.room.beds.count() == 10
    assert BedEvent.objects.filter(bed__room=added.room, state="available").count() == 10
    assert "Operation budget" in page
    assert "Surge places" in page
    assert len(_events("operation.surge_added")) == 1


@pytest.mark.django_db
@pytest.mark.page("operations:beds_hold")
def test_an_invited_provider_holds_beds(
    planned: Operation, maya: User, omar: User, provider: Organisation
) -> None:
    house = s.site(maya, provider, name="Larch House")
    s.beds(maya, house, 3)
    url = reverse("operations:beds_hold", args=[planned.id])
    with time_machine.travel(noon(DAY), tick=False):
        client = factories.signed_in_client(maya)
        assert client.put(url).status_code == 405
        assert "Hold beds" in client.get(url).content.decode()
        too_many = client.post(
            url, {"site": house.pk, "count": "4"} | _date("until", DAY)
        ).content.decode()
        assert "Larch House has 3 free beds open to anyone; enter 3 or fewer" in too_many
        past = client.post(
            url, {"site": house.pk, "count": "2"} | _date("until", DAY - timedelta(days=1))
        ).content.decode()
        assert "The last day held must be today or later" in past
        assert (
            client.post(url, {"site": house.pk, "count": "2"} | _date("until", DAY)).status_code
            == 302
        )
        page = client.get(reverse("operations:detail", args=[planned.id])).content.decode()
        assert factories.signed_in_client(omar).get(url).status_code == 404
    holds = list(surge.holds_of(planned, noon(DAY)))
    assert len(holds) == 2
    assert {h.expires_at for h in holds} == {
        timezone.make_aware(datetime.combine(DAY + timedelta(days=1), time(0)))
    }
    assert "Beds held" in page
    assert "Larch House, bed" in page
    assert len(_events("operation.beds_held")) == 1


@pytest.mark.django_db
@pytest.mark.page("operations:surge_end")
def test_a_provider_ends_its_surge_places(
    planned: Operation, maya: User, omar: User, provider: Organisation
) -> None:
    added = surge_helpers.add_surge(maya, planned, s.site(maya, provider), places=2)
    url = reverse("operations:surge_end", args=[planned.id, added.id])
    with time_machine.travel(noon(DAY), tick=False):
        client = factories.signed_in_client(maya)
        assert (
            "End now"
            in client.get(reverse("operations:detail", args=[planned.id])).content.decode()
        )
        assert client.get(url).status_code == 405
        assert factories.signed_in_client(omar).post(url).status_code == 404
        assert client.post(url).status_code == 302
        assert not selectors.free_beds().exists()
    added.refresh_from_db()
    assert added.ended_by == maya
    assert set(added.room.beds.values_list("surge_until", flat=True)) == {DAY - timedelta(days=1)}
    assert len(_events("operation.surge_ended")) == 1


@pytest.mark.django_db
@pytest.mark.page("operations:hold_release")
def test_a_provider_releases_a_held_bed(
    planned: Operation, maya: User, omar: User, provider: Organisation
) -> None:
    house = s.site(maya, provider)
    s.beds(maya, house, 1)
    with time_machine.travel(noon(DAY), tick=False):
        (hold,) = surge_helpers.hold(
            maya, planned, house, count=1, expires_at=noon(DAY) + timedelta(days=1)
        )
        url = reverse("operations:hold_release", args=[planned.id, hold.id])
        client = factories.signed_in_client(maya)
        assert client.get(url).status_code == 405
        assert factories.signed_in_client(omar).post(url).status_code == 404
        assert client.post(url).status_code == 302
        assert not surge.holds_of(planned).exists()
        assert selectors.free_beds_open_to_anyone().count() == 1
    hold.refresh_from_db()
    assert hold.released_by == maya
    assert len(_events("operation.bed_released")) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("histories")
def test_the_shortfall_shrinks_when_surge_places_are_added(
    alice: User,
    northmoor_police: Organisation,
    maya: User,
    provider: Organisation,
) -> None:
    """The forecast's own history (test_operations_forecast): 40 women expected need more
    than the 3 women's places free; 10 surge places agreed make the shortfall 10 smaller."""
    today = date(2027, 2, 1)
    with time_machine.travel(noon(today), tick=False):
        made = operation_helpers.operation(
            alice,
            northmoor_police,
            region="north_west",
            starts_on=today + timedelta(days=7),
            ends_on=today + timedelta(days=9),
            expected={("female", "adult", "sexual"): 40},
        )
        operation_services.operation_partner_invite(
            by=alice, operation=made, organisation=provider, role="support_provider"
        )
        before = operation_selectors.operation_bed_forecast(made)
        house = s.site(maya, provider, name="Surge House", region="north_west")
        surge.surge_add(
            by=maya,
            operation=made,
            provider=provider,
            site=house,
            places=10,
            starts_on=made.starts_on,
            ends_on=made.ends_on,
        )
        after = operation_selectors.operation_bed_forecast(made)
        page = (
            factories.signed_in_client(alice)
            .get(reverse("operations:detail", args=[made.id]))
            .content.decode()
        )
    assert before is not None
    assert after is not None
    women_before = next(g for g in before.gaps if g.kind == WOMEN)
    women_after = next(g for g in after.gaps if g.kind == WOMEN)
    assert women_before.short > 10
    assert (women_after.surge, women_after.free) == (10, women_before.free)  # not counted twice
    assert women_after.short == women_before.short - 10
    assert women_after.sentence.replace("'", "&#39;") in page
    assert "10 surge places agreed" in page


@pytest.mark.django_db
def test_the_services_refuse_anyone_not_acting_for_an_invited_provider(
    planned: Operation, maya: User, omar: User, alice: User, provider: Organisation
) -> None:
    house = s.site(maya, provider)
    s.beds(maya, house, 1)
    with time_machine.travel(noon(DAY), tick=False):
        for outsider in (omar, alice):
            with pytest.raises(ValidationError, match="invited to this operation"):
                surge.surge_add(
                    by=outsider,
                    operation=planned,
                    provider=provider,
                    site=house,
                    places=1,
                    starts_on=DAY,
                    ends_on=DAY,
                )
            with pytest.raises(ValidationError, match="invited to this operation"):
                surge.beds_hold(
                    by=outsider,
                    operation=planned,
                    provider=provider,
                    site=house,
                    count=1,
                    expires_at=noon(DAY) + timedelta(hours=1),
                )
    assert not SurgePlaces.objects.exists()
    assert not BedHold.objects.exists()


@pytest.mark.django_db
def test_a_confidential_operations_surge_places_show_in_no_figures_before_they_start(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Found in review: counted from the day they were added, they told every reader of the
    capacity figures of an operation still secret."""
    house = s.site(maya, provider)
    surge_helpers.add_surge(maya, planned, house, places=4)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        assert capacity.beds_now().total.beds == 0
    with time_machine.travel(noon(date(2027, 3, 10)), tick=False):
        assert capacity.beds_now().total.beds == 4


@pytest.mark.django_db
def test_surge_places_go_only_to_an_invited_providers_site(
    planned: Operation, maya: User, omar: User
) -> None:
    """Never an uninvited provider's: the room the places make would tell it of the operation."""
    elsewhere = s.site(omar, omar.memberships.get().organisation, name="Elsewhere House")
    assert not surge.sites_for_surge(planned).filter(pk=elsewhere.pk).exists()
    with pytest.raises(ValidationError, match="invited to the operation"):
        surge_helpers.add_surge(maya, planned, elsewhere)
    assert not SurgePlaces.objects.exists()


@pytest.mark.django_db
def test_surge_places_step_over_a_room_the_site_already_named_so(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Found in review: the surge's room took its name from a count, and a room of that name
    already at the site (named by hand, or by a surge added at the same moment) made the room's
    unique name fail with a 500."""
    house = s.site(maya, provider)
    accommodation_services.room_create(by=maya, site=house, name="Extra places 1", beds=1)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    again = surge_helpers.add_surge(maya, planned, house, places=1)
    names = {added.room.name, again.room.name}
    assert len(names) == 2
    assert "Extra places 1" not in names
    # A mark drawn at random, never a count: "Extra places 2" told anyone shown it that another
    # surge room, perhaps an operation's still secret, was at the site (found in review).
    assert all(re.fullmatch(r"Extra places [A-Z2-9]{4}", name) for name in names)
    assert house.rooms.count() == 3


# --- A confidential operation's places, before it starts ---------------------------------------


@pytest.fixture
def outsider_coordinator(db: None) -> User:
    return surge_helpers.uninvited_coordinator()


def _invited_coordinator(planned: Operation, alice: User) -> User:
    """A support coordinator at a second provider invited to the operation."""
    other = factories.organisation("Invited Refuge", OrganisationKind.SUPPORT_PROVIDER)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        operation_services.operation_partner_invite(
            by=alice, operation=planned, organisation=other, role="support_provider"
        )
    return factories.user("ines@example.org", organisation=other, role=Role.SUPPORT_COORDINATOR)


@pytest.mark.django_db
def test_surge_places_are_in_no_free_bed_list_before_their_first_day(
    planned: Operation, maya: User, provider: Organisation, outsider_coordinator: User
) -> None:
    """Found in review: listed free from the day they were added, they told every coordinator
    (and, by the room's name "Surge <operation>-<n>", the operation's number) of a confidential
    operation before it started."""
    house = s.site(maya, provider, setting="women_only")
    (ordinary,) = s.beds(maya, house, 1)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        assert operation_selectors.operation_is_secret(planned)
        assert set(selectors.free_beds().values_list("pk", flat=True)) == {ordinary.pk}
        before = (
            surge_helpers.api_client(outsider_coordinator)
            .get("/api/v1/support/beds/free")
            .json()["items"]
        )
    assert [item["id"] for item in before] == [ordinary.pk]
    with time_machine.travel(noon(date(2027, 3, 10)), tick=False):
        first_day = (
            surge_helpers.api_client(outsider_coordinator)
            .get("/api/v1/support/beds/free")
            .json()["items"]
        )
    # from their first day they are free, for the operation's people, under a name that does
    # not say whose they are
    surge_rooms = {item["room"] for item in first_day if item["id"] != ordinary.pk}
    assert surge_rooms == {added.room.name}
    assert re.fullmatch(r"Extra places [A-Z2-9]{4}", added.room.name)


@pytest.mark.django_db
@pytest.mark.parametrize("when", [operation_helpers.BEFORE, operation_helpers.DURING])
def test_a_sites_page_lists_an_operations_surge_places_only_to_its_providers(
    planned: Operation,
    maya: User,
    cora: User,
    provider: Organisation,
    alice: User,
    outsider_coordinator: User,
    when: str,
) -> None:
    """ADR 0044: surge places are shown to the site's own provider and to the providers invited
    to the operation; "they are not listed elsewhere". Found in review: every coordinator saw
    them on the site's page and through the API, beds and room, before the operation began."""
    house = s.site(maya, provider, setting="women_only")
    (ordinary,) = s.beds(maya, house, 1)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    surge_beds = set(added.room.beds.values_list("pk", flat=True))
    invited_coordinator = _invited_coordinator(planned, alice)
    with time_machine.travel(when, tick=False):
        for user, sees in (
            (outsider_coordinator, False),
            (cora, True),  # the site's own provider
            (maya, True),  # the site's own safe-house manager
            (invited_coordinator, True),  # a provider invited to the operation
        ):
            page = factories.signed_in_client(user).get(reverse("support:site", args=[house.pk]))
            assert page.status_code == 200
            assert (added.room.name in page.content.decode()) is sees, user.email
            site = surge_helpers.api_client(user).get(f"/api/v1/support/sites/{house.pk}").json()
            expected = {ordinary.pk} | (surge_beds if sees else set())
            assert {bed["id"] for bed in site["beds"]} == expected, user.email
            (summary,) = [
                row for row in selectors.site_summaries(Actor.of_session(user)) if row.site == house
            ]
            assert summary.beds == len(expected), user.email


@pytest.mark.django_db
def test_cancelling_the_operation_ends_its_surge_places_and_releases_its_holds(
    planned: Operation, maya: User, alice: User, provider: Organisation
) -> None:
    """Found in review: the beds stayed kept for an operation that would not happen."""
    house = s.site(maya, provider)
    s.beds(maya, house, 1)
    added = surge_helpers.add_surge(maya, planned, house, places=2)
    with time_machine.travel(noon(DAY), tick=False):
        surge_helpers.hold(maya, planned, house, count=1, expires_at=noon(DAY) + timedelta(days=2))
        assert surge.holds_of(planned).count() == 1
        assert capacity.beds_now().total.beds == 3
        operation_services.operation_cancel(by=alice, operation=planned)
        assert not surge.holds_of(planned).exists()
        assert capacity.beds_now().total.beds == 1  # the house's own bed, open to anyone
        assert set(selectors.free_beds_open_to_anyone().values_list("pk", flat=True)) == set(
            house.rooms.exclude(pk=added.room.pk).values_list("beds__pk", flat=True)
        )
    added.refresh_from_db()
    assert added.ended_at is not None
    (cancelled,) = _events("operation.cancelled")
    assert cancelled.detail == {"surge_places_withdrawn": 2, "holds_released": 1}


@pytest.mark.django_db
def test_a_request_a_coordinator_raises_for_someone_found_in_the_operation_carries_it(
    planned: Operation,
    maya: User,
    cora: User,
    alice: User,
    provider: Organisation,
    northmoor_police: Organisation,
    person: Any,
) -> None:
    """Not only the request the referral raises: one raised by hand for a case whose referral
    came from the operation's reception carries the operation too, so its surge places can
    take the person; a case from no operation gets none."""
    from opennrm.accommodation import services as accommodation
    from opennrm.referrals.models import DraftStatus, ReferralDraft

    house = s.site(maya, provider, setting="women_only")
    surge_bed = surge_helpers.add_surge(maya, planned, house, places=1).room.beds.get()
    found, elsewhere = person(), person()
    ReferralDraft.objects.create(
        created_by=alice,
        organisation=northmoor_police,
        status=DraftStatus.SUBMITTED,
        case=found,
        operation_id=planned.pk,
    )
    with time_machine.travel(noon(DAY), tick=False):
        ours, theirs = (
            accommodation.placement_request_raise(
                by=cora, case=case, urgency="emergency", needed_from=DAY
            )
            for case in (found, elsewhere)
        )
        assert isinstance(ours, PlacementRequest)
        assert isinstance(theirs, PlacementRequest)
        assert (ours.operation_id, theirs.operation_id) == (planned.pk, None)
        reasons = dict((bed.pk, why) for bed, why in selectors.free_beds_for(ours, DAY))
        assert reasons[surge_bed.pk] == []
        outcome = selectors_run(cora)
    assert (ours.pk, surge_bed.pk) in [(p.request_id, p.bed_id) for p in outcome.result.proposals]
    assert (theirs.pk, surge_bed.pk) not in [
        (p.request_id, p.bed_id) for p in outcome.result.proposals
    ]


@pytest.mark.django_db
def test_surge_places_cannot_start_before_the_operation(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Places free before the operation starts would show in every coordinator's free beds and
    figures, and give a confidential operation away (found in review)."""
    house = s.site(maya, provider, setting="women_only")
    s.beds(maya, house, 1)
    with (
        time_machine.travel(operation_helpers.BEFORE, tick=False),
        pytest.raises(ValidationError) as refused,
    ):
        surge.surge_add(
            by=maya,
            operation=planned,
            provider=planned.partners.get().organisation,
            site=house,
            places=2,
            starts_on=date(2027, 3, 9),
            ends_on=date(2027, 3, 20),
        )
    assert refused.value.message_dict == {
        "starts_on": ["The first day must be the operation's first day, 10 March 2027, or later"]
    }
    assert not planned.surges.exists()
