"""The privacy ledger of differentially private queries (statistics.dp, ADR 0035), and the
official statistics releases with their frozen versions (ADR 0036)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Jurisdiction


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


class Release(models.Model):
    """An official statistics release: one period (a quarter or a year) and one jurisdiction
    (blank: all of the UK). Its figures are in its versions (ADR 0036).

    Or the public account of one enforcement operation that has ended (`operation_id`; ADR
    0046): its period is the operation's days, its jurisdiction blank, and its tables are the
    operation's (`operation_account`)."""

    period_start = models.DateField()
    period_end = models.DateField()
    jurisdiction = models.CharField(max_length=40, blank=True, choices=Jurisdiction.choices)
    title = models.CharField(max_length=200)
    # A plain number, as `accommodation.Bed.operation_id`: statistics may not import the
    # operations app (ADR 0020), and a release, once published, outlives anything it counts.
    operation_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "jurisdiction", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="release_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.title


class VersionState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PublishedVersionChanged(Exception):
    """A published version was about to be changed or deleted: published figures never change."""


class ReleaseVersion(models.Model):
    """One version of a release: its figures frozen as a `snapshot` (the format of ADR 0036)
    when it was prepared, approved by a second analyst, then published. A published version
    never changes (`save` and `delete` refuse); a revision is a new version with its reason."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(
        max_length=20, choices=VersionState.choices, default=VersionState.AWAITING_APPROVAL
    )
    notes = models.TextField(blank=True, help_text="The analyst's notes, published with it")
    revision_reason = models.TextField(blank=True)
    snapshot = models.JSONField()
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="releases_prepared"
    )
    prepared_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="releases_approved",
        null=True,
        blank=True,
    )
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="releases_withdrawn",
        null=True,
        blank=True,
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release", "number"]
        constraints = [
            models.UniqueConstraint(fields=["release", "number"], name="release_version_unique"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="release_version_from_one"
            ),
            models.CheckConstraint(
                condition=models.Q(number=1) | ~models.Q(revision_reason=""),
                name="release_revision_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("prepared_by")),
                name="release_four_eyes",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="published")
                | (models.Q(approved_by__isnull=False) & models.Q(published_at__isnull=False)),
                name="release_published_is_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} (version {self.number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._stored_state() == VersionState.PUBLISHED:
            raise PublishedVersionChanged(f"{self} is published: it cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._stored_state() == VersionState.PUBLISHED:
            raise PublishedVersionChanged(f"{self} is published: it cannot be deleted")
        return super().delete(*args, **kwargs)

    def _stored_state(self) -> str | None:
        if self.pk is None:
            return None
        return ReleaseVersion.objects.filter(pk=self.pk).values_list("state", flat=True).first()


class SyntheticDataset(models.Model):
    """The differentially private synthetic dataset published with a release version (issue 13,
    item 6; ADR 0037), generated when the version was prepared, approved with it and frozen
    with it: once its version is published it never changes (`save` and `delete` refuse)."""

    version = models.OneToOneField(
        ReleaseVersion, on_delete=models.PROTECT, related_name="synthetic"
    )
    csv = models.TextField(help_text="The rows in CTDC's synthetic columns, with the header")
    epsilon = models.DecimalField(max_digits=4, decimal_places=2)
    delta = models.FloatField()
    method = models.TextField()
    rows = models.PositiveIntegerField()
    privacy = models.TextField(help_text="The guarantee in words")
    notes = models.JSONField(default=list)
    unfilled = models.JSONField(default=list, help_text="The CTDC columns always empty")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(epsilon__gt=0), name="synthetic_epsilon_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Synthetic data of {self.version} (epsilon {self.epsilon})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._published():
            raise PublishedVersionChanged(f"{self.version} is published: its data cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._published():
            raise PublishedVersionChanged(
                f"{self.version} is published: its data cannot be deleted"
            )
        return super().delete(*args, **kwargs)

    def _published(self) -> bool:
        """Whether the version (as stored) is published: read afresh, never from a cached one."""
        return ReleaseVersion.objects.filter(
            pk=self.version_id, state=VersionState.PUBLISHED
        ).exists()
