"""Optimal placement of people in safe-house beds. Pure code, no Django: requests and beds in,
proposals and reasons out.

`match(requests, beds, today)` proposes a bed for as many people as possible, never breaking a
hard constraint (a child, or someone whose age is disputed, only in a setting for children and
an adult never in one; setting, no single-sex setting when an adult of the other sex comes
with them, dependants, wheelchair access, language, required specialisms, the date the bed is
free) or a safety constraint (not within a given distance of a place to keep
away from, not in a named area); among the ways of placing that many people it prefers the most
urgent and longest waiting, and then the beds people would prefer. `check(request, bed)` gives
the reasons a bed is not allowed for a request: the optimiser, the greedy baseline and a
coordinator's manual placement all apply the same rules. `greedy(...)` is the
first-come-first-served baseline the benchmark and the tests compare against.

Why a min-cost flow: each person takes at most one bed and each bed one person, the objective
is a sum over placements, and only allowed pairs get an arc, so a hard or safety constraint
cannot be broken by construction. A bipartite min-cost flow is exactly that problem, its optimum
is integral, and OR-Tools' SimpleMinCostFlow solves it in tenths of a second at national scale
(CP-SAT would solve the same model, far slower; linear assignment cannot express capacities).

How `match` works:

1. Group the beds into classes that every request sees the same way: same site, location,
   setting and attributes, and a free date rounded up to the next date some request needs a bed
   (the free date only matters against those). A class is one node with its beds as capacity.
   The classes of one site that differ only in their free date form a group.
2. Decide, with numpy and no Python loop over pairs, which (request, group) pairs every
   constraint allows and what each costs in missed preferences (the same for every class of a
   group; a request may take those of its classes free by the date it needs). Requests with the
   same needs share one row of the needs table, and those with the same preferences one row of
   the cost table; dates, excluded areas and distances, which are each request's own, are
   applied to the one request x group table. Distances are one matrix product of unit vectors
   on the sphere; pairs within 10 m of a limit are decided by the haversine formula `check`
   uses, so the optimiser and `check` never disagree.
3. Build the flow graph: each request supplies one person, each class takes up to its beds,
   and an arc of capacity 1 joins a request to a class it may take (no source or sink hub: the
   solver is faster without them). Solve "maximum flow, then minimum cost" with
   `SimpleMinCostFlow.solve_max_flow_with_min_cost`. The maximum flow is the most people that can
   be placed, so one more person placed always beats any urgency or preference. Among maximum
   flows each arc (request, class) costs
       (MAX_PRIORITY - priority(request)) * unit + preference_cost(request, class)
   so the solver maximises the total priority, then minimises the preference costs.
4. A person usually fits thousands of beds and the solver's time grows with the arcs, so the
   graph starts sparse (column generation): each request gets arcs to its
   `candidates_per_request` cheapest allowed groups (ties go to beds whose room for children or
   wheelchair access the person does not need, then to beds that come free closest to the date
   needed, leaving beds free now to people who need one now, then to chance with a fixed seed)
   and SPREAD more at random; each arc goes to the group's class that comes free latest in time.
5. Prove the answer optimal, or improve it: compute the dual prices of the classes from the
   solution (the least fixed point of the complementary-slackness conditions, a longest-path
   iteration over the graph's arcs), then price every allowed pair missing from the graph (for
   a request and a group, the cheapest-priced class free in time). A pair with a negative
   reduced cost could improve the answer: add those pairs (the cheapest per request) and solve
   again. When no pair has one, the answer is optimal for the full problem, exactly. When only
   a few pairs were added, first re-solve only the requests near them (the others keep their
   beds), widening the neighbourhood once; the dual prices accept that answer only if it is
   optimal for the whole graph, and otherwise the whole graph is solved again.
6. Hand out each class's beds (earliest free first) and explain every proposal (preferences met
   and missed, distance from each place to keep away from) and every request left unplaced:
   the constraints are applied in order (`Constraint`) and the first that leaves no bed is the
   reason, worded from what narrowed the beds down; if beds meeting every constraint exist, the
   reason says who they went to.

Weights (all integers):

- priority = URGENCY_POINTS[urgency] + min(days waiting, WAITING_DAYS_CAP): emergency 2000,
  urgent 1000, routine 0, plus one a day waiting, capped at 999 so that urgency always outranks
  waiting; waiting orders people of the same urgency.
- preference costs: a bed outside every preferred region 4; not near a school when one is
  wanted 3; each wanted specialism the site lacks 2; no staff speaking the person's language
  when an interpreter is needed (language is then a preference, not a requirement) 4.
- The order people placed > priority > preferences is exact, not a matter of tuning. The flow is
  maximised first. The exact unit is (largest preference cost of any request) x (most people
  that can be placed) + 1, more than any difference in total preference cost, so one point of
  priority outweighs every preference together. The solver runs with a smaller unit (4 x the
  largest preference cost + 1: fewer cost-scaling phases, about a third faster) and the dual
  prices, computed with the exact unit, check the answer; if it traded priority for
  preferences, the graph is solved again with the exact unit.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

from opennrm.lib.iso import language_name

LatLon = tuple[float, float]
EARTH_RADIUS_KM = 6371.0088


class Setting(StrEnum):
    WOMEN_ONLY = "women_only"
    MEN_ONLY = "men_only"
    MIXED = "mixed"


class Urgency(StrEnum):
    """The same values as `accommodation.models.Urgency`."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class Constraint(StrEnum):
    """The hard and safety constraints, in the order explanations apply them."""

    AGE = "age"  # children (and people whose age is disputed) only in children's settings
    # Not a setting the person accepts, or a single-sex one and an adult not of its sex comes
    # with them (`Companion`).
    SETTING = "setting"
    DEPENDANTS = "dependants"
    WHEELCHAIR = "wheelchair"
    LANGUAGE = "language"
    SPECIALISM = "specialism"
    # A surge place, or a bed held, for an enforcement operation: only its people (ADR 0044).
    OPERATION = "operation"
    AVAILABLE = "available"
    EXCLUDED_AREA = "excluded_area"
    DISTANCE = "distance"


# Codes for an unplaced request whose beds were all ruled out by no single constraint.
NO_BEDS = "no_beds"  # no bed at all was offered
TAKEN = "taken"  # beds meeting every constraint exist, and all went to other people

URGENCY_POINTS = {Urgency.EMERGENCY: 2000, Urgency.URGENT: 1000, Urgency.ROUTINE: 0}
WAITING_DAYS_CAP = 999
MAX_PRIORITY = max(URGENCY_POINTS.values()) + WAITING_DAYS_CAP
REGION_MISSED = 4
NEAR_SCHOOL_MISSED = 3
SPECIALISM_MISSED = 2
LANGUAGE_MISSED = 4
CANDIDATES_PER_REQUEST = 24  # the first graph's cheapest arcs per request (step 4)
SPREAD = 8  # and its random arcs per request

SETTING_LABELS = {
    Setting.WOMEN_ONLY: "women-only",
    Setting.MEN_ONLY: "men-only",
    Setting.MIXED: "mixed",
}

# Whom each single-sex setting is for: an adult who comes with the person lives there too, and
# must be of that sex (`Companion`). A sex recorded as anything else (other, not known) is
# neither, as the person themselves would be placed in mixed houses only.
SEX_OF_SETTING = {Setting.WOMEN_ONLY: "female", Setting.MEN_ONLY: "male"}


@dataclass(frozen=True)
class Bed:
    """One bed (or a family room: one placement) free from `available_from`."""

    id: int
    site_id: int
    provider_id: int
    region: str
    setting: Setting
    location: LatLon | None = None  # the site's (latitude, longitude); None when not recorded
    # A setting for children (a children's home, foster care): never an adult in it, and no
    # child anywhere else. False: a setting for adults, as every safe house is.
    for_children: bool = False
    area: str = ""  # the named area (local authority, town) the site is in
    takes_dependants: int = 0  # how many children can share the placement
    wheelchair_accessible: bool = False
    languages: frozenset[str] = frozenset()  # ISO 639-1 codes the staff speak
    specialisms: frozenset[str] = frozenset()  # "sexual_exploitation", "mental_health", ...
    near_school: bool = False  # the site's attribute
    available_from: date = date.min
    # Kept for the people of one enforcement operation (a surge place, or a bed held for it):
    # no one else is placed in it (ADR 0044). None: open to anyone.
    operation_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "setting", Setting(self.setting))
        object.__setattr__(self, "for_children", _flag("for_children", self.for_children))
        for name in ("languages", "specialisms"):
            object.__setattr__(self, name, _codes(name, getattr(self, name)))
        if not isinstance(self.region, str) or not self.region.strip():
            raise ValueError("a bed's region must be named")
        if not isinstance(self.area, str):
            raise ValueError("a bed's area must be text")
        if self.location is not None:
            object.__setattr__(self, "location", _location("location", self.location))
        self._check_own()

    def another_at_site(
        self,
        *,
        id: int,
        takes_dependants: int = 0,
        wheelchair_accessible: bool = False,
        available_from: date = date.min,
        operation_id: int | None = None,
    ) -> Bed:
        """Another bed of this bed's site: what the site says of it (setting, region, place,
        languages, specialisms...) is taken as this bed has it, already checked, and only the
        bed's own fields are checked anew. A loader making 10,000 beds of about 1,300 sites
        spent half its time checking each site's facts again for every bed."""
        bed = object.__new__(Bed)
        bed.__dict__.update(self.__dict__)
        own = {
            "id": id,
            "takes_dependants": takes_dependants,
            "wheelchair_accessible": wheelchair_accessible,
            "available_from": available_from,
            "operation_id": operation_id,
        }
        bed.__dict__.update(own)
        bed._check_own()
        return bed

    def _check_own(self) -> None:
        if _whole("takes_dependants", self.takes_dependants) < 0:
            raise ValueError("takes_dependants must not be negative")


