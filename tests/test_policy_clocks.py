"""The clock engine under each policy profile: reasonable-grounds targets, recovery periods,
the earliest conclusive date, reconsideration windows and move-on periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opennrm.accounts.roles import Jurisdiction
from opennrm.policy.clock import (
    NotInProfile,
    add_period,
    add_working_days,
    clocks_after_conclusive,
    clocks_after_negative_rg,
    clocks_after_positive_rg,
    clocks_after_referral,
    earliest_conclusive_grounds,
    is_working_day,
    is_working_day_in,
    move_on_end,
    reasonable_grounds_due,
    reasonable_grounds_due_under,
    reconsideration_open,
    reconsideration_window_end,
    recovery_period_end,
    support_period_end,
)
from opennrm.policy.profiles import (
    ConclusiveTiming,
    Counting,
    NoProfileError,
    Period,
    PeriodUnit,
    PolicyProfile,
    load_profiles,
)

PROFILES = load_profiles()
ALL = sorted(PROFILES.profiles, key=lambda p: p.version)
WITH_RG_TARGET = [p for p in ALL if p.reasonable_grounds_target_working_days is not None]
WITH_RECONSIDERATION = [p for p in ALL if p.reconsideration_window_days is not None]
UK = [j.value for j in Jurisdiction]
EW, SCT, NI = "england_and_wales", "scotland", "northern_ireland"
FAR_FUTURE = date(2050, 12, 31)


def ids(profile: PolicyProfile) -> str:
    return profile.version


def within(profile: PolicyProfile) -> st.SearchStrategy[date]:
    return st.dates(min_value=profile.effective_from, max_value=profile.effective_to or FAR_FUTURE)


def quiet_friday_in(profile: PolicyProfile) -> date:
    """The first Friday in the profile's range followed by two weeks with no bank holiday."""
    day = profile.effective_from + timedelta(days=(4 - profile.effective_from.weekday()) % 7)
    weekdays = [n for n in range(1, 15) if (day + timedelta(days=n)).weekday() < 5]
    while not all(is_working_day_in(day + timedelta(days=n), profile.calendar) for n in weekdays):
        day += timedelta(days=7)
    return day


# Reasonable grounds --------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ALL, ids=ids)
def test_a_friday_referral_is_due_the_next_friday_under_each_profile(
    profile: PolicyProfile,
) -> None:
    friday = quiet_friday_in(profile)
    assert friday.weekday() == 4
    if profile.reasonable_grounds_target_working_days is None:
        with pytest.raises(NotInProfile, match="sets no target for the reasonable grounds"):
            reasonable_grounds_due_under(friday, profile)
        assert clocks_after_referral(friday, profile.jurisdiction).reasonable_grounds_due is None
        return
    assert reasonable_grounds_due_under(friday, profile) == friday + timedelta(days=7)
    clocks = clocks_after_referral(friday, profile.jurisdiction)
    assert clocks.profile_version == profile.version
    assert clocks.profile_key == profile.key
    assert clocks.started_on == friday
    assert clocks.reasonable_grounds_due == friday + timedelta(days=7)
    assert clocks.recovery_period_ends is None


@pytest.mark.parametrize(
    ("jurisdiction", "due"),
    [(EW, date(2026, 12, 4)), (SCT, date(2026, 12, 7)), (NI, date(2026, 12, 4))],
)
def test_a_friday_referral_before_st_andrews_day(jurisdiction: str, due: date) -> None:
    # Friday 27 Nov 2026; St Andrew's Day, Monday 30 Nov, is a bank holiday in Scotland only.
    assert reasonable_grounds_due(date(2026, 11, 20), jurisdiction) == date(2026, 11, 27)
    assert reasonable_grounds_due(date(2026, 11, 27), jurisdiction) == due


