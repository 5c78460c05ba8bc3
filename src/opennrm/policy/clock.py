"""Working-day clocks. Pure code, no Django: dates in, dates out.

The decisions work adds the full policy profiles (recovery periods, conclusive grounds,
reconsideration windows) on top of this calendar; the referral journey already needs the
reasonable-grounds target, which has been 5 working days in every UK regime since 2009.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

# Bank holidays by jurisdiction, as the `holidays` package names the UK's subdivisions.
# England and Wales share their bank holidays.
SUBDIVISION = {"england_and_wales": "ENG", "scotland": "SCT", "northern_ireland": "NIR"}

REASONABLE_GROUNDS_TARGET_WORKING_DAYS = 5


@cache
def _bank_holidays(jurisdiction: str, year: int) -> frozenset[date]:
    calendar = holidays.country_holidays("GB", subdiv=SUBDIVISION[jurisdiction], years=year)
    return frozenset(calendar)


def is_working_day(day: date, jurisdiction: str) -> bool:
    """Monday to Friday, and not a bank holiday (substitute days included)."""
    return day.weekday() < 5 and day not in _bank_holidays(jurisdiction, day.year)


def add_working_days(start: date, days: int, jurisdiction: str) -> date:
    """The `days`-th working day after `start` (the start day itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, jurisdiction):
            remaining -= 1
    return current


def reasonable_grounds_due(referred_on: date, jurisdiction: str) -> date:
    return add_working_days(referred_on, REASONABLE_GROUNDS_TARGET_WORKING_DAYS, jurisdiction)
