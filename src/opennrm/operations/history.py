"""The deployment's own history, as `operations.forecast` needs it, and the places free now.

Counted in the database, a few grouped queries however many cases are stored (a national system
has a million), returning a few hundred rows; nothing here reads a person's details. The counts
of referrals of past months are read from `HistoryMonth`, which the morning task counts ahead
(`services.history_rollup_rebuild`, ADR 0053): counting a million cases with their people took
PostgreSQL two seconds, over the forecast's whole budget. Today's cases and those of a
lookback's first, partial month are counted as the forecast is made; so is everything before the
first morning's count, and the history as it stood on an earlier day (`before`).

- People referred and people who needed a place, by sex (`Person.sex`) and age group: the
  cases submitted since `since` (default: the first of the month three years before today's),
  and of those the cases with a placement request that was not withdrawn (a request is raised when the referral's
  immediate needs ask for a bed, or by a coordinator; a request closed unmet, with its
  `UnmetNeed` rows, was a need all the same, and so is one placed), or, for a child or a
  person whose age is disputed, an accommodation task for the local authority
  (`safeguarding.ChildrenServicesTask`: children are never placed by adult matching).
- Lengths of stay, by sex, age group and length in days: each placement of those cases that
  began (`arrived_on`): an ended one lasted `ended_on - arrived_on` days; one still lived in
  has lasted `today - arrived_on` days so far, and the forecast treats it as censored there.
  A person moved from one place to another has two stays (an assumption: ADR 0041).
- Children's placements are the local authority's and their lengths are not recorded here, so
  children's groups have no stays of their own and the forecast uses every group's stays for
  them (`forecast.MIN_STAYS`): an assumption ADR 0041 states.
- Region: a case is in a region when its local authority area is the area of a site in that
  region (`accommodation.selectors.regions_of_areas`, as the unmet-need figures place people).
- `before`: the history as recorded before a day began (the operation report makes the
  forecast again as on the eve of the operation, ADR 0045).

The places free now come from `statistics.capacity.how_many_more`: the free beds
`accommodation.matching.check` allows for a woman, a man, or anyone in a mixed setting, the
same rules as matching and placing by hand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models import Case as DbCase
from django.db.models.functions import Coalesce, Lower, Replace, Trim, TruncMonth
from django.utils import timezone

from opennrm.accommodation.models import (
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
)
from opennrm.accommodation.selectors import regions_of_areas
from opennrm.cases.models import Case
from opennrm.safeguarding.models import ChildrenServicesTask, TaskKind
from opennrm.statistics.capacity import Question, free_groups, how_many_more

from . import forecast as model
from .forecast import MEN, MIXED, WOMEN, Group, GroupHistory
from .models import HistoryMonth, HistoryRollup, HistoryStay

LOOKBACK_YEARS = 3
# The places free for each adult kind, as `statistics.capacity` asks for them.
WHO_BY_KIND = {WOMEN: "woman", MEN: "man", MIXED: "anyone"}


def default_since(today: date) -> date:
    """The first day of the month `LOOKBACK_YEARS` years before today's: whole months, so
    that all but today's referrals are read from the morning's count (ADR 0053)."""
    return date(today.year - LOOKBACK_YEARS, today.month, 1)


@dataclass(frozen=True)
class Among:
    """Which cases the history counts: submitted since `since` (from the start of that day
    here; None: ever), in the local authority areas of `region` if one is given."""

    since: date | None
    areas: tuple[str, ...] | None = None  # by `area_key`; None: anywhere
    # The history as it stood before the start of this day (the operation report's forecast,
    # made again as on the eve of the operation): None for everything recorded.
    before: date | None = None
    # Only the cases submitted before this day, with everything recorded of them until now
    # (the morning's count ahead: `counted_ahead`).
    submitted_before: date | None = None
    # Left out: the cases of the months the morning's count holds, read there instead.
    ahead: Ahead | None = None

    def applied(self, rows: QuerySet[Any], to: str = "") -> QuerySet[Any]:
        """`rows` narrowed to those whose case (`to`: the path to it, "" for cases) counts: on
        the case's own columns, joined once, never an IN over every case."""
        # Ranges on the column itself, which its index serves.
        submitted = f"{to}submitted_at"
        if self.ahead is not None:
            # Disjoint ranges, each whole: the planner estimates "since <= t AND (t < first OR
            # t >= after)" as if the two were unrelated, guesses a fifth of every case for what
            # are today's, and compiles the query (JIT) for most of a second.
            counted_now = Q(**{f"{submitted}__gte": _start_of(self.ahead.covers_before)})
            if self.since is not None and self.since < self.ahead.first:
                counted_now |= Q(
                    **{
                        f"{submitted}__gte": _start_of(self.since),
                        f"{submitted}__lt": _start_of(self.ahead.first),
                    }
                )
            rows = rows.filter(counted_now)
        elif self.since is not None:
            rows = rows.filter(**{f"{submitted}__gte": _start_of(self.since)})
        for before in (self.before, self.submitted_before):
            if before is not None:
                rows = rows.filter(**{f"{submitted}__lt": _start_of(before)})
        if self.areas is not None:
            rows = rows.alias(case_area=_area_key(to)).filter(case_area__in=self.areas)
        return rows