@pytest.mark.parametrize(
    ("jurisdiction", "due"),
    # Thursday 24 Dec 2026: Christmas Day is Friday 25; Boxing Day falls on Saturday 26 and its
    # substitute is Monday 28; New Year's Day is Friday 1 Jan 2027. Scotland's 2 January falls
    # on a Saturday, so its substitute is Monday 4 Jan 2027.
    [(EW, date(2027, 1, 5)), (SCT, date(2027, 1, 6)), (NI, date(2027, 1, 5))],
)
def test_a_christmas_eve_2026_referral(jurisdiction: str, due: date) -> None:
    for holiday in (date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)):
        assert not is_working_day(holiday, jurisdiction)
    assert date(2026, 12, 26).weekday() == 5
    assert reasonable_grounds_due(date(2026, 12, 24), jurisdiction) == due
    assert clocks_after_referral(date(2026, 12, 24), jurisdiction).reasonable_grounds_due == due


def test_easter_monday_is_a_working_day_in_scotland() -> None:
    # Friday 19 Mar 2027; Good Friday is 26 Mar everywhere, Easter Monday 29 Mar not in Scotland.
    assert reasonable_grounds_due(date(2027, 3, 19), EW) == date(2027, 3, 30)
    assert reasonable_grounds_due(date(2027, 3, 19), NI) == date(2027, 3, 30)
    assert reasonable_grounds_due(date(2027, 3, 19), SCT) == date(2027, 3, 29)


def test_scotlands_extra_bank_holidays() -> None:
    # 2 January (Friday in 2026) and the substitute for St Andrew's Day (Sunday 30 Nov 2025).
    for day in (date(2026, 1, 2), date(2025, 12, 1), date(2027, 1, 4)):
        assert not is_working_day(day, SCT)
        assert is_working_day(day, EW)
    scotland = PROFILES.get("sct-2023-01-30")
    assert reasonable_grounds_due_under(date(2025, 11, 28), scotland) == date(2025, 12, 8)
    assert reasonable_grounds_due(date(2025, 11, 28), EW) == date(2025, 12, 5)


def test_northern_irelands_own_bank_holidays() -> None:
    # St Patrick's Day (Tuesday 17 Mar 2026); the Boyne (Sunday 12 Jul 2026, substitute Monday).
    for day in (date(2026, 3, 17), date(2026, 7, 13)):
        assert not is_working_day(day, NI)
        assert is_working_day(day, EW)
    assert reasonable_grounds_due(date(2026, 7, 10), NI) == date(2026, 7, 20)
    assert reasonable_grounds_due(date(2026, 7, 10), EW) == date(2026, 7, 17)


def test_one_off_bank_holidays_count() -> None:
    # The State Funeral of Queen Elizabeth II, Monday 19 Sep 2022, in every UK jurisdiction.
    for jurisdiction in UK:
        assert reasonable_grounds_due(date(2022, 9, 16), jurisdiction) == date(2022, 9, 26)


def test_the_conventions_minimum_has_no_bank_holidays() -> None:
    cets = PROFILES.get("cets197-2008-02-01")
    assert is_working_day_in(date(2026, 12, 25), cets.calendar)
    assert not is_working_day_in(date(2026, 12, 26), cets.calendar)


def test_a_referral_before_the_nrm_has_no_profile() -> None:
    with pytest.raises(NoProfileError, match="starts on 2009-04-01"):
        reasonable_grounds_due(date(2009, 3, 31), EW)
    assert reasonable_grounds_due(date(2009, 4, 1), EW) == date(2009, 4, 8)


@given(st.sampled_from(UK), st.dates(min_value=date(2009, 4, 1), max_value=FAR_FUTURE))
def test_the_profile_based_target_is_the_five_working_days_it_always_was(
    jurisdiction: str, referred_on: date
) -> None:
    assert reasonable_grounds_due(referred_on, jurisdiction) == add_working_days(
        referred_on, 5, jurisdiction
    )


