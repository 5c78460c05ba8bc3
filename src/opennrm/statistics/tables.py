"""The official tables (issue 13, items 1 and 7), computed from the live data for a period and
an optional jurisdiction. ADR 0033 gives the definitions.

Each table is a `StatTable`: a `disclosure.Table` (the true counts) with its title, what it
counts (referrals, reports, decisions, placements...) and its notes. Figures over groups (days
from referral to a decision: mean, quartiles) are `SummaryTable`s whose groups are cells of a
count table, so that `disclosure`'s helpers give `[c]` wherever the group is suppressed.
`release_tables` makes every table of a release and `assemble` puts them into one
`disclosure.Release`, so that `disclosure.protect` sees every shared margin at once.

The work is in two layers: loaders read plain rows from the database (`load_*`), and builders
(`*_tables`, pure) turn rows into tables. A case is in a period by the day (Europe/London) it
was submitted; a decision by the day it took effect (approved, or made when it needed no
approval); a support event by its own day.

Counts are of referrals, and every referral table's notes say so. One table counts people
(`people_tables`, ADR 0052): referrals a decision maker has linked as one person (one
identity cluster, `linkage`), or made for one `Person` row, count once; any other referral is
its own person, so the count is an upper bound on the people referred until every duplicate
has been found and confirmed.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

from opennrm.accommodation.matching import constraint_label
from opennrm.accommodation.models import Placement, PlacementStatus, Region, UnmetNeed
from opennrm.accounts.roles import Jurisdiction, OrganisationKind
from opennrm.care.models import ChildMissing, MissingEpisode
from opennrm.cases.choices import (
    TREATED_AS_CHILD,
    AgeGroup,
    ExploitationAgeGroup,
    ExploitationLocation,
    ExploitationType,
    Sex,
)
from opennrm.cases.models import Case
from opennrm.decisions.models import (
    Decision,
    DecisionKind,
    DecisionState,
    ReconsiderationRequest,
    ReconsiderationState,
)
from opennrm.lib.iso import country_name
from opennrm.linkage.selectors import cluster_people
from opennrm.policy.negative_reasons import NOT_RECORDED, NOT_RECORDED_LABEL, catalogue
from opennrm.policy.profiles import active_profiles
from opennrm.referrals.models import DutyToNotifyReport

from . import disclosure
from .disclosure import NOT_APPLICABLE, NOT_AVAILABLE, TOTAL, Dimension, Published, Table

LONDON = ZoneInfo("Europe/London")
# The population of the table of people referred (ADR 0052): its grand total is the count of
# people, as the referrals' is the count of referrals.
PEOPLE = "people_referred"

REFERRALS_NOTE = (
    "Counts are of referrals, not of people: a person referred twice counts twice (the table "
    "of people referred counts them once)."
)
PEOPLE_NOTES = (
    "Counts are of people: referrals that the competent authority's decision makers have "
    "reviewed and confirmed to be of one person count once, as do referrals recorded for one "
    "person. Every other referral counts as a person of its own.",
    "Duplicates not yet found or not yet confirmed are counted as different people, so the "
    "count of people may be too high, never too low.",
    "A person referred more than once in the period is counted under the age group of their "
    "latest referral in it.",
)

# The statuses of a decision that was issued (a superseded one was issued, then reconsidered).
ISSUED = (DecisionState.IN_EFFECT, DecisionState.SUPERSEDED)


# --- Periods -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, as days in Europe/London."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError(f"a quarter is 1 to 4, not {quarter}")
        start = date(year, 3 * quarter - 2, 1)
        following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return cls(start, following - timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def begins(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.start, time.min, tzinfo=LONDON)

    @property
    def ends(self) -> datetime:
        """The first instant after the period (midnight at the end of its last day)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LONDON)

    def __str__(self) -> str:
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"


def local_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


# --- Tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatTable:
    """A table of counts with what a reader needs to read it. `labels` gives, for each
    dimension, the words for its codes (a code without a label is shown as it is)."""

    table: Table
    title: str
    counts: str  # what one unit is: "referrals", "reports", "decisions", ...
    notes: tuple[str, ...] = ()
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name

    def label(self, dimension: str, value: str) -> str:
        if value == TOTAL:
            return "Total"
        return self.labels.get(dimension, {}).get(value, value)


@dataclass(frozen=True)
class Summary:
    """One group's published figures: its count, mean, quartiles (each a number or symbol)."""

    group: str
    count: Published
    mean: float | str
    lower_quartile: float | str
    median: float | str
    upper_quartile: float | str


@dataclass(frozen=True)
class SummaryTable:
    """Days (or another measure) per group, where each group's size is a cell of the count
    table `of` (its first dimension's values, and `TOTAL`). Published only through
    `published`, which takes the protected counts, so a suppressed group shows `[c]`."""

    name: str
    title: str
    counts: str
    of: str
    values: Mapping[str, tuple[float, ...]]
    notes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def published(self, protected: disclosure.Protected) -> list[Summary]:
        table = next(t for t in protected.release.tables if t.name == self.of)
        first = table.dimensions[0]
        rest = (TOTAL,) * (len(table.dimensions) - 1)
        rows = []
        for group in (*first.values, TOTAL):
            count = protected.published[table.cell(group, *rest)]
            values = self.values.get(group, ())
            threshold = protected.threshold
            quartiles = disclosure.quartiles(values, threshold=threshold, group=count)
            q: tuple[float | str, float | str, float | str] = (
                (quartiles, quartiles, quartiles) if isinstance(quartiles, str) else quartiles
            )
            rows.append(
                Summary(
                    group=group,
                    count=count,
                    mean=_rounded(disclosure.mean(values, threshold=threshold, group=count)),
                    lower_quartile=q[0],
                    median=q[1],
                    upper_quartile=q[2],
                )
            )
        return rows

    def label(self, value: str) -> str:
        return "Total" if value == TOTAL else self.labels.get(value, value)


