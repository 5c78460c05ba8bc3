from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from opennrm.accounts.models import User

from .models import Notification


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get_for_user(user: User, notification_id: int) -> Notification:
    try:
        return notifications_for(user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