@given(st.data())
def test_the_rg_target_is_a_working_day_after_the_referral(data: st.DataObject) -> None:
    profile = data.draw(st.sampled_from(WITH_RG_TARGET))
    referred_on = data.draw(within(profile))
    due = reasonable_grounds_due_under(referred_on, profile)
    target = profile.reasonable_grounds_target_working_days
    assert target is not None
    assert due > referred_on
    assert is_working_day_in(due, profile.calendar)
    assert (due - referred_on).days >= target
    working = [
        referred_on + timedelta(days=n)
        for n in range(1, (due - referred_on).days + 1)
        if is_working_day_in(referred_on + timedelta(days=n), profile.calendar)
    ]
    assert len(working) == target


# Recovery period and the earliest conclusive date --------------------------------------------


def test_day_one_of_the_recovery_period_follows_each_regimes_counting_rule() -> None:
    ew_2023 = PROFILES.get("ew-2023-01-30")
    # "30 days beginning with the day" of a decision on 1 Mar 2023: day 1 is 1 March, day 30 is
    # 30 March; the conclusive decision may be made from the day after, 31 March.
    assert recovery_period_end(date(2023, 3, 1), ew_2023) == date(2023, 3, 30)
    assert earliest_conclusive_grounds(date(2023, 3, 1), ew_2023) == date(2023, 3, 31)
    # Before the Act the guidance's days started the day after the decision.
    ew_2022 = PROFILES.get("ew-2022-12-13")
    assert recovery_period_end(date(2023, 1, 1), ew_2022) == date(2023, 1, 31)
    assert earliest_conclusive_grounds(date(2023, 1, 1), ew_2022) == date(2023, 1, 31)
    ew_2009 = PROFILES.get("ew-2009-04-01")
    # 45 days after 1 Mar 2010: day 45 is 15 April.
    assert recovery_period_end(date(2010, 3, 1), ew_2009) == date(2010, 4, 15)


@pytest.mark.parametrize("jurisdiction", UK)
def test_12_december_2022_gives_45_days_and_13_december_gives_30(jurisdiction: str) -> None:
    """Issue 10 item 11: the guidance went to 30 days "effective immediately" on 13 Dec 2022."""
    before = clocks_after_positive_rg(date(2022, 12, 12), jurisdiction)
    assert before.profile.recovery_period_days == 45
    assert before.profile_version.endswith("-2019-10-01")
    assert before.recovery_period_ends == date(2023, 1, 26)
    assert before.conclusive_grounds_earliest == date(2023, 1, 26)
    for decided in (date(2022, 12, 13), date(2023, 1, 29)):
        after = clocks_after_positive_rg(decided, jurisdiction)
        assert after.profile.recovery_period_days == 30
        assert after.profile_version.endswith("-2022-12-13")
        assert after.recovery_period_ends == decided + timedelta(days=30)
        assert after.conclusive_grounds_earliest == decided + timedelta(days=30)


@pytest.mark.parametrize("jurisdiction", UK)
def test_from_30_january_2023_the_decision_day_is_day_1_of_the_30(jurisdiction: str) -> None:
    """Issue 10 item 12: "30 days beginning with the day" of the positive decision."""
    after = clocks_after_positive_rg(date(2023, 1, 30), jurisdiction)
    assert after.profile.recovery_period_days == 30
    assert after.profile_version.endswith("-2023-01-30")
    assert after.recovery_period_ends == date(2023, 2, 28)  # 30 Jan + 29
    assert after.conclusive_grounds_earliest == date(2023, 3, 1)  # the day after it ends
    assert after.reasonable_grounds_due is None


