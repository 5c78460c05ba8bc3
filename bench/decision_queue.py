"""The decision makers' queue and the daily reminder task, with many cases stored.

Fills a fresh benchmark database with M synthetic cases (the generator behind `manage.py
demo_data --people`: each routed to a competent authority by the routing rules, with its
reasonable-grounds clock started), then, as the demo decision maker (signed in; demo mode spares
the two-factor step), times the server's answer to the "awaiting reasonable grounds" queue page
through Django's test client, no network in between:

- the first page, oldest deadline first;
- a filtered page (children only, overdue only), and page 50 of the unfiltered queue.

On PostgreSQL it first runs VACUUM ANALYZE, as autovacuum soon would after such a bulk load.
Each request is made 5 times untimed, then 50 times timed. Last, it times one run of the daily
reminder and escalation task (`decisions.reminders.run`) for today, which reads every case
awaiting a decision and writes its reminders.

Targets (issue 4), at `--scale full` (1,000,000 cases) on PostgreSQL: the queue pages' median
under 100 ms; the reminder task under 60 s.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

import benchkit

NAME = "decision_queue"
CASES = {"small": 20_000, "full": 1_000_000}
WARM_UP = 5
REQUESTS = 50
PAGES = {
    "first_page": "/decisions/?queue=reasonable-grounds",
    "filtered_page": "/decisions/?queue=reasonable-grounds&age_group=child&overdue=yes",
    "page_50": "/decisions/?queue=reasonable-grounds&page=50",
}


def time_page(client: Any, path: str) -> list[float]:
    for _ in range(WARM_UP):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)  # noqa: S101
    milliseconds = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        milliseconds.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)  # noqa: S101
    return milliseconds


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    wanted = CASES[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        from opennrm.accounts.models import User
        from opennrm.cases.choices import CaseStatus
        from opennrm.cases.models import Case
        from opennrm.decisions import reminders
        from opennrm.decisions.models import Reminder, ReminderRun

        stored = Case.objects.count()
        if stored < wanted:
            benchkit.log(f"storing {wanted - stored:,} synthetic cases on {db.vendor} ({db.name})")
            call_command(
                "demo_data", people=wanted - stored, stdout=io.StringIO(), stderr=sys.stderr
            )
        if db.vendor == "postgresql":
            # What autovacuum does soon after a bulk load in a live database: without it, the
            # queue's count reads every row from the table instead of the index alone, and the
            # figures would be those of the first minutes after loading a million rows.
            from django.db import connection

            benchkit.log("VACUUM ANALYZE (as autovacuum would after a bulk load)")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        decider = User.objects.get(email="decisions@demo.opennrm.test")
        awaiting = Case.objects.filter(
            status=CaseStatus.AWAITING_REASONABLE_GROUNDS,
            competent_authority__memberships__user=decider,
        ).count()
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(decider)
        machine = benchkit.Machine()
        figures: dict[str, Any] = {
            "database": db.vendor,
            "cases_stored": Case.objects.count(),
            "cases_in_the_queue": awaiting,
        }
        for name, path in PAGES.items():
            benchkit.log(f"timing {name}: {path}")
            timing = benchkit.timing_figures(time_page(client, path))
            figures |= {f"{name}_{key}": value for key, value in timing.items()}
            # The floor: the same SQL the page sent, run bare over a cursor.
            statements = benchkit.captured_sql(lambda path=path: client.get(path))
            bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, REQUESTS))
            figures[f"{name}_queries"] = len(statements)
            figures[f"{name}_floor_bare_sql_median_ms"] = bare["median_ms"]
            figures[f"{name}_to_floor_ratio"] = benchkit.ratio(
                timing["median_ms"], bare["median_ms"]
            )

        benchkit.log("timing the daily reminder and escalation task")
        today = timezone.localdate()
        # A fresh day for the task, also when --reuse starts from a database it already ran on.
        ReminderRun.objects.all().delete()
        Reminder.objects.all().delete()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = reminders.run(today)
        figures["reminder_task_seconds"] = round(time.perf_counter() - started, 2)
        figures["reminder_task_client_cpu_seconds"] = round(time.process_time() - cpu_started, 2)
        figures["reminders_sent"] = result.reminders
        figures["escalations_sent"] = result.escalations
        figures["reminder_rows"] = Reminder.objects.count()
        # The floor: one set-based UPDATE of the rows the task reads (every case awaiting a
        # reasonable-grounds decision due by the end of the reminder window), rolled back.
        from opennrm.decisions.selectors import DUE_SOON_DAYS

        table = Case._meta.db_table
        window = [CaseStatus.AWAITING_REASONABLE_GROUNDS.value, today + timedelta(DUE_SOON_DAYS)]
        update = (
            f"UPDATE {table} SET reasonable_grounds_due = reasonable_grounds_due "  # noqa: S608
            "WHERE status = %s AND reasonable_grounds_due <= %s"
        )
        floor_ms = benchkit.time_bare_sql([(update, window)], 1)[0]
        figures["floor_update_rows"] = Case.objects.filter(
            status=window[0], reasonable_grounds_due__lte=window[1]
        ).count()
        figures["floor_set_based_update_seconds"] = round(floor_ms / 1000, 2)
        figures["reminder_task_to_floor_ratio"] = benchkit.ratio(
            figures["reminder_task_seconds"], floor_ms / 1000
        )
        figures |= machine.figures()
        figures["median_of_medians_ms"] = round(
            statistics.median(figures[f"{name}_median_ms"] for name in PAGES), 3
        )
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
