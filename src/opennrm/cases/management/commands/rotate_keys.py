"""Re-encrypt everything under the primary key and recompute the blind indexes and every other
digest under the blind-index key (record linkage's blocking keys and pair fingerprints).

    manage.py rotate_keys [--batch-size N] [--restart]

To rotate: generate a new key, put it first in OPENNRM_ENCRYPTION_KEYS (keeping the old ones
after it), restart OpenNRM, run this command, then remove the old keys and restart again. The
same for a new blind-index key in OPENNRM_BLIND_INDEX_KEY. An interrupted run continues where it
stopped when run again; a finished one changes nothing when run again. The keys it names as no
longer needed are used by nothing stored once it has finished.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.cases import key_rotation as rotation
from opennrm.lib import fields

# A batch is read into memory at once, and its size goes into a query as a 64-bit integer:
# a larger one would exhaust the memory or overflow the query.
LARGEST_BATCH = 100_000


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value and file under the primary key, and recompute every "
        "blind index and keyed digest under the current blind-index key, resumably."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=rotation.BATCH_SIZE,
            help="rows per transaction, from 1 to 100,000 (default %(default)s)",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="check every row again, ignoring the progress of earlier runs",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["batch_size"] <= LARGEST_BATCH:
            raise CommandError(f"--batch-size must be a whole number from 1 to {LARGEST_BATCH:,}")
        ring, index = fields.keyring(), fields.blind_index()
        self.stderr.write(
            f"Rotating to encryption key {ring.primary.id!r} and blind-index key "
            f"{index.current.id!r}"
        )
        done: dict[str, int] = {}

        def report(target: str, batch: rotation.Tally) -> None:
            done[target] = done.get(target, 0) + batch.checked
            self.stderr.write(f"\r{target}: {done[target]:,} checked this run", ending="")
            self.stderr.flush()

        try:
            summary = rotation.keys_rotate(
                batch_size=options["batch_size"], restart=options["restart"], report=report
            )
        except rotation.RotationFailed as problem:
            raise CommandError(
                f"{problem}. Nothing after this row was changed; fix the key configuration and "
                "run rotate_keys again to continue."
            ) from None
        if done:
            self.stderr.write("")
        for target, tally in summary.items():
            line = f"{target}: {tally.checked:,} checked, {tally.rewritten:,} rewritten"
            if tally.missing:
                line += f", {tally.missing:,} files missing"
            if tally.already_done:
                line += " (finished by an earlier run)"
            self.stdout.write(line)
        old = [key.id for key in ring.keys[1:]] + [key.id for key in index.keys[1:]]
        self.stdout.write(
            f"Everything is encrypted under {ring.primary.id!r} and indexed under "
            f"{index.current.id!r}." + (f" Keys no longer needed: {', '.join(old)}." if old else "")
        )
