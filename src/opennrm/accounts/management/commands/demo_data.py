from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opennrm.accounts import demo

DEMO_STEPS = ["opennrm.screening.demo", "opennrm.referrals.demo"]


class Command(BaseCommand):
    help = "Load fictional organisations and demo accounts (DEMO mode only). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "demo_data only runs with OPENNRM_DEMO=true: it creates accounts with a "
                "published password that may skip two-factor authentication."
            )
        accounts = demo.seed()
        # Each feature adds its fictional records after the accounts exist.
        for step in DEMO_STEPS:
            import_module(step).seed()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Every demo account's password is:"))
        self.stdout.write(f"\n    {demo.DEMO_PASSWORD}\n")
        self.stdout.write("Demo accounts (two-factor is skipped for them in demo mode only):\n")
        width = max(len(a.email) for a in accounts)
        for account in accounts:
            self.stdout.write(f"    {account.email:<{width}}  {account.role.label}")
        self.stdout.write("")
