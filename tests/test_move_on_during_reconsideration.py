"""Review (support worker, safeguarding lead): a person whose negative conclusive decision is
being reconsidered keeps their support while the reconsideration waits for an answer (the
decision may be overturned, and an accepted reconsideration puts them back in the recovery
period, `decisions.services` clears `move_on_ends` then). Yet the move-on end the negative
decision set keeps running: the daily reminders tell the house to "plan their move on", and
the exit "move-on support ended" is accepted, while the reconsideration is still pending.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import ExitReason
from opennrm.accounts.models import Organisation, User
from opennrm.care import reminders
from opennrm.care.models import MoveOnReminder
from opennrm.notifications.models import Notification

from . import support_plan_helpers as h

UTC = timezone.get_fixed_timezone(0)


def run_on(day: date) -> reminders.RunResult:
    with time_machine.travel(datetime.combine(day, time(6, 15), tzinfo=UTC), tick=False):
        return reminders.run(day)


@pytest.fixture
def reconsidering(
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
    authority: Organisation,
):
    """An adult living in a safe house, given a negative conclusive decision whose short
    move-on support ends in 5 days; the referrer asks for a reconsideration today."""
    return h.reconsidering_while_living(alice, cora, maya, northmoor_police, provider, authority)


def test_no_move_on_reminder_while_a_reconsideration_is_pending(reconsidering) -> None:
    case, _ = reconsidering
    run_on(case.move_on_ends - timedelta(days=1))
    assert not MoveOnReminder.objects.exists(), (
        "the house was told move-on support ends tomorrow while the negative decision is "
        "being reconsidered"
    )
    assert not Notification.objects.filter(kind="support.move_on_reminder").exists()


def test_move_on_ended_exit_refused_while_a_reconsideration_is_pending(
    reconsidering, maya: User
) -> None:
    case, placement = reconsidering
    after = case.move_on_ends + timedelta(days=2)
    with (
        time_machine.travel(datetime.combine(after, time(12, 0), tzinfo=UTC), tick=False),
        pytest.raises(ValidationError),
    ):
        accommodation.placement_end(
            by=maya, placement=placement, on=after, reason=ExitReason.MOVE_ON_ENDED
        )
