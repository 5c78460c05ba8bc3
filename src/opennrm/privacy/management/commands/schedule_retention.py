from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opennrm.privacy import services
from opennrm.privacy.tasks import apply_retention


class Command(BaseCommand):
    help = "Make sure the nightly retention task is scheduled (idempotent); --now applies it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="apply the retention rules now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            result = services.retention_apply(today=timezone.localdate())
            self.stdout.write(
                f"Pseudonymised {result.people_pseudonymised} people; deleted "
                f"{result.drafts_deleted} drafts never submitted, "
                f"{result.notifications_deleted} notifications and "
                f"{result.task_results_deleted} finished background tasks."
            )
            return
        waiting = DBTaskResult.objects.filter(
            task_path=apply_retention.module_path, status="READY"
        ).exists()
        if waiting:
            self.stdout.write("The nightly retention task is already scheduled.")
            return
        apply_retention.enqueue()
        self.stdout.write(
            "The retention task is scheduled; the worker runs it now and every night."
        )