def _rounded(value: float | str) -> float | str:
    return round(value, 1) if isinstance(value, float) else value


@dataclass(frozen=True)
class Missing:
    """A figure the brief asks for that the data cannot give, and why."""

    title: str
    why: str


AnyTable = StatTable | SummaryTable | Missing


def counted(
    name: str,
    dimensions: Sequence[Dimension],
    rows: Iterable[tuple[str, ...]],
    *,
    population: str,
    unavailable: Mapping[str, frozenset[str]] | None = None,
) -> Table:
    """A table counting `rows` (each a tuple of dimension values). A value listed in
    `unavailable[dimension]` is `[x]`; the margins that include it are given from the true
    counts (the totals are known even where the split is not)."""
    counts: Counter[tuple[str, ...]] = Counter(rows)
    allowed = [set(d.values) for d in dimensions]
    for values in counts:
        for value, permitted, dimension in zip(values, allowed, dimensions, strict=True):
            if value not in permitted:
                raise ValueError(f"{name}: {value!r} is not a value of {dimension.name}")
    unavailable = unavailable or {}
    hidden = [unavailable.get(d.name, frozenset()) for d in dimensions]
    if not any(hidden):
        return Table(name, tuple(dimensions), dict(counts), population=population)
    cells: dict[tuple[str, ...], Published] = {}
    margins: dict[tuple[str, ...], Published] = {}
    for values in itertools.product(*((*d.values, TOTAL) for d in dimensions)):
        if any(v in h for v, h in zip(values, hidden, strict=True)):
            if TOTAL not in values:
                cells[values] = NOT_AVAILABLE
            continue
        total = sum(
            n
            for key, n in counts.items()
            if all(v in (TOTAL, k) for v, k in zip(values, key, strict=True))
        )
        if TOTAL in values:
            margins[values] = total
        else:
            cells[values] = total
    return Table(name, tuple(dimensions), cells, population=population, margins=margins)


# --- Referrals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    submitted_on: date
    jurisdiction: str
    authority: str
    sex: str
    age_group: str  # at exploitation (ADR 0042): adult, child, not_specified
    nationality: str  # ISO code, or "" when not known
    exploitation: str  # one ExploitationType code, "multiple", or "unknown"
    first_responder_kind: str
    area: str
    location: str = ExploitationLocation.UNKNOWN.value  # where the exploitation took place
    # Who the referral is of, once referrals linked as one person are taken as one (ADR 0052):
    # referrals with the same value are one person; None, a person of its own.
    person: int | None = None


AGE_GROUPS = ("adult", "child", "not_specified")
AGE_LABELS = {"adult": "Adult", "child": "Child", "not_specified": "Not specified or unknown"}
AGE_AT_EXPLOITATION_NOTE = (
    "Age group when the exploitation began. A person who was a child at referral, or whose age "
    "is disputed (treated as a child until assessed), counts as a child; an adult counts as a "
    "child if the referrer said they were under 18 when it began, and as not specified if they "
    "did not know or were not asked (referrals before the question was asked)."
)
MULTIPLE = "multiple"
EXPLOITATION = (
    *(t.value for t in ExploitationType if t != ExploitationType.UNKNOWN),
    MULTIPLE,
    ExploitationType.UNKNOWN.value,
)
EXPLOITATION_LABELS = {
    **{t.value: f"{t.label} only" for t in ExploitationType},
    MULTIPLE: "More than one type",
    ExploitationType.UNKNOWN.value: "Not specified or unknown",
    ExploitationType.CRIMINAL.value: "Criminal exploitation only",
}
SEXES = tuple(s.value for s in Sex)
FIRST_RESPONDER_KINDS = (
    OrganisationKind.STATUTORY_FIRST_RESPONDER.value,
    OrganisationKind.NON_STATUTORY_FIRST_RESPONDER.value,
    "other",
)
LOCATIONS = tuple(loc.value for loc in ExploitationLocation)
NOT_KNOWN = "not_known"
OTHER = "other"
TOP_NATIONALITIES = 20


def age_group_of(recorded: str) -> str:
    """The statistical age group: a child, and a person whose age is disputed (treated as a
    child until assessed), count as children; never as adults."""
    if recorded == AgeGroup.ADULT:
        return "adult"
    if recorded in TREATED_AS_CHILD:
        return "child"
    return "not_specified"


def age_group_at_exploitation_of(recorded: str) -> str:
    """The statistical age group at exploitation, as the Home Office counts referrals: a child
    then (every child or age-disputed person at referral, and an adult who was under 18 when it
    began), an adult then, or not specified (an adult who was not asked, or did not know)."""
    if recorded == ExploitationAgeGroup.ADULT:
        return "adult"
    if recorded == ExploitationAgeGroup.CHILD:
        return "child"
    return "not_specified"


def exploitation_of(types: Sequence[str]) -> str:
    """One category per referral: its one type, "multiple" for two or more known types, and
    "unknown" for none (an "unknown" beside known types is ignored)."""
    known = sorted({t for t in types if t != ExploitationType.UNKNOWN})
    if not known:
        return ExploitationType.UNKNOWN.value
    return known[0] if len(known) == 1 else MULTIPLE


def first_responder_kind_of(kind: str) -> str:
    return kind if kind in FIRST_RESPONDER_KINDS else "other"


