"""Bed matching (`support/matching.py`): the rules `check` applies, the reasons given for people
left without a bed, and, over random requests and beds, that the optimiser never breaks a hard
or safety constraint, never uses a bed twice, is exactly optimal, and never places fewer people
than first come, first served. Pure code: no database."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennrm.accommodation import matching
from opennrm.accommodation.matching import (
    Bed,
    Constraint,
    KeepAway,
    Request,
    Setting,
    Urgency,
    check,
    distance_km,
    failures,
    greedy,
    match,
    preference_cost,
    priority,
)
from opennrm.accommodation.services import refusal_without_places

TODAY = date(2026, 6, 1)
MANCHESTER = (53.48, -2.24)
LIVERPOOL = (53.41, -2.98)  # about 50 km west of Manchester
LONDON = (51.51, -0.13)
WOMEN = frozenset({Setting.WOMEN_ONLY, Setting.MIXED})


def bed(id: int = 1, **fields: Any) -> Bed:
    """A women-only bed in Manchester, free today, English-speaking staff."""
    values: dict[str, Any] = {
        "id": id,
        "site_id": id,
        "provider_id": 1,
        "region": "North West",
        "area": "Manchester",
        "setting": Setting.WOMEN_ONLY,
        "location": MANCHESTER,
        "languages": frozenset({"en"}),
        "available_from": TODAY,
    }
    values.update(fields)
    return Bed(**values)


def request(id: int = 1, **fields: Any) -> Request:
    """A woman who can go to a women-only or mixed house, speaks English, needs a bed today."""
    values: dict[str, Any] = {
        "id": id,
        "accepted_settings": WOMEN,
        "needed_from": TODAY,
        "waiting_since": TODAY - timedelta(days=3),
        "languages": frozenset({"en"}),
    }
    values.update(fields)
    return Request(**values)


def codes(r: Request, b: Bed) -> list[str]:
    return [code for code, _ in failures(r, b, today=TODAY)]


# --- check: one test per constraint ---


def test_a_bed_meeting_every_constraint_has_no_reasons() -> None:
    assert check(request(), bed(), today=TODAY) == []


def test_a_child_or_age_disputed_person_only_ever_in_a_setting_for_children() -> None:
    child = request(child=True)
    assert check(child, bed(), today=TODAY) == [
        "the bed is in a setting for adults; a child, or someone whose age is disputed (treated "
        "as a child until assessed), is never placed in a setting for adults"
    ]
    assert codes(child, bed(for_children=True)) == []
    # And no adult in a children's setting.
    assert check(request(), bed(for_children=True), today=TODAY) == [
        "the bed is in a setting for children; the person is an adult"
    ]


def test_no_adult_bed_for_a_child_says_why() -> None:
    left = only_unplaced([request(child=True)], [bed(1), bed(2, setting=Setting.MIXED)])
    assert (left.code, left.reason) == (
        "age",
        "no bed in a setting for children is free: a child, or someone whose age is disputed "
        "(treated as a child until assessed), is never placed in a setting for adults",
    )
    assert dict(left.ruled_out)["age"] == 2
    greedy_left = greedy([request(child=True)], [bed()], TODAY).unplaced[0]
    assert greedy_left.code == "age"
    # Children's beds of the wrong setting: the setting is the reason, worded for children.
    left = only_unplaced([request(child=True)], [bed(for_children=True, setting=Setting.MEN_ONLY)])
    assert left.reason == "no women-only or mixed bed for children is free"


def test_setting() -> None:
    reasons = check(request(), bed(setting=Setting.MEN_ONLY), today=TODAY)
    assert reasons == [
        "the bed is in a men-only setting; the person needs a women-only or mixed one"
    ]
    assert check(request(), bed(setting=Setting.MIXED), today=TODAY) == []
    women_only = request(accepted_settings={Setting.WOMEN_ONLY})
    assert codes(women_only, bed(setting=Setting.MIXED)) == ["setting"]


def test_dependants() -> None:
    mother = request(dependants=2)
    assert check(mother, bed(takes_dependants=1), today=TODAY) == [
        "the bed takes 1 child; the person has 2 children with them"
    ]
    assert check(mother, bed(takes_dependants=2), today=TODAY) == []
    assert check(mother, bed(takes_dependants=3), today=TODAY) == []


def test_wheelchair() -> None:
    assert codes(request(needs_wheelchair=True), bed()) == ["wheelchair"]
    assert codes(request(needs_wheelchair=True), bed(wheelchair_accessible=True)) == []
    assert codes(request(), bed(wheelchair_accessible=True)) == []


def test_language_is_a_requirement_without_an_interpreter() -> None:
    albanian = request(languages={"sq"})
    assert check(albanian, bed(), today=TODAY) == [
        "no staff speak Albanian, and the person is not to be supported through an interpreter"
    ]
    assert codes(albanian, bed(languages={"en", "sq"})) == []
    assert codes(request(languages={"sq", "en"}), bed()) == []  # one shared language is enough
    assert codes(request(languages=frozenset()), bed(languages=frozenset())) == []


def test_language_is_a_preference_with_an_interpreter() -> None:
    albanian = request(languages={"sq"}, interpreter_needed=True)
    assert codes(albanian, bed()) == []
    assert preference_cost(albanian, bed()) == matching.LANGUAGE_MISSED
    assert preference_cost(albanian, bed(languages={"sq"})) == 0


def test_required_specialism() -> None:
    person = request(required_specialisms={"mental_health"})
    assert check(person, bed(), today=TODAY) == [
        "the site does not specialise in mental health, which the person needs"
    ]
    assert codes(person, bed(specialisms={"mental_health", "children"})) == []


def test_the_bed_must_be_free_by_the_date_needed() -> None:
    assert check(request(), bed(available_from=TODAY + timedelta(days=1)), today=TODAY) == [
        "the bed is free from 2 June 2026; it is needed by 1 June 2026"
    ]
    later = request(needed_from=TODAY + timedelta(days=7))
    assert codes(later, bed(available_from=TODAY + timedelta(days=7))) == []


def test_a_request_needed_in_the_past_needs_a_bed_free_by_today() -> None:
    overdue = request(needed_from=TODAY - timedelta(days=5))
    assert check(overdue, bed(), today=TODAY) == []
    # Without today, the needed date itself is the limit (stricter, never looser).
    assert check(overdue, bed()) == [
        "the bed is free from 1 June 2026; it is needed by 27 May 2026"
    ]
    assert codes(overdue, bed(available_from=TODAY + timedelta(days=1))) == ["available"]


def test_excluded_region_or_area() -> None:
    assert check(request(excluded_areas={"North West"}), bed(), today=TODAY) == [
        "the bed is in North West, an area the person must keep away from"
    ]
    assert codes(request(excluded_areas={"Manchester"}), bed()) == ["excluded_area"]
    assert codes(request(excluded_areas={"London", "Salford"}), bed()) == []


def test_distance_from_a_place_to_keep_away_from() -> None:
    near = request(keep_away=(KeepAway(MANCHESTER, 50),))
    assert check(near, bed(location=(53.50, -2.20)), today=TODAY) == [
        "the bed is 3.5 km from the place of exploitation (it must be more than 50 km)"
    ]
    assert codes(near, bed(location=LONDON)) == []
    # Exactly at the limit is too close: the bed must be more than the distance away.
    limit = distance_km(MANCHESTER, LIVERPOOL)
    assert codes(request(keep_away=(KeepAway(MANCHESTER, limit),)), bed(location=LIVERPOOL)) == [
        "distance"
    ]
    assert (
        codes(request(keep_away=(KeepAway(MANCHESTER, limit - 0.01),)), bed(location=LIVERPOOL))
        == []
    )


def test_every_place_to_keep_away_from_counts() -> None:
    two = request(
        keep_away=(KeepAway(LONDON, 30), KeepAway(MANCHESTER, 20, "the trafficker's address"))
    )
    assert check(two, bed(), today=TODAY) == [
        "the bed is 0.0 km from the trafficker's address (it must be more than 20 km)"
    ]


def test_an_unrecorded_location_fails_closed_only_when_distance_matters() -> None:
    unknown = bed(location=None)
    assert codes(request(), unknown) == []
    assert check(request(keep_away=(KeepAway(LONDON, 10),)), unknown, today=TODAY) == [
        "the bed's location is not recorded, so its distance from the place of exploitation "
        "cannot be checked"
    ]


def test_several_failures_are_all_reported() -> None:
    person = request(dependants=1, needs_wheelchair=True, excluded_areas={"Manchester"})
    assert codes(person, bed(setting=Setting.MEN_ONLY)) == [
        "setting",
        "dependants",
        "wheelchair",
        "excluded_area",
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: KeepAway(None, 10), "needs a latitude and longitude, not None"),
        (lambda: KeepAway("53,-2", 10), "pair"),
        (lambda: KeepAway((53.0,), 10), "pair"),
        (lambda: KeepAway((float("nan"), 0.0), 10), "not a latitude"),
        (lambda: KeepAway(MANCHESTER, float("inf")), "finite number of km"),
        (lambda: KeepAway(MANCHESTER, float("nan")), "finite number of km"),
        (lambda: KeepAway(MANCHESTER, -1), "zero or more"),
        (lambda: KeepAway(MANCHESTER, "10"), "a number of km"),
        (lambda: KeepAway(MANCHESTER, 10, " "), "label"),
        (lambda: request(excluded_areas={"Salford", " "}), "blank"),
        (lambda: request(excluded_areas="Salford"), "set of codes"),
        (lambda: request(languages="en"), "set of codes"),
        (lambda: request(keep_away=KeepAway(MANCHESTER, 5)), "sequence of KeepAway"),
        (lambda: request(keep_away=[(MANCHESTER, 5)]), "sequence of KeepAway"),
        (lambda: request(child="no"), "True or False"),
        (lambda: request(dependants=1.5), "whole number"),
        (lambda: request(needed_from="2026-06-01"), "must be a date"),
        (lambda: bed(location=[53.0, -2.0, 1.0]), "pair"),
        (lambda: bed(region=""), "region"),
        (lambda: bed(for_children=1), "True or False"),
    ],
)
def test_bad_input_is_refused_when_built_with_a_clear_message(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_list_location_is_taken_as_a_pair() -> None:
    # A location read from JSON is a list: it becomes a tuple, so the bed can be matched.
    listed = bed(location=[53.48, -2.24])
    assert listed.location == MANCHESTER
    zone = KeepAway([53.48, -2.24], 5)
    assert match([request(keep_away=(zone,))], [listed, bed(2, location=LONDON)], TODAY).placed == 1


def test_another_bed_at_a_site_equals_one_made_whole_and_is_checked() -> None:
    first = bed(1, takes_dependants=2, specialisms=frozenset({"mental_health"}))
    own = {
        "id": 7,
        "takes_dependants": 1,
        "wheelchair_accessible": True,
        "available_from": TODAY + timedelta(days=3),
        "operation_id": 4,
    }
    made_whole = bed(**{**own, "site_id": 1, "specialisms": frozenset({"mental_health"})})
    assert first.another_at_site(**own) == made_whole
    assert hash(first.another_at_site(**own)) == hash(made_whole)
    assert (first.id, first.takes_dependants) == (1, 2)  # the first bed is left as it was
    with pytest.raises(ValueError, match="must not be negative"):
        first.another_at_site(id=8, takes_dependants=-1)
    with pytest.raises(ValueError, match="whole number"):
        first.another_at_site(id=8, takes_dependants=1.5)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="accepted setting"):
        request(accepted_settings=frozenset())
    with pytest.raises(ValueError, match="latitude"):
        bed(location=(91.0, 0.0))
    with pytest.raises(ValueError, match="unique"):
        match([request(1), request(1)], [bed()], TODAY)
    with pytest.raises(ValueError, match="unique"):
        greedy([request()], [bed(1), bed(1)], TODAY)


def test_priority_is_urgency_first_then_days_waiting() -> None:
    assert priority(request(urgency=Urgency.EMERGENCY, waiting_since=TODAY), TODAY) == 2000
    assert priority(request(urgency=Urgency.URGENT), TODAY) == 1003
    a_long_wait = request(waiting_since=TODAY - timedelta(days=5000))
    assert priority(a_long_wait, TODAY) == 999  # capped: never outranks an urgent request


# --- Explanations for people left without a bed ---


def only_unplaced(requests: list[Request], beds: list[Bed]) -> matching.Unplaced:
    result = match(requests, beds, TODAY)
    assert len(result.unplaced) == 1
    return result.unplaced[0]


def test_no_bed_of_the_setting() -> None:
    left = only_unplaced([request()], [bed(setting=Setting.MEN_ONLY)])
    assert (left.code, left.reason) == ("setting", "no women-only or mixed bed is free")
    assert dict(left.ruled_out)["setting"] == 1


def test_every_bed_that_takes_the_children_is_too_close() -> None:
    beds = [
        bed(1, takes_dependants=2),
        bed(2, takes_dependants=3, location=(53.55, -2.10)),
        bed(3, location=LONDON),  # far enough, but takes no children
        bed(4, setting=Setting.MEN_ONLY, takes_dependants=2, location=LONDON),
    ]
    mother = request(dependants=2, keep_away=(KeepAway(MANCHESTER, 50),))
    left = only_unplaced([mother], beds)
    assert left.code == Constraint.DISTANCE
    assert left.reason == (
        "every free women-only or mixed bed that takes 2 children is within 50 km of the place "
        "of exploitation"
    )
    assert dict(left.ruled_out) == {
        "age": 0,
        "setting": 1,
        "dependants": 1,
        "wheelchair": 0,
        "language": 0,
        "specialism": 0,
        "operation": 0,
        "available": 0,
        "excluded_area": 0,
        "distance": 2,
    }


def test_no_bed_takes_the_children() -> None:
    left = only_unplaced([request(dependants=1)], [bed(1), bed(2)])
    assert (left.code, left.reason) == (
        "dependants",
        "every free women-only or mixed bed takes no children",
    )


def test_the_only_bed_is_free_too_late() -> None:
    late = bed(available_from=TODAY + timedelta(days=10))
    left = only_unplaced(
        [request(needs_wheelchair=True)], [replace(late, wheelchair_accessible=True)]
    )
    assert (left.code, left.reason) == (
        "available",
        "the only free women-only or mixed bed that has wheelchair access is free only after "
        "1 June 2026",
    )


def test_the_suitable_bed_went_to_someone_more_urgent() -> None:
    waiting = request(1, urgency=Urgency.ROUTINE, waiting_since=TODAY - timedelta(days=60))
    emergency = request(2, urgency=Urgency.EMERGENCY, waiting_since=TODAY)
    left = only_unplaced([waiting, emergency], [bed()])
    assert left.request_id == 1
    assert (left.code, left.suitable) == ("taken", 1)
    assert left.reason == (
        "the only bed meeting every constraint is proposed for people with more urgent needs or "
        "who have waited longer"
    )


def test_a_less_urgent_person_may_take_the_bed_when_that_places_more_people() -> None:
    # The emergency could take either bed; the routine request only the first. Both are placed,
    # and the third person, as urgent as the second, is told who got the beds.
    emergency = request(1, urgency=Urgency.EMERGENCY)
    routine = request(2, urgency=Urgency.ROUTINE, excluded_areas={"London"})
    third = request(3, urgency=Urgency.ROUTINE, excluded_areas={"London"})
    result = match(
        [emergency, routine, third],
        [bed(1), bed(2, location=LONDON, region="London", area="Westminster")],
        TODAY,
    )
    assert {p.request_id: p.bed_id for p in result.proposals} == {1: 2, 2: 1}
    (left,) = result.unplaced
    assert left.request_id == 3
    assert left.reason == (
        "the only bed meeting every constraint is proposed for other people "
        "(1 as urgent and waiting as long)"
    )


def test_no_beds_at_all() -> None:
    left = only_unplaced([request()], [])
    assert (left.code, left.reason) == ("no_beds", "no bed is free")


def test_greedy_explains_too() -> None:
    result = greedy([request(1), request(2)], [bed()], TODAY)
    assert result.placed == 1
    assert result.unplaced[0].reason == (
        "the only bed meeting every constraint was taken by people ahead in the queue"
    )


# --- What the optimiser prefers ---


def test_urgency_wins_when_beds_are_scarce() -> None:
    requests = [
        request(1, urgency=Urgency.ROUTINE, waiting_since=TODAY - timedelta(days=90)),
        request(2, urgency=Urgency.URGENT, waiting_since=TODAY - timedelta(days=1)),
        request(3, urgency=Urgency.EMERGENCY, waiting_since=TODAY),
        request(4, urgency=Urgency.URGENT, waiting_since=TODAY - timedelta(days=10)),
    ]
    result = match(requests, [bed(1), bed(2)], TODAY)
    assert {p.request_id for p in result.proposals} == {3, 4}  # then waiting time among equals
    # First come, first served gives the beds to whoever waited longest.
    assert {p.request_id for p in greedy(requests, [bed(1), bed(2)], TODAY).proposals} == {1, 4}
    # The urgency-aware baseline serves the emergency, then the longest-waiting urgent request.
    by_urgency = greedy(requests, [bed(1), bed(2)], TODAY, by_urgency=True)
    assert {p.request_id for p in by_urgency.proposals} == {3, 4}


def test_placing_one_more_person_beats_urgency_and_preferences() -> None:
    emergency = request(1, urgency=Urgency.EMERGENCY, preferred_regions={"North West"})
    only_one_option = request(2, excluded_areas={"London"})
    beds = [bed(1), bed(2, location=LONDON, region="London", area="Westminster")]
    result = match([emergency, only_one_option], beds, TODAY)
    assert {p.request_id: p.bed_id for p in result.proposals} == {1: 2, 2: 1}
    (proposal,) = [p for p in result.proposals if p.request_id == 1]
    assert proposal.missed == ("not in a preferred region (North West)",)


def test_a_preference_is_honoured_when_it_costs_no_placement() -> None:
    person = request(
        preferred_regions={"London"},
        near_school=True,
        wanted_specialisms={"sexual_exploitation"},
        languages={"sq"},
        interpreter_needed=True,
    )
    beds = [
        bed(1),
        bed(2, location=LONDON, region="London", area="Westminster"),
        bed(
            3,
            location=LONDON,
            region="London",
            area="Westminster",
            near_school=True,
            specialisms={"sexual_exploitation"},
            languages={"en", "sq"},
        ),
    ]
    (proposal,) = match([person], beds, TODAY).proposals
    assert proposal.bed_id == 3
    assert proposal.preference_cost == 0
    assert proposal.met == (
        "in a preferred region (London)",
        "near a school",
        "specialises in sexual exploitation",
        "staff speak Albanian",
    )
    assert proposal.missed == ()


def test_a_proposal_says_why() -> None:
    person = request(
        keep_away=(KeepAway(LONDON, 80),),
        excluded_areas={"Salford"},
        wanted_specialisms={"mental_health"},
    )
    (proposal,) = match([person], [bed()], TODAY).proposals
    assert proposal.nearest_km == pytest.approx(distance_km(LONDON, MANCHESTER))
    assert proposal.why == (
        "Meets every requirement and safety condition. Safety: more than 80 km from the place of "
        "exploitation; outside the area to keep away from. Preferences "
        "missed: does not "
        "specialise in mental health."
    )


def test_beds_of_one_site_are_handed_out_earliest_free_first() -> None:
    beds = [
        bed(1, site_id=9, available_from=TODAY - timedelta(days=1)),
        bed(2, site_id=9, available_from=TODAY - timedelta(days=5)),
    ]
    (proposal,) = match([request()], beds, TODAY).proposals
    assert proposal.bed_id == 2


def test_greedy_serves_the_longest_waiting_first_with_the_first_allowed_bed() -> None:
    first = request(1, waiting_since=TODAY - timedelta(days=9))
    second = request(2, waiting_since=TODAY - timedelta(days=2))
    result = greedy([second, first], [bed(5), bed(6)], TODAY)
    assert {p.request_id: p.bed_id for p in result.proposals} == {1: 5, 2: 6}


# --- Random requests and beds (hypothesis) ---

REGIONS = ["North West", "London", "Wales"]
AREAS = ["Manchester", "Westminster", "Cardiff", "Salford"]
LANGUAGES = ["en", "sq", "vi"]
SPECIALISMS = ["mental_health", "sexual_exploitation"]


def subsets(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), max_size=len(items))


points = st.tuples(st.floats(51.0, 54.0), st.floats(-3.5, 0.5))
days = st.integers(-6, 6).map(lambda n: TODAY + timedelta(days=n))


@st.composite
def beds_strategy(draw: st.DrawFn, max_size: int = 10) -> list[Bed]:
    count = draw(st.integers(0, max_size))
    return [
        Bed(
            id=i + 1,
            site_id=draw(st.integers(1, 4)),
            provider_id=1,
            region=draw(st.sampled_from(REGIONS)),
            area=draw(st.sampled_from(AREAS)),
            setting=draw(st.sampled_from(list(Setting))),
            location=draw(st.one_of(points, points, points, st.none())),
            for_children=draw(st.sampled_from([False, False, False, True])),
            takes_dependants=draw(st.integers(0, 2)),
            wheelchair_accessible=draw(st.booleans()),
            languages=draw(subsets(LANGUAGES)),
            specialisms=draw(subsets(SPECIALISMS)),
            near_school=draw(st.booleans()),
            available_from=draw(days),
        )
        for i in range(count)
    ]


@st.composite
def requests_strategy(draw: st.DrawFn, max_size: int = 8) -> list[Request]:
    count = draw(st.integers(0, max_size))
    return [
        Request(
            id=i + 1,
            accepted_settings=draw(st.frozensets(st.sampled_from(list(Setting)), min_size=1)),
            needed_from=draw(days),
            waiting_since=TODAY - timedelta(days=draw(st.integers(0, 40))),
            urgency=draw(st.sampled_from(list(Urgency))),
            child=draw(st.sampled_from([False, False, False, True])),
            dependants=draw(st.integers(0, 2)),
            needs_wheelchair=draw(st.booleans()),
            languages=draw(subsets(LANGUAGES)),
            interpreter_needed=draw(st.booleans()),
            required_specialisms=draw(subsets(SPECIALISMS)),
            keep_away=tuple(
                KeepAway(draw(points), draw(st.floats(0, 200)))
                for _ in range(draw(st.integers(0, 2)))
            ),
            excluded_areas=draw(subsets(REGIONS[:1] + AREAS[:2])),
            preferred_regions=draw(subsets(REGIONS)),
            near_school=draw(st.booleans()),
            wanted_specialisms=draw(subsets(SPECIALISMS)),
        )
        for i in range(count)
    ]


def most_placed(requests: list[Request], beds: list[Bed]) -> int:
    """The largest number of people that can be placed (augmenting paths, using `check`)."""
    options = [[j for j, b in enumerate(beds) if not check(r, b, today=TODAY)] for r in requests]
    holder: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j not in seen:
                seen.add(j)
                if j not in holder or place(holder[j], seen):
                    holder[j] = i
                    return True
        return False

    return sum(place(i, set()) for i in range(len(requests)))


def best_by_brute_force(requests: list[Request], beds: list[Bed]) -> tuple[int, int, int]:
    """(people placed, total priority, -total preference cost), the best over every choice."""
    options = [
        [None] + [j for j, b in enumerate(beds) if not check(r, b, today=TODAY)] for r in requests
    ]
    best = (0, 0, 0)
    for choice in itertools.product(*options):
        used = [j for j in choice if j is not None]
        if len(used) != len(set(used)):
            continue
        placed = [(r, beds[j]) for r, j in zip(requests, choice, strict=True) if j is not None]
        score = (
            len(placed),
            sum(priority(r, TODAY) for r, _ in placed),
            -sum(preference_cost(r, b) for r, b in placed),
        )
        best = max(best, score)
    return best


def score(result: matching.MatchResult) -> tuple[int, int, int]:
    return (result.placed, result.priority_total, -result.preference_cost_total)


def assert_valid(result: matching.MatchResult, requests: list[Request], beds: list[Bed]) -> None:
    by_request = {r.id: r for r in requests}
    by_bed = {b.id: b for b in beds}
    for proposal in result.proposals:
        assert check(by_request[proposal.request_id], by_bed[proposal.bed_id], today=TODAY) == []
    assert len({p.bed_id for p in result.proposals}) == result.placed  # no bed used twice
    placed = {p.request_id for p in result.proposals}
    assert len(placed) == result.placed
    assert placed | {u.request_id for u in result.unplaced} == set(by_request)
    assert not placed & {u.request_id for u in result.unplaced}


# As many examples as the Hypothesis profile gives (tests/_hypothesis.py: 100 in CI, fewer locally).
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(requests_strategy(), beds_strategy())
def test_no_proposal_breaks_a_constraint_and_the_optimiser_beats_greedy(
    requests: list[Request], beds: list[Bed]
) -> None:
    optimal = match(requests, beds, TODAY)
    baseline = greedy(requests, beds, TODAY)
    assert_valid(optimal, requests, beds)
    assert_valid(baseline, requests, beds)
    assert optimal.placed >= baseline.placed
    assert optimal.placed == most_placed(requests, beds)


@PROPERTY
@given(requests_strategy(), beds_strategy())
def test_no_child_or_age_disputed_person_is_ever_proposed_an_adult_bed(
    requests: list[Request], beds: list[Bed]
) -> None:
    by_request = {r.id: r for r in requests}
    by_bed = {b.id: b for b in beds}
    for result in (match(requests, beds, TODAY), greedy(requests, beds, TODAY)):
        for proposal in result.proposals:
            person, place = by_request[proposal.request_id], by_bed[proposal.bed_id]
            assert person.child == place.for_children
    for r in requests:
        for b in beds:
            if r.child and not b.for_children:
                assert "age" in codes(r, b)
                # Placing by hand, and a provider accepting an offer, refuse it saying why.
                refusal = refusal_without_places(matching.failures(r, b, today=TODAY))
                assert matching.CHILD_WHY in refusal


@PROPERTY
@given(requests_strategy(max_size=5), beds_strategy(max_size=5))
def test_the_optimiser_is_exactly_lexicographically_optimal(
    requests: list[Request], beds: list[Bed]
) -> None:
    assert score(match(requests, beds, TODAY)) == best_by_brute_force(requests, beds)


@PROPERTY
@given(requests_strategy(max_size=12), beds_strategy(max_size=14), st.integers(1, 3))
def test_a_sparse_first_graph_gives_the_same_optimum_as_every_pair(
    requests: list[Request], beds: list[Bed], candidates: int
) -> None:
    with patch.object(matching, "SPREAD", 0):  # as sparse as it gets: pricing does the rest
        sparse = match(requests, beds, TODAY, candidates_per_request=candidates)
    dense = match(requests, beds, TODAY, candidates_per_request=1000)
    assert score(sparse) == score(dense)
    assert_valid(sparse, requests, beds)


def random_instance(seed: int, n_requests: int, n_beds: int) -> tuple[list[Request], list[Bed]]:
    """A larger random instance (plain `random`, seeded), with scarce beds."""
    rng = random.Random(seed)
    point = lambda: (rng.uniform(51, 54), rng.uniform(-3.5, 0.5))  # noqa: E731
    beds = [
        Bed(
            id=i,
            site_id=i // 3,
            provider_id=1,
            region=rng.choice(REGIONS),
            area=rng.choice(AREAS),
            setting=rng.choice(list(Setting)),
            location=point(),
            takes_dependants=rng.choice([0, 0, 0, 1, 2]),
            wheelchair_accessible=rng.random() < 0.1,
            languages=frozenset({"en"} | set(rng.sample(LANGUAGES, rng.randint(0, 2)))),
            specialisms=frozenset(rng.sample(SPECIALISMS, rng.randint(0, 2))),
            near_school=rng.random() < 0.5,
            available_from=TODAY + timedelta(days=rng.randint(-5, 20)),
        )
        for i in range(n_beds)
    ]
    requests = [
        Request(
            id=i,
            accepted_settings=frozenset(rng.sample(list(Setting), rng.randint(1, 2))),
            needed_from=TODAY + timedelta(days=rng.randint(-5, 10)),
            waiting_since=TODAY - timedelta(days=rng.randint(0, 60)),
            urgency=rng.choice(list(Urgency)),
            dependants=rng.choice([0, 0, 0, 1, 2]),
            needs_wheelchair=rng.random() < 0.05,
            languages=frozenset(rng.sample(LANGUAGES, rng.randint(0, 2))),
            interpreter_needed=rng.random() < 0.7,
            keep_away=tuple(
                KeepAway(point(), rng.uniform(10, 120)) for _ in range(rng.randint(0, 2))
            ),
            preferred_regions=frozenset(rng.sample(REGIONS, rng.randint(0, 1))),
            near_school=rng.random() < 0.2,
            wanted_specialisms=frozenset(rng.sample(SPECIALISMS, rng.randint(0, 1))),
        )
        for i in range(n_requests)
    ]
    return requests, beds


@pytest.mark.parametrize(("seed", "candidates"), [(1, 1), (2, 2), (3, 4), (4, 16)])
def test_pricing_finds_the_optimum_of_every_pair_on_larger_instances(
    seed: int, candidates: int
) -> None:
    requests, beds = random_instance(seed, 400, 300)
    with patch.object(matching, "SPREAD", 0):
        sparse = match(requests, beds, TODAY, candidates_per_request=candidates)
    dense = match(requests, beds, TODAY, candidates_per_request=10**6)
    assert sparse.rounds > 1 or candidates == 16  # the sparse graph needed pricing
    assert score(sparse) == score(dense)
    assert_valid(sparse, requests, beds)
    assert sparse.placed >= greedy(requests, beds, TODAY).placed


@PROPERTY
@given(requests_strategy(), beds_strategy())
def test_the_vectorised_rules_agree_with_check_pair_by_pair(
    requests: list[Request], beds: list[Bed]
) -> None:
    instance = matching._Instance(requests, beds, TODAY)
    class_of = {b: c for c, members in enumerate(instance.classes.members) for b in members}
    rows = np.arange(len(requests))
    masks = instance.masks(rows)
    allowed = instance.allowed_classes(rows)
    costs = instance.preference_costs(rows)
    for i, r in enumerate(requests):
        for j, b in enumerate(beds):
            c = class_of[j]
            g = instance.classes.group[c]
            found = set(codes(r, b))
            assert bool(allowed[i, c]) == (not found)
            assert {k.value for k, m in masks.items() if not m[i, c]} == found
            assert costs[i, c] == preference_cost(r, b)
            assert instance.preference_table[instance.preference_of[i], g] == costs[i, c]


@PROPERTY
@given(requests_strategy(), beds_strategy())
def test_every_reason_for_no_bed_is_true(requests: list[Request], beds: list[Bed]) -> None:
    result = match(requests, beds, TODAY)
    by_request = {r.id: r for r in requests}
    used = {p.bed_id for p in result.proposals}
    for left in result.unplaced:
        r = by_request[left.request_id]
        allowed = [b for b in beds if not check(r, b, today=TODAY)]
        if left.code == matching.TAKEN:
            assert allowed
            assert left.suitable == len(allowed)
            assert all(b.id in used for b in allowed)
        else:
            assert not allowed
            assert left.code in {c.value for c in Constraint} | {matching.NO_BEDS}
        assert dict(left.ruled_out).keys() == {c.value for c in Constraint}
        for code, count in left.ruled_out:
            assert count == sum(1 for b in beds if code in codes(r, b))
