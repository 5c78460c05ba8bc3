"""How many beds an enforcement operation will need, each day of the operation and the weeks
after it, with an interval; and the gap against the beds free now. Pure code, no Django: the
expected numbers and the deployment's history in (`operations.history` loads it), figures out.
ADR 0041 records the method and the coverage measured.

## Who needs which kind of place

People are grouped by sex and age group (`Group`: the values of `cases.choices.Sex` and
`AgeGroup`). The kind of place a group needs follows `accommodation.services.settings_for`
and `accommodation.matching`'s AGE constraint:

- a child, or someone whose age is disputed (treated as a child until assessed), never needs
  an adult's bed: the local authority places them, so they are forecast as "children's
  placements" (`CHILDREN`), never as safe-house beds;
- an adult woman needs a women's place (a women-only or a mixed bed: `WOMEN`), an adult man a
  men's place (men-only or mixed: `MEN`), and an adult of another or unknown sex a place in a
  mixed setting (`MIXED`).

The free figure of `WOMEN` and `MEN` both count the free mixed beds (they are free to either),
so the gaps of the kinds are each right on their own and must not be added up: `adults_gap`
gives the adults' shortfall with each free bed counted once.

## The model, exactly

`forecast` runs `simulations` (default 10,000) Monte Carlo draws with one seeded
`numpy.random.Generator`. In each draw, for each group g:

1. People found: N_g ~ Poisson(expected_g) (`found="poisson"`, the default: the expected
   number is an estimate), or N_g = expected_g rounded (`found="exact"`).
2. The share needing accommodation: p_g ~ Beta(1 + s_g, 1 + f_g), the posterior of a uniform
   prior after the history's s_g people who needed a place out of s_g + f_g referred (a group
   with no history gets the uniform Beta(1, 1): a wide interval, honestly). This draw carries
   the uncertainty about the share; then M_g ~ Binomial(N_g, p_g) people need a place.
3. The day each of them is found: uniform over the operation's days (the default), or drawn
   from the shares per day given (`day_shares`). A person needs a place from the day found.
4. Each person's length of stay L (whole days, at least 1) is drawn independently from the
   group's stay distribution: the Kaplan-Meier estimate from the history's stays, where a stay
   still going on counts as lasting at least its days so far (right-censored), so ongoing
   stays neither vanish nor shorten the estimate. The mass the estimate leaves beyond the
   longest stay seen is put on that longest stay (the forecast is then a lower bound for the
   longest stays; the horizon usually ends first). A group with fewer than `MIN_STAYS` stays
   uses the stays of every group pooled.
5. Occupancy on day d = the number of people whose stay covers d: found on day t with length
   L, a person occupies days t, t+1, ..., t+L-1.

Each kind's occupancy is the sum over its groups. The figures per day are quantiles over the
draws: the median and the interval [q(a), q(1-a)] with a = (1 - level) / 2, taken with
`inverted_cdf` so that each is a value some draw had (a whole number of beds) and the interval
holds at least `level` of the draws. The peak is each draw's largest occupancy over the
horizon, summarised the same way.

Vectorised: the people of all draws are drawn at once (one array each of draw, day and stay;
the day and the stay by Walker's alias method, constant time a person), and each kind's
occupancy is a difference array (+1 on the first day, -1 after the last) built by two
`bincount`s and summed by one `cumsum`; no Python loop over draws, people or days.

## The gap

`gap` compares a kind's forecast with the places free now and the surge places agreed. The
figure needed is the **upper end of the interval on the day it is highest** (by default the
90th percentile of that day's occupancy): the number that, with the given level, is enough on
every single day. Per day, the shortfall is max(0, upper_d - free - surge). It assumes the
free places stay free for the operation (no other referral takes them, no resident leaves).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import numpy as np

# The kinds of place (the keys of a forecast's figures).
WOMEN = "women"
MEN = "men"
MIXED = "mixed"
CHILDREN = "children"
KINDS = (WOMEN, MEN, MIXED, CHILDREN)
KIND_PHRASES = {
    WOMEN: "women's places",
    MEN: "men's places",
    MIXED: "places in a mixed setting",
    CHILDREN: "children's placements",
}

ADULT = "adult"
DEFAULT_WEEKS_AFTER = 8
DEFAULT_LEVEL = 0.8
DEFAULT_SIMULATIONS = 10_000
MIN_STAYS = 20  # fewer stays than this in a group: use every group's stays


@dataclass(frozen=True)
class Group:
    """People of one sex (`cases.choices.Sex`) and age group (`cases.choices.AgeGroup`)."""

    sex: str
    age_group: str

    @property
    def kind(self) -> str:
        """The kind of place this group needs: children and people whose age is disputed are
        never counted as adults."""
        if self.age_group != ADULT:
            return CHILDREN
        if self.sex == "female":
            return WOMEN
        if self.sex == "male":
            return MEN
        return MIXED


def expected_by_group(rows: Iterable[tuple[str, str, float]]) -> dict[Group, float]:
    """(sex, age group, number expected) rows, such as an operation's expected groups split
    further by exploitation type, summed per `Group`."""
    summed: dict[Group, float] = {}
    for sex, age_group, number in rows:
        group = Group(sex, age_group)
        summed[group] = summed.get(group, 0.0) + float(number)
    return summed


@dataclass(frozen=True)
class GroupHistory:
    """What the deployment's history says of one group.

    `referred` people were referred, of whom `needed_place` needed accommodation (for an
    adult, a placement request; for a child, the local authority asked for a place:
    `operations.history`). `stays_ended` counts the placements that ended by their length
    in days; `stays_ongoing` those still going on by their days so far."""

    referred: int = 0
    needed_place: int = 0
    stays_ended: Mapping[int, int] = field(default_factory=dict)
    stays_ongoing: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.referred < 0 or self.needed_place < 0:
            raise ValueError("the history's counts must not be negative")
        if self.needed_place > self.referred:
            raise ValueError(
                f"{self.needed_place} people needing a place out of {self.referred} referred: "
                "more than were referred"
            )
        for stays in (self.stays_ended, self.stays_ongoing):
            if any(days < 0 or n < 0 for days, n in stays.items()):
                raise ValueError("lengths of stay and their counts must not be negative")

    @property
    def stay_count(self) -> int:
        return sum(self.stays_ended.values()) + sum(self.stays_ongoing.values())


class NoStays(ValueError):
    """The history holds no stay at all (a new deployment): the page says so, no figure."""


@dataclass(frozen=True)
class Band:
    """The median and the interval of one figure over the draws."""

    median: int
    lower: int
    upper: int


@dataclass(frozen=True)
class KindForecast:
    kind: str
    median: tuple[int, ...]  # per day of the horizon
    lower: tuple[int, ...]
    upper: tuple[int, ...]
    peak: Band  # each draw's largest occupancy over the horizon

    @property
    def peak_day_index(self) -> int:
        """The day whose upper end is highest (the first such day)."""
        return int(np.argmax(self.upper)) if self.upper else 0


@dataclass(frozen=True)
class Forecast:
    first_day: date
    operation_days: int
    level: float
    simulations: int
    kinds: dict[str, KindForecast]

    @property
    def days(self) -> list[date]:
        horizon = len(next(iter(self.kinds.values())).median) if self.kinds else 0
        return [self.first_day + timedelta(days=n) for n in range(horizon)]


def stay_distribution(history: GroupHistory) -> tuple[np.ndarray, np.ndarray]:
    """The lengths of stay (days, at least 1) and their probabilities: the Kaplan-Meier
    estimate, ongoing stays right-censored at their days so far; the mass left beyond the
    longest stay seen goes to that longest stay."""
    ended = {max(1, d): 0 for d in history.stays_ended} | {
        max(1, d): 0 for d in history.stays_ongoing
    }
    ongoing = dict(ended)
    for d, n in history.stays_ended.items():
        ended[max(1, d)] += n
    for d, n in history.stays_ongoing.items():
        ongoing[max(1, d)] += n
    lengths = np.array(sorted(ended), dtype=np.int64)
    if lengths.size == 0 or not history.stay_count:
        raise NoStays(
            "No placement in the history has begun, so how long people stay cannot be "
            "estimated: the forecast needs at least one stay"
        )
    events = np.array([ended[d] for d in lengths], dtype=np.float64)
    censored = np.array([ongoing[d] for d in lengths], dtype=np.float64)
    # At risk at length d: every stay of length d or more (ended or still going on).
    at_risk = np.cumsum((events + censored)[::-1])[::-1]
    survival = np.cumprod(
        1.0 - np.divide(events, at_risk, where=at_risk > 0, out=np.zeros_like(events))
    )
    before = np.concatenate(([1.0], survival[:-1]))
    probabilities = before - survival
    probabilities[-1] += survival[-1]  # what is left, on the longest stay seen
    keep = probabilities > 0
    return lengths[keep], probabilities[keep] / probabilities[keep].sum()


def forecast(
    expected: Mapping[Group, float],
    history: Mapping[Group, GroupHistory],
    *,
    first_day: date,
    operation_days: int,
    weeks_after: int = DEFAULT_WEEKS_AFTER,
    day_shares: Sequence[float] | None = None,
    level: float = DEFAULT_LEVEL,
    simulations: int = DEFAULT_SIMULATIONS,
    found: Literal["poisson", "exact"] = "poisson",
    seed: int = 0,
) -> Forecast:
    """The places needed per kind, each day from `first_day` for the operation's days and
    `weeks_after` weeks more: median and interval at `level` (module docstring: the model)."""
    draws = simulate(
        expected,
        history,
        operation_days=operation_days,
        weeks_after=weeks_after,
        day_shares=day_shares,
        simulations=simulations,
        found=found,
        seed=seed,
    )
    return summarise(draws, first_day=first_day, operation_days=operation_days, level=level)


def simulate(
    expected: Mapping[Group, float],
    history: Mapping[Group, GroupHistory],
    *,
    operation_days: int,
    weeks_after: int = DEFAULT_WEEKS_AFTER,
    day_shares: Sequence[float] | None = None,
    simulations: int = DEFAULT_SIMULATIONS,
    found: Literal["poisson", "exact"] = "poisson",
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Each kind's occupancy in each draw: an array (simulations, horizon days) of counts."""
    _check(expected, operation_days, weeks_after, simulations, found)
    days = _Sampler(_day_shares(day_shares, operation_days))
    horizon = operation_days + 7 * weeks_after
    rng = np.random.default_rng(seed)
    pooled = _pooled(history)
    firsts: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
    afters: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
    for group in sorted(expected, key=lambda g: (g.sex, g.age_group)):
        mean = float(expected[group])
        if found == "poisson":
            people = rng.poisson(mean, simulations)
        else:
            people = np.full(simulations, round(mean), dtype=np.int64)
        past = history.get(group, GroupHistory())
        share = rng.beta(1 + past.needed_place, 1 + past.referred - past.needed_place, simulations)
        needing = rng.binomial(people, share)
        total = int(needing.sum())
        if total == 0:
            continue
        lengths, probabilities = stay_distribution(
            past if past.stay_count >= MIN_STAYS or pooled is None else pooled
        )
        # Each person's draw, first day and stay; in the flat (draw, day) index of a
        # difference array one day longer than the horizon: +1 on the first day, -1 after the
        # last (or on the extra day, for a stay beyond the horizon).
        row = np.repeat(np.arange(simulations, dtype=np.int64) * (horizon + 1), needing)
        start = days.draw(rng, total)
        stay = lengths[_Sampler(probabilities).draw(rng, total)]
        firsts[group.kind].append(row + start)
        afters[group.kind].append(row + np.minimum(start + stay, horizon))
    size = simulations * (horizon + 1)
    occupancy = {}
    for kind in KINDS:
        change = np.zeros(size, dtype=np.int64)
        if firsts[kind]:
            change += np.bincount(np.concatenate(firsts[kind]), minlength=size)
            change -= np.bincount(np.concatenate(afters[kind]), minlength=size)
        occupancy[kind] = np.cumsum(change.reshape(simulations, horizon + 1), axis=1)[:, :horizon]
    return occupancy


