from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tasks_db.models import DBTaskResult

from opennrm.audit import anchor
from opennrm.audit.tasks import anchor_audit_trail


class Command(BaseCommand):
    help = (
        "Make sure the audit trail's head is anchored to OPENNRM_AUDIT_ANCHOR_FILE every "
        "OPENNRM_AUDIT_ANCHOR_MINUTES (idempotent); --now appends an anchor now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="append an anchor now, once")

    def handle(self, *args: Any, **options: Any) -> None:
        path = anchor.configured_path()
        if path is None:
            message = "No anchor file is configured (OPENNRM_AUDIT_ANCHOR_FILE): nothing to do."
            if options["now"]:
                raise CommandError(message)
            self.stdout.write(message)
            return
        if options["now"]:
            try:
                written = anchor.write(path)
            except anchor.AnchorError as problem:
                raise CommandError(str(problem)) from None
            self.stdout.write(
                f"Anchored {written.count} events, the newest {written.last_id} with hash "
                f"{written.hash}, to {path}."
            )
            return
        waiting = DBTaskResult.objects.filter(
            task_path=anchor_audit_trail.module_path, status="READY"
        ).exists()
        if waiting:
            self.stdout.write("The audit trail's anchoring is already scheduled.")
            return
        anchor_audit_trail.enqueue()
        self.stdout.write(
            f"The audit trail's anchoring is scheduled; the worker anchors it to {path} now and "
            f"every {settings.AUDIT_ANCHOR_MINUTES} minutes."
        )
