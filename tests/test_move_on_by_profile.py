"""Exit dates follow each policy profile (issue 6, acceptance): for every bundled profile, a
positive and a negative conclusive grounds decision, recorded through the decision services
under that profile's jurisdiction and on a day it is in force, sets the end of move-on support
as the profile's rule says (calendar or working days, on the profile's own calendar); the
placement page shows that date; and the reminders fire 14, 7 and 1 days before it and on the
day. A profile that sets no move-on period gives no end date, says so, and reminds nobody.

The expected date is counted here independently of `policy.clock`: calendar days are added,
working days counted one by one from the `holidays` package's own calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays
import pytest
import time_machine
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.care import reminders
from opennrm.care.models import MoveOnReminder, MoveOnReminderKind
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.notifications.models import Notification
from opennrm.policy.own_support import own_support
from opennrm.policy.profiles import OutcomeKind, PeriodUnit, PolicyProfile, load_profiles

from . import case_factories, factories
from . import support_plan_helpers as h

PROFILES = sorted(load_profiles().profiles, key=lambda p: p.version)
UTC = timezone.get_fixed_timezone(0)


def expected_end(decided: date, profile: PolicyProfile, *, positive: bool) -> date | None:
    period = (
        profile.move_on_after_positive_conclusive
        if positive
        else profile.move_on_after_negative_conclusive
    )
    if period is None:
        return None
    if period.unit == PeriodUnit.CALENDAR_DAYS:
        return decided + timedelta(days=period.days)
    calendar = profile.calendar
    days_off = (
        holidays.country_holidays(
            calendar.country,
            subdiv=calendar.subdivision,
            years=[decided.year, decided.year + 1],
        )
        if calendar.country
        else {}
    )
    day, left = decided, period.days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in days_off:
            left -= 1
    return day


def morning(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def outcome(profile: PolicyProfile, kind: OutcomeKind) -> str:
    return next(o.code for o in profile.conclusive_grounds_outcomes if o.kind == kind)


@pytest.mark.parametrize("positive", [True, False], ids=["positive", "negative"])
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.version)
def test_exit_dates_and_reminders_follow_the_profile(
    profile: PolicyProfile,
    positive: bool,
    alice: User,
    dmitri: User,
    sally: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    referred_on = profile.effective_from + timedelta(days=10)
    with time_machine.travel(morning(referred_on), tick=False) as traveller:
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            consent_to_support=True,
        )
        Case.objects.filter(pk=case.pk).update(jurisdiction=profile.jurisdiction)
        case.refresh_from_db()
        rg = decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="positive",
            reasons="Credible account.",
            expected_version=case.version,
        )
        assert rg.policy_profile_version == profile.version
        placement = h.living(cora, maya, provider, case)

        case.refresh_from_db()
        decided_on = case.conclusive_grounds_from
        assert decided_on is not None
        assert profile.in_force_on(decided_on)
        traveller.move_to(morning(decided_on))
        cg = decisions.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome=outcome(profile, OutcomeKind.POSITIVE if positive else OutcomeKind.NEGATIVE),
            negative_reason="" if positive else "not_credible",
            reasons="Balance of probabilities.",
            expected_version=case.version,
        )
        if not positive:
            decisions.decision_approve(by=sally, decision=cg, approve=True)
        assert cg.policy_profile_version == profile.version
        case.refresh_from_db()

        ends = expected_end(decided_on, profile, positive=positive)
        assert case.move_on_ends == ends
        page = (
            factories.signed_in_client(maya)
            .get(f"/support/placements/{placement.pk}/")
            .content.decode()
        )
        if ends is None:
            assert f"({profile.version}) set no move-on period" in page
            for later in (0, 14, 60, 400):
                traveller.move_to(morning(decided_on + timedelta(days=later)))
                reminders.run(timezone.localdate())
            # Northern Ireland's s.18 support runs to the end of its 45 days after a positive
            # conclusive decision made within them, and that end is reminded of (not move-on).
            own_support_reminded = (
                positive
                and case.support_ends is not None
                and own_support(profile.jurisdiction).until_conclusive_decision
            )
            assert MoveOnReminder.objects.exists() == own_support_reminded
            return
        assert f"Move-on support ends {ends:%-d %B %Y}" in page

        fired: dict[str, date] = {}
        day = decided_on
        while day <= ends + timedelta(days=1):
            traveller.move_to(morning(day))
            reminders.run(day)
            for reminder in MoveOnReminder.objects.filter(sent_on=day):
                fired[reminder.kind] = day
            day += timedelta(days=1)
    assert fired == {
        MoveOnReminderKind.DAYS_14: max(ends - timedelta(days=14), decided_on),
        MoveOnReminderKind.DAYS_7: ends - timedelta(days=7),
        MoveOnReminderKind.DAYS_1: ends - timedelta(days=1),
        MoveOnReminderKind.ENDS: ends,
    }
    assert Notification.objects.filter(recipient=maya, kind="support.move_on_reminder").count() == 4
