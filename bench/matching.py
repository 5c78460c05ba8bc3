"""Optimal bed matching (`accommodation.matching.match`) against first come, first served.

Generates a seeded synthetic instance shaped like the UK's safe-house system: twelve regions with
latitude and longitude boxes and the towns in them; sites that are safe houses (8 to 40 beds)
or dispersed flats (1 to 4); women-only, men-only and mixed settings; family rooms and
wheelchair-accessible rooms; staff languages and specialisms; 45% of beds free now and the rest
coming free over the next eight weeks, so that beds for people who need one today are scarce.
Requests mirror the people referred: women and men, some with children, the languages of the
NRM's main nationalities (most with an interpreter), a place of exploitation to keep 25 to 100
km away from (London and the big cities most often), sometimes a second place or a named area
to avoid, preferred regions, schools, specialisms, and the three urgencies (emergency: today;
urgent: within 3 days; routine: within 30).

Times `match` (build + solve + explanations; three runs: median, fastest and slowest wall-clock
time, and the median CPU time, which says more when other work shares the machine) and `greedy`
on the same instance, re-checks every proposal with `check`, and reports the people each places.
Pure code: it needs no database, and ignores DATABASE_URL.

Target (issue 6): 5,000 requests against 10,000 beds in under 2 s (`--scale full`).
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import benchkit
import numpy as np
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

from opennrm.accommodation import matching as matching_module
from opennrm.accommodation.matching import (
    Bed,
    KeepAway,
    MatchResult,
    Request,
    Setting,
    Urgency,
    check,
    greedy,
    match,
)

NAME = "matching"
SIZES = {"small": (500, 1_000), "full": (5_000, 10_000)}  # (requests, beds)
RUNS = 3
SEED = 6
TODAY = date(2026, 6, 1)

# Region: (south, north, west, east), and its towns with a weight (roughly population).
REGIONS: dict[
    str, tuple[tuple[float, float, float, float], dict[str, tuple[float, float, int]]]
] = {
    "North East": (
        (54.45, 55.80, -2.70, -1.15),
        {
            "Newcastle": (54.97, -1.61, 4),
            "Sunderland": (54.91, -1.38, 2),
            "Middlesbrough": (54.57, -1.23, 2),
        },
    ),
    "North West": (
        (52.95, 55.00, -3.45, -1.95),
        {
            "Manchester": (53.48, -2.24, 8),
            "Liverpool": (53.41, -2.98, 5),
            "Preston": (53.76, -2.70, 2),
            "Blackpool": (53.82, -3.05, 1),
        },
    ),
    "Yorkshire and the Humber": (
        (53.30, 54.55, -2.55, -0.10),
        {
            "Leeds": (53.80, -1.55, 6),
            "Sheffield": (53.38, -1.47, 4),
            "Bradford": (53.79, -1.75, 3),
            "Hull": (53.74, -0.33, 2),
        },
    ),
    "East Midlands": (
        (52.40, 53.60, -1.95, 0.35),
        {
            "Nottingham": (52.95, -1.15, 4),
            "Leicester": (52.64, -1.13, 4),
            "Derby": (52.92, -1.48, 2),
            "Lincoln": (53.23, -0.54, 1),
        },
    ),
    "West Midlands": (
        (52.00, 53.20, -3.20, -1.30),
        {
            "Birmingham": (52.49, -1.89, 9),
            "Coventry": (52.41, -1.51, 3),
            "Stoke-on-Trent": (53.00, -2.18, 2),
            "Wolverhampton": (52.59, -2.13, 2),
        },
    ),
    "East of England": (
        (51.50, 52.95, -0.70, 1.75),
        {
            "Norwich": (52.63, 1.30, 2),
            "Peterborough": (52.57, -0.24, 2),
            "Cambridge": (52.21, 0.12, 2),
            "Luton": (51.88, -0.42, 2),
            "Ipswich": (52.06, 1.16, 1),
        },
    ),
    "London": (
        (51.30, 51.68, -0.50, 0.30),
        {
            "Westminster": (51.50, -0.13, 6),
            "Newham": (51.53, 0.03, 5),
            "Croydon": (51.37, -0.10, 4),
            "Ealing": (51.51, -0.30, 4),
            "Haringey": (51.59, -0.11, 4),
        },
    ),
    "South East": (
        (50.75, 51.95, -1.95, 1.40),
        {
            "Brighton": (50.82, -0.14, 3),
            "Southampton": (50.90, -1.40, 3),
            "Reading": (51.45, -0.97, 2),
            "Oxford": (51.75, -1.26, 2),
            "Maidstone": (51.27, 0.52, 2),
            "Portsmouth": (50.80, -1.09, 2),
        },
    ),
    "South West": (
        (50.10, 51.85, -5.60, -1.65),
        {
            "Bristol": (51.45, -2.59, 5),
            "Plymouth": (50.38, -4.14, 2),
            "Exeter": (50.72, -3.53, 1),
            "Swindon": (51.56, -1.78, 1),
            "Bournemouth": (50.72, -1.88, 2),
        },
    ),
    "Wales": (
        (51.40, 53.40, -5.20, -2.70),
        {
            "Cardiff": (51.48, -3.18, 3),
            "Swansea": (51.62, -3.94, 2),
            "Newport": (51.59, -3.00, 1),
            "Wrexham": (53.05, -3.00, 1),
        },
    ),
    "Scotland": (
        (54.70, 58.60, -6.20, -1.80),
        {
            "Glasgow": (55.86, -4.25, 5),
            "Edinburgh": (55.95, -3.19, 4),
            "Aberdeen": (57.15, -2.09, 2),
            "Dundee": (56.46, -2.97, 1),
            "Inverness": (57.48, -4.22, 1),
        },
    ),
    "Northern Ireland": (
        (54.05, 55.30, -8.10, -5.45),
        {"Belfast": (54.60, -5.93, 3), "Derry": (55.00, -7.32, 1), "Newry": (54.18, -6.34, 1)},
    ),
}
# Where exploitation is found: weighted to London and the big cities.
EXPLOITATION_WEIGHT = {"London": 5, "West Midlands": 2, "North West": 2}
# Main languages of people referred (English, Albanian, Vietnamese, ...), weights.
LANGUAGES = {
    "en": 24,
    "sq": 16,
    "vi": 10,
    "ro": 7,
    "pl": 5,
    "ar": 6,
    "ti": 5,
    "ku": 4,
    "fa": 4,
    "zh": 4,
    "ur": 3,
    "bn": 3,
    "so": 3,
    "am": 2,
    "pa": 2,
    "uk": 2,
}
SPECIALISMS = [
    "sexual_exploitation",
    "labour_exploitation",
    "criminal_exploitation",
    "mental_health",
    "children",
    "substance_misuse",
]


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def town_in(rng: random.Random, region: str) -> tuple[str, tuple[float, float]]:
    """A town of the region (by weight) and a point near it, inside the region's box."""
    (south, north, west, east), towns = REGIONS[region]
    name = rng.choices(list(towns), weights=[t[2] for t in towns.values()])[0]
    lat, lon, _ = towns[name]
    point = (
        min(north, max(south, rng.gauss(lat, 0.10))),
        min(east, max(west, rng.gauss(lon, 0.15))),
    )
    return name, point


