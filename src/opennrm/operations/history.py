"""The deployment's own history, as `operations.forecast` needs it, and the places free now.

Counted in the database, a few grouped queries however many cases are stored (a national system
has a million), returning a few hundred rows; nothing here reads a person's details. The counts
of referrals of past months are read from `HistoryMonth`, which the morning task counts ahead
(`services.history_rollup_rebuild`, ADR 0053): counting a million cases with their people took
PostgreSQL two seconds, over the forecast's whole budget. Today's cases and those of a
lookback's first, partial month are counted as the forecast is made; so is everything before the
first morning's count, and the history as it stood on an earlier day (`before`).

- People referred and people who needed a place, by sex (`Person.sex`) and age group: the
  cases submitted since `since` (default: three years before today), and of those the cases
  with a placement request that was not withdrawn (a request is raised when the referral's
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
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models import Case as DbCase
from django.db.models.functions import Coalesce, Lower, Trim, TruncMonth
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
from .models import HistoryMonth, HistoryRollup

LOOKBACK_YEARS = 3
# The places free for each adult kind, as `statistics.capacity` asks for them.
WHO_BY_KIND = {WOMEN: "woman", MEN: "man", MIXED: "anyone"}


def default_since(today: date) -> date:
    """The same day `LOOKBACK_YEARS` years before (28 February for a 29th)."""
    year = today.year - LOOKBACK_YEARS
    if (today.month, today.day) == (2, 29):
        return today.replace(year=year, day=28)
    return today.replace(year=year)


@dataclass(frozen=True)
class Among:
    """Which cases the history counts: submitted since `since` (from the start of that day
    here; None: ever), in the local authority areas of `region` if one is given."""

    since: date | None
    areas: tuple[str, ...] | None = None  # by `area_key`; None: anywhere
    # The history as it stood before the start of this day (the operation report's forecast,
    # made again as on the eve of the operation): None for everything recorded.
    before: date | None = None
    # Cases submitted from the first day up to (not including) the second are left out: the
    # months `HistoryMonth` has counted ahead, which the loader reads there instead.
    counted_ahead: tuple[date, date] | None = None

    def applied(self, rows: QuerySet[Any], to: str = "") -> QuerySet[Any]:
        """`rows` narrowed to those whose case (`to`: the path to it, "" for cases) counts: on
        the case's own columns, joined once, never an IN over every case."""
        # Ranges on the column itself, which its index serves.
        if self.since is not None:
            rows = rows.filter(**{f"{to}submitted_at__gte": _start_of(self.since)})
        if self.before is not None:
            rows = rows.filter(**{f"{to}submitted_at__lt": _start_of(self.before)})
        if self.counted_ahead is not None:
            first, after = (_start_of(day) for day in self.counted_ahead)
            rows = rows.filter(
                Q(**{f"{to}submitted_at__lt": first}) | Q(**{f"{to}submitted_at__gte": after})
            )
        if self.areas is not None:
            rows = rows.alias(case_area=Lower(Trim(f"{to}area"))).filter(case_area__in=self.areas)
        return rows


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
    # Not a correlated EXISTS: PostgreSQL hashes this uncorrelated set once and probes it for
    # each case, where EXISTS inside an aggregate's FILTER is one index lookup per case.
    requests = PlacementRequest.objects.exclude(status=PlacementRequestStatus.WITHDRAWN)
    # A child's need for a place is the local authority's task, never a placement request.
    tasks = ChildrenServicesTask.objects.filter(kind=TaskKind.ACCOMMODATION)
    if cases.before is not None:
        # Raised before then (whether withdrawn since cannot be told: a request withdrawn later
        # is left out, as today).
        requests = requests.filter(created_at__lt=_start_of(cases.before))
        tasks = tasks.filter(raised_at__lt=_start_of(cases.before))
    requested = requests.values("case_id")
    asked_of_children_services = tasks.values("case_id")
    needed = Q(pk__in=requested) | Q(pk__in=asked_of_children_services)
    return (
        cases.applied(Case.objects.order_by())
        .annotate(**by)
        .values("person__sex", "age_group", *by)
        .annotate(referred=Count("id"), needed=Count("id", filter=needed))
    )


