"""Review (diffs2): Northern Ireland's s.18 end is never reminded once its day has passed."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.care import reminders
from opennrm.care.models import MoveOnReminder
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case

from . import support_plan_helpers as h
from .test_policy_review_gaps import referred_in_northern_ireland

UTC = timezone.get_fixed_timezone(0)


def run_on(day):
    with time_machine.travel(datetime.combine(day, time(6, 15), tzinfo=UTC), tick=False):
        return reminders.run(day)


def test_a_missed_day_still_says_the_northern_ireland_support_has_ended(
    cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    """What the safe-house manager sees: for move-on (and Scotland's s.9) a run that missed the
    end day still tells them once, afterwards, that the support "ended on ..." while the person
    still lives there (tests/test_missing_and_exit.py::...catches_up...). For Northern
    Ireland's s.18 end, `care.reminders.run` now filters `support_ends >= today`, so a missed
    end day (or a positive conclusive decision made after the 45 days, which sets the end to
    its own day after that morning's run) is never reminded at all. It should be, once."""
    case = referred_in_northern_ireland(
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        consent_to_support=True,
        submitted_at=timezone.now() - timedelta(days=40),
    )
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS)
    case.refresh_from_db()
    ends = case.support_ends
    assert ends is not None
    h.living(cora, maya, provider, case)
    run_on(ends - timedelta(days=3))
    assert set(MoveOnReminder.objects.values_list("kind", flat=True)) == {"days_7"}
    run_on(ends + timedelta(days=2))
    assert set(MoveOnReminder.objects.values_list("kind", flat=True)) == {"days_7", "ends"}
