"""The daily reminder task: due-soon reminders, overdue escalations, idempotent, once a day."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from opennrm.accounts.models import Organisation, User
from opennrm.decisions import reminders
from opennrm.decisions.models import Reminder, ReminderRun
from opennrm.decisions.tasks import next_run, send_deadline_reminders
from opennrm.notifications.models import Notification

from . import case_factories


@pytest.fixture
def make(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> Callable[..., Any]:
    """A case awaiting a reasonable-grounds decision due on `due`, assigned or not."""

    def made(due: date, assigned: User | None = None) -> Any:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            reasonable_grounds_due=due,
            assigned_to=assigned,
        )

    return made


@pytest.fixture
def cases(make: Callable[..., Any], dmitri: User) -> dict[str, object]:
    return {
        "overdue": make(date(2026, 3, 2), assigned=dmitri),
        "due_soon": make(date(2026, 3, 5), assigned=dmitri),
        "later": make(date(2026, 3, 20)),
    }


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_reminders_and_escalations_go_to_the_right_people(cases, dmitri: User, sally: User) -> None:
    result = reminders.run(date(2026, 3, 4))
    assert (result.ran, result.reminders, result.escalations) == (True, 1, 1)
    to_dmitri = Notification.objects.get(recipient=dmitri)
    assert "1 overdue" in to_dmitri.subject
    assert "1 due within" in to_dmitri.subject
    to_sally = Notification.objects.get(recipient=sally)
    assert to_sally.kind == "decision.escalation"
    assert cases["overdue"].reference in to_sally.body
    assert cases["due_soon"].reference not in to_sally.body
    assert set(Reminder.objects.values_list("kind", flat=True)) == {"rg_overdue", "rg_due_soon"}


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_running_twice_sends_nothing_more(cases, dmitri: User) -> None:
    reminders.run(date(2026, 3, 4))
    count = Notification.objects.count()
    assert reminders.run(date(2026, 3, 4)).ran is False
    assert Notification.objects.count() == count
    assert ReminderRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_send_once(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    if connection.vendor != "postgresql":
        # SQLite serialises writers itself; the race this guards against needs a real server.
        assert reminders.run(date(2026, 3, 4)).ran is True
        assert reminders.run(date(2026, 3, 4)).ran is False
        return
    case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        reasonable_grounds_due=date(2026, 3, 1),
        assigned_to=dmitri,
    )
    barrier = threading.Barrier(2)
    results = []

    def go() -> None:
        barrier.wait()
        try:
            results.append(reminders.run(date(2026, 3, 4)).ran)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert Notification.objects.filter(recipient=dmitri).count() == 1


def test_the_task_runs_and_the_next_run_is_tomorrow_morning(cases, dmitri: User) -> None:
    with time_machine.travel("2026-03-04 06:00:00+00:00", tick=False):
        result = send_deadline_reminders.enqueue(reschedule=False)
        assert result.return_value == {"ran": True, "reminders": 1, "escalations": 1}
        assert (
            next_run(__import__("django.utils.timezone", fromlist=["now"]).now()).isoformat()
            == "2026-03-05T06:00:00+00:00"
        )


def test_the_command_runs_todays_reminders_once(cases, capsys) -> None:
    with time_machine.travel("2026-03-04 06:00:00+00:00", tick=False):
        call_command("schedule", "deadline-reminders", "--now")
        call_command("schedule", "deadline-reminders", "--now")
    out = capsys.readouterr().out
    assert "Sent 1 deadline reminders and 1 escalations." in out
    assert "already been sent" in out


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_an_unassigned_case_goes_to_every_decision_maker_and_each_deadline_is_recorded_once(
    cases, make: Callable[..., Any], dmitri: User, sally: User
) -> None:
    unassigned = make(date(2026, 3, 1))
    result = reminders.run(date(2026, 3, 4))

    assert (result.reminders, result.escalations) == (1, 2)
    to_dmitri = Notification.objects.get(recipient=dmitri)
    assert "2 overdue" in to_dmitri.subject, "his own case, and the one nobody is assigned"
    assert unassigned.reference in to_dmitri.body
    to_sally = Notification.objects.get(recipient=sally)
    assert "2 overdue" in to_sally.subject
    assert set(Reminder.objects.values_list("case_id", "kind", "due_on")) == {
        (cases["overdue"].pk, "rg_overdue", date(2026, 3, 2)),
        (cases["due_soon"].pk, "rg_due_soon", date(2026, 3, 5)),
        (unassigned.pk, "rg_overdue", date(2026, 3, 1)),
    }

    # The next day: the same deadlines are not recorded again, and the digests go out again.
    assert reminders.run(date(2026, 3, 5)).ran is True
    assert Reminder.objects.count() == 3
    assert Notification.objects.filter(recipient=dmitri).count() == 2