@dataclass(frozen=True)
class KeepAway:
    """A safety constraint: no bed within `km` of `location` (distance must be more than km)."""

    location: LatLon
    km: float
    label: str = "the place of exploitation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "location", _location("a place to keep away from", self.location))
        if isinstance(self.km, bool) or not isinstance(self.km, int | float):
            raise ValueError(f"the distance to keep away must be a number of km, not {self.km!r}")
        if not math.isfinite(self.km) or self.km < 0:
            raise ValueError(
                f"the distance to keep away must be a finite number of km, zero or more, "
                f"not {self.km!r}"
            )
        object.__setattr__(self, "km", float(self.km))
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError("a place to keep away from needs a label to be named by")


@dataclass(frozen=True)
class Companion:
    """Someone who comes with the person and lives with them in the placement (a dependant on
    their safety profile: a child, a partner, another relative): their sex (`"female"`,
    `"male"`, or anything else, such as other or not known) and whether they are an adult. An
    adult is no child sharing a parent's room: a single-sex setting is refused when one comes
    who is not of its sex (`Constraint.SETTING`, `settings_open_to`). Each, adult or child,
    takes a place of the room's `takes_dependants` (`Request.dependants`)."""

    sex: str
    adult: bool

    def __post_init__(self) -> None:
        if not isinstance(self.sex, str):
            raise ValueError(f"a companion's sex must be text, not {self.sex!r}")
        object.__setattr__(self, "adult", _flag("a companion's adult", self.adult))


@dataclass(frozen=True)
class Request:
    """A person waiting for a bed: what they need, what keeps them safe, what they would like.

    `accepted_settings` are the settings this person can be placed in (from their sex and
    gender and their own wish: a woman who needs a women-only house has {WOMEN_ONLY}).
    Languages are a requirement (some staff must speak one of them) unless an interpreter is
    needed, which makes them a preference.
    """

    id: int
    accepted_settings: frozenset[Setting]
    needed_from: date
    waiting_since: date  # the day the request was raised (`greedy` keeps ties in given order)
    urgency: Urgency = Urgency.ROUTINE
    # A child, or someone whose age is disputed and so treated as a child until assessed: only
    # ever in a setting for children. False: an adult, never in one.
    child: bool = False
    dependants: int = 0  # everyone coming with the person: the room must take them all
    # Everyone who comes with the person, children and adults (`Companion`): an adult of the
    # other sex rules out a single-sex setting.
    companions: tuple[Companion, ...] = ()
    needs_wheelchair: bool = False
    languages: frozenset[str] = frozenset()
    interpreter_needed: bool = False
    required_specialisms: frozenset[str] = frozenset()
    keep_away: tuple[KeepAway, ...] = ()
    excluded_areas: frozenset[str] = frozenset()  # region or area names
    preferred_regions: frozenset[str] = frozenset()
    near_school: bool = False
    wanted_specialisms: frozenset[str] = frozenset()
    # The enforcement operation the person was found in, if any: they may also take the beds
    # kept for it (ADR 0044).
    operation_id: int | None = None

    def __post_init__(self) -> None:
        settings = _codes("accepted_settings", self.accepted_settings)
        object.__setattr__(self, "accepted_settings", frozenset(Setting(s) for s in settings))
        object.__setattr__(self, "urgency", Urgency(self.urgency))
        object.__setattr__(self, "child", _flag("child", self.child))
        for name in (
            "languages",
            "required_specialisms",
            "excluded_areas",
            "preferred_regions",
            "wanted_specialisms",
        ):
            object.__setattr__(self, name, _codes(name, getattr(self, name)))
        if any(not area.strip() for area in self.excluded_areas):
            raise ValueError("an area to keep away from must be named: a blank one was given")
        if isinstance(self.keep_away, KeepAway) or not all(
            isinstance(zone, KeepAway) for zone in self.keep_away
        ):
            raise ValueError("keep_away must be a sequence of KeepAway places")
        object.__setattr__(self, "keep_away", tuple(self.keep_away))
        if isinstance(self.companions, Companion) or not all(
            isinstance(companion, Companion) for companion in self.companions
        ):
            raise ValueError("companions must be a sequence of Companion")
        object.__setattr__(self, "companions", tuple(self.companions))
        for name in ("needed_from", "waiting_since"):
            if not isinstance(getattr(self, name), date):
                raise ValueError(f"{name} must be a date, not {getattr(self, name)!r}")
        if not self.accepted_settings:
            raise ValueError("a request needs at least one accepted setting")
        if _whole("dependants", self.dependants) < 0:
            raise ValueError("dependants must not be negative")
        # Everyone who comes takes a place in the room, whatever the count typed on the request.
        object.__setattr__(self, "dependants", max(self.dependants, len(self.companions)))


@dataclass(frozen=True)
class Proposal:
    """A bed proposed for a request, and why this bed."""

    request_id: int
    bed_id: int
    site_id: int
    priority: int
    preference_cost: int
    met: tuple[str, ...]  # preferences this bed meets
    missed: tuple[str, ...]  # preferences it misses
    safety: tuple[str, ...]  # distances from places to keep away from, areas avoided
    nearest_km: float | None  # distance to the nearest place to keep away from, if any

    @property
    def why(self) -> str:
        parts = ["Meets every requirement and safety condition."]
        if self.safety:
            parts.append("Safety: " + "; ".join(self.safety) + ".")
        if self.met:
            parts.append("Preferences met: " + "; ".join(self.met) + ".")
        if self.missed:
            parts.append("Preferences missed: " + "; ".join(self.missed) + ".")
        return " ".join(parts)


@dataclass(frozen=True)
class Unplaced:
    """A request left without a bed: the constraint that ruled out every bed, or (TAKEN) who
    the beds meeting every constraint went to."""

    request_id: int
    code: str  # a Constraint value, TAKEN or NO_BEDS
    reason: str
    ruled_out: tuple[tuple[str, int], ...]  # (constraint, free beds it alone rules out)
    suitable: int  # free beds meeting every constraint (all proposed for other people)


@dataclass(frozen=True)
class MatchResult:
    proposals: tuple[Proposal, ...]
    unplaced: tuple[Unplaced, ...]
    arcs: int = 0  # request-to-bed-class arcs in the final graph
    rounds: int = 0  # pricing rounds (the last proved the answer optimal)
    solves: int = 0  # min-cost flow solves of the whole graph (not counting local ones)
    timings: tuple[tuple[str, float], ...] = ()  # (stage, seconds): build, solve, explain

    @property
    def placed(self) -> int:
        return len(self.proposals)

    @property
    def priority_total(self) -> int:
        return sum(p.priority for p in self.proposals)

    @property
    def preference_cost_total(self) -> int:
        return sum(p.preference_cost for p in self.proposals)


# --- Rules for one pair: used by the optimiser's explanations, by tests and manual placement ---


def distance_km(a: LatLon, b: LatLon) -> float:
    """Great-circle (haversine) distance in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def priority(request: Request, today: date) -> int:
    """Urgency points plus days waiting, capped so urgency always outranks waiting."""
    waited = max(0, (today - request.waiting_since).days)
    return URGENCY_POINTS[request.urgency] + min(waited, WAITING_DAYS_CAP)


def needed_by(request: Request, today: date | None) -> date:
    """The date the bed must be free by: the needed date, or today if that has passed."""
    return request.needed_from if today is None else max(request.needed_from, today)


def check(request: Request, bed: Bed, *, today: date | None = None) -> list[str]:
    """The reasons `bed` is not allowed for `request`; an empty list means it is allowed.

    `today` matters only for requests needed in the past: the bed must then be free by today
    (without it, by the needed date, which is stricter).
    """
    return [reason for _, reason in failures(request, bed, today=today)]


def failures(request: Request, bed: Bed, *, today: date | None = None) -> list[tuple[str, str]]:
    """Like `check`, with each reason's constraint code."""
    found = []
    for constraint, rule in _RULES:
        reason = rule(request, bed, today)
        if reason:
            found.append((constraint.value, reason))
    return found


# Why a child is never placed with adults, in every refusal that says so.
CHILD_WHY = (
    "a child, or someone whose age is disputed (treated as a child until assessed), is never "
    "placed in a setting for adults"
)


def _age_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if request.child == bed.for_children:
        return None
    if request.child:
        return f"the bed is in a setting for adults; {CHILD_WHY}"
    return "the bed is in a setting for children; the person is an adult"


def _setting_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if bed.setting in settings_open_to(request):
        return None
    if bed.setting in request.accepted_settings:
        return (
            f"the bed is in a {SETTING_LABELS[bed.setting]} setting; "
            f"{_who_comes(request, bed.setting)} comes with the person and would live there too"
        )
    return (
        f"the bed is in a {SETTING_LABELS[bed.setting]} setting; "
        f"the person needs a {_settings_text(request.accepted_settings)} one"
    )


def settings_companions_rule_out(request: Request) -> frozenset[Setting]:
    """The single-sex settings an adult who comes with the person is not of the sex of: a
    women-only house for a woman whose adult male partner comes with her."""
    adults = {companion.sex for companion in request.companions if companion.adult}
    return frozenset(setting for setting, sex in SEX_OF_SETTING.items() if adults - {sex})


