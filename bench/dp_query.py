"""One differentially private count (`statistics.dp.answer`) with many cases stored.

Fills a fresh benchmark database with M synthetic cases (the generator behind `manage.py
demo_data --people`), runs VACUUM ANALYZE on PostgreSQL, then times the answer to three
questions over all the years the generator spreads referrals across: by sex and age group (12
cells); by quarter, status and exploitation type (the largest tables: hundreds of cells and more);
by nationality region and competent authority. Each question is answered 3 times untimed, then
20 times timed: the grouped SQL query, the cross product of the categories and one draw of
OpenDP's discrete Laplace mechanism over the whole table. The budget and its ledger are not
timed (one small insert). The floor is the grouped SQL run bare over a cursor.

Target (issue 13), at `--scale full` (1,000,000 cases) on PostgreSQL: one query under 1 s.
"""

from __future__ import annotations

import io
import sys
import time
from datetime import date
from decimal import Decimal
from typing import Any

import benchkit

NAME = "dp_query"
CASES = {"small": 20_000, "full": 1_000_000}
WARM_UP = 3
SAMPLES = 20
QUESTIONS = {
    "sex_age": ("sex", "age_group"),
    "quarter_status_type": ("quarter", "status", "exploitation_type"),
    "nationality_authority": ("nationality_region", "competent_authority"),
}


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    wanted = CASES[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Max, Min

        from opennrm.cases.models import Case
        from opennrm.statistics import dp

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
        start: date = span["first"].date()
        end: date = span["last"].date()
        if (end - start).days > dp.MAX_PERIOD_DAYS:
            start = date(end.year - 9, 1, 1)
        machine = benchkit.Machine()
        figures: dict[str, Any] = {
            "database": db.vendor,
            "cases_stored": Case.objects.count(),
            "period_days": (end - start).days + 1,
        }
        for name, dimensions in QUESTIONS.items():
            query = dp.Query(start=start, end=end, dimensions=dimensions, epsilon=Decimal("0.1"))
            assert not query.problems(), query.problems()  # noqa: S101
            benchkit.log(f"timing the question by {', '.join(dimensions)}")
            for _ in range(WARM_UP):
                dp.answer(query)
            wall = []
            for _ in range(SAMPLES):
                started = time.perf_counter()
                answer = dp.answer(query)
                wall.append((time.perf_counter() - started) * 1000)
            timing = benchkit.timing_figures(wall)
            figures |= {f"{name}_{key}": value for key, value in timing.items()}
            figures[f"{name}_cells"] = len(answer.cells)
            statements = benchkit.captured_sql(lambda query=query: dp.true_counts(query))
            bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, SAMPLES))
            figures[f"{name}_floor_bare_sql_median_ms"] = bare["median_ms"]
            figures[f"{name}_to_floor_ratio"] = benchkit.ratio(
                timing["median_ms"], bare["median_ms"]
            )
        figures |= machine.figures()
        figures["worst_p95_ms"] = max(figures[f"{name}_p95_ms"] for name in QUESTIONS)
    units = {
        key: "ms" if key.endswith("_ms") else "s" if key.endswith("_seconds") else "count"
        for key in figures
    }
    units["database"] = "vendor"
    units["period_days"] = "days"
    units |= {key: "times the floor" for key in figures if key.endswith("_ratio")}
    units |= benchkit.MACHINE_UNITS
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
