"""The bed forecast for an enforcement operation (issue 14, item 2): the model (`operations.
forecast`, pure), the history it is fed from the deployment's own data (`operations.history`),
the gap against the places free now, and how often its interval covers the need that follows
(the coverage study; ADR 0041 records the figure)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest
import time_machine
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.models import (
    Placement,
    PlacementRequestStatus,
    PlacementStatus,
)
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, Person
from opennrm.notifications.models import Notification
from opennrm.operations import history, surge
from opennrm.operations import selectors as operation_selectors
from opennrm.operations import services as operation_services
from opennrm.operations.forecast import (
    CHILDREN,
    MEN,
    MIXED,
    WOMEN,
    Group,
    GroupHistory,
    NoStays,
    adults_gap,
    expected_by_group,
    forecast,
    gap,
    gaps,
    simulate,
    stay_distribution,
)
from opennrm.operations.models import HistoryMonth, HistoryRollup, HistoryStay, Operation
from opennrm.safeguarding.models import ChildrenServicesTask, TaskKind

from . import case_factories, factories, operation_helpers
from . import support_factories as s

FIRST_DAY = date(2027, 3, 1)
WOMAN = Group("female", "adult")
MAN = Group("male", "adult")
GIRL = Group("female", "child")
DISPUTED = Group("male", "presumed_child")
NEITHER = Group("other", "adult")


def stays(*lengths: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for length in lengths:
        counts[length] = counts.get(length, 0) + 1
    return counts


LONG_STAYS = stays(*([30] * 10 + [60] * 10 + [90] * 10))
HISTORY = {
    WOMAN: GroupHistory(referred=200, needed_place=120, stays_ended=LONG_STAYS),
    MAN: GroupHistory(referred=100, needed_place=20, stays_ended=LONG_STAYS),
    GIRL: GroupHistory(referred=40, needed_place=30, stays_ended=LONG_STAYS),
    DISPUTED: GroupHistory(referred=10, needed_place=8, stays_ended=LONG_STAYS),
}


def run(expected: dict[Group, float], **options: Any) -> Any:
    return forecast(
        expected,
        HISTORY,
        first_day=FIRST_DAY,
        operation_days=options.pop("operation_days", 7),
        simulations=options.pop("simulations", 2000),
        **options,
    )


# --- The model --------------------------------------------------------------------------------


class TestTheModel:
    def test_a_group_expected_to_be_zero_needs_no_place(self) -> None:
        made = run({WOMAN: 0, MAN: 0, GIRL: 0})
        for kind in (WOMEN, MEN, CHILDREN):
            assert set(made.kinds[kind].upper) == {0}
            assert made.kinds[kind].peak.upper == 0

    def test_children_and_people_whose_age_is_disputed_never_need_an_adult_bed(self) -> None:
        made = run({GIRL: 30, DISPUTED: 20})
        for kind in (WOMEN, MEN, MIXED):
            assert set(made.kinds[kind].upper) == {0}, kind
        assert made.kinds[CHILDREN].peak.median > 20
        assert Group("female", "presumed_child").kind == CHILDREN
        assert Group("unknown", "child").kind == CHILDREN

    def test_each_adult_group_needs_its_own_kind_of_place(self) -> None:
        assert (WOMAN.kind, MAN.kind, NEITHER.kind) == (WOMEN, MEN, MIXED)
        made = run({MAN: 40})
        assert set(made.kinds[WOMEN].upper) == {0}
        assert made.kinds[MEN].peak.median > 0

    def test_the_interval_is_ordered_every_day(self) -> None:
        made = run({WOMAN: 60, MAN: 30, GIRL: 5})
        for figures in made.kinds.values():
            assert len(figures.median) == 7 + 8 * 7
            for low, mid, high in zip(figures.lower, figures.median, figures.upper, strict=True):
                assert 0 <= low <= mid <= high
            assert figures.peak.lower <= figures.peak.median <= figures.peak.upper
        women = made.kinds[WOMEN]
        assert women.lower[20] < women.upper[20]  # a real interval, not a point

    def test_the_same_seed_gives_the_same_forecast_and_another_seed_another(self) -> None:
        expected = {WOMAN: 60, MAN: 30}
        assert run(expected, seed=7) == run(expected, seed=7)
        first = simulate(expected, HISTORY, operation_days=7, simulations=500, seed=7)
        again = simulate(expected, HISTORY, operation_days=7, simulations=500, seed=7)
        other = simulate(expected, HISTORY, operation_days=7, simulations=500, seed=8)
        assert np.array_equal(first[WOMEN], again[WOMEN])
        assert not np.array_equal(first[WOMEN], other[WOMEN])

    def test_exact_numbers_all_needing_a_place_with_one_stay_length_are_exact(self) -> None:
        """10 women, all of whom the history says need a place (Beta(1 + 10000, 1)), each
        staying exactly 3 days, found on day 1 of a one-day operation: 10 beds on days 1 to 3,
        none after."""
        past = {WOMAN: GroupHistory(10_000, 10_000, stays_ended={3: 50})}
        made = forecast(
            {WOMAN: 10},
            past,
            first_day=FIRST_DAY,
            operation_days=1,
            weeks_after=1,
            found="exact",
            simulations=200,
        )
        assert made.kinds[WOMEN].median[:5] == (10, 10, 10, 0, 0)
        assert made.days[0] == FIRST_DAY
        assert len(made.days) == 8

    def test_people_found_are_spread_by_the_shares_per_day(self) -> None:
        past = {WOMAN: GroupHistory(10_000, 10_000, stays_ended={1: 50})}
        made = forecast(
            {WOMAN: 20},
            past,
            first_day=FIRST_DAY,
            operation_days=3,
            weeks_after=0,
            day_shares=[0, 1, 0],
            found="exact",
            simulations=100,
        )
        assert made.kinds[WOMEN].median == (0, 20, 0)

    def test_ongoing_stays_are_censored_not_ended(self) -> None:
        """Kaplan-Meier: 2 stays ended at 10 days and 2 still going on at 5 days: the ongoing
        ones leave the risk set before day 10, so half of the mass is at 10 and half beyond it
        (put on the longest stay seen, 10); counting them as ended at 5 would give 5 half."""
        lengths, probabilities = stay_distribution(
            GroupHistory(stays_ended={10: 2}, stays_ongoing={5: 2})
        )
        assert lengths.tolist() == [10]
        assert probabilities.tolist() == [1.0]
        lengths, probabilities = stay_distribution(
            GroupHistory(stays_ended={5: 1, 10: 1}, stays_ongoing={7: 2})
        )
        # S(5) = 3/4, S(10) = 0 (1 of 1 at risk ends): P(5) = 1/4, P(10) = 3/4.
        assert dict(zip(lengths.tolist(), probabilities.round(6).tolist(), strict=True)) == {
            5: 0.25,
            10: 0.75,
        }

    def test_stays_are_drawn_with_their_estimated_probabilities(self) -> None:
        """Walker's alias method against the probabilities it was given: 400,000 draws of
        four lengths, each share within 0.005 of its probability (about 5 standard errors)."""
        from opennrm.operations.forecast import _Sampler

        probabilities = np.array([0.1, 0.55, 0.05, 0.3])
        drawn = _Sampler(probabilities).draw(np.random.default_rng(3), 400_000)
        shares = np.bincount(drawn, minlength=4) / 400_000
        assert np.abs(shares - probabilities).max() < 0.005
        assert _Sampler(np.full(7, 1 / 7)).uniform

    def test_a_group_with_few_stays_uses_every_groups_stays(self) -> None:
        """Women have 1 stay of 2 days; men 40 of 50 days. With fewer than MIN_STAYS stays of
        their own, women's stays are drawn from all 41, so most last 50 days."""
        past = {
            WOMAN: GroupHistory(10_000, 10_000, stays_ended={2: 1}),
            MAN: GroupHistory(10, 5, stays_ended={50: 40}),
        }
        made = forecast(
            {WOMAN: 10},
            past,
            first_day=FIRST_DAY,
            operation_days=1,
            weeks_after=2,
            found="exact",
            simulations=300,
        )
        assert made.kinds[WOMEN].median[10] == 10

    def test_bad_input_is_refused_with_a_reason(self) -> None:
        with pytest.raises(ValueError, match="at least one day"):
            run({WOMAN: 1}, operation_days=0)
        with pytest.raises(ValueError, match="one share per day"):
            run({WOMAN: 1}, day_shares=[1, 2])
        with pytest.raises(ValueError, match="zero or more"):
            run({WOMAN: -1})
        with pytest.raises(ValueError, match="more than were referred"):
            GroupHistory(referred=1, needed_place=2)
        with pytest.raises(ValueError, match="between 0 and 1"):
            run({WOMAN: 1}, level=1.5)
        with pytest.raises(NoStays, match="how long people stay cannot be estimated"):
            forecast({WOMAN: 5}, {}, first_day=FIRST_DAY, operation_days=2)

    def test_ten_thousand_simulations_over_seventy_days_take_well_under_a_second(self) -> None:
        """CPU time, not wall time: the machine running the tests is shared, and a wall clock
        measures the other work too (bench/operations.py reports both)."""
        import time as clock

        started = clock.process_time()
        made = forecast(
            {WOMAN: 120, MAN: 40, GIRL: 7, NEITHER: 3},
            HISTORY,
            first_day=FIRST_DAY,
            operation_days=14,
            weeks_after=8,
        )
        assert len(made.days) == 70
        assert made.simulations == 10_000
        assert clock.process_time() - started < 0.5