def _in_scope(queryset, jurisdiction: str | None, field_name: str = "jurisdiction"):  # type: ignore[no-untyped-def]
    return queryset if jurisdiction is None else queryset.filter(**{field_name: jurisdiction})


def one_person(links: Iterable[tuple[int, int]]) -> dict[int, int]:
    """For each person in `links` ((person id, identity cluster id) pairs), the one person id
    standing for everyone linked with them: the lowest id of their connected group, where a
    cluster joins the people of its cases and a person joins the clusters their cases are in.
    People in no link stand for themselves (and are not in the result). Pure."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for person, cluster in links:
        a, b = root(("person", person)), root(("cluster", cluster))
        if a != b:
            parent[max(a, b)] = min(a, b)  # "cluster" sorts before "person"
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for kind, ident in list(parent):
        if kind == "person":
            groups[root((kind, ident))].append(ident)
    return {person: min(members) for members in groups.values() for person in members}


def load_referrals(period: Period, jurisdiction: str | None = None) -> list[Referral]:
    cases = _in_scope(
        Case.objects.filter(submitted_at__gte=period.begins, submitted_at__lt=period.ends).order_by(
            "submitted_at", "pk"
        ),
        jurisdiction,
    )
    linked = one_person(cluster_people())
    return [
        Referral(
            submitted_on=local_day(row["submitted_at"]),
            jurisdiction=row["jurisdiction"],
            authority=row["competent_authority__name"],
            sex=row["person__sex"] if row["person__sex"] in SEXES else Sex.UNKNOWN.value,
            age_group=age_group_at_exploitation_of(row["age_group_at_exploitation"]),
            nationality=(row["person__nationalities"] or [""])[0],
            exploitation=exploitation_of(row["exploitation_types"] or []),
            first_responder_kind=first_responder_kind_of(row["referring_organisation__kind"]),
            area=row["area"] or "Not known",
            location=row["exploitation_location"] or ExploitationLocation.UNKNOWN.value,
            person=linked.get(row["person_id"], row["person_id"]),
        )
        for row in cases.values(
            "person_id",
            "submitted_at",
            "jurisdiction",
            "competent_authority__name",
            "person__sex",
            "age_group_at_exploitation",
            "person__nationalities",
            "exploitation_types",
            "referring_organisation__kind",
            "area",
            "exploitation_location",
        )
    ]


def exploitation_availability(
    period: Period, jurisdiction: str | None
) -> tuple[frozenset[str], dict[str, date]]:
    """The exploitation categories no regime in force during the period recorded (`[x]`), and
    for the others recorded only from some day within it, that day. "multiple" and "unknown"
    are always available."""
    jurisdictions = [jurisdiction] if jurisdiction else [j.value for j in Jurisdiction]
    recorded: set[str] = set()
    starts: dict[str, date] = {}
    everywhere_from_start: set[str] | None = None
    profiles = active_profiles()
    for name in jurisdictions:
        in_force = [
            p
            for p in profiles.for_jurisdiction(name)
            if p.effective_from <= period.end
            and (p.effective_to is None or p.effective_to >= period.start)
        ]
        at_start: set[str] = set()
        for profile in in_force:
            recorded.update(profile.exploitation_types)
            if profile.effective_from <= period.start:
                at_start.update(profile.exploitation_types)
            else:
                for code in profile.exploitation_types:
                    starts[code] = min(
                        starts.get(code, profile.effective_from), profile.effective_from
                    )
        everywhere_from_start = (
            at_start if everywhere_from_start is None else everywhere_from_start & at_start
        )
    hidden = frozenset(
        code
        for code in EXPLOITATION
        if code not in (MULTIPLE, ExploitationType.UNKNOWN.value) and code not in recorded
    )
    partial = {
        code: day
        for code, day in starts.items()
        if code not in (everywhere_from_start or set()) and code not in hidden
    }
    return hidden, partial


def top_nationalities(referrals: Sequence[Referral], n: int = TOP_NATIONALITIES) -> list[str]:
    """The `n` most common nationalities (most first; ties by code), not counting not known."""
    counts = Counter(r.nationality for r in referrals if r.nationality)
    return [code for code, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))][:n]


def referral_tables(
    referrals: Sequence[Referral],
    period: Period,
    *,
    unavailable_exploitation: frozenset[str] = frozenset(),
    exploitation_from: Mapping[str, date] | None = None,
) -> list[AnyTable]:
    notes = (
        REFERRALS_NOTE,
        f"A referral counts in the period if it was submitted on a day "
        f"from {period} (Europe/London).",
    )
    authorities = tuple(sorted({r.authority for r in referrals}))
    areas = tuple(sorted({r.area for r in referrals}))
    top = top_nationalities(referrals)
    nationality_values = (*top, OTHER, NOT_KNOWN)

    def nationality(r: Referral) -> str:
        if not r.nationality:
            return NOT_KNOWN
        return r.nationality if r.nationality in top else OTHER

    age = Dimension("age_group", AGE_GROUPS)
    exploitation_notes = [
        'Each referral counts once: under its one type of exploitation, or under "more than '
        'one type".',
    ]
    present = {r.exploitation for r in referrals}
    exploitation_notes.extend(_exploitation_notes(unavailable_exploitation, present))
    unavailable_exploitation = unavailable_exploitation - present
    for code, day in sorted((exploitation_from or {}).items()):
        exploitation_notes.append(
            f"{EXPLOITATION_LABELS[code]}: recorded as a separate category only from {day:%-d %B %Y}."
        )
    return [
        StatTable(
            counted(
                "referrals_by_competent_authority",
                [Dimension("competent_authority", authorities)],
                ((r.authority,) for r in referrals),
                population="referrals",
            ),
            "Referrals by competent authority",
            "referrals",
            notes,
        ),
        StatTable(
            counted(
                "referrals_by_sex",
                [Dimension("sex", SEXES)],
                ((r.sex,) for r in referrals),
                population="referrals",
            ),
            "Referrals by sex",
            "referrals",
            notes,
            {"sex": {s.value: s.label for s in Sex}},
        ),
        StatTable(
            counted(
                "referrals_by_age_group",
                [age],
                ((r.age_group,) for r in referrals),
                population="referrals",
            ),
            "Referrals by age group at exploitation",
            "referrals",
            (
                *notes,
                AGE_AT_EXPLOITATION_NOTE,
            ),
            {"age_group": AGE_LABELS},
        ),
        StatTable(
            counted(
                "referrals_by_nationality",
                [Dimension("nationality_top20", nationality_values)],
                ((nationality(r),) for r in referrals),
                population="referrals",
            ),
            f"Referrals by nationality (the {TOP_NATIONALITIES} most common, then other)",
            "referrals",
            (
                *notes,
                "A person with more than one nationality counts under the first recorded.",
            ),
            {
                "nationality_top20": {
                    **{code: country_name(code) or code for code in top},
                    OTHER: "Other nationalities",
                    NOT_KNOWN: "Not known",
                }
            },
        ),
        StatTable(
            counted(
                "referrals_by_exploitation_and_age_group",
                [Dimension("exploitation", EXPLOITATION), age],
                ((r.exploitation, r.age_group) for r in referrals),
                population="referrals",
                unavailable={"exploitation": unavailable_exploitation},
            ),
            "Referrals by type of exploitation and age group at exploitation",
            "referrals",
            (*notes, *exploitation_notes, AGE_AT_EXPLOITATION_NOTE),
            {"exploitation": EXPLOITATION_LABELS, "age_group": AGE_LABELS},
        ),
        StatTable(
            counted(
                "referrals_by_first_responder",
                [Dimension("first_responder_kind", FIRST_RESPONDER_KINDS)],
                ((r.first_responder_kind,) for r in referrals),
                population="referrals",
            ),
            "Referrals by type of first responder organisation",
            "referrals",
            (
                *notes,
                "Organisations are recorded only as statutory or non-statutory first "
                "responders; the Home Office's finer split (police, local authority, UK Visas "
                "and Immigration...) is not recorded.",
            ),
            {
                "first_responder_kind": {
                    **{k.value: k.label for k in OrganisationKind},
                    "other": "Other organisations",
                }
            },
        ),
        StatTable(
            counted(
                "referrals_by_area",
                [Dimension("area", areas)],
                ((r.area,) for r in referrals),
                population="referrals",
            ),
            "Referrals by area",
            "referrals",
            (*notes, "The area is the local authority area the person was in when referred."),
        ),
        StatTable(
            counted(
                "referrals_by_exploitation_location",
                [Dimension("exploitation_location", LOCATIONS)],
                ((r.location if r.location in LOCATIONS else "unknown",) for r in referrals),
                population="referrals",
            ),
            "Referrals by where the exploitation took place",
            "referrals",
            notes,
            {"exploitation_location": {loc.value: loc.label for loc in ExploitationLocation}},
        ),
    ]


# --- People ------------------------------------------------------------------------------


def people_of(referrals: Sequence[Referral]) -> list[Referral]:
    """One referral per person: the latest of each person's referrals in `referrals` (which
    are in the order they were submitted), every referral without a person on its own."""
    latest: dict[int, Referral] = {}
    alone: list[Referral] = []
    for referral in referrals:
        if referral.person is None:
            alone.append(referral)
        else:
            latest[referral.person] = referral  # a later one replaces an earlier one
    return [*latest.values(), *alone]


def people_tables(referrals: Sequence[Referral], period: Period) -> list[AnyTable]:
    """The people referred in the period, by age group at exploitation (ADR 0052). Its own
    population, so disclosure control protects its cells like any other count."""
    people = people_of(referrals)
    return [
        StatTable(
            counted(
                "people_by_age_group",
                [Dimension("age_group", AGE_GROUPS)],
                ((p.age_group,) for p in people),
                population=PEOPLE,
            ),
            "People referred, by age group at exploitation",
            "people",
            (
                *PEOPLE_NOTES,
                f"A person counts in the period if one of their referrals was submitted on a "
                f"day from {period} (Europe/London).",
                AGE_AT_EXPLOITATION_NOTE,
            ),
            {"age_group": AGE_LABELS},
        )
    ]


# --- Duty to notify ----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    submitted_on: date
    exploitation: str
    reporter_kind: str


REPORTER_KINDS = tuple(k.value for k in OrganisationKind)


def load_reports(period: Period, jurisdiction: str | None = None) -> list[Report]:
    reports = _in_scope(
        DutyToNotifyReport.objects.filter(
            submitted_at__gte=period.begins, submitted_at__lt=period.ends
        ),
        jurisdiction,
    )
    return [
        Report(
            submitted_on=local_day(row["submitted_at"]),
            exploitation=exploitation_of(row["exploitation_types"] or []),
            reporter_kind=row["organisation__kind"],
        )
        for row in reports.values("submitted_at", "exploitation_types", "organisation__kind")
    ]


def _exploitation_notes(unavailable: frozenset[str], present: set[str]) -> list[str]:
    """The notes on categories the rules in force did not record: `[x]`, unless the data holds
    some all the same (then the count is shown, and said to be outside the rules)."""
    notes = []
    for code in sorted(unavailable):
        if code in present:
            notes.append(
                f"{EXPLOITATION_LABELS[code]}: recorded for some referrals, though the rules in "
                "force in this period did not list it as a category."
            )
        else:
            notes.append(
                f"{EXPLOITATION_LABELS[code]}: [x], not recorded as a separate category by the "
                "rules in force in this period (criminal exploitation was counted as labour "
                "exploitation before October 2019)."
            )
    return notes


def report_tables(
    reports: Sequence[Report],
    period: Period,
    *,
    unavailable_exploitation: frozenset[str] = frozenset(),
) -> list[AnyTable]:
    present = {r.exploitation for r in reports}
    notes = _exploitation_notes(unavailable_exploitation, present)
    unavailable_exploitation = unavailable_exploitation - present
    return [
        StatTable(
            counted(
                "dtn_reports_by_exploitation_and_authority",
                [
                    Dimension("exploitation", EXPLOITATION),
                    Dimension("reporter_kind", REPORTER_KINDS),
                ],
                ((r.exploitation, r.reporter_kind) for r in reports),
                population="dtn_reports",
                unavailable={"exploitation": unavailable_exploitation},
            ),
            "Duty to notify reports by type of exploitation and public authority",
            "duty to notify reports",
            (
                "Counts are of reports about adults who did not consent to a referral; the "
                "reports are anonymous, so two reports of one person cannot be told apart.",
                f"A report counts if it was submitted on a day from {period} (Europe/London).",
                "The public authority is given by the kind of the reporting organisation.",
                *notes,
            ),
            {
                "exploitation": EXPLOITATION_LABELS,
                "reporter_kind": {k.value: k.label for k in OrganisationKind},
            },
        )
    ]


# --- Decisions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A reasonable or conclusive grounds decision issued in the period."""

    kind: str
    authority: str
    outcome: str  # positive, negative, not_decided
    took_effect_on: date
    referred_on: date
    # For a conclusive grounds decision: when the case's positive reasonable grounds decision
    # took effect (the last one before it), if there is one.
    reasonable_grounds_on: date | None = None
    # A negative decision's main reason (a code of `policy.negative_reasons`); "" if none was
    # recorded (decided before reasons were coded) and for any other outcome.
    negative_reason: str = ""