REGION_WEIGHT = {r: sum(t[2] for t in towns.values()) for r, (_, towns) in REGIONS.items()}


def make_beds(rng: random.Random, count: int) -> list[Bed]:
    beds: list[Bed] = []
    site = 0
    while len(beds) < count:
        site += 1
        house = rng.random() < 0.25
        region = pick(rng, REGION_WEIGHT)
        area, location = town_in(rng, region)
        setting = rng.choices(list(Setting), weights=[45, 33, 22])[0]
        languages = {"en"} | {pick(rng, LANGUAGES) for _ in range(rng.randint(0, 3))}
        specialisms = set(rng.sample(SPECIALISMS, rng.choice([0, 1, 1, 2, 2, 3])))
        common: dict[str, Any] = {
            "site_id": site,
            "provider_id": 1 + site % 40,
            "region": region,
            "area": area,
            "location": location,
            "setting": setting,
            "languages": frozenset(languages),
            "specialisms": frozenset(specialisms),
            "near_school": rng.random() < 0.4,
        }
        family_share = 0.05 if setting == Setting.MEN_ONLY else (0.2 if house else 0.3)
        for _ in range(rng.randint(8, 40) if house else rng.randint(1, 4)):
            family = rng.random() < family_share
            free_in = -rng.randint(0, 30) if rng.random() < 0.45 else rng.randint(1, 56)
            beds.append(
                Bed(
                    id=len(beds) + 1,
                    takes_dependants=rng.randint(1, 3) if family else 0,
                    wheelchair_accessible=rng.random() < (0.07 if house else 0.05),
                    available_from=TODAY + timedelta(days=free_in),
                    **common,
                )
            )
    return beds[:count]


