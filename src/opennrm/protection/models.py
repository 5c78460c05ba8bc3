from __future__ import annotations

from django.conf import settings
from django.db import models

from opennrm.accounts.models import Organisation


class PlannedRemoval(models.Model):
    """A removal an immigration enforcement organisation plans for a reference, and what the
    protection check said for the planned day when it was recorded."""

    # As typed (normalised): a reference the system may not know at all.
    reference = models.CharField(max_length=40, db_index=True)
    planned_on = models.DateField()
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="planned_removals"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # The answer on the planned day, kept as given: removal must not proceed, or not.
    protected = models.BooleanField()
    reason = models.CharField(max_length=40, blank=True)
    protected_until = models.DateField(null=True, blank=True)
    # Which source protected it ("nrm", or the app that added the protection).
    source = models.CharField(max_length=40, blank=True)
    # How many people were alerted (their names are in the audit event).
    alerted = models.PositiveIntegerField(default=0)
    # The form's one-time key, or an API request's Idempotency-Key ("" for none): the same
    # form sent twice (a double click, Back and send again) records the removal once and
    # alerts once (`services.planned_removal_record`).
    submission_key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recorded_by", "submission_key"],
                condition=~models.Q(submission_key=""),
                name="planned_removal_one_per_submission",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} on {self.planned_on}"
