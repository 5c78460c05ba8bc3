from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """A message to one person in the service, shown in the app and sent by e-mail.

    Messages say what happened and link to the record; they never carry a person's identifying
    details, because e-mail leaves the service.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # When the worker took it to e-mail (tasks._send): each notification is e-mailed once.
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The organisation for whose part the recipient was told, where the news is for its
    # members (an operation's, told to its lead and to each partner; a digest of its cases; a
    # police force's intelligence notice): the worker e-mails it only
    # while they still hold a membership in force there (tasks._may_still_read). Empty for other
    # news, and for notifications made before it was recorded (notifications 0003).
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.subject