def settings_open_to(request: Request) -> frozenset[Setting]:
    """The settings the person may be placed in with everyone who comes with them: those they
    accept, less the single-sex ones an adult who comes is not of the sex of (empty: none)."""
    return request.accepted_settings - settings_companions_rule_out(request)


def _who_comes(request: Request, setting: Setting) -> str:
    """The adults who come with the person and may not live in `setting`, in words."""
    own = SEX_OF_SETTING[setting]
    sexes = {c.sex for c in request.companions if c.adult and c.sex != own}
    if sexes == {"male"}:
        return "an adult man"
    if sexes == {"female"}:
        return "an adult woman"
    return f"an adult not recorded as {'a woman' if own == 'female' else 'a man'}"


def _dependants_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if bed.takes_dependants >= request.dependants:
        return None
    return (
        f"the bed takes {_children(bed.takes_dependants)}; "
        f"the person has {_with_them(request)} with them"
    )


def _with_them(request: Request) -> str:
    """Who comes with the person, in words: "1 child", or "1 adult and 2 children" when the
    companions say how many of the dependants are adults."""
    adults = sum(1 for companion in request.companions if companion.adult)
    children = request.dependants - adults
    if adults == 0 or children < 0:
        return _children(request.dependants)
    said = "1 adult" if adults == 1 else f"{adults} adults"
    return f"{said} and {_children(children)}" if children else said


def _wheelchair_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if not request.needs_wheelchair or bed.wheelchair_accessible:
        return None
    return "the bed has no wheelchair access, which the person needs"


def _language_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if not _language_is_hard(request) or request.languages & bed.languages:
        return None
    return (
        f"no staff speak {_languages_text(request.languages)}, and the person is not to be "
        "supported through an interpreter"
    )


def _specialism_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    lacking = request.required_specialisms - bed.specialisms
    if not lacking:
        return None
    needed = _specialisms_text(lacking, "and")
    return f"the site does not specialise in {needed}, which the person needs"


def _operation_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if bed.operation_id is None or bed.operation_id == request.operation_id:
        return None
    return "the bed is kept for the people of an operation the person was not found in"


def _available_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    due = needed_by(request, today)
    if bed.available_from <= due:
        return None
    return f"the bed is free from {_day(bed.available_from)}; it is needed by {_day(due)}"


def _area_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    hit = sorted({bed.region, bed.area} & request.excluded_areas)
    if not hit:
        return None
    return f"the bed is in {_join(hit, 'and')}, an area the person must keep away from"


def _distance_rule(request: Request, bed: Bed, today: date | None) -> str | None:
    if not request.keep_away:
        return None
    if bed.location is None:
        return (
            "the bed's location is not recorded, so its distance from "
            f"{_join([z.label for z in request.keep_away], 'and')} cannot be checked"
        )
    close = []
    for zone in request.keep_away:
        km = distance_km(zone.location, bed.location)
        if km <= zone.km:
            close.append(f"{_km(km)} from {zone.label} (it must be more than {_km(zone.km)})")
    return ("the bed is " + "; ".join(close)) if close else None


_RULES: tuple[tuple[Constraint, Callable[[Request, Bed, date | None], str | None]], ...] = (
    (Constraint.AGE, _age_rule),
    (Constraint.SETTING, _setting_rule),
    (Constraint.DEPENDANTS, _dependants_rule),
    (Constraint.WHEELCHAIR, _wheelchair_rule),
    (Constraint.LANGUAGE, _language_rule),
    (Constraint.SPECIALISM, _specialism_rule),
    (Constraint.OPERATION, _operation_rule),
    (Constraint.AVAILABLE, _available_rule),
    (Constraint.EXCLUDED_AREA, _area_rule),
    (Constraint.DISTANCE, _distance_rule),
)


def _language_is_hard(request: Request) -> bool:
    return bool(request.languages) and not request.interpreter_needed


def _language_is_soft(request: Request) -> bool:
    return bool(request.languages) and request.interpreter_needed


def preference_cost(request: Request, bed: Bed) -> int:
    """The cost of the preferences `bed` misses (0: it meets them all)."""
    cost = 0
    if request.preferred_regions and bed.region not in request.preferred_regions:
        cost += REGION_MISSED
    if request.near_school and not bed.near_school:
        cost += NEAR_SCHOOL_MISSED
    cost += SPECIALISM_MISSED * len(request.wanted_specialisms - bed.specialisms)
    if _language_is_soft(request) and not request.languages & bed.languages:
        cost += LANGUAGE_MISSED
    return cost


def _largest_preference_cost(request: Request) -> int:
    return (
        REGION_MISSED * bool(request.preferred_regions)
        + NEAR_SCHOOL_MISSED * request.near_school
        + SPECIALISM_MISSED * len(request.wanted_specialisms)
        + LANGUAGE_MISSED * _language_is_soft(request)
    )


# --- The optimiser ---


def match(
    requests: Sequence[Request],
    beds: Sequence[Bed],
    today: date,
    *,
    candidates_per_request: int = CANDIDATES_PER_REQUEST,
) -> MatchResult:
    """Propose beds for as many requests as possible (see the module docstring).

    `candidates_per_request` only sets how sparse the first graph is; the answer is optimal
    whatever its value (1 or more).
    """
    _check_unique(requests, beds)
    started = time.perf_counter()
    instance = _Instance(requests, beds, today)
    built = time.perf_counter()
    solver = _Solver(instance, max(1, candidates_per_request))
    bed_for = instance.beds_for(solver.run())
    solved = time.perf_counter()
    result = _result(instance, bed_for, _optimiser_taken)
    timings = (
        ("build", built - started),
        ("solve", solved - built),
        ("explain", time.perf_counter() - solved),
    )
    return replace(
        result, arcs=solver.arcs, rounds=solver.rounds, solves=solver.solves, timings=timings
    )


def greedy(
    requests: Sequence[Request], beds: Sequence[Bed], today: date, *, by_urgency: bool = False
) -> MatchResult:
    """First come, first served: requests in order of waiting (longest first, ties in the
    order given), each taking the first allowed free bed in the order the beds are given.
    With `by_urgency`, the most urgent go first (then the longest waiting): the baseline a
    coordinator working down an urgency-sorted list would reach by hand."""
    _check_unique(requests, beds)
    instance = _Instance(requests, beds, today)
    classes = instance.classes
    size = len(beds)
    taken = np.zeros(len(classes.members), dtype=np.int64)
    first_free = np.array([members[0] for members in classes.members], dtype=np.int64)
    bed_for: dict[int, int] = {}
    order = sorted(range(len(requests)), key=lambda i: requests[i].waiting_since)
    if by_urgency:  # stable: the longest waiting first within each priority
        order.sort(key=lambda i: -int(instance.weight[i]))
    group, free = classes.group, classes.avail
    for i in order:
        allowed = instance.allowed[i][group] & (free <= instance.need[i])
        offered = np.where(allowed, first_free, size)
        c = int(offered.argmin()) if offered.size else 0
        if not offered.size or offered[c] >= size:
            continue
        bed_for[i] = int(offered[c])
        taken[c] += 1
        members = classes.members[c]
        first_free[c] = members[taken[c]] if taken[c] < len(members) else size
    return _result(instance, bed_for, _greedy_taken)


def _check_unique(requests: Sequence[Request], beds: Sequence[Bed]) -> None:
    if len({r.id for r in requests}) != len(requests):
        raise ValueError("request ids must be unique")
    if len({b.id for b in beds}) != len(beds):
        raise ValueError("bed ids must be unique")


@dataclass
class _Classes:
    """Beds grouped into classes that every request sees the same way (step 1). A group is the
    classes of one site that differ only in their free date. Classes are ordered by location,
    then group, then free date: the classes (and groups) at each distinct location are
    consecutive, those with no recorded location last."""

    members: list[list[int]]  # bed indices of each class, in the order given
    rep: list[Bed]  # the first bed of each class
    avail: np.ndarray  # the class's free date, rounded up to a needed date (ordinal)
    capacity: np.ndarray
    group: np.ndarray  # each class's group
    group_first: np.ndarray  # each group's first class (its earliest free)
    group_count: np.ndarray  # how many classes each group has
    locations: list[LatLon]  # the distinct known locations, in order


def _class_key(bed: Bed) -> tuple[object, ...]:
    """Everything about a bed that a rule looks at, except its free date."""
    return (
        bed.site_id,
        bed.provider_id,
        bed.region,
        bed.area,
        bed.location,
        bed.for_children,
        bed.setting,
        bed.takes_dependants,
        bed.wheelchair_accessible,
        bed.languages,
        bed.specialisms,
        bed.near_school,
        bed.operation_id,
    )


