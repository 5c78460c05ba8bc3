from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from opennrm.accounts.actor import memberships_in_force
from opennrm.accounts.models import User

from .case_readers import CaseNews, Heard, link_to_open, news_heard
from .models import Notification


def _told_before_excluded(
    rows: QuerySet[Notification], pairs: set[CaseNews], heard: Heard
) -> QuerySet[Notification]:
    """`rows` without the news heard only from a moment (what a lead hears of a case she cannot
    open, told since she became a lead there) that was told before it: not theirs. One
    condition for each moment over the cases all of whose news is heard from it (a moment is a
    membership's start: few of them), a case whose links differ by its links."""
    links_of = Counter(case_id for case_id, _link in pairs)
    from_moment: dict[datetime, dict[int, list[str]]] = {}
    for (case_id, link), since in heard.items():
        if since is not None:
            from_moment.setdefault(since, {}).setdefault(case_id, []).append(link)
    for since, cases in from_moment.items():
        whole = [case_id for case_id, links in cases.items() if len(links) == links_of[case_id]]
        if whole:
            rows = rows.exclude(case_id__in=whole, created_at__lt=since)
        for case_id, links in cases.items():
            if len(links) != links_of[case_id]:
                rows = rows.exclude(case_id=case_id, url__in=links, created_at__lt=since)
    return rows


def still_readable(user: User, rows: QuerySet[Notification]) -> QuerySet[Notification]:
    """Of `rows`, the user's own notifications that they may still read: the one rule for the
    notifications page, its "Open", the home pages' counts of news (`unread_news`) and the
    worker's e-mail (`may_still_be_read`; ADR 0008, addendum of stop 41). Everyone is told for a
    role they hold, so none while they hold no role in force (an active membership of an active
    account in an active organisation); news told to an organisation's members
    (`Notification.organisation`) only while they are still a member in force there; news of a
    case only while the cases app's check lets them hear of it (`case_readers.news_heard`,
    given the link they were sent), and only if told since the moment it says (a lead hears
    news of a case she cannot open only if she was told it as a lead; ADR 0008, addendum of
    stop 42). A first responder who moved to another force holds a role in force, but her old
    force's news of its cases is no longer hers: it is neither listed, nor opened, nor counted,
    nor e-mailed. It is kept, and comes back if she returns.

    The case check is asked once, of every case and link among `rows` together: the queries
    do not grow with the number of cases told of."""
    in_force = memberships_in_force().filter(user=user)
    if not user.is_active or not in_force.exists():
        return rows.none()
    rows = rows.filter(recipient=user).filter(
        Q(organisation__isnull=True) | Q(organisation_id__in=in_force.values("organisation_id"))
    )
    about_cases = rows.filter(case__isnull=False).order_by().values_list("case_id", "url")
    pairs = set(about_cases.distinct())
    heard = news_heard(user, pairs)
    # Cases none of whose news is theirs any more, in one condition; a case some of whose
    # links still are (news told for another role), by its links.
    cases_heard = {case_id for case_id, _link in heard}
    unheard: dict[int, list[str]] = {}
    for case_id, link in pairs - set(heard):
        unheard.setdefault(case_id, []).append(link)
    rows = rows.exclude(case_id__in=[case for case in unheard if case not in cases_heard])
    for case_id, links in unheard.items():
        if case_id in cases_heard:
            rows = rows.exclude(case_id=case_id, url__in=links)
    return _told_before_excluded(rows, pairs, heard)


def may_still_be_read(notification: Notification) -> bool:
    """Whether its recipient may still read `notification` (`still_readable`): whether the
    worker may e-mail it."""
    return still_readable(
        notification.recipient, Notification.objects.filter(pk=notification.pk)
    ).exists()


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's notifications that they may still read, newest first."""
    return still_readable(user, Notification.objects.all()).select_related("case")


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
            "operations.age_disputed",
        ),
        "Children taken in at operations, not yet opened",
    ),
}


def unread_news(user: User, name: str) -> QuerySet[Notification]:
    """The user's unread notifications of one kind of news in `UNREAD_NEWS` that they may still
    read (`still_readable`: asked of these alone, not of all the user's notifications)."""
    kinds, _heading = UNREAD_NEWS[name]
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True, kind__in=kinds)
    return still_readable(user, unread).select_related("case")


def unread_count(user: User) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    return still_readable(user, unread).count()


def where_it_opens(notification: Notification) -> str:
    """The link "Open" and the e-mail give: the notification's own, or, for news of a case
    kept for its recipient though its link no longer opens for them, where it opens now (a
    care leaver's task that a lead's council still holds: `case_readers.link_to_open`)."""
    if notification.case_id is None or not notification.url:
        return notification.url
    return link_to_open(
        notification.recipient, notification.case_id, notification.url, notification.created_at
    )


def notification_get_for_user(user: User, notification_id: int) -> Notification:
    try:
        return still_readable(user, Notification.objects.filter(pk=notification_id)).get()
    except Notification.DoesNotExist:
        raise Http404 from None
