"""The daily retention task. It schedules its own next run, before doing its work, so one call
to `manage.py schedule` (done by `bin/serve`) keeps it going every night, even past a night
whose run failed."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.tasks import task
from django.utils import timezone

from . import services

RUN_AT = time(2, 30)


def next_run(now: datetime) -> datetime:
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, RUN_AT))


@task
def apply_retention(reschedule: bool = True) -> dict[str, int]:
    # Only a queue that can hold a task until a later time (the database worker) can schedule
    # tomorrow's run; the immediate backend used in tests would run it at once, for ever.
    # Queued before tonight's run, so that a run that fails (the database gone for a moment)
    # leaves its error in the logs and the task's result, never the end of the nightly runs.
    if reschedule and apply_retention.get_backend().supports_defer:
        apply_retention.using(run_after=next_run(timezone.now())).enqueue()
    result = services.retention_apply(today=timezone.localdate())
    return {
        "people_pseudonymised": result.people_pseudonymised,
        "drafts_deleted": result.drafts_deleted,
        "notifications_deleted": result.notifications_deleted,
        "task_results_deleted": result.task_results_deleted,
        "people_failed": result.people_failed,
    }
