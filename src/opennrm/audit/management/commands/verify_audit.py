from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.audit import chain


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain from the first event to the last. Prints the number "
        "of events and the newest event's hash (keep it elsewhere: removing events from the end "
        "leaves a whole chain, only a shorter one); exits with status 1 at the first broken link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Events read per query (default 5000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more")
        result = chain.verify(batch_size=options["batch_size"])
        if result.broken is not None:
            raise CommandError(
                f"The audit trail has been tampered with at event {result.broken.event_id}: "
                f"{result.broken.reason}. The {result.count} events before it are intact."
            )
        if result.last_id is None:
            self.stdout.write("The audit trail is empty: nothing to check.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"The audit trail is intact: {result.count} events, the newest {result.last_id} "
                f"with hash {result.last_hash}."
            )
        )