@dataclass(frozen=True)
class Ahead:
    """The months of a lookback the morning's count holds: from `first` (a month's first day)
    up to the day it was made (`covers_before`, not included)."""

    first: date
    covers_before: date

    def months(self, rows: QuerySet[Any], areas: tuple[str, ...] | None) -> QuerySet[Any]:
        rows = rows.filter(month__gte=self.first, month__lt=self.covers_before).order_by()
        return rows if areas is None else rows.filter(area_key__in=areas)


# What `accommodation.selectors.area_key` does to punctuation, as SQL both databases run:
# hyphens separate words, apostrophes, full stops and commas go, "&" is "and".
_AREA_PUNCTUATION = (("-", " "), ("\u2019", ""), ("'", ""), (".", ""), (",", ""), ("&", "and"))


def _area_key(to: str = "") -> Lower:
    """The case's area (`to`: the path to the case) trimmed, its punctuation as
    `accommodation.selectors.area_key` treats it, in lower case: how the history matches it
    against a region's areas (`regions_of_areas`, keyed by `area_key`), and how the morning's
    count keys it. ("Stoke-on-Trent" is "stoke on trent" in both.)"""
    key: Any = Trim(f"{to}area")
    for old, new in _AREA_PUNCTUATION:
        key = Replace(key, Value(old), Value(new))
    return Lower(key)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def among(
    *,
    region: str = "",
    since: date | None = None,
    today: date | None = None,
    before: date | None = None,
) -> Among:
    today = today or timezone.localdate()
    areas = None
    if region:
        areas = tuple(area for area, where in regions_of_areas().items() if where == region)
    return Among(since or default_since(today), areas, before)


def history_query(cases: Among, **by: Any) -> QuerySet[Any]:
    """People referred and people who needed a place, per (sex, age group) and the further
    expressions `by` names: one grouped query."""
    # Counting every case: not a correlated EXISTS. PostgreSQL hashes this uncorrelated set
    # once and probes it for each case, where EXISTS inside an aggregate's FILTER is one index
    # lookup per case.
    requests = PlacementRequest.objects.exclude(status=PlacementRequestStatus.WITHDRAWN)
    # A child's need for a place is the local authority's task, never a placement request.
    tasks = ChildrenServicesTask.objects.filter(kind=TaskKind.ACCOMMODATION)
    if cases.before is not None:
        # Raised before then (whether withdrawn since cannot be told: a request withdrawn later
        # is left out, as today).
        requests = requests.filter(created_at__lt=_start_of(cases.before))
        tasks = tasks.filter(raised_at__lt=_start_of(cases.before))
    if cases.ahead is None:
        requested = requests.values("case_id")
        asked_of_children_services = tasks.values("case_id")
        needed = Q(pk__in=requested) | Q(pk__in=asked_of_children_services)
    else:
        # Only the few cases outside the morning's count (today's, a lookback's first month):
        # an index lookup each is cheaper than hashing every request and task (0.7 s of 1.0 s
        # with a million cases stored).
        needed = Q(Exists(requests.filter(case_id=OuterRef("pk")))) | Q(
            Exists(tasks.filter(case_id=OuterRef("pk")))
        )
    return (
        cases.applied(Case.objects.order_by())
        .annotate(**by)
        .values("person__sex", "age_group", *by)
        .annotate(referred=Count("id"), needed=Count("id", filter=needed))
    )


