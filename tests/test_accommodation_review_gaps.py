"""Gaps found in review of accommodation (stop 35): a person's stays cannot overlap, and the sites
page counts as free only the beds `free_beds` lists (ADR 0044, addendum).

And at stop 37 (ADR 0016, 0015 and 0026, addenda): a site is not closed under a placement; a
request's settings are never wider than the person's sex, gender and safety profile allow; a
missing episode is tied to the house the person lives in; and the request a referral raises
reads consent to support and the risk recorded on the same referral."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import selectors, services
from opennrm.accommodation.models import (
    PlacementRequest,
    PlacementStatus,
    Site,
    Urgency,
)
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, Person
from opennrm.operations.models import Operation
from opennrm.safeguarding.models import ChildrenServicesTask
from opennrm.safety import services as safety

from . import case_factories, factories, surge_helpers
from . import referral_helpers as r
from . import support_factories as s

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


# --- Stop 37 ------------------------------------------------------------------------------------


def test_a_site_cannot_be_closed_under_someone_offered_a_place_there(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A safe-house manager closes a house (is_active false) while a woman's place there is
    offered and waiting for an answer. The closure is taken, and the offer stays live: another
    manager then accepts it and records her arrival at a house that no longer exists in any
    free-bed list, capacity figure or HSDS export (all leave closed sites out), so she lives
    in a bed nobody counts and the coordinator is never told the offer died. A closure under a
    live placement must be refused (as a change of setting or ages already is, by
    `_refuse_new_breaks`), or at the least the offer must not be acceptable afterwards."""
    house = s.site(maya, provider)
    (bed,) = s.beds(maya, house)
    offered = services.placement_make(by=cora, request=s.request(case), bed=bed)
    with pytest.raises(ValidationError) as refused:
        services.site_update(by=maya, site=house, is_active=False)
    assert "cancel the offers, or end the stays" in refused.value.message_dict["is_active"][0]
    house.refresh_from_db()
    assert house.is_active
    # Once the offer is cancelled the site closes.
    services.placement_cancel(by=cora, placement=offered)
    assert not services.site_update(by=maya, site=house, is_active=False).is_active


