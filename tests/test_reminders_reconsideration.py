"""The daily reminders cover reconsiderations too: a reconsideration has a date to be decided by
(`Case.reconsideration_decide_by`, the "Reconsiderations" queue), and nobody was told when one
fell due or was overdue. Now the decision maker responsible hears of it in the same daily
digest as their reasonable grounds decisions (one message, both counts, a link to each queue),
and an overdue one is escalated to the authority's senior decision makers.

All people, places and organisations are synthetic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import time_machine

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import CaseStatus
from opennrm.decisions import reminders
from opennrm.decisions.models import Reminder
from opennrm.notifications.models import Notification

from . import case_factories, factories

TODAY = date(2026, 3, 4)


@pytest.fixture(autouse=True)
def _morning() -> Iterator[None]:
    """Six in the morning of `TODAY`, when the daily run starts."""
    with time_machine.travel("2026-03-04 06:00:00+00:00", tick=False):
        yield


@pytest.fixture
def make(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> Callable[..., Any]:
    """A case in reconsideration to be decided by `decide_by` (or, with `rg_due`, one awaiting a
    reasonable grounds decision due then), assigned or not."""

    def made(
        decide_by: date | None = None, assigned: User | None = None, rg_due: date | None = None
    ) -> Any:
        fields: dict[str, Any] = (
            {"reasonable_grounds_due": rg_due}
            if rg_due
            else {"status": CaseStatus.RECONSIDERATION, "reconsideration_decide_by": decide_by}
        )
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            assigned_to=assigned,
            **fields,
        )

    return made


def _told(user: User) -> Notification:
    return Notification.objects.get(recipient=user)


def test_a_reconsideration_due_soon_reminds_its_decision_maker_only(
    make: Callable[..., Any], dmitri: User, sally: User
) -> None:
    """Dmitri's reconsideration is to be decided tomorrow: he is reminded, with a link to the
    reconsiderations queue; the senior decision maker is not (nothing is overdue)."""
    due = make(date(2026, 3, 5), assigned=dmitri)
    later = make(date(2026, 3, 20), assigned=dmitri)

    result = reminders.run(TODAY)

    assert (result.ran, result.reminders, result.escalations) == (True, 1, 0)
    told = _told(dmitri)
    assert told.kind == "decision.reminder"
    assert "Reconsiderations: 1 due within 2 days" in told.subject
    assert told.url == "/decisions/?queue=reconsiderations"
    assert due.reference in told.body
    assert later.reference not in told.body
    assert not Notification.objects.filter(recipient=sally).exists()
    assert set(Reminder.objects.values_list("case_id", "kind", "due_on")) == {
        (due.pk, "rc_due_soon", date(2026, 3, 5))
    }


def test_an_overdue_reconsideration_is_escalated_to_the_senior_decision_makers(
    make: Callable[..., Any], dmitri: User, sally: User
) -> None:
    overdue = make(date(2026, 3, 2), assigned=dmitri)

    result = reminders.run(TODAY)

    assert (result.reminders, result.escalations) == (0, 1)
    for user in (dmitri, sally):
        told = _told(user)
        assert told.kind == "decision.escalation"
        assert "Reconsiderations: 1 overdue" in told.subject
        assert overdue.reference in told.body
        assert told.url == "/decisions/?queue=reconsiderations"
    assert list(Reminder.objects.values_list("kind", "due_on")) == [
        ("rc_overdue", date(2026, 3, 2))
    ]


def test_both_queues_come_in_one_digest_with_both_counts_and_both_links(
    make: Callable[..., Any], dmitri: User, sally: User
) -> None:
    """A decision maker with a reasonable grounds decision due soon and an overdue
    reconsideration gets one message saying both, with a link to each queue; the link to open
    is the queue with something overdue."""
    rg = make(rg_due=date(2026, 3, 5), assigned=dmitri)
    rc = make(date(2026, 3, 1), assigned=dmitri)

    reminders.run(TODAY)

    told = _told(dmitri)  # one, not one per queue
    assert told.kind == "decision.escalation"
    assert "Reasonable grounds decisions: 1 due within 2 days" in told.subject
    assert "reconsiderations: 1 overdue" in told.subject
    assert rg.reference in told.body
    assert rc.reference in told.body
    assert "/decisions/?queue=reasonable-grounds" in told.body
    assert "/decisions/?queue=reconsiderations" in told.body
    assert told.url == "/decisions/?queue=reconsiderations"
    to_sally = _told(sally)
    assert rc.reference in to_sally.body
    assert rg.reference not in to_sally.body, "not overdue, and not hers"
    assert set(Reminder.objects.values_list("case_id", "kind")) == {
        (rg.pk, "rg_due_soon"),
        (rc.pk, "rc_overdue"),
    }


def test_an_unassigned_reconsideration_or_one_whose_assignee_left_goes_to_every_decider(
    make: Callable[..., Any], dmitri: User, sally: User, authority: Organisation
) -> None:
    dora = factories.user("dora@example.org", organisation=authority, role=Role.DECISION_MAKER)
    unassigned = make(date(2026, 3, 6))
    left = make(date(2026, 3, 5), assigned=dmitri)
    Membership.objects.filter(user=dmitri, organisation=authority).update(is_active=False)

    reminders.run(TODAY)

    assert not Notification.objects.filter(recipient=dmitri).exists()
    for user in (dora, sally):
        told = _told(user)
        assert "Reconsiderations: 2 due within 2 days" in told.subject
        assert {unassigned.reference, left.reference} <= set(
            told.body.replace(",", " ").replace(".", " ").split()
        )


def test_a_second_run_the_same_day_sends_nothing_and_deadlines_are_recorded_once(
    make: Callable[..., Any], dmitri: User
) -> None:
    make(date(2026, 3, 5), assigned=dmitri)
    make(date(2026, 3, 1), assigned=dmitri)

    assert reminders.run(TODAY).ran is True
    assert reminders.run(TODAY).ran is False
    assert Notification.objects.filter(recipient=dmitri).count() == 1
    assert Reminder.objects.count() == 2

    with time_machine.travel("2026-03-05 06:00:00+00:00", tick=False):
        assert reminders.run(date(2026, 3, 5)).ran is True
    assert Reminder.objects.count() == 2, "the same deadlines, recorded once"
    assert Notification.objects.filter(recipient=dmitri).count() == 2


def test_a_decided_reconsideration_is_not_reminded_of(
    make: Callable[..., Any], alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A case out of the reconsiderations queue (decided, say) keeps its decide-by date but is
    not anyone's to decide any more."""
    case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
        reconsideration_decide_by=date(2026, 3, 1),
    )

    result = reminders.run(TODAY)

    assert (result.reminders, result.escalations) == (0, 0)
    assert not Notification.objects.exists()
    assert not Reminder.objects.exists()