# --- The gap ----------------------------------------------------------------------------------


class TestTheGap:
    def test_the_sentence_names_the_upper_end_at_the_peak_the_free_and_the_surge(self) -> None:
        made = run({WOMAN: 70, MAN: 10})
        women = made.kinds[WOMEN]
        found = gap(made, WOMEN, free=8, surge=10)
        assert found.needed == max(women.upper)
        assert found.peak_day == FIRST_DAY + timedelta(days=women.upper.index(max(women.upper)))
        assert found.short == found.needed - 18 > 0
        assert found.sentence == (
            f"needs {found.needed} women's places, 8 free, 10 surge places agreed: "
            f"{found.needed - 18} short"
        )
        assert found.shortfall_by_day == tuple(max(0, u - 18) for u in women.upper)

    def test_enough_places_is_said_so(self) -> None:
        made = run({MAN: 5})
        found = gap(made, MEN, free=500, surge=1)
        assert found.short == 0
        assert found.sentence.endswith("500 free, 1 surge place agreed: enough")

    def test_the_adults_gap_counts_each_mixed_bed_once(self) -> None:
        """Exactly 10 women and 6 men, each staying the whole horizon; 4 women-only, 2
        men-only and 5 mixed beds free (free_places: women 9, men 7, anyone 5), 1 surge place
        for women. Each kind alone: women 10 - 9 - 1 = 0 short, men 6 - 7 = 0 short; together
        the 5 women and 4 men beyond their own settings' places share 5 mixed beds: 4 short."""
        past = {
            WOMAN: GroupHistory(10_000, 10_000, stays_ended={100: 30}),
            MAN: GroupHistory(10_000, 10_000, stays_ended={100: 30}),
        }
        made = forecast(
            {WOMAN: 10, MAN: 6},
            past,
            first_day=FIRST_DAY,
            operation_days=1,
            weeks_after=1,
            found="exact",
            simulations=50,
        )
        free = {WOMEN: 9, MEN: 7, MIXED: 5}
        assert [g.short for g in gaps(made, free, {WOMEN: 1})] == [0, 0, 0]
        together = adults_gap(made, free, {WOMEN: 1})
        assert together.shortfall_by_day == (4,) * 8
        assert together.sentence == (
            "in all, adults need 16 places, 11 free, 1 surge place agreed: 4 short"
        )
        with pytest.raises(ValueError, match="include the free mixed places"):
            adults_gap(made, {WOMEN: 1, MEN: 7, MIXED: 5})

    def test_the_gaps_of_the_kinds_given(self) -> None:
        made = run({WOMAN: 40, MAN: 10, GIRL: 3})
        found = gaps(made, {WOMEN: 8, MEN: 3, CHILDREN: 2}, {WOMEN: 10})
        assert [g.kind for g in found] == [WOMEN, MEN, CHILDREN]
        assert [g.surge for g in found] == [10, 0, 0]
        assert found[2].sentence.startswith(f"needs {found[2].needed} children's placements")