def accepted_settings(rng: random.Random, sex: str) -> frozenset[Setting]:
    if sex == "female":
        if rng.random() < 0.5:
            return frozenset({Setting.WOMEN_ONLY})
        return frozenset({Setting.WOMEN_ONLY, Setting.MIXED})
    if sex == "male":
        if rng.random() < 0.3:
            return frozenset({Setting.MEN_ONLY})
        return frozenset({Setting.MEN_ONLY, Setting.MIXED})
    return rng.choice([frozenset({Setting.MIXED}), frozenset({Setting.WOMEN_ONLY, Setting.MIXED})])


def safety(rng: random.Random) -> tuple[tuple[KeepAway, ...], frozenset[str]]:
    zones: list[KeepAway] = []
    excluded: set[str] = set()
    region = pick(rng, {r: w * EXPLOITATION_WEIGHT.get(r, 1) for r, w in REGION_WEIGHT.items()})
    town, place = town_in(rng, region)
    if rng.random() < 0.8:
        km = rng.choices([25, 40, 50, 80, 100], weights=[2, 3, 4, 2, 1])[0]
        zones.append(KeepAway(place, km))
    if rng.random() < 0.15:
        _, other = town_in(rng, pick(rng, REGION_WEIGHT))
        zones.append(KeepAway(other, 30, "the trafficker's known address"))
    if rng.random() < 0.1:
        excluded.add(town if rng.random() < 0.6 else region)
    return tuple(zones), frozenset(excluded)


def language_needs(rng: random.Random) -> tuple[frozenset[str], bool]:
    main = pick(rng, LANGUAGES)
    if main == "en":
        return frozenset({"en"}), False
    spoken = {main} | ({"en"} if rng.random() < 0.3 else set())
    return frozenset(spoken), rng.random() < 0.8


def make_request(rng: random.Random, i: int) -> Request:
    sex = rng.choices(["female", "male", "other"], weights=[52, 46, 2])[0]
    dependants = 0
    if rng.random() < {"female": 0.18, "male": 0.03, "other": 0.05}[sex]:
        dependants = rng.randint(1, 3 if sex == "female" else 2)
    urgency = rng.choices(list(Urgency), weights=[35, 35, 30])[0]
    waited = rng.randint(0, {"emergency": 3, "urgent": 14, "routine": 120}[urgency])
    lead = {"emergency": 0, "urgent": rng.randint(0, 3), "routine": rng.randint(0, 30)}[urgency]
    waiting_since = TODAY - timedelta(days=waited)
    languages, interpreter = language_needs(rng)
    keep_away, excluded = safety(rng)
    required = set()
    if rng.random() < 0.06:
        required.add("mental_health")
    if dependants and rng.random() < 0.2:
        required.add("children")
    wanted = set()
    if rng.random() < 0.5:
        wanted.add("sexual_exploitation" if sex == "female" else "labour_exploitation")
    if rng.random() < 0.2:
        wanted.add("mental_health")
    preferred = frozenset()
    if rng.random() < 0.35:
        preferred = frozenset(rng.sample(list(REGIONS), rng.randint(1, 2)))
    return Request(
        id=i,
        accepted_settings=accepted_settings(rng, sex),
        needed_from=waiting_since + timedelta(days=lead),
        waiting_since=waiting_since,
        urgency=urgency,
        dependants=dependants,
        needs_wheelchair=rng.random() < 0.03,
        languages=languages,
        interpreter_needed=interpreter,
        required_specialisms=frozenset(required),
        keep_away=keep_away,
        excluded_areas=excluded,
        preferred_regions=preferred,
        near_school=dependants > 0 and rng.random() < 0.6,
        wanted_specialisms=frozenset(wanted - required),
    )


