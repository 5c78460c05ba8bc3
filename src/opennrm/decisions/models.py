"""Decisions on cases: reasonable and conclusive grounds, reconsideration, disqualification and
extensions of the recovery period. Each records the policy profile and version it applied."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from opennrm.cases.models import Case
from opennrm.lib.fields import (
    EncryptedCharField,
    EncryptedFileSystemStorage,
    EncryptedJSONField,
    EncryptedTextField,
    RowUUIDField,
)
from opennrm.policy.negative_reasons import catalogue


class DecisionKind(models.TextChoices):
    REASONABLE_GROUNDS = "reasonable_grounds", "Reasonable grounds decision"
    CONCLUSIVE_GROUNDS = "conclusive_grounds", "Conclusive grounds decision"
    DISQUALIFICATION = "disqualification", "Disqualification"
    RECOVERY_EXTENSION = "recovery_extension", "Extension of the recovery period"


class DecisionState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for a second decision maker's approval"
    IN_EFFECT = "in_effect", "In effect"
    APPROVAL_REFUSED = "approval_refused", "Not approved"
    # A reconsideration of it was accepted: a new decision will replace it (`replaced_by`).
    SUPERSEDED = "superseded", "Superseded: a reconsideration was accepted"


class Decision(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=30, choices=DecisionKind.choices)
    # The outcome as the profile names it ("positive", "recognised_trafficking"...), with its
    # label and kind copied so the decision reads the same whatever later profiles say.
    outcome = models.CharField(max_length=40)
    outcome_label = models.CharField(max_length=200)
    outcome_kind = models.CharField(max_length=20)
    # The main reason for a negative reasonable or conclusive grounds decision, as a code of
    # `policy.negative_reasons` (ADR 0038): what the statistics count, never the free text.
    # Empty for every other decision, and for negative ones recorded before reasons were
    # coded ("not recorded": none is ever inferred).
    negative_reason = models.CharField(max_length=40, blank=True, default="")
    # Free text about the person, which can name them: encrypted at rest like the accounts.
    row_uuid = RowUUIDField()
    reasons = EncryptedTextField()
    indicators_relied_on = models.JSONField(default=list, blank=True)
    evidence_relied_on = models.JSONField(default=list, blank=True)
    extension_days = models.PositiveSmallIntegerField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions_made"
    )
    decided_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=DecisionState.choices)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions_approved",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = EncryptedTextField(blank=True)
    policy_profile_key = models.CharField(max_length=60)
    policy_profile_version = models.CharField(max_length=60)
    # A decision made after an accepted reconsideration names the decision it replaces.
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [
            models.Index(fields=["state", "decided_at"], name="decision_state_idx"),
            # A case's latest decision of a kind in a state (the statistics extract asks this
            # of every referral of a year): found at the end of one short range. Without it,
            # SQLite walks every decision in the state through the index above, once a case.
            models.Index(
                fields=["case", "kind", "state", "decided_at", "id"], name="decision_case_kind_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.case_id}: {self.outcome}"

    @property
    def is_negative(self) -> bool:
        return self.outcome_kind == "negative"

    @property
    def negative_reason_label(self) -> str | None:
        """The main reason of a negative reasonable or conclusive grounds decision, in words
        ("Not recorded" for one decided before reasons were coded); None for any other."""
        if not self.is_negative or self.kind not in (
            DecisionKind.REASONABLE_GROUNDS,
            DecisionKind.CONCLUSIVE_GROUNDS,
        ):
            return None
        return catalogue().label(self.negative_reason)

    @property
    def took_effect_at(self) -> datetime | None:
        """When it took effect: on approval if it needed a second decision maker, else when it
        was made; None while it waits or if it was never approved. Its windows run from then."""
        if self.approved_at is not None and self.state != DecisionState.APPROVAL_REFUSED:
            return self.approved_at
        if self.state == DecisionState.AWAITING_APPROVAL or self.approved_by_id is not None:
            return None
        return self.decided_at


class LetterOccasion(models.TextChoices):
    """Why a letter about a decision was issued."""

    # The decision took effect (or a reconsideration of it was decided: `Letter.reconsideration`).
    DECISION = "decision", "The decision"
    # A child (or a person whose age was disputed) was found an adult, or turned 18, after the
    # decision, and the adult dates it gives (the move-on end, an adult's support end) started:
    # a later change that moves a date is a new letter (ADR 0017, addendum of stop 39).
    ADULT_DATES = "adult_dates", "The support dates as an adult"


class Letter(models.Model):
    """The letter issued when a decision took effect, or when a reconsideration of it was
    decided, or when a change of age group gave the case the adult dates the decision gives
    (`occasion`), as it was sent: a record, never rewritten.

    Its date, the dates it states and its text are fixed when it is issued
    (`services.letter_issue`); a later change, such as an extension of the recovery period, is
    a decision of its own with a letter of its own. The text greets the person by name and
    quotes the reasons, so it is encrypted; erasing the person's details empties it (NULL) and
    keeps the rest. See docs/adr/0017-letters-are-records.md.
    """

    # The decision the letter is about: its own letter, one more for each reconsideration of it
    # decided (`reconsideration` set; the decision reconsidered is this one), and one when a
    # change of age group started the adult dates it gives (`occasion`).
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="letters_issued")
    occasion = models.CharField(
        max_length=20, choices=LetterOccasion.choices, default=LetterOccasion.DECISION
    )
    reconsideration = models.OneToOneField(
        "ReconsiderationRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letter",
    )
    row_uuid = RowUUIDField()
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="letters")
    # What the letter tells, copied from the decision so the record reads alone.
    kind = models.CharField(max_length=30, choices=DecisionKind.choices)
    language = models.CharField(max_length=12)
    # None: issued by OpenNRM itself (the daily task that moves a child who turned 18 to the
    # adult pathway, `safeguarding.coming_of_age`).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    issued_at = models.DateTimeField()
    # The date the letter gives as its own, and every other date it states, by name:
    # {"recovery_period_ends": "2026-12-31", ...} as they were on `issued_on`.
    issued_on = models.DateField()
    dates_stated = models.JSONField(default=dict, blank=True)
    # The words as issued: {"title": ..., "greeting": ..., ...} (letters.LetterText).
    text = EncryptedJSONField(null=True)

    class Meta:
        ordering = ["issued_at", "id"]
        constraints = [
            # One letter of the decision itself; its reconsiderations' letters, and the letter
            # of the adult dates it gives, are beside it.
            models.UniqueConstraint(
                fields=["decision"],
                condition=models.Q(reconsideration__isnull=True, occasion="decision"),
                name="letter_one_per_decision",
            )
        ]

    def __str__(self) -> str:
        if self.reconsideration_id is not None:
            return f"Letter for reconsideration {self.reconsideration_id} ({self.language})"
        if self.occasion == LetterOccasion.ADULT_DATES:
            return f"Letter of the adult dates of decision {self.decision_id} ({self.language})"
        return f"Letter for decision {self.decision_id} ({self.language})"


class ReconsiderationState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted: a new decision will be made"
    REFUSED = "refused", "Refused: the decision stands"


class LateRequester(models.TextChoices):
    """Who may ask for a reconsideration (Modern Slavery Statutory Guidance, England and Wales,
    "Reconsideration"), for a request that reached the competent authority after the window
    closed, by letter or e-mail rather than through OpenNRM."""

    PERSON = "person", "The person themselves"
    LEGAL_REPRESENTATIVE = "legal_representative", "Their legal representative"
    SUPPORT_PROVIDER = "support_provider", "Their support provider"
    FIRST_RESPONDER = "first_responder", "The first responder who referred them"


class ReconsiderationRequest(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reconsiderations")
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="reconsiderations"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The support provider that asked from the support plan (care.views), or None when the
    # referrer asked: its staff may read back the evidence it sent and the letter answering it, nothing else.
    support_provider = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField()
    row_uuid = RowUUIDField()
    grounds = EncryptedTextField()
    state = models.CharField(
        max_length=20, choices=ReconsiderationState.choices, default=ReconsiderationState.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reasons = EncryptedTextField(blank=True)
    # A request that reached the competent authority by letter or e-mail, taken in by one of its
    # decision makers (`services.reconsideration_take_late`; `requested_by` is then the
    # decision maker): who asked (`LateRequester`) and the day it reached the authority. Empty
    # for a request made through OpenNRM. (Named when only late requests were taken in.)
    late_asked_by = models.CharField(
        max_length=30, blank=True, default="", choices=LateRequester.choices
    )
    late_received_on = models.DateField(null=True, blank=True)
    # Whether it reached the authority after the last day to ask (judged by `late_received_on`,
    # never the day it was entered), and the exceptional circumstances it was taken in for.
    late = models.BooleanField(default=False)
    late_circumstances = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"Reconsideration of {self.decision_id}"


def evidence_storage() -> EncryptedFileSystemStorage:
    # As the referral's evidence (referrals.models.evidence_storage): private, encrypted, and
    # with no URL; served only by an access-checked view.
    return EncryptedFileSystemStorage("evidence")


class ReconsiderationEvidence(models.Model):
    """A file sent with a reconsideration request: checked and stored as a referral's evidence
    is (`lib.files.upload_checked`, encrypted), shown to the competent authority's deciders and
    read back by the organisation that sent it."""

    request = models.ForeignKey(
        ReconsiderationRequest, on_delete=models.PROTECT, related_name="evidence"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The name it had on the uploader's computer, which may identify someone: encrypted.
    row_uuid = RowUUIDField()
    original_name = EncryptedCharField(max_length=255)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(storage=evidence_storage, upload_to="reconsideration/%Y/%m/")

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"Reconsideration evidence {self.pk}"


class Reminder(models.Model):
    """One reminder or escalation sent about one deadline. The unique constraint is what makes
    the daily task safe to run twice at once: the second insert of the same reminder fails."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=40)
    due_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "due_on"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.case_id} due {self.due_on}"


class ReminderRun(models.Model):
    """One row per day the reminder task has run. Inserting it is the run's lock: a second run
    on the same day, even at the same moment, fails on the unique date and does nothing."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    reminders = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Reminders for {self.day}"
