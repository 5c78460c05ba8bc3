"""What data protection does to the records: pseudonymisation at the end of the retention period
and erasure at a person's request (one `Erasure` per person, whichever came first), and the
daily retention runs. See docs/adr/0014-retention-and-erasure.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ErasureReason(models.TextChoices):
    RETENTION = "retention", "The retention period ended"
    REQUEST = "request", "The person asked for their details to be erased"


class Erasure(models.Model):
    """A person whose identifying details are gone; only the statistical fields remain.

    One per person at most (the unique person is what makes two runs at once safe). Holds no
    identifying data: `request_reference` is the data-protection officer's own reference for
    the request (a ticket number), never the requester's name.
    """

    person = models.OneToOneField("cases.Person", on_delete=models.PROTECT, related_name="erasure")
    reason = models.CharField(max_length=20, choices=ErasureReason.choices)
    at = models.DateTimeField()
    # Empty when the daily retention task did it.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request_reference = models.CharField(max_length=60, blank=True)
    request_received_on = models.DateField(null=True, blank=True)
    # How many of each kind of record were removed or emptied, for the person's page.
    removed = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Erasure of person {self.person_id} ({self.reason})"


class ErasureRequestStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting a second officer's approval"
    CARRIED_OUT = "carried_out", "Erased"
    REFUSED = "refused", "Refused"


class ErasureRefusal(models.TextChoices):
    """Why a request to erase was refused: coded, never free text, so the record holds nothing
    about the person (UK GDPR Art. 17(3))."""

    OPEN_CASE = (
        "open_case",
        "A case is open: the competent authority needs the details to decide it",
    )
    LINKED_REFERRAL = (
        "linked_referral",
        "A referral confirmed to be the same person, of another competent authority, protects "
        "them from removal",
    )
    SUPPORT = "support", "Support is still under way"
    LEGAL_HOLD = (
        "legal_hold",
        "A legal hold: the details are needed for legal claims or proceedings",
    )
    RETENTION_RULE = "retention_rule", "A law requires the details to be kept for longer"


class ErasureRequest(models.Model):
    """A person's request to erase their details, as the data-protection officer recorded it,
    and what was decided: erased once a second officer approved it, or refused with a coded
    reason. Kept either way, so the person can be answered and the decision checked. Holds
    nothing identifying: the officer's own reference for the request, never the requester's
    name. See ADR 0014, addendum of stop 42."""

    person = models.ForeignKey(
        "cases.Person", on_delete=models.PROTECT, related_name="erasure_requests"
    )
    request_reference = models.CharField(max_length=60)
    request_received_on = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(
        max_length=20,
        choices=ErasureRequestStatus.choices,
        default=ErasureRequestStatus.AWAITING_APPROVAL,
    )
    # Empty while awaiting, and when the retention run removed the details meanwhile.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.CharField(max_length=20, choices=ErasureRefusal.choices, blank=True)
    erasure = models.OneToOneField(
        Erasure, on_delete=models.PROTECT, null=True, blank=True, related_name="request"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One awaiting request per person: two would let each officer approve the other's.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(status="awaiting_approval"),
                name="privacy_one_awaiting_erasure_request",
            )
        ]

    def __str__(self) -> str:
        return f"Erasure request {self.request_reference} ({self.status})"


class RetentionRun(models.Model):
    """One run of the daily retention task, with what it did."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    people_pseudonymised = models.PositiveIntegerField(default=0)
    drafts_deleted = models.PositiveIntegerField(default=0)
    notifications_deleted = models.PositiveIntegerField(default=0)
    task_results_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Retention run at {self.started_at:%Y-%m-%d %H:%M}"
