"""Beds held for an enforcement operation, and the kind of a site (ADR 0044):

- a held bed is free to nobody but the operation's people: no one's free-bed figures or lists
  count it, and a coordinator refused it is told only that it is not available, never that an
  operation exists (a confidential one is secret until it starts, ADR 39);
- a hold ends with its operation, at most `HOLD_DAYS_AFTER_END` days after its last day;
- a site with beds in service cannot become an outreach office, which has no beds.
"""

from __future__ import annotations

import importlib
import threading
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import selectors
from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import Bed, BedHold, Placement, Site, UnmetNeed
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.operations import services as operation_services
from opennrm.operations import surge
from opennrm.operations.models import Operation
from opennrm.statistics import capacity

from . import api_helpers as api
from . import factories, operation_helpers, surge_helpers
from . import support_factories as s

pytestmark = pytest.mark.django_db

DURING = date(2027, 3, 11)  # the operation runs from 10 to 16 March 2027


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def midnight_after(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time(0)))


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    """A confidential operation, 10 to 16 March 2027, to which Test Refuge (Cora's and Maya's
    provider) is invited as a support provider."""
    made = surge_helpers.invited_operation(alice, northmoor_police, provider)
    assert made.confidential
    return made


@pytest.fixture
def uma(db: None) -> User:
    return surge_helpers.uninvited_coordinator()


