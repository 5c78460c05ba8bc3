"""Support and accommodation. So far: the placement requests that referrals raise for people
with immediate needs; providers, sites, beds and matching come with the support issue."""

from __future__ import annotations

from django.db import models


class ImmediateNeed(models.TextChoices):
    BED_TONIGHT = "bed_tonight", "A safe place to stay tonight"
    MEDICAL = "medical", "Medical attention"
    INTERPRETER = "interpreter", "An interpreter"
    SAFETY_RISK = "safety_risk", "Protection from an immediate risk to their safety"


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", "Emergency: today"
    URGENT = "urgent", "Urgent: within 3 days"
    ROUTINE = "routine", "Routine"


class PlacementRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for a place"


class PlacementRequest(models.Model):
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="placement_requests"
    )
    needs = models.JSONField(default=list)
    urgency = models.CharField(max_length=20, choices=Urgency.choices)
    needed_from = models.DateField()
    status = models.CharField(
        max_length=20, choices=PlacementRequestStatus.choices, default=PlacementRequestStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["needed_from", "created_at"]

    def __str__(self) -> str:
        return f"Placement request for {self.case_id}"
