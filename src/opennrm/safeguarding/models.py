"""The children's pathway: the local authority's tasks for a child, and age assessments.

A child, or a person whose age is disputed and who is treated as a child until assessed, is
never placed by adult matching: what they need (a place to stay above all) becomes a task of the
local authority of their area (`ChildrenServicesTask`), with the child trafficking guardian
service told (docs/adr/0025). An age assessment (`AgeAssessment`) is the only way a child or
age-disputed person's age group changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opennrm.cases.choices import AgeGroup
from opennrm.lib.fields import EncryptedTextField, RowUUIDField


class TaskKind(models.TextChoices):
    ACCOMMODATION = "accommodation", "Accommodation and immediate needs"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ChildrenServicesTask(models.Model):
    """Something the local authority's children's services must do for a child: for now, arrange
    the accommodation (and the immediate needs) asked for at referral or by a coordinator.

    `owner` is the local authority of the case's area when the task was raised (none if OpenNRM
    knows no local authority there: the task still shows to any safeguarding lead of the area).
    The outcome is free text about the child, encrypted at rest and read only after
    `audit_read`."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="children_services_tasks"
    )
    kind = models.CharField(max_length=30, choices=TaskKind.choices)
    owner = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children_services_tasks",
    )
    area = models.CharField(max_length=120)
    # What was asked for: immediate-need labels (never free text about the child).
    needs = models.JSONField(default=list)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    raised_at = models.DateTimeField()
    # Who asked: the referrer at referral, or the coordinator who asked for a place.
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    row_uuid = RowUUIDField()
    outcome = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["area", "status", "due_on"], name="children_task_area_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", done_at=None)
                | models.Q(status="done", done_at__isnull=False),
                name="children_task_done_when_done_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} task for case {self.case_id}"


class DisputeBasis(models.TextChoices):
    """Why a person referred as an adult may be under 18: enough to act on, and no free text
    about them (the age assessment records the reasons)."""

    SAYS_SO = "says_so", "They say they are under 18"
    DOCUMENT = "document", "A document says they are under 18"
    APPEARANCE = "appearance", "They appear to be under 18"
    OTHER = "other", "Other information suggests they are under 18"


class AgeOutcome(models.TextChoices):
    CHILD = "child", "A child"
    ADULT = "adult", "An adult"
    NOT_POSSIBLE = "not_possible", "Not possible to say: still treated as a child"


class AgeAssessment(models.Model):
    """An age assessment's outcome as the local authority recorded it: the only way a child or
    age-disputed person moves to the adult pathway (and the way an age-disputed person is found
    to be a child). The reasons are free text about the person, encrypted at rest."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="age_assessments")
    outcome = models.CharField(max_length=20, choices=AgeOutcome.choices)
    assessed_on = models.DateField()
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    age_group_before = models.CharField(max_length=20)
    age_group_after = models.CharField(max_length=20)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    row_uuid = RowUUIDField()
    # Emptied when the person's details are erased (privacy).
    reasons = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"Age assessment of case {self.case_id}: {self.outcome}"

    @property
    def age_group_after_label(self) -> str:
        return AgeGroup(self.age_group_after).label
