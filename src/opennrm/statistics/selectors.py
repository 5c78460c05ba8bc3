"""Who may ask differentially private questions, and what is left of their budget (ADR 0035)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.http import Http404

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role

from .models import PrivacyLedgerEntry


@dataclass(frozen=True)
class Budget:
    period: str  # "2026-12"
    label: str  # "December 2026"
    total: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal:
        return max(Decimal(0), self.total - self.spent)


def epsilon_text(value: Decimal) -> str:
    """An epsilon as people write it: 0.05, 0.1, 1.0."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def budget_period(today: date) -> tuple[str, str]:
    """The budget period a question asked today is charged to: its calendar month."""
    return f"{today:%Y-%m}", f"{today:%B %Y}"


def analyst_organisation(actor: Actor) -> Organisation:
    """The organisation in which the actor is an analyst (the first by name); 404 otherwise."""
    membership = (
        actor.memberships().filter(role=Role.ANALYST).order_by("organisation__name").first()
    )
    if membership is None:
        raise Http404
    return membership.organisation


def budget_of(analyst: User, today: date) -> Budget:
    """The analyst's budget for the period of `today`, and what they have spent of it."""
    period, label = budget_period(today)
    spent = PrivacyLedgerEntry.objects.filter(analyst=analyst, period=period).aggregate(
        total=Sum("epsilon")
    )["total"]
    return Budget(
        period=period,
        label=label,
        total=Decimal(settings.DP_BUDGET_EPSILON),
        spent=Decimal(spent or 0),
    )


def ledger_of(analyst: User, today: date) -> list[PrivacyLedgerEntry]:
    """The analyst's questions in the period of `today`, newest first."""
    period, _ = budget_period(today)
    return list(
        PrivacyLedgerEntry.objects.filter(analyst=analyst, period=period).order_by(
            "-created_at", "-pk"
        )
    )