# --- The coverage study -----------------------------------------------------------------------

OPERATIONS = 200
LEVEL = 0.8
# The true model the histories and the operations are drawn from.
TRUE_SHARE = {WOMAN: 0.62, MAN: 0.28, GIRL: 0.5}
EXPECTED_FOUND = {WOMAN: 60.0, MAN: 35.0, GIRL: 6.0}
REFERRED_IN_HISTORY = {WOMAN: 400, MAN: 300, GIRL: 40}


def true_stays(rng: np.random.Generator, n: int) -> np.ndarray:
    """Lengths of stay in days: log-normal, median about 45 days, a long right tail."""
    return np.maximum(1, np.rint(rng.lognormal(np.log(45), 0.8, n))).astype(np.int64)


def history_from_the_true_model(rng: np.random.Generator) -> dict[Group, GroupHistory]:
    """A year of referrals: each group's referrals, those who needed a place, and their stays,
    a stay begun near the end of the year being still under way (censored at its days so
    far), as the loader would find it."""
    made = {}
    for group, referred in REFERRED_IN_HISTORY.items():
        needed = int(rng.binomial(referred, TRUE_SHARE[group]))
        length = true_stays(rng, needed)
        began = rng.integers(0, 365, needed)
        so_far = 365 - began
        ended = length <= so_far
        made[group] = GroupHistory(
            referred=referred,
            needed_place=needed,
            stays_ended=dict(zip(*np.unique(length[ended], return_counts=True), strict=True)),
            stays_ongoing=dict(zip(*np.unique(so_far[~ended], return_counts=True), strict=True)),
        )
    return made


def need_that_followed(rng: np.random.Generator, days: int, horizon: int) -> dict[str, Any]:
    """The operation as it happened: people found, those needing a place, their stays."""
    occupancy = {WOMEN: np.zeros(horizon + 1, int), MEN: np.zeros(horizon + 1, int)}
    occupancy[CHILDREN] = np.zeros(horizon + 1, int)
    for group, mean in EXPECTED_FOUND.items():
        needing = rng.binomial(rng.poisson(mean), TRUE_SHARE[group])
        start = rng.integers(0, days, needing)
        end = np.minimum(start + true_stays(rng, needing), horizon)
        np.add.at(occupancy[group.kind], start, 1)
        np.add.at(occupancy[group.kind], end, -1)
    return {kind: np.cumsum(counts)[:horizon] for kind, counts in occupancy.items()}


