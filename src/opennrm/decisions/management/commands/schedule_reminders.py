from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opennrm.decisions import reminders
from opennrm.decisions.tasks import send_deadline_reminders


class Command(BaseCommand):
    help = "Make sure the daily deadline reminders are scheduled (idempotent); --now runs today's."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="run today's reminders now, once")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            result = reminders.run(timezone.localdate())
            message = (
                f"Sent {result.reminders} reminders and {result.escalations} escalations."
                if result.ran
                else "Today's reminders have already been sent."
            )
            self.stdout.write(message)
            return
        waiting = DBTaskResult.objects.filter(
            task_path=send_deadline_reminders.module_path, status="READY"
        ).exists()
        if waiting:
            self.stdout.write("The daily reminders are already scheduled.")
            return
        send_deadline_reminders.enqueue()
        self.stdout.write(
            "The daily reminders are scheduled; the worker runs them now and every morning."
        )
