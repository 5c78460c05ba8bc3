from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opennrm.support import reminders
from opennrm.support.tasks import send_move_on_reminders


class Command(BaseCommand):
    help = (
        "Make sure the daily reminders before move-on support ends are scheduled (idempotent); "
        "--now sends today's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="send today's reminders now; none is sent twice"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            result = reminders.run(timezone.localdate())
            self.stdout.write(
                f"Sent {result.reminders} move-on reminders to {result.people_told} people."
                if result.reminders
                else "No move-on reminders are due that have not been sent already."
            )
            return
        waiting = DBTaskResult.objects.filter(
            task_path=send_move_on_reminders.module_path, status="READY"
        ).exists()
        if waiting:
            self.stdout.write("The daily move-on reminders are already scheduled.")
            return
        send_move_on_reminders.enqueue()
        self.stdout.write(
            "The daily move-on reminders are scheduled; the worker runs them now and every morning."
        )
