"""Safety: what keeps a person safe, recorded at referral and kept up to date afterwards.

A case has at most one `SafetyProfile`: the risk level and its reasons, the people who exploited
them (described, for those who place and house them to recognise a danger), the places they
must keep away from, medical needs, and a women-only or men-only requirement; and the
`Dependant`s who come with them (children, a partner), each with their own age.

Everything that can identify the person, or say where they were exploited, is encrypted at
rest. The exploiters' descriptions have no blind index on purpose: nobody can search the
service for a name or a nickname and find the people it was written about (ADR 0026). The
profile flows into every placement request made for the case (`accommodation`): its places and
requirement are prefilled there, and matching always applies them and the dependants.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

from opennrm.cases.choices import Sex
from opennrm.lib.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
    RowUUIDField,
)

ADULT_AGE = 18


class RiskLevel(models.TextChoices):
    STANDARD = "standard", "Standard"
    HIGH = "high", "High"
    VERY_HIGH = "very_high", "Very high"


class SettingRequired(models.TextChoices):
    """The same values as `accommodation.models.Setting`'s single-sex settings."""

    NONE = "", "No requirement"
    WOMEN_ONLY = "women_only", "A women-only house"
    MEN_ONLY = "men_only", "A men-only house"


class Relationship(models.TextChoices):
    CHILD = "child", "Their child"
    PARTNER = "partner", "Their partner"
    OTHER = "other", "Another dependant"


class SafetyProfile(models.Model):
    """The safety of the person of one case. Every change is a new version (`version`), made
    by `safety.services` with one audit event naming the fields changed, never their values."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="safety_profile"
    )
    risk_level = models.CharField(
        max_length=20, choices=RiskLevel.choices, default=RiskLevel.STANDARD
    )
    row_uuid = RowUUIDField()
    risk_reasons = EncryptedTextField(blank=True)
    # Descriptions of the people who exploited them. Never indexed (no blind index, no search),
    # never shown in a list: only on the pages of this one case, with the read audited.
    exploiters = EncryptedTextField(blank=True)
    # Names of places (towns, local authority areas) they must keep away from.
    keep_away = EncryptedJSONField(default=list, blank=True)
    medical_needs = EncryptedTextField(blank=True)
    setting_required = models.CharField(
        max_length=20, choices=SettingRequired.choices, blank=True, default=""
    )
    # How many dependants come with them: kept with the profile so that matching reads one row.
    dependant_count = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Safety profile of case {self.case_id}"


class Dependant(models.Model):
    """Someone who comes with the person and is placed with them, or not at all. Their age is
    given in years (as at `added_at`) or as an estimated date of birth; a name is optional."""

    profile = models.ForeignKey(SafetyProfile, on_delete=models.CASCADE, related_name="dependants")
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    sex = models.CharField(max_length=10, choices=Sex.choices)
    age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    row_uuid = RowUUIDField()
    born_estimate = EncryptedDateField(null=True, blank=True)
    name = EncryptedCharField(max_length=200, blank=True)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"Dependant {self.pk} of profile {self.profile_id}"

    def age_on(self, day: date) -> int:
        """Their age in whole years on `day`."""
        if self.born_estimate is not None:
            born = self.born_estimate
            return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        added = timezone.localdate(self.added_at)  # the day in the UK, not in UTC
        years = day.year - added.year - ((day.month, day.day) < (added.month, added.day))
        return (self.age_years or 0) + max(years, 0)

    def is_child_on(self, day: date) -> bool:
        """Under 18 (`safety.services` refuses a dependant without an age)."""
        return self.age_on(day) < ADULT_AGE


class SafetyProfileVersion(models.Model):
    """A version of a safety profile as it stood before a change replaced it (ADR 0026): kept so
    that a mistaken overwrite can be undone by hand and the person's subject access export
    holds every version. Written by `safety.services` in the change's own transaction; erasure
    deletes them with the profile's other identifying details."""

    profile = models.ForeignKey(SafetyProfile, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    row_uuid = RowUUIDField()
    # What that version said: the profile's fields, and its dependants as they then were (a
    # removed dependant is deleted from `Dependant`), in one value bound to this row.
    values = EncryptedJSONField(default=dict)
    # When that version was saved, and by whom (the profile's `updated_at` and `updated_by`
    # until the change replaced it).
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["profile", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "version"], name="safety_profile_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"Version {self.version} of profile {self.profile_id}"
