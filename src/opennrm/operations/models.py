"""Planned enforcement operations: who leads one, who is invited, and whom it expects to find.

An operation is need-to-know: only the members of its lead organisation and of the
organisations invited to it ever see it (`selectors.operations_visible_to`, ADR 0039).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

from opennrm.accommodation.models import Region
from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import OrganisationKind
from opennrm.cases.choices import ExploitationType, Sex
from opennrm.lib.fields import EncryptedTextField, RowUUIDField


class OperationStatus(models.TextChoices):
    """Planned, under way and ended follow the dates; cancelled is the only one recorded."""

    PLANNED = "planned", "Planned"
    UNDER_WAY = "under_way", "Under way"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"


class AgeGroup(models.TextChoices):
    """How old the people expected are. A child, or someone whose age is disputed, is never
    counted as an adult: until assessed they are treated as a child (CETS Art. 10(3))."""

    ADULT = "adult", "Adult"
    CHILD = "child", "Child"
    AGE_DISPUTED = "age_disputed", "Age disputed"


class PartnerRole(models.TextChoices):
    """What an invited organisation does in the operation; each fits one kind of organisation
    (`PARTNER_KINDS`)."""

    SUPPORT_PROVIDER = "support_provider", "Support provider"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    CHILD_GUARDIAN_SERVICE = "child_guardian_service", "Child guardian service"
    COMPETENT_AUTHORITY = "competent_authority", "Competent authority"
    POLICE = "police", "Police"


# The kind of organisation each partner role fits: a support provider is invited as one, and
# so on. The police of another force come as a statutory first responder.
PARTNER_KINDS: dict[PartnerRole, OrganisationKind] = {
    PartnerRole.SUPPORT_PROVIDER: OrganisationKind.SUPPORT_PROVIDER,
    PartnerRole.LOCAL_AUTHORITY: OrganisationKind.LOCAL_AUTHORITY,
    PartnerRole.CHILD_GUARDIAN_SERVICE: OrganisationKind.CHILD_GUARDIAN_SERVICE,
    PartnerRole.COMPETENT_AUTHORITY: OrganisationKind.COMPETENT_AUTHORITY,
    PartnerRole.POLICE: OrganisationKind.STATUTORY_FIRST_RESPONDER,
}


class Operation(models.Model):
    name = models.CharField(max_length=120)
    lead_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="operations_led"
    )
    # A planned raid is secret: until it starts nothing about it appears outside its own pages
    # (selectors.operation_is_secret).
    confidential = models.BooleanField(default=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    region = models.CharField(max_length=40, choices=Region.choices)
    # ISO 639 codes, as the referral form records a person's languages (lib/iso.py).
    languages = models.JSONField(default=list, blank=True)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    planned_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The shortfall last warned of, per kind of place ({"women": 25}; empty when none was short
    # at the last look): a warning goes out only when the shortfall appears or changes, not on
    # every save with the same figures (gap_warning.py).
    gap_warned = models.JSONField(default=dict, blank=True)
    # Raised by each change of the plan: a plan saved from a page that shows an older one is
    # refused (`services.operation_change`), so it cannot put back what another planner changed
    # meanwhile (a confidential operation made public again: found in review, stop 39).
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="operation_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def status_on(self, today: date) -> OperationStatus:
        if self.cancelled_at is not None:
            return OperationStatus.CANCELLED
        if today < self.starts_on:
            return OperationStatus.PLANNED
        if today > self.ends_on:
            return OperationStatus.ENDED
        return OperationStatus.UNDER_WAY

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


class ExpectedGroup(models.Model):
    """How many people of one sex, age group and exploitation type the lead expects to find.
    Groups with none expected have no row."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="expected")
    sex = models.CharField(max_length=20, choices=Sex.choices)
    age_group = models.CharField(max_length=20, choices=AgeGroup.choices)
    exploitation_type = models.CharField(max_length=40, choices=ExploitationType.choices)
    number = models.PositiveIntegerField()

    class Meta:
        ordering = ["sex", "age_group", "exploitation_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "sex", "age_group", "exploitation_type"],
                name="expected_group_unique",
            ),
            models.CheckConstraint(condition=models.Q(number__gt=0), name="expected_group_some"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.sex} {self.age_group} {self.exploitation_type}"


class OperationPartner(models.Model):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="partners")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="operation_partnerships"
    )
    role = models.CharField(max_length=40, choices=PartnerRole.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "organisation"], name="operation_partner_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()}) in {self.operation}"


