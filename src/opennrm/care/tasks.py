"""The daily reminders before move-on support ends. The task schedules its own next run, so one
call to `manage.py schedule` (done by `bin/serve`) keeps it going every morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.tasks import task
from django.utils import timezone

from . import reminders

RUN_AT = time(6, 15)


def next_run(now: datetime) -> datetime:
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, RUN_AT))


@task
def send_move_on_reminders(reschedule: bool = True) -> dict[str, int]:
    # Only a queue that can hold a task until a later time (the database worker) can schedule
    # tomorrow's run; the immediate backend used in tests would run it at once, for ever.
    # Queued before today's run, so that a run that fails leaves its error in the logs and the
    # task's result, never the end of the daily runs.
    if reschedule and send_move_on_reminders.get_backend().supports_defer:
        send_move_on_reminders.using(run_after=next_run(timezone.now())).enqueue()
    result = reminders.run(timezone.localdate())
    return {"reminders": result.reminders, "people_told": result.people_told}
