from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from opennrm.accounts.roles import Jurisdiction
from opennrm.statistics.synthetic import (
    EPSILON_MAX,
    EPSILON_MIN,
    SyntheticRefused,
    check_epsilon,
    synthetic_dataset,
)
from opennrm.statistics.tables import LONDON, Period

PERIOD = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4]))?$")


def period_of(text: str) -> Period:
    """`2026Q3` (a quarter) or `2026` (a year)."""
    found = PERIOD.match(text.strip().upper())
    if not found:
        raise CommandError(
            f"--period: give a quarter like 2026Q3 or a year like 2026, not {text!r}"
        )
    year = int(found["year"])
    if year < 2009:
        raise CommandError(f"--period: the NRM began in 2009; {year} is before it")
    today = timezone.localdate(timezone=LONDON)
    if year > today.year:  # checked first: a year past 9999 has no date to end the period on
        raise CommandError(f"--period: {year} has not begun yet")
    period = Period.quarter(year, int(found["quarter"])) if found["quarter"] else Period.year(year)
    if period.end >= today:
        raise CommandError(
            f"--period: {period} has not ended yet, so not all its referrals are in; give a "
            "period that has ended"
        )
    return period


def created_if_writable(out: Path) -> bool:
    """Check that `out` can be written before the synthesis, which takes a while: it is opened
    for appending, which changes nothing in a file already there. Whether it was created, for
    the caller to remove if the synthesis then fails."""
    try:
        if out.is_dir():
            raise CommandError(f"--out: {out} is a folder; give a file name")
        if not out.parent.is_dir():
            raise CommandError(f"--out: the folder {out.parent} does not exist")
        existed = out.exists()
        with out.open("a", encoding="utf-8"):
            pass
    except OSError as problem:
        raise CommandError(f"--out: {out} cannot be written ({problem.strerror})") from None
    return not existed


class Command(BaseCommand):
    help = (
        "Write a differentially private synthetic dataset of a period's referrals, in CTDC's "
        "synthetic column set (MST; ADR 0037), to a CSV file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="a quarter (2026Q3) or a year (2026)")
        parser.add_argument(
            "--epsilon",
            required=True,
            help=f"the privacy loss, from {EPSILON_MIN} to {EPSILON_MAX} (delta is fixed)",
        )
        parser.add_argument("--out", required=True, help="the CSV file to write")
        parser.add_argument(
            "--jurisdiction",
            choices=Jurisdiction.values,
            help="one jurisdiction only (default: all)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        period = period_of(options["period"])
        out = Path(options["out"])
        try:
            epsilon = float(options["epsilon"])
            check_epsilon(epsilon)
        except SyntheticRefused as refused:  # a ValueError too: caught first
            raise CommandError(f"--epsilon: {refused}") from None
        except ValueError:
            raise CommandError(
                f"--epsilon: give a number from {EPSILON_MIN} to {EPSILON_MAX}, "
                f"not {options['epsilon']!r}"
            ) from None
        created = created_if_writable(out)
        try:
            made = synthetic_dataset(period, options["jurisdiction"], epsilon)
        except BaseException:
            if created:
                out.unlink(missing_ok=True)  # no empty file is left behind
            raise
        out.write_text(made.csv, encoding="utf-8", newline="")
        self.stdout.write(
            f"Wrote {len(made.rows):,} synthetic rows for {period} to {out}. {made.privacy}"
        )
