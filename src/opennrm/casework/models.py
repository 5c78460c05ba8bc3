"""Casework after the referral: notes on a case, and tasks with an owner and a due date.

A note is written once and never changed (ADR 0027): a correction is a new note. Its text is
about the person, so it is encrypted and shown only after `audit_read`. Each note belongs to the
organisation its author wrote it for, and says who beyond that organisation may read it
(`Visibility`). A task belongs to one organisation too, and only its members see it; its title
may name someone, so it is encrypted as well.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from opennrm.lib.fields import EncryptedCharField, EncryptedTextField, RowUUIDField


class Visibility(models.TextChoices):
    """Who may read a note, besides the author's own organisation (which always may)."""

    OWN_ORGANISATION = "own_organisation", "Only the author's organisation"
    COMPETENT_AUTHORITY = "competent_authority", "Shared with the competent authority"
    # For a child's case: the competent authority, and the safeguarding leads (local authority,
    # child guardian service) who see the case because it is a child's in their area.
    CHILDRENS_SERVICES = (
        "childrens_services",
        "Shared with the competent authority and children's services",
    )


class CaseNote(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The organisation through which the author works on the case (casework.selectors).
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    visibility = models.CharField(max_length=30, choices=Visibility.choices)
    row_uuid = RowUUIDField()
    # Emptied when the person's details are erased (casework_pseudonymise).
    text = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField()
    # The one-time key of the form it was sent from: the same form sent twice (a second click,
    # a browser's retry) adds one note, which can never be removed (`case_note_add`).
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"], name="casenote_case_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "submission_key"], name="casenote_one_per_submission"
            )
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} on case {self.case_id}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class CaseTask(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="tasks")
    # The creator's organisation: the owner is one of its members, and only they see it.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    row_uuid = RowUUIDField()
    # Emptied when the person's details are erased (casework_pseudonymise).
    title = EncryptedCharField(max_length=200, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_tasks"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "status", "due_on"], name="casetask_owner_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=TaskStatus.OPEN, done_at=None, done_by=None)
                | Q(status=TaskStatus.DONE, done_at__isnull=False, done_by__isnull=False),
                name="casetask_done_has_when_and_who",
            )
        ]

    def __str__(self) -> str:
        return f"Task {self.pk} on case {self.case_id}"