def _check(
    expected: Mapping[Group, float],
    operation_days: int,
    weeks_after: int,
    simulations: int,
    found: str,
) -> None:
    if operation_days < 1:
        raise ValueError("an operation lasts at least one day")
    if weeks_after < 0:
        raise ValueError("the weeks after the operation must not be negative")
    if simulations < 1:
        raise ValueError("at least one simulation is needed")
    if found not in ("poisson", "exact"):
        raise ValueError(f"found must be 'poisson' or 'exact', not {found!r}")
    for group, n in expected.items():
        if not np.isfinite(n) or n < 0:
            raise ValueError(f"the expected number of {group} must be zero or more, not {n!r}")


class _Sampler:
    """Draws indices with the given probabilities in constant time each: Walker's alias
    method (Vose's construction), exact for the probabilities as floating point holds them."""

    def __init__(self, probabilities: np.ndarray) -> None:
        n = len(probabilities)
        scaled = np.asarray(probabilities, dtype=np.float64) * n / np.sum(probabilities)
        self.keep = np.ones(n)
        self.alias = np.arange(n)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            lo, hi = small.pop(), large.pop()
            self.keep[lo] = scaled[lo]
            self.alias[lo] = hi
            scaled[hi] -= 1.0 - scaled[lo]
            (small if scaled[hi] < 1.0 else large).append(hi)
        # A column left in either list holds (up to rounding) exactly its share: it keeps 1.
        self.uniform = bool(np.all(self.keep == 1.0))  # the alias is then never taken

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        column = rng.integers(0, len(self.keep), size)
        if self.uniform:
            return column
        return np.where(rng.random(size) < self.keep[column], column, self.alias[column])


