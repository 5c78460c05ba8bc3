"""Support and accommodation through the API (issue 6, item 10): the coordinator's waiting list,
matching, proposals and placing by hand; the provider's answers, arrivals and exits; sites and
beds with their states; capacity. The same selectors, forms and services as the support pages:
the same refusals, in the API's error shape, with nothing half-written; 403 for a role the rule
does not allow, 404 alike for what does not exist and what a token may not reach; 409 for a bed
another placement holds. A safe house's address reaches only its own staff and coordinators with
the permission, recorded each time; no response ever names the person. One placement carries
what its page shows of the person's safety, its read recorded as the page's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from opennrm.accommodation import selectors, services
from opennrm.accommodation.models import (
    AddressGrant,
    Bed,
    BedState,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    Site,
)
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case

from . import api_helpers as a
from . import case_factories, factories
from . import support_factories as s

# The person's name, and a place they must keep away from: no API response may contain either.
NAME = "Zorica Testova"
KEEP_AWAY = "Hollowfarm Industrial Estate"
ADDRESS_PARTS = [s.ADDRESS, "Quietwater", "Hollowmere", s.POSTCODE]
ROLE_REFUSED = "The member this API token acts for does not hold a role that may use this operation"
# What the first responder and the safety profile say of her: the provider decides on them.
MEDICAL = "Insulin-dependent: needs a fridge for her medication"


@pytest.fixture(autouse=True)
def no_response_names_the_person() -> Iterator[None]:
    a.BODIES.clear()
    yield
    for body in a.BODIES:
        assert NAME.encode() not in body
        assert NAME.split()[0].encode() not in body
        assert KEEP_AWAY.encode() not in body


def api(user: User, organisation: Organisation | None = None, scopes: Any = a.EVERY_SCOPE):
    organisation = organisation or user.memberships.get().organisation
    _, secret = a.token(user, organisation, scopes=scopes, days=365)
    return a.RecordingClient(headers={"Authorization": f"Bearer {secret}"})


def leaks(text: str | bytes) -> list[str]:
    text = text.decode() if isinstance(text, bytes) else text
    return [part for part in ADDRESS_PARTS if part.casefold() in text.casefold()]


def numbers(node: Any) -> list[float]:
    """Every number in a JSON document."""
    if isinstance(node, dict):
        return [n for value in node.values() for n in numbers(value)]
    if isinstance(node, list):
        return [n for value in node for n in numbers(value)]
    return [node] if isinstance(node, int | float) and not isinstance(node, bool) else []


def coordinates(document: Any) -> list[float]:
    """The site's latitude or longitude, wherever they appear as numbers."""
    return [n for n in numbers(document) if n in (53.48, -2.24)]


def state(bed: Bed) -> BedState:
    return selectors.state_of(selectors.with_state(Bed.objects.filter(pk=bed.pk)).get())


@pytest.fixture
def new_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    def make(**fields: Any) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            given_names=NAME,
            **fields,
        )

    return make


@pytest.fixture
def house(maya: User, provider: Organisation) -> Site:
    """Test Refuge's safe house: women only, in the North West, with four beds."""
    site = s.site(maya, provider, name="North House")
    s.beds(maya, site, 4)
    return site


@pytest.fixture
def omars_house(omar: User) -> Site:
    site = s.site(omar, omar.memberships.get().organisation, name="Other House")
    s.beds(omar, site, 1)
    return site


def beds_of(site: Site) -> list[Bed]:
    return list(Bed.objects.filter(room__site=site).order_by("pk"))


@pytest.fixture
def analyst(monitoring: Organisation) -> User:
    return factories.user("owen@example.org", organisation=monitoring, role=Role.ANALYST)


def offer(cora: User, case: Case, bed: Bed) -> Placement:
    return services.placement_make(by=cora, request=s.request(case), bed=bed)


# --- The coordinator ------------------------------------------------------------------------------


