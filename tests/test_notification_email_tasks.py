"""E-mail after a delivery: one worker task for all its notifications, each person once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from opennrm.accounts.models import User
from opennrm.accounts.roles import Role
from opennrm.notifications import tasks
from opennrm.notifications.services import deliver

from . import factories


def members(prefix: str, count: int) -> list[User]:
    """People told for a role they hold: the worker e-mails only someone with a role in force."""
    organisation = factories.organisation()
    return [
        factories.user(
            email=f"{prefix}{i}@example.test", organisation=organisation, role=Role.FIRST_RESPONDER
        )
        for i in range(count)
    ]


@pytest.mark.django_db
def test_a_delivery_queues_one_task_that_emails_everyone_told(
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = members("person", 3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = deliver(recipients=people, kind="test", subject="Case NRM-1", body="Read it")
    [queued] = callbacks
    assert queued.func == tasks.email_notifications.enqueue
    assert queued.args == ([n.pk for n in sent],)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all(m.subject == "OpenNRM: Case NRM-1" for m in mail.outbox)


@pytest.mark.django_db
def test_one_failed_email_does_not_stop_the_others_and_the_task_fails(monkeypatch: Any) -> None:
    people = members("someone", 3)
    with override_settings(
        TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    ):
        sent = deliver(recipients=people, kind="test", subject="S", body="B")
    real = tasks._send

    def failing_for_the_first(notification: Any) -> None:
        if notification.pk == sent[0].pk:
            raise OSError("mail server down")
        real(notification)

    monkeypatch.setattr(tasks, "_send", failing_for_the_first)
    mail.outbox.clear()
    with pytest.raises(RuntimeError, match="1 of 3 e-mails could not be sent"):
        tasks.email_notifications.call([n.pk for n in sent])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people[1:])


@pytest.mark.django_db
def test_a_task_queued_before_the_change_still_sends(alice: User) -> None:
    with override_settings(
        TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    ):
        [sent] = deliver(recipients=[alice], kind="test", subject="S", body="B")
    tasks.email_notification.call(sent.pk)
    assert [m.to[0] for m in mail.outbox] == [alice.email]


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_with_tasks_in_the_database_the_task_commits_or_rolls_back_with_the_notifications() -> None:
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    people = [factories.user(email=f"told{i}@example.test") for i in range(2)]
    with override_settings(TASKS=DATABASE_TASKS):
        with transaction.atomic():
            deliver(recipients=people, kind="test", subject="S", body="B")
            assert DBTaskResult.objects.count() == 1
            # The service fails after telling them: its notifications and task go together.
            transaction.set_rollback(True)
        assert not DBTaskResult.objects.exists()

        with transaction.atomic():
            sent = deliver(recipients=people, kind="test", subject="S", body="B")
            # Written in the delivery's transaction, not queued for after its commit.
            assert DBTaskResult.objects.count() == 1
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == tasks.email_notifications.module_path
    assert queued.args_kwargs["args"] == [[n.pk for n in sent]]


@pytest.mark.django_db(transaction=True)
def test_deliveries_in_one_block_share_one_task_and_a_failed_block_queues_none() -> None:
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from opennrm.notifications.services import emails_in_one_task

    people = [factories.user(email=f"each{i}@example.test") for i in range(3)]
    with override_settings(TASKS=DATABASE_TASKS):

        def failing_service() -> None:
            with transaction.atomic(), emails_in_one_task():
                deliver(recipients=people[:1], kind="test", subject="S", body="B")
                raise RuntimeError("the service fails")

        with pytest.raises(RuntimeError):
            failing_service()
        assert not DBTaskResult.objects.exists()

        with transaction.atomic(), emails_in_one_task():
            first = deliver(recipients=people[:2], kind="a", subject="S", body="B")
            with emails_in_one_task():  # inside another: the outer one queues
                second = deliver(recipients=people[2:], kind="b", subject="S", body="B")
            assert not DBTaskResult.objects.exists()
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"] == [[n.pk for n in first + second]]