def summarise(
    draws: Mapping[str, np.ndarray], *, first_day: date, operation_days: int, level: float
) -> Forecast:
    """The median and the interval at `level` of each kind's occupancy, per day and at peak."""
    if not 0 < level < 1:
        raise ValueError(f"the interval's level must be between 0 and 1, not {level!r}")
    tail = (1 - level) / 2
    quantiles = [0.5, tail, 1 - tail]
    kinds = {}
    simulations = 0
    for kind, occupancy in draws.items():
        simulations = occupancy.shape[0]
        median, lower, upper = np.quantile(occupancy, quantiles, axis=0, method="inverted_cdf")
        peak = np.quantile(occupancy.max(axis=1), quantiles, method="inverted_cdf")
        kinds[kind] = KindForecast(
            kind=kind,
            median=tuple(int(v) for v in median),
            lower=tuple(int(v) for v in lower),
            upper=tuple(int(v) for v in upper),
            peak=Band(int(peak[0]), int(peak[1]), int(peak[2])),
        )
    return Forecast(first_day, operation_days, level, simulations, kinds)


def _day_shares(day_shares: Sequence[float] | None, operation_days: int) -> np.ndarray:
    if day_shares is None:
        return np.full(operation_days, 1.0 / operation_days)
    shares = np.asarray(day_shares, dtype=np.float64)
    if shares.shape != (operation_days,):
        raise ValueError(
            f"one share per day of the operation is needed: {operation_days} days, "
            f"{shares.size} shares given"
        )
    if not np.isfinite(shares).all() or (shares < 0).any() or shares.sum() <= 0:
        raise ValueError("the shares per day must be zero or more, and not all zero")
    return shares / shares.sum()