def test_the_interval_covers_the_need_that_followed_in_most_simulated_operations() -> None:
    """200 operations of a week, each forecast (80 % interval, 2,000 draws) from a history
    drawn from the same true model, then played out: how often the realised peak, and the
    realised need on each day, fall within the interval. Printed for ADR 0041."""
    rng = np.random.default_rng(20261202)
    days, weeks_after = 7, 8
    horizon = days + 7 * weeks_after
    peak_hits = {WOMEN: 0, MEN: 0, CHILDREN: 0}
    day_hits = {WOMEN: 0, MEN: 0, CHILDREN: 0}
    for operation in range(OPERATIONS):
        made = forecast(
            EXPECTED_FOUND,
            history_from_the_true_model(rng),
            first_day=FIRST_DAY,
            operation_days=days,
            weeks_after=weeks_after,
            level=LEVEL,
            simulations=2000,
            seed=operation,
        )
        realised = need_that_followed(rng, days, horizon)
        for kind in peak_hits:
            figures = made.kinds[kind]
            peak = int(realised[kind].max())
            peak_hits[kind] += figures.peak.lower <= peak <= figures.peak.upper
            lower, upper = np.array(figures.lower), np.array(figures.upper)
            day_hits[kind] += int(((lower <= realised[kind]) & (realised[kind] <= upper)).sum())
    peak_coverage = {kind: hits / OPERATIONS for kind, hits in peak_hits.items()}
    day_coverage = {kind: hits / (OPERATIONS * horizon) for kind, hits in day_hits.items()}
    print(f"peak coverage {peak_coverage}; per-day coverage {day_coverage}")
    for kind in peak_hits:
        assert 0.7 <= peak_coverage[kind] <= 0.95, (kind, peak_coverage)
        assert 0.7 <= day_coverage[kind] <= 0.97, (kind, day_coverage)


# --- The history, from the deployment's own data ------------------------------------------------

TODAY = date(2027, 2, 1)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def referred(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    def make(
        sex: str, age_group: str, *, day: date = date(2026, 6, 1), area: str = "Testshire"
    ) -> Case:
        made = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=age_group,
            area=area,
            submitted_at=at(day),
        )
        Person.objects.filter(pk=made.person_id).update(sex=sex)
        return made

    return make


@pytest.fixture
def histories(referred: Any, maya: User, provider: Organisation) -> list[Case]:
    """Cases of each group, some with requests placed, unmet, withdrawn; stays ended and
    under way; one case before the lookback, one in an area of another region."""
    north = s.site(maya, provider, region="north_west", area="Testshire", setting="women_only")
    s.site(maya, provider, name="Far House", region="london", area="Farshire", setting="mixed")
    beds = s.beds(maya, north, 4)
    made = []

    def placed(case: Case, bed: Any, arrived: date, ended: date | None) -> None:
        request = s.request(case, status=PlacementRequestStatus.PLACED)
        Placement.objects.create(
            request=request,
            bed=bed,
            status=PlacementStatus.ENDED if ended else PlacementStatus.OCCUPIED,
            proposed_at=at(arrived),
            arrived_on=arrived,
            ended_on=ended,
        )

    for n in range(5):
        woman = referred("female", "adult")
        made.append(woman)
        if n < 3:
            placed(
                woman, beds[0], date(2026, 6, 2), date(2026, 6, 2) + timedelta(days=10 * (n + 1))
            )
    ongoing = referred("female", "adult")
    placed(ongoing, beds[1], date(2027, 1, 2), None)  # 30 days so far
    unmet = referred("female", "adult")
    s.request(unmet, status=PlacementRequestStatus.UNMET)
    withdrawn = referred("female", "adult")
    s.request(withdrawn, status=PlacementRequestStatus.WITHDRAWN)
    for n in range(3):
        man = referred("male", "adult")
        if n == 0:
            placed(man, beds[2], date(2026, 6, 5), date(2026, 6, 12))
    girl = referred("female", "child")
    s.request(girl, status=PlacementRequestStatus.OPEN)
    disputed = referred("unknown", "presumed_child")
    ChildrenServicesTask.objects.create(
        case=disputed,
        kind=TaskKind.ACCOMMODATION,
        area=disputed.area,
        needs=["bed_tonight"],
        due_on=date(2026, 6, 1),
        raised_at=at(date(2026, 6, 1)),
    )
    referred("female", "child")  # no need for a place asked of anyone
    referred("female", "adult", day=date(2023, 1, 1))  # before the three years
    referred("male", "adult", area="Farshire")  # London
    return made