def test_a_recovery_period_spanning_a_leap_day() -> None:
    # 2024 is a leap year: 30 days beginning with 15 Feb end on 15 March (not 16), the
    # conclusive decision may follow on 16 March; 45 days after 15 Feb end on 31 March.
    leap = clocks_after_positive_rg(date(2024, 2, 15), EW)
    assert leap.recovery_period_ends == date(2024, 3, 15)
    assert leap.conclusive_grounds_earliest == date(2024, 3, 16)
    assert recovery_period_end(date(2024, 2, 15), PROFILES.get("ew-2019-10-01")) == date(
        2024, 3, 31
    )
    # Under the 45-day rules in force at the time: a leap year against a common one.
    assert clocks_after_positive_rg(date(2020, 2, 15), EW).recovery_period_ends == date(2020, 3, 31)
    assert clocks_after_positive_rg(date(2019, 2, 15), EW).recovery_period_ends == date(2019, 4, 1)


@pytest.mark.parametrize("profile", ALL, ids=ids)
def test_recovery_and_earliest_conclusive_date_under_each_profile(profile: PolicyProfile) -> None:
    decided = profile.effective_from + timedelta(days=10)
    ends = recovery_period_end(decided, profile)
    day_one_is_decision_day = (
        profile.recovery_period_counting == Counting.BEGINNING_WITH_DECISION_DAY
    )
    assert ends == decided + timedelta(
        days=profile.recovery_period_days - (1 if day_one_is_decision_day else 0)
    )
    earliest = earliest_conclusive_grounds(decided, profile)
    if profile.jurisdiction == "cets197":
        # The Convention does not tie identification to the end of the period.
        assert earliest == decided
    else:
        # Every UK regime: no conclusive decision before recovery_period_days have passed.
        assert earliest == decided + timedelta(days=profile.recovery_period_days)


def test_the_earliest_conclusive_date_follows_the_profiles_rule() -> None:
    base = PROFILES.get("ew-2023-01-30")
    decided = date(2024, 5, 10)
    # 30 days beginning with 10 May end on 8 June.
    rules = {
        ConclusiveTiming.LAST_DAY_OF_RECOVERY_PERIOD: date(2024, 6, 8),
        ConclusiveTiming.AFTER_RECOVERY_PERIOD: date(2024, 6, 9),
        ConclusiveTiming.NOT_TIED: decided,
    }
    for rule, expected in rules.items():
        profile = replace(base, conclusive_grounds_earliest=rule)
        assert earliest_conclusive_grounds(decided, profile) == expected


def test_an_extension_moves_the_end_and_the_earliest_conclusive_date() -> None:
    clocks = clocks_after_positive_rg(date(2024, 5, 10), EW, extension_days=14)
    assert clocks.recovery_period_ends == date(2024, 6, 22)
    assert clocks.conclusive_grounds_earliest == date(2024, 6, 23)
    profile = PROFILES.get("ew-2023-01-30")
    with pytest.raises(ValueError, match="must not be negative"):
        recovery_period_end(date(2024, 5, 10), profile, extension_days=-1)
    fixed = replace(profile, recovery_period_extendable=False)
    with pytest.raises(NotInProfile, match="does not allow the recovery period to be extended"):
        recovery_period_end(date(2024, 5, 10), fixed, extension_days=1)
    assert recovery_period_end(date(2024, 5, 10), fixed) == date(2024, 6, 8)


@given(st.data(), st.integers(min_value=0, max_value=120))
def test_the_recovery_end_is_the_profiles_days_after_the_decision(
    data: st.DataObject, extension: int
) -> None:
    profile = data.draw(st.sampled_from(ALL))
    decided = data.draw(within(profile))
    ends = recovery_period_end(decided, profile, extension_days=extension)
    counted_from_decision_day = (
        profile.recovery_period_counting == Counting.BEGINNING_WITH_DECISION_DAY
    )
    assert (ends - decided).days == profile.recovery_period_days + extension - (
        1 if counted_from_decision_day else 0
    )
    earliest = earliest_conclusive_grounds(decided, profile, extension_days=extension)
    assert earliest >= decided
    if profile.conclusive_grounds_earliest != ConclusiveTiming.NOT_TIED:
        assert earliest >= ends


