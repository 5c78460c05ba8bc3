"""The working-day calendar behind every statutory clock."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opennrm.policy.clock import add_working_days, is_working_day, reasonable_grounds_due


def test_a_friday_referral_is_due_the_next_friday() -> None:
    assert reasonable_grounds_due(date(2026, 11, 20), "england_and_wales") == date(2026, 11, 27)


def test_christmas_2026_skips_boxing_day_substitute_monday() -> None:
    # 24 Dec 2026 is a Thursday; 25 Dec (Fri) and the substitute for Boxing Day (Mon 28 Dec)
    # are bank holidays, as is 1 Jan 2027.
    assert not is_working_day(date(2026, 12, 28), "england_and_wales")
    assert reasonable_grounds_due(date(2026, 12, 24), "england_and_wales") == date(2027, 1, 5)


def test_scotland_has_its_own_bank_holidays() -> None:
    # 2 January is a bank holiday in Scotland only (2026-01-02 is a Friday).
    assert not is_working_day(date(2026, 1, 2), "scotland")
    assert is_working_day(date(2026, 1, 2), "england_and_wales")
    assert reasonable_grounds_due(date(2025, 12, 31), "scotland") == date(2026, 1, 9)
    assert reasonable_grounds_due(date(2025, 12, 31), "england_and_wales") == date(2026, 1, 8)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 1, 1), -1, "england_and_wales")


@given(st.dates(min_value=date(2009, 1, 1), max_value=date(2040, 12, 31)), st.integers(0, 30))
def test_the_result_is_a_working_day_after_the_start(start: date, days: int) -> None:
    due = add_working_days(start, days, "northern_ireland")
    assert due >= start
    if days:
        assert due > start
        assert is_working_day(due, "northern_ireland")
        assert (due - start).days >= days