def _group_beds(beds: Sequence[Bed], need_days: list[int]) -> _Classes:
    late = date.max.toordinal() + 1
    groups: dict[tuple[object, ...], int] = {}
    index: dict[tuple[int, int], int] = {}
    members: list[list[int]] = []
    avail: list[int] = []
    group: list[int] = []
    for i, bed in enumerate(beds):
        k = bisect_left(need_days, bed.available_from.toordinal())
        rounded = need_days[k] if k < len(need_days) else late
        g = groups.setdefault(_class_key(bed), len(groups))
        c = index.setdefault((g, rounded), len(members))
        if c == len(members):
            members.append([])
            avail.append(rounded)
            group.append(g)
        members[c].append(i)
    known = [beds[m[0]].location for m in members]
    locations = sorted({loc for loc in known if loc is not None})
    where: dict[LatLon | None, int] = {loc: i for i, loc in enumerate(locations)}
    order = sorted(
        range(len(members)), key=lambda c: (where.get(known[c], len(locations)), group[c], avail[c])
    )
    renumber: dict[int, int] = {}
    in_order = np.array(
        [renumber.setdefault(group[c], len(renumber)) for c in order], dtype=np.int64
    )
    counts = np.bincount(in_order, minlength=len(renumber))
    return _Classes(
        members=[members[c] for c in order],
        rep=[beds[members[c][0]] for c in order],
        avail=np.array([avail[c] for c in order], dtype=np.int64),
        capacity=np.array([len(members[c]) for c in order], dtype=np.int64),
        group=in_order.reshape(-1),
        group_first=(np.cumsum(counts) - counts).astype(np.int64),
        group_count=counts.astype(np.int64),
        locations=locations,
    )


class _Codes:
    """Sets of codes as 0/1 matrices, so that overlaps and counts are matrix products."""

    def __init__(self, universe: Iterable[str]) -> None:
        self.index = {code: i for i, code in enumerate(sorted(set(universe)))}

    def encode(self, sets: Sequence[frozenset[str]]) -> np.ndarray:
        out = np.zeros((len(sets), len(self.index)), dtype=np.float32)
        index = self.index
        cells = [(row, index[c]) for row, codes in enumerate(sets) for c in codes if c in index]
        if cells:
            out[tuple(np.array(cells).T)] = 1
        return out


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(rows of a) x (rows of b): do the two sets share a member?"""
    return (a @ b.T) > 0


def _missing(needed: np.ndarray, offered: np.ndarray) -> np.ndarray:
    """(rows of needed) x (rows of offered): how many needed members are not offered."""
    return np.rint(needed @ (1 - offered).T).astype(np.int32)


def _unit_vectors(points: Sequence[LatLon]) -> np.ndarray:
    if not points:
        return np.zeros((0, 3))
    lat, lon = np.radians(np.array(points, dtype=np.float64)).T
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def _profiles(
    requests: Sequence[Request], key: Callable[[Request], object]
) -> tuple[np.ndarray, np.ndarray]:
    """Each request's profile number, and a representative request of each profile."""
    index: dict[object, int] = {}
    of = np.array([index.setdefault(key(r), len(index)) for r in requests], dtype=np.int64)
    reps = np.zeros(len(index), dtype=np.int64)
    reps[of[::-1]] = np.arange(len(requests))[::-1]
    return of.reshape(-1), reps


def _hard_key(r: Request) -> object:
    languages = r.languages if _language_is_hard(r) else None
    return (
        r.child,
        r.accepted_settings,
        settings_companions_rule_out(r),
        r.dependants,
        r.needs_wheelchair,
        languages,
        r.required_specialisms,
        r.operation_id,
    )


def _preference_key(r: Request) -> object:
    languages = r.languages if _language_is_soft(r) else None
    return (r.preferred_regions, r.near_school, r.wanted_specialisms, languages)


# The constraints that depend only on what a request needs, not on its dates or places.
_PROFILE_CONSTRAINTS = (
    Constraint.AGE,
    Constraint.SETTING,
    Constraint.DEPENDANTS,
    Constraint.WHEELCHAIR,
    Constraint.LANGUAGE,
    Constraint.SPECIALISM,
    Constraint.OPERATION,
)


@dataclass
class _Columns:
    """The attributes the rules look at, one entry per column: per bed class, or per group
    (a group's free date is its earliest class's)."""

    children: np.ndarray
    setting: np.ndarray
    deps: np.ndarray
    wheel: np.ndarray
    school: np.ndarray
    lang: np.ndarray
    spec: np.ndarray
    operation: np.ndarray  # -1: open to anyone
    region: np.ndarray
    region_name: np.ndarray
    area_name: np.ndarray
    avail: np.ndarray
    per_location: np.ndarray  # columns at each known location (they are consecutive)
    known: int  # columns with a known location: the first `known`