@pytest.fixture
def person(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    return surge_helpers.person_maker(alice, northmoor_police, authority)


def _hold(maya: User, operation: Operation, site: Site, expires_at: datetime) -> list[BedHold]:
    return surge_helpers.hold(maya, operation, site, expires_at=expires_at)


def _api(user: User) -> Any:
    return surge_helpers.api_client(user)


def _date(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


# --- 1. A held bed is free to nobody else, and its refusal names no operation ------------------


def test_a_bed_held_before_a_confidential_operation_is_in_no_ones_free_beds(
    planned: Operation, maya: User, cora: User, uma: User, person: Any
) -> None:
    """Found in review: a bed held for a confidential operation before it started was counted
    free in every coordinator's site figures, the capacity figures and the free-bed lists (the
    place-by-hand list with "kept for the people of an operation" beside it)."""
    house = s.site(maya, planned.partners.get().organisation, name="Larch House")
    s.beds(maya, house, 2)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        (hold,) = _hold(maya, planned, house, noon(date(2027, 3, 17)))
        ordinary = s.request(person())
        for user in (uma, cora):
            actor = Actor.of_session(user)
            (summary,) = [row for row in selectors.site_summaries(actor) if row.site == house]
            assert (summary.beds, summary.free, summary.reserved) == (2, 1, 1), user.email
            states = {bed.pk: bed.state for bed in selectors.beds_of_site(actor, house)}
            assert states[hold.bed_id] == "reserved", user.email
            listed = _api(user).get("/api/v1/support/beds/free").json()["items"]
            assert hold.bed_id not in {item["id"] for item in listed}, user.email
        beds = capacity.beds_now().total
        assert (beds.beds, beds.free, beds.reserved) == (2, 1, 1)
        offered = [bed.pk for bed, _ in selectors.free_beds_for(ordinary, s.day())]
        assert hold.bed_id not in offered
        assert len(offered) == 1


def test_placing_someone_else_in_a_held_bed_says_only_that_it_is_not_available(
    planned: Operation, maya: User, cora: User, uma: User, person: Any
) -> None:
    """Found in review: "the bed is kept for the people of an operation the person was not
    found in" told any coordinator, by page or API, of an operation still secret."""
    house = s.site(maya, planned.partners.get().organisation)
    s.beds(maya, house, 1)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        (hold,) = _hold(maya, planned, house, noon(date(2027, 3, 17)))
        ordinary = s.request(person())
        with pytest.raises(accommodation.BedNotFree) as refused:
            accommodation.placement_make(by=uma, request=ordinary, bed=hold.bed)
        assert refused.value.messages == ["This bed is not available. Choose another bed."]
        answer = api.post_json(
            _api(uma),
            f"/api/v1/support/requests/{ordinary.pk}/placement",
            {"bed_id": hold.bed_id},
        )
        assert answer.status_code == 422
        assert "operation" not in answer.content.decode().lower()
        assert "not available" in answer.content.decode()
    assert not Placement.objects.exists()
    # the operation's own people may have it: the hold is for them
    with time_machine.travel(noon(DURING), tick=False):
        ours = s.request(person(), operation_id=planned.pk)
        assert hold.bed_id in [bed.pk for bed, why in selectors.free_beds_for(ours, DURING)]
        placed = accommodation.placement_make(by=cora, request=ours, bed=hold.bed)
    assert placed.bed_id == hold.bed_id


def test_matching_explains_nobodys_unmet_need_by_a_bed_held_for_an_operation(
    planned: Operation, maya: User, cora: User, person: Any
) -> None:
    """The only bed is held for an operation not yet begun: the unmet-need reason every
    coordinator reads must not say that a bed is kept for an operation."""
    house = s.site(maya, planned.partners.get().organisation)
    s.beds(maya, house, 1)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        _hold(maya, planned, house, noon(date(2027, 3, 17)))
        ordinary = s.request(person())
        outcome = accommodation.matching_run(by=cora)
    assert outcome.proposed == 0
    need = UnmetNeed.objects.get(request=ordinary)
    assert need.constraint != "operation"
    assert "operation" not in need.reason.lower()


# --- 2. A hold ends with its operation ---------------------------------------------------------


def test_a_hold_cannot_outlast_its_operation_by_more_than_the_days_allowed(
    planned: Operation, maya: User
) -> None:
    """Found in review: a hold could run a year past its operation, keeping a bed from everyone
    else long after the operation's people were placed."""
    assert surge.HOLD_DAYS_AFTER_END == 2
    last_day = date(2027, 3, 18)  # the operation's last day, 16 March, and two more
    assert surge.hold_ends_by(planned) == midnight_after(last_day)
    house = s.site(maya, planned.partners.get().organisation, name="Larch House")
    s.beds(maya, house, 3)
    url = reverse("operations:beds_hold", args=[planned.id])
    with time_machine.travel(noon(DURING), tick=False):
        with pytest.raises(ValidationError) as refused:
            _hold(maya, planned, house, midnight_after(last_day) + timedelta(seconds=1))
        assert set(refused.value.message_dict) == {"expires_at"}
        client = factories.signed_in_client(maya)
        page = client.post(
            url, {"site": house.pk, "count": "1"} | _date("until", last_day + timedelta(days=1))
        )
        assert page.status_code == 200
        html = page.content.decode()
        assert "18 March 2027 at the latest" in html  # said before it is refused
        error = html[html.index('id="id_until_group-error"') :]
        error = error[: error.index("</p>")]
        assert (
            "The last day held must be 18 March 2027 or earlier: a hold ends at most 2 days "
            "after the operation&#39;s last day, 16 March 2027" in error
        )
        assert not BedHold.objects.exists()
        ok = client.post(url, {"site": house.pk, "count": "1"} | _date("until", last_day))
        assert ok.status_code == 302
    assert BedHold.objects.get().expires_at == midnight_after(last_day)


def test_moving_the_operations_end_earlier_brings_its_holds_forward(
    planned: Operation, maya: User, alice: User
) -> None:
    house = s.site(maya, planned.partners.get().organisation)
    s.beds(maya, house, 2)
    with time_machine.travel(noon(DURING), tick=False):
        (long,) = _hold(maya, planned, house, midnight_after(date(2027, 3, 18)))
        (short,) = _hold(maya, planned, house, midnight_after(date(2027, 3, 12)))
        operation_services.operation_change(
            by=alice,
            operation=planned,
            name=planned.name,
            confidential=True,
            starts_on=planned.starts_on,
            ends_on=date(2027, 3, 11),
            region=planned.region,
            expected={("female", "adult", "sexual"): 30},
            languages=["ro"],
        )
    long.refresh_from_db()
    short.refresh_from_db()
    assert long.expires_at == midnight_after(date(2027, 3, 13))
    assert short.expires_at == midnight_after(date(2027, 3, 12))  # within the new bound
    (changed,) = AuditEvent.objects.filter(action="operation.changed")
    assert changed.detail["holds_brought_forward"] == 1
    with time_machine.travel(noon(date(2027, 3, 14)), tick=False):
        assert not surge.holds_of(planned).exists()
        assert selectors.free_beds_open_to_anyone().count() == 2


def test_holds_made_to_outlast_their_operation_stop_counting_once_it_has_ended(
    planned: Operation, maya: User
) -> None:
    """Holds written before the bound (up to a year) are brought to it by the migration."""
    house = s.site(maya, planned.partners.get().organisation)
    s.beds(maya, house, 2)
    with time_machine.travel(noon(DURING), tick=False):
        (year,) = _hold(maya, planned, house, midnight_after(date(2027, 3, 18)))
        BedHold.objects.filter(pk=year.pk).update(expires_at=midnight_after(date(2028, 3, 11)))
        (fine,) = _hold(maya, planned, house, midnight_after(date(2027, 3, 12)))
    with time_machine.travel(operation_helpers.AFTER, tick=False):
        assert list(surge.holds_of(planned)) == [year]  # the defect: still held in April
    migration = importlib.import_module(
        "opennrm.operations.migrations.0007_holds_end_with_operation"
    )
    migration.end_holds_with_their_operation(apps, None)
    year.refresh_from_db()
    fine.refresh_from_db()
    assert year.expires_at == midnight_after(date(2027, 3, 18))
    assert fine.expires_at == midnight_after(date(2027, 3, 12))
    with time_machine.travel(operation_helpers.AFTER, tick=False):
        assert not surge.holds_of(planned).exists()
        assert selectors.free_beds_open_to_anyone().count() == 2


def test_the_migration_leaves_alone_an_operation_ending_in_year_9999(
    planned: Operation, maya: User
) -> None:
    """Saved before operations' dates were bounded: its end plus the days allowed overflowed."""
    house = s.site(maya, planned.partners.get().organisation)
    s.beds(maya, house, 1)
    with time_machine.travel(noon(DURING), tick=False):
        (hold,) = _hold(maya, planned, house, midnight_after(date(2027, 3, 18)))
    Operation.objects.filter(pk=planned.pk).update(ends_on=date(9999, 12, 31))
    migration = importlib.import_module(
        "opennrm.operations.migrations.0007_holds_end_with_operation"
    )
    migration.end_holds_with_their_operation(apps, None)
    hold.refresh_from_db()
    assert hold.expires_at == midnight_after(date(2027, 3, 18))


# --- 3. An outreach office has no beds ---------------------------------------------------------


def test_a_site_with_beds_in_service_cannot_become_an_outreach_office(
    maya: User, provider: Organisation
) -> None:
    site = s.site(maya, provider)
    first, second = s.beds(maya, site, 2)
    with pytest.raises(ValidationError) as refused:
        accommodation.site_update(by=maya, site=site, kind="outreach")
    assert refused.value.message_dict == {
        "kind": [
            "This site has 2 beds in service, and an outreach office has no beds. Take them "
            "out of service first, or choose another kind of site"
        ]
    }
    site.refresh_from_db()
    assert site.kind == "safe_house"
    assert not AuditEvent.objects.filter(action="site.updated").exists()
    for bed in (first, second):
        accommodation.bed_set_in_service(by=maya, bed=bed, in_service=False, reason="Closing")
    accommodation.site_update(by=maya, site=site, kind="outreach")
    site.refresh_from_db()
    assert site.kind == "outreach"


def test_the_site_form_shows_the_refusal_against_the_kind_of_site(
    maya: User, provider: Organisation
) -> None:
    site = s.site(maya, provider, name="North House 2")
    s.beds(maya, site, 1)
    form = {
        "name": "North House 2",
        "kind": "outreach",
        "setting": "women_only",
        "ages": "adults",
        "region": "north_west",
        "area": "Testshire",
        "address": s.ADDRESS,
        "postcode": s.POSTCODE,
        "latitude": "53.48",
        "longitude": "-2.24",
        "staff_languages": ["en", "sq"],
        "expected_version": site.version,
    }
    page = factories.signed_in_client(maya).post(reverse("support:site_edit", args=[site.pk]), form)
    assert page.status_code == 200
    html = page.content.decode()
    error = html[html.index('kind-error"') :]
    error = error[: error.index("</p>")]
    assert "This site has 1 bed in service, and an outreach office has no beds" in error
    assert 'href="#id_kind' in html  # the error summary links to the field
    site.refresh_from_db()
    assert site.kind == "safe_house"


# --- Races (PostgreSQL: SQLite's test database refuses a second writer instead of queueing) --


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database refuses a second writer at once ('table is "
    "locked') instead of queueing it: run with DATABASE_URL set to PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_a_room_added_while_the_site_becomes_an_outreach_office_is_refused(
    maya: User, provider: Organisation
) -> None:
    """The room's check of the site's kind waits for the change being made: without the lock it
    read the kind as it was, and the room's beds were added at an outreach office."""
    site = s.site(maya, provider, name="Becoming an office")
    changed, done = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []

    def becomes_an_office() -> None:
        try:
            with transaction.atomic():
                accommodation.site_update(by=maya, site=site, kind="outreach")
                changed.set()
                done.wait(timeout=0.5)  # the room is asked for meanwhile
        finally:
            connections.close_all()

    def adds_a_room() -> None:
        try:
            changed.wait(timeout=10)
            accommodation.room_create(by=maya, site=site, name="Late room", beds=2)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - asserted below
            outcome.append(error)
        finally:
            done.set()
            connections.close_all()

    threads = [threading.Thread(target=becomes_an_office), threading.Thread(target=adds_a_room)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [error] = outcome
    assert isinstance(error, ValidationError), f"the room was added: {error!r}"
    assert "outreach office" in str(error)
    assert not Bed.objects.filter(room__site=site).exists()


def test_a_bed_at_an_outreach_office_is_not_put_back_in_service(
    maya: User, provider: Organisation
) -> None:
    """Taken out of service so that the site could become an office, a bed put back would be a
    bed at an office again, which nothing counts or offers (found in review)."""
    site = s.site(maya, provider, name="Became an office")
    (bed,) = s.beds(maya, site, 1)
    accommodation.bed_set_in_service(by=maya, bed=bed, in_service=False, reason="Office now")
    accommodation.site_update(by=maya, site=site, kind="outreach")
    with pytest.raises(ValidationError, match="outreach office"):
        accommodation.bed_set_in_service(by=maya, bed=bed, in_service=True)
    bed.refresh_from_db()
    assert bed.out_of_service_since is not None