OUTCOMES = ("positive", "negative", "not_decided")
OUTCOME_LABELS = {
    "positive": "Positive",
    "negative": "Negative",
    "not_decided": "Not decided (suspended or withdrawn)",
}


def _issued(queryset):  # type: ignore[no-untyped-def]
    return queryset.filter(state__in=ISSUED).annotate(effect=Coalesce("approved_at", "decided_at"))


def load_decisions(period: Period, jurisdiction: str | None = None) -> list[Issued]:
    decisions = _in_scope(
        _issued(
            Decision.objects.filter(
                kind__in=(DecisionKind.REASONABLE_GROUNDS, DecisionKind.CONCLUSIVE_GROUNDS)
            )
        ).filter(effect__gte=period.begins, effect__lt=period.ends),
        jurisdiction,
        "case__jurisdiction",
    )
    rows = list(
        decisions.values(
            "kind",
            "case_id",
            "case__competent_authority__name",
            "outcome_kind",
            "effect",
            "case__submitted_at",
            "negative_reason",
        )
    )
    conclusive_cases = {r["case_id"] for r in rows if r["kind"] == DecisionKind.CONCLUSIVE_GROUNDS}
    positive_rg: dict[int, list[datetime]] = defaultdict(list)
    for row in _issued(
        Decision.objects.filter(
            case_id__in=conclusive_cases,
            kind=DecisionKind.REASONABLE_GROUNDS,
            outcome_kind="positive",
        )
    ).values("case_id", "effect"):
        positive_rg[row["case_id"]].append(row["effect"])

    def rg_before(case_id: int, effect: datetime) -> date | None:
        earlier = [moment for moment in positive_rg.get(case_id, []) if moment <= effect]
        return local_day(max(earlier)) if earlier else None

    return [
        Issued(
            kind=row["kind"],
            authority=row["case__competent_authority__name"],
            outcome=row["outcome_kind"] if row["outcome_kind"] in OUTCOMES else "not_decided",
            took_effect_on=local_day(row["effect"]),
            referred_on=local_day(row["case__submitted_at"]),
            reasonable_grounds_on=(
                rg_before(row["case_id"], row["effect"])
                if row["kind"] == DecisionKind.CONCLUSIVE_GROUNDS
                else None
            ),
            negative_reason=row["negative_reason"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ShareRow:
    authority: str
    decisions: Published
    positive: Published
    share: float | str


def positive_shares(table: StatTable, protected: disclosure.Protected) -> list[ShareRow]:
    """The share of a decision table's decisions that were positive, per competent authority
    and in total, from the published (protected) counts: `[c]` where either is suppressed."""
    t = table.table
    rows = []
    for authority in (*t.dimensions[0].values, TOTAL):
        whole = protected.published[t.cell(authority, TOTAL)]
        part = protected.published[t.cell(authority, "positive")]
        rows.append(
            ShareRow(
                authority,
                whole,
                part,
                disclosure.percentage(part, whole, threshold=protected.threshold),
            )
        )
    return rows


def decision_tables(decisions: Sequence[Issued], period: Period) -> list[AnyTable]:
    tables: list[AnyTable] = []
    when = (
        f"A decision counts if it took effect on a day from {period} (Europe/London): when it "
        "was approved, if it needed a second decision maker, else when it was made. A decision "
        "later reconsidered counts as issued; so does the decision that replaced it."
    )
    for kind, short, title in (
        (DecisionKind.REASONABLE_GROUNDS, "rg", "Reasonable grounds decisions"),
        (DecisionKind.CONCLUSIVE_GROUNDS, "cg", "Conclusive grounds decisions"),
    ):
        mine = [d for d in decisions if d.kind == kind]
        authorities = tuple(sorted({d.authority for d in mine}))
        name = f"{short}_decisions_by_competent_authority"
        tables.append(
            StatTable(
                counted(
                    name,
                    [Dimension("competent_authority", authorities), Dimension("outcome", OUTCOMES)],
                    ((d.authority, d.outcome) for d in mine),
                    population=f"{short}_decisions",
                ),
                f"{title} issued, by competent authority and outcome",
                "decisions",
                (
                    "Counts are of decisions; each is about one referral. " + REFERRALS_NOTE,
                    when,
                ),
                {"outcome": OUTCOME_LABELS},
            )
        )
        tables.append(negative_reason_table(mine, short, title, when))
        if kind == DecisionKind.REASONABLE_GROUNDS:
            days = {
                authority: tuple(
                    float((d.took_effect_on - d.referred_on).days)
                    for d in mine
                    if d.authority == authority
                )
                for authority in authorities
            }
            days[TOTAL] = tuple(float((d.took_effect_on - d.referred_on).days) for d in mine)
            tables.append(
                SummaryTable(
                    "days_referral_to_rg",
                    "Days from referral to the reasonable grounds decision",
                    "decisions",
                    name,
                    days,
                    (
                        "Calendar days from the day of referral to the day the decision took "
                        "effect, over the reasonable grounds decisions issued in the period.",
                        "Figures over fewer decisions than the threshold, or over a suppressed "
                        "count, are shown as [c].",
                    ),
                )
            )
        else:
            timed = [d for d in mine if d.reasonable_grounds_on is not None]

            def gap(d: Issued) -> float:
                rg_on = d.reasonable_grounds_on or d.took_effect_on
                return float((d.took_effect_on - rg_on).days)

            days = {
                authority: tuple(gap(d) for d in timed if d.authority == authority)
                for authority in authorities
            }
            days[TOTAL] = tuple(gap(d) for d in timed)
            tables.append(
                SummaryTable(
                    "days_rg_to_cg",
                    "Days from the reasonable grounds to the conclusive grounds decision",
                    "decisions",
                    name,
                    days,
                    (
                        "Calendar days from the day the positive reasonable grounds decision "
                        "took effect to the day the conclusive grounds decision did, over the "
                        "conclusive grounds decisions issued in the period.",
                        "Figures over fewer decisions than the threshold, or over a suppressed "
                        "count, are shown as [c].",
                    ),
                )
            )
    return tables


# The reason row of a decision that is not negative: positive and not-decided outcomes.
NOT_NEGATIVE = "not_negative"


def negative_reason_of(decision: Issued) -> str:
    if decision.outcome != "negative":
        return NOT_NEGATIVE
    return decision.negative_reason or NOT_RECORDED


def negative_reason_table(
    decisions: Sequence[Issued], short: str, title: str, when: str
) -> StatTable:
    """One stage's decisions by main reason (rows) and outcome (columns), ADR 0038. A table of
    the stage's own population, so its outcome margins and grand total are the very cells of
    the table by competent authority and outcome: the audit sees that the negative decisions
    by reason add up to the negative decisions by authority. A reason with an outcome that is
    not negative, and "not negative" with the negative outcome, cannot occur: `[z]`. Each
    decision has one main reason, so each is in exactly one cell."""
    reasons = (*catalogue().codes, NOT_RECORDED, NOT_NEGATIVE)
    counts: Counter[tuple[str, str]] = Counter(
        (negative_reason_of(d), d.outcome) for d in decisions
    )
    cells: dict[tuple[str, ...], Published] = {
        (reason, outcome): (
            counts[(reason, outcome)]
            if (reason == NOT_NEGATIVE) == (outcome != "negative")
            else NOT_APPLICABLE
        )
        for reason in reasons
        for outcome in OUTCOMES
    }
    return StatTable(
        Table(
            f"{short}_decisions_by_negative_reason",
            (Dimension("negative_reason", reasons), Dimension("outcome", OUTCOMES)),
            cells,
            population=f"{short}_decisions",
        ),
        f"{title} issued, by the main reason for a negative decision",
        "decisions",
        (
            "Counts are of decisions; each is about one referral. " + REFERRALS_NOTE,
            when,
            "A negative decision counts once, under the main reason the decision maker "
            "recorded from a coded list; the written reasons are never read for this table.",
            f"{NOT_RECORDED_LABEL}: negative decisions recorded without a coded reason. "
            "Nothing is inferred from their written reasons.",
            'Positive and not-decided outcomes have no reason and are counted as "Not a '
            'negative decision", so the outcome totals are those of the table by competent '
            "authority and outcome. [z]: a combination that cannot occur.",
        ),
        {
            "negative_reason": {
                **catalogue().labels,
                NOT_RECORDED: NOT_RECORDED_LABEL,
                NOT_NEGATIVE: "Not a negative decision",
            },
            "outcome": OUTCOME_LABELS,
        },
    )


# --- Cases awaiting a conclusive grounds decision ----------------------------------------

# Time since referral at the end of the period: (code, label, up to this many days).
WAIT_BANDS: tuple[tuple[str, str, int | None], ...] = (
    ("under_3_months", "Less than 3 months", 91),
    ("3_to_6_months", "3 to 6 months", 182),
    ("6_to_12_months", "6 to 12 months", 365),
    ("1_to_2_years", "1 to 2 years", 730),
    ("2_to_3_years", "2 to 3 years", 1095),
    ("3_years_or_more", "3 years or more", None),
)


def wait_band(days: int) -> str:
    for code, _label, most in WAIT_BANDS:
        if most is None or days < most:
            return code
    return WAIT_BANDS[-1][0]


def load_awaiting(period: Period, jurisdiction: str | None = None) -> list[int]:
    """Days since referral, at the end of the period, of each case with a positive reasonable
    grounds decision in effect by then and no conclusive grounds decision or disqualification
    standing then, and not closed. A decision superseded by a reconsideration accepted before
    the end no longer stood: the person was back in the recovery period, waiting for a new one
    (as the extract says "Awaiting" for them)."""
    end = period.ends
    rg = _issued(
        Decision.objects.filter(kind=DecisionKind.REASONABLE_GROUNDS, outcome_kind="positive")
    ).filter(effect__lt=end)
    reconsidered = ReconsiderationRequest.objects.filter(
        decision=OuterRef("pk"), state=ReconsiderationState.ACCEPTED, decided_at__lt=end
    )
    done = (
        _issued(
            Decision.objects.filter(
                kind__in=(DecisionKind.CONCLUSIVE_GROUNDS, DecisionKind.DISQUALIFICATION)
            )
        )
        .filter(effect__lt=end)
        .exclude(Exists(reconsidered))
    )
    cases = _in_scope(
        Case.objects.filter(submitted_at__lt=end, pk__in=rg.values("case_id"))
        .exclude(pk__in=done.values("case_id"))
        .exclude(closed_at__lt=end),
        jurisdiction,
    )
    return [
        (period.end - local_day(submitted)).days
        for submitted in cases.values_list("submitted_at", flat=True)
    ]


def awaiting_tables(waits: Sequence[int], period: Period) -> list[AnyTable]:
    return [
        StatTable(
            counted(
                "awaiting_cg_by_time_waited",
                [Dimension("time_waited", tuple(code for code, _, _ in WAIT_BANDS))],
                ((wait_band(days),) for days in waits),
                population="awaiting_cg",
            ),
            f"Referrals awaiting a conclusive grounds decision on {period.end:%-d %B %Y}, by "
            "time since referral",
            "referrals",
            (
                REFERRALS_NOTE,
                "A referral is waiting if a positive reasonable grounds decision had taken "
                "effect by the end of the period and no conclusive grounds decision or "
                "disqualification stood then, and the case was not closed. A decision "
                "reconsidered (the reconsideration accepted) by then no longer stood: the person "
                "was waiting for a new one.",
                "Time is counted in days from the day of referral to the last day of the "
                "period (a quarter of a year taken as 91 days).",
            ),
            {"time_waited": {code: label for code, label, _ in WAIT_BANDS}},
        )
    ]


# --- Support -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stay:
    region: str
    arrived_on: date
    ended_on: date | None


REGIONS = (*(r.value for r in Region), NOT_KNOWN)
REGION_LABELS = {**{r.value: r.label for r in Region}, NOT_KNOWN: "Not known"}


def load_stays(period: Period, jurisdiction: str | None = None) -> list[Stay]:
    """Placements where the person arrived by the end of the period and had not left before it
    started."""
    placements = _in_scope(
        Placement.objects.filter(arrived_on__isnull=False, arrived_on__lte=period.end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=period.start))
        .exclude(status__in=(PlacementStatus.DECLINED, PlacementStatus.CANCELLED)),
        jurisdiction,
        "request__case__jurisdiction",
    )
    return [
        Stay(row["region"] or NOT_KNOWN, row["arrived_on"], row["ended_on"])
        for row in placements.annotate(region=F("bed__room__site__region")).values(
            "region", "arrived_on", "ended_on"
        )
    ]


@dataclass(frozen=True)
class TurnedAway:
    on: date
    constraint: str
    region: str


def load_turned_away(period: Period, jurisdiction: str | None = None) -> list[TurnedAway]:
    """Each request found unmet in the period, once: by its first unmet record in the period."""
    rows = _in_scope(
        UnmetNeed.objects.filter(on__gte=period.start, on__lte=period.end),
        jurisdiction,
        "request__case__jurisdiction",
    ).order_by("request_id", "on", "id")
    first: dict[int, TurnedAway] = {}
    for row in rows.values("request_id", "on", "constraint", "region"):
        first.setdefault(
            row["request_id"],
            TurnedAway(row["on"], row["constraint"] or NOT_KNOWN, row["region"] or NOT_KNOWN),
        )
    return list(first.values())


def load_missing(period: Period, jurisdiction: str | None = None) -> list[str]:
    """The age group, when they went missing, of the person of each episode of going missing
    that began in the period: a child if the report said so (`child_missing` "person": a child,
    or treated as one while their age was disputed; kept as reported, so a child who has since
    turned 18 or been assessed an adult is still the child who went missing), else the case's
    age group now (an episode reported before the report said, or an adult whose age has since
    been disputed, who counts as a child as everywhere)."""
    episodes = _in_scope(
        MissingEpisode.objects.filter(
            went_missing_on__gte=period.start, went_missing_on__lte=period.end
        ),
        jurisdiction,
        "case__jurisdiction",
    )
    return [
        "child" if reported == ChildMissing.PERSON else age_group_of(group)
        for reported, group in episodes.values_list("child_missing", "case__age_group")
    ]


def support_tables(
    stays: Sequence[Stay],
    turned_away: Sequence[TurnedAway],
    missing: Sequence[str],
    period: Period,
) -> list[AnyTable]:
    region = Dimension("region", REGIONS)
    placement_note = (
        "Counts are of placements in safe-house beds recorded in OpenNRM; outreach support "
        "and support outside it are not recorded. A person placed twice counts twice."
    )
    reasons = tuple(sorted({t.constraint for t in turned_away}))
    return [
        StatTable(
            counted(
                "placements_started_by_region",
                [region],
                ((s.region,) for s in stays if period.start <= s.arrived_on <= period.end),
                population="placements_started",
            ),
            "Placements begun (entering support), by region",
            "placements",
            (placement_note, f"A placement counts if the person arrived on a day from {period}."),
            {"region": REGION_LABELS},
        ),
        StatTable(
            counted(
                "in_support_at_end_by_region",
                [region],
                (
                    (s.region,)
                    for s in stays
                    if s.arrived_on <= period.end
                    and (s.ended_on is None or s.ended_on > period.end)
                ),
                population="in_support_at_end",
            ),
            f"Placements occupied at the end of {period.end:%-d %B %Y} (in support), by region",
            "placements",
            (
                placement_note,
                "In support at the period end: arrived on or before its last day and not left "
                "by the end of it (a placement that ended on the last day does not count).",
            ),
            {"region": REGION_LABELS},
        ),
        StatTable(
            counted(
                "turned_away_by_reason_and_region",
                [Dimension("reason", reasons), region],
                ((t.constraint, t.region) for t in turned_away),
                population="turned_away",
            ),
            "Requests for a bed that no suitable bed could meet, by reason and region",
            "placement requests",
            (
                "Counts are of requests for a place; a request found unmet on several days "
                "counts once, under the reason and region of the first day in the period.",
                "A request may be about a referral already counted; two requests for one "
                "person count twice.",
            ),
            {"region": REGION_LABELS, "reason": {code: constraint_label(code) for code in reasons}},
        ),
        StatTable(
            counted(
                "missing_episodes_by_age_group",
                [Dimension("age_group", AGE_GROUPS)],
                ((group,) for group in missing),
                population="missing_episodes",
            ),
            "Episodes of going missing from support, by age group",
            "missing episodes",
            (
                "Counts are of episodes: a person missing twice counts twice.",
                f"An episode counts if the person went missing on a day from {period}.",
                "Age group when the person went missing: a child, or a person whose age was "
                "disputed (treated as a child), counts as a child, even if they have since "
                "turned 18 or been assessed an adult.",
            ),
            {"age_group": AGE_LABELS},
        ),
    ]


# --- Not available -----------------------------------------------------------------------

NOT_AVAILABLE_TABLES = (
    Missing(
        "Occupancy",
        "Occupancy over time is in the capacity figures (statistics: capacity), which count "
        "beds, not referrals; it is not part of this release's linear system.",
    ),
)


# --- A release ---------------------------------------------------------------------------


def release_tables(period: Period, jurisdiction: str | None = None) -> list[AnyTable]:
    """Every table of a release for this period and jurisdiction (None: all), from live data,
    with the figures the data cannot give as `Missing` entries."""
    hidden, partial = exploitation_availability(period, jurisdiction)
    referrals = load_referrals(period, jurisdiction)
    return [
        *referral_tables(
            referrals,
            period,
            unavailable_exploitation=hidden,
            exploitation_from=partial,
        ),
        *people_tables(referrals, period),
        *report_tables(load_reports(period, jurisdiction), period, unavailable_exploitation=hidden),
        *decision_tables(load_decisions(period, jurisdiction), period),
        *awaiting_tables(load_awaiting(period, jurisdiction), period),
        *support_tables(
            load_stays(period, jurisdiction),
            load_turned_away(period, jurisdiction),
            load_missing(period, jurisdiction),
            period,
        ),
        *NOT_AVAILABLE_TABLES,
    ]


# The referrals of the period that are not the one a person counts under in the table of
# people (every referral of theirs but the latest): never published, an unknown to the reader.
REPEATS = "repeated_referrals"
REPEATS_TABLE = Table(
    "repeated_referrals_by_age_group",
    (Dimension("age_group", AGE_GROUPS),),
    dict.fromkeys(((group,) for group in AGE_GROUPS), NOT_AVAILABLE),
    population=REPEATS,
)


def people_relations() -> list[disclosure.Relation]:
    """What a reader knows between the people and the referrals by age group: each person
    counts under one of their own referrals, so in each age group, and in all, the referrals
    are the people plus the repeated referrals. Without it the audit let a suppressed count of
    people range from 0 to the total of people, when the published referrals in its group
    bound it (people <= referrals) far more tightly than the protection."""
    groups: list[dict[str, str]] = [*({"age_group": group} for group in AGE_GROUPS), {}]
    return [
        disclosure.Relation(
            disclosure.Cell.of("referrals", **where),
            (disclosure.Cell.of(PEOPLE, **where), disclosure.Cell.of(REPEATS, **where)),
        )
        for where in groups
    ]


def assemble(
    tables: Iterable[AnyTable], relations: Sequence[disclosure.Relation] = ()
) -> disclosure.Release:
    """One `disclosure.Release` of every count table, so shared margins are one cell, with the
    further `relations` a reader knows between tables (an operation's account, ADR 0046; the
    people and the referrals, `people_relations`)."""
    counts = [t.table for t in tables if isinstance(t, StatTable)]
    names = {table.name for table in counts}
    if {"people_by_age_group", "referrals_by_age_group"} <= names:
        counts.append(REPEATS_TABLE)
        relations = (*relations, *people_relations())
    return disclosure.Release.of(counts, relations)


def protect(
    tables: Sequence[AnyTable],
    threshold: int = disclosure.DEFAULT_THRESHOLD,
    *,
    relations: Sequence[disclosure.Relation] = (),
) -> disclosure.Protected:
    return disclosure.protect(assemble(tables, relations), threshold)