def stays_query(cases: Among, today: date, **by: Any) -> QuerySet[Any]:
    """Placements begun, per (sex, age group, length in days, still going on) and the further
    expressions `by` names: one query. With `cases.before`, as they stood the day before:
    begun before it, and a stay that ended on or after it still going on then (its length so
    far is to that day)."""
    ended: Coalesce | DbCase = Coalesce(F("ended_on"), Value(today), output_field=DateField())
    ongoing = Q(ended_on__isnull=True)
    begun = Placement.objects.filter(
        arrived_on__isnull=False,
        status__in=[PlacementStatus.ENDED, PlacementStatus.OCCUPIED],
    )
    if cases.before is not None:
        today = cases.before - timedelta(days=1)
        begun = begun.filter(arrived_on__lt=cases.before)
        over = Q(ended_on__lt=cases.before)
        ended = DbCase(
            When(over, then=F("ended_on")), default=Value(today), output_field=DateField()
        )
        ongoing = Q(ended_on__isnull=True) | Q(ended_on__gte=cases.before)
    return (
        cases.applied(begun.order_by(), to="request__case__")
        .annotate(
            length=ExpressionWrapper(ended - F("arrived_on"), output_field=DurationField()),
            ongoing=ExpressionWrapper(ongoing, output_field=BooleanField()),
            **by,
        )
        .values(
            "request__case__person__sex",
            "request__case__age_group",
            "length",
            "ongoing",
            *by,
        )
        .annotate(n=Count("id"))
    )