class _Instance:
    """The requests and beds as arrays: the allowed pairs and their costs (step 2).

    `masks` is the reference, constraint by constraint, for any rows and either bed classes or
    groups; explanations and tests use it. The fast path works on groups: requests with the
    same needs share a row of `profile_allowed`, and those with the same preferences a row of
    `preference_table`; dates, excluded areas and distances, which are each request's own, are
    applied to the one dense request x group table, `allowed`. A request may take a class of an
    allowed group if the class is free by the date needed (`allowed_classes`).
    """

    CHUNK_CELLS = 1_000_000  # request rows are processed in chunks of about this many pairs
    MARGIN_KM = 0.01  # distances this close to a limit are decided by `distance_km`

    def __init__(self, requests: Sequence[Request], beds: Sequence[Bed], today: date) -> None:
        self.requests = list(requests)
        self.beds = list(beds)
        self.today = today
        self.need = np.array(
            [needed_by(r, today).toordinal() for r in requests], dtype=np.int64
        ).reshape(-1)
        self.weight = np.array([priority(r, today) for r in requests], dtype=np.int64).reshape(-1)
        self.classes = _group_beds(beds, sorted({int(d) for d in self.need}))
        self.loc_vectors = _unit_vectors(self.classes.locations)
        self._encode_requests()
        self.by_class = self._columns(np.arange(len(self.classes.rep)))
        self.by_group = self._columns(self.classes.group_first)
        self.profile_of, self.profile_reps = _profiles(self.requests, _hard_key)
        masks = self.masks(self.profile_reps, only=_PROFILE_CONSTRAINTS, cols=self.by_group)
        self.profile_allowed = np.logical_and.reduce(list(masks.values()))
        self.preference_of, reps = _profiles(self.requests, _preference_key)
        self.preference_table = self._preference_table(reps)
        self.allowed = self._allowed()

    def chunks(self, rows: np.ndarray | None = None, *, width: int) -> Iterable[np.ndarray]:
        """`rows` (every request by default) in chunks of about CHUNK_CELLS pairs."""
        rows = np.arange(len(self.requests)) if rows is None else rows
        step = max(1, self.CHUNK_CELLS // max(1, width))
        for start in range(0, len(rows), step):
            yield rows[start : start + step]

    def _encode_requests(self) -> None:
        reqs = self.requests
        self.languages = _Codes(code for r in reqs for code in r.languages)
        self.specialisms = _Codes(
            s for r in reqs for s in r.required_specialisms | r.wanted_specialisms
        )
        self.regions = {n: i for i, n in enumerate(sorted({b.region for b in self.classes.rep}))}
        # The settings each person may be placed in with whoever comes with them.
        self.r_accept = np.array(
            [[s in settings_open_to(r) for s in Setting] for r in reqs], dtype=bool
        ).reshape(-1, len(Setting))
        self.r_child = np.array([r.child for r in reqs], dtype=bool).reshape(-1)
        self.r_deps = np.array([r.dependants for r in reqs], dtype=np.int64).reshape(-1)
        self.r_wheel = np.array([r.needs_wheelchair for r in reqs], dtype=bool).reshape(-1)
        self.r_operation = np.array(
            [-1 if r.operation_id is None else r.operation_id for r in reqs], dtype=np.int64
        ).reshape(-1)
        self.r_school = np.array([r.near_school for r in reqs], dtype=bool).reshape(-1)
        self.r_hard_lang = np.array([_language_is_hard(r) for r in reqs], dtype=bool).reshape(-1)
        self.r_soft_lang = np.array([_language_is_soft(r) for r in reqs], dtype=bool).reshape(-1)
        self.r_lang = self.languages.encode([r.languages for r in reqs])
        self.r_spec_needed = self.specialisms.encode([r.required_specialisms for r in reqs])
        self.r_spec_wanted = self.specialisms.encode([r.wanted_specialisms for r in reqs])
        self.r_region_missed = np.array(
            [
                [bool(r.preferred_regions) and n not in r.preferred_regions for n in self.regions]
                for r in reqs
            ],
            dtype=bool,
        ).reshape(len(reqs), len(self.regions))
        self.r_zones = np.array([bool(r.keep_away) for r in reqs], dtype=bool).reshape(-1)
        names = sorted({a for r in reqs for a in r.excluded_areas})
        self.area_names = {name: i for i, name in enumerate(names)}
        self.r_excluded = np.zeros((len(reqs), len(names) + 1), dtype=bool)  # last: never
        for row, r in enumerate(reqs):
            self.r_excluded[row, [self.area_names[a] for a in r.excluded_areas]] = True
        self.largest_preference_cost = max((_largest_preference_cost(r) for r in reqs), default=0)
        small = self.largest_preference_cost < 30_000
        self.cost_type: type[np.signedinteger[Any]] = np.int16 if small else np.int32

    def _columns(self, picked: np.ndarray) -> _Columns:
        """The attributes of the classes `picked` (all of them, or each group's first)."""
        rep = [self.classes.rep[c] for c in picked.tolist()]
        none = len(self.area_names)
        where = {loc: i for i, loc in enumerate(self.classes.locations)}
        place = np.array([where.get(b.location, -1) for b in rep], dtype=np.int64)
        per_location = np.bincount(place[place >= 0], minlength=len(where))
        return _Columns(
            children=np.array([b.for_children for b in rep], dtype=bool).reshape(-1),
            setting=np.array([list(Setting).index(b.setting) for b in rep], dtype=np.int64),
            deps=np.array([b.takes_dependants for b in rep], dtype=np.int64),
            wheel=np.array([b.wheelchair_accessible for b in rep], dtype=bool),
            school=np.array([b.near_school for b in rep], dtype=bool),
            lang=self.languages.encode([b.languages for b in rep]),
            spec=self.specialisms.encode([b.specialisms for b in rep]),
            operation=np.array(
                [-1 if b.operation_id is None else b.operation_id for b in rep], dtype=np.int64
            ).reshape(-1),
            region=np.array([self.regions[b.region] for b in rep], dtype=np.int64),
            region_name=np.array(
                [self.area_names.get(b.region, none) for b in rep], dtype=np.int64
            ),
            area_name=np.array([self.area_names.get(b.area, none) for b in rep], dtype=np.int64),
            avail=self.classes.avail[picked],
            per_location=per_location,
            known=int(per_location.sum()),
        )

    def masks(
        self,
        rows: np.ndarray,
        only: Iterable[Constraint] = tuple(Constraint),
        cols: _Columns | None = None,
    ) -> dict[Constraint, np.ndarray]:
        """For each constraint, which (request in rows, class) pairs it allows (or which
        (request, group) pairs, for `cols=by_group`)."""
        k = self.by_class if cols is None else cols
        rules = {
            Constraint.AGE: lambda: self.r_child[rows][:, None] == k.children[None, :],
            Constraint.SETTING: lambda: self.r_accept[rows][:, k.setting],
            Constraint.DEPENDANTS: lambda: k.deps[None, :] >= self.r_deps[rows][:, None],
            Constraint.WHEELCHAIR: lambda: k.wheel[None, :] | ~self.r_wheel[rows][:, None],
            Constraint.LANGUAGE: lambda: (
                _overlap(self.r_lang[rows], k.lang) | ~self.r_hard_lang[rows][:, None]
            ),
            Constraint.SPECIALISM: lambda: _missing(self.r_spec_needed[rows], k.spec) == 0,
            Constraint.OPERATION: lambda: (
                (k.operation[None, :] == -1)
                | (k.operation[None, :] == self.r_operation[rows][:, None])
            ),
            Constraint.AVAILABLE: lambda: k.avail[None, :] <= self.need[rows][:, None],
            Constraint.EXCLUDED_AREA: lambda: self._area_mask(rows, k),
            Constraint.DISTANCE: lambda: self._distance_mask(rows, k),
        }
        return {constraint: rules[constraint]() for constraint in only}

    def _allowed(self) -> np.ndarray:
        """Request x group: the group has a class this request may take."""
        k = self.by_group
        allowed = self.profile_allowed[self.profile_of].reshape(len(self.requests), len(k.avail))
        allowed &= k.avail[None, :] <= self.need[:, None]
        excluding = np.flatnonzero(self.r_excluded.any(axis=1))
        if excluding.size:
            allowed[excluding] &= self._area_mask(excluding, k)
        for rows in self.chunks(np.flatnonzero(self.r_zones), width=len(k.avail)):
            allowed[rows] &= self._distance_mask(rows, k)
        return allowed

    def allowed_classes(self, rows: np.ndarray) -> np.ndarray:
        """Request x class: the same as every mask of `masks(rows)` together, faster."""
        by_group = self.allowed[rows][:, self.classes.group]
        return by_group & (self.classes.avail[None, :] <= self.need[rows][:, None])

    def _area_mask(self, rows: np.ndarray, k: _Columns) -> np.ndarray:
        excluded = self.r_excluded[rows]
        return ~(excluded[:, k.region_name] | excluded[:, k.area_name])

    def _preference_parts(
        self, k: _Columns
    ) -> list[tuple[Callable[[Request], object], Callable[[np.ndarray], np.ndarray]]]:
        """Each kind of preference: what in a request it depends on, and its cost for every
        (request in rows, column) pair."""
        t = self.cost_type  # numpy scalars keep every step in the small type (and fast)
        return [
            (
                lambda r: r.preferred_regions,
                lambda rows: t(REGION_MISSED) * self.r_region_missed[rows][:, k.region].astype(t),
            ),
            (
                lambda r: r.near_school,
                lambda rows: (
                    t(NEAR_SCHOOL_MISSED) * (self.r_school[rows][:, None] & ~k.school[None, :])
                ),
            ),
            (
                lambda r: r.wanted_specialisms,
                lambda rows: (
                    t(SPECIALISM_MISSED) * _missing(self.r_spec_wanted[rows], k.spec).astype(t)
                ),
            ),
            (
                lambda r: r.languages if _language_is_soft(r) else None,
                lambda rows: (
                    t(LANGUAGE_MISSED)
                    * (self.r_soft_lang[rows][:, None] & ~_overlap(self.r_lang[rows], k.lang))
                ),
            ),
        ]

    def preference_costs(self, rows: np.ndarray) -> np.ndarray:
        """The same sum as `preference_cost`, for every (request in rows, class) pair."""
        cost = np.zeros((len(rows), len(self.classes.rep)), dtype=self.cost_type)
        for _, part in self._preference_parts(self.by_class):
            cost += part(rows)
        return cost

    def _preference_table(self, reps: np.ndarray) -> np.ndarray:
        """The preference costs of (the requests `reps`) x groups, summed from one small
        table per kind of preference (a row per distinct value: few sets of regions...)."""
        cost = np.zeros((len(reps), len(self.by_group.avail)), dtype=self.cost_type)
        for key, part in self._preference_parts(self.by_group):
            of, part_reps = _profiles(self.requests, key)
            cost += part(part_reps)[of[reps]]
        return cost

    def _distance_mask(self, rows: np.ndarray, k: _Columns) -> np.ndarray:
        """Columns far enough from every place the request keeps away from. A column whose
        location is not recorded is refused to a request with such places: fail closed."""
        mask = np.empty((len(rows), len(k.avail)), dtype=bool)
        mask[:, k.known :] = ~self.r_zones[rows][:, None]
        close = self._close_locations(rows)
        mask[:, : k.known] = ~np.repeat(close, k.per_location, axis=1)
        return mask

    def _close_locations(self, rows: np.ndarray) -> np.ndarray:
        """(row, location): is the location within some zone of the row's request? Pairs within
        MARGIN_KM of a limit are decided by `distance_km`, the formula `check` uses."""
        locations = self.classes.locations
        close = np.zeros((len(rows), len(locations)), dtype=bool)
        zones = [(pos, z) for pos, i in enumerate(rows) for z in self.requests[i].keep_away]
        if not zones or not locations:
            return close
        km = np.array([z.km for _, z in zones], dtype=np.float64)
        angle_out = (km + self.MARGIN_KM) / EARTH_RADIUS_KM
        cos_out = np.where(angle_out >= math.pi, -2.0, np.cos(np.minimum(angle_out, math.pi)))
        angle_in = (km - self.MARGIN_KM) / EARTH_RADIUS_KM
        cos_in = np.where(angle_in > 0, np.cos(np.clip(angle_in, 0, math.pi)), np.inf)
        dots = _unit_vectors([z.location for _, z in zones]) @ self.loc_vectors.T
        zone_of, loc = np.nonzero(dots >= cos_out[:, None])  # near enough to look at
        within = dots[zone_of, loc] >= cos_in[zone_of]
        for k in np.flatnonzero(~within).tolist():  # within the margin of the limit
            zone = zones[zone_of[k]][1]
            within[k] = distance_km(zone.location, locations[loc[k]]) <= zone.km
        positions = np.array([pos for pos, _ in zones], dtype=np.int64)
        close[positions[zone_of[within]], loc[within]] = True
        return close

    def beds_for(self, assigned: np.ndarray) -> dict[int, int]:
        """Hand out each class's beds: earliest free beds to the earliest needed requests."""
        bed_for: dict[int, int] = {}
        placed = np.flatnonzero(assigned >= 0)
        order = placed[np.lexsort((-self.weight[placed], self.need[placed], assigned[placed]))]
        queues: dict[int, list[int]] = {}
        for i in order.tolist():
            c = int(assigned[i])
            if c not in queues:
                members = self.classes.members[c]
                queues[c] = sorted(members, key=lambda b: (self.beds[b].available_from, b))
            bed_for[i] = queues[c].pop(0)
        return bed_for


def _sample(tied: np.ndarray, wanted: np.ndarray, ties: np.ndarray, luck: np.ndarray) -> np.ndarray:
    """About `wanted` of each row's `tied` entries, chosen by `luck` (uniform below 2**16)."""
    threshold = (1 << 16) * wanted // np.maximum(ties, 1)
    return tied & (luck < threshold[:, None])


class _NotOptimal(RuntimeError):
    """The dual prices do not prove the solution optimal."""


class _Solver:
    """Min-cost flow on a sparse graph, priced against every allowed pair (steps 3 to 5).

    The graph's nodes are requests and bed classes. The dense work is on groups (`cols`: the
    groups some request may use): a request allowed a group may take each of its classes free
    by the date it needs, and all of them cost it the same, so the first arcs go to the class
    free latest in time, and pricing needs only the cheapest-priced of them."""

    MAX_CAPPED_ROUNDS = 20  # after this many rounds, add every improving pair at once
    FAST_ITERATIONS = 500  # dual price iterations before a fast answer is redone exactly
    LOCAL_FOUND = 500  # up to this many improving pairs, try re-solving near them only
    LOCAL_DEPTH = 2  # the widest neighbourhood tried (in steps from the new arcs)
    LOCAL_SHARE = 0.5  # ... unless the neighbourhood holds more than this share of requests

    def __init__(self, instance: _Instance, candidates: int) -> None:
        self.inst = instance
        self.candidates = candidates
        classes = instance.classes
        self.cols = np.flatnonzero(instance.allowed.any(axis=0))
        self.allowed = instance.allowed[:, self.cols]
        self.table = instance.preference_table[:, self.cols]
        self.capacity = classes.capacity
        self.days, self.day_of = np.unique(instance.need, return_inverse=True)
        self.day_of = self.day_of.reshape(-1)
        # latest[d, g]: the class of group cols[g] free latest by day d (-1: none yet)
        span = date.max.toordinal() + 2
        order_key = classes.avail + classes.group * span  # sorted: classes go by group, date
        query = self.days[:, None] + (self.cols * span)[None, :]
        upto = np.searchsorted(order_key, query, side="right")
        first = classes.group_first[self.cols][None, :]
        self.latest = np.where(upto > first, upto - 1, -1)
        n_requests, n_groups = int(self.allowed.shape[0]), int(self.allowed.shape[1])
        most_placed = min(n_requests, len(instance.beds))
        self.unit = instance.largest_preference_cost * most_placed + 1
        # The value of placing someone, in the combined objective the duals price: larger than
        # every priority and preference term of every other placement together.
        self.place = most_placed * (MAX_PRIORITY * self.unit + instance.largest_preference_cost) + 1
        # Solving with a smaller priority unit is faster (fewer cost-scaling phases) and almost
        # always gives the same answer; the dual prices, computed with the exact unit, check it.
        self.fast_unit = min(self.unit, 4 * instance.largest_preference_cost + 1)
        self.edge_r = np.zeros(0, dtype=np.int64)
        self.edge_c = np.zeros(0, dtype=np.int64)
        rng = np.random.default_rng(20_090_401)
        self.row_hash = rng.integers(0, 1 << 16, size=n_requests).astype(np.int32)
        self.tie_hash = rng.integers(0, 1 << 16, size=n_groups).astype(np.int32)
        self.spread_hash = rng.integers(0, 1 << 16, size=n_groups).astype(np.int32)
        self.solves = 0
        self.local_solves = 0
        self.exact_solves = 0
        self.arcs = 0
        self.rounds = 0

    def costs(self, rows: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """The preference costs of the pairs (rows[k], classes[k])."""
        group = self.inst.classes.group[classes]
        return self.inst.preference_table[self.inst.preference_of[rows], group]

    def run(self) -> np.ndarray:
        """The optimal class of each request (an index into the instance's classes), or -1."""
        if not self.cols.size:
            return np.full(len(self.inst.requests), -1, dtype=np.int64)
        self._first_arcs()
        assigned, prices = self._solve_all()
        while True:
            self.rounds += 1
            before = self.edge_r.size
            found = self._price(assigned, prices, capped=self.rounds <= self.MAX_CAPPED_ROUNDS)
            if not found:
                return assigned
            local = None
            if found <= self.LOCAL_FOUND:
                local = self._solve_near(assigned, np.unique(self.edge_r[before:]))
            assigned, prices = local or self._solve_all()

    def _solve_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Solve the whole graph, and the dual prices that prove the answer optimal on it."""
        self.solves += 1
        assigned = self._solve(self.fast_unit)
        try:
            return assigned, self._class_prices(assigned, self.FAST_ITERATIONS)
        except _NotOptimal:  # the fast weights traded priority for preferences: redo
            self.exact_solves += 1
            assigned = self._solve(self.unit)
            return assigned, self._class_prices(assigned, len(self.capacity) + 1)

    def _solve_near(
        self, assigned: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """After a few arcs are added, re-solve only the requests near them (the others keep
        their beds), and return the answer if the dual prices prove it optimal on the whole
        graph. Widen the neighbourhood while that fails and it is small enough to be worth it;
        None when it is not."""
        for depth in range(1, self.LOCAL_DEPTH + 1):
            region = self._neighbourhood(assigned, rows, depth)
            if region.size > self.LOCAL_SHARE * len(assigned):
                return None
            self.local_solves += 1
            trial = self._solve(self.fast_unit, assigned, region)
            try:
                return trial, self._class_prices(trial, self.FAST_ITERATIONS)
            except _NotOptimal:
                continue
        return None

    def _neighbourhood(self, assigned: np.ndarray, rows: np.ndarray, depth: int) -> np.ndarray:
        """`rows`, then `depth` times: everyone placed in, or waiting with an arc to, a class
        the rows so far have an arc to."""
        er, ec = self.edge_r, self.edge_c
        inside = np.zeros(len(assigned), dtype=bool)
        inside[rows] = True
        placed = assigned >= 0
        for _ in range(depth):
            near = np.zeros(len(self.capacity), dtype=bool)
            near[ec[inside[er]]] = True
            inside |= placed & near[np.maximum(assigned, 0)]
            inside[er[near[ec] & ~placed[er]]] = True
        return np.flatnonzero(inside)

    def _first_arcs(self) -> None:
        """About `candidates` of the cheapest allowed groups of each row (ties go to beds whose
        room for children or wheelchair access the person does not need, then to beds free
        closest to the date needed, then to chance), and SPREAD more anywhere, so that the first
        graph reaches all of the supply. Each arc goes to the group's class free latest."""
        inst = self.inst
        t = inst.cost_type
        key_table = t(256) * np.minimum(self.table, t(100))
        reps = inst.profile_reps
        deps, wheel = inst.by_group.deps[self.cols], inst.by_group.wheel[self.cols]
        spare_table = t(64) * (deps[None, :] > inst.r_deps[reps][:, None])
        spare_table += t(128) * (wheel[None, :] & ~inst.r_wheel[reps][:, None])
        latest_free = inst.classes.avail[np.maximum(self.latest, 0)]
        slack_table = np.clip(self.days[:, None] - latest_free, 0, 63).astype(t)
        for chunk in inst.chunks(width=len(self.cols)):
            rows = slice(int(chunk[0]), int(chunk[-1]) + 1)  # a view, not a copy
            allowed = self.allowed[rows]
            if allowed.shape[1] <= self.candidates + SPREAD:
                self._add(chunk, allowed)
                continue
            key = key_table[inst.preference_of[rows]] + spare_table[inst.profile_of[rows]]
            key += slack_table[self.day_of[rows]]
            key[~allowed] = np.iinfo(t).max
            luck = self.tie_hash[None, :] ^ self.row_hash[rows][:, None]
            chosen = self._cheapest(key, allowed, luck)
            luck ^= self.spread_hash[None, :]
            spread = np.full(len(chunk), SPREAD)
            self._add(chunk, chosen | _sample(allowed, spread, allowed.sum(axis=1), luck))

    def _cheapest(self, key: np.ndarray, allowed: np.ndarray, luck: np.ndarray) -> np.ndarray:
        """About `candidates` allowed entries of lowest key in each row (ties by `luck`)."""
        k = self.candidates
        kth = np.partition(key, k - 1, axis=1)[:, k - 1, None]
        below = (key < kth) & allowed
        tied = (key == kth) & allowed
        wanted = k - below.sum(axis=1)
        return below | _sample(tied, wanted, tied.sum(axis=1), luck)

    def _add(self, rows: np.ndarray, chosen: np.ndarray, to: np.ndarray | None = None) -> None:
        """Add arcs from rows to the chosen groups: to each group's class in `to` (a day x group
        table), by default the class free latest by the date the row needs."""
        r, g = np.divmod(np.flatnonzero(chosen), chosen.shape[1])
        table = self.latest if to is None else to
        self.edge_r = np.concatenate([self.edge_r, rows[r]])
        self.edge_c = np.concatenate([self.edge_c, table[self.day_of[rows[r]], g]])

    def _solve(
        self, unit: int, assigned: np.ndarray | None = None, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Maximum flow with minimum cost on the graph's arcs, with nodes only for the requests
        and classes that have arcs; or only for `rows`, the others keeping their `assigned`
        classes."""
        inst = self.inst
        er, ec = self.edge_r, self.edge_c
        self.arcs = int(er.size)
        capacity = self.capacity
        result = np.full(len(inst.requests), -1, dtype=np.int64)
        if rows is not None and assigned is not None:
            inside = np.zeros(len(assigned), dtype=bool)
            inside[rows] = True
            er, ec = er[inside[er]], ec[inside[er]]
            kept = assigned[~inside & (assigned >= 0)]
            capacity = capacity - np.bincount(kept, minlength=len(capacity))
            result = np.where(inside, -1, assigned)
        if not er.size:
            return result
        requests, r_node = np.unique(er, return_inverse=True)
        classes, c_node = np.unique(ec, return_inverse=True)
        n_r, n_c = requests.size, classes.size
        costs = (MAX_PRIORITY - inst.weight[er]) * unit + self.costs(er, ec)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            r_node.astype(np.int32),
            (n_r + c_node).astype(np.int32),
            np.ones(er.size, dtype=np.int64),
            costs.astype(np.int64),
        )
        # Each request supplies one person, each class takes up to its beds: no source or sink
        # hubs, and the solver still maximises the flow first.
        flow.set_nodes_supplies(
            np.arange(n_r + n_c, dtype=np.int32),
            np.concatenate([np.ones(n_r), -capacity[classes]]).astype(np.int64),
        )
        status = flow.solve_max_flow_with_min_cost()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"the min-cost flow solver stopped with {status}")
        used = np.asarray(flow.flows(np.arange(er.size, dtype=np.int32))) > 0
        result[er[used]] = ec[used]
        return result

    def _class_prices(self, assigned: np.ndarray, iterations: int) -> np.ndarray:
        """The least dual prices of the classes that prove `assigned` optimal on the graph.

        In the combined objective a pair (r, c) is worth place + priority(r) * unit - cost(r, c).
        Unplaced r: every class r reaches must be worth it (price >= the pair's value). Placed
        r at a(r): moving r to c must not pay, price(c) >= price(a(r)) + cost(r, a) - cost(r, c).
        """
        inst = self.inst
        er, ec = self.edge_r, self.edge_c
        prices = np.zeros(len(self.capacity), dtype=np.int64)
        unplaced = assigned[er] < 0
        value = (
            self.place
            + inst.weight[er[unplaced]] * self.unit
            - self.costs(er[unplaced], ec[unplaced])
        )
        np.maximum.at(prices, ec[unplaced], value)
        moves = (assigned[er] >= 0) & (ec != assigned[er])
        src = assigned[er[moves]]
        dst = ec[moves]
        gain = self.costs(er[moves], src).astype(np.int64) - self.costs(er[moves], dst)
        for _ in range(iterations):
            offer = prices[src] + gain
            better = offer > prices[dst]
            if not better.any():
                return self._checked(prices, assigned)
            np.maximum.at(prices, dst[better], offer[better])
        raise _NotOptimal("the dual prices do not converge")

    def _checked(self, prices: np.ndarray, assigned: np.ndarray) -> np.ndarray:
        """Complementary slackness: a class with a bed to spare has no price, and no placed
        request is worth less than its class's price."""
        used = np.bincount(assigned[assigned >= 0], minlength=len(prices))
        placed = np.flatnonzero(assigned >= 0)
        value = (
            self.place + self.inst.weight[placed] * self.unit - self.costs(placed, assigned[placed])
        )
        if (prices[used < self.capacity] != 0).any() or (value < prices[assigned[placed]]).any():
            raise _NotOptimal("complementary slackness fails")
        return prices

    def _cheapest_classes(self, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each day and group: the lowest price among the group's classes free by that day,
        and the class with it (a request allowed the group may take any of them, at the same
        preference cost)."""
        classes = self.inst.classes
        first, count = classes.group_first[self.cols], classes.group_count[self.cols]
        width = int(count.max())
        bucket = first[:, None] + np.arange(width)[None, :]
        valid = np.arange(width)[None, :] < count[:, None]
        bucket = np.where(valid, bucket, first[:, None])
        price = np.where(valid, prices[bucket], np.iinfo(np.int64).max)
        best_price, best_class = price.copy(), bucket.copy()
        for j in range(1, width):  # running minimum along each group's classes, by date
            keep = best_price[:, j - 1] <= price[:, j]
            best_price[:, j] = np.where(keep, best_price[:, j - 1], price[:, j])
            best_class[:, j] = np.where(keep, best_class[:, j - 1], bucket[:, j])
        upto = np.maximum(self.latest - first[None, :], 0)  # index of the latest class by day
        g = np.arange(len(self.cols))[None, :]
        return best_price[g, upto], best_class[g, upto]

    def _price(self, assigned: np.ndarray, prices: np.ndarray, *, capped: bool) -> int:
        """Add the allowed pairs with a negative reduced cost; return how many there were.

        A placed request r gains only from a class c with price(c) + cost(r, c) below
        threshold(r) = price(a(r)) + cost(r, a(r)); an unplaced one from a class priced below
        its value. Within an allowed group only the cheapest-priced class free in time matters,
        and costs are never negative, so a row whose cheapest such price is at or above its
        threshold has nothing to add; only the other rows are looked at pair by pair. A pair
        already in the graph never has a negative reduced cost (the prices see to that)."""
        inst = self.inst
        placed = assigned >= 0
        at = np.maximum(assigned, 0)
        threshold = np.where(
            placed,
            prices[at] + self.costs(np.arange(len(at)), at),
            self.place + inst.weight * self.unit,
        )
        best_price, best_class = self._cheapest_classes(prices)
        rows = self._may_improve(best_price, threshold)
        found = 0
        for chunk in inst.chunks(rows, width=len(self.cols)):
            value = best_price[self.day_of[chunk]] + self.table[inst.preference_of[chunk]]
            improving = self.allowed[chunk] & (value < threshold[chunk, None])
            some = improving.any(axis=1)
            chunk, value, improving = chunk[some], value[some], improving[some]
            found += int(improving.sum())
            if capped and improving.shape[1] > self.candidates:
                key = np.where(improving, value, np.iinfo(np.int64).max)
                pick = np.argpartition(key, self.candidates - 1, axis=1)[:, : self.candidates]
                chosen = np.zeros_like(improving)
                np.put_along_axis(chosen, pick, True, axis=1)
                improving &= chosen
            self._add(chunk, improving, best_class)
        return found

    def _may_improve(self, best_price: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """The rows whose lowest price among their allowed groups is below their threshold
        (a lower bound of what any of their pairs is worth), day by day."""
        out = []
        for day in range(len(self.days)):
            rows = np.flatnonzero((self.day_of == day) & (threshold > 0))
            order = np.argsort(best_price[day], kind="stable")
            for chunk in self.inst.chunks(rows, width=len(self.cols)):
                allowed = np.take(self.allowed[chunk], order, axis=1)
                first = allowed.argmax(axis=1)
                found = allowed[np.arange(len(chunk)), first]
                out.append(chunk[found & (best_price[day][order][first] < threshold[chunk])])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


# --- Explanations ---


def _result(
    inst: _Instance, bed_for: dict[int, int], taken: Callable[[_Instance, int, np.ndarray], str]
) -> MatchResult:
    proposals = tuple(
        _proposal(inst.requests[i], inst.beds[b], int(inst.weight[i]))
        for i, b in sorted(bed_for.items())
    )
    left = np.array([i for i in range(len(inst.requests)) if i not in bed_for], dtype=np.int64)
    unplaced = _explain(inst, left, bed_for, taken) if left.size else []
    return MatchResult(proposals, tuple(unplaced))


@dataclass
class _Narrowing:
    """What applying the constraints in order did to one unplaced request's free beds."""

    kept: list[str]  # descriptions of the constraints that narrowed the beds down
    emptied_by: Constraint | None = None  # the constraint that left no bed; None: beds remain
    before: np.ndarray | None = None  # the classes left just before it


def _explain(
    inst: _Instance,
    rows: np.ndarray,
    bed_for: dict[int, int],
    taken: Callable[[_Instance, int, np.ndarray], str],
) -> list[Unplaced]:
    """Apply the constraints in order to the unplaced requests' free beds (all rows at once);
    the first that leaves none is the reason. If some beds meet every constraint, say who they
    went to."""
    capacity = inst.classes.capacity
    masks = inst.masks(rows)
    ruled_out = {k: (~m).astype(np.int64) @ capacity for k, m in masks.items()}
    phrases = [_phrases(inst.requests[i], inst.today) for i in rows.tolist()]
    state = [_Narrowing(kept=[]) for _ in rows]
    left = np.ones((len(rows), len(capacity)), dtype=bool)
    open_ = np.ones(len(rows), dtype=bool)
    for constraint, allowed in masks.items():
        narrower = left & allowed
        emptied = open_ & ~(narrower @ capacity).astype(bool)
        narrowed = open_ & ~emptied & (narrower != left).any(axis=1)
        for pos in np.flatnonzero(emptied).tolist():
            state[pos].emptied_by = constraint
            state[pos].before = left[pos].copy()
        if constraint != Constraint.SETTING:
            # what the person needs, and whatever else narrowed the beds down
            mention = narrowed | (open_ & ~emptied & (constraint in _NEEDS))
            for pos in np.flatnonzero(mention).tolist():
                if constraint in phrases[pos]:
                    state[pos].kept.append(phrases[pos][constraint][0])
        open_ &= ~emptied
        left = narrower
    class_of = np.empty(len(inst.beds), dtype=np.int64)
    for c, members in enumerate(inst.classes.members):
        class_of[members] = c
    got = np.array(list(bed_for), dtype=np.int64)
    got_class = class_of[np.array(list(bed_for.values()), dtype=np.int64)]
    out = []
    for pos, i in enumerate(rows.tolist()):
        request = inst.requests[i]
        counts = tuple((k.value, int(n[pos])) for k, n in ruled_out.items())
        step = state[pos]
        if not inst.beds:
            out.append(Unplaced(request.id, NO_BEDS, "no bed is free", counts, 0))
        elif step.emptied_by is not None and step.before is not None:
            text = _ruled_out_text(inst, request, step, phrases[pos])
            out.append(Unplaced(request.id, step.emptied_by.value, text, counts, 0))
        else:
            others = got[left[pos][got_class]]
            text = taken(inst, i, inst.weight[others])
            suitable = int(capacity[left[pos]].sum())
            out.append(Unplaced(request.id, TAKEN, text, counts, suitable))
    return out


# Needs always named in a reason (the rest only when they narrowed the beds down).
_NEEDS = (Constraint.DEPENDANTS, Constraint.WHEELCHAIR, Constraint.SPECIALISM)


def _ruled_out_text(
    inst: _Instance, request: Request, step: _Narrowing, phrases: dict[Constraint, tuple[str, str]]
) -> str:
    if step.emptied_by == Constraint.AGE:
        if request.child:
            return f"no bed in a setting for children is free: {CHILD_WHY}"
        return "no bed in a setting for adults is free"
    open_to = settings_open_to(request)
    if not open_to:
        # Every setting they accept is single-sex, and an adult of the other sex comes.
        only = min(request.accepted_settings)
        return (
            f"no bed can take them: they may be placed only in a "
            f"{_settings_text(request.accepted_settings)} setting, and "
            f"{_who_comes(request, only)} comes with them"
        )
    setting = _settings_text(open_to)
    if request.child:
        setting += " bed for children"
    else:
        setting += " bed"
    if step.emptied_by == Constraint.SETTING or step.before is None:
        return f"no {setting} is free"
    count = int(inst.classes.capacity[step.before].sum())
    subject = ("the only" if count == 1 else "every") + f" free {setting}"
    if step.kept:
        subject += " " + " and ".join(step.kept)
    if step.emptied_by == Constraint.DISTANCE:
        return f"{subject} {_distance_predicate(inst, request, step.before)}"
    assert step.emptied_by is not None  # noqa: S101 -- for the type checker
    return f"{subject} {phrases[step.emptied_by][1]}"


def _proposal(request: Request, bed: Bed, weight: int) -> Proposal:
    met: list[str] = []
    missed: list[str] = []

    def note(ok: bool, yes: str, no: str) -> None:
        (met if ok else missed).append(yes if ok else no)

    if request.preferred_regions:
        note(
            bed.region in request.preferred_regions,
            f"in a preferred region ({bed.region})",
            f"not in a preferred region ({_join(sorted(request.preferred_regions), 'or')})",
        )
    if request.near_school:
        note(bed.near_school, "near a school", "not near a school")
    for s in sorted(request.wanted_specialisms):
        label = s.replace("_", " ")
        note(s in bed.specialisms, f"specialises in {label}", f"does not specialise in {label}")
    if _language_is_soft(request):
        common = request.languages & bed.languages
        note(
            bool(common),
            f"staff speak {_languages_text(common, 'and')}",
            f"no staff speak {_languages_text(request.languages)} (an interpreter will be needed)",
        )
    safety, nearest = _safety(request, bed)
    return Proposal(
        request_id=request.id,
        bed_id=bed.id,
        site_id=bed.site_id,
        priority=weight,
        preference_cost=preference_cost(request, bed),
        met=tuple(met),
        missed=tuple(missed),
        safety=tuple(safety),
        nearest_km=nearest,
    )


def _safety(request: Request, bed: Bed) -> tuple[list[str], float | None]:
    lines = []
    nearest: float | None = None
    for zone in request.keep_away:
        assert bed.location is not None  # noqa: S101 -- `check` refuses unknown locations
        km = distance_km(zone.location, bed.location)
        nearest = km if nearest is None else min(nearest, km)
        # The requirement met, not the distance: with a site's own position, an exact distance
        # from a town would tell its staff which town the person must keep away from.
        lines.append(f"more than {_km(zone.km)} from {zone.label}")
    if request.excluded_areas:
        # Not naming them: this text is kept with the placement and shown to the provider, and
        # the areas say where the person was exploited.
        n = len(request.excluded_areas)
        lines.append(
            "outside the area to keep away from"
            if n == 1
            else f"outside all {n} areas to keep away from"
        )
    return lines, nearest


def _distance_predicate(inst: _Instance, request: Request, left: np.ndarray) -> str:
    unknown = np.flatnonzero(left) >= inst.by_class.known
    zones = _join([f"{_km(z.km)} of {z.label}" for z in request.keep_away], "or")
    if unknown.all():
        return "has no recorded location, so its distance cannot be checked"
    if unknown.any():
        return f"is within {zones}, or has no recorded location"
    return f"is within {zones}"


def _phrases(request: Request, today: date) -> dict[Constraint, tuple[str, str]]:
    """For each constraint the request has: how a bed that meets it is described, and what
    is said of a bed that does not."""
    out = {Constraint.SETTING: (_settings_text(request.accepted_settings), "")}
    if request.dependants:
        fewer = "no" if request.dependants == 1 else f"fewer than {request.dependants}"
        # Say who comes: an adult sister is no child, and the reason is kept on their record.
        if any(companion.adult for companion in request.companions):
            others = "no one else" if request.dependants == 1 else f"{fewer} others"
            out[Constraint.DEPENDANTS] = (f"that takes {_with_them(request)}", f"takes {others}")
        else:
            out[Constraint.DEPENDANTS] = (
                f"that takes {_children(request.dependants)}",
                f"takes {fewer} children",
            )
    if request.needs_wheelchair:
        out[Constraint.WHEELCHAIR] = ("that has wheelchair access", "has no wheelchair access")
    if _language_is_hard(request):
        spoken = _languages_text(request.languages)
        out[Constraint.LANGUAGE] = (
            f"whose staff speak {spoken}",
            f"has no staff who speak {spoken}",
        )
    if request.required_specialisms:
        needed = _specialisms_text(request.required_specialisms, "and")
        out[Constraint.SPECIALISM] = (
            f"that specialises in {needed}",
            f"lacks a specialism the person needs ({needed})",
        )
    out[Constraint.OPERATION] = (
        "that is open to them",
        "is kept for the people of an operation they were not found in",
    )
    due = _day(needed_by(request, today))
    out[Constraint.AVAILABLE] = (f"that is free by {due}", f"is free only after {due}")
    if request.excluded_areas:
        areas = _join(sorted(request.excluded_areas), "and")
        out[Constraint.EXCLUDED_AREA] = (f"that is outside {areas}", f"is in {areas}")
    if request.keep_away:
        out[Constraint.DISTANCE] = ("that is far enough from the places to keep away from", "")
    return out


def _optimiser_taken(inst: _Instance, i: int, others: np.ndarray) -> str:
    """Who the beds meeting every constraint went to, ranked against this request."""
    weight = inst.weight[i]
    higher = int((others > weight).sum())
    same = int((others == weight).sum())
    lower = len(others) - higher - same
    subject = _suitable_beds(len(others))
    if higher == len(others):
        return f"{subject} proposed for people with more urgent needs or who have waited longer"
    parts = []
    if higher:
        parts.append(f"{higher} more urgent or waiting longer")
    if same:
        parts.append(f"{same} as urgent and waiting as long")
    if lower:
        parts.append(f"{lower} less urgent, placed there so that more people are placed in all")
    return f"{subject} proposed for other people ({'; '.join(parts)})"


def _suitable_beds(n: int) -> str:
    return (
        "the only bed meeting every constraint is"
        if n == 1
        else f"all {n} beds meeting every constraint are"
    )


def _greedy_taken(inst: _Instance, i: int, others: np.ndarray) -> str:
    subject = _suitable_beds(len(others)).replace(" is", " was").replace(" are", " were")
    return f"{subject} taken by people ahead in the queue"


# --- Wording ---


def _location(what: str, location: object) -> LatLon:
    """A (latitude, longitude) pair of finite numbers in range, as a tuple of floats (a list
    would make the bed unhashable and fail deep inside `match`)."""
    if location is None:
        raise ValueError(f"{what} needs a latitude and longitude, not None")
    if isinstance(location, str | bytes) or not isinstance(location, Sequence):
        raise ValueError(f"{what} must be a (latitude, longitude) pair, not {location!r}")
    if len(location) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in location
    ):
        raise ValueError(f"{what} must be a (latitude, longitude) pair, not {location!r}")
    lat, lon = float(location[0]), float(location[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN fails both
        raise ValueError(f"{what}: not a latitude and longitude: {location!r}")
    return (lat, lon)


def _codes(name: str, values: object) -> frozenset[str]:
    """A set of codes or names; one string given instead would become a set of letters."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a set of codes, not {values!r}")
    found = frozenset(values)
    if not all(isinstance(v, str) for v in found):
        raise ValueError(f"{name} must hold text codes, not {sorted(map(repr, found))}")
    return found


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, not {value!r}")
    return bool(value)


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _join(items: Sequence[str], word: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _children(n: int) -> str:
    return "no children" if n == 0 else "1 child" if n == 1 else f"{n} children"


def _km(km: float) -> str:
    return f"{km:.1f} km" if km < 10 else f"{km:.0f} km"


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _settings_text(settings: Iterable[str]) -> str:
    return _join([SETTING_LABELS[s] for s in Setting if s in set(settings)], "or")


def _specialisms_text(specialisms: Iterable[str], word: str) -> str:
    return _join([s.replace("_", " ") for s in sorted(specialisms)], word)


@cache
def _language(code: str) -> str:
    return language_name(code)


def _languages_text(codes: Iterable[str], word: str = "or") -> str:
    return _join([_language(c) for c in sorted(codes)], word)


# Why people could not be placed: matching's constraints (`Constraint`), its two codes
# for a request no single constraint ruled out, and a coordinator closing a request as unmet.
CONSTRAINT_LABELS = {
    Constraint.AGE.value: "No bed for their age group (a child is never placed with adults)",
    Constraint.SETTING.value: "Setting (women only, men only or mixed)",
    Constraint.DEPENDANTS.value: "Room for their children",
    Constraint.WHEELCHAIR.value: "Wheelchair access",
    Constraint.LANGUAGE.value: "Staff who speak their language",
    Constraint.SPECIALISM.value: "Specialist support they need",
    Constraint.OPERATION.value: "Only beds kept for an operation they were not found in",
    Constraint.AVAILABLE.value: "No bed free in time",
    Constraint.EXCLUDED_AREA.value: "Only in areas they must keep away from",
    Constraint.DISTANCE.value: "Too close to a place they must keep away from",
    TAKEN: "Suitable beds all went to others",
    NO_BEDS: "No bed free at all",
    "closed": "Closed by a coordinator: no suitable place",
}


def constraint_label(code: str) -> str:
    return CONSTRAINT_LABELS.get(code, code.replace("_", " ").capitalize())