def test_an_offer_at_a_site_closed_before_the_refusal_cannot_be_accepted_nor_arrived_at(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A site closed under a placement before closing was refused (or closed in a race with
    the offer): the offer cannot be accepted, and an accepted one cannot be arrived at."""
    house = s.site(maya, provider)
    (first, second) = s.beds(maya, house, 2)
    offered = services.placement_make(by=cora, request=s.request(case), bed=first)
    Site.objects.filter(pk=house.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="its site is closed"):
        services.placement_respond(by=maya, placement=offered, accept=True)
    services.placement_respond(by=maya, placement=offered, accept=False, reason="other")

    Site.objects.filter(pk=house.pk).update(is_active=True)
    accepted = services.placement_make(by=cora, request=offered.request, bed=second)
    services.placement_respond(by=maya, placement=accepted, accept=True)
    Site.objects.filter(pk=house.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="site is closed"):
        services.placement_arrive(by=maya, placement=accepted, on=timezone.localdate())
    accepted.refresh_from_db()
    assert accepted.status == PlacementStatus.ACCEPTED


def test_a_woman_is_never_offered_a_bed_in_a_men_only_house(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """Zorica (recorded female) needs a place. On the constraints form the coordinator ticks
    "Men only" (the form offers all three settings to everyone, only saying "uncheck a setting
    she must not be placed in"), and `placement_request_update` takes it: it checks only that
    one setting is left. Matching and placing by hand then read the request's settings alone,
    so a woman trafficked for sexual exploitation is offered, and can be placed in, a men-only
    safe house. `settings_for` decides from her sex and gender which settings she may be in; a
    coordinator may narrow that (women only), never widen it to the other sex's houses."""
    request = s.request(case)
    with pytest.raises(ValidationError) as refused:
        services.placement_request_update(
            by=cora,
            request=request,
            expected_version=request.version,
            accepted_settings=["men_only"],
        )
    assert "men only" in refused.value.message_dict["accepted_settings"][0]
    narrowed = services.placement_request_update(
        by=cora, request=request, expected_version=request.version, accepted_settings=["women_only"]
    )
    assert narrowed.accepted_settings == ["women_only"]


def test_a_request_saved_with_the_other_sexs_houses_is_matched_without_them(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A request saved before the refusal, with "Men only" ticked for a woman, is read by
    matching (and by placing by hand) without it: the men-only bed is refused, and with only
    settings she may not be in, she is matched to those she may."""
    (bed,) = s.beds(maya, s.site(maya, provider, setting="men_only"))
    request = s.request(case, accepted_settings=["men_only"])
    today = timezone.localdate()
    assert selectors.matching_request(request, today).accepted_settings == {"women_only", "mixed"}
    with pytest.raises(ValidationError, match="cannot take this person"):
        services.placement_make(by=cora, request=request, bed=bed)


def test_a_person_whose_sex_is_not_known_keeps_the_mixed_houses(cora: User, case: Case) -> None:
    """Someone recorded with neither sex nor gender known may be placed in a mixed house, as
    `settings_for` says; a women-only house their safety profile requires stays theirs too."""
    Person.objects.filter(pk=case.person_id).update(sex="unknown", gender="")
    case = Case.objects.select_related("person").get(pk=case.pk)
    request = s.request(case)
    assert request.accepted_settings == ["mixed"]
    today = timezone.localdate()
    assert selectors.matching_request(request, today).accepted_settings == {"mixed"}
    with pytest.raises(ValidationError):
        services.placement_request_update(
            by=cora,
            request=request,
            expected_version=request.version,
            accepted_settings=["women_only"],
        )

    safety.safety_profile_save(
        by=case.referred_by, case=case, expected_version=None, setting_required="women_only"
    )
    case = Case.objects.select_related("person").get(pk=case.pk)
    assert selectors.settings_allowed(case) == ["mixed", "women_only"]
    updated = services.placement_request_update(
        by=cora,
        request=request,
        expected_version=request.version,
        accepted_settings=["women_only"],
    )
    assert selectors.matching_request(updated, today).accepted_settings == {"women_only"}


def test_a_person_moving_house_is_reported_missing_from_the_house_they_live_in(
    cora: User, maya: User, omar: User, provider: Organisation, case: Case
) -> None:
    """Zorica lives at Test Refuge's house. A coordinator offers her a move to a house of
    Other Shelter (legitimate: ADR 16, "one home at a time"). Before she moves she goes missing
    and Maya, her manager, reports it. `care.selectors.live_placement_of` takes the first of her
    placements holding a bed in the model's order (newest first), so the episode is tied to
    the offer at Other Shelter, a house she has never lived in: Other Shelter's managers are told
    and keep reading where she was last seen while the episode is open, and once Test Refuge
    records her exit ("left without notice") Maya can no longer open the episode to record her
    return. The place she lives in (an occupied stay) must win over an offer."""
    from opennrm.care import services as care

    house_a = s.site(maya, provider)
    (bed_a,) = s.beds(maya, house_a)
    stay = services.placement_make(by=cora, request=s.request(case), bed=bed_a)
    services.placement_respond(by=maya, placement=stay, accept=True)
    services.placement_arrive(by=maya, placement=stay, on=timezone.localdate())

    other = omar.memberships.get().organisation
    house_b = s.site(omar, other)
    (bed_b,) = s.beds(omar, house_b)
    services.placement_make(by=cora, request=s.request(case), bed=bed_b)

    episode = care.missing_report(
        by=maya, case=case, went_missing_on=timezone.localdate(), last_seen="At the bus stop"
    )
    assert episode.placement_id == stay.pk


# The adult consents to being referred (so the competent authority can decide), but says no to
# support: no safe house, no outreach. Her first responder still ticks what she needs now.
REFERRAL_ONLY = {**r.CONSENTS, "consents_to_support": "no"}


def test_an_adult_who_declines_support_is_not_put_on_the_waiting_list_for_a_bed(
    alice: User, routing: Organisation
) -> None:
    """An adult who consents to the referral but refuses support (Convention art. 12(7):
    assistance only on a consensual, informed basis; ADR 0015 refuses her a support plan) is
    still put on the support coordinators' waiting list: the referral's immediate needs raise a
    placement request whatever the consent page said, so her sex, languages, needs, the
    first responder's notes and her safety profile go to support providers she said no to, and a
    bed may be matched and offered to someone who refused it (and counted as unmet need).

    Cause: `referrals.services._record_and_notify` calls
    `accommodation.services.placement_request_for_referral` whenever `needs` is non-empty,
    never reading `consent_to_support`."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {**r.ADULT_REFERRAL, "consent": REFERRAL_ONLY})
    r.submit(client, draft)

    case = Case.objects.get()
    assert case.consent_to_support is False
    assert not PlacementRequest.objects.filter(case=case).exists()
    # Nor does her timeline say one was raised.
    assert not case.events.filter(kind="support.placement_requested").exists()


def test_a_coordinator_cannot_seek_a_place_for_an_adult_who_refused_support(
    cora: User, case: Case
) -> None:
    """Nor through the coordinator's "Ask for a place": refused, saying why. A child, or a
    person whose age is disputed, needs no consent: their need goes to children's services;
    and one never asked (referred as a child, found to be an adult) may still be found a place,
    as children's services no longer house them (ADR 25)."""
    Case.objects.filter(pk=case.pk).update(consent_to_support=False)
    refused_support = Case.objects.get(pk=case.pk)
    with pytest.raises(ValidationError) as refused:
        services.placement_request_raise(
            by=cora, case=refused_support, urgency="routine", needed_from=s.day(3)
        )
    assert "did not consent to support" in refused.value.message_dict["case"][0]
    assert not PlacementRequest.objects.exists()

    Case.objects.filter(pk=case.pk).update(age_group=AgeGroup.PRESUMED_CHILD)
    child = Case.objects.get(pk=case.pk)
    made = services.placement_request_raise(
        by=cora, case=child, urgency="routine", needed_from=s.day(3)
    )
    assert isinstance(made, ChildrenServicesTask)

    Case.objects.filter(pk=case.pk).update(age_group=AgeGroup.ADULT, consent_to_support=None)
    never_asked = Case.objects.get(pk=case.pk)
    made = services.placement_request_raise(
        by=cora, case=never_asked, urgency="routine", needed_from=s.day(3)
    )
    assert isinstance(made, PlacementRequest)


def test_a_very_high_risk_recorded_at_referral_makes_the_bed_request_an_emergency(
    alice: User, routing: Organisation
) -> None:
    """3am, a police officer refers a woman whose controller is waiting outside the station:
    on the "Risk and safety" page she records a very high risk and why, and ticks that the
    woman needs medical attention. The placement request the referral raises is "Urgent:
    within 3 days", needed from three days later, because urgency is read from the immediate
    needs' two tick boxes only; the very high risk the same referral recorded never reaches the
    coordinators' ordering of the waiting list, so she waits behind people at no risk.

    Cause: `accommodation.services.placement_request_for_referral` sets the urgency from
    `ImmediateNeed.BED_TONIGHT`/`SAFETY_RISK` alone, ignoring the case's safety profile written
    just before it (`safety.services.safety_record_at_referral`)."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    pages = {
        **r.ADULT_REFERRAL,
        "needs": {"needs": ["medical"], "details": ""},
        "safety": {
            "risk_level": "very_high",
            "risk_reasons": "Her controller followed her to the station and is waiting outside",
            "setting_required": "women_only",
            "keep_away": "Northmoor",
            "exploiters": "",
            "medical_needs": "",
        },
    }
    r.complete(client, draft, pages)
    r.submit(client, draft)

    case = Case.objects.get()
    assert case.safety_profile.risk_level == "very_high"
    request = PlacementRequest.objects.get(case=case)
    assert request.urgency == Urgency.EMERGENCY
    assert request.needed_from == timezone.localdate(case.submitted_at)


@pytest.mark.parametrize(("risk", "urgency"), [("high", "emergency"), ("standard", "urgent")])
def test_a_high_risk_is_an_emergency_and_a_standard_one_is_not(
    alice: User, northmoor_police: Organisation, authority: Organisation, risk: str, urgency: str
) -> None:
    """High counts as very high does; a standard risk leaves the needs to decide."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    safety.safety_profile_save(
        by=alice, case=case, expected_version=None, risk_level=risk, risk_reasons="Followed her"
    )
    case = Case.objects.get(pk=case.pk)
    made = services.placement_request_for_referral(
        case=case, needs=["medical"], at=case.submitted_at
    )
    assert isinstance(made, PlacementRequest)
    assert made.urgency == urgency
