from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.audit import anchor, chain

# A batch is read into memory at once, and its size goes into a query as a 64-bit integer:
# a larger one would exhaust the memory or overflow the query.
LARGEST_BATCH = 100_000


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain from the first event to the last, then compare it "
        "with the anchors kept outside the database (OPENNRM_AUDIT_ANCHOR_FILE): an emptied "
        "trail, one shorter than an anchor, or an anchored event whose hash changed fails too. "
        "Prints the number of events and the newest event's hash; exits with status 1 on any "
        "failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Events read per query, from 1 to 100,000 (default 5000)",
        )
        parser.add_argument(
            "--anchor-file",
            default=None,
            help="Compare with the anchors in this file instead of OPENNRM_AUDIT_ANCHOR_FILE "
            "(a copy kept elsewhere, for example)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["batch_size"] <= LARGEST_BATCH:
            raise CommandError(f"--batch-size must be a whole number from 1 to {LARGEST_BATCH:,}")
        result = chain.verify(batch_size=options["batch_size"])
        if result.broken is not None:
            raise CommandError(
                f"The audit trail has been tampered with at event {result.broken.event_id}: "
                f"{result.broken.reason}. The {result.count} events before it are intact."
            )
        path = Path(options["anchor_file"]) if options["anchor_file"] else anchor.configured_path()
        anchors: list[anchor.Anchor] = []
        if path is not None:
            try:
                anchors = anchor.read(path)
                anchor.check(result, anchors)
            except anchor.AnchorError as problem:
                raise CommandError(f"The audit trail has been tampered with: {problem}.") from None
        compared = (
            f" It agrees with the {len(anchors)} anchors in {path}, the newest of {anchors[-1].at}."
            if anchors
            else f" There is no anchor in {path} yet."
            if path is not None
            else " No anchor file is configured (OPENNRM_AUDIT_ANCHOR_FILE), so a trail emptied "
            "or cut short could not be told apart from a new one."
        )
        if result.last_id is None:
            self.stdout.write("The audit trail is empty: nothing to check." + compared)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"The audit trail is intact: {result.count} events, the newest {result.last_id} "
                f"with hash {result.last_hash}." + compared
            )
        )
