from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from opennrm.accounts.models import User

from .models import Notification


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case")


# Unread news that a role's home page counts, by the name the list page filters on
# (`?show=outcomes`): the count is the list's own query, counted.
UNREAD_NEWS: dict[str, tuple[tuple[str, ...], str]] = {
    # name: (kinds, what the filtered list is headed)
    "outcomes": (("case.status_changed",), "New outcomes of your referrals"),
    "children": (("case.child_referred",), "Children referred in your area, not yet opened"),
    # A child taken in at an operation has no case until the referral is submitted: these
    # messages are all the local authority has of them until then.
    "operations": (
        (
            "operations.child_taken_in",
            "operations.children_so_far",
            "operations.child_missing",
            "operations.child_found",
        ),
        "Children taken in at operations, not yet opened",
    ),
}


def unread_news(user: User, name: str) -> QuerySet[Notification]:
    """The user's unread notifications of one kind of news in `UNREAD_NEWS`."""
    kinds, _heading = UNREAD_NEWS[name]
    return notifications_for(user).filter(read_at__isnull=True, kind__in=kinds)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get_for_user(user: User, notification_id: int) -> Notification:
    try:
        return notifications_for(user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
