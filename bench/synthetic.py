"""A differentially private synthetic dataset (`statistics.synthetic.synthetic_dataset`) of every
referral stored.

Fills a fresh benchmark database with M synthetic cases (the generator behind `manage.py
demo_data --people`), runs VACUUM ANALYZE on PostgreSQL, then makes the synthetic dataset of
every referral (the period from the first referral's day to the last's, epsilon 1, OpenDP's
noise) once untimed and 3 times timed, and times its two parts apart: the loader (one query of
statistical fields, each row mapped to CTDC's synthetic columns) and MST on those rows. The
floor is the loader's SQL run bare over a cursor.

No target in issue 13; the release service makes one dataset per release.
"""

from __future__ import annotations

import io
import sys
import time
from typing import Any

import benchkit

NAME = "synthetic"
CASES = {"small": 20_000, "full": 100_000}
SAMPLES = 3


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    wanted = CASES[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Max, Min

        from opennrm.cases.models import Case
        from opennrm.statistics import mst, synthetic
        from opennrm.statistics.tables import Period, local_day

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
        span = Case.objects.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
        period = Period(local_day(span["first"]), local_day(span["last"]))
        machine = benchkit.Machine()
        figures: dict[str, Any] = {"database": db.vendor, "cases_stored": Case.objects.count()}

        benchkit.log(f"synthesising {period} once untimed, then {SAMPLES} times timed")
        made = synthetic.synthetic_dataset(period, None, 1.0)
        whole, whole_cpu = [], []
        for _ in range(SAMPLES):
            started, cpu = time.perf_counter(), time.process_time()
            made = synthetic.synthetic_dataset(period, None, 1.0)
            whole.append((time.perf_counter() - started) * 1000)
            whole_cpu.append((time.process_time() - cpu) * 1000)
        figures |= {f"dataset_{k}": v for k, v in benchkit.timing_figures(whole).items()}
        figures["dataset_cpu_median_ms"] = benchkit.timing_figures(whole_cpu)["median_ms"]
        figures["rows_out"] = len(made.rows)

        loading, synthesising = [], []
        rows: list[tuple[str, ...]] = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            rows = synthetic.referral_rows(period)
            loading.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            mst.synthesise(rows, synthetic.columns_for(period), epsilon=1.0, delta=synthetic.DELTA)
            synthesising.append((time.perf_counter() - started) * 1000)
        figures["rows_in"] = len(rows)
        figures |= {f"loader_{k}": v for k, v in benchkit.timing_figures(loading).items()}
        figures |= {f"mst_{k}": v for k, v in benchkit.timing_figures(synthesising).items()}
        statements = benchkit.captured_sql(lambda: list(synthetic.referral_query(period)))
        bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, SAMPLES))
        figures["loader_floor_bare_sql_median_ms"] = bare["median_ms"]
        figures["loader_to_floor_ratio"] = benchkit.ratio(
            figures["loader_median_ms"], bare["median_ms"]
        )
        figures |= machine.figures()
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
