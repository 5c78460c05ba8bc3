"""Make sure every recurring background task is scheduled, or run them now.

One command for all of them: the move of children who turned 18 to the adult pathway (each
morning), the deadline reminders (each morning), the reminders before
move-on support ends (each morning), the retention rules (each night), the check of operations
short of places (each morning) and the audit trail's
anchor (every OPENNRM_AUDIT_ANCHOR_MINUTES, when OPENNRM_AUDIT_ANCHOR_FILE is set). Each task schedules
its own next run, so calling this once when the worker starts (as `bin/serve` does) keeps them
going; calling it again schedules nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import Task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


@dataclass(frozen=True)
class Recurring:
    name: str
    what: str
    when: str
    task: Task[..., Any]
    now: Callable[[], str]
    # Why the task cannot run here (None: it can), said instead of scheduling it.
    unavailable: Callable[[], str | None] = lambda: None


def _turned_18() -> str:
    from opennrm.safeguarding import coming_of_age

    result = coming_of_age.run(timezone.localdate())
    return (
        f"Moved {result.turned_18} cases of children who turned 18 to the adult pathway "
        f"(read {result.checked} dates of birth), telling {result.people_told} people."
    )


def _deadline_reminders() -> str:
    from opennrm.decisions import reminders

    result = reminders.run(timezone.localdate())
    if not result.ran:
        return "Today's deadline reminders have already been sent."
    return f"Sent {result.reminders} deadline reminders and {result.escalations} escalations."


def _move_on_reminders() -> str:
    from opennrm.care import reminders

    result = reminders.run(timezone.localdate())
    if not result.reminders:
        return "No move-on reminders are due that have not been sent already."
    return f"Sent {result.reminders} move-on reminders to {result.people_told} people."


def _retention() -> str:
    from opennrm.privacy import services

    result = services.retention_apply(today=timezone.localdate())
    return (
        f"Pseudonymised {result.people_pseudonymised} people; deleted "
        f"{result.drafts_deleted} drafts never submitted, "
        f"{result.notifications_deleted} notifications and "
        f"{result.task_results_deleted} finished background tasks."
        + (
            f" Failed for {result.people_failed} "
            f"{'person' if result.people_failed == 1 else 'people'}, tried again tomorrow "
            "(see the log)."
            if result.people_failed
            else ""
        )
    )


def _operation_shortfalls() -> str:
    from opennrm.operations.gap_warning import gap_check

    result = gap_check(timezone.localdate())
    return (
        f"Checked {result.operations_checked} operations planned or under way; warned of a "
        f"shortfall of places in {result.operations_warned}, telling {result.people_told} people."
        + (
            f" The check failed for {result.operations_failed} (see the log)."
            if result.operations_failed
            else ""
        )
    )


def _anchor_unavailable() -> str | None:
    from opennrm.audit import anchor

    if anchor.configured_path() is None:
        return "No anchor file is configured (OPENNRM_AUDIT_ANCHOR_FILE): nothing to do."
    return None


def _anchor() -> str:
    from opennrm.audit import anchor

    path = anchor.configured_path()
    if path is None:
        raise CommandError(str(_anchor_unavailable()))
    try:
        written = anchor.write(path)
    except anchor.AnchorError as problem:
        raise CommandError(str(problem)) from None
    return (
        f"Anchored {written.count} events, the newest {written.last_id} with hash "
        f"{written.hash}, to {path}."
    )


def recurring() -> list[Recurring]:
    from opennrm.audit.tasks import anchor_audit_trail
    from opennrm.care.tasks import send_move_on_reminders
    from opennrm.decisions.tasks import send_deadline_reminders
    from opennrm.operations.tasks import check_operation_shortfalls
    from opennrm.privacy.tasks import apply_retention
    from opennrm.safeguarding.tasks import move_children_turned_18

    return [
        Recurring(
            "turned-18",
            "moves of children who turned 18 to the adult pathway",
            "every morning",
            move_children_turned_18,
            _turned_18,
        ),
        Recurring(
            "deadline-reminders",
            "deadline reminders",
            "every morning",
            send_deadline_reminders,
            _deadline_reminders,
        ),
        Recurring(
            "move-on-reminders",
            "reminders before move-on support ends",
            "every morning",
            send_move_on_reminders,
            _move_on_reminders,
        ),
        Recurring("retention", "retention rules", "every night", apply_retention, _retention),
        Recurring(
            "operation-shortfalls",
            "checks of operations short of places",
            "every morning",
            check_operation_shortfalls,
            _operation_shortfalls,
        ),
        Recurring(
            "audit-anchor",
            "audit trail's anchors",
            f"every {settings.AUDIT_ANCHOR_MINUTES} minutes",
            anchor_audit_trail,
            _anchor,
            _anchor_unavailable,
        ),
    ]


class Command(BaseCommand):
    help = (
        "Make sure the recurring tasks (children who turned 18, deadline reminders, move-on "
        "reminders, retention, operations short of places, the audit trail's anchor) are "
        "scheduled (idempotent); --now runs them now instead. Name tasks to act on only those."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "tasks",
            nargs="*",
            choices=[r.name for r in recurring()],
            help="the tasks to act on (default: all)",
        )
        parser.add_argument(
            "--now", action="store_true", help="run them now, once; none sends anything twice"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = [r for r in recurring() if not options["tasks"] or r.name in options["tasks"]]
        for item in chosen:
            reason = item.unavailable()
            # A task that cannot run here is said, not run; named alone with --now, an error.
            if reason and options["now"] and options["tasks"]:
                raise CommandError(reason)
            if reason:
                self.stdout.write(reason)
                continue
            if options["now"]:
                self.stdout.write(item.now())
                continue
            waiting = DBTaskResult.objects.filter(
                task_path=item.task.module_path,
                status="READY",
            ).exists()
            if waiting:
                self.stdout.write(f"The {item.what} are already scheduled.")
                continue
            item.task.enqueue()
            self.stdout.write(
                f"The {item.what} are scheduled; the worker runs them now and {item.when}."
            )
