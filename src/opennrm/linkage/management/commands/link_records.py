from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.linkage.engine import NotEnoughRecords
from opennrm.linkage.models import Engine
from opennrm.linkage.services import linkage_keys_rebuild, linkage_run


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"--threshold: give a probability like 0.8, not {text!r}") from None
    if not 0 < value < 1:
        raise CommandError(f"--threshold: give a probability between 0 and 1, not {value}")
    return value


class Command(BaseCommand):
    help = (
        "Find referrals that may be the same person and propose them to decision makers "
        "(record linkage with splink on an in-memory DuckDB, or on Apache Spark with "
        "--engine spark; ADR 0048, ADR 0050). Decrypts identities in this process only and "
        "writes no plaintext to disk."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="train a new model version on the current records (the first run always does)",
        )
        parser.add_argument(
            "--engine",
            choices=list(Engine.values),
            help="the engine to run on (default: OPENNRM_LINKAGE_ENGINE, else duckdb; ADR 0050)",
        )
        parser.add_argument(
            "--threshold",
            help="the match probability from which a newly trained model proposes a pair",
        )
        parser.add_argument(
            "--keys-only",
            action="store_true",
            help=(
                "only rewrite every referral's keys for the check at submission, without a run: "
                "when turning linkage on with referrals stored, or after an upgrade that changes "
                "the keys (ADR 0054)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keys_only"]:
            given = [f"--{name}" for name in ("retrain", "engine", "threshold") if options[name]]
            if given:
                raise CommandError(f"--keys-only runs no model: leave out {', '.join(given)}")
            written = linkage_keys_rebuild()
            self.stdout.write(f"Linkage keys rewritten: {written}.")
            return
        threshold = probability(options["threshold"]) if options["threshold"] else None
        if threshold is not None and not options["retrain"]:
            raise CommandError("--threshold belongs to a model: give it with --retrain")
        try:
            run = linkage_run(
                by=None,
                retrain=options["retrain"],
                threshold=threshold,
                engine_name=options["engine"],
            )
        except NotEnoughRecords as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(
            f"Linkage run {run.pk} with model v{run.model.version}"
            f"{' (trained now)' if run.trained else ''}: {run.records} records, "
            f"{run.candidate_pairs} pairs compared, {run.pairs_above_threshold} above the "
            f"threshold, {run.pairs_proposed} newly proposed, {run.pairs_still_rejected} "
            "left out as rejected before."
        )
