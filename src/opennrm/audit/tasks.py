"""The audit trail's anchor, written every OPENNRM_AUDIT_ANCHOR_MINUTES. The task schedules its
own next run, so one call to `manage.py schedule` (done by `bin/serve`) keeps it
going."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from . import anchor

logger = logging.getLogger(__name__)


@task
def anchor_audit_trail(reschedule: bool = True) -> dict[str, int | str | None]:
    path = anchor.configured_path()
    # Only a queue that can hold a task until a later time (the database worker) can schedule
    # the next run; the immediate backend used in tests would run it at once, for ever.
    # Queued before this run's anchor, so that an error it does not expect (not an
    # `AnchorError`) leaves its trace in the logs and the task's result, never the end of the
    # anchoring.
    if path is not None and reschedule and anchor_audit_trail.get_backend().supports_defer:
        later = timezone.now() + timedelta(minutes=settings.AUDIT_ANCHOR_MINUTES)
        anchor_audit_trail.using(run_after=later).enqueue()
    outcome: dict[str, int | str | None] = {"anchored": None}
    if path is not None:
        try:
            written = anchor.write(path)
            outcome = {"anchored": written.last_id, "count": written.count}
        except anchor.AnchorError as problem:
            # Logged as an error for whoever watches the logs; the next run tries again.
            logger.error("audit trail not anchored: %s", problem)
            outcome = {"anchored": None, "error": str(problem)}
    return outcome
