"""Gaps found in review of support and accommodation after referral (caseworker, safe-house
manager, penetration tester), each kept as a test of its fix: a site's change refused only for
a rule it newly breaks; no place needed from before the referral; "move-on support ended" only
once it has; a place to keep away from however its hyphens were typed; one home at a time.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import selectors, services
from opennrm.accommodation.models import (
    Placement,
    PlacementRequest,
    PlacementStatus,
)
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.safeguarding import services as safeguarding
from opennrm.safety import services as safety

from . import factories
from . import support_factories as s


def _occupy(coordinator: User, manager: User, request: PlacementRequest, bed) -> Placement:
    """Offer the bed by hand, the provider accepts, the person arrives today."""
    offered = services.placement_make(by=coordinator, request=request, bed=bed)
    services.placement_respond(by=manager, placement=offered, accept=True)
    return services.placement_arrive(by=manager, placement=offered, on=timezone.localdate())


# --- 1. A site can be changed while someone living there already breaks a rule ----------------


@pytest.mark.parametrize("why", ["age_disputed", "keep_away_learnt_later"])
def test_a_site_can_be_renamed_while_someone_living_there_already_breaks_a_rule(
    why: str,
    case: Case,
    alice: User,
    dmitri: User,
    cora: User,
    maya: User,
    provider: Organisation,
    council: Organisation,
) -> None:
    """`accommodation.services.site_update` re-checks every placement holding a bed at the site
    against matching's rules as the site would be. A person already living there may break a
    rule for reasons the change has nothing to do with: an adult whose age is disputed
    afterwards stays in the adult house until children's services move them (ADR 0025), and a
    place to keep away from learnt after they moved in is kept and the house told (ADR 0026).
    Refusing any change then left the manager unable to change anything of the site: only a
    rule the change itself breaks for someone is refused."""
    site = s.site(maya, provider, setting="mixed", area="Testshire")
    (bed,) = s.beds(maya, site)
    _occupy(cora, maya, s.request(case), bed)
    if why == "age_disputed":
        safeguarding.age_dispute_raise(
            by=dmitri,
            case=case,
            basis="says_so",
            expected_version=Case.objects.get(pk=case.pk).version,
        )
    else:
        # Kept, not refused: the fact must be recorded, and the house is told.
        safety.safety_profile_save(
            by=alice,
            case=case,
            expected_version=None,
            risk_level="high",
            risk_reasons="Seen near the house by someone who exploited her",
            exploiters="",
            keep_away=["Testshire"],
            medical_needs="",
            setting_required="",
        )
    assert Placement.objects.filter(bed=bed, status=PlacementStatus.OCCUPIED).exists()

    # A new code name changes nothing matching reads.
    services.site_update(by=maya, site=site, name="Renamed House")
    site.refresh_from_db()
    assert site.name == "Renamed House"
    # A change that breaks another rule for her is still refused.
    with pytest.raises(ValidationError, match="could no longer be placed here"):
        services.site_update(by=maya, site=site, setting="men_only")
    site.refresh_from_db()
    assert site.setting == "mixed"


# --- 2. A place needed from before the person was even referred -------------------------------


def test_a_request_cannot_be_raised_for_a_place_needed_before_the_person_was_referred(
    case: Case, cora: User
) -> None:
    """`support:request_new` (RaiseRequestForm, `placement_request_raise`) accepted any real
    date as "needed from": 1 January 1901, for a person referred today, made a request."""
    client = factories.signed_in_client(cora)
    response = client.post(
        "/support/requests/new/",
        {
            "reference": case.reference,
            "urgency": "urgent",
            "needed_from_day": "1",
            "needed_from_month": "1",
            "needed_from_year": "1901",
        },
    )
    assert not PlacementRequest.objects.filter(case=case, needed_from=date(1901, 1, 1)).exists()
    assert response.status_code == 200
    assert "needed from" in response.content.decode().lower()
    assert "cannot be before the referral" in response.content.decode()
    # The service refuses it too, naming the field.
    with pytest.raises(ValidationError) as refused:
        services.placement_request_raise(
            by=cora, case=case, urgency="urgent", needed_from=date(1901, 1, 1)
        )
    assert "needed_from" in refused.value.message_dict


def test_a_request_cannot_be_changed_to_a_place_needed_before_the_person_was_referred(
    case: Case, cora: User
) -> None:
    """`support:request_edit` (RequestConstraintsForm, `placement_request_update`) saved a
    "needed from" date decades before the referral, as well."""
    request = s.request(case)
    client = factories.signed_in_client(cora)
    response = client.post(
        f"/support/requests/{request.pk}/needs/",
        {
            "urgency": "urgent",
            "needed_from_day": "1",
            "needed_from_month": "1",
            "needed_from_year": "1901",
            "accepted_settings": ["women_only", "mixed"],
            "dependants": "0",
            "expected_version": str(request.version),
        },
    )
    request.refresh_from_db()
    assert request.needed_from != date(1901, 1, 1)
    assert response.status_code == 200
    assert "cannot be before the referral" in response.content.decode()


# --- 3. "Move-on support ended" recorded while it has not ended ---------------------------------


@pytest.mark.parametrize("move_on_ends_in", [40, None])
def test_an_exit_because_move_on_support_ended_is_refused_before_it_has_ended(
    move_on_ends_in: int | None,
    case: Case,
    cora: User,
    maya: User,
    provider: Organisation,
) -> None:
    """`accommodation.services.placement_end` took any exit reason on any day: a stay ended
    today "because move-on support ended" was recorded for a person whose move-on support runs
    40 more days, or who has no conclusive grounds decision (so no move-on period) at all. The
    record then said the person's entitlement ran out when it had not (ADR 0015: the exit
    follows the move-on end), which is what the exit figures and the referrer are told."""
    (bed,) = s.beds(maya, s.site(maya, provider, setting="mixed"))
    placement = _occupy(cora, maya, s.request(case), bed)
    ends = None if move_on_ends_in is None else timezone.localdate() + timedelta(move_on_ends_in)
    Case.objects.filter(pk=case.pk).update(move_on_ends=ends)
    said = f"runs until {ends:%-d %B %Y}" if ends else "no move-on support period"
    with pytest.raises(ValidationError, match=said):
        services.placement_end(
            by=maya, placement=placement, on=timezone.localdate(), reason="move_on_ended"
        )
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.OCCUPIED
    # Another reason is recorded as ever.
    services.placement_end(by=maya, placement=placement, on=timezone.localdate(), reason="moved_on")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ENDED


# --- 4. A place to keep away from, spelt with or without hyphens ---------------------------------


@pytest.mark.parametrize(
    ("recorded", "site_area"),
    [
        ("Stoke on Trent", "Stoke-on-Trent"),
        ("Stoke-on-Trent", "Stoke on Trent"),
        ("stoke \u2013 on \u2013 trent", "Stoke-on-Trent"),
        ("St. Helens", "St Helens"),
        ("King\u2019s Lynn", "Kings Lynn"),
        ("Brighton & Hove", "Brighton and Hove"),
    ],
)
def test_a_place_to_keep_away_from_binds_however_its_hyphens_were_typed(
    recorded: str,
    site_area: str,
    case: Case,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
) -> None:
    """The first responder records the places a person must keep away from as free text
    ("One town or local authority area on each line ... They will never be offered a bed
    there"); a safe-house manager types the site's area. `selectors.area_key` made case and
    spaces not matter ("whoever typed it"), and `excluded_key` let a region's hyphens not
    matter, but a local authority area's hyphens did: a woman who must keep away from
    "Stoke on Trent" was offered a bed at a site in "Stoke-on-Trent", by hand and by matching,
    and the coordinator was shown it as a bed she may take."""
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="Her exploiters live there",
        exploiters="",
        keep_away=[recorded],
        medical_needs="",
        setting_required="",
    )
    site = s.site(
        maya,
        provider,
        setting="mixed",
        region="west_midlands",
        area=site_area,
        location=[53.0, -2.18],
    )
    (bed,) = s.beds(maya, site)
    request = s.request(case)
    reasons = {
        row_bed.pk: why for row_bed, why in selectors.free_beds_for(request, timezone.localdate())
    }
    assert reasons[bed.pk], "the bed in the place she must keep away from is listed as allowed"
    with pytest.raises(ValidationError):
        services.placement_make(by=cora, request=request, bed=bed)
    assert not Placement.objects.filter(request=request).exists()


# --- 5. Arriving at a second house while still living in the first ------------------------------


def test_a_person_never_lives_in_two_places_at_once(
    case: Case, cora: User, maya: User, provider: Organisation
) -> None:
    """A coordinator may raise a new request for someone already living in a place (a move),
    offer them another bed, and the provider accept it; but their arrival there, while the
    first stay was still open, recorded them as living in two beds at once, both counted
    occupied, and `care.selectors.live_placement_of` (which a missing report, the support plan
    and the reconsideration asker read, assuming one) picked either. The arrival is refused
    until the first stay has ended."""
    first_bed, second_bed = s.beds(maya, s.site(maya, provider, setting="mixed"), 2)
    first = _occupy(cora, maya, s.request(case), first_bed)
    second = services.placement_request_raise(
        by=cora, case=case, urgency="urgent", needed_from=timezone.localdate()
    )
    offered = services.placement_make(by=cora, request=second, bed=second_bed)
    services.placement_respond(by=maya, placement=offered, accept=True)
    with pytest.raises(ValidationError, match="must be ended first"):
        services.placement_arrive(by=maya, placement=offered, on=timezone.localdate())
    living = Placement.objects.filter(request__case=case, status=PlacementStatus.OCCUPIED)
    assert living.count() == 1
    # The move: the first stay ends, then the arrival at the second is recorded.
    services.placement_end(by=maya, placement=first, on=timezone.localdate(), reason="transferred")
    services.placement_arrive(by=maya, placement=offered, on=timezone.localdate())
    assert list(living.values_list("pk", flat=True)) == [offered.pk]