def _pooled(history: Mapping[Group, GroupHistory]) -> GroupHistory | None:
    """Every group's stays together, for a group with too few of its own."""
    ended: dict[int, int] = {}
    ongoing: dict[int, int] = {}
    for past in history.values():
        for d, n in past.stays_ended.items():
            ended[d] = ended.get(d, 0) + n
        for d, n in past.stays_ongoing.items():
            ongoing[d] = ongoing.get(d, 0) + n
    pooled = GroupHistory(stays_ended=ended, stays_ongoing=ongoing)
    return pooled if pooled.stay_count else None


# --- The gap ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """A kind's need against the places free now and the surge places agreed."""

    kind: str
    needed: int  # the upper end of the interval on the day it is highest
    peak_day: date
    free: int
    surge: int
    shortfall_by_day: tuple[int, ...]  # max(0, upper end that day - free - surge)

    @property
    def short(self) -> int:
        return max(self.shortfall_by_day, default=0)

    @property
    def sentence(self) -> str:
        """ "needs 43 women's places, 8 free, 10 surge places agreed: 25 short" """
        places = KIND_PHRASES[self.kind]
        surge = "1 surge place" if self.surge == 1 else f"{self.surge} surge places"
        outcome = f"{self.short} short" if self.short else "enough"
        return f"needs {self.needed} {places}, {self.free} free, {surge} agreed: {outcome}"