class TestTheWaitingList:
    def test_most_urgent_first_with_the_constraints_and_never_the_places(
        self, cora: User, new_case: Any
    ) -> None:
        routine = s.request(new_case(), urgency="routine")
        emergency = s.request(
            new_case(),
            keep_away=[{"label": KEEP_AWAY, "place": KEEP_AWAY, "lat": 53.4, "lon": -2.2, "km": 5}],
            excluded_areas=["Testshire"],
        )
        response = api(cora).get("/api/v1/support/requests")
        assert response.status_code == 200
        page = response.json()
        assert page["count"] == 2
        first, second = page["items"]
        assert (first["id"], second["id"]) == (emergency.pk, routine.pk)
        assert first["case_reference"] == emergency.case.reference
        assert (first["urgency"], first["sex"], first["age_group"]) == (
            "emergency",
            "female",
            "adult",
        )
        assert first["accepted_settings"] == ["women_only", "mixed"]
        assert first["languages"] == ["sq"]
        assert first["days_waiting"] == 0
        assert first["safety_constraints"] == 2
        assert "Testshire" not in str(first["safety_constraints"])
        assert first["placement"] is None

    def test_paged_and_bounded(self, cora: User, new_case: Any) -> None:
        for _ in range(3):
            s.request(new_case())
        client = api(cora)
        page = client.get("/api/v1/support/requests?limit=2&offset=2").json()
        assert (page["count"], len(page["items"])) == (3, 1)
        [error] = a.errors(client.get("/api/v1/support/requests?offset=-1"))
        assert error["field"] == "offset"

    @pytest.mark.parametrize("who", ["maya", "alice", "dmitri"])
    def test_only_coordinators(self, request: pytest.FixtureRequest, who: str) -> None:
        person = request.getfixturevalue(who)
        [error] = a.errors(api(person).get("/api/v1/support/requests"), 403)
        assert error["message"] == ROLE_REFUSED

    def test_a_token_without_the_scope_is_refused(self, cora: User) -> None:
        client = api(cora, scopes=[a.SUPPORT_WRITE])
        [error] = a.errors(client.get("/api/v1/support/requests"), 403)
        assert "'support:read' scope" in error["message"]
        [error] = a.errors(api(cora, scopes=[a.SUPPORT_READ]).post("/api/v1/support/matching"), 403)
        assert "'support:write' scope" in error["message"]


class TestMatchingAndProposals:
    def test_matching_proposes_the_coordinator_confirms_and_the_bed_is_reserved(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        request = s.request(new_case())
        client = api(cora)
        ran = client.post("/api/v1/support/matching")
        assert ran.status_code == 200, ran.content
        body = ran.json()
        assert (body["proposed"], body["unplaced"], body["unmet"]) == (1, 0, [])
        [proposal] = body["proposals"]
        assert proposal["status"] == "proposed"
        assert proposal["request"] == request.pk
        assert proposal["site"]["name"] == "North House"
        assert proposal["why"].startswith("Meets every requirement")
        assert "address" not in proposal["site"]
        assert client.get("/api/v1/support/proposals").json()["proposals"] == [proposal]
        bed = Bed.objects.get(pk=proposal["bed"])
        assert state(bed) == BedState.AVAILABLE, "a proposal holds nothing"

        confirmed = a.post_json(
            client, f"/api/v1/support/proposals/{proposal['id']}/decision", {"confirm": True}
        )
        assert confirmed.status_code == 200, confirmed.content
        assert confirmed.json()["status"] == "reserved"
        assert state(bed) == BedState.RESERVED
        assert AuditEvent.objects.filter(action="placement.confirmed", actor=cora).count() == 1
        assert client.get("/api/v1/support/proposals").json()["proposals"] == []

        again = a.post_json(
            client, f"/api/v1/support/proposals/{proposal['id']}/decision", {"confirm": True}
        )
        [error] = a.errors(again)
        assert error["message"] == "This proposal is no longer open: run matching again"

    def test_turning_a_proposal_down_leaves_the_person_waiting(
        self, cora: User, house: Site, new_case: Any
    ) -> None:
        request = s.request(new_case())
        services.matching_run(by=cora)
        proposal = Placement.objects.get(status=PlacementStatus.PROPOSED)
        response = a.post_json(
            api(cora), f"/api/v1/support/proposals/{proposal.pk}/decision", {"confirm": False}
        )
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        request.refresh_from_db()
        assert request.status == PlacementRequestStatus.OPEN
        assert state(proposal.bed) == BedState.AVAILABLE

    def test_who_could_not_be_placed_is_said_by_constraint_never_by_place(
        self, cora: User, house: Site, new_case: Any
    ) -> None:
        """The unmet need's reason is worded from the places to keep away from: only its
        constraint's code and label are returned."""
        request = s.request(
            new_case(),
            keep_away=[
                {"label": KEEP_AWAY, "place": KEEP_AWAY, "lat": 53.48, "lon": -2.24, "km": 30}
            ],
        )
        body = api(cora).post("/api/v1/support/matching").json()
        assert (body["proposed"], body["unplaced"]) == (0, 1)
        assert body["unmet"] == [
            {
                "request": request.pk,
                "case_reference": request.case.reference,
                "constraint": "distance",
                "constraint_label": "Too close to a place they must keep away from",
            }
        ]

    def test_a_bed_taken_meanwhile_is_a_409_and_nothing_is_written(
        self, cora: User, house: Site, new_case: Any
    ) -> None:
        bed = beds_of(house)[0]
        offer(cora, new_case(), bed)
        stale = Placement.objects.create(
            request=s.request(new_case()),
            bed=bed,
            status=PlacementStatus.PROPOSED,
            proposed_at=timezone.now(),
        )
        client = api(cora)
        events = AuditEvent.objects.count()
        response = a.post_json(
            client, f"/api/v1/support/proposals/{stale.pk}/decision", {"confirm": True}
        )
        [error] = a.errors(response, 409)
        assert error["message"].startswith("This bed was taken a moment ago by another placement")
        stale.refresh_from_db()
        assert stale.status == PlacementStatus.PROPOSED
        assert AuditEvent.objects.count() == events

    def test_a_proposal_that_does_not_exist_is_404(self, cora: User) -> None:
        response = a.post_json(
            api(cora), "/api/v1/support/proposals/999999/decision", {"confirm": True}
        )
        assert response.status_code == 404
        assert response.json() == a.NOT_FOUND

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "confirm", "Give 'confirm'"),
            ({"confirm": True, "bed": 1}, "bed", "'bed' is not a field of this request"),
        ],
    )
    def test_a_body_of_the_wrong_shape_is_named(
        self, cora: User, house: Site, new_case: Any, body: dict, field: str, message: str
    ) -> None:
        s.request(new_case())
        services.matching_run(by=cora)
        proposal = Placement.objects.get()
        response = a.post_json(api(cora), f"/api/v1/support/proposals/{proposal.pk}/decision", body)
        assert a.errors(response) == [{"step": None, "field": field, "message": message}]

    def test_managers_may_not_run_matching(self, maya: User, house: Site, new_case: Any) -> None:
        s.request(new_case())
        [error] = a.errors(api(maya).post("/api/v1/support/matching"), 403)
        assert error["message"] == ROLE_REFUSED
        assert not Placement.objects.exists()


