"""Statutory clocks. Pure code, no Django: dates in, dates out.

Every due date comes from a policy profile (`policy/profiles.py`): the profile in force for the
jurisdiction on the day the clock starts. The result is stored on the case when the clock
starts, never recomputed on a page.

How days are counted, everywhere here:

- A period of N days after an event ends on `event + N days`: day 1 is the day after the event
  (the event's own day never counts), and the period's last day is day N. So a 45-day recovery
  period after a positive decision on 1 March ends on 15 April, and `end - start == N`.
- Unless the profile counts its recovery period (or its own support period) "beginning with
  the day" of the decision (`Counting.BEGINNING_WITH_DECISION_DAY`, as the Nationality and
  Borders Act 2022 does): the decision's day is then day 1, so 30 days from a positive decision
  on 1 March end on 30 March, and the earliest conclusive decision is the day after, 31 March.
- A period of N working days ends on the N-th working day after the event: Monday to Friday,
  less the bank holidays of the profile's calendar (substitute days included).
- A reconsideration window of 30 days is open from the decision day through day 30; a request
  on day 31 is late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

from .profiles import (
    ConclusiveTiming,
    Counting,
    OutcomeKind,
    Period,
    PeriodUnit,
    PolicyProfile,
    ProfileSet,
    Reconsiderable,
    WorkingCalendar,
    profile_for,
)

# The UK jurisdictions' calendars, as the `holidays` package names their subdivisions. England
# and Wales share their bank holidays. Every UK profile uses the same calendar (a test checks).
JURISDICTION_CALENDARS: dict[str, WorkingCalendar] = {
    "england_and_wales": WorkingCalendar("GB", "ENG"),
    "scotland": WorkingCalendar("GB", "SCT"),
    "northern_ireland": WorkingCalendar("GB", "NIR"),
}


class NotInProfile(ValueError):
    """The profile sets no rule for this clock (for example the Convention's minimum sets no
    reasonable-grounds target), so there is no date to compute."""


@cache
def _days_off(calendar: WorkingCalendar, year: int) -> frozenset[date]:
    if calendar.country is None:
        return frozenset()
    found = holidays.country_holidays(calendar.country, subdiv=calendar.subdivision, years=year)
    return frozenset(found)


def is_working_day_in(day: date, calendar: WorkingCalendar) -> bool:
    """Monday to Friday, and not a public holiday of the calendar (substitute days included)."""
    return day.weekday() < 5 and day not in _days_off(calendar, day.year)


def add_working_days_in(start: date, days: int, calendar: WorkingCalendar) -> date:
    """The `days`-th working day after `start` (the start day itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day_in(current, calendar):
            remaining -= 1
    return current


def add_period(start: date, period: Period, calendar: WorkingCalendar) -> date:
    """The last day of `period` after `start` (day 1 is the day after `start`)."""
    if period.unit == PeriodUnit.WORKING_DAYS:
        return add_working_days_in(start, period.days, calendar)
    return start + timedelta(days=period.days)


def last_day(start: date, days: int, counting: Counting) -> date:
    """The last day of a period of `days` calendar days that starts with a decision on `start`,
    counted as the profile says (see the module's docstring)."""
    if counting == Counting.BEGINNING_WITH_DECISION_DAY:
        return start + timedelta(days=days - 1)
    return start + timedelta(days=days)


def is_working_day(day: date, jurisdiction: str) -> bool:
    """Monday to Friday, and not a bank holiday of the UK jurisdiction."""
    return is_working_day_in(day, JURISDICTION_CALENDARS[jurisdiction])


def add_working_days(start: date, days: int, jurisdiction: str) -> date:
    """The `days`-th working day after `start` in a UK jurisdiction (the start never counts)."""
    return add_working_days_in(start, days, JURISDICTION_CALENDARS[jurisdiction])


def years_later(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 1 March in a year without one (a person
    born on 29 February comes of age on 1 March in England, Wales and Northern Ireland, and in
    Scotland, Age of Legal Capacity (Scotland) Act 1991 s.6)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def eighteenth_birthday(born: date) -> date:
    """The day a person born on `born` comes of age: the day `safeguarding.coming_of_age` moves
    their case to the adult pathway, and from which the adult clocks that start then count
    (`decisions.services.adult_clocks`)."""
    return years_later(born, 18)


# Clocks under a profile ----------------------------------------------------------------------


def reasonable_grounds_due_under(referred_on: date, profile: PolicyProfile) -> date:
    """The reasonable-grounds target: that many working days after the referral date."""
    target = profile.reasonable_grounds_target_working_days
    if target is None:
        raise NotInProfile(f"{profile} sets no target for the reasonable grounds decision.")
    return add_working_days_in(referred_on, target, profile.calendar)


def reasonable_grounds_due(referred_on: date, jurisdiction: str) -> date:
    """The reasonable-grounds target under the profile in force on the referral date.

    Raises `NoProfileError` for a date before the jurisdiction's first profile (1 Apr 2009 in
    the UK).
    """
    return reasonable_grounds_due_under(referred_on, profile_for(jurisdiction, referred_on))


def recovery_period_end(
    positive_rg_on: date, profile: PolicyProfile, *, extension_days: int = 0
) -> date:
    """The last day of the recovery period, counted by the profile's rule: day 1 is the day after
    the positive RG decision, or the decision's own day where the law says "beginning with".

    Pass the profile in force on the day of the positive decision. `extension_days` adds any
    extensions granted (the decision records each with its reasons).
    """
    if extension_days < 0:
        raise ValueError("extension_days must not be negative")
    if extension_days and not profile.recovery_period_extendable:
        raise NotInProfile(f"{profile} does not allow the recovery period to be extended.")
    return last_day(
        positive_rg_on,
        profile.recovery_period_days + extension_days,
        profile.recovery_period_counting,
    )


def support_period_end(positive_rg_on: date, profile: PolicyProfile, *, adult: bool) -> date:
    """The last day of the support the jurisdiction's own law gives from a positive RG decision
    (Scotland's 90 days, Northern Ireland's 45), before any conclusive decision cuts it short."""
    support = profile.support_after_positive_reasonable_grounds
    if support is None:
        raise NotInProfile(f"{profile} sets no support period of its own.")
    if support.adults_only and not adult:
        raise NotInProfile(f"{profile}: {support.label} is for adults only.")
    return last_day(positive_rg_on, support.days, support.counting)


def earliest_conclusive_grounds(
    positive_rg_on: date, profile: PolicyProfile, *, extension_days: int = 0
) -> date:
    """The first day a conclusive decision may be made, by the profile's rule."""
    ends = recovery_period_end(positive_rg_on, profile, extension_days=extension_days)
    match profile.conclusive_grounds_earliest:
        case ConclusiveTiming.LAST_DAY_OF_RECOVERY_PERIOD:
            return ends
        case ConclusiveTiming.AFTER_RECOVERY_PERIOD:
            return ends + timedelta(days=1)
        case ConclusiveTiming.NOT_TIED:
            return positive_rg_on


def reconsideration_window_end(decided_on: date, profile: PolicyProfile) -> date:
    """The last day a reconsideration of a decision made on `decided_on` may be asked for."""
    window = profile.reconsideration_window_days
    if window is None:
        raise NotInProfile(f"{profile} sets no reconsideration procedure.")
    return decided_on + timedelta(days=window)


def reconsideration_open(decided_on: date, requested_on: date, profile: PolicyProfile) -> bool:
    """Whether a request made on `requested_on` is in time: from the decision day to the
    window's last day, both included (day 30 accepted, day 31 refused)."""
    return decided_on <= requested_on <= reconsideration_window_end(decided_on, profile)


def reconsideration_decision_due(requested_on: date, profile: PolicyProfile) -> date | None:
    """The day a reconsideration request made on `requested_on` should be decided by.

    No source gives a target for deciding a reconsideration request; OpenNRM uses the profile's
    target for a reasonable grounds decision (5 working days in the UK), since an accepted
    request reopens that kind of question. None where the profile sets no such target.
    """
    if profile.reasonable_grounds_target_working_days is None:
        return None
    return reasonable_grounds_due_under(requested_on, profile)


def move_on_end(
    conclusive_on: date, profile: PolicyProfile, *, positive: bool, adult: bool = True
) -> date:
    """The last day of move-on support after a positive or negative conclusive decision."""
    period = (
        profile.move_on_after_positive_conclusive
        if positive
        else profile.move_on_after_negative_conclusive
    )
    if period is None:
        which = "positive" if positive else "negative"
        raise NotInProfile(f"{profile} sets no move-on period after a {which} conclusive decision.")
    if period.adults_only and not adult:
        raise NotInProfile(f"{profile}: its move-on period is for adults only.")
    return add_period(conclusive_on, period, profile.calendar)


# Clocks that start together ------------------------------------------------------------------


@dataclass(frozen=True)
class Clocks:
    """The due dates a decision (or a referral) starts, with the profile that set them.

    Store `profile_key` and `profile_version` beside the dates. A date is None where the event
    does not start that clock, or where the profile sets no rule for it.
    """

    profile: PolicyProfile
    started_on: date
    reasonable_grounds_due: date | None = None
    recovery_period_ends: date | None = None
    conclusive_grounds_earliest: date | None = None
    reconsideration_closes: date | None = None
    move_on_ends: date | None = None
    # The jurisdiction's own support period after a positive RG (Scotland, Northern Ireland),
    # if any.
    support_ends: date | None = None

    @property
    def profile_key(self) -> str:
        return self.profile.key

    @property
    def profile_version(self) -> str:
        return self.profile.version


def clocks_after_referral(
    referred_on: date, jurisdiction: str, *, profiles: ProfileSet | None = None
) -> Clocks:
    """A referral starts the reasonable-grounds clock, under the profile in force that day."""
    profile = profile_for(jurisdiction, referred_on, profiles=profiles)
    due = None
    if profile.reasonable_grounds_target_working_days is not None:
        due = reasonable_grounds_due_under(referred_on, profile)
    return Clocks(profile, referred_on, reasonable_grounds_due=due)


def clocks_after_positive_rg(
    decided_on: date,
    jurisdiction: str,
    *,
    extension_days: int = 0,
    adult: bool = True,
    profiles: ProfileSet | None = None,
    profile: PolicyProfile | None = None,
) -> Clocks:
    """A positive RG decision starts the recovery period, under the profile in force on the day
    of the decision (so 12 Dec 2022 gives 45 days in England and Wales, 13 Dec 2022 gives 30),
    and, where the jurisdiction's own law gives one (Scotland, Northern Ireland), its support
    period for adults.
    Pass `profile` to use the one a decision recorded instead."""
    profile = profile or profile_for(jurisdiction, decided_on, profiles=profiles)
    support = profile.support_after_positive_reasonable_grounds
    return Clocks(
        profile,
        decided_on,
        recovery_period_ends=recovery_period_end(
            decided_on, profile, extension_days=extension_days
        ),
        conclusive_grounds_earliest=earliest_conclusive_grounds(
            decided_on, profile, extension_days=extension_days
        ),
        support_ends=support_period_end(decided_on, profile, adult=adult)
        if support is not None and (adult or not support.adults_only)
        else None,
    )


def clocks_after_negative_rg(
    decided_on: date,
    jurisdiction: str,
    *,
    profiles: ProfileSet | None = None,
    profile: PolicyProfile | None = None,
) -> Clocks:
    """A negative RG decision opens the reconsideration window, if the profile has one, from the
    day the decision takes effect (`decided_on`: for a decision that needed a second decision
    maker, the day it was approved). Pass `profile` to use the one the decision recorded."""
    profile = profile or profile_for(jurisdiction, decided_on, profiles=profiles)
    closes = None
    if profile.allows_reconsideration_of(Reconsiderable.NEGATIVE_REASONABLE_GROUNDS):
        closes = reconsideration_window_end(decided_on, profile)
    return Clocks(profile, decided_on, reconsideration_closes=closes)


def clocks_after_conclusive(
    decided_on: date,
    jurisdiction: str,
    outcome: str,
    *,
    adult: bool = True,
    profiles: ProfileSet | None = None,
    profile: PolicyProfile | None = None,
) -> Clocks:
    """A conclusive decision (an outcome code of the profile) starts move-on support, and a
    negative one opens the reconsideration window, both from the day it takes effect
    (`decided_on`). A move-on period the profile gives adults only (the adult victim care
    contract's) is not started for a child or a presumed child (`adult=False`): their support
    is the local authority's. Pass `profile` to use the one the decision recorded."""
    profile = profile or profile_for(jurisdiction, decided_on, profiles=profiles)
    positive = profile.conclusive_grounds_outcome(outcome).kind == OutcomeKind.POSITIVE
    period = (
        profile.move_on_after_positive_conclusive
        if positive
        else profile.move_on_after_negative_conclusive
    )
    if period is not None and period.adults_only and not adult:
        period = None
    closes = None
    if not positive and profile.allows_reconsideration_of(
        Reconsiderable.NEGATIVE_CONCLUSIVE_GROUNDS
    ):
        closes = reconsideration_window_end(decided_on, profile)
    return Clocks(
        profile,
        decided_on,
        reconsideration_closes=closes,
        move_on_ends=add_period(decided_on, period, profile.calendar) if period else None,
    )
