"""Indicator catalogues (versioned data) and the screenings first responders record with them."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .catalogue import Catalogue, ListKey, parse
from .rules import ScreeningResult


class IndicatorCatalogue(models.Model):
    """One version of an indicator catalogue, stored whole as the JSON document it came from.

    Why the document and not one row per indicator: a catalogue version is read and replaced as
    a whole, never edited indicator by indicator, and never queried across indicators. Keeping
    the document exactly as loaded means the version a screening used can be shown, exported or
    re-checked byte for byte, and `catalogue.parse` (the same validator the loader uses) turns it
    into typed values. Screenings keep the codes they observed and a snapshot of the result, so
    nothing needs a foreign key to an individual indicator.

    Rows are never changed after loading except `is_active`; a new version is a new row, and at
    most one row is active (the database enforces it).
    """

    key = models.CharField(max_length=100)
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    source = models.TextField()
    data = models.JSONField()
    is_active = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(default=timezone.now)
    # None when loaded by a migration or by the command line.
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-loaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="catalogue_key_version_unique"),
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="catalogue_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"

    def parsed(self) -> Catalogue:
        """The typed catalogue. A stored catalogue is never changed (a new version is a new
        row), so it is parsed once per process: parsing took about 5 ms, twice in every
        referral submission."""
        cache_key = (self.pk, self.key, self.version, self.loaded_at)
        cached = _PARSED.get(cache_key) if self.pk is not None else None
        if cached is None:
            cached = parse(self.data)
            if self.pk is not None:
                _PARSED[cache_key] = cached
        return cached


# Parsed catalogues by (id, key, version, time loaded): few, immutable, shared by requests.
_PARSED: dict[tuple[int, str, str, datetime], Catalogue] = {}


class Screening(models.Model):
    """One screening: which indicators a first responder observed, and what the rule showed.

    The result is stored as a snapshot, so it reads the same even after the rule's wording or
    the active catalogue changes; `catalogue` points at the exact version that was used.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="screenings"
    )
    catalogue = models.ForeignKey(
        IndicatorCatalogue, on_delete=models.PROTECT, related_name="screenings"
    )
    list_key = models.CharField(max_length=40, choices=[(k.value, k.label) for k in ListKey])
    is_child = models.BooleanField()
    observed_codes = models.JSONField(default=list)
    result = models.JSONField()
    # Copied from the result so lists can show and count it without reading the snapshot.
    indicated = models.BooleanField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Screening {self.pk} ({self.list_key})"

    def result_object(self) -> ScreeningResult:
        return ScreeningResult.from_dict(self.result)

    @property
    def list_label(self) -> str:
        return ListKey(self.list_key).label
