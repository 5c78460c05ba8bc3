"""Enforcement operations (issue 14): the bed forecast for an operation with the deployment's
history stored. (Reception and matching for an operation's people come later, as more parts of
this script.)

Fills a fresh benchmark database with M synthetic cases (the generator behind `manage.py
demo_data --people`), then gives a share of the children a local authority accommodation task
and a share of the adults a placement request, and of those most a
placement that began a day or two after the referral and ended after a stay drawn from a
log-normal distribution (median 45 days): written with `bulk_create` in batches (the
encrypted fields sealed to their rows by the fields themselves), untimed. VACUUM ANALYZE on
PostgreSQL. Then times, once untimed and `SAMPLES` times timed:

- the forecast end to end: `operations.history.load_history` over every stored case (a
  lookback from 2019, where the generator's cases start), `free_places` through the capacity
  rules, and `forecast.forecast` of 167 people found over a week (issue 14, item 7's operation)
  with 10,000 draws over the week and 8 weeks after; target under 2 s with 1,000,000 cases;
- the same with the loader's default lookback (three years before today: the generator's
  cases are of 2019 to 2024, so only the latest of them count), the figure a page would show;
- its parts: the loader, the free places, the simulation;
- the floor: the loader's SQL (captured as executed), run bare over a cursor.
"""

from __future__ import annotations

import io
import sys
import time
from datetime import date, timedelta
from typing import Any

import benchkit

NAME = "operations"
CASES = {"small": 20_000, "full": 1_000_000}
SAMPLES = 5
SINCE = date(2019, 1, 1)
# The share of each (sex, age group) of the referrals who needed a place, in the generated
# history (an assumption for the benchmark's data; the forecast learns whatever is stored).
SHARE_NEEDING = {"female": 0.55, "male": 0.3}
SHARE_NEEDING_CHILD = 0.4
SHARE_PLACED = 0.85  # of requests: the others closed unmet
BATCH = 20_000


def expected_operation() -> dict[Any, float]:
    """167 people found over a week: the demo's fictional operation (issue 14, item 7)."""
    from opennrm.operations.forecast import Group

    return {
        Group("female", "adult"): 96,
        Group("male", "adult"): 52,
        Group("female", "child"): 9,
        Group("male", "presumed_child"): 6,
        Group("unknown", "adult"): 4,
    }


