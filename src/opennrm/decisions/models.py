"""Decisions on cases: reasonable and conclusive grounds, reconsideration, disqualification and
extensions of the recovery period. Each records the policy profile and version it applied."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opennrm.cases.models import Case
from opennrm.lib.fields import EncryptedTextField, RowUUIDField


class DecisionKind(models.TextChoices):
    REASONABLE_GROUNDS = "reasonable_grounds", "Reasonable grounds decision"
    CONCLUSIVE_GROUNDS = "conclusive_grounds", "Conclusive grounds decision"
    DISQUALIFICATION = "disqualification", "Disqualification"
    RECOVERY_EXTENSION = "recovery_extension", "Extension of the recovery period"


class DecisionState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for a second decision maker's approval"
    IN_EFFECT = "in_effect", "In effect"
    APPROVAL_REFUSED = "approval_refused", "Not approved"


class Decision(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=30, choices=DecisionKind.choices)
    # The outcome as the profile names it ("positive", "recognised_trafficking"...), with its
    # label and kind copied so the decision reads the same whatever later profiles say.
    outcome = models.CharField(max_length=40)
    outcome_label = models.CharField(max_length=200)
    outcome_kind = models.CharField(max_length=20)
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
        indexes = [models.Index(fields=["state", "decided_at"], name="decision_state_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.case_id}: {self.outcome}"

    @property
    def is_negative(self) -> bool:
        return self.outcome_kind == "negative"


class ReconsiderationState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted: a new decision will be made"
    REFUSED = "refused", "Refused: the decision stands"


class ReconsiderationRequest(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reconsiderations")
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="reconsiderations"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
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

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"Reconsideration of {self.decision_id}"


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