class ReceptionRecord(models.Model):
    """One person taken in during an operation: the short record a first responder makes on the
    night (ADR 0043), and the referral draft it became, to be completed through the normal
    journey.

    `sequence` numbers the people of one operation 1, 2, 3... (unique with the operation: two
    responders taking people in at once never share a number, services.reception_take_in).
    `reference` is checked for protection from removal like an NRM reference (ADR 0040)."""

    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="reception")
    sequence = models.PositiveIntegerField()
    reference = models.CharField(max_length=20, unique=True)
    taken_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    taken_in_at = models.DateTimeField()
    # The organisation through which the responder took the person in (the draft's too).
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    row_uuid = RowUUIDField()
    # A name if they gave one, else a description ("woman in red coat, room 3"): identifying.
    name_or_description = EncryptedTextField()
    sex = models.CharField(max_length=20, choices=Sex.choices)
    age_group = models.CharField(max_length=20, choices=AgeGroup.choices)
    language = models.CharField(max_length=3, blank=True)
    # accommodation.ImmediateNeed values, as the referral's needs page records them.
    urgent_needs = models.JSONField(default=list, blank=True)
    interpreter_needed = models.BooleanField(default=False)
    # Deleting a draft that was never submitted leaves the record: the person was taken in.
    draft = models.OneToOneField(
        "referrals.ReferralDraft",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reception_record",
    )
    # Gone missing before a case existed (there is no RG to suspend yet): recorded by the
    # responder who took them in or a lead responder, and cleared if they are found again.
    missing_since = models.DateTimeField(null=True, blank=True)
    missing_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Taken in as an adult, they said at referral that they are under 18 (or their age is
    # disputed): when their draft's age page first said so, and the operation's children's
    # services were told (services._child_found_at_referral). Kept so they are told only once.
    found_child_at = models.DateTimeField(null=True, blank=True)
    # The key the reception form (a hidden field, new for each empty form) or an API client
    # (`Idempotency-Key`) sent with the record, and a keyed hash of what it said: the same
    # submission sent again (a double tap, a retry after a lost answer on a poor connection)
    # finds this record instead of taking the person in twice (services.reception_take_in).
    # Blank where none was sent. A key is its sender's (each API client numbers its own
    # requests): looked up among the records of the member it acts as. The hash is keyed so it
    # tells nothing of the name.
    submission_key = models.CharField(max_length=200, blank=True, default="")
    submission_fingerprint = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["operation", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "sequence"], name="reception_sequence_unique"
            ),
            models.UniqueConstraint(
                fields=["operation", "taken_in_by", "submission_key"],
                condition=~models.Q(submission_key=""),
                name="reception_submission_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Person {self.sequence} of {self.operation}"

    @property
    def is_child(self) -> bool:
        """Taken in as a child or as age disputed (the age group ticked on the night)."""
        return self.age_group != AgeGroup.ADULT

    @property
    def treated_as_child(self) -> bool:
        """Taken in as a child or as age disputed, or found to be one at the referral since
        (`found_child_at`), or treated as one on their case (an age dispute raised there, an
        assessment finding a child: the case is the latest word on their age): never counted,
        shown or protected as an adult from then, even once their draft is gone. A case saying
        adult does not make an adult of a person taken in (or found) as a child. The same rule
        as `selectors.age_group_now` (not adult exactly when this is true). Reads the draft's
        case: select_related("draft__case") for many records, as `selectors.reception_of`."""
        if self.is_child or self.found_child_at is not None:
            return True
        if self.draft_id is None:
            return False
        case = self.draft.case if self.draft is not None else None
        return case is not None and case.is_child


# --- Surge places (ADR 0044) --------------------------------------------------------------------


class SurgePlaces(models.Model):
    """Temporary places a support provider invited to the operation adds for it: `places` new
    beds in a room of their own at one site (theirs, or another provider's when the places are
    outsourced), kept for the operation's people from `starts_on` to `ends_on`
    (`accommodation.Bed.operation_id`, `surge_from`, `surge_until`). Ending them early leaves
    anyone placed there in place."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="surges")
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    room = models.OneToOneField(
        "accommodation.Room", on_delete=models.PROTECT, related_name="surge"
    )
    places = models.PositiveIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    # Who pays for them (the operation's budget, a grant, the provider): free text.
    funding_note = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The one-time key of the page they were added from: the same page sent twice (a second
    # click, a resend after a slow response) adds them once (`surge.surge_add`, found in review:
    # twice the beds appeared, hiding the operation's shortfall).
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    # Not stored: set by `surge.surge_add` on the places it returns when the page sent had
    # already added them (sent twice), so that the page says nothing was added again.
    sent_before = False

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "added_by", "submission_key"],
                condition=models.Q(submission_key__isnull=False),
                name="surge_one_per_submission",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="surge_ends_after_it_starts",
            ),
            models.CheckConstraint(condition=models.Q(places__gt=0), name="surge_some_places"),
        ]

    def __str__(self) -> str:
        return f"{self.places} surge places for {self.operation}"

    @property
    def outsourced(self) -> bool:
        return self.room.site.provider_id != self.provider_id


class HistoryCell(models.Model):
    """What the forecast's history is counted by ahead of time (ADR 0053): the cases submitted
    in one month, of one sex, age group and local authority area. Counts only: no row names or
    points at a person. `operations.services.history_rollup_rebuild` replaces every row each
    morning; the forecast adds, counted live, the cases submitted since (and those of a
    lookback's first, partial month)."""

    month = models.DateField()  # the first day of the month the cases were submitted in
    sex = models.CharField(max_length=10, choices=Sex.choices)
    age_group = models.CharField(max_length=20)  # `cases.choices.AgeGroup`
    area_key = models.CharField(max_length=120)  # the case's area, trimmed and lower case

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.sex} {self.age_group} {self.area_key}"


class HistoryMonth(HistoryCell):
    """How many of the cell's cases were referred, and how many of them needed a place."""

    referred = models.PositiveIntegerField()
    needed = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month", "area_key"], name="history_month_idx")]


class HistoryStay(HistoryCell):
    """The placements begun of the cell's cases, `n` of one length in days and whether still
    going on (then its length up to the day of the count)."""

    days = models.IntegerField()
    ongoing = models.BooleanField()
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month", "area_key"], name="history_stay_idx")]


class HistoryRollup(models.Model):
    """When the history was last counted ahead (one row, or none before the first morning):
    the months' rows hold the cases submitted before `covers_before`, and the lengths of the
    stays still going on up to that day."""

    built_at = models.DateTimeField()
    covers_before = models.DateField()

    def __str__(self) -> str:
        return f"history counted at {self.built_at:%Y-%m-%d %H:%M} (before {self.covers_before})"
