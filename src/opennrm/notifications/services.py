"""Telling people what they need to know: in the app, and by e-mail after the commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import Model
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db import DatabaseBackend

from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_record

from .models import Notification
from .tasks import email_notifications


@dataclass(frozen=True)
class StandIn:
    """What is delivered instead when none of a delivery's recipients is left to be told: to
    people who can put that right (an organisation's administrators, who can give someone the
    role) but may not read the news itself. So it has words and a link of its own, and no
    case."""

    recipients: Iterable[User]
    kind: str
    subject: str
    body: str
    url: str = ""


@dataclass(frozen=True)
class Delivery:
    """One piece of news for `deliver_all`: the arguments of `deliver`."""

    recipients: Iterable[User]
    kind: str
    subject: str
    body: str
    url: str = ""
    case: Model | None = None
    stand_in: Callable[[], StandIn] | None = None
    organisation: Organisation | None = None


def deliver(
    *,
    recipients: Iterable[User],
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    case: Model | None = None,
    stand_in: Callable[[], StandIn] | None = None,
    organisation: Organisation | None = None,
) -> list[Notification]:
    """Create one in-app notification per recipient, and one task of the worker that e-mails
    them all (`_queue_emails`; inside `emails_in_one_task`, one for the whole block). If no
    recipient is left and `stand_in` is given, deliver what it returns instead (asked for only
    then), and return no notification: nobody was told the news, which is what the caller's
    audit event counts (the stand-in's notices are in the table).

    `organisation`: the organisation whose members are told, for news that is theirs only
    while they belong to it (an operation's, told to its lead and each partner; a digest of one
    authority's or provider's cases, which has no single case; a notice to a police force):
    the worker e-mails it only to a recipient still a member there (`tasks._may_still_read`).
    News about one organisation's work that names no case should carry it: without it the
    worker asks only for a role in force anywhere. A stand-in's
    notices never carry it: they go to whoever can give the role, system administrators too.

    Called inside other services (whose audit event names who was told), so it writes no audit
    event of its own. Subject and body must not contain a person's identifying details.
    """
    return deliver_all(
        [
            Delivery(
                recipients,
                kind,
                subject,
                body,
                url=url,
                case=case,
                stand_in=stand_in,
                organisation=organisation,
            )
        ]
    )[0]


def deliver_all(deliveries: Sequence[Delivery]) -> list[list[Notification]]:
    """Several `deliver`s in one INSERT: the notifications of each, in order. A service that
    tells several audiences at once (a referral tells the authority, the referrer and
    children's services) writes one statement, not one each."""
    told: list[list[Notification]] = []
    written: list[Notification] = []
    for delivery in deliveries:
        unique = {user.pk: user for user in delivery.recipients if user.is_active}
        if not unique and delivery.stand_in is not None:
            notice = delivery.stand_in()
            written += _notifications(
                {user.pk: user for user in notice.recipients if user.is_active},
                Delivery((), notice.kind, notice.subject, notice.body, notice.url),
            )
            told.append([])
            continue
        told.append(_notifications(unique, delivery))
        written += told[-1]
    if written:
        Notification.objects.bulk_create(written)
        ids = [notification.pk for notification in written]
        collected = _collected.get()
        if collected is None:
            _queue_emails(ids)
        else:
            collected.extend(ids)
    return told


def _notifications(recipients: dict[int, User], delivery: Delivery) -> list[Notification]:
    return [
        Notification(
            recipient=user,
            kind=delivery.kind,
            subject=delivery.subject,
            body=delivery.body,
            url=delivery.url,
            # Any case: typed loosely so that notifications need not import the cases app,
            # which tells people through this function.
            case_id=delivery.case.pk if delivery.case is not None else None,
            organisation=delivery.organisation,
        )
        for user in recipients.values()
    ]


# The notification ids of the deliveries inside `emails_in_one_task`, or None outside one.
_collected: ContextVar[list[int] | None] = ContextVar("emails_in_one_task", default=None)


@contextmanager
def emails_in_one_task() -> Iterator[None]:
    """Every delivery inside queues its e-mails in one task, at the end, rather than a task
    each: a service telling several audiences (a referral tells the authority, the referrer
    and children's services) writes one task row, not three. Nothing is queued if the block
    raises (its transaction rolls back with the notifications). A delivery in a savepoint that
    rolls back leaves an id with no notification, which the task skips. Inside another such
    block, the outer one queues them."""
    if _collected.get() is not None:
        yield
        return
    ids: list[int] = []
    token = _collected.set(ids)
    try:
        yield
    finally:
        _collected.reset(token)
    if ids:
        _queue_emails(ids)


def _queue_emails(notification_ids: list[int]) -> None:
    """One task of the worker for these notifications' e-mails, visible once they are.

    When tasks are rows of this database (the deployed backend), the task is written in the
    delivery's own transaction: it commits, or rolls back, with the notifications, and costs no
    transaction of its own after the commit (a referral's two or three were each an INSERT
    and a commit after the submission's own). Any other backend runs or sends its tasks at
    once, so it is given the task only once the notifications are committed."""
    if isinstance(task_backends[email_notifications.backend], DatabaseBackend):
        email_notifications.enqueue(notification_ids)
    else:
        transaction.on_commit(partial(email_notifications.enqueue, notification_ids))


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