def counted_ahead(today: date) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The morning's count (`services.history_rollup_rebuild`): every case submitted before
    `today` with all that is recorded of it now, per month submitted (local time), sex, age
    group and area (trimmed, lower case, as regions match areas): the referrals and needs
    (`HistoryMonth`'s rows), and the stays with their lengths to `today` (`HistoryStay`'s)."""
    cases = Among(since=None, submitted_before=today)
    return (
        history_query(
            cases,
            month=TruncMonth("submitted_at", output_field=DateField()),
            area_key=_area_key(),
        ),
        stays_query(
            cases,
            today,
            month=TruncMonth("request__case__submitted_at", output_field=DateField()),
            area_key=_area_key("request__case__"),
        ),
    )


def _ahead(cases: Among) -> Ahead | None:
    """The months of `cases` that the morning's count holds, if it can serve: not before the
    first count, nor for a history as it was on an earlier day, nor for a lookback that ends
    before the first whole month it covers."""
    if cases.before is not None:
        return None
    rollup = HistoryRollup.objects.order_by("-built_at").first()
    if rollup is None:
        return None
    first = cases.since or date.min
    if first.day != 1:
        first = _first_of_next_month(first)
    if first >= rollup.covers_before:
        return None
    return Ahead(first, rollup.covers_before)


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass
class _Tally:
    counts: dict[Group, tuple[int, int]] = field(default_factory=dict)
    ended: dict[Group, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    ongoing: dict[Group, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def count(self, group: Group, referred: int, needed: int) -> None:
        before = self.counts.get(group, (0, 0))
        self.counts[group] = (before[0] + referred, before[1] + needed)

    def stay(self, group: Group, days: int, ongoing: bool, n: int) -> None:
        into = self.ongoing if ongoing else self.ended
        days = max(0, days)
        into[group][days] = into[group].get(days, 0) + n

    def histories(self) -> dict[Group, GroupHistory]:
        return {
            group: GroupHistory(
                referred=self.counts.get(group, (0, 0))[0],
                needed_place=self.counts.get(group, (0, 0))[1],
                stays_ended=self.ended.get(group, {}),
                stays_ongoing=self.ongoing.get(group, {}),
            )
            for group in set(self.counts) | set(self.ended) | set(self.ongoing)
        }


def load_history(
    *,
    region: str = "",
    since: date | None = None,
    today: date | None = None,
    before: date | None = None,
) -> dict[Group, GroupHistory]:
    """Each group's history (`forecast.GroupHistory`), for the cases `among` selects, with
    `before` as it was recorded before that day began (`today` is then the day before).

    The months the morning's count holds are read from it (ADR 0053): two small queries. The
    rest (today's referrals, the lookback's first month when it begins mid-month, everything
    before the first count or with `before`) is counted from the cases: two grouped queries.
    One more finds whether there is a count, and one the areas of a region. A need raised or
    a stay begun or ended since the morning, for a case of an earlier month, counts from the
    next morning; a stay still going on is as long as it is today all the same."""
    if before is not None:
        today = before - timedelta(days=1)
    today = today or timezone.localdate()
    cases = among(region=region, since=since, today=today, before=before)
    ahead = _ahead(cases)
    tally = _Tally()
    if ahead is not None:
        for row in (
            ahead.months(HistoryMonth.objects.all(), cases.areas)
            .values("sex", "age_group")
            .annotate(referred=Sum("referred"), needed=Sum("needed"))
        ):
            tally.count(Group(row["sex"], row["age_group"]), row["referred"], row["needed"])
        # A stay still going on has grown by a day each day since the count.
        grown = (today - ahead.covers_before).days
        for row in (
            ahead.months(HistoryStay.objects.all(), cases.areas)
            .values("sex", "age_group", "days", "ongoing")
            .annotate(n=Sum("n"))
        ):
            days = row["days"] + grown if row["ongoing"] else row["days"]
            group = Group(row["sex"], row["age_group"])
            tally.stay(group, days, row["ongoing"], row["n"])
    live = replace(cases, ahead=ahead)
    for row in history_query(live):
        tally.count(Group(row["person__sex"], row["age_group"]), row["referred"], row["needed"])
    for row in stays_query(live, today):
        group = Group(row["request__case__person__sex"], row["request__case__age_group"])
        tally.stay(group, days_of(row["length"]), row["ongoing"], row["n"])
    return tally.histories()


def free_places(*, region: str = "", today: date | None = None) -> dict[str, int]:
    """The free beds that can take a woman, a man, and anyone (mixed settings only) today, in
    `region` if one is given. The first two both count the free mixed beds."""
    today = today or timezone.localdate()
    # The free beds read once for the three questions (with 10,000 beds, reading them was most
    # of the time of each).
    groups = free_groups(today)
    return {
        kind: how_many_more(Question(who=who, needed_by=today, region=region), today, groups).total
        for kind, who in WHO_BY_KIND.items()
    }


def days_of(length: object) -> int:
    """A date difference as the database returns it: a timedelta (PostgreSQL, and SQLite
    through Django's converter) or a whole number of days."""
    if isinstance(length, timedelta):
        return length.days
    if isinstance(length, int):
        return length
    raise TypeError(f"a length of stay the loader cannot read: {length!r}")


@dataclass(frozen=True)
class OperationForecast:
    """What the operation's page shows: the forecast, each kind's gap, the adults' gap with
    each free bed counted once, and the places free now it was measured against."""

    forecast: model.Forecast
    gaps: list[model.Gap]
    adults: model.AdultsGap
    free: dict[str, int]


def operation_forecast(
    expected: dict[Group, float],
    *,
    first_day: date,
    operation_days: int,
    region: str = "",
    surge: dict[str, int] | None = None,
    today: date | None = None,
    seed: int = 0,
) -> OperationForecast:
    """The forecast of an operation from the history (`load_history`, in `region` if given)
    and its gaps against the places free now there (`free_places`) and the surge places agreed
    per kind. Raises `forecast.NoStays` when the history has no stay to learn from."""
    today = today or timezone.localdate()
    made = model.forecast(
        expected,
        load_history(region=region, today=today),
        first_day=first_day,
        operation_days=operation_days,
        seed=seed,
    )
    free = free_places(region=region, today=today)
    return OperationForecast(
        made, model.gaps(made, free, surge), model.adults_gap(made, free, surge), free
    )
