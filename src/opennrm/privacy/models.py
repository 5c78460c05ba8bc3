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
