"""Disclosure control of a statistical release (`statistics.disclosure.protect`) and
k-anonymity of a case-level extract (`statistics.kanonymity.anonymise`).

Generates a seeded synthetic set of referrals shaped like the UK's (FACTS section 3: three
quarters male, about 45% children, UK and Albanian nationals a quarter each, labour and
criminal exploitation the commonest, twelve regions, two competent authorities, eight kinds of
first responder) and builds from it one release of 20 tables that share their margins: by
region, exploitation type, age group, sex, competent authority, nationality (the 20 commonest,
then "Other") and first responder, their two-way crossings, region by exploitation type by age
group, and duty-to-notify reports (a population of their own) by exploitation type and public
authority. Times `protect` (primary and secondary suppression with the LP audit), and, as the
floor, the LP audit alone of the protected release (`problems`, run once afterwards: the check
the release workflow makes before publishing), which must find nothing. Then times `anonymise`
of one row per referral (nationality, age in years, sex, exploitation type, competent
authority, quarter; a country in at least 200 rows keeps its name, the rest start at their UN
M49 sub-region) with k = 11 and `check_k` of its result, which must find nothing.

Pure code: it needs no database, and ignores DATABASE_URL.

| Scale | Referrals | Extract rows |
|---|---|---|
| small | 4,700 (a UK quarter) | 20,000 |
| full | 19,000 (a UK year) | 100,000 |
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import benchkit

from opennrm.statistics.disclosure import Dimension, Release, Table, problems, protect
from opennrm.statistics.kanonymity import (
    Hierarchy,
    anonymise,
    band_hierarchy,
    check_k,
    keep_frequent,
    nationality_hierarchy,
    year_of_quarter,
)

NAME = "disclosure"
SIZES = {"small": (4_700, 20_000), "full": (19_000, 100_000)}
SEED = 13

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Wales",
    "Scotland",
    "Northern Ireland",
)
REGION_WEIGHTS = (3, 10, 7, 6, 9, 7, 25, 10, 5, 4, 6, 2)
TYPES = ("Labour", "Sexual", "Criminal", "Domestic servitude", "Organ harvesting", "Not specified")
TYPE_WEIGHTS = (30, 15, 35, 5, 0.05, 10)
AGES = ("Adult", "Child", "Not specified")
AGE_WEIGHTS = (51, 44, 5)
SEXES = ("Female", "Male")
AUTHORITIES = ("SCA", "IECA")
RESPONDERS = (
    "Police",
    "Home Office",
    "Local authority",
    "NGO",
    "Health",
    "Border Force",
    "Immigration Enforcement",
    "Other",
)
RESPONDER_WEIGHTS = (20, 30, 25, 12, 2, 3, 6, 2)
NATIONALITY_WEIGHTS = {
    "GB": 24, "AL": 13, "VN": 11, "ER": 9, "SD": 6, "IR": 3, "IQ": 3, "AF": 3, "RO": 2,
    "PL": 1.5, "NG": 1.5, "CN": 1.2, "IN": 1.2, "SY": 1, "KW": 0.5, "ET": 1, "EG": 0.8,
    "BR": 0.4, "PK": 0.8, "BD": 0.6, "TR": 0.6, "LT": 0.3, "SK": 0.3, "JM": 0.3, "GH": 0.3,
    "SO": 0.4, "UG": 0.3, "PH": 0.3, "TH": 0.2, "MY": 0.2, "XXX": 0.5,
}  # fmt: skip
DTN_AUTHORITIES = ("Home Office", "Police", "Local authority", "Other")


def make_referrals(rng: random.Random, n: int) -> list[dict[str, Any]]:
    nationalities = list(NATIONALITY_WEIGHTS)
    weights = list(NATIONALITY_WEIGHTS.values())
    rows = []
    for _ in range(n):
        age = rng.choices(AGES, AGE_WEIGHTS)[0]
        kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
        if age == "Child" and kind == "Labour" and rng.random() < 0.5:
            kind = "Criminal"
        rows.append(
            {
                "region": rng.choices(REGIONS, REGION_WEIGHTS)[0],
                "type": kind,
                "age": age,
                "sex": "Female" if rng.random() < 0.25 else "Male",
                "authority": "IECA" if rng.random() < 0.19 else "SCA",
                "nationality": rng.choices(nationalities, weights)[0],
                "responder": rng.choices(RESPONDERS, RESPONDER_WEIGHTS)[0],
            }
        )
    return rows


def table(
    name: str,
    rows: Sequence[dict[str, Any]],
    dimensions: Sequence[Dimension],
    population: str = "referrals",
) -> Table:
    counts = Counter(tuple(row[d.name] for d in dimensions) for row in rows)
    return Table(name, tuple(dimensions), dict(counts), population=population)


def make_release(rng: random.Random, referrals: list[dict[str, Any]]) -> Release:
    top = [code for code, _ in Counter(r["nationality"] for r in referrals).most_common(20)]
    for row in referrals:
        row["nationality_top_20"] = row["nationality"] if row["nationality"] in top else "Other"
    region = Dimension("region", REGIONS)
    kind = Dimension("type", TYPES)
    age = Dimension("age", AGES)
    sex = Dimension("sex", SEXES)
    authority = Dimension("authority", AUTHORITIES)
    nationality = Dimension("nationality_top_20", (*sorted(top), "Other"))
    responder = Dimension("responder", RESPONDERS)
    shapes = {
        "by region": (region,),
        "by exploitation type": (kind,),
        "by age group": (age,),
        "by sex": (sex,),
        "by competent authority": (authority,),
        "by nationality": (nationality,),
        "by first responder": (responder,),
        "region by exploitation type": (region, kind),
        "region by age group": (region, age),
        "exploitation type by age group": (kind, age),
        "region by exploitation type by age group": (region, kind, age),
        "sex by age group": (sex, age),
        "exploitation type by sex": (kind, sex),
        "competent authority by age group": (authority, age),
        "competent authority by exploitation type": (authority, kind),
        "nationality by age group": (nationality, age),
        "nationality by sex": (nationality, sex),
        "first responder by age group": (responder, age),
        "region by sex": (region, sex),
    }
    tables = [table(name, referrals, dims) for name, dims in shapes.items()]
    reports = [
        {"type": rng.choices(TYPES, TYPE_WEIGHTS)[0], "dtn": rng.choice(DTN_AUTHORITIES)}
        for _ in range(len(referrals) // 6)
    ]
    dtn = Dimension("dtn", DTN_AUTHORITIES)
    tables.append(table("duty to notify by exploitation type", reports, (kind, dtn), "dtn reports"))
    return Release.of(tables)


def extract_rows(rng: random.Random, n: int) -> list[dict[str, str]]:
    nationalities = list(NATIONALITY_WEIGHTS)
    weights = list(NATIONALITY_WEIGHTS.values())
    return [
        {
            "nationality": rng.choices(nationalities, weights)[0],
            "age": str(rng.randint(12, 17) if rng.random() < 0.44 else int(rng.gauss(32, 10))),
            "sex": "Female" if rng.random() < 0.25 else "Male",
            "type": rng.choices(TYPES, TYPE_WEIGHTS)[0],
            "authority": "IECA" if rng.random() < 0.19 else "SCA",
            "quarter": f"{rng.choice((2023, 2024))}-Q{rng.randint(1, 4)}",
        }
        for _ in range(n)
    ]


HIERARCHIES = [
    nationality_hierarchy(),
    band_hierarchy("age", [[0, 9, 18, 21, 24, 27, 30, 39, 48], [0, 18, 30], [0, 18]]),
    Hierarchy("sex"),
    Hierarchy("type"),
    Hierarchy("authority"),
    Hierarchy("quarter", (year_of_quarter,)),
]


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    machine = benchkit.Machine()
    n_referrals, n_rows = SIZES[args.scale]
    rng = random.Random(SEED)
    benchkit.log(f"building a release of 20 tables from {n_referrals:,} referrals")
    release = make_release(rng, make_referrals(rng, n_referrals))

    benchkit.log("timing protect")
    started, cpu = time.perf_counter(), time.process_time()
    protected = protect(release)
    protect_seconds = time.perf_counter() - started
    protect_cpu = time.process_time() - cpu

    benchkit.log("the floor: the LP audit alone of the protected release")
    started = time.perf_counter()
    found = problems(release, protected.published)
    audit_seconds = time.perf_counter() - started
    if found:
        raise SystemExit(f"the protected release is not safe: {found[0]}")

    benchkit.log(f"timing anonymise and check_k over {n_rows:,} extract rows")
    rows = extract_rows(rng, n_rows)
    started = time.perf_counter()
    # Countries recorded in at least 200 rows keep their name; the rest go by M49 sub-region.
    hierarchies = [keep_frequent(HIERARCHIES[0], rows, 200), *HIERARCHIES[1:]]
    result = anonymise(rows, hierarchies)
    anonymise_seconds = time.perf_counter() - started
    started = time.perf_counter()
    violations = check_k(result.rows, [h.column for h in HIERARCHIES], result.k)
    check_seconds = time.perf_counter() - started
    if not result.reached or violations:
        raise SystemExit(f"the extract is not {result.k}-anonymous: {violations[:3]}")

    figures = {
        "referrals": n_referrals,
        "tables": len(release.tables),
        "cells": len(release.values),
        "relations": len(release.relations),
        "primary_suppressed": len(protected.primary),
        "secondary_suppressed": len(protected.secondary),
        "secondary_rounds": protected.rounds,
        "protect_seconds": round(protect_seconds, 3),
        "protect_cpu_seconds": round(protect_cpu, 3),
        "floor_audit_seconds": round(audit_seconds, 3),
        "protect_to_floor_ratio": benchkit.ratio(protect_seconds, audit_seconds),
        "extract_rows": n_rows,
        "extract_rows_suppressed": result.suppressed,
        "extract_lattice_nodes_tried": result.nodes_tried,
        **{f"extract_level_{column}": level for column, level in result.levels.items()},
        "anonymise_seconds": round(anonymise_seconds, 3),
        "check_k_seconds": round(check_seconds, 3),
        **machine.figures(),
    }
    units = {key: "s" if "seconds" in key else "count" for key in figures}
    units |= {key: "level" for key in figures if key.startswith("extract_level_")}
    units["protect_to_floor_ratio"] = "times the floor"
    units |= benchkit.MACHINE_UNITS
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