@pytest.mark.django_db
class TestTheHistory:
    def test_counts_equal_an_independent_count(self, histories: list[Case]) -> None:
        found = history.load_history(today=TODAY)
        since = date(2024, 2, 1)  # three years before TODAY
        independent: dict[Group, list[int]] = {}
        for case in Case.objects.filter(submitted_at__date__gte=since).select_related("person"):
            counts = independent.setdefault(Group(case.person.sex, case.age_group), [0, 0])
            counts[0] += 1
            counts[1] += (
                any(
                    r.status != PlacementRequestStatus.WITHDRAWN
                    for r in case.placement_requests.all()
                )
                or case.children_services_tasks.filter(kind=TaskKind.ACCOMMODATION).exists()
            )
        assert {g: [h.referred, h.needed_place] for g, h in found.items()} == independent
        assert independent[WOMAN] == [8, 5]  # 3 placed and ended, 1 under way, 1 unmet
        assert independent[MAN] == [4, 1]
        assert independent[Group("female", "child")] == [2, 1]
        assert independent[Group("unknown", "presumed_child")] == [1, 1]
        assert found[WOMAN].stays_ended == {10: 1, 20: 1, 30: 1}
        assert found[WOMAN].stays_ongoing == {30: 1}
        assert found[MAN].stays_ended == {7: 1}

    def test_a_region_and_a_lookback(self, histories: list[Case]) -> None:
        assert history.default_since(date(2028, 2, 29)) == date(2025, 2, 1)
        assert history.default_since(date(2027, 12, 31)) == date(2024, 12, 1)
        north = history.load_history(region="north_west", today=TODAY)
        assert north[MAN].referred == 3
        london = history.load_history(region="london", today=TODAY)
        assert {g: h.referred for g, h in london.items()} == {MAN: 1}
        everything = history.load_history(since=date(2020, 1, 1), today=TODAY)
        assert everything[WOMAN].referred == 9

    def test_a_few_grouped_queries_whatever_the_number_of_cases(
        self, histories: list[Case], django_assert_num_queries: Any
    ) -> None:
        # Before any morning's count: whether there is one, the cases, the stays.
        with django_assert_num_queries(3):
            history.load_history(today=TODAY)
        operation_services.history_rollup_rebuild(TODAY)
        # Then the months counted ahead too: their referrals, their stays.
        with django_assert_num_queries(5):
            history.load_history(today=TODAY)

    def test_the_months_counted_ahead_give_the_same_history_as_counting_every_case(
        self, histories: list[Case], referred: Any
    ) -> None:
        """The morning's count (ADR 0053) changes where the history is counted, never what:
        with and without it, everywhere and by region, with lookbacks that begin on the first
        of a month, in the middle of one, and in the month of the count."""
        referred("female", "adult", day=date(2026, 6, 17), area="  FARSHIRE ")
        referred("male", "child", day=date(2024, 2, 1))  # the lookback's first day
        referred("male", "child", day=date(2024, 1, 31))  # the day before it
        asks = [
            {"today": TODAY},
            {"today": TODAY, "region": "north_west"},
            {"today": TODAY, "region": "london"},
            {"today": TODAY, "since": date(2026, 6, 1)},
            {"today": TODAY, "since": date(2026, 6, 2)},
            {"today": TODAY, "since": date(2027, 1, 20)},
            {"today": TODAY, "since": date(2020, 1, 1)},
        ]
        counted_now = [history.load_history(**ask) for ask in asks]
        written = operation_services.history_rollup_rebuild(TODAY)
        assert written == HistoryMonth.objects.count() + HistoryStay.objects.count()
        assert HistoryStay.objects.aggregate(Sum("n"))["n__sum"] == 5  # every stay, once
        assert HistoryRollup.objects.get().covers_before == TODAY
        farshire = HistoryMonth.objects.filter(area_key="farshire", month=date(2026, 6, 1))
        # Area keys trimmed and in lower case, as regions' are: "  FARSHIRE " is Farshire.
        assert {(m.sex, m.referred) for m in farshire} == {("female", 1), ("male", 1)}
        assert [history.load_history(**ask) for ask in asks] == counted_now
        # A history as it stood on an earlier day is always counted from the cases themselves.
        HistoryMonth.objects.update(referred=0, needed=0)
        eve = history.load_history(before=date(2026, 6, 2))
        assert eve[WOMAN].referred == 8

    def test_cases_submitted_since_the_morning_count_are_counted_now(
        self, histories: list[Case], referred: Any
    ) -> None:
        operation_services.history_rollup_rebuild(TODAY)
        before = history.load_history(today=TODAY)[WOMAN]
        woman = referred("female", "adult", day=TODAY)
        s.request(woman, status=PlacementRequestStatus.OPEN)
        after = history.load_history(today=TODAY)[WOMAN]
        assert (after.referred, after.needed_place) == (
            before.referred + 1,
            before.needed_place + 1,
        )

    def test_a_request_for_a_case_of_a_counted_month_counts_from_the_next_morning(
        self, histories: list[Case]
    ) -> None:
        """The stated limit of counting ahead: a need raised after the morning's count for a
        case referred before that day waits for the next morning's count; one raised earlier
        the same day is in it."""
        later, earlier = Case.objects.filter(
            person__sex="female", age_group="adult", placement_requests__isnull=True
        ).exclude(submitted_at__lt=at(date(2024, 2, 1)))[:2]
        before = history.load_history(today=TODAY)[WOMAN].needed_place
        with time_machine.travel(timezone.make_aware(datetime.combine(TODAY, time(1))), tick=False):
            s.request(earlier, status=PlacementRequestStatus.OPEN)
        with time_machine.travel(timezone.make_aware(datetime.combine(TODAY, time(6, 30)))):
            operation_services.history_rollup_rebuild(TODAY)
        assert history.load_history(today=TODAY)[WOMAN].needed_place == before + 1
        with time_machine.travel(at(TODAY), tick=False):
            s.request(later, status=PlacementRequestStatus.OPEN)
        assert history.load_history(today=TODAY)[WOMAN].needed_place == before + 1
        operation_services.history_rollup_rebuild(TODAY)
        assert history.load_history(today=TODAY)[WOMAN].needed_place == before + 2

    def test_a_stay_going_on_grows_each_day_after_the_count(self, histories: list[Case]) -> None:
        operation_services.history_rollup_rebuild(TODAY)
        ten_days_on = TODAY + timedelta(days=10)
        assert history.load_history(today=ten_days_on)[WOMAN].stays_ongoing == {40: 1}
        assert HistoryStay.objects.get(ongoing=True).days == 30

    def test_the_morning_task_counts_ahead_before_it_checks_the_operations(
        self, histories: list[Case]
    ) -> None:
        from opennrm.operations.tasks import check_operation_shortfalls

        with time_machine.travel(at(TODAY), tick=False):
            result = check_operation_shortfalls.call(reschedule=False)
        assert HistoryStay.objects.count() == 5  # the five stays, each its own length
        assert result["history_rows_counted"] == HistoryMonth.objects.count() + 5
        assert HistoryRollup.objects.get().covers_before == TODAY

    def test_free_places_by_kind_through_the_capacity_rules(
        self, maya: User, provider: Organisation
    ) -> None:
        women = s.site(maya, provider, name="W", region="north_west", setting="women_only")
        s.beds(maya, women, 3)
        mixed = s.site(maya, provider, name="X", region="london", setting="mixed")
        s.beds(maya, mixed, 2)
        children = s.site(
            maya, provider, name="C", region="london", setting="mixed", ages="children"
        )
        s.beds(maya, children, 4)
        assert history.free_places(today=TODAY) == {WOMEN: 5, MEN: 2, MIXED: 2}
        assert history.free_places(region="north_west", today=TODAY) == {WOMEN: 3, MEN: 0, MIXED: 0}


