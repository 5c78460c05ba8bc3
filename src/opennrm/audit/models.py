from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One thing that happened: who, when, what, to which object, from where.

    Append-only. Only `audit.services` creates rows (`audit_record` for writes, `audit_read` for
    reads of a person's identifying data), and database triggers (see migration 0002) refuse to
    rewrite them: UPDATE and DELETE on PostgreSQL, UPDATE on SQLite. Each event also carries the
    hash of the one before it and its own (see `audit.chain`), so an event edited or deleted by
    someone who got past the triggers breaks the chain, and `manage.py verify_audit` finds it.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The actor's e-mail at the time, so the event reads the same if the account changes.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The person whose identifying data was read (reads only), so "who looked at this person" is
    # one indexed query. A plain number, not a foreign key: the event must outlive the person's
    # records (erasure) and must never be rewritten to follow them.
    person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # The hash chain: SHA-256 over this event's canonical form and the previous event's hash.
    previous_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"
