"""Telling people what they need to know: in the app, and by e-mail after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record

from .models import Notification
from .tasks import email_notifications


def deliver(
    *,
    recipients: Iterable[User],
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    case: Model | None = None,
) -> list[Notification]:
    """Create one in-app notification per recipient; once committed, one task of the worker
    e-mails them all.

    Called inside other services (whose audit event names who was told), so it writes no audit
    event of its own. Subject and body must not contain a person's identifying details.
    """
    unique = {user.pk: user for user in recipients if user.is_active}
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=kind,
                subject=subject,
                body=body,
                url=url,
                # Any case: typed loosely so that notifications need not import the cases app,
                # which tells people through this function.
                case_id=case.pk if case is not None else None,
            )
            for user in unique.values()
        ]
    )
    if notifications:
        ids = [notification.pk for notification in notifications]
        transaction.on_commit(partial(email_notifications.enqueue, ids))
    return notifications


@transaction.atomic
def notification_mark_read(*, by: User, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    audit_record(by=by, action="notification.read", obj=notification)


def notifications_old_delete(*, created_before: datetime) -> int:
    """Delete notifications created before `created_before`; how many. Called only by
    `privacy.services.retention_apply`, whose audit event covers it."""
    return Notification.objects.filter(created_at__lt=created_before).delete()[0]
