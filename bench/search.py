"""Finding a case (`cases:search`) with many cases stored.

Fills a fresh benchmark database with M synthetic cases (the generator behind `manage.py
demo_data --people`), runs VACUUM ANALYZE on PostgreSQL as autovacuum soon would after such a
load, then, as the demo decision maker (who may open almost every generated case: the widest
view, so the visibility filter narrows least), times the server's answer to the search page
through Django's test client, no network in between, for four kinds of search:

- `reference`: one case by its reference;
- `name`: the whole name, exact and case-insensitive through the blind index;
- `name_dob`: the whole name and the date of birth, both through the blind indexes;
- `nationality_status`: the first page of Albanian nationals awaiting a reasonable grounds
  decision (no names shown, so no reads recorded).

The searched people are 50 cases the decision maker may open, drawn with a fixed seed, their
names and dates of birth decrypted beforehand; each search must find its case. Each kind runs 5
times untimed, then 50 times timed, one search per sample. The searches that show names record
their reads, as the page always does: that is part of the time.

Beside each figure: the median CPU time this process spent on one search (the page's own work,
apart from the database's); the floor, the SQL the page sent (captured as executed) run bare over a
cursor, and the ratio to it; the search's own SELECT run bare; and on PostgreSQL the number of
sequential scans of the case, person and identity tables in the search's plan (EXPLAIN
ANALYZE), which must be 0: an index finds the rows.

Target (issue 12), at `--scale full` (1,000,000 cases) on PostgreSQL: median and p95 under
100 ms.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import sys
import time
from typing import Any

import benchkit

NAME = "search"
CASES = {"small": 20_000, "full": 1_000_000}
WARM_UP = 5
SAMPLES = 50
SEED = 12
LARGE_TABLES = {"cases_case", "cases_person", "cases_personidentity"}
KINDS = ("reference", "name", "name_dob", "nationality_status")


def form_data(kind: str, sample: dict[str, Any]) -> dict[str, str]:
    born = sample["date_of_birth"]
    if kind == "reference":
        return {"reference": sample["reference"]}
    if kind == "name":
        return {"name": sample["name"]}
    if kind == "name_dob":
        return {
            "name": sample["name"],
            "date_of_birth_day": str(born.day),
            "date_of_birth_month": str(born.month),
            "date_of_birth_year": str(born.year),
        }
    return {"nationality": "AL", "status": "awaiting_rg"}


def time_searches(
    client: Any, kind: str, samples: list[dict[str, Any]]
) -> tuple[list[float], list[float]]:
    """Milliseconds per search, wall and this process's CPU time."""

    def one(sample: dict[str, Any]) -> tuple[float, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post("/cases/search/", form_data(kind, sample))
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu_started) * 1000
        assert response.status_code == 200, (kind, response.status_code)  # noqa: S101
        if kind != "nationality_status":
            found = sample["reference"] in response.content.decode()
            assert found, (kind, sample["reference"])  # noqa: S101
        return elapsed, cpu

    for sample in samples[:WARM_UP]:
        one(sample)
    timed = [one(sample) for sample in samples]
    return [wall for wall, _ in timed], [cpu for _, cpu in timed]


def seq_scans(plan: dict[str, Any]) -> list[str]:
    """The large tables a plan reads sequentially."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in LARGE_TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += seq_scans(child)
    return found


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    wanted = CASES[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from opennrm.accounts.actor import Actor
        from opennrm.accounts.models import User
        from opennrm.cases.forms import CaseSearchForm
        from opennrm.cases.models import Case
        from opennrm.cases.selectors import cases_search_page, cases_visible_to

        stored = Case.objects.count()
        if stored < wanted:
            benchkit.log(f"storing {wanted - stored:,} synthetic cases on {db.vendor} ({db.name})")
            call_command(
                "demo_data", people=wanted - stored, stdout=io.StringIO(), stderr=sys.stderr
            )
        if db.vendor == "postgresql":
            benchkit.log("VACUUM ANALYZE (as autovacuum would after a bulk load)")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        decider = User.objects.get(email="decisions@demo.opennrm.test")
        actor = Actor.of_session(decider)
        visible = cases_visible_to(actor)
        # The people searched for: cases the decision maker may open, with a known date of
        # birth (for the name and date of birth search), drawn with a fixed seed.
        ids = list(
            visible.exclude(person__identity__dob_index="").values_list("pk", flat=True)[:200_000]
        )
        chosen = random.Random(SEED).sample(ids, SAMPLES)
        samples = []
        for case in Case.objects.filter(pk__in=chosen).select_related("person__identity"):
            identity = case.person.identity
            samples.append(
                {
                    "reference": case.reference,
                    "name": f"{identity.given_names} {identity.family_name}",
                    "date_of_birth": identity.date_of_birth,
                }
            )
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(decider)
        machine = benchkit.Machine()
        figures: dict[str, Any] = {
            "database": db.vendor,
            "cases_stored": Case.objects.count(),
            "cases_the_searcher_may_open": visible.count(),
            "samples": len(samples),
        }
        for kind in KINDS:
            benchkit.log(f"timing the search by {kind}")
            wall, cpu = time_searches(client, kind, samples)
            timing = benchkit.timing_figures(wall)
            figures |= {f"{kind}_{key}": value for key, value in timing.items()}
            figures[f"{kind}_client_cpu_median_ms"] = round(statistics.median(cpu), 3)
            sample = samples[0]
            data = form_data(kind, sample)
            # The floor: the SQL the page sent, run bare over a cursor (rolled back).
            statements = benchkit.captured_sql(
                lambda data=data: client.post("/cases/search/", data)
            )
            bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, SAMPLES))
            figures[f"{kind}_queries"] = len(statements)
            figures[f"{kind}_floor_bare_sql_median_ms"] = bare["median_ms"]
            figures[f"{kind}_to_floor_ratio"] = benchkit.ratio(
                timing["median_ms"], bare["median_ms"]
            )
            # The search's own SELECT, bare, and on PostgreSQL its plan.
            form = CaseSearchForm(data)
            assert form.is_valid(), form.errors  # noqa: S101
            # The actor's organisations first (cases_visible_to), then the search itself.
            wanted = form.search
            own = benchkit.captured_sql(lambda wanted=wanted: cases_search_page(actor, wanted))
            select = own[-1]
            figures[f"{kind}_search_queries_bare_median_ms"] = benchkit.timing_figures(
                benchkit.time_bare_sql(own, SAMPLES)
            )["median_ms"]
            if db.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {select}")
                    raw = cursor.fetchone()[0]
                plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
                scans = seq_scans(plan)
                figures[f"{kind}_plan_large_table_seq_scans"] = len(scans)
                if scans:
                    benchkit.log(f"  {kind}: sequential scan of {', '.join(scans)}")
        figures |= machine.figures()
        figures["median_of_medians_ms"] = round(
            statistics.median(figures[f"{kind}_median_ms"] for kind in KINDS), 3
        )
        figures["worst_p95_ms"] = max(figures[f"{kind}_p95_ms"] for kind in KINDS)
    units = {
        key: "ms" if key.endswith("_ms") else "s" if key.endswith("_seconds") else "count"
        for key in figures
    }
    units["database"] = "vendor"
    units |= {key: "times the floor" for key in figures if key.endswith("_ratio")}
    units |= benchkit.MACHINE_UNITS
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