def month_counts(before: date) -> QuerySet[Any]:
    """Every case submitted before `before`, counted per month (in local time), sex, age group
    and area: the rows of `HistoryMonth` (`services.history_rollup_rebuild`)."""
    return history_query(
        Among(since=None, before=before),
        month=TruncMonth("submitted_at", output_field=DateField()),
        area_key=Lower(Trim("area")),
    )


def _counted_ahead(cases: Among) -> tuple[tuple[date, date] | None, QuerySet[Any] | None]:
    """The months of `cases` that `HistoryMonth` holds, and its rows for them summed per
    (sex, age group); (None, None) when none can serve (no rollup yet, a history as it was
    on an earlier day, or a lookback shorter than the month it begins in)."""
    if cases.before is not None:
        return None, None
    rollup = HistoryRollup.objects.order_by("-built_at").first()
    if rollup is None:
        return None, None
    first = cases.since or date.min
    if first.day != 1:
        first = _first_of_next_month(first)
    if first >= rollup.covers_before:
        return None, None
    months = HistoryMonth.objects.filter(month__gte=first, month__lt=rollup.covers_before)
    if cases.areas is not None:
        months = months.filter(area_key__in=cases.areas)
    summed = (
        months.order_by()
        .values("sex", "age_group")
        .annotate(referred=Sum("referred"), needed=Sum("needed"))
    )
    return (first, rollup.covers_before), summed


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def counts_of(cases: Among) -> dict[Group, tuple[int, int]]:
    """(referred, needed a place) per group: the months counted ahead each morning, when
    there are any, and the rest (today's cases, those of the lookback's first month) counted
    now. A request raised since the morning for a case of an earlier month counts from the
    next morning (ADR 0053)."""
    counted: dict[Group, tuple[int, int]] = defaultdict(lambda: (0, 0))
    ahead, summed = _counted_ahead(cases)
    rows: list[tuple[str, str, int, int]] = []
    if summed is not None:
        rows += [(r["sex"], r["age_group"], r["referred"], r["needed"]) for r in summed]
    live = replace(cases, counted_ahead=ahead)
    rows += [
        (r["person__sex"], r["age_group"], r["referred"], r["needed"]) for r in history_query(live)
    ]
    for sex, age_group, referred, needed in rows:
        before = counted[Group(sex, age_group)]
        counted[Group(sex, age_group)] = (before[0] + referred, before[1] + needed)
    return dict(counted)


def stays_query(cases: Among, today: date) -> QuerySet[Any]:
    """Placements begun, per (sex, age group, length in days, still going on): one query.
    With `cases.before`, as they stood the day before: begun before it, and a stay that ended
    on or after it still going on then (its length so far is to that day)."""
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
        )
        .values("request__case__person__sex", "request__case__age_group", "length", "ongoing")
        .annotate(n=Count("id"))
    )


def load_history(
    *,
    region: str = "",
    since: date | None = None,
    today: date | None = None,
    before: date | None = None,
) -> dict[Group, GroupHistory]:
    """Each group's history (`forecast.GroupHistory`), for the cases `among` selects: up to
    four queries (`counts_of`'s three, the stays), and one more for the areas of a region. With `before`, the history as
    it was recorded before that day began (`today` is then the day before)."""
    if before is not None:
        today = before - timedelta(days=1)
    today = today or timezone.localdate()
    cases = among(region=region, since=since, today=today, before=before)
    counts = counts_of(cases)
    ended: dict[Group, dict[int, int]] = defaultdict(dict)
    ongoing: dict[Group, dict[int, int]] = defaultdict(dict)
    for row in stays_query(cases, today):
        group = Group(row["request__case__person__sex"], row["request__case__age_group"])
        into = ongoing if row["ongoing"] else ended
        days = max(0, _days(row["length"]))
        into[group][days] = into[group].get(days, 0) + row["n"]
    return {
        group: GroupHistory(
            referred=counts.get(group, (0, 0))[0],
            needed_place=counts.get(group, (0, 0))[1],
            stays_ended=ended.get(group, {}),
            stays_ongoing=ongoing.get(group, {}),
        )
        for group in set(counts) | set(ended) | set(ongoing)
    }


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


def _days(length: object) -> int:
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
