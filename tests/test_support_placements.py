"""Placing people in beds (issue 6): a referral's need for a bed tonight reaches the
coordinator's waiting list; matching proposes a bed; the coordinator confirms; the provider
accepts; the person arrives and later leaves. Beds are never typed free or taken: their state
follows their placements, and no bed is ever held twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from opennrm.accommodation import selectors, services
from opennrm.accommodation.models import (
    Bed,
    BedEvent,
    BedState,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    UnmetNeed,
)
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, CaseEvent
from opennrm.notifications.models import Notification
from opennrm.referrals import services as referral_services

from . import case_factories, factories
from . import referral_helpers as r
from . import support_factories as s


def state(bed: Bed) -> BedState:
    return selectors.state_of(selectors.with_state(Bed.objects.filter(pk=bed.pk)).get())


class TestRequests:
    @pytest.mark.page("support:requests")
    def test_a_referral_needing_a_bed_tonight_joins_the_waiting_list(
        self, alice: User, cora: User, northmoor_police: Organisation, routing: Organisation
    ) -> None:
        draft = r.draft_through_services(
            alice, northmoor_police, {**r.ADULT_REFERRAL, "needs": {"needs": ["bed_tonight"]}}
        )
        case = referral_services.referral_submit(by=alice, draft=draft).case
        request = PlacementRequest.objects.get(case=case)
        assert (request.urgency, request.needed_from) == ("emergency", timezone.localdate())
        # The person's sex and languages become the request's hard constraints.
        assert request.accepted_settings == services.settings_for(
            case.person.sex, case.person.gender
        )
        assert request.languages == case.person.languages
        page = factories.signed_in_client(cora).get("/support/requests/").content.decode()
        assert case.reference in page
        assert "Emergency" in page

    @pytest.mark.parametrize(
        ("sex", "gender", "settings"),
        [
            ("female", "", ["women_only", "mixed"]),
            ("male", "", ["men_only", "mixed"]),
            ("male", "TransgenderFeminine", ["women_only", "mixed"]),
            ("female", "NonConforming", ["mixed"]),
            ("unknown", "", ["mixed"]),
        ],
    )
    def test_the_settings_a_person_can_be_placed_in(
        self, sex: str, gender: str, settings: list[str]
    ) -> None:
        assert services.settings_for(sex, gender) == settings

    @pytest.mark.page("support:request_edit")
    def test_the_coordinator_sets_needs_safety_and_preferences(
        self, cora: User, case: Case
    ) -> None:
        request = s.request(case)
        client = factories.signed_in_client(cora)
        form = {
            "urgency": "urgent",
            "needed_from_day": "1",
            "needed_from_month": "1",
            "needed_from_year": "2030",
            "accepted_settings": ["women_only"],
            "dependants": "2",
            "keep_away_place_1": "Leeds",
            "keep_away_km_1": "80",
            "excluded_regions": ["london"],
            "excluded_area_names": "Testshire\n",
            "preferred_regions": ["north_west"],
            "expected_version": "1",
        }
        response = client.post(f"/support/requests/{request.pk}/needs/", form)
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.accepted_settings == ["women_only"]
        assert request.dependants == 2
        assert request.keep_away == [
            {"label": "Leeds", "place": "Leeds", "lat": 53.8, "lon": -1.55, "km": 80}
        ]
        assert request.excluded_areas == ["Testshire", "london"]
        assert request.version == 2
        # The audit event names what changed, never the places.
        event = AuditEvent.objects.get(action="placement_request.updated")
        assert "Leeds" not in str(event.detail)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"accepted_settings": []}, "Select at least one"),
            ({"keep_away_km_1": ""}, "Enter how far from Leeds to keep away"),
            ({"keep_away_place_1": ""}, "Select the place to keep away from"),
            ({"keep_away_km_1": "0"}, "The distance must be at least 1 km"),
            ({"dependants": "lots"}, "Enter the number of children as a whole number"),
            ({"needed_from_year": "20"}, "enter the year as 4 digits"),
            ({"expected_version": "0"}, "Someone else changed this request"),
        ],
    )
    def test_a_problem_is_named_and_nothing_typed_is_lost(
        self, cora: User, case: Case, change: dict[str, object], message: str
    ) -> None:
        request = s.request(case)
        form = {
            "urgency": "urgent",
            "needed_from_day": "1",
            "needed_from_month": "1",
            "needed_from_year": "2030",
            "accepted_settings": ["women_only"],
            "dependants": "1",
            "keep_away_place_1": "Leeds",
            "keep_away_km_1": "80",
            "expected_version": "1",
        } | change
        response = factories.signed_in_client(cora).post(
            f"/support/requests/{request.pk}/needs/", form
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        if change.get("keep_away_km_1") != "":
            assert 'value="Leeds" selected' in page or "Leeds</option>" in page
        request.refresh_from_db()
        assert request.version == 1
        assert request.keep_away == []


class TestMatchingAndPlacing:
    def test_the_whole_placement(
        self, alice: User, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        request = s.request(case)
        site = s.site(maya, provider)
        s.beds(maya, site, 2)

        outcome = services.matching_run(by=cora)
        assert (outcome.proposed, outcome.unplaced) == (1, 0)
        proposal = Placement.objects.get(status=PlacementStatus.PROPOSED)
        assert proposal.request == request
        assert proposal.why.startswith("Meets every requirement")
        assert state(proposal.bed) == BedState.AVAILABLE, "a proposal holds nothing"

        services.placement_confirm(by=cora, placement=proposal)
        proposal.refresh_from_db()
        assert proposal.status == PlacementStatus.RESERVED
        assert state(proposal.bed) == BedState.RESERVED
        assert selectors.free_beds().count() == 1
        assert Notification.objects.filter(recipient=maya, kind="placement.offered").exists()
        told = Notification.objects.get(recipient=alice, kind="placement.offered")
        assert "Test Refuge in North West" in told.body
        assert site.name not in told.subject + told.body, "the referrer never learns the site"

        services.placement_respond(by=maya, placement=proposal, accept=True)
        services.placement_arrive(by=maya, placement=proposal, on=timezone.localdate())
        proposal.refresh_from_db()
        request.refresh_from_db()
        assert proposal.status == PlacementStatus.OCCUPIED
        assert request.status == PlacementRequestStatus.PLACED
        assert state(proposal.bed) == BedState.OCCUPIED

        services.placement_end(
            by=maya, placement=proposal, on=timezone.localdate(), reason="moved_on"
        )
        assert state(proposal.bed) == BedState.AVAILABLE
        history = list(BedEvent.objects.filter(bed=proposal.bed).values_list("state", flat=True))
        assert history == ["available", "reserved", "occupied", "available"]
        kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
        assert {"support.place_offered", "support.place_accepted", "support.arrived"} <= kinds
        assert {"support.left"} <= kinds

    def test_a_declined_place_frees_the_bed_and_the_person_waits_again(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        request = s.request(case)
        (bed,) = s.beds(maya, s.site(maya, provider))
        placement = services.placement_make(by=cora, request=request, bed=bed)
        with pytest.raises(ValidationError, match="Select why"):
            services.placement_respond(by=maya, placement=placement, accept=False)
        services.placement_respond(
            by=maya, placement=placement, accept=False, reason="bed_not_ready"
        )
        assert state(bed) == BedState.AVAILABLE
        request.refresh_from_db()
        assert request.status == PlacementRequestStatus.OPEN
        assert Notification.objects.filter(recipient=cora, kind="placement.declined").exists()

    def test_nobody_else_answers_for_the_provider(
        self, cora: User, maya: User, omar: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        placement = services.placement_make(by=cora, request=s.request(case), bed=bed)
        for outsider in (omar, cora):
            with pytest.raises(ValidationError, match="provider's own staff"):
                services.placement_respond(by=outsider, placement=placement, accept=True)
        page = factories.signed_in_client(omar).get(f"/support/placements/{placement.pk}/")
        assert page.status_code == 404

    def test_matching_records_why_a_person_could_not_be_placed(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        request = s.request(case, dependants=2)
        s.beds(maya, s.site(maya, provider), 2)
        outcome = services.matching_run(by=cora)
        assert (outcome.proposed, outcome.unplaced) == (0, 1)
        need = UnmetNeed.objects.get()
        assert (need.request, need.constraint, need.area) == (request, "dependants", "Testshire")
        assert need.region == "north_west", "the region of the sites in the same area"
        assert "2 children" in need.reason
        client = factories.signed_in_client(cora)
        page = client.get("/support/proposals/").content.decode()
        assert "No suitable place today" in page
        assert case.reference in page
        # The list names the kind of reason; the words (which can name a place the person
        # must keep away from) are on the request's page, whose showing is recorded.
        assert "Room for their children" in page
        assert "2 children" not in page
        page = client.get(f"/support/requests/{request.pk}/").content.decode()
        assert "2 children" in page
        read = AuditEvent.objects.get(action="person.viewed", actor=cora)
        assert (read.person_id, read.detail["fields"]) == (
            case.person_id,
            ["unmet_need_reasons"],
        )

    def test_places_to_keep_away_from_are_shown_only_with_a_read_recorded(
        self, cora: User, case: Case
    ) -> None:
        request = s.request(case)
        client = factories.signed_in_client(cora)
        client.get(f"/support/requests/{request.pk}/")
        assert not AuditEvent.objects.filter(action="person.viewed").exists()
        # Saved through the instance: an encrypted value is bound to its row.
        stored = PlacementRequest.objects.get(pk=request.pk)
        stored.keep_away = [
            {"label": "Leeds", "place": "Leeds", "lat": 53.8, "lon": -1.55, "km": 50}
        ]
        stored.save(update_fields=["keep_away"])
        for path in (f"/support/requests/{request.pk}/", f"/support/requests/{request.pk}/needs/"):
            assert "Leeds" in client.get(path).content.decode()
        reads = AuditEvent.objects.filter(action="person.viewed", actor=cora)
        assert [event.detail["fields"] for event in reads] == [["keep_away_places"]] * 2

    @pytest.mark.page("support:request_place")
    def test_placing_by_hand_goes_through_the_same_checks(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        request = s.request(case)
        men_only = s.beds(maya, s.site(maya, provider, setting="men_only"))[0]
        with pytest.raises(ValidationError, match="men-only setting"):
            services.placement_make(by=cora, request=request, bed=men_only)
        client = factories.signed_in_client(cora)
        page = client.get(f"/support/requests/{request.pk}/place/").content.decode()
        assert "No: the bed is in a men-only setting" in page
        response = client.post(f"/support/requests/{request.pk}/place/", {"bed": men_only.pk})
        assert "men-only setting" in response.content.decode()
        assert not Placement.objects.exists()

    def test_a_bed_taken_or_out_of_service_since_the_list_was_shown_is_no_longer_free(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        first, second = s.beds(maya, s.site(maya, provider), count=2)
        services.bed_set_in_service(by=maya, bed=first, in_service=False, reason="A leak")
        other = case_factories.case(
            referred_by=case.referred_by,
            referring_organisation=case.referring_organisation,
            authority=case.competent_authority,
        )
        services.placement_make(by=cora, request=s.request(other), bed=second)
        client = factories.signed_in_client(cora)
        request = s.request(case)
        for bed in (first, second):
            response = client.post(f"/support/requests/{request.pk}/place/", {"bed": bed.pk})
            assert "This bed is no longer free. Choose another bed from the list" in (
                response.content.decode()
            )
        assert not Placement.objects.filter(request=request).exists()

    def test_a_bed_out_of_service_is_not_free(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        with pytest.raises(ValidationError, match="Enter why"):
            services.bed_set_in_service(by=maya, bed=bed, in_service=False)
        services.bed_set_in_service(by=maya, bed=bed, in_service=False, reason="Damp")
        assert state(bed) == BedState.OUT_OF_SERVICE
        assert not selectors.free_beds().exists()
        assert services.matching_run(by=cora).proposed == 0
        services.bed_set_in_service(by=maya, bed=bed, in_service=True)
        assert state(bed) == BedState.AVAILABLE

    def test_a_held_bed_cannot_be_taken_out_of_service(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        services.placement_make(by=cora, request=s.request(case), bed=bed)
        with pytest.raises(ValidationError, match="end or cancel that placement first"):
            services.bed_set_in_service(by=maya, bed=bed, in_service=False, reason="Damp")


class TestNoDoubleBooking:
    def test_two_confirmations_of_one_bed_the_second_is_refused(
        self,
        cora: User,
        maya: User,
        provider: Organisation,
        alice: User,
        northmoor_police: Organisation,
        authority: Organisation,
        case: Case,
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        other = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        first = services.placement_make(by=cora, request=s.request(case), bed=bed)
        second_request = s.request(other)
        stale = Placement.objects.create(
            request=second_request,
            bed=bed,
            status=PlacementStatus.PROPOSED,
            proposed_at=timezone.now(),
        )
        with pytest.raises(ValidationError, match="taken a moment ago"):
            services.placement_confirm(by=cora, placement=stale)
        assert list(Placement.objects.filter(bed=bed, status="reserved")) == [first]

    def test_the_database_refuses_a_second_holder_whatever_the_code_does(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        services.placement_make(by=cora, request=s.request(case), bed=bed)
        with pytest.raises(IntegrityError), transaction.atomic():
            Placement.objects.create(
                request=s.request(case),
                bed=bed,
                status=PlacementStatus.OCCUPIED,
                proposed_at=timezone.now(),
            )


@pytest.mark.django_db(transaction=True)
def test_many_coordinators_at_the_last_free_bed_exactly_one_wins(
    cora: User,
    maya: User,
    provider: Organisation,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Eight placements of eight people at once, into the one free bed: on PostgreSQL each in
    its own connection and transaction, racing for the row lock; on SQLite one after another
    (it lets one writer in at a time). Either way exactly one is placed and seven are told."""
    (bed,) = s.beds(maya, s.site(maya, provider))
    requests = [
        s.request(
            case_factories.case(
                referred_by=alice, referring_organisation=northmoor_police, authority=authority
            )
        )
        for _ in range(8)
    ]
    start = threading.Barrier(len(requests)) if connection.vendor == "postgresql" else None
    won: list[int] = []
    refused: list[str] = []

    def place(request: PlacementRequest) -> None:
        try:
            if start is not None:
                start.wait(timeout=30)
            placement = services.placement_make(by=cora, request=request, bed=bed)
            won.append(placement.pk)
        except ValidationError as error:
            refused.append(" ".join(error.messages))
        finally:
            connection.close()

    if start is None:
        for request in requests:
            place(request)
    else:
        threads = [threading.Thread(target=place, args=(request,)) for request in requests]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(won) == 1
    assert len(refused) == 7
    assert all("taken a moment ago" in text for text in refused)
    assert Placement.objects.filter(bed=bed, status=PlacementStatus.RESERVED).count() == 1


