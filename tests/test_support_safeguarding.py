"""Safeguarding in placing people (issue 10, items 1 and 2; parts of 20 and 21).

- A child, or someone whose age is disputed (treated as a child until assessed), is never
  proposed, placed or accepted in a setting for adults: not by matching, not by hand, not
  through the API, not by the provider accepting an offer made before the rule.
- What the first responder wrote under immediate needs is shown beside the request, the
  proposals and the offer (each showing recorded as a read), and a request carrying it is
  neither matched nor placed until a coordinator has turned it into constraints.
- The case's safety profile is shown wherever the coordinator chooses or confirms the bed
  (placing by hand, each proposal), each page naming exactly the fields it shows in its read.
- Constraints matching cannot use are refused as field errors when saved; the day's unmet-need
  list drops a request once it has a place proposed or offered."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accommodation.models import (
    Bed,
    Placement,
    PlacementRequest,
    PlacementStatus,
    UnmetNeed,
)
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.referrals import services as referral_services

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r
from . import support_factories as s

SAFETY = (
    "Women only; must be away from Northmoor: the controller lives there; asthma inhaler needed"
)


@pytest.fixture
def new_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    def make(**fields: Any) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            **fields,
        )

    return make


def api(user: User) -> Any:
    _, secret = a.token(user, user.memberships.get().organisation, scopes=a.EVERY_SCOPE, days=365)
    return a.client_with(secret)


def reads_of(user: User, field: str) -> int:
    return sum(
        field in event.detail.get("fields", [])
        for event in AuditEvent.objects.filter(action="person.viewed", actor=user)
    )


# --- Item 1: children are never placed in a setting for adults -------------------------------


class TestChildrenNeverInAdultBeds:
    @pytest.mark.parametrize("age_group", [AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD])
    def test_matching_never_proposes_an_adult_bed_and_says_why(
        self, cora: User, maya: User, provider: Organisation, new_case: Any, age_group: str
    ) -> None:
        s.beds(maya, s.site(maya, provider), 2)  # a women-only house for adults
        request = s.request(new_case(age_group=age_group))
        outcome = services.matching_run(by=cora)
        assert outcome.proposed == 0
        assert not Placement.objects.exists()
        unmet = UnmetNeed.objects.get(request=request)
        assert unmet.constraint == "age"
        assert "never placed in a setting for adults" in unmet.reason
        page = factories.signed_in_client(cora).get("/support/proposals/").content.decode()
        assert "a child is never placed with adults" in page
        request_page = factories.signed_in_client(cora).get(f"/support/requests/{request.pk}/")
        assert "never placed in a setting for adults" in request_page.content.decode()

    def test_a_setting_for_children_takes_the_child_and_never_an_adult(
        self, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        (adult_bed,) = s.beds(maya, s.site(maya, provider))
        (child_bed,) = s.beds(maya, s.site(maya, provider, ages="children"))
        child = s.request(new_case(age_group=AgeGroup.PRESUMED_CHILD))
        adult = s.request(new_case())
        services.matching_run(by=cora)
        assert Placement.objects.get(request=child).bed == child_bed
        assert Placement.objects.get(request=adult).bed == adult_bed

    def test_placing_by_hand_is_refused_on_the_page_saying_why(
        self, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        request = s.request(new_case(age_group=AgeGroup.CHILD))
        client = factories.signed_in_client(cora)
        listing = client.get(f"/support/requests/{request.pk}/place/").content.decode()
        assert "the bed is in a setting for adults" in listing
        page = client.post(f"/support/requests/{request.pk}/place/", {"bed": bed.pk})
        assert page.status_code == 200
        assert "This bed cannot take this person: the bed is in a setting for adults" in (
            page.content.decode()
        )
        assert not Placement.objects.exists()
        with pytest.raises(ValidationError, match="never placed in a setting for adults"):
            services.placement_make(by=cora, request=request, bed=bed)

    def test_placing_by_hand_through_the_api_is_refused(
        self, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        request = s.request(new_case(age_group=AgeGroup.PRESUMED_CHILD))
        response = a.post_json(
            api(cora),
            f"/api/v1/support/requests/{request.pk}/placement",
            {"bed_id": bed.pk},
        )
        assert response.status_code == 422
        assert "never placed in a setting for adults" in response.content.decode()
        assert not Placement.objects.exists()

    def test_the_provider_cannot_accept_a_child_into_an_adult_bed(
        self, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        """An offer made before the rule (or before the age group was known) is refused when
        the provider accepts it, not merely warned about; declining still works."""
        (bed,) = s.beds(maya, s.site(maya, provider))
        request = s.request(new_case(age_group=AgeGroup.CHILD))
        offer = Placement.objects.create(
            request=request,
            bed=bed,
            status=PlacementStatus.RESERVED,
            proposed_at=timezone.now(),
            reserved_at=timezone.now(),
        )
        client = factories.signed_in_client(maya)
        page = client.post(f"/support/placements/{offer.pk}/respond/", {"answer": "accept"})
        assert "This place cannot be accepted: the bed is in a setting for adults" in (
            page.content.decode()
        )
        offer.refresh_from_db()
        assert offer.status == PlacementStatus.RESERVED
        with pytest.raises(ValidationError, match="setting for adults"):
            services.placement_respond(by=maya, placement=offer, accept=True)
        services.placement_respond(by=maya, placement=offer, accept=False, reason="needs_not_met")
        offer.refresh_from_db()
        assert offer.status == PlacementStatus.DECLINED

    def test_a_site_cannot_become_a_setting_for_adults_under_a_child(
        self, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        site = s.site(maya, provider, ages="children")
        (bed,) = s.beds(maya, site)
        services.placement_make(
            by=cora, request=s.request(new_case(age_group=AgeGroup.CHILD)), bed=bed
        )
        with pytest.raises(ValidationError, match="could no longer be placed here"):
            services.site_update(by=maya, site=site, ages="adults")

    def test_the_capacity_dashboard_never_counts_a_bed_for_children_for_an_adult(
        self, maya: User, provider: Organisation
    ) -> None:
        from opennrm.statistics.capacity import Question, how_many_more

        s.beds(maya, s.site(maya, provider), 2)
        s.beds(maya, s.site(maya, provider, ages="children"), 3)
        today = timezone.localdate()
        assert how_many_more(Question(who="woman", needed_by=today), today).total == 2

    def test_who_a_site_is_for_is_chosen_and_shown(
        self, maya: User, provider: Organisation
    ) -> None:
        client = factories.signed_in_client(maya)
        site = s.site(maya, provider)
        page = client.get(f"/support/sites/{site.pk}/").content.decode()
        assert "Adults (18 and over)" in page
        with pytest.raises(ValidationError, match="adults or for children"):
            services.site_create(
                by=maya,
                provider=provider,
                name="Nowhere",
                kind="safe_house",
                region="north_west",
                area="Testshire",
                setting="mixed",
                address="1 Test Row",
                ages="everyone",
            )


# --- Item 2: what the first responder wrote reaches whoever places the person ----------------


@pytest.fixture
def referred(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> PlacementRequest:
    """A woman referred with a bed tonight and the safety details written under immediate needs."""
    draft = r.draft_through_services(
        alice,
        northmoor_police,
        {**r.ADULT_REFERRAL, "needs": {"needs": ["bed_tonight"], "details": SAFETY}},
    )
    case = referral_services.referral_submit(by=alice, draft=draft).case
    return PlacementRequest.objects.get(case=case)


@pytest.fixture
def houses(maya: User, provider: Organisation) -> dict[str, Bed]:
    """A women-only house in Northmoor, a mixed one elsewhere, a women-only one elsewhere."""
    return {
        "northmoor": s.beds(maya, s.site(maya, provider, name="Moor House", area="Northmoor"))[0],
        "mixed": s.beds(maya, s.site(maya, provider, name="Dale Flats", setting="mixed"))[0],
        "women": s.beds(maya, s.site(maya, provider, name="Harbour View", area="Lowshire"))[0],
    }


def turn_into_constraints(client: Any, request: PlacementRequest, **extra: Any) -> Any:
    return client.post(
        f"/support/requests/{request.pk}/needs/",
        {
            "urgency": "emergency",
            "needed_from_day": str(request.needed_from.day),
            "needed_from_month": str(request.needed_from.month),
            "needed_from_year": str(request.needed_from.year),
            "accepted_settings": ["women_only"],
            "dependants": "0",
            "excluded_area_names": "Northmoor",
            "expected_version": str(request.version),
            **extra,
        },
    )


class TestSafetyDetailsFromTheReferral:
    def test_not_matched_or_placed_until_turned_into_constraints(
        self, cora: User, referred: PlacementRequest, houses: dict[str, Bed]
    ) -> None:
        assert referred.details_to_review
        outcome = services.matching_run(by=cora)
        assert (outcome.proposed, outcome.unplaced, outcome.held_for_review) == (0, 0, 1)
        with pytest.raises(ValidationError, match="Read them and turn them into"):
            services.placement_make(by=cora, request=referred, bed=houses["women"])
        client = factories.signed_in_client(cora)
        waiting = client.get("/support/requests/").content.decode()
        assert "Read the referral first" in waiting
        assert SAFETY not in waiting  # a listing page shows references only
        proposals = client.get("/support/proposals/").content.decode()
        assert "Not matched: read their referral first" in proposals

        # Saved without saying it was read: the constraints change, the request still waits.
        assert turn_into_constraints(client, referred).status_code == 302
        referred.refresh_from_db()
        assert referred.details_to_review
        assert services.matching_run(by=cora).proposed == 0

        assert turn_into_constraints(client, referred, details_reviewed="on").status_code == 302
        referred.refresh_from_db()
        assert not referred.details_to_review
        assert referred.details_reviewed_by == cora
        event = AuditEvent.objects.filter(action="placement_request.updated").order_by("pk").last()
        assert event is not None
        assert event.detail["details_reviewed"] is True

        # Women only, outside Northmoor: the only bed that fits.
        assert services.matching_run(by=cora).proposed == 1
        assert Placement.objects.get(request=referred).bed == houses["women"]

    @pytest.mark.page("support:request")
    def test_shown_beside_the_request_and_the_constraints_form_and_recorded(
        self, cora: User, referred: PlacementRequest
    ) -> None:
        client = factories.signed_in_client(cora)
        for url in (
            f"/support/requests/{referred.pk}/",
            f"/support/requests/{referred.pk}/needs/",
            f"/support/requests/{referred.pk}/place/",
        ):
            before = reads_of(cora, "immediate_needs_details")
            page = client.get(url).content.decode()
            assert "must be away from Northmoor: the controller lives there" in page, url
            assert reads_of(cora, "immediate_needs_details") == before + 1, url
        form = client.get(f"/support/requests/{referred.pk}/needs/").content.decode()
        assert "I have read what the first responder wrote" in form

    @pytest.mark.page("support:proposals")
    def test_shown_beside_each_proposal_and_on_the_offer_to_the_provider(
        self, cora: User, maya: User, referred: PlacementRequest, houses: dict[str, Bed]
    ) -> None:
        turn_into_constraints(factories.signed_in_client(cora), referred, details_reviewed="on")
        services.matching_run(by=cora)
        before = reads_of(cora, "immediate_needs_details")
        page = factories.signed_in_client(cora).get("/support/proposals/").content.decode()
        assert "the controller lives there" in page
        assert reads_of(cora, "immediate_needs_details") == before + 1
        proposal = Placement.objects.get(request=referred)
        services.placement_confirm(by=cora, placement=proposal)
        offer = factories.signed_in_client(maya).get(f"/support/placements/{proposal.pk}/")
        assert "asthma inhaler needed" in offer.content.decode()
        assert reads_of(maya, "immediate_needs_details") == 1

    def test_the_api_says_a_request_waits_for_review_never_what_was_written(
        self, cora: User, referred: PlacementRequest, houses: dict[str, Bed]
    ) -> None:
        client = api(cora)
        listing = client.get("/api/v1/support/requests")
        [item] = listing.json()["items"]
        assert item["details_to_review"] is True
        run = a.post_json(client, "/api/v1/support/matching", {})
        assert (run.json()["held_for_review"], run.json()["proposed"]) == (1, 0)
        for response in (listing, run):
            assert "Northmoor" not in response.content.decode()

    def test_a_request_without_details_is_matched_at_once(
        self,
        cora: User,
        alice: User,
        northmoor_police: Organisation,
        routing: Organisation,
        houses: dict[str, Bed],
    ) -> None:
        draft = r.draft_through_services(
            alice, northmoor_police, {**r.ADULT_REFERRAL, "needs": {"needs": ["bed_tonight"]}}
        )
        case = referral_services.referral_submit(by=alice, draft=draft).case
        assert not PlacementRequest.objects.get(case=case).details_to_review
        assert services.matching_run(by=cora).proposed == 1
        page = factories.signed_in_client(cora).get("/support/proposals/").content.decode()
        assert "Written at referral" not in page


# --- The safety profile beside the bed being chosen --------------------------------------------

MEDICAL = "Insulin-dependent diabetic"
# What each field a read may name looks like on the page.
ON_THE_PAGE = {
    "immediate_needs_details": s.DETAILS,
    "keep_away_places": "Northmoor",
    "safety_risk_reasons": s.RISK,
    "safety_exploiters": s.EXPLOITERS,
    "safety_keep_away": "Northmoor",
    "safety_medical_needs": MEDICAL,
    "safety_dependants": "Their child, 5 years, female",
    "safety_dependant_names": s.CHILD,
}


@pytest.fixture
def at_risk(alice: User, new_case: Any) -> PlacementRequest:
    """A woman at very high risk, with a child, a place to keep away from and medical needs,
    waiting for a place."""
    case = new_case(immediate_needs_details=s.DETAILS)
    s.at_risk_with_a_child(alice, case, keep_away="Northmoor", medical_needs=MEDICAL)
    return s.request(case)


def the_read(user: User, before: int) -> AuditEvent:
    return AuditEvent.objects.filter(pk__gt=before, action="person.viewed", actor=user).get()


def last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


class TestTheSafetyProfileBesideTheBed:
    @pytest.mark.page("support:request_place")
    def test_placing_by_hand_shows_the_profile_it_records_as_shown(
        self, cora: User, maya: User, provider: Organisation, at_risk: PlacementRequest
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider, name="Harbour View"), takes_dependants=1)
        url = f"/support/requests/{at_risk.pk}/place/"
        client = factories.signed_in_client(cora)
        assert factories.signed_in_client(maya).get(url).status_code == 404
        assert client.put(url).status_code == 405

        before = last_event()
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        read = the_read(cora, before)
        # The coordinator choosing the bed sees the whole profile (exploiters too, as on the
        # request's page), and the read names exactly what the page showed.
        assert sorted(read.detail["fields"]) == sorted(ON_THE_PAGE)
        for field in read.detail["fields"]:
            assert ON_THE_PAGE[field] in html, field

        assert client.post(url, {"bed": bed.pk}).status_code == 302
        assert Placement.objects.get(request=at_risk).bed == bed

    @pytest.mark.page("support:proposals")
    def test_each_proposal_shows_its_persons_profile_never_the_exploiters(
        self, cora: User, maya: User, provider: Organisation, at_risk: PlacementRequest
    ) -> None:
        s.beds(maya, s.site(maya, provider, name="Harbour View"), takes_dependants=1)
        assert services.matching_run(by=cora).proposed == 1
        proposal = Placement.objects.get(request=at_risk)
        client = factories.signed_in_client(cora)
        assert factories.signed_in_client(maya).get("/support/proposals/").status_code == 404
        assert client.put("/support/proposals/").status_code == 405

        before = last_event()
        html = client.get("/support/proposals/").content.decode()
        read = the_read(cora, before)
        assert read.object_id == str(proposal.pk)
        # A list: the risk, needs and dependants, never who exploited her nor the child's name.
        assert sorted(read.detail["fields"]) == sorted(
            set(ON_THE_PAGE) - {"keep_away_places", "safety_exploiters", "safety_dependant_names"}
        )
        for field in read.detail["fields"]:
            assert ON_THE_PAGE[field] in html, field
        for hidden in (s.EXPLOITERS, s.CHILD):
            assert hidden not in html


# --- Item 21 (part): constraints matching cannot use are refused when saved ------------------


class TestConstraintsMatchingCannotUse:
    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            (
                {"keep_away": [{"label": "X", "place": "X", "lat": None, "lon": 1.0, "km": 5}]},
                "keep_away_place_1",
                "latitude",
            ),
            (
                {
                    "keep_away": [
                        {"label": "X", "place": "X", "lat": 53, "lon": -2, "km": float("inf")}
                    ]
                },
                "keep_away_km_1",
                "finite number of km",
            ),
            ({"excluded_areas": ["Testshire", "  "]}, "excluded_area_names", "blank"),
        ],
    )
    def test_refused_as_a_field_error(
        self, cora: User, new_case: Any, change: dict[str, Any], field: str, message: str
    ) -> None:
        request = s.request(new_case())
        with pytest.raises(ValidationError) as refused:
            services.placement_request_update(
                by=cora, request=request, expected_version=request.version, **change
            )
        assert message in " ".join(refused.value.message_dict[field])
        request.refresh_from_db()
        assert request.version == 1
        # Matching still runs for everyone else.
        services.matching_run(by=cora)


# --- Item 20 (part): the day's unmet need drops a request once it has a place proposed -------


def test_the_unmet_list_drops_a_request_once_it_has_a_proposal(
    cora: User, maya: User, provider: Organisation, new_case: Any
) -> None:
    request = s.request(new_case())
    services.matching_run(by=cora)
    client = factories.signed_in_client(cora)
    reference = request.case.reference
    assert "No suitable place today" in client.get("/support/proposals/").content.decode()
    s.beds(maya, s.site(maya, provider))
    services.matching_run(by=cora)  # the same day: now a bed is proposed
    assert Placement.objects.get(request=request).status == PlacementStatus.PROPOSED
    page = client.get("/support/proposals/").content.decode()
    assert "No suitable place today" not in page
    assert page.count(reference) >= 1  # the proposal's card
    unmet = api(cora).get("/api/v1/support/proposals").json()["unmet"]
    assert unmet == []
    # The figures keep that it was found unmet earlier today.
    assert UnmetNeed.objects.filter(request=request).exists()
