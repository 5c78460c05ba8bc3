"""The privacy ledger of differentially private queries (statistics.dp, ADR 0035)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opennrm.accounts.models import Organisation


class PrivacyLedgerEntry(models.Model):
    """One question an analyst asked, and the epsilon it spent from their budget for the
    period (a calendar month, "2026-12"). Append-only: the budget left is the budget less the
    sum of the period's entries. The question is described by its dimensions and period only;
    no count is kept here."""

    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="privacy_ledger"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="privacy_ledger"
    )
    period = models.CharField(max_length=7, help_text="The budget period: a month, YYYY-MM")
    epsilon = models.DecimalField(max_digits=6, decimal_places=2)
    dimensions = models.JSONField(default=list)
    description = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "privacy ledger entries"
        indexes = [models.Index(fields=["analyst", "period"], name="dp_ledger_analyst_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(epsilon__gt=0), name="dp_ledger_epsilon_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period}: {self.epsilon} ({self.description})"