class TestTheCaseAndTheReferrer:
    def test_the_referrer_sees_where_things_stand_without_the_address(
        self, alice: User, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        site = s.site(maya, provider)
        (bed,) = s.beds(maya, site)
        placement = services.placement_make(by=cora, request=s.request(case), bed=bed)
        services.placement_respond(by=maya, placement=placement, accept=True)
        page = factories.signed_in_client(alice).get(f"/cases/{case.reference}/").content.decode()
        assert "accepted: waiting for the person to arrive, with Test Refuge in North West" in page
        assert s.ADDRESS not in page
        assert s.POSTCODE not in page
        assert site.name not in page

    def test_requests_days_waiting_and_urgency_order(
        self,
        cora: User,
        alice: User,
        northmoor_police: Organisation,
        authority: Organisation,
    ) -> None:
        def waiting(urgency: str, days: int) -> PlacementRequest:
            made = s.request(
                case_factories.case(
                    referred_by=alice,
                    referring_organisation=northmoor_police,
                    authority=authority,
                ),
                urgency=urgency,
            )
            PlacementRequest.objects.filter(pk=made.pk).update(
                created_at=timezone.now() - timedelta(days=days)
            )
            return made

        routine = waiting("routine", 9)
        emergency = waiting("emergency", 1)
        urgent = waiting("urgent", 3)
        order = [item.pk for item in selectors.requests_waiting(Actor.of_session(cora))]
        assert order == [emergency.pk, urgent.pk, routine.pk]


class TestSafetyHolds:
    def test_an_area_to_avoid_matches_however_it_was_typed(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider, area="Testshire"))
        request = s.request(case, excluded_areas=["  testSHIRE "])
        with pytest.raises(ValidationError, match="breaks a safety condition"):
            services.placement_make(by=cora, request=request, bed=bed)
        assert services.matching_run(by=cora).proposed == 0

    def test_a_refusal_never_names_the_area_to_avoid(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider, area="Gallowshire", setting="men_only"))
        request = s.request(case, excluded_areas=["Gallowshire"])
        with pytest.raises(ValidationError) as refused:
            services.placement_make(by=cora, request=request, bed=bed)
        message = " ".join(refused.value.messages)
        assert "men-only setting" in message
        assert "breaks a safety condition" in message
        assert "Gallowshire" not in message

    def test_a_safety_condition_cannot_be_added_under_a_bed_that_breaks_it(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider, area="Testshire"))
        request = s.request(case)
        services.placement_make(by=cora, request=request, bed=bed)
        request.refresh_from_db()
        with pytest.raises(ValidationError, match="Cancel the offer first"):
            services.placement_request_update(
                by=cora,
                request=request,
                expected_version=request.version,
                excluded_areas=["Testshire"],
            )
        request.refresh_from_db()
        assert request.excluded_areas == []

    def test_a_site_cannot_change_under_the_people_placed_there(
        self, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        site = s.site(maya, provider)
        (bed,) = s.beds(maya, site)
        services.placement_make(by=cora, request=s.request(case), bed=bed)
        with pytest.raises(ValidationError, match="could no longer be placed here"):
            services.site_update(by=maya, site=site, setting="men_only")
        site.refresh_from_db()
        assert site.setting == "women_only"

    def test_cancelling_an_offer_tells_the_provider_and_the_referrer(
        self, alice: User, cora: User, maya: User, provider: Organisation, case: Case
    ) -> None:
        (bed,) = s.beds(maya, s.site(maya, provider))
        placement = services.placement_make(by=cora, request=s.request(case), bed=bed)
        services.placement_respond(by=maya, placement=placement, accept=True)
        services.placement_cancel(by=cora, placement=placement)
        assert Notification.objects.filter(recipient=maya, kind="placement.cancelled").exists()
        told = Notification.objects.get(recipient=alice, kind="placement.cancelled")
        assert "Test Refuge in North West" in told.body
        assert s.ADDRESS not in told.subject + told.body
        assert state(bed) == BedState.AVAILABLE


def test_an_area_no_site_is_in_is_kept_with_a_warning_to_check_the_spelling(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    s.site(maya, provider, area="Testshire")
    request = s.request(case)
    form = {
        "urgency": "urgent",
        "needed_from_day": "1",
        "needed_from_month": "1",
        "needed_from_year": "2030",
        "accepted_settings": ["women_only"],
        "dependants": "0",
        "excluded_area_names": "Testshire\nTestshyre",
        "expected_version": "1",
    }
    client = factories.signed_in_client(cora)
    page = client.post(f"/support/requests/{request.pk}/needs/", form, follow=True)
    text = page.content.decode()
    assert "No site is recorded in Testshyre yet: check the spelling" in text
    assert "No site is recorded in Testshire" not in text
    request.refresh_from_db()
    assert request.excluded_areas == ["Testshire", "Testshyre"]
