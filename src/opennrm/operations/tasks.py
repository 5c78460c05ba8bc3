"""The morning run: the forecast's history counted ahead (`services.history_rollup_rebuild`),
then the check of operations short of places (`gap_warning.gap_check`), which uses it. The task
schedules its own next run, so one call to `manage.py schedule` (done by `bin/serve`) keeps it
going."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.tasks import task
from django.utils import timezone

from .gap_warning import gap_check
from .services import history_rollup_rebuild

# Before the working day, after the night's retention run.
RUN_AT = time(6, 30)


def next_run(now: datetime) -> datetime:
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, RUN_AT))


@task
def check_operation_shortfalls(reschedule: bool = True) -> dict[str, int]:
    # Only a queue that can hold a task until a later time (the database worker) can schedule
    # tomorrow's run; the immediate backend used in tests would run it at once, for ever.
    # Queued before today's run, so that a run that fails leaves its error in the logs and the
    # task's result, never the end of the daily runs.
    if reschedule and check_operation_shortfalls.get_backend().supports_defer:
        check_operation_shortfalls.using(run_after=next_run(timezone.now())).enqueue()
    today = timezone.localdate()
    counted = history_rollup_rebuild(today)
    result = gap_check(today)
    return {
        "history_rows_counted": counted,
        "operations_checked": result.operations_checked,
        "operations_warned": result.operations_warned,
        "people_told": result.people_told,
        "operations_failed": result.operations_failed,
    }
