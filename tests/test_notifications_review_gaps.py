"""Review of notifications: who is told, what the worker e-mails, and the notification pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.accounts.services import membership_set_active
from opennrm.cases.models import Case
from opennrm.notifications import tasks
from opennrm.notifications.models import Notification
from opennrm.notifications.services import deliver
from opennrm.referrals import services as referrals

from . import factories

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def test_a_decision_maker_who_left_is_not_told_the_referrer_answered_their_request(
    alice: User, authority: Organisation, case: Case, dmitri: User, sally: User
) -> None:
    """Dmitri asked Northmoor Police for more information, then left the competent authority
    (his membership was taken away). When Alice answers, the news of the victim's case must go
    to the decision makers still at the authority, not by e-mail to someone who has left
    (ADR 0008 addendum 2026-12-04: "nobody who has left is told"; threat model row 27)."""
    asked = referrals.information_request_ask(
        by=dmitri,
        case=case,
        question="When was she first recruited?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    admin = factories.user(organisation=authority, role=Role.ORGANISATION_ADMIN)
    membership_set_active(
        by=admin,
        membership=Membership.objects.get(user=dmitri, organisation=authority),
        active=False,
    )
    referrals.referral_addition_add(
        by=alice, case=case, text="Recruited in March.", answers=asked, max_bytes=10**6
    )
    told = set(
        Notification.objects.filter(case=case, kind="referral.information_added").values_list(
            "recipient__email", flat=True
        )
    )
    assert sally.email in told, told
    assert dmitri.email not in told, told


@pytest.mark.django_db
def test_retrying_a_partly_failed_email_task_does_not_email_the_others_again(
    monkeypatch: Any,
) -> None:
    """ADR 0008: "An e-mail that fails is retried ... through the worker", and the task fails
    when one e-mail of several could not be sent. Retrying it must send only what was not
    sent: each person told once, not a second copy of the news of a victim's case to everyone
    the first run already reached (a duplicate alert also teaches people to ignore alerts)."""
    people = [factories.user(email=f"retry{i}@example.test") for i in range(3)]
    with override_settings(TASKS=DUMMY_TASKS):
        sent = deliver(recipients=people, kind="test", subject="Case NRM-1", body="Read it")
    ids = [n.pk for n in sent]
    real = tasks._send
    down = {"first": True}

    def failing_once_for_the_first(notification: Any) -> None:
        if notification.pk == ids[0] and down["first"]:
            down["first"] = False
            raise OSError("mail server down")
        real(notification)

    monkeypatch.setattr(tasks, "_send", failing_once_for_the_first)
    mail.outbox.clear()
    with pytest.raises(RuntimeError):
        tasks.email_notifications.call(ids)
    tasks.email_notifications.call(ids)  # the retry
    received = sorted(m.to[0] for m in mail.outbox)
    assert received == sorted(p.email for p in people), received


@pytest.mark.django_db
def test_the_worker_does_not_email_an_account_switched_off_before_it_ran() -> None:
    """The e-mail goes out later, from the worker (ADR 0008; with the database backend the task
    waits in a queue, and is retried). An account switched off meanwhile (someone who left, or
    an account taken over) must not be e-mailed the news: `deliver` itself tells no inactive
    account, and the e-mail leaves the service (threat model row 27)."""
    leaver = factories.user(email="leaver@example.test")
    with override_settings(TASKS=DUMMY_TASKS):
        sent = deliver(recipients=[leaver], kind="test", subject="Case NRM-1", body="News")
    User.objects.filter(pk=leaver.pk).update(is_active=False)
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in sent])
    assert [m.to for m in mail.outbox] == []
