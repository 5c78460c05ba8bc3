"""Gaps in accommodation found in review (stop 40, reviewer: safe houses).

- A matching proposal is the coordinator's to weigh (ADR 16): the provider is asked only once
  the coordinator confirms it. Its safe-house managers must not read a proposal made for their
  beds, nor one turned down, on the placement page or through the API
  (`selectors.placements_visible_to`); what they were offered they still read.
- A dependant comes with the person: "placed together or not at all" (ADR 26). An adult who
  comes (a partner, a grown-up son) is no child sharing a parent's room: a single-sex house
  is refused when they are not of its sex, by matching, by placing by hand and by the
  provider's acceptance alike (`matching.Companion`, `matching.settings_open_to`), and only
  children count against a room's `takes_dependants`. Matching stays exactly optimal with
  them (the property tests below, over `tests/test_matching.py`'s random instances).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from unittest.mock import patch

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from opennrm.accommodation import matching, services
from opennrm.accommodation.matching import Companion, Request, Setting, check, match
from opennrm.accommodation.models import Placement, PlacementStatus, UnmetNeed
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.safety import services as safety
from opennrm.safety.models import Dependant, SafetyProfile

from . import api_helpers as api
from . import case_factories, factories
from . import support_factories as s
from .test_matching import (
    PROPERTY,
    TODAY,
    WOMEN,
    assert_valid,
    beds_strategy,
    best_by_brute_force,
    codes,
    most_placed,
    requests_strategy,
    score,
)
from .test_matching import bed as a_bed
from .test_matching import request as a_request

WRITTEN = "Keep her away from Northmoor: her controller lives above the car wash there"
PARTNER = Companion(sex="male", adult=True)
MAN_COMES = (
    "the bed is in a women-only setting; an adult man comes with the person and would live "
    "there too"
)


# --- Proposals are not the provider's ---------------------------------------------------------


def _proposal_turned_down(
    alice: User, cora: User, maya: User, provider: Organisation, authority: Organisation
) -> Placement:
    """Matching proposes a bed of Maya's provider for a woman whose referral says where her
    controller lives; the coordinator reads it and turns the proposal down."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=alice.memberships.get().organisation,
        authority=authority,
        immediate_needs_details=WRITTEN,
    )
    request = s.request(case)
    s.beds(maya, s.site(maya, provider), 1)
    assert services.matching_run(by=cora).proposed == 1
    proposal = Placement.objects.get(request=request, status=PlacementStatus.PROPOSED)
    services.placement_reject(by=cora, placement=proposal)
    return proposal