def gap(forecast: Forecast, kind: str, *, free: int, surge: int = 0) -> Gap:
    """The shortfall of one kind each day and at its worst (module docstring: the gap)."""
    if free < 0 or surge < 0:
        raise ValueError("free and surge places must not be negative")
    figures = forecast.kinds[kind]
    peak = figures.peak_day_index
    return Gap(
        kind=kind,
        needed=figures.upper[peak] if figures.upper else 0,
        peak_day=forecast.first_day + timedelta(days=peak),
        free=free,
        surge=surge,
        shortfall_by_day=tuple(max(0, upper - free - surge) for upper in figures.upper),
    )


def gaps(
    forecast: Forecast, free: Mapping[str, int], surge: Mapping[str, int] | None = None
) -> list[Gap]:
    """The gap of each kind with a free figure given, in `KINDS` order."""
    surge = surge or {}
    return [
        gap(forecast, kind, free=free[kind], surge=surge.get(kind, 0))
        for kind in KINDS
        if kind in free and kind in forecast.kinds
    ]


@dataclass(frozen=True)
class AdultsGap:
    """All adults' need against the free places, each free bed counted once: the kinds' own
    gaps each count the free mixed beds, which either women or men can take, but not both."""

    needed: int  # the largest, over the days, of the kinds' upper ends added up
    free: int  # free beds, each once: women-only, men-only and mixed
    surge: int
    shortfall_by_day: tuple[int, ...]

    @property
    def short(self) -> int:
        return max(self.shortfall_by_day, default=0)

    @property
    def sentence(self) -> str:
        """ "in all, adults need 52 places, 12 free, 10 surge places agreed: 33 short" """
        surge = "1 surge place" if self.surge == 1 else f"{self.surge} surge places"
        outcome = f"{self.short} short" if self.short else "enough"
        return (
            f"in all, adults need {self.needed} places, {self.free} free, {surge} agreed: {outcome}"
        )


def adults_gap(
    forecast: Forecast, free: Mapping[str, int], surge: Mapping[str, int] | None = None
) -> AdultsGap:
    """The adults' shortfall each day with each free bed counted once.

    `free` is as `operations.history.free_places` gives it: the beds a woman can take
    (women-only and mixed), a man (men-only and mixed) and anyone (mixed only). So women-only
    = free[WOMEN] - free[MIXED], men-only = free[MEN] - free[MIXED], mixed = free[MIXED]; each
    kind's surge places are of that kind's setting. Women fill women-only places first, men
    men-only ones, and what is left of each, with the people needing a mixed setting, share
    the mixed places: as mixed places can take anyone, no placement does better, so each day

        short = max(0, max(0, women - women-only) + max(0, men - men-only) + mixed need
                       - mixed places)

    with each need the upper end of its interval that day (the kinds' own figures)."""
    surge = surge or {}
    mixed = free.get(MIXED, 0)
    women_only = free.get(WOMEN, 0) - mixed + surge.get(WOMEN, 0)
    men_only = free.get(MEN, 0) - mixed + surge.get(MEN, 0)
    shared = mixed + surge.get(MIXED, 0)
    if min(women_only, men_only, mixed) < 0:
        raise ValueError("free places for women or men must include the free mixed places")
    women, men, anyone = (np.array(forecast.kinds[kind].upper) for kind in (WOMEN, MEN, MIXED))
    left = np.maximum(0, women - women_only) + np.maximum(0, men - men_only) + anyone - shared
    return AdultsGap(
        needed=int((women + men + anyone).max(initial=0)),
        free=free.get(WOMEN, 0) + free.get(MEN, 0) - mixed,
        surge=sum(surge.get(kind, 0) for kind in (WOMEN, MEN, MIXED)),
        shortfall_by_day=tuple(int(v) for v in np.maximum(0, left)),
    )