class TestPlacingByHand:
    def test_a_named_bed_is_offered_to_the_provider(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        request = s.request(new_case())
        bed = beds_of(house)[1]
        response = a.post_json(
            api(cora), f"/api/v1/support/requests/{request.pk}/placement", {"bed_id": bed.pk}
        )
        assert response.status_code == 201, response.content
        placed = response.json()
        assert (placed["status"], placed["bed"], placed["request"]) == (
            "reserved",
            bed.pk,
            request.pk,
        )
        assert placed["why"].startswith("Placed by hand")
        assert state(bed) == BedState.RESERVED
        assert AuditEvent.objects.filter(action="placement.made", actor=cora).count() == 1

    def test_a_bed_another_placement_holds_is_a_409_and_nothing_is_written(
        self, cora: User, house: Site, new_case: Any
    ) -> None:
        """No double booking: the service's own check (the bed's row locked, then the database's
        constraint) refuses it; the API says so with 409."""
        bed = beds_of(house)[0]
        first = offer(cora, new_case(), bed)
        request = s.request(new_case())
        client = api(cora)
        events = AuditEvent.objects.count()
        response = a.post_json(
            client, f"/api/v1/support/requests/{request.pk}/placement", {"bed_id": bed.pk}
        )
        [error] = a.errors(response, 409)
        assert "taken a moment ago by another placement" in error["message"]
        assert list(Placement.objects.filter(bed=bed)) == [first]
        assert AuditEvent.objects.count() == events

    def test_a_bed_that_cannot_take_the_person_is_refused_saying_why(
        self, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        request = s.request(new_case())
        (men_only,) = s.beds(maya, s.site(maya, provider, setting="men_only"))
        response = a.post_json(
            api(cora), f"/api/v1/support/requests/{request.pk}/placement", {"bed_id": men_only.pk}
        )
        [error] = a.errors(response)
        assert error["message"].startswith("This bed cannot take this person:")
        assert "men-only setting" in error["message"]
        assert not Placement.objects.exists()

    def test_a_bed_out_of_service_is_refused(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        request = s.request(new_case())
        bed = beds_of(house)[0]
        services.bed_set_in_service(by=maya, bed=bed, in_service=False, reason="Damp")
        response = a.post_json(
            api(cora), f"/api/v1/support/requests/{request.pk}/placement", {"bed_id": bed.pk}
        )
        assert a.errors(response) == [
            {"step": None, "field": None, "message": "This bed is out of service"}
        ]

    def test_an_unknown_bed_is_named(self, cora: User, new_case: Any) -> None:
        request = s.request(new_case())
        response = a.post_json(
            api(cora), f"/api/v1/support/requests/{request.pk}/placement", {"bed_id": 999999}
        )
        assert a.errors(response) == [
            {
                "step": None,
                "field": "bed_id",
                "message": "No bed has this id: choose one of the free beds",
            }
        ]

    def test_an_unknown_request_is_404(self, cora: User, house: Site) -> None:
        response = a.post_json(
            api(cora),
            "/api/v1/support/requests/999999/placement",
            {"bed_id": beds_of(house)[0].pk},
        )
        assert response.status_code == 404
        assert not Placement.objects.exists()

    def test_a_closed_request_is_refused(self, cora: User, house: Site, new_case: Any) -> None:
        request = s.request(new_case())
        services.placement_request_close(
            by=cora, request=request, status=PlacementRequestStatus.WITHDRAWN
        )
        response = a.post_json(
            api(cora),
            f"/api/v1/support/requests/{request.pk}/placement",
            {"bed_id": beds_of(house)[0].pk},
        )
        assert a.errors(response)[0]["message"] == "This request is closed"


class TestFreeBeds:
    def test_free_beds_filtered_by_region_setting_children_and_wheelchair(
        self, cora: User, maya: User, provider: Organisation, house: Site, new_case: Any
    ) -> None:
        held, out_of_service, *free_in_house = beds_of(house)
        offer(cora, new_case(), held)
        services.bed_set_in_service(by=maya, bed=out_of_service, in_service=False, reason="Damp")
        flats = s.site(maya, provider, name="Flats", setting="mixed", region="london")
        (family,) = s.beds(maya, flats, 1, takes_dependants=2, wheelchair_accessible=True)
        client = api(cora)

        def ids(query: str = "") -> list[int]:
            response = client.get(f"/api/v1/support/beds/free{query}")
            assert response.status_code == 200, response.content
            page = response.json()
            assert page["count"] == len(page["items"])
            return [bed["id"] for bed in page["items"]]

        assert set(ids()) == {family.pk, *(b.pk for b in free_in_house)}
        assert ids("?region=london") == [family.pk]
        assert set(ids("?setting=women_only")) == {b.pk for b in free_in_house}
        assert ids("?children=1") == [family.pk]
        assert ids("?children=3") == []
        assert ids("?wheelchair=true") == [family.pk]
        row = client.get("/api/v1/support/beds/free?region=london").json()["items"][0]
        assert row["site"]["name"] == "Flats"
        assert row["site"]["region_label"] == "London"
        assert "address" not in row["site"]
        assert leaks(str(row)) == []

    @pytest.mark.parametrize(
        ("query", "field"),
        [("region=atlantis", "region"), ("setting=any", "setting"), ("children=21", "children")],
    )
    def test_a_filter_that_is_not_one_of_the_choices_is_named(
        self, cora: User, query: str, field: str
    ) -> None:
        [error] = a.errors(api(cora).get(f"/api/v1/support/beds/free?{query}"))
        assert error["field"] == field


# --- The provider ---------------------------------------------------------------------------------


class TestTheProvider:
    def test_the_whole_stay_offer_accepted_arrived_left(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        bed = beds_of(house)[0]
        placement = offer(cora, new_case(), bed)
        client = api(maya)
        offers = client.get("/api/v1/support/placements?status=reserved").json()
        assert [p["id"] for p in offers["items"]] == [placement.pk]

        accepted = a.post_json(
            client, f"/api/v1/support/placements/{placement.pk}/response", {"accept": True}
        )
        assert accepted.status_code == 200, accepted.content
        assert accepted.json()["status"] == "accepted"
        assert state(bed) == BedState.RESERVED

        today = timezone.localdate().isoformat()
        arrived = a.post_json(
            client, f"/api/v1/support/placements/{placement.pk}/arrival", {"arrived_on": today}
        )
        assert arrived.status_code == 200, arrived.content
        assert (arrived.json()["status"], arrived.json()["arrived_on"]) == ("occupied", today)
        assert state(bed) == BedState.OCCUPIED
        assert PlacementRequest.objects.get(pk=placement.request_id).status == "placed"

        left = a.post_json(
            client,
            f"/api/v1/support/placements/{placement.pk}/exit",
            {"ended_on": today, "reason": "moved_on"},
        )
        assert left.status_code == 200, left.content
        assert (left.json()["status"], left.json()["exit_reason"]) == ("ended", "moved_on")
        assert state(bed) == BedState.AVAILABLE
        actions = AuditEvent.objects.filter(actor=maya).values_list("action", flat=True)
        assert list(actions.order_by("id"))[-3:] == [
            "placement.accepted",
            "placement.arrived",
            "placement.ended",
        ]

    def test_declining_with_a_coded_reason_frees_the_bed(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        bed = beds_of(house)[0]
        placement = offer(cora, new_case(), bed)
        response = a.post_json(
            api(maya),
            f"/api/v1/support/placements/{placement.pk}/response",
            {"accept": False, "reason": "bed_not_ready"},
        )
        assert response.status_code == 200, response.content
        assert (response.json()["status"], response.json()["decline_reason"]) == (
            "declined",
            "bed_not_ready",
        )
        assert state(bed) == BedState.AVAILABLE
        placement.request.refresh_from_db()
        assert placement.request.status == PlacementRequestStatus.OPEN

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"accept": False}, "reason", "Select why you cannot take this person"),
            ({"accept": False, "reason": "full"}, "reason", None),
            ({"reason": "safety"}, "accept", "Give 'accept'"),
        ],
    )
    def test_a_decline_without_a_known_reason_is_refused_and_nothing_written(
        self,
        cora: User,
        maya: User,
        house: Site,
        new_case: Any,
        body: dict,
        field: str,
        message: str | None,
    ) -> None:
        placement = offer(cora, new_case(), beds_of(house)[0])
        client = api(maya)
        events = AuditEvent.objects.count()
        response = a.post_json(client, f"/api/v1/support/placements/{placement.pk}/response", body)
        [error] = a.errors(response)
        assert error["field"] == field
        if message:
            assert error["message"] == message
        placement.refresh_from_db()
        assert placement.status == PlacementStatus.RESERVED
        assert AuditEvent.objects.count() == events

    def test_an_answer_to_a_placement_not_waiting_for_one_is_refused(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        placement = offer(cora, new_case(), beds_of(house)[0])
        services.placement_respond(by=maya, placement=placement, accept=True)
        response = a.post_json(
            api(maya), f"/api/v1/support/placements/{placement.pk}/response", {"accept": True}
        )
        assert a.errors(response)[0]["message"] == (
            "This placement is accepted: waiting for the person to arrive: that cannot be done now"
        )

    @pytest.mark.parametrize(
        ("arrived_on", "message"),
        [
            ("2999-01-01", "The day they arrived must be today or earlier"),
            ("2026-02-30", None),
            ("yesterday", None),
        ],
    )
    def test_an_arrival_on_a_day_that_cannot_be_is_refused(
        self, cora: User, maya: User, house: Site, new_case: Any, arrived_on: str, message: Any
    ) -> None:
        placement = offer(cora, new_case(), beds_of(house)[0])
        services.placement_respond(by=maya, placement=placement, accept=True)
        response = a.post_json(
            api(maya),
            f"/api/v1/support/placements/{placement.pk}/arrival",
            {"arrived_on": arrived_on},
        )
        [error] = a.errors(response)
        assert error["field"] == "arrived_on"
        if message:
            assert error["message"] == message
        placement.refresh_from_db()
        assert placement.status == PlacementStatus.ACCEPTED

    def test_an_exit_before_the_arrival_is_refused(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        placement = offer(cora, new_case(), beds_of(house)[0])
        services.placement_respond(by=maya, placement=placement, accept=True)
        # They arrived the day the place was offered (an arrival never precedes its offer).
        services.placement_arrive(by=maya, placement=placement, on=s.day())
        client = api(maya)
        url = f"/api/v1/support/placements/{placement.pk}/exit"
        early = a.post_json(client, url, {"ended_on": s.day(-1).isoformat(), "reason": "left"})
        assert a.errors(early) == [
            {
                "step": None,
                "field": "ended_on",
                "message": "The day they left cannot be before the day they arrived",
            }
        ]
        unknown = a.post_json(client, url, {"ended_on": s.day().isoformat(), "reason": "bored"})
        assert a.errors(unknown)[0]["field"] == "reason"
        placement.refresh_from_db()
        assert placement.status == PlacementStatus.OCCUPIED

    def test_another_providers_manager_reaches_nothing_of_it(
        self, cora: User, omar: User, house: Site, omars_house: Site, new_case: Any
    ) -> None:
        placement = offer(cora, new_case(), beds_of(house)[0])
        client = api(omar)
        assert client.get("/api/v1/support/placements").json() == {"items": [], "count": 0}
        for method, url, body in [
            ("get", f"/api/v1/support/placements/{placement.pk}", None),
            ("post", f"/api/v1/support/placements/{placement.pk}/response", {"accept": True}),
            ("get", f"/api/v1/support/sites/{house.pk}", None),
        ]:
            response = client.get(url) if method == "get" else a.post_json(client, url, body)
            assert (response.status_code, response.json()) == (404, a.NOT_FOUND), url
        sites = client.get("/api/v1/support/sites").json()
        assert [site["id"] for site in sites["items"]] == [omars_house.pk]
        placement.refresh_from_db()
        assert placement.status == PlacementStatus.RESERVED

    def test_a_token_reaches_only_its_own_organisations_sites(
        self, cora: User, maya: User, house: Site, omar: User, omars_house: Site, new_case: Any
    ) -> None:
        """Maya also manages Other Shelter's houses; a token of Test Refuge's reaches Test
        Refuge's only, and hers for Other Shelter the other's only."""
        other = omar.memberships.get().organisation
        Membership.objects.create(user=maya, organisation=other, role=Role.SAFE_HOUSE_MANAGER)
        placement = offer(cora, new_case(), beds_of(omars_house)[0])
        refuge = api(maya, house.provider)
        assert refuge.get(f"/api/v1/support/placements/{placement.pk}").status_code == 404
        assert refuge.get(f"/api/v1/support/sites/{omars_house.pk}").status_code == 404
        response = a.post_json(
            refuge, f"/api/v1/support/placements/{placement.pk}/response", {"accept": True}
        )
        assert response.status_code == 404
        shelter = api(maya, other)
        assert shelter.get(f"/api/v1/support/placements/{placement.pk}").status_code == 200
        assert shelter.get(f"/api/v1/support/sites/{house.pk}").status_code == 404

    def test_an_offer_carries_the_safety_its_page_shows_with_the_read_recorded(
        self, alice: User, cora: User, maya: User, omar: User, house: Site, new_case: Any
    ) -> None:
        """A provider answering offers from its own system decides on what the placement page
        gives it: the risk and its reasons, medical needs, the house needed, the dependants and
        what the first responder wrote; never who exploited her, the places to keep away from
        (the autouse check) or a dependant's name. Each answer records the read as the page
        does."""
        case = new_case(immediate_needs_details=s.DETAILS)
        s.at_risk_with_a_child(alice, case, keep_away=KEEP_AWAY, medical_needs=MEDICAL)
        # The request forgot the child; the profile still brings her (and the room takes her).
        (bed,) = s.beds(maya, house, 1, takes_dependants=1)
        placement = services.placement_make(by=cora, request=s.request(case, dependants=0), bed=bed)
        url = f"/api/v1/support/placements/{placement.pk}"

        page = factories.signed_in_client(maya).get(f"/support/placements/{placement.pk}/")
        assert all(text in page.content.decode() for text in (s.RISK, MEDICAL, s.DETAILS))
        page_read = AuditEvent.objects.filter(action="person.viewed", actor=maya).get()

        assert api(omar).get(url).status_code == 404
        assert not AuditEvent.objects.filter(action="person.viewed", actor=omar).exists()

        before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        response = api(maya).get(url)
        assert response.status_code == 200, response.content
        given = response.json()["safety"]
        assert given == {
            "risk_level": "very_high",
            "risk_level_label": "Very high",
            "risk_reasons": s.RISK,
            "medical_needs": MEDICAL,
            "setting_required": "women_only",
            "setting_required_label": "A women-only house",
            "dependants": 1,
            "immediate_needs_details": s.DETAILS,
        }
        assert response.json()["person"]["dependants"] == 0  # the request's, as on the page
        for hidden in (s.EXPLOITERS, "Uncle Vane", s.CHILD):
            assert hidden not in response.content.decode()
        read = AuditEvent.objects.filter(pk__gt=before, action="person.viewed").get()
        assert read.actor == maya
        # The same fields as the page's read, and each one named is in the answer.
        assert set(read.detail["fields"]) == set(page_read.detail["fields"])
        shown = {
            "safety_risk_reasons": ("risk_reasons", s.RISK),
            "safety_medical_needs": ("medical_needs", MEDICAL),
            "safety_dependants": ("dependants", 1),
            "immediate_needs_details": ("immediate_needs_details", s.DETAILS),
        }
        assert sorted(read.detail["fields"]) == sorted(shown)
        for field in read.detail["fields"]:
            key, value = shown[field]
            assert given[key] == value, field

    def test_coordinators_do_not_answer_for_the_provider(
        self, cora: User, house: Site, new_case: Any
    ) -> None:
        placement = offer(cora, new_case(), beds_of(house)[0])
        response = a.post_json(
            api(cora), f"/api/v1/support/placements/{placement.pk}/response", {"accept": True}
        )
        assert a.errors(response, 403)[0]["message"] == ROLE_REFUSED


# --- Sites, beds, placements, capacity ------------------------------------------------------------


class TestSitesAndBeds:
    def test_each_bed_with_its_state_derived_from_its_placements(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        reserved, occupied, broken, free = beds_of(house)
        offer(cora, new_case(), reserved)
        living = offer(cora, new_case(), occupied)
        services.placement_respond(by=maya, placement=living, accept=True)
        services.placement_arrive(by=maya, placement=living, on=s.day())
        services.bed_set_in_service(by=maya, bed=broken, in_service=False, reason="Damp")
        response = api(maya).get(f"/api/v1/support/sites/{house.pk}")
        assert response.status_code == 200, response.content
        site = response.json()
        assert [(b["id"], b["state"]) for b in site["beds"]] == [
            (reserved.pk, "reserved"),
            (occupied.pk, "occupied"),
            (broken.pk, "out_of_service"),
            (free.pk, "available"),
        ]
        assert site["beds"][1]["placement"] == living.pk
        assert site["beds"][2]["out_of_service_reason"] == "Damp"
        assert site["beds"][3]["placement"] is None
        assert (site["setting"], site["region"], site["area"]) == (
            "women_only",
            "north_west",
            "Testshire",
        )
        listed = api(cora).get("/api/v1/support/sites").json()
        [row] = listed["items"]
        assert row["counts"] == {
            "beds": 4,
            "free": 1,
            "reserved": 1,
            "occupied": 1,
            "out_of_service": 1,
        }

    def test_a_site_that_does_not_exist_is_404(self, cora: User) -> None:
        response = api(cora).get("/api/v1/support/sites/999999")
        assert (response.status_code, response.json()) == (404, a.NOT_FOUND)

    def test_a_placements_details_say_what_the_person_needs_never_who_they_are(
        self, cora: User, maya: User, house: Site, new_case: Any
    ) -> None:
        case = new_case()
        placement = offer(cora, case, beds_of(house)[0])
        detail = api(cora).get(f"/api/v1/support/placements/{placement.pk}").json()
        assert detail["case_reference"] == case.reference
        assert detail["person"] == {
            "age_group": "adult",
            "sex": "female",
            "languages": ["sq"],
            "interpreter_needed": False,
            "dependants": 0,
            "needs_wheelchair": False,
        }
        assert detail["move_on_ends"] is None
        assert detail["site"]["address"] is None
        # No safety profile and nothing written at referral: nothing shown, no read recorded.
        assert detail["safety"] == {
            "risk_level": None,
            "risk_level_label": None,
            "risk_reasons": "",
            "medical_needs": "",
            "setting_required": "",
            "setting_required_label": "No requirement",
            "dependants": 0,
            "immediate_needs_details": "",
        }
        assert not AuditEvent.objects.filter(action="person.viewed", actor=cora).exists()


class TestCapacity:
    def test_beds_by_state_by_region_and_provider(
        self,
        cora: User,
        maya: User,
        analyst: User,
        house: Site,
        omars_house: Site,
        new_case: Any,
    ) -> None:
        offer(cora, new_case(), beds_of(house)[0])
        for person in (cora, maya, analyst):
            response = api(person).get("/api/v1/support/capacity")
            assert response.status_code == 200, (person.email, response.content)
            figures = response.json()
            assert figures["total"] == {
                "beds": 5,
                "free": 4,
                "reserved": 1,
                "occupied": 0,
                "out_of_service": 0,
            }
            assert [(r["region"], r["beds"]) for r in figures["by_region"]] == [("north_west", 5)]
            assert [(p["provider"], p["free"]) for p in figures["by_provider"]] == [
                ("Other Shelter", 1),
                ("Test Refuge", 3),
            ]

    def test_figures_only_for_the_dashboards_readers(self, alice: User) -> None:
        assert a.errors(api(alice).get("/api/v1/support/capacity"), 403)[0]["message"] == (
            ROLE_REFUSED
        )


# --- Addresses ------------------------------------------------------------------------------------


@pytest.fixture
def placed(cora: User, maya: User, house: Site, new_case: Any) -> Placement:
    placement = offer(cora, new_case(), beds_of(house)[0])
    services.placement_respond(by=maya, placement=placement, accept=True)
    return placement


def _get_paths(placement: Placement, site: Site) -> list[tuple[str, str]]:
    """(template, path) for every API read that can show a site, or anything else."""
    templates = [
        "/api/v1/support/requests",
        "/api/v1/support/proposals",
        "/api/v1/support/beds/free",
        "/api/v1/support/placements",
        "/api/v1/support/placements/{placement_id}",
        "/api/v1/support/sites",
        "/api/v1/support/sites/{site_id}",
        "/api/v1/support/capacity",
        "/api/v1/directory/hsds",
    ]
    ids = {"placement_id": placement.pk, "site_id": site.pk}
    return [(t, t.format(**ids)) for t in templates]


# Where the address may appear, for those allowed to see it: as on the pages.
SHOWS_ADDRESS = {"/api/v1/support/placements/{placement_id}", "/api/v1/support/sites/{site_id}"}


class TestAddresses:
    def test_nobody_without_the_permission_is_ever_sent_the_address(
        self,
        placed: Placement,
        house: Site,
        people_in_every_role: dict[Role, User],
        cora: User,
        omar: User,
        alice: User,
        dmitri: User,
    ) -> None:
        """Every API operation that shows a site, read by every role with every scope: the
        address, postcode and location never come back, except to the site's own staff (the
        safe-house manager of every role's set works at Test Refuge and stands in for Maya;
        tested below)."""
        people = [
            *(p for r, p in people_in_every_role.items() if r != Role.SAFE_HOUSE_MANAGER),
            cora,
            omar,
            alice,
            dmitri,
        ]
        reached = set()
        for person in people:
            client = api(person)
            for template, path in _get_paths(placed, house):
                response = client.get(path)
                assert response.status_code < 500, (person.email, path)
                if response.status_code == 200:
                    reached.add((person.email, template))
                body = response.content.decode()
                assert leaks(body) == [], (person.email, path)
                assert not coordinates(response.json()), (person.email, path)
        # The walk read the site and the placement as people who may open them.
        assert {
            (cora.email, "/api/v1/support/sites/{site_id}"),
            (cora.email, "/api/v1/support/placements/{placement_id}"),
            (cora.email, "/api/v1/support/beds/free"),
            (omar.email, "/api/v1/support/sites"),
            (alice.email, "/api/v1/directory/hsds"),
        } <= reached
        assert not AuditEvent.objects.filter(action="site.address_viewed").exists()

    def test_the_sites_staff_and_a_permitted_coordinator_see_it_each_time_recorded(
        self, placed: Placement, house: Site, maya: User, cora: User, provider: Organisation
    ) -> None:
        admin = factories.user(
            "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
        )
        s.grant_address(cora, house, by=admin)
        for person in (maya, cora):
            client = api(person)
            for template, path in _get_paths(placed, house):
                response = client.get(path)
                # A manager may not read the coordinator's lists: refused at the door.
                assert response.status_code in (200, 403), (person.email, path)
                shown = leaks(response.content)
                if template in SHOWS_ADDRESS:
                    assert shown == ADDRESS_PARTS, (person.email, path)
                else:
                    assert shown == [], (person.email, path)
            seen = AuditEvent.objects.filter(action="site.address_viewed", actor=person)
            assert seen.count() == 2, person.email
            assert {e.object_id for e in seen} == {str(house.pk)}
        site = api(maya).get(f"/api/v1/support/sites/{house.pk}").json()
        assert site["address"] == {
            "lines": s.ADDRESS,
            "postcode": s.POSTCODE,
            "latitude": 53.48,
            "longitude": -2.24,
        }
        # No event ever carries the address itself.
        for event in AuditEvent.objects.all():
            assert leaks(str(event.detail)) == []

    def test_a_revoked_permission_stops_it_at_once(
        self, placed: Placement, house: Site, cora: User, provider: Organisation
    ) -> None:
        admin = factories.user(
            "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
        )
        grant = s.grant_address(cora, house, by=admin)
        client = api(cora)
        assert client.get(f"/api/v1/support/sites/{house.pk}").json()["address"] is not None
        services.address_grant_revoke(by=admin, grant=grant)
        assert AddressGrant.objects.get().revoked_at is not None
        assert client.get(f"/api/v1/support/sites/{house.pk}").json()["address"] is None

    def test_writes_never_send_the_address_back(
        self, house: Site, maya: User, cora: User, provider: Organisation, new_case: Any
    ) -> None:
        """Even to those who may see it: a write's answer names the site, never where it is (and
        so leaves its own audit event and no other)."""
        admin = factories.user(
            "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
        )
        s.grant_address(cora, house, by=admin)
        request = s.request(new_case())
        coordinator, manager = api(cora), api(maya)
        made = a.post_json(
            coordinator,
            f"/api/v1/support/requests/{request.pk}/placement",
            {"bed_id": beds_of(house)[0].pk},
        )
        pk = made.json()["id"]
        today = timezone.localdate().isoformat()
        answers = [
            made,
            a.post_json(manager, f"/api/v1/support/placements/{pk}/response", {"accept": True}),
            a.post_json(manager, f"/api/v1/support/placements/{pk}/arrival", {"arrived_on": today}),
            a.post_json(
                manager,
                f"/api/v1/support/placements/{pk}/exit",
                {"ended_on": today, "reason": "moved_on"},
            ),
            coordinator.post("/api/v1/support/matching"),
        ]
        for response in answers:
            assert response.status_code in (200, 201), response.content
            assert leaks(response.content) == []
        assert not AuditEvent.objects.filter(action="site.address_viewed").exists()

    def test_roles_elsewhere_do_not_bring_the_address_with_the_token(
        self, placed: Placement, house: Site, maya: User, omar: User
    ) -> None:
        """Maya works at North House, but a token of another organisation, where she is a
        coordinator without the permission, is a coordinator's: no address."""
        elsewhere = factories.organisation("Other Coordination", OrganisationKind.SUPPORT_PROVIDER)
        Membership.objects.create(user=maya, organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
        client = api(maya, elsewhere)
        for path in (
            f"/api/v1/support/sites/{house.pk}",
            f"/api/v1/support/placements/{placed.pk}",
        ):
            response = client.get(path)
            assert response.status_code == 200, response.content
            assert leaks(response.content) == [], path
        assert not AuditEvent.objects.filter(action="site.address_viewed").exists()


def test_the_waiting_list_shows_what_answers_each_request(
    cora: User, house: Site, new_case: Any
) -> None:
    """A request proposed or offered a bed shows that placement; one whose offer was declined
    waits again with none."""
    proposed, offered = s.request(new_case()), s.request(new_case(), urgency="routine")
    services.matching_run(by=cora)
    placement = Placement.objects.get(request=offered)
    services.placement_confirm(by=cora, placement=placement)
    client = api(cora)
    rows = {
        row["id"]: row["placement"]
        for row in client.get("/api/v1/support/requests").json()["items"]
    }
    assert rows[proposed.pk]["status"] == "proposed"
    assert rows[offered.pk] == {"id": placement.pk, "status": "reserved"}