def test_a_provider_never_offered_the_person_cannot_open_a_proposal_turned_down(
    alice: User, cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    """The placement page of a proposal turned down is 404 to the provider's safe-house
    manager (it showed the case reference, age group, languages and the first responder's own
    words, and recorded a read by a provider never asked), and still opens for the
    coordinator."""
    proposal = _proposal_turned_down(alice, cora, maya, provider, authority)
    assert maya.memberships.get().role == Role.SAFE_HOUSE_MANAGER
    url = reverse("support:placement", args=[proposal.pk])

    page = factories.signed_in_client(maya).get(url)
    assert page.status_code == 404, (
        "a safe-house manager opened a proposal their provider was never offered"
        + (": it shows the first responder's words" if WRITTEN in page.content.decode() else "")
    )
    assert factories.signed_in_client(cora).get(url).status_code == 200


def test_the_providers_api_does_not_list_proposals(
    alice: User, cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    """`GET /api/v1/support/placements` with the manager's token lists no proposal, confirmed
    or not, and `GET .../placements/<id>` of one is 404 (it gave the first responder's
    words)."""
    proposal = _proposal_turned_down(alice, cora, maya, provider, authority)
    _, secret = api.token(maya, provider, scopes=api.EVERY_SCOPE)
    client = api.client_with(secret)
    listed = client.get("/api/v1/support/placements").json()["items"]
    assert proposal.pk not in [row["id"] for row in listed], (
        "the provider's token lists a proposal it was never offered"
    )
    detail = client.get(f"/api/v1/support/placements/{proposal.pk}")
    assert detail.status_code == 404, detail.content.decode()[:300]


def test_a_proposal_not_yet_confirmed_is_hidden_and_an_offer_withdrawn_is_not(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A proposal waiting for the coordinator is not the provider's either; once confirmed it
    is an offer they read, and an offer the coordinator then cancels stays theirs to read
    (they were told of it, and of its cancelling)."""
    s.beds(maya, s.site(maya, provider), 1)
    request = s.request(case)
    services.matching_run(by=cora)
    proposal = Placement.objects.get(request=request, status=PlacementStatus.PROPOSED)
    url = reverse("support:placement", args=[proposal.pk])
    manager = factories.signed_in_client(maya)
    assert manager.get(url).status_code == 404

    services.placement_confirm(by=cora, placement=proposal)
    assert manager.get(url).status_code == 200
    services.placement_cancel(by=cora, placement=proposal)
    assert manager.get(url).status_code == 200


# --- An adult who comes with the person ------------------------------------------------------


def _partner(by: User, case: Case, **values: object) -> Dependant:
    fields: dict[str, object] = {"relationship": "partner", "sex": "male", "age_years": 31}
    return safety.dependant_add(by=by, case=case, expected_version=None, **(fields | values))


def test_a_woman_coming_with_an_adult_man_is_not_placed_in_a_women_only_house(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """Who is protected: the women living in a women-only safe house (many there because men
    exploited them), and the woman herself if the "partner" is her controller. A woman's
    safety profile records her partner, a 31-year-old man, who comes with her. Placing by hand
    in a women-only house with a room for one child was allowed: matching read the dependants
    as a bare count. Now it is refused, saying why, in words the coordinator reads."""
    _partner(alice, case)
    house = s.site(maya, provider, setting="women_only")
    (bed,) = s.beds(maya, house, 1, takes_dependants=1)
    request = s.request(case)
    with pytest.raises(ValidationError) as refused:
        services.placement_make(by=cora, request=request, bed=bed)
    assert MAN_COMES in str(refused.value)
    assert not Placement.objects.filter(request=request).exists()


def test_matching_proposes_a_mixed_house_for_them_and_says_why_none_when_only_women_only(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """Matching never proposes the women-only house; a mixed one with room for him takes them.
    With no mixed house free, the unmet need says why."""
    _partner(alice, case)
    request = s.request(case)
    s.beds(maya, s.site(maya, provider, setting="women_only"), 1, takes_dependants=2)
    assert services.matching_run(by=cora).proposed == 0
    unmet = UnmetNeed.objects.get(request=request)
    assert (unmet.constraint, unmet.reason) == ("setting", "no mixed bed is free")

    (mixed,) = s.beds(maya, s.site(maya, provider, setting="mixed"), 1, takes_dependants=1)
    assert services.matching_run(by=cora).proposed == 1
    assert Placement.objects.get(request=request, status=PlacementStatus.PROPOSED).bed == mixed


def test_everyone_who_comes_counts_against_the_room_and_all_are_placed_together(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A woman, her adult partner and their four-year-old need a room that takes two beside
    her, in a mixed house: the partner lives there too (a bed for one was offered to a couple,
    found in review). The refusal says who comes, in words."""
    _partner(alice, case)
    safety.dependant_add(
        by=alice,
        case=case,
        expected_version=None,
        relationship="child",
        sex="female",
        age_years=4,
    )
    request = s.request(case)
    assert request.dependants == 2
    mixed = s.site(maya, provider, setting="mixed")
    (no_room,) = s.beds(maya, mixed, 1, takes_dependants=1)
    (room,) = s.beds(maya, mixed, 1, takes_dependants=2)
    with pytest.raises(
        ValidationError, match="the bed takes 1 child; the person has 1 adult and 1 child with"
    ):
        services.placement_make(by=cora, request=request, bed=no_room)
    assert services.placement_make(by=cora, request=request, bed=room).status == "reserved"


def test_a_son_is_an_adult_from_his_eighteenth_birthday(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """Ages are as on the day: a son whose 18th birthday is tomorrow may still come into a
    women-only house's family room today (whether a house takes older boys is its own to say,
    by declining); from his birthday he is an adult man, and it is refused."""
    today = timezone.localdate()
    born = date(today.year - 18, today.month, min(today.day, 28))
    if born.replace(year=today.year) <= today:
        born = born.replace(year=today.year - 18) + timezone.timedelta(days=1)
    _partner(alice, case, relationship="child", age_years=None, born_estimate=born)
    (bed,) = s.beds(maya, s.site(maya, provider, setting="women_only"), 1, takes_dependants=1)
    request = s.request(case)
    birthday = date(born.year + 18, born.month, born.day)
    with pytest.raises(ValidationError, match="an adult man comes with the person"):
        services.placement_make(by=cora, request=request, bed=bed, today=birthday)
    placed = services.placement_make(
        by=cora, request=request, bed=bed, today=birthday - timezone.timedelta(days=1)
    )
    assert placed.status == "reserved"


def test_the_provider_cannot_accept_an_offer_made_before_and_the_profile_cannot_break_one(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """An offer of a women-only house made before the rule (a partner recorded as the old
    code read him) cannot be accepted: the provider is told to decline it. And a partner
    recorded now, under an offer held, is refused until the offer is cancelled (the check
    every profile change runs, `services._held_places_still_allowed`)."""
    (bed,) = s.beds(maya, s.site(maya, provider, setting="women_only"), 1, takes_dependants=1)
    offer = services.placement_make(by=cora, request=s.request(case), bed=bed)

    with pytest.raises(ValidationError, match="A place already offered"):
        _partner(alice, case)
    assert not Dependant.objects.filter(profile__case=case).exists()

    # As recorded before the rule existed: straight into the table, past today's checks.
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="high",
        risk_reasons="Her controller is looking for her",
    )
    profile = SafetyProfile.objects.get(case=case)
    Dependant.objects.create(
        profile=profile,
        relationship="partner",
        sex="male",
        age_years=31,
        added_at=timezone.now(),
        added_by=alice,
    )
    profile.dependant_count = 1
    profile.save(update_fields=["dependant_count"])
    with pytest.raises(ValidationError) as refused:
        services.placement_respond(by=maya, placement=offer, accept=True)
    assert MAN_COMES in str(refused.value)
    assert "Decline it" in str(refused.value)
    declined = services.placement_respond(by=maya, placement=offer, accept=False, reason="safety")
    assert declined.status == "declined"


# --- Matching's rule, pure --------------------------------------------------------------------


def test_check_says_who_comes_and_refuses_only_what_they_rule_out() -> None:
    """An adult man rules out a women-only house, not a mixed one; a boy (a child) or an adult
    woman rules out nothing; an adult whose sex is not recorded as a woman's rules it out too
    (fail closed: he or she would live among the women)."""
    # Each bed's room has a place beside the person: everyone who comes takes one.
    women_only, mixed = a_bed(takes_dependants=1), a_bed(setting=Setting.MIXED, takes_dependants=1)
    with_him = a_request(companions=(PARTNER,))
    assert check(with_him, women_only, today=TODAY) == [MAN_COMES]
    assert check(with_him, mixed, today=TODAY) == []
    assert check(with_him, a_bed(setting=Setting.MEN_ONLY, takes_dependants=1), today=TODAY) == [
        "the bed is in a men-only setting; the person needs a women-only or mixed one"
    ]
    boy, sister = Companion("male", adult=False), Companion("female", adult=True)
    assert check(a_request(companions=(boy, sister)), a_bed(takes_dependants=2)) == []
    # A room with no place beside the person takes no one who comes, adult or child.
    assert check(with_him, a_bed(setting=Setting.MIXED), today=TODAY) == [
        "the bed takes no children; the person has 1 adult with them"
    ]
    unknown = a_request(companions=(Companion("unknown", adult=True),))
    assert codes(unknown, women_only) == ["setting"]
    assert "an adult not recorded as a woman" in check(unknown, women_only, today=TODAY)[0]
    # A man whose adult son comes: the men-only house takes them; his adult daughter, not.
    man = frozenset({Setting.MEN_ONLY, Setting.MIXED})
    men_only = a_bed(setting=Setting.MEN_ONLY, takes_dependants=1)
    son = a_request(accepted_settings=man, companions=(PARTNER,))
    daughter = a_request(accepted_settings=man, companions=(Companion("female", adult=True),))
    assert codes(son, men_only) == []
    assert "an adult woman comes with the person" in check(daughter, men_only, today=TODAY)[0]


def test_no_bed_for_a_woman_who_needs_a_women_only_house_and_comes_with_a_man_says_why() -> None:
    needs_women_only = a_request(accepted_settings={Setting.WOMEN_ONLY}, companions=(PARTNER,))
    (left,) = match([needs_women_only], [a_bed(), a_bed(2, setting=Setting.MIXED)], TODAY).unplaced
    assert (left.code, left.reason) == (
        "setting",
        "no bed can take them: they may be placed only in a women-only setting, and an adult "
        "man comes with them",
    )
    (left,) = match([a_request(companions=(PARTNER,))], [a_bed()], TODAY).unplaced
    assert (left.code, left.reason) == ("setting", "no mixed bed is free")


def test_a_companion_must_be_given_as_one() -> None:
    with pytest.raises(ValueError, match="companions must be a sequence of Companion"):
        Request(1, WOMEN, TODAY, TODAY, companions=(("male", True),))
    with pytest.raises(ValueError, match="adult must be True or False"):
        Companion("male", adult="yes")


_companions = st.lists(
    st.builds(Companion, sex=st.sampled_from(["female", "male", "unknown"]), adult=st.booleans()),
    max_size=2,
).map(tuple)


@st.composite
def requests_with_companions(draw: st.DrawFn, max_size: int = 8) -> list[Request]:
    """`tests/test_matching.py`'s random requests, each with up to two people coming along."""
    return [replace(r, companions=draw(_companions)) for r in draw(requests_strategy(max_size))]


@PROPERTY
@given(requests_with_companions(max_size=5), beds_strategy(max_size=5))
def test_the_optimiser_stays_exactly_optimal_with_people_coming_along(
    requests: list[Request], beds: list[matching.Bed]
) -> None:
    assert score(match(requests, beds, TODAY)) == best_by_brute_force(requests, beds)


@PROPERTY
@given(requests_with_companions(), beds_strategy())
def test_no_proposal_puts_an_adult_in_a_house_not_of_their_sex(
    requests: list[Request], beds: list[matching.Bed]
) -> None:
    by_request = {r.id: r for r in requests}
    by_bed = {b.id: b for b in beds}
    optimal = match(requests, beds, TODAY)
    assert_valid(optimal, requests, beds)
    assert optimal.placed == most_placed(requests, beds)
    for proposal in optimal.proposals:
        setting = by_bed[proposal.bed_id].setting
        if setting in matching.SEX_OF_SETTING:
            for companion in by_request[proposal.request_id].companions:
                assert not companion.adult or companion.sex == matching.SEX_OF_SETTING[setting]
    with patch.object(matching, "SPREAD", 0):
        sparse = match(requests, beds, TODAY, candidates_per_request=1)
    assert score(sparse) == score(optimal)


@PROPERTY
@given(requests_with_companions(), beds_strategy())
def test_the_vectorised_rules_and_the_reasons_agree_with_check_with_people_coming_along(
    requests: list[Request], beds: list[matching.Bed]
) -> None:
    instance = matching._Instance(requests, beds, TODAY)
    class_of = {b: c for c, members in enumerate(instance.classes.members) for b in members}
    rows = np.arange(len(requests))
    masks = instance.masks(rows)
    allowed = instance.allowed_classes(rows)
    for i, r in enumerate(requests):
        for j, b in enumerate(beds):
            found = set(codes(r, b))
            assert bool(allowed[i, class_of[j]]) == (not found)
            assert {k.value for k, m in masks.items() if not m[i, class_of[j]]} == found
    by_request = {r.id: r for r in requests}
    for left in match(requests, beds, TODAY).unplaced:
        r = by_request[left.request_id]
        for code, count in left.ruled_out:
            assert count == sum(1 for b in beds if code in codes(r, b))