@pytest.mark.django_db
def test_an_operations_forecast_and_its_gaps_from_the_stored_history(
    histories: list[Case], maya: User, provider: Organisation
) -> None:
    """The history above (5 of 8 women needed a place) and 3 free women-only beds left of the
    4 (one is lived in): 40 women expected need far more than 3 free and 5 surge places."""
    planned = history.operation_forecast(
        expected_by_group([("female", "adult", 30), ("female", "adult", 10), ("male", "child", 2)]),
        first_day=TODAY,
        operation_days=3,
        surge={WOMEN: 5},
        today=TODAY,
    )
    made, found = planned.forecast, planned.gaps
    assert planned.free == {WOMEN: 3, MEN: 0, MIXED: 0}
    assert [g.kind for g in found] == [WOMEN, MEN, MIXED]
    women = found[0]
    assert planned.adults.short == women.short  # no mixed bed to share
    assert (women.free, women.surge) == (3, 5)
    assert women.needed == max(made.kinds[WOMEN].upper) > 8
    assert women.sentence == (
        f"needs {women.needed} women's places, 3 free, 5 surge places agreed: "
        f"{women.needed - 8} short"
    )
    assert set(made.kinds[MEN].upper) == {0}  # the boy is a child: no men's bed
    assert max(made.kinds[CHILDREN].upper) > 0


