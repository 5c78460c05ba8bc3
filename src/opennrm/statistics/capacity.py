"""The capacity figures (issue 6, item 7): how many more people the free beds can take now, the
beds by state, and occupancy, the waiting list, unmet need and length of stay over time.

Reads only, and figures only: nothing here reads a person's details, a site's name or its
address (no encrypted column is ever selected). Places are named by provider and region.

Counted in the database. A national system has some 10,000 beds and years of history, so no
figure loops over beds or events in Python: each is one to four aggregate queries, and Python
adds up their few rows (one per room kind, per provider and region, per day and state change,
per week). Over time:

- Beds: the state of every bed at the start of the period (its latest `BedEvent` before then),
  counted by state in one query; then, in one more query, the events of the period counted by
  (day, state before, state after). Each day's figures are the day before's plus that day's
  changes: the state as of the end of each day. A hold for an operation writes no bed event,
  so the beds a hold kept at the end of a day (now, for today) while their events say free
  are moved to reserved, as `selectors.counted_by_state` counts them now: the few holds that
  touch the period are read, with their beds' events, in up to three more queries.
- The waiting list: requests open at the start (one count), plus those raised, minus those
  closed, each day (one grouped count each). A request is open from `created_at` until
  `closed_at` (placed on arrival, withdrawn, or closed unmet); "offered a place" is a bed
  reserved for it, which the bed figures already count (a reserved or accepted placement holds
  the bed and keeps its request open; arrival closes the request as the bed becomes occupied).
- Unmet need: `UnmetNeed` rows (one per request per day found unmet), counted as people per
  week: a person found unmet on several days of a week counts once that week.
- Length of stay: ended placements counted by length in days in one query (a few hundred
  rows); the buckets and the median are read off those counts.

Now: "how many more" counts `selectors.free_beds()` grouped by site and room kind (one query),
and asks `matching.check` once a group, with the question as a `matching.Request`: the same
rules as matching and placing by hand. The beds by state are one grouped query too.

The beds counted, now and over time, are those `selectors.free_beds()` counts from: beds in
active sites that have beds. A site's closing is not a bed event, so a closed site's beds leave
the history as well as today's figures, and the last day of the history always equals now.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from opennrm.accommodation import matching, selectors
from opennrm.accommodation.matching import CONSTRAINT_LABELS, constraint_label
from opennrm.accommodation.models import (
    Bed,
    BedEvent,
    BedHold,
    BedState,
    Placement,
    PlacementRequest,
    PlacementStatus,
    Region,
    Setting,
    Site,
    SiteAges,
    SiteKind,
    Specialism,
    UnmetNeed,
)
from opennrm.accommodation.services import settings_for
from opennrm.accommodation.surge import surge_under_way
from opennrm.lib.iso import language_name

ONE_DAY = timedelta(days=1)
PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90
REGION_ORDER = {value: index for index, value in enumerate(Region.values)}
REGION_LABELS = dict(Region.choices)
# Regions named with "the": "in the North West", but "in London", "in Wales".
REGIONS_WITH_THE = {
    Region.NORTH_EAST,
    Region.NORTH_WEST,
    Region.EAST_MIDLANDS,
    Region.WEST_MIDLANDS,
    Region.EAST,
    Region.SOUTH_EAST,
    Region.SOUTH_WEST,
}
NOT_RECORDED = "Not recorded"

Cell = str | int | date


@dataclass(frozen=True)
class Table:
    """Figures as a table: shown beside a chart, and downloaded as CSV, from the same rows."""

    slug: str
    caption: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    footer: tuple[Cell, ...] | None = None  # a totals row
    labels: int = 1  # how many leading columns are labels, not numbers


# --- "How many more can we take?" -----------------------------------------------------------


@dataclass(frozen=True)
class Who:
    label: str
    phrase: str  # as the answer says it
    settings: frozenset[matching.Setting]  # the settings a bed must be in


def _settings(sex: str) -> frozenset[matching.Setting]:
    return frozenset(matching.Setting(value) for value in settings_for(sex, ""))


WHO: dict[str, Who] = {
    "woman": Who("A woman", "a woman", _settings("female")),
    "man": Who("A man", "a man", _settings("male")),
    "anyone": Who(
        "Anyone, whatever their gender (mixed settings only)",
        "anyone (in a mixed setting)",
        _settings(""),
    ),
}


@dataclass(frozen=True)
class Question:
    """Who is coming and what they need: the hard constraints matching never breaks."""

    who: str
    needed_by: date
    children: int = 0
    wheelchair: bool = False
    region: str = ""
    specialism: str = ""
    language: str = ""

    def as_request(self, today: date) -> matching.Request:
        """The question as a placement request, for `matching.check`."""
        return matching.Request(
            id=0,
            accepted_settings=WHO[self.who].settings,
            needed_from=self.needed_by,
            waiting_since=today,
            dependants=self.children,
            needs_wheelchair=self.wheelchair,
            languages=frozenset({self.language} if self.language else ()),
            interpreter_needed=False,
            required_specialisms=frozenset({self.specialism} if self.specialism else ()),
        )

    def sentence(self, count: int, today: date) -> str:
        """ "12 free beds can take a woman with 2 children in the North West today." """
        beds = (
            "No free bed" if count == 0 else "1 free bed" if count == 1 else f"{count:,} free beds"
        )
        person = WHO[self.who].phrase
        if self.children:
            person += " with " + ("1 child" if self.children == 1 else f"{self.children} children")
        if self.wheelchair:
            person += " who needs wheelchair access"
        extras = []
        if self.language:
            extras.append(f"with staff who speak {language_name(self.language)}")
        if self.specialism:
            extras.append(f"specialising in {_lower_first(Specialism(self.specialism).label)}")
        if extras:
            person += ", " + " and ".join(extras) + ","
        where = f"in {region_name(self.region)}" if self.region else "anywhere in the country"
        when = "today" if self.needed_by == today else f"by {day_text(self.needed_by)}"
        return f"{beds} can take {person} {where} {when}."


@dataclass(frozen=True)
class Answer:
    question: Question
    total: int
    sentence: str
    table: Table


@dataclass(frozen=True)
class FreeGroup:
    """Free beds alike in everything matching looks at: one `matching.Bed` stands for them."""

    bed: matching.Bed
    provider: str
    count: int


def _sites() -> dict[int, Any]:
    """What matching and the figures need of each site: never its name, address or location."""
    return {
        row["pk"]: row
        for row in Site.objects.order_by().values(
            "pk",
            "provider_id",
            "provider__name",
            "region",
            "area",
            "setting",
            "ages",
            "staff_languages",
            "specialisms",
            "near_school",
        )
    }


def _as_bed(site: dict[str, Any], takes_dependants: int, wheelchair: bool, today: date) -> Any:
    return matching.Bed(
        id=0,
        site_id=site["pk"],
        provider_id=site["provider_id"],
        region=site["region"],
        area=site["area"],
        setting=matching.Setting(site["setting"]),
        # The questions are about adults: a setting for children never takes one.
        for_children=site["ages"] == SiteAges.CHILDREN,
        takes_dependants=takes_dependants,
        wheelchair_accessible=wheelchair,
        languages=frozenset(site["staff_languages"]),
        specialisms=frozenset(site["specialisms"]),
        near_school=site["near_school"],
        available_from=today,
    )


def free_groups(today: date) -> list[FreeGroup]:
    """Every free bed open to anyone (`selectors.free_beds_open_to_anyone`: a bed kept for an
    operation is not free for anyone else), counted by site and room kind in one query."""
    rows = (
        selectors.free_beds_open_to_anyone()
        .order_by()
        .values("room__site_id", "room__takes_dependants", "room__wheelchair_accessible")
        .annotate(count=Count("id"))
    )
    sites = _sites()
    return [
        FreeGroup(
            bed=_as_bed(
                sites[row["room__site_id"]],
                row["room__takes_dependants"],
                row["room__wheelchair_accessible"],
                today,
            ),
            provider=sites[row["room__site_id"]]["provider__name"],
            count=row["count"],
        )
        for row in rows
    ]


def how_many_more(
    question: Question, today: date, groups: Sequence[FreeGroup] | None = None
) -> Answer:
    """How many free beds can take this person, by region and provider: a free bed counts when
    `matching.check` allows it for the question as a request (the same rules as matching and
    placing by hand) and it is in the region asked for. `groups`: the free beds
    (`free_groups(today)`), when the caller asks several questions of the same beds."""
    wanted = question.as_request(today)
    counts: Counter[tuple[str, str]] = Counter()
    for group in free_groups(today) if groups is None else groups:
        if question.region and group.bed.region != question.region:
            continue
        if not matching.check(wanted, group.bed, today=today):
            counts[(group.bed.region, group.provider)] += group.count
    places = sorted(counts.items(), key=lambda item: (_region_rank(item[0][0]), item[0][1]))
    total = sum(counts.values())
    table = Table(
        slug="how-many-more",
        caption="Free beds that can take them, by region and provider",
        headers=("Region", "Provider", "Free beds"),
        rows=[(region_label(region), provider, n) for (region, provider), n in places],
        footer=("Total", "", total),
        labels=2,
    )
    return Answer(question, total, question.sentence(total, today), table)


# --- Beds now -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BedCounts:
    beds: int = 0
    free: int = 0
    reserved: int = 0  # offered or accepted: held for someone who has not arrived yet
    occupied: int = 0
    out_of_service: int = 0

    @property
    def in_service(self) -> int:
        return self.beds - self.out_of_service

    def __add__(self, other: BedCounts) -> BedCounts:
        return BedCounts(
            self.beds + other.beds,
            self.free + other.free,
            self.reserved + other.reserved,
            self.occupied + other.occupied,
            self.out_of_service + other.out_of_service,
        )


STATE_HEADERS = ("Beds", "Free", "Reserved", "Occupied", "Out of service")


def _state_cells(counts: BedCounts) -> tuple[int, ...]:
    return (counts.beds, counts.free, counts.reserved, counts.occupied, counts.out_of_service)


@dataclass(frozen=True)
class BedsNow:
    total: BedCounts
    by_region: list[tuple[str, BedCounts]]  # (region value, counts), regions with beds
    by_provider: list[tuple[str, BedCounts]]  # (provider name, counts)
    by_attribute: list[tuple[str, int, int]]  # (attribute, free beds, beds)

    def region_table(self) -> Table:
        return Table(
            slug="beds-by-region",
            caption="Beds by region",
            headers=("Region", *STATE_HEADERS),
            rows=[(region_label(r), *_state_cells(c)) for r, c in self.by_region],
            footer=("Total", *_state_cells(self.total)),
        )

    def provider_table(self) -> Table:
        return Table(
            slug="beds-by-provider",
            caption="Beds by provider",
            headers=("Provider", *STATE_HEADERS),
            rows=[(p, *_state_cells(c)) for p, c in self.by_provider],
            footer=("Total", *_state_cells(self.total)),
        )

    def attribute_table(self) -> Table:
        return Table(
            slug="free-beds-by-attribute",
            caption="Free beds by what they offer",
            headers=("What the bed offers", "Free beds", "All beds"),
            rows=list(self.by_attribute),
        )


def counted_beds() -> QuerySet[Bed]:
    """The beds the figures count: in active sites that have beds (as `free_beds`), and a surge
    place only from its first day until its surge ends, or after while someone is still placed
    in it (ADR 0044)."""
    today = timezone.localdate()
    held = Placement.objects.holding_a_bed().filter(bed=OuterRef("pk"))
    return (
        Bed.objects.filter(room__site__is_active=True)
        .filter(surge_under_way(today) | Exists(held))
        .exclude(room__site__kind=SiteKind.OUTREACH)
    )


def beds_now() -> BedsNow:
    """Every counted bed by state, in one query grouped by site and room kind (a left join to
    the placement holding the bed: the database lets at most one hold it)."""
    rows = selectors.counted_by_state(
        counted_beds(), "room__site_id", "room__takes_dependants", "room__wheelchair_accessible"
    )
    sites = _sites()
    total = BedCounts()
    by_region: dict[str, BedCounts] = defaultdict(BedCounts)
    by_provider: dict[str, BedCounts] = defaultdict(BedCounts)
    attributes: dict[str, list[int]] = {label: [0, 0] for label in ATTRIBUTES}
    for row in rows:
        site = sites[row["room__site_id"]]
        counts = BedCounts(
            row["beds"], row["free"], row["reserved"], row["occupied"], row["out_of_service"]
        )
        total += counts
        by_region[site["region"]] += counts
        by_provider[site["provider__name"]] += counts
        for label, offers in ATTRIBUTES.items():
            if offers(site, row):
                attributes[label][0] += counts.free
                attributes[label][1] += counts.beds
    return BedsNow(
        total=total,
        by_region=sorted(by_region.items(), key=lambda item: _region_rank(item[0])),
        by_provider=sorted(by_provider.items()),
        by_attribute=[(label, free, beds) for label, (free, beds) in attributes.items()],
    )


def _setting_is(setting: str) -> Any:
    return lambda site, room: site["setting"] == setting


def _specialises(specialism: str) -> Any:
    return lambda site, room: specialism in site["specialisms"]


ATTRIBUTES: dict[str, Any] = {
    **{f"{label} setting": _setting_is(value) for value, label in Setting.choices},
    "Family rooms (take children)": lambda site, room: room["room__takes_dependants"] > 0,
    "Wheelchair accessible": lambda site, room: room["room__wheelchair_accessible"],
    **{f"Specialism: {label}": _specialises(value) for value, label in Specialism.choices},
}


# --- Over time ----------------------------------------------------------------------------------


def period(today: date, days: int) -> tuple[date, date]:
    """The first and last day of the `days` days ending today."""
    return today - timedelta(days=days - 1), today


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _per_day(rows: QuerySet[Any], at: str) -> dict[date, int]:
    return {
        row["day"]: row["n"]
        for row in rows.order_by()
        .annotate(day=TruncDate(at))
        .values("day")
        .annotate(n=Count("id"))
        .values("day", "n")
    }


@dataclass(frozen=True)
class BedDay:
    day: date
    counts: BedCounts  # as at the end of the day


def _state_before(start: datetime) -> Subquery:
    """A bed's (`OuterRef("pk")`) state by its events before `start`: its latest event's."""
    return Subquery(
        BedEvent.objects.filter(bed=OuterRef("pk"), at__lt=start)
        .order_by("-at", "-pk")
        .values("state")[:1]
    )


def bed_history(first: date, last: date) -> list[BedDay]:
    """The counted beds by state at the end of each day from `first` to `last`, a bed held for
    an operation then counted reserved (`_held_while_free`)."""
    start, end = _start_of(first), _start_of(last + ONE_DAY)
    states: Counter[str] = Counter()
    for row in (
        counted_beds()
        .order_by()
        .annotate(was=_state_before(start))
        .values("was")
        .annotate(n=Count("id"))
        .values("was", "n")
    ):
        if row["was"]:
            states[row["was"]] += row["n"]
    # The bed's event just before this one, in (at, pk) order: a range scan of the (bed, at)
    # index, with the rare events of the same moment sorted out by pk.
    before = (
        BedEvent.objects.filter(bed=OuterRef("bed"), at__lte=OuterRef("at"))
        .exclude(at=OuterRef("at"), pk__gte=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("state")[:1]
    )
    changes: dict[date, list[Any]] = defaultdict(list)
    for row in (
        BedEvent.objects.filter(at__gte=start, at__lt=end, bed__in=counted_beds())
        .order_by()
        .annotate(day=TruncDate("at"), was=Subquery(before))
        .values("day", "was", "state")
        .annotate(n=Count("id"))
        .values("day", "was", "state", "n")
    ):
        changes[row["day"]].append(row)
    held = _held_while_free(first, last)
    history = []
    for day in _days(first, last):
        for change in changes.get(day, ()):
            if change["was"]:
                states[change["was"]] -= change["n"]
            states[change["state"]] += change["n"]
        history.append(
            BedDay(
                day,
                BedCounts(
                    beds=sum(states.values()),
                    free=states[BedState.AVAILABLE] - held[day],
                    reserved=states[BedState.RESERVED] + held[day],
                    occupied=states[BedState.OCCUPIED],
                    out_of_service=states[BedState.OUT_OF_SERVICE],
                ),
            )
        )
    return history


def _held_while_free(first: date, last: date) -> Counter[date]:
    """How many counted beds, free by their events, a hold kept for an operation at the end of
    each day from `first` to `last` (today: now, as `beds_now` counts). A hold writes no bed
    event, and a held bed is reserved to everyone (`selectors.state_of`): counted free, a bed
    held before a confidential operation starts told every reader that something was coming
    (ADR 39, 44). A placement in a held bed, or its being out of service, has its own event
    and state, which comes first, as in `state_of`.

    A hold counts from `held_at` until it expired or was released, whichever came first.
    Holds are few (a provider holds a handful of beds for an operation, for days), so their
    rows, and the events of their beds in the period, are walked here: three queries at most,
    none when no hold touches the period."""
    start, end = _start_of(first), _start_of(last + ONE_DAY)
    holds = list(
        BedHold.objects.filter(bed__in=counted_beds(), held_at__lt=end, expires_at__gt=start)
        .exclude(released_at__lte=start)
        .order_by()
        .values_list("bed_id", "held_at", "expires_at", "released_at")
    )
    held: Counter[date] = Counter()
    if not holds:
        return held
    beds = {bed for bed, *_ in holds}
    state = dict(
        Bed.objects.filter(pk__in=beds).annotate(was=_state_before(start)).values_list("pk", "was")
    )
    events = list(
        BedEvent.objects.filter(bed__in=beds, at__gte=start, at__lt=end)
        .order_by("at", "pk")
        .values_list("bed_id", "at", "state")
    )
    now = timezone.now()
    seen = 0
    for day in _days(first, last):
        end_of_day = _start_of(day + ONE_DAY)
        while seen < len(events) and events[seen][1] < end_of_day:
            bed, _, became = events[seen]
            state[bed] = became
            seen += 1
        moment = min(end_of_day, now)
        held[day] = len(
            {
                bed
                for bed, held_at, expires_at, released_at in holds
                if held_at <= moment < expires_at
                and (released_at is None or moment < released_at)
                and state.get(bed) == BedState.AVAILABLE
            }
        )
    return held


def occupancy_table(history: list[BedDay]) -> Table:
    return Table(
        slug="occupancy",
        caption="Beds at the end of each day",
        headers=("Day", "Beds in service", "Occupied", "Reserved", "Free", "Occupied (%)"),
        rows=[
            (
                d.day,
                d.counts.in_service,
                d.counts.occupied,
                d.counts.reserved,
                d.counts.free,
                percent(d.counts.occupied, d.counts.in_service),
            )
            for d in history
        ],
    )


@dataclass(frozen=True)
class WaitingDay:
    day: date
    open: int  # requests open at the end of the day
    offered: int  # of which a bed is reserved for them: they have not arrived yet

    @property
    def without_place(self) -> int:
        return max(0, self.open - self.offered)


def waiting_history(first: date, last: date, beds: list[BedDay]) -> list[WaitingDay]:
    """Open placement requests at the end of each day; `beds` is `bed_history` of the same
    days (a bed reserved is a request offered a place). A bed held for an operation is counted
    reserved there, so here it counts as a place offered: counted apart, the difference
    between the two tables on one page would give away a hold made before a confidential
    operation starts (ADR 39), so "waiting without a place" is low by the beds held."""
    start, end = _start_of(first), _start_of(last + ONE_DAY)
    count = (
        PlacementRequest.objects.filter(created_at__lt=start)
        .filter(Q(closed_at=None) | Q(closed_at__gte=start))
        .count()
    )
    raised = _per_day(
        PlacementRequest.objects.filter(created_at__gte=start, created_at__lt=end), "created_at"
    )
    closed = _per_day(
        PlacementRequest.objects.filter(closed_at__gte=start, closed_at__lt=end), "closed_at"
    )
    history = []
    for bed_day in beds:
        count += raised.get(bed_day.day, 0) - closed.get(bed_day.day, 0)
        history.append(WaitingDay(bed_day.day, count, bed_day.counts.reserved))
    return history


def waiting_table(history: list[WaitingDay]) -> Table:
    return Table(
        slug="waiting-list",
        caption="Placement requests open at the end of each day",
        headers=("Day", "Waiting without a place", "Place offered, not yet arrived", "All open"),
        rows=[(d.day, d.without_place, d.offered, d.open) for d in history],
    )


@dataclass(frozen=True)
class UnmetWeek:
    week: date  # its Monday
    people: int
    by_constraint: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unmet:
    weeks: list[UnmetWeek]
    constraints: list[str]  # the codes found in the period, in CONSTRAINT_LABELS' order
    by_constraint: list[tuple[str, int]]  # (code, people)
    by_place: list[tuple[str, str, int]]  # (region value, area, people)
    people: int  # people found unmet at least once in the period

    def week_table(self) -> Table:
        return Table(
            slug="unmet-need-by-week",
            caption="People who could not be placed, each week, by what kept them out",
            headers=(
                "Week beginning",
                "People",
                *(constraint_label(c) for c in self.constraints),
            ),
            rows=[
                (w.week, w.people, *(w.by_constraint.get(c, 0) for c in self.constraints))
                for w in self.weeks
            ],
        )

    def constraint_table(self) -> Table:
        return Table(
            slug="unmet-need-by-reason",
            caption="People who could not be placed in the period, by what kept them out",
            headers=("What kept them out", "People"),
            rows=[(constraint_label(c), n) for c, n in self.by_constraint],
            footer=("People in all", self.people),
        )

    def place_table(self) -> Table:
        return Table(
            slug="unmet-need-by-place",
            caption="People who could not be placed in the period, by where they were",
            headers=("Region", "Local authority area", "People"),
            rows=[
                (region_label(r) if r else NOT_RECORDED, area or NOT_RECORDED, n)
                for r, area, n in self.by_place
            ],
            footer=("People in all", "", self.people),
            labels=2,
        )


def unmet_history(first: date, last: date) -> Unmet:
    """Unmet need in the period: people per week, by constraint and by region and area."""
    rows = UnmetNeed.objects.filter(on__gte=first, on__lte=last).order_by()
    people = Count("request", distinct=True)
    weekly = rows.annotate(week=TruncWeek("on"))
    totals = {
        _as_date(r["week"]): r["n"]
        for r in weekly.values("week").annotate(n=people).values("week", "n")
    }
    split: dict[date, dict[str, int]] = defaultdict(dict)
    for r in (
        weekly.values("week", "constraint").annotate(n=people).values("week", "constraint", "n")
    ):
        split[_as_date(r["week"])][r["constraint"]] = r["n"]
    by_constraint = dict(
        rows.values("constraint").annotate(n=people).values_list("constraint", "n")
    )
    order = list(CONSTRAINT_LABELS)
    constraints = sorted(
        by_constraint, key=lambda c: (order.index(c) if c in order else len(order), c)
    )
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(UnmetWeek(monday, totals.get(monday, 0), split.get(monday, {})))
        monday += timedelta(days=7)
    by_place = sorted(
        rows.values("region", "area").annotate(n=people).values_list("region", "area", "n"),
        key=lambda row: (-row[2], _region_rank(row[0]), row[1]),
    )
    return Unmet(
        weeks=weeks,
        constraints=constraints,
        by_constraint=[(c, by_constraint[c]) for c in constraints],
        by_place=by_place,
        people=rows.aggregate(n=people)["n"],
    )


# (label, first day, first day of the next bucket or None)
STAY_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("Under 1 week", 0, 7),
    ("1 to 4 weeks", 7, 28),
    ("1 to 3 months", 28, 91),
    ("3 to 6 months", 91, 183),
    ("6 to 12 months", 183, 365),
    ("Over a year", 365, None),
)


@dataclass(frozen=True)
class Stays:
    buckets: list[tuple[str, int]]  # (label, stays)
    count: int
    median_days: float | None

    def table(self) -> Table:
        return Table(
            slug="length-of-stay",
            caption="Length of stay of the stays that ended in the period",
            headers=("Length of stay", "Days", "Stays"),
            rows=[
                (label, stay_days_text(low, high), n)
                for (label, n), (_, low, high) in zip(self.buckets, STAY_BUCKETS, strict=True)
            ],
            footer=("All stays", "", self.count),
            labels=2,
        )


def length_of_stay(first: date, last: date) -> Stays:
    """Stays that ended in the period (arrived to left), by length, and their median: one
    query counts the stays of each length in days (a few hundred rows at most), and the buckets
    and the median are read off those counts."""
    lengths = (
        Placement.objects.filter(
            status=PlacementStatus.ENDED,
            arrived_on__isnull=False,
            ended_on__gte=first,
            ended_on__lte=last,
        )
        .order_by()
        .annotate(
            stay=ExpressionWrapper(F("ended_on") - F("arrived_on"), output_field=DurationField())
        )
        .values("stay")
        .annotate(n=Count("id"))
        .values_list("stay", "n")
    )
    by_days = sorted((stay.days, n) for stay, n in lengths)
    counts = [0] * len(STAY_BUCKETS)
    for days, n in by_days:
        counts[_bucket_of(days)] += n
    total = sum(counts)
    median = None
    if total:
        middle = [_nth(by_days, (total - 1) // 2), _nth(by_days, total // 2)]
        median = sum(middle) / 2
    return Stays([(b[0], n) for b, n in zip(STAY_BUCKETS, counts, strict=True)], total, median)


def _bucket_of(days: int) -> int:
    return next(
        index
        for index, (_, low, high) in enumerate(STAY_BUCKETS)
        if days >= low and (high is None or days < high)
    )


def _nth(counted: list[tuple[int, int]], index: int) -> int:
    """The `index`-th smallest (from 0) of values given as sorted (value, how many) pairs."""
    seen = 0
    for value, n in counted:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


# --- Wording --------------------------------------------------------------------------------


def region_label(region: str) -> str:
    return str(REGION_LABELS.get(region, region))


def region_name(region: str) -> str:
    """A region as a sentence names it: "the North West", "London"."""
    return ("the " if region in REGIONS_WITH_THE else "") + region_label(region)


def _region_rank(region: str) -> int:
    return REGION_ORDER.get(region, len(REGION_ORDER))


def day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else ""


def stay_days_text(low: int, high: int | None) -> str:
    return f"{low:,} days or more" if high is None else f"{low} to {high - 1} days"


def _lower_first(text: str) -> str:
    """ "Mental health support" -> "mental health support", but "LGBTQ+ survivors" stays."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