def timed(
    run: Callable[[], MatchResult], runs: int
) -> tuple[MatchResult, list[float], list[float]]:
    """The last result, and each run's wall-clock and CPU seconds."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return result, wall, cpu


def plain_solve(requests: list[Request], beds: list[Bed]) -> dict[str, Any]:
    """The floor: the same instance as one plain min-cost flow, every allowed (request, bed
    class) pair an arc, weighted exactly as `match` weighs them, solved once by OR-Tools with
    no column generation and no pricing. Its solve time is what OR-Tools alone needs on this
    machine; its answer is an independent check that `match` is optimal (the same number
    placed, the same total priority and preference cost)."""
    inst = matching_module._Instance(requests, beds, TODAY)
    weights = matching_module._Solver(inst, 1)  # only for its exact unit and preference costs
    classes = inst.classes
    rows, cols = [], []
    for i in range(len(requests)):
        ok = np.flatnonzero(inst.allowed[i][classes.group] & (classes.avail <= inst.need[i]))
        rows.append(np.full(ok.size, i, dtype=np.int64))
        cols.append(ok.astype(np.int64))
    er, ec = np.concatenate(rows), np.concatenate(cols)
    n_r, n_c = len(requests), len(classes.capacity)
    costs = (matching_module.MAX_PRIORITY - inst.weight[er]) * weights.unit + weights.costs(er, ec)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        er.astype(np.int32),
        (n_r + ec).astype(np.int32),
        np.ones(er.size, dtype=np.int64),
        costs.astype(np.int64),
    )
    flow.set_nodes_supplies(
        np.arange(n_r + n_c, dtype=np.int32),
        np.concatenate([np.ones(n_r), -classes.capacity]).astype(np.int64),
    )
    started, started_cpu = time.perf_counter(), time.process_time()
    status = flow.solve_max_flow_with_min_cost()
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    if status != flow.OPTIMAL:
        raise SystemExit(f"the plain solve stopped with {status}")
    used = np.asarray(flow.flows(np.arange(er.size, dtype=np.int32))) > 0
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "arcs": int(er.size),
        "placed": int(used.sum()),
        "priority_total": int(inst.weight[er[used]].sum()),
        "preference_cost_total": int(weights.costs(er[used], ec[used]).sum()),
    }


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    machine = benchkit.Machine()
    n_requests, n_beds = SIZES[args.scale]
    rng = random.Random(SEED)
    benchkit.log(f"generating {n_requests:,} requests and {n_beds:,} beds")
    beds = make_beds(rng, n_beds)
    requests = [make_request(rng, i + 1) for i in range(n_requests)]
    match(requests[:50], beds[:100], TODAY)  # warm up: imports, OR-Tools, caches

    benchkit.log("timing match")
    optimal, seconds, cpu = timed(lambda: match(requests, beds, TODAY), RUNS)
    benchkit.log("timing greedy")
    baseline, greedy_seconds, _ = timed(lambda: greedy(requests, beds, TODAY), RUNS)
    urgent_first, urgent_greedy_seconds, _ = timed(
        lambda: greedy(requests, beds, TODAY, by_urgency=True), RUNS
    )
    benchkit.log("the floor: one plain OR-Tools solve of the whole instance")
    floor = plain_solve(requests, beds)
    if (floor["placed"], floor["priority_total"], floor["preference_cost_total"]) != (
        optimal.placed,
        optimal.priority_total,
        optimal.preference_cost_total,
    ):
        raise SystemExit(f"match disagrees with the plain solve: {optimal} vs {floor}")

    benchkit.log("re-checking every proposal")
    by_request = {r.id: r for r in requests}
    by_bed = {b.id: b for b in beds}
    broken = sum(
        1
        for p in optimal.proposals
        if check(by_request[p.request_id], by_bed[p.bed_id], today=TODAY)
    )
    if broken or len({p.bed_id for p in optimal.proposals}) != optimal.placed:
        raise SystemExit(f"{broken} proposals break a constraint, or a bed is used twice")

    stages = dict(optimal.timings)
    emergencies = {r.id for r in requests if r.urgency == Urgency.EMERGENCY}
    reasons = Counter(u.code for u in optimal.unplaced)
    figures = {
        "requests": n_requests,
        "beds": n_beds,
        "match_seconds": round(statistics.median(seconds), 3),
        "match_seconds_min": round(min(seconds), 3),
        "match_seconds_max": round(max(seconds), 3),
        "match_cpu_seconds": round(statistics.median(cpu), 3),
        "build_seconds": round(stages["build"], 3),
        "solve_seconds": round(stages["solve"], 3),
        "explain_seconds": round(stages["explain"], 3),
        "placed": optimal.placed,
        "unplaced": len(optimal.unplaced),
        "emergencies_placed": sum(1 for p in optimal.proposals if p.request_id in emergencies),
        "emergencies": len(emergencies),
        "mean_preference_cost": round(optimal.preference_cost_total / max(1, optimal.placed), 3),
        "arcs": optimal.arcs,
        "solver_rounds": optimal.rounds,
        "solver_full_solves": optimal.solves,
        "greedy_placed": baseline.placed,
        "greedy_seconds": round(statistics.median(greedy_seconds), 3),
        "greedy_emergencies_placed": sum(
            1 for p in baseline.proposals if p.request_id in emergencies
        ),
        "greedy_mean_preference_cost": round(
            baseline.preference_cost_total / max(1, baseline.placed), 3
        ),
        "more_placed_than_greedy": optimal.placed - baseline.placed,
        "urgent_greedy_placed": urgent_first.placed,
        "urgent_greedy_seconds": round(statistics.median(urgent_greedy_seconds), 3),
        "urgent_greedy_emergencies_placed": sum(
            1 for p in urgent_first.proposals if p.request_id in emergencies
        ),
        "urgent_greedy_mean_preference_cost": round(
            urgent_first.preference_cost_total / max(1, urgent_first.placed), 3
        ),
        "more_placed_than_urgent_greedy": optimal.placed - urgent_first.placed,
        # The floor: OR-Tools alone on the whole instance (every allowed pair an arc), once.
        "floor_plain_solve_seconds": round(floor["seconds"], 3),
        "floor_plain_solve_cpu_seconds": round(floor["cpu_seconds"], 3),
        "floor_plain_solve_arcs": floor["arcs"],
        "match_to_floor_ratio": benchkit.ratio(statistics.median(seconds), floor["seconds"]),
        **{f"unplaced_{code}": count for code, count in sorted(reasons.items())},
        **machine.figures(),
    }
    units = {key: "s" if "seconds" in key else "count" for key in figures}
    for key in ("mean_preference_cost", "greedy_mean_preference_cost"):
        units[key] = "cost units"
    units["urgent_greedy_mean_preference_cost"] = "cost units"
    units["match_to_floor_ratio"] = "times the floor"
    units |= benchkit.MACHINE_UNITS
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
