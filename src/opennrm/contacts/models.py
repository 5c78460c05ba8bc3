"""A case's contacts and agency references: how to reach the referrer (also out of hours), the
police force and crime reference, the Home Office reference, a child's social worker and
independent child trafficking guardian, what kind of place the person is staying in now (an
address only where that kind of place needs one), and the person's consent to share with each
named agency (an adult's; a child needs none).

Every contact detail and reference is encrypted at rest and shown only after `audit_read`
naming the fields; the address has a page of its own, so that it is shown, and its read
recorded, only when someone asks for it (docs/adr/0031-contacts-and-dtn-intelligence.md).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import models

from opennrm.lib.fields import EncryptedCharField, EncryptedTextField, RowUUIDField

POLICE_FORCES_FILE = Path(__file__).with_name("police_forces.json")


@cache
def police_forces() -> dict[str, str]:
    """The UK police forces a crime can be reported to, name by code, in the file's order."""
    data = json.loads(POLICE_FORCES_FILE.read_text(encoding="utf-8"))
    return {force["code"]: force["name"] for force in data["forces"]}


class LocationType(models.TextChoices):
    SAFE_HOUSE = "safe_house", "Safe house"
    LOCAL_AUTHORITY = "local_authority", "Local authority accommodation"
    FAMILY_OR_FRIENDS = "family_or_friends", "With family or friends"
    DETENTION = "detention", "Detention"
    HOSPITAL = "hospital", "Hospital"
    NO_FIXED_ABODE = "no_fixed_abode", "No fixed abode"
    UNKNOWN = "unknown", "Not known"
    OTHER = "other", "Somewhere else"


# The kinds of place where the address may be recorded, because nobody else holds it and
# someone may need to find the person there. Never a safe house's (the provider's to give,
# through address grants: ADR 18) nor local authority accommodation's (the council's).
ADDRESS_ALLOWED = frozenset(
    {
        LocationType.FAMILY_OR_FRIENDS,
        LocationType.DETENTION,
        LocationType.HOSPITAL,
        LocationType.OTHER,
    }
)


class CaseContacts(models.Model):
    """The case's contacts and references: one row per case, made the first time they are
    recorded. Everything that could identify or reach someone is encrypted."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="contacts")
    row_uuid = RowUUIDField()
    referrer_phone = EncryptedCharField(max_length=40, blank=True, default="")
    referrer_out_of_hours = EncryptedCharField(max_length=200, blank=True, default="")
    # A code of `police_forces()`; a force is a public body, not a secret.
    police_force = models.CharField(max_length=40, blank=True, default="")
    crime_reference = EncryptedCharField(max_length=40, blank=True, default="")
    home_office_reference = EncryptedCharField(max_length=40, blank=True, default="")
    # A child's (or an age-disputed person's): children's services and the guardian.
    social_worker_name = EncryptedCharField(max_length=200, blank=True, default="")
    social_worker_local_authority = EncryptedCharField(max_length=200, blank=True, default="")
    social_worker_phone = EncryptedCharField(max_length=40, blank=True, default="")
    social_worker_email = EncryptedCharField(max_length=254, blank=True, default="")
    guardian_name = EncryptedCharField(max_length=200, blank=True, default="")
    guardian_service = EncryptedCharField(max_length=200, blank=True, default="")
    guardian_phone = EncryptedCharField(max_length=40, blank=True, default="")
    # Where the person is now: the kind of place, and an address only where it needs one.
    location_type = models.CharField(
        max_length=30, choices=LocationType.choices, blank=True, default=""
    )
    location_address = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Claimed by every change: two people editing at once cannot overwrite each other.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "case contacts"

    def __str__(self) -> str:
        return f"Contacts of case {self.case_id}"

    @property
    def police_force_name(self) -> str:
        return police_forces().get(self.police_force, self.police_force)


class AgencyKind(models.TextChoices):
    POLICE = "police", "Police"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    HEALTH = "health", "Health services (a GP or hospital)"
    HOME_OFFICE = "home_office", "Home Office"
    SUPPORT_PROVIDER = "support_provider", "Support provider"
    LEGAL = "legal", "Legal adviser"
    OTHER = "other", "Another agency"


class AgencyConsent(models.Model):
    """An adult's answer to "may we share your details with this agency?", one row per named
    agency (asked again, the row is updated; the name is compared without regard to case). A child needs no consent: nothing is asked, and
    `contacts.services` refuses to record one."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="agency_consents")
    row_uuid = RowUUIDField()
    agency_kind = models.CharField(max_length=30, choices=AgencyKind.choices)
    # Encrypted: a GP surgery's or a local charity's name can say where someone lives. One row
    # per agency is kept by `contacts.services` (compared decrypted, under the case's lock).
    agency_name = EncryptedCharField(max_length=200)
    consent_given = models.BooleanField()
    given_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["agency_kind", "pk"]

    def __str__(self) -> str:
        return f"Consent to share with {self.agency_name} ({self.case_id})"