@given(st.sampled_from(UK), st.dates(min_value=date(2009, 4, 1), max_value=FAR_FUTURE))
def test_the_recovery_period_is_that_of_the_profile_in_force_on_the_decision_day(
    jurisdiction: str, decided: date
) -> None:
    clocks = clocks_after_positive_rg(decided, jurisdiction)
    assert clocks.profile.in_force_on(decided)
    assert clocks.recovery_period_ends is not None
    assert clocks.conclusive_grounds_earliest is not None
    days = 45 if decided < date(2022, 12, 13) else 30
    assert (clocks.conclusive_grounds_earliest - decided).days == days
    assert (clocks.recovery_period_ends - decided).days == (
        days if decided < date(2023, 1, 30) else days - 1
    )


# Reconsideration -----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ALL, ids=ids)
def test_reconsideration_on_day_30_is_accepted_and_on_day_31_refused(
    profile: PolicyProfile,
) -> None:
    decided = profile.effective_from + timedelta(days=3)
    if profile.reconsideration_window_days is None:
        with pytest.raises(NotInProfile, match="sets no reconsideration procedure"):
            reconsideration_open(decided, decided, profile)
        return
    assert reconsideration_window_end(decided, profile) == decided + timedelta(days=30)
    assert reconsideration_open(decided, decided, profile)
    assert reconsideration_open(decided, decided + timedelta(days=30), profile)
    assert not reconsideration_open(decided, decided + timedelta(days=31), profile)
    assert not reconsideration_open(decided, decided - timedelta(days=1), profile)


def test_a_negative_decision_on_31_january_can_be_reconsidered_until_2_march() -> None:
    profile = PROFILES.get("ew-2023-01-30")
    assert reconsideration_window_end(date(2024, 1, 31), profile) == date(2024, 3, 1)
    assert reconsideration_open(date(2024, 1, 31), date(2024, 3, 1), profile)
    assert not reconsideration_open(date(2024, 1, 31), date(2024, 3, 2), profile)
    clocks = clocks_after_negative_rg(date(2024, 1, 31), EW)
    assert clocks.reconsideration_closes == date(2024, 3, 1)
    assert clocks.recovery_period_ends is None


def test_without_reconsideration_a_negative_decision_opens_no_window() -> None:
    assert clocks_after_negative_rg(date(2024, 1, 31), "cets197").reconsideration_closes is None


@given(st.data(), st.integers(min_value=-5, max_value=60))
def test_a_request_is_in_time_exactly_within_the_window(data: st.DataObject, offset: int) -> None:
    profile = data.draw(st.sampled_from(WITH_RECONSIDERATION))
    decided = data.draw(within(profile))
    window = profile.reconsideration_window_days
    assert window is not None
    requested = decided + timedelta(days=offset)
    assert reconsideration_open(decided, requested, profile) is (0 <= offset <= window)
    assert reconsideration_window_end(decided, profile) >= decided


# Move-on -------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ALL, ids=ids)
def test_move_on_under_each_profile(profile: PolicyProfile) -> None:
    decided = quiet_friday_in(profile)
    for positive, period in (
        (True, profile.move_on_after_positive_conclusive),
        (False, profile.move_on_after_negative_conclusive),
    ):
        if period is None:
            with pytest.raises(NotInProfile, match="sets no move-on period"):
                move_on_end(decided, profile, positive=positive)
        elif positive:
            assert move_on_end(decided, profile, positive=True) == decided + timedelta(days=45)
        else:
            # Nine working days after a quiet Friday: the Thursday of the second week.
            assert move_on_end(decided, profile, positive=False) == decided + timedelta(days=13)


def test_move_on_after_a_negative_decision_counts_working_days_over_christmas() -> None:
    profile = PROFILES.get("ew-2023-01-30")
    # Friday 18 Dec 2026: 21-24 Dec, 29-31 Dec, 4-5 Jan are the nine working days.
    assert move_on_end(date(2026, 12, 18), profile, positive=False) == date(2027, 1, 5)
    calendar_days = replace(
        profile, move_on_after_negative_conclusive=Period(14, PeriodUnit.CALENDAR_DAYS)
    )
    assert move_on_end(date(2026, 12, 18), calendar_days, positive=False) == date(2027, 1, 1)
    assert move_on_end(date(2026, 12, 18), profile, positive=True) == date(2027, 2, 1)


