"""E-mail goes out from the background worker, so a slow or failing mail server never holds up
or breaks the page that caused the message."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone

from .models import Notification
from .selectors import may_still_be_read, where_it_opens

logger = logging.getLogger(__name__)


@task
def email_notifications(notification_ids: list[int]) -> None:
    """E-mail each of the notifications of one delivery, or of every delivery of a service
    that told several audiences (`services.emails_in_one_task`): one task, not one per person.
    A failure for one person does not stop the others; the task fails afterwards, naming how
    many."""
    failed = 0
    found = Notification.objects.select_related("recipient").filter(pk__in=notification_ids)
    for notification in found.order_by("pk"):
        try:
            _send(notification)
        except Exception:
            failed += 1
            logger.exception("E-mail for notification %s failed", notification.pk)
    if failed:
        raise RuntimeError(f"{failed} of {len(notification_ids)} e-mails could not be sent")


@task
def email_notification(notification_id: int) -> None:
    """One notification's e-mail: kept for tasks queued before `email_notifications`."""
    _send(Notification.objects.select_related("recipient").get(pk=notification_id))


def _send(notification: Notification) -> None:
    """E-mail one notification, once: a retried or repeated task sends only what no run has
    sent, and nobody who may no longer read it is e-mailed: an account switched off since the
    notification was made (an account taken over), one left with no role in force (someone
    who left their organisation; their account stays), one no longer a member of the
    organisation the news was for (an operation's), or, for news of a case, one whose roles in
    force no longer make the case's news theirs (someone who moved to another organisation:
    `_may_still_read`). Such a notification stays un-e-mailed
    (`emailed_at` empty) and in the service. The claim is taken before sending and given back
    if sending fails; a worker that dies between the two loses that e-mail (the notification is
    still in the service), which is better than sending news of a case twice."""
    if not _may_still_read(notification):
        return
    claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return
    try:
        _send_mail(notification)
    except Exception:
        Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
        raise


def _may_still_read(notification: Notification) -> bool:
    """Whether the recipient still holds a role in force (an active membership of an active
    account in an active organisation: `accounts.actor.memberships_in_force`): everyone
    OpenNRM tells is told for a role they hold, system administrators too. For news told to an
    organisation's members (`Notification.organisation`: an operation's, to its lead and each
    partner; a deadline digest of an authority's cases; a move-on digest; a police force's
    notice of duty-to-notify intelligence), whether they are still a member there: a
    coordinator who moved from a provider invited to an operation to one never invited holds a
    role in force, but the operation is not hers to hear of any more (ADR 0039), and a decision
    maker who moved to another authority is not e-mailed the overdue cases of the one he left. Notifications made before that was recorded have none,
    and keep the rule for a role anywhere. And, for news of a case, whether they may still
    hear of that case (`case_readers.news_heard`, the cases app's check, given the link
    they were sent): a first responder who moved from one force to another, or to a support
    provider, holds a role in force, but not one through which the old force's cases are
    hers. The page, its counts and "Open" keep the same rule: `selectors.may_still_be_read`
    (ADR 0008, addendum of stop 41)."""
    return may_still_be_read(notification)


def _send_mail(notification: Notification) -> None:
    # The page it opens now (`selectors.where_it_opens`), as "Open" on the page.
    url = where_it_opens(notification)
    link = f"\n\n{settings.SITE_URL}{url}" if url else ""
    send_mail(
        # One line: a subject with a line break cannot be sent (Django refuses the header),
        # so one that reached a notification (a name typed before names had to be one line)
        # would fail every time. Its words are kept, on one line.
        subject=f"OpenNRM: {' '.join(notification.subject.split())}",
        message=f"{notification.body}{link}\n\nSign in to OpenNRM to see more.",
        from_email=None,
        recipient_list=[notification.recipient.email],
    )
