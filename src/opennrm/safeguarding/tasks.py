"""The daily move of children who turned 18 to the adult pathway (`coming_of_age`). The task
schedules its own next run, so one call to `manage.py schedule` (done by `bin/serve`) keeps it
going every morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.tasks import task
from django.utils import timezone

from . import coming_of_age

# Before the deadline and move-on reminders (06:00, 06:15), so that they count a young person
# who turned 18 today as the adult they now are.
RUN_AT = time(5, 45)


def next_run(now: datetime) -> datetime:
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, RUN_AT))


@task
def move_children_turned_18(reschedule: bool = True) -> dict[str, int]:
    # Only a queue that can hold a task until a later time (the database worker) can schedule
    # tomorrow's run; the immediate backend used in tests would run it at once, for ever.
    # Queued before today's run, so that a run that fails leaves its error in the logs and the
    # task's result, never the end of the daily runs.
    if reschedule and move_children_turned_18.get_backend().supports_defer:
        move_children_turned_18.using(run_after=next_run(timezone.now())).enqueue()
    result = coming_of_age.run(timezone.localdate())
    return {
        "checked": result.checked,
        "turned_18": result.turned_18,
        "people_told": result.people_told,
    }
