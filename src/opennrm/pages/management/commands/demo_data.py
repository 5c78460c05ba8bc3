from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.accounts import demo

DEMO_STEPS = [
    "opennrm.screening.demo",
    "opennrm.referrals.demo",
    "opennrm.safety.demo",
    "opennrm.decisions.demo",
    "opennrm.accommodation.demo",
    # Demo history across the apps (past stays in the demo beds), once the beds exist.
    "opennrm.pages.demo",
    "opennrm.care.demo",
    # Work waiting for each demo login, so that their home pages have something to show.
    "opennrm.pages.demo_work",
    "opennrm.casework.demo",
    # A child's accommodation need with the local authority, after the referrals.
    "opennrm.safeguarding.demo",
    # Contacts and agency references of the demo referrals.
    "opennrm.contacts.demo",
    # A published official statistics release, so the public page has one to show.
    "opennrm.statistics.demo",
    # Two confidential operations: one that ended three days ago, one planned.
    "opennrm.operations.demo",
    # The 167 people the first one took in, and what followed for them (issue 14, item 7),
    # with a removal planned for one of them whose referral is still being made, and its alert.
    "opennrm.pages.demo_operation",
    # One woman referred by the police and by a charity: a possible earlier referral to review.
    "opennrm.pages.demo_linkage",
    # Without the operation's people, a removal planned for a person in their recovery period.
    "opennrm.protection.demo",
    "opennrm.audit.demo",
]


class Command(BaseCommand):
    help = "Load fictional organisations and demo accounts (DEMO mode only). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--people",
            type=int,
            default=0,
            help="Also generate this many synthetic people, each with a case, in bulk "
            "(realistic mixes of age, sex, nationality and exploitation). Adds to what exists.",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed for --people (default: fixed)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "demo_data only runs with OPENNRM_DEMO=true: it creates accounts with a "
                "published password that may skip two-factor authentication."
            )
        # Checked before anything is loaded: a mistyped option loads nothing.
        if options["people"] < 0:
            raise CommandError("--people must be 0 or more")
        accounts = demo.seed()
        # Each feature adds its fictional records after the accounts exist.
        for step in DEMO_STEPS:
            import_module(step).seed()
        if options["people"]:
            self._generate(options["people"], options["seed"])
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Every demo account's password is:"))
        self.stdout.write(f"\n    {demo.DEMO_PASSWORD}\n")
        self.stdout.write("(unless it was changed since: a changed password is kept)\n")
        self.stdout.write("Demo accounts (two-factor is skipped for them in demo mode only):\n")
        width = max(len(a.email) for a in accounts)
        for account in accounts:
            self.stdout.write(f"    {account.email:<{width}}  {account.role.label}")
        self.stdout.write("")

    def _generate(self, people: int, seed: int | None) -> None:
        from opennrm.referrals import synthetic_volume

        def progress(done: int, total: int, seconds: float) -> None:
            self.stderr.write(
                f"  {done:,}/{total:,} people ({done / total:.0%}) in {seconds:.0f} s"
            )
            if done == total:
                self.stderr.write("  committing (the database checks every new row's links)")

        try:
            result = synthetic_volume.generate(
                people, seed=synthetic_volume.SEED if seed is None else seed, progress=progress
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        counts = result.counts
        self.stdout.write(
            f"Generated {counts.people:,} synthetic people with {counts.cases:,} cases and "
            f"{counts.events:,} timeline entries in {result.seconds:.1f} s ({result.method})."
        )
