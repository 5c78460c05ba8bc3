"""A published demo release of the last quarter that has ended, prepared by one demo analyst and
approved by the other through the real services, so /official-statistics/ has a release to
show, with a differentially private synthetic dataset of epsilon 1 (ADR 0037). Idempotent: nothing is added once a release of that quarter exists."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User

from . import releases, tables
from .models import Release
from .tables_views import last_quarter


def seed() -> None:
    year, quarter = last_quarter(timezone.localdate())
    period = tables.Period.quarter(year, quarter)
    if Release.objects.filter(period_start=period.start, period_end=period.end).exists():
        return
    preparer = User.objects.get(email="analyst@demo.opennrm.test")
    approver = User.objects.get(email="analyst2@demo.opennrm.test")
    version = releases.prepare_release(
        by=Actor(preparer),
        period=period,
        jurisdiction=None,
        title=f"National Referral Mechanism statistics: {releases.period_label(period)}",
        notes="Demo release: every figure comes from the fictional demo data.",
        synthetic_epsilon=Decimal("1"),
    )
    releases.approve_release(by=Actor(approver), version=version)