def test_a_conclusive_decision_starts_move_on_and_a_negative_one_reconsideration() -> None:
    positive = clocks_after_conclusive(date(2024, 3, 1), EW, "recognised_slavery")
    assert positive.move_on_ends == date(2024, 4, 15)
    assert positive.reconsideration_closes is None
    negative = clocks_after_conclusive(date(2024, 3, 1), EW, "insufficient_evidence")
    assert negative.move_on_ends == date(2024, 3, 14)
    assert negative.reconsideration_closes == date(2024, 3, 31)
    assert negative.profile_version == "ew-2023-01-30"


def test_a_conclusive_decision_where_the_profile_sets_no_move_on() -> None:
    clocks = clocks_after_conclusive(date(2024, 3, 1), SCT, "recognised_trafficking")
    assert clocks.move_on_ends is None
    assert clocks.profile_version == "sct-2023-01-30"


def test_an_outcome_the_profile_does_not_have_is_refused() -> None:
    # Scotland has two conclusive outcomes (FACTS 2.10).
    with pytest.raises(ValueError, match="use one of: recognised_trafficking, insufficient"):
        clocks_after_conclusive(date(2024, 3, 1), SCT, "recognised_slavery")


@given(st.data())
def test_move_on_ends_after_the_decision_on_a_day_of_its_unit(data: st.DataObject) -> None:
    profile = data.draw(
        st.sampled_from([p for p in ALL if p.move_on_after_negative_conclusive is not None])
    )
    decided = data.draw(within(profile))
    for positive in (True, False):
        period = (
            profile.move_on_after_positive_conclusive
            if positive
            else profile.move_on_after_negative_conclusive
        )
        assert period is not None
        ends = move_on_end(decided, profile, positive=positive)
        assert ends == add_period(decided, period, profile.calendar)
        assert (ends - decided).days >= period.days
        if period.unit == PeriodUnit.WORKING_DAYS:
            assert is_working_day_in(ends, profile.calendar)
        else:
            assert (ends - decided).days == period.days


# Scotland's own support period (issue 10 item 13) --------------------------------------------


def test_scottish_adults_have_90_days_of_support_from_the_positive_decision() -> None:
    # s.9(2)(a): the period begins on the day of the positive decision, so that day is day 1.
    clocks = clocks_after_positive_rg(date(2026, 3, 2), SCT)
    assert clocks.support_ends == date(2026, 5, 30)  # 2 March + 89
    assert clocks.recovery_period_ends == date(2026, 3, 31)
    # Children are supported by local authorities, not under s.9.
    assert clocks_after_positive_rg(date(2026, 3, 2), SCT, adult=False).support_ends is None
    # From 1 April 2018, when the regulations came into force; not before, not elsewhere.
    assert clocks_after_positive_rg(date(2018, 4, 1), SCT).support_ends == date(2018, 6, 29)
    assert clocks_after_positive_rg(date(2018, 3, 31), SCT).support_ends is None
    assert clocks_after_positive_rg(date(2026, 3, 2), EW).support_ends is None
    # Northern Ireland's own 45 days (s.18): test_policy_review_gaps.
    assert clocks_after_positive_rg(date(2026, 3, 2), NI).support_ends == date(2026, 4, 16)
    with pytest.raises(NotInProfile, match="sets no support period of its own"):
        support_period_end(date(2026, 3, 2), PROFILES.get("ew-2023-01-30"), adult=True)
    with pytest.raises(NotInProfile, match="is for adults only"):
        support_period_end(date(2026, 3, 2), PROFILES.get("sct-2023-01-30"), adult=False)