# --- On the operation's page ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.page("operations:detail")
def test_the_operation_page_shows_the_places_needed_against_those_free(
    histories: list[Case], alice: User, northmoor_police: Organisation
) -> None:
    """The page's figures are the forecast's own, a shortfall is warned of, and a child of the
    operation is counted as a children's placement, never as an adult bed."""
    planned = operation_helpers.operation(
        alice,
        northmoor_police,
        region="north_west",
        starts_on=TODAY + timedelta(days=7),
        ends_on=TODAY + timedelta(days=9),
        expected={("female", "adult", "sexual"): 40, ("male", "age_disputed", "labour"): 2},
    )
    url = reverse("operations:detail", args=[planned.id])
    with time_machine.travel(at(TODAY), tick=False):
        client = factories.signed_in_client(alice)
        assert client.post(url).status_code == 405
        page = client.get(url).content.decode()
        beds = operation_selectors.operation_bed_forecast(planned)
    assert beds is not None
    women = next(g for g in beds.gaps if g.kind == WOMEN)
    assert women.short > 0
    assert "Places needed" in page
    assert "are not enough for the forecast" in page
    assert women.sentence.replace("'", "&#39;") in page
    assert set(beds.forecast.kinds[MEN].upper) == {0}  # the boys' ages are disputed
    assert max(beds.forecast.kinds[CHILDREN].upper) > 0
    assert "Places needed day by day" in page


@pytest.mark.django_db
def test_the_operation_page_says_why_there_is_no_forecast_without_any_stay(
    alice: User, northmoor_police: Organisation
) -> None:
    planned = operation_helpers.operation(alice, northmoor_police)
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        page = (
            factories.signed_in_client(alice)
            .get(reverse("operations:detail", args=[planned.id]))
            .content.decode()
        )
    assert "No forecast: No placement in the history has begun" in page


# --- Warning of a shortfall (operations.gap_warning) --------------------------------------------


def _warnings() -> Any:
    return Notification.objects.filter(kind="operations.short_of_places").order_by("pk")


def _told(since: int = 0) -> set[str]:
    return {n.recipient.email for n in _warnings().filter(pk__gt=since).select_related("recipient")}


def _last() -> int:
    return _warnings().values_list("pk", flat=True).last() or 0


def _women(operation: Operation) -> Any:
    """The women's gap as the operation's page shows it now."""
    beds = operation_selectors.operation_bed_forecast(operation)
    assert beds is not None
    return next(g for g in beds.gaps if g.kind == WOMEN)


def _plan(alice: User, lead: Organisation, women: int, **changes: Any) -> Operation:
    values: dict[str, Any] = {
        "region": "north_west",
        "starts_on": TODAY + timedelta(days=7),
        "ends_on": TODAY + timedelta(days=9),
        "expected": {("female", "adult", "sexual"): women},
        "confidential": False,
    }
    return operation_helpers.operation(alice, lead, **(values | changes))


def _change(alice: User, operation: Operation, women: int) -> None:
    operation_services.operation_change(
        by=alice,
        operation=operation,
        name=operation.name,
        confidential=operation.confidential,
        starts_on=operation.starts_on,
        ends_on=operation.ends_on,
        region=operation.region,
        expected={("female", "adult", "sexual"): women},
        languages=[],
    )