def store_history() -> dict[str, int]:
    """A placement request for a share of the adults' cases, most of them placed and ended,
    and a local authority accommodation task for a share of the children's."""
    import numpy as np

    from opennrm.accommodation.models import (
        Bed,
        Placement,
        PlacementRequest,
        PlacementRequestStatus,
        PlacementStatus,
    )
    from opennrm.cases.models import Case
    from opennrm.safeguarding.models import ChildrenServicesTask, TaskKind

    bed = Bed.objects.order_by("pk").first()
    if bed is None:
        raise SystemExit("the demo data has no bed to place people in")
    rng = np.random.default_rng(14)
    made = {"requests": 0, "placements": 0, "children_services_tasks": 0}
    cases = Case.objects.order_by("pk").values_list(
        "pk", "person__sex", "age_group", "submitted_at", "area"
    )
    batch: list[tuple[int, str, str, Any, str]] = []

    def flush() -> None:
        if not batch:
            return
        share = np.array(
            [
                SHARE_NEEDING.get(sex, 0.3) if group == "adult" else SHARE_NEEDING_CHILD
                for _, sex, group, _, _ in batch
            ]
        )
        needing = rng.random(len(batch)) < share
        # A child's need for a place is the local authority's task (never a placement request).
        tasks = [
            ChildrenServicesTask(
                case_id=pk,
                kind=TaskKind.ACCOMMODATION,
                area=area,
                needs=["bed_tonight"],
                due_on=submitted.date(),
                raised_at=submitted,
            )
            for (pk, _, group, submitted, area), keep in zip(batch, needing, strict=True)
            if keep and group != "adult"
        ]
        ChildrenServicesTask.objects.bulk_create(tasks, batch_size=5000)
        made["children_services_tasks"] += len(tasks)
        chosen = [
            row for row, keep in zip(batch, needing, strict=True) if keep and row[2] == "adult"
        ]
        placed = rng.random(len(chosen)) < SHARE_PLACED
        delay = rng.integers(0, 3, len(chosen))
        stay = np.maximum(1, np.rint(rng.lognormal(np.log(45), 0.8, len(chosen)))).astype(int)
        requests = [
            PlacementRequest(
                case_id=pk,
                needs=["bed_tonight"],
                urgency="emergency",
                needed_from=submitted.date(),
                status=PlacementRequestStatus.PLACED if ok else PlacementRequestStatus.UNMET,
                accepted_settings=(
                    ["women_only", "mixed"]
                    if sex == "female"
                    else ["men_only", "mixed"]
                    if sex == "male"
                    else ["mixed"]
                ),
                closed_at=submitted,
            )
            for (pk, sex, _, submitted, _), ok in zip(chosen, placed, strict=True)
        ]
        requests = PlacementRequest.objects.bulk_create(requests, batch_size=5000)
        placements = []
        for request, (_, _, _, submitted, _), ok, wait, days in zip(
            requests, chosen, placed, delay, stay, strict=True
        ):
            if not ok:
                continue
            arrived = submitted.date() + timedelta(days=int(wait))
            placements.append(
                Placement(
                    request_id=request.pk,
                    bed_id=bed.pk,
                    status=PlacementStatus.ENDED,
                    proposed_at=submitted,
                    arrived_on=arrived,
                    ended_on=arrived + timedelta(days=int(days)),
                    exit_reason="moved_on",
                )
            )
        Placement.objects.bulk_create(placements, batch_size=5000)
        made["requests"] += len(requests)
        made["placements"] += len(placements)
        batch.clear()

    for row in cases.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
            benchkit.log(f"  {made['requests']:,} requests, {made['placements']:,} placements")
    flush()
    return made


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    wanted = CASES[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from opennrm.accommodation.models import Placement, PlacementRequest
        from opennrm.cases.models import Case
        from opennrm.operations import forecast, history
        from opennrm.safeguarding.models import ChildrenServicesTask

        stored = Case.objects.count()
        if stored < wanted:
            benchkit.log(f"storing {wanted - stored:,} synthetic cases on {db.vendor} ({db.name})")
            call_command(
                "demo_data", people=wanted - stored, stdout=io.StringIO(), stderr=sys.stderr
            )
        if PlacementRequest.objects.count() < wanted // 10:
            benchkit.log(
                "giving a share of the cases a placement request or a local authority task"
            )
            started = time.perf_counter()
            store_history()
            benchkit.log(f"  in {time.perf_counter() - started:.1f} s")
        if db.vendor == "postgresql":
            benchkit.log("VACUUM ANALYZE (as autovacuum would after a bulk load)")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        today = timezone.localdate()
        expected = expected_operation()
        machine = benchkit.Machine()
        figures: dict[str, Any] = {
            "database": db.vendor,
            "cases_stored": Case.objects.count(),
            "placement_requests_stored": PlacementRequest.objects.count(),
            "placements_stored": Placement.objects.count(),
            "children_services_tasks_stored": ChildrenServicesTask.objects.count(),
            "people_expected": int(sum(expected.values())),
            "simulations": forecast.DEFAULT_SIMULATIONS,
        }

        def end_to_end(since: date | None = SINCE) -> tuple[Any, dict[str, int]]:
            past = history.load_history(since=since, today=today)
            free = history.free_places(today=today)
            made = forecast.forecast(expected, past, first_day=today, operation_days=7)
            return made, free

        benchkit.log("the forecast end to end, once untimed, then timed")
        made, free = end_to_end()
        whole, whole_cpu = [], []
        for _ in range(SAMPLES):
            started, cpu = time.perf_counter(), time.process_time()
            made, free = end_to_end()
            whole.append((time.perf_counter() - started) * 1000)
            whole_cpu.append((time.process_time() - cpu) * 1000)
        figures |= {f"forecast_{k}": v for k, v in benchkit.timing_figures(whole).items()}
        figures["forecast_cpu_median_ms"] = benchkit.timing_figures(whole_cpu)["median_ms"]
        benchkit.log("the same with the default lookback (three years), once untimed, then timed")
        end_to_end(None)
        recent, recent_cpu = [], []
        for _ in range(SAMPLES):
            started, cpu = time.perf_counter(), time.process_time()
            end_to_end(None)
            recent.append((time.perf_counter() - started) * 1000)
            recent_cpu.append((time.process_time() - cpu) * 1000)
        figures |= {
            f"forecast_default_lookback_{k}": v for k, v in benchkit.timing_figures(recent).items()
        }
        figures["forecast_default_lookback_cpu_median_ms"] = benchkit.timing_figures(recent_cpu)[
            "median_ms"
        ]
        figures["cases_in_default_lookback"] = sum(
            h.referred for h in history.load_history(today=today).values()
        )
        women = forecast.gap(made, forecast.WOMEN, free=free[forecast.WOMEN], surge=10)
        benchkit.log(f"  {women.sentence}")
        figures["women_needed_at_peak_upper"] = women.needed
        figures["women_free"] = women.free

        loading, freeing, simulating = [], [], []
        past: Any = None
        for _ in range(SAMPLES):
            started = time.perf_counter()
            past = history.load_history(since=SINCE, today=today)
            loading.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            history.free_places(today=today)
            freeing.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            forecast.forecast(expected, past, first_day=today, operation_days=7)
            simulating.append((time.perf_counter() - started) * 1000)
        figures["cases_in_history"] = sum(h.referred for h in past.values())
        figures["stays_in_history"] = sum(h.stay_count for h in past.values())
        figures |= {f"loader_{k}": v for k, v in benchkit.timing_figures(loading).items()}
        figures |= {f"free_places_{k}": v for k, v in benchkit.timing_figures(freeing).items()}
        figures |= {f"simulation_{k}": v for k, v in benchkit.timing_figures(simulating).items()}
        statements = benchkit.captured_sql(lambda: history.load_history(since=SINCE, today=today))
        bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, SAMPLES))
        figures["loader_floor_bare_sql_median_ms"] = bare["median_ms"]
        figures["loader_to_floor_ratio"] = benchkit.ratio(
            figures["loader_median_ms"], bare["median_ms"]
        )
        figures["forecast_target_ms"] = 2000
        figures["forecast_target_met"] = figures["forecast_median_ms"] < 2000
        figures |= machine.figures()
    units = {
        key: "ms" if key.endswith("_ms") else "s" if key.endswith("_seconds") else "count"
        for key in figures
    }
    units["database"] = "vendor"
    units["forecast_target_met"] = "true or false"
    units |= {key: "times the floor" for key in figures if key.endswith("_ratio")}
    units |= benchkit.MACHINE_UNITS
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
