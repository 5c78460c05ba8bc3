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
import os
import statistics
import sys
import time
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
        figures: dict[str, Any] = {
            "database": db.vendor,
            "cases_stored": Case.objects.count(),
            "cases_in_the_queue": awaiting,
        }
        for name, path in PAGES.items():
            benchkit.log(f"timing {name}: {path}")
            timing = benchkit.timing_figures(time_page(client, path))
            figures |= {f"{name}_{key}": value for key, value in timing.items()}

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
        figures["load_average_1min"] = round(os.getloadavg()[0], 2)
        figures["median_of_medians_ms"] = round(
            statistics.median(figures[f"{name}_median_ms"] for name in PAGES), 3
        )
    units = {
        key: "ms" if key.endswith("_ms") else "s" if key.endswith("_seconds") else "count"
        for key in figures
    }
    units["database"] = "vendor"
    units["load_average_1min"] = "processes"
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