@pytest.mark.django_db
def test_a_shortfall_is_warned_to_the_lead_and_the_invited_coordinators_and_nobody_else(
    histories: list[Case],
    alice: User,
    bob: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
) -> None:
    """The planners of the lead are told when it is planned; a support provider's coordinators
    when it is invited (a shortfall stands), and with the lead when the shortfall changes. Not
    the provider's safe-house manager, not the lead's administrator, not an uninvited
    provider's coordinator."""
    admin = factories.user(organisation=northmoor_police, role=Role.ORGANISATION_ADMIN)
    elsewhere = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    ursula = factories.user(organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    with time_machine.travel(at(TODAY), tick=False):
        planned = _plan(alice, northmoor_police, women=40)
        women = _women(planned)
        assert women.short > 0
        assert _told() == {alice.email, bob.email}
        [warning, _] = _warnings()
        assert warning.subject == "Operation Larkspur: short of places"
        assert warning.body == f"Operation Larkspur: {women.sentence}"
        assert warning.body.startswith("Operation Larkspur: needs ")
        assert warning.body.endswith(f"{women.short} short")
        planned.refresh_from_db()
        assert planned.gap_warned == {WOMEN: women.short}
        event = AuditEvent.objects.get(action="operation.planned")
        assert event.detail["told_of_shortfall"] == 2

        last = _last()
        operation_services.operation_partner_invite(
            by=alice, operation=planned, organisation=provider, role="support_provider"
        )
        assert _told(last) == {cora.email}

        last = _last()
        _change(alice, planned, women=50)
        assert _women(planned).short > women.short
        assert _told(last) == {alice.email, bob.email, cora.email}
    everyone = {n.recipient_id for n in _warnings()}
    assert not everyone & {maya.pk, admin.pk, ursula.pk}


@pytest.mark.django_db
def test_the_same_shortfall_is_not_warned_of_twice_nor_enough_places_at_all(
    histories: list[Case],
    alice: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
) -> None:
    with time_machine.travel(at(TODAY), tick=False):
        planned = _plan(alice, northmoor_police, women=40)
        last = _last()
        # Saved again with the same figures: the same shortfall, nobody told.
        _change(alice, planned, women=40)
        assert _told(last) == set()
        # Plenty of free women's places in the region: no shortfall, no warning.
        roomy = s.site(maya, provider, region="north_west")
        for _ in range(4):
            s.beds(maya, roomy, 20)
        enough = _plan(alice, northmoor_police, women=2, name="Operation Teasel")
        assert _women(enough).short == 0
        assert _told(last) == set()
        enough.refresh_from_db()
        assert enough.gap_warned == {}


@pytest.mark.django_db
def test_surge_places_that_narrow_the_gap_warn_again_and_those_that_close_it_do_not(
    histories: list[Case],
    alice: User,
    bob: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
) -> None:
    with time_machine.travel(at(TODAY), tick=False):
        planned = _plan(alice, northmoor_police, women=20)
        operation_services.operation_partner_invite(
            by=alice, operation=planned, organisation=provider, role="support_provider"
        )
        before = _women(planned)
        site = s.site(maya, provider, region="north_west", name="Surge House")
        s.beds(maya, site, 1)

        def add(places: int) -> Any:
            return surge.surge_add(
                by=cora,
                operation=planned,
                provider=provider,
                site=site,
                places=places,
                starts_on=planned.starts_on,
                ends_on=planned.ends_on,
            )

        # Two surge places: the gap narrows (and a bed free at the new site), so the new figure
        # is warned of, naming the places agreed.
        last = _last()
        add(2)
        narrowed = _women(planned)
        assert 0 < narrowed.short < before.short
        assert _told(last) == {alice.email, bob.email, cora.email}
        assert _warnings().last().body == f"Operation Larkspur: {narrowed.sentence}"
        assert "2 surge places agreed" in narrowed.sentence
        # Enough surge places to close it: nobody is warned again.
        last = _last()
        closing = add(narrowed.short)
        assert _women(planned).short == 0
        assert _told(last) == set()
        planned.refresh_from_db()
        assert planned.gap_warned == {}
        # Those places ended: the shortfall is back, and warned of.
        surge.surge_end(by=cora, surge=closing)
        assert _women(planned).short == narrowed.short
        assert _told(last) == {alice.email, bob.email, cora.email}


@pytest.mark.django_db
def test_a_secret_operations_warning_names_no_operation(
    histories: list[Case], alice: User, northmoor_police: Organisation
) -> None:
    """It is e-mailed: before a confidential operation starts, only the figures and where to
    look (ADR 0039)."""
    with time_machine.travel(at(TODAY), tick=False):
        planned = _plan(alice, northmoor_police, women=40, confidential=True)
        women = _women(planned)
    warning = _warnings().first()
    assert warning is not None
    assert "Larkspur" not in warning.subject + warning.body
    assert warning.subject == "A confidential operation is short of places"
    assert warning.body.startswith(f"A confidential operation: {women.sentence}\n")
    assert warning.url == reverse("operations:detail", args=[planned.pk])


@pytest.mark.django_db
def test_the_morning_check_warns_of_a_shortfall_that_opened_with_no_write_to_the_operation(
    histories: list[Case],
    alice: User,
    bob: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
) -> None:
    """Found in review: the warning came only when the operation or its places were saved, so
    beds filling up or going out of service before the raid warned nobody."""
    from opennrm.accommodation.models import Bed
    from opennrm.operations.gap_warning import gap_check

    with time_machine.travel(at(TODAY), tick=False):
        roomy = s.site(maya, provider, region="north_west")
        for _ in range(4):
            s.beds(maya, roomy, 20)
        planned = _plan(alice, northmoor_police, women=10)
        operation_services.operation_partner_invite(
            by=alice, operation=planned, organisation=provider, role="support_provider"
        )
        cancelled = _plan(alice, northmoor_police, women=2, name="Operation Teasel")
        operation_services.operation_cancel(by=alice, operation=cancelled)
        assert _women(planned).short == 0
        last = _last()
        assert gap_check(TODAY).operations_warned == 0
        assert _told(last) == set()

        # The provider's beds go out of service: no write to either operation.
        Bed.objects.filter(room__site=roomy).update(out_of_service_since=at(TODAY))
        assert _women(planned).short > 0
        result = gap_check(TODAY)
    assert (result.operations_checked, result.operations_warned) == (1, 1)
    assert _told(last) == {alice.email, bob.email, cora.email}
    assert result.people_told == 3
    (event,) = AuditEvent.objects.filter(action="operations.shortfall_warned")
    assert event.object_id == str(planned.pk)
    assert event.actor_id is None
    assert event.detail == {"told_of_shortfall": 3, "short": {WOMEN: _women(planned).short}}
    # The next morning, the same shortfall: nobody told again, no event.
    with time_machine.travel(at(TODAY), tick=False):
        last = _last()
        assert gap_check(TODAY).operations_warned == 0
    assert _told(last) == set()
    assert AuditEvent.objects.filter(action="operations.shortfall_warned").count() == 1
