from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from opennrm.accounts.models import User

from .models import Notification


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case")


# Unread news that a role's home page counts, by the name the list page filters on
# (`?show=outcomes`): the count is the list's own query, counted.
UNREAD_NEWS: dict[str, tuple[str, str]] = {
    # name: (kind, what the filtered list is headed)
    "outcomes": ("case.status_changed", "New outcomes of your referrals"),
    "children": ("case.child_referred", "Children referred in your area, not yet opened"),
}


def unread_news(user: User, name: str) -> QuerySet[Notification]:
    """The user's unread notifications of one kind of news in `UNREAD_NEWS`."""
    kind, _heading = UNREAD_NEWS[name]
    return notifications_for(user).filter(read_at__isnull=True, kind=kind)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get_for_user(user: User, notification_id: int) -> Notification:
    try:
        return notifications_for(user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
