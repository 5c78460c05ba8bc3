"""Differentially private counts for analysts (issue 13, item 6): ad-hoc tables of referrals by
two or three dimensions over any period, answered with calibrated noise from OpenDP, each cell
with its 95% confidence interval, under a privacy budget per analyst per month. ADR 0035.

**What is protected.** The unit of privacy is one referral (one `Case` row): adding or removing
any one referral changes the answer's distribution by at most a factor of e^epsilon. Each
referral counts in exactly one cell (a person with several nationalities counts under the first
recorded; a referral with several exploitation types under "More than one type"), so the table
of counts has L1 sensitivity 1 and the discrete Laplace mechanism with scale 1/epsilon gives
epsilon-DP (OpenDP checks this: the measurement's privacy map at distance 1 must not exceed the
epsilon charged). A person referred several times is protected per referral only: until
duplicate referrals are linked (item 7), their total loss is the sum over their referrals.

**The cells.** The universe of cells is the full cross product of the dimensions' known
categories (every code of the choices, every competent authority, every quarter of the period),
never only the cells the data has: an empty cell is answered with noise like any other, so
whether a cell is present says nothing.

**The counts** come from one grouped SQL query on the live cases (`true_counts`), and the noise
is drawn once for the whole table (`release`); the interval is the mechanism's accuracy at
alpha 0.05 (the true count lies inside with probability at least 95%).

The budget and its ledger are in `services.dp_query_answer` (the charge and the answer in one
transaction under a lock on the analyst's user row) and `selectors`; this module is the query
and the mechanism only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import opendp.prelude as dp
from django.db.models import Case as DbCase
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import TruncQuarter
from django.db.models.lookups import Exact
from django.utils import timezone

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Jurisdiction, OrganisationKind
from opennrm.cases.choices import (
    AgeGroup,
    CaseStatus,
    ExploitationAgeGroup,
    ExploitationType,
    Sex,
)
from opennrm.cases.models import Case, CaseEvent

from .kanonymity import m49_regions

dp.enable_features("contrib")  # the discrete Laplace measurement is in OpenDP's contrib set

EPSILON_MIN = Decimal("0.01")
EPSILON_MAX = Decimal("1.00")
MIN_DIMENSIONS = 1
MAX_DIMENSIONS = 3
MAX_PERIOD_DAYS = 10 * 366  # ten years: at most 41 quarters in the quarter dimension
EARLIEST = date(2009, 4, 1)  # the NRM began on 1 April 2009
ALPHA = 0.05  # the confidence intervals are 95%

MULTIPLE = "multiple"
NOT_KNOWN = "not_known"


@dataclass(frozen=True)
class Dimension:
    """One way to split the referrals: the known categories (code, label) for a period, the
    columns the grouped query returns, and the map from those columns' values to a category
    (None: the referral counts in no cell of this table, which keeps sensitivity 1)."""

    key: str
    label: str
    columns: tuple[str, ...]
    categories: Callable[[date, date], list[tuple[str, str]]]
    category_of: Callable[[Sequence[Any]], str | None]
    annotations: Callable[[], dict[str, Any]] = dict


def _choices(choices: Any) -> Callable[[date, date], list[tuple[str, str]]]:
    return lambda start, end: [(str(code), str(label)) for code, label in choices.choices]


def _known(codes: Any, fallback: str | None = None) -> Callable[[Sequence[Any]], str | None]:
    known = {str(code) for code in codes.values}

    def category(values: Sequence[Any]) -> str | None:
        value = values[0]
        return str(value) if value in known else fallback

    return category


def _age_group_when_referred() -> dict[str, Any]:
    """The age group the referral was made in, as an age assessment has since corrected it (ADR
    0042, addendum stop 38): `Case.age_group`, except for a child who has turned 18 since
    (`safeguarding.coming_of_age` rewrites it). Their referral stays a child's: otherwise a
    period's children moved to the adult row as they came of age, and its counts changed from
    month to month. Coming of age is the case's first change of age group, child to adult, and
    leaves "a child when the exploitation began" (as `cases.selectors.came_of_age_on` tells
    it); an assessment finding a child an adult makes that "not known". The timeline is read
    only for the adults exploited as children, not for every referral (the dp_query bench: one
    query under 1 s at a million cases)."""
    # The "from" of the case's first change of age group: a child's case changes only to adult.
    first_from = Subquery(
        CaseEvent.objects.filter(case=OuterRef("pk"), kind="case.age_group_changed")
        .order_by("at", "pk")
        .values(was=KT("data__from"))[:1]
    )
    return {
        "dp_age_group": DbCase(
            When(
                age_group=AgeGroup.ADULT,
                age_group_at_exploitation=ExploitationAgeGroup.CHILD,
                # Nested, so that the subquery runs only for the rows the first test keeps.
                then=DbCase(
                    When(Exact(first_from, AgeGroup.CHILD.value), then=Value(AgeGroup.CHILD.value)),
                    default=F("age_group"),
                ),
            ),
            default=F("age_group"),
        )
    }


REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")


def _nationality_categories(start: date, end: date) -> list[tuple[str, str]]:
    return [(region, region) for region in REGIONS] + [(NOT_KNOWN, "Stateless or not known")]


def _nationality_region(values: Sequence[Any]) -> str:
    """The UN M49 region of the first nationality recorded (one cell per referral)."""
    code = values[0]
    entry = m49_regions().get(str(code).upper()) if code else None
    region = entry["region"] if entry else None
    return region if region in REGIONS else NOT_KNOWN


def _exploitation_categories(start: date, end: date) -> list[tuple[str, str]]:
    return [(str(code), str(label)) for code, label in ExploitationType.choices] + [
        (MULTIPLE, "More than one type")
    ]


def _exploitation_type(values: Sequence[Any]) -> str:
    types = values[0] if isinstance(values[0], list) else []
    kinds = {str(kind) for kind in types}
    if len(kinds) > 1:
        return MULTIPLE
    if len(kinds) == 1 and (kind := kinds.pop()) in ExploitationType.values:
        return kind
    return str(ExploitationType.UNKNOWN)


def _authority_categories(start: date, end: date) -> list[tuple[str, str]]:
    return [
        (str(pk), name)
        for pk, name in Organisation.objects.filter(
            kind=OrganisationKind.COMPETENT_AUTHORITY
        ).values_list("pk", "name")
    ]


def _authority(values: Sequence[Any]) -> str:
    return str(values[0])  # a referral routed elsewhere finds no cell: it is left out


def quarters(start: date, end: date) -> list[tuple[int, int]]:
    """Every (year, quarter) the period touches, in order."""
    found = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        found.append((year, quarter))
        year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    return found


def _quarter_categories(start: date, end: date) -> list[tuple[str, str]]:
    return [(f"{y}-Q{q}", f"{y} quarter {q}") for y, q in quarters(start, end)]


def _quarter(values: Sequence[Any]) -> str:
    start = values[0]  # the first moment of the quarter, in local time
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


DIMENSIONS: dict[str, Dimension] = {
    dimension.key: dimension
    for dimension in (
        Dimension("sex", "Sex", ("person__sex",), _choices(Sex), _known(Sex, Sex.UNKNOWN)),
        Dimension(
            "age_group",
            "Age group",
            ("dp_age_group",),
            _choices(AgeGroup),
            _known(AgeGroup),
            _age_group_when_referred,
        ),
        Dimension(
            "nationality_region",
            "Nationality (UN M49 region)",
            ("person__nationalities__0",),
            _nationality_categories,
            _nationality_region,
        ),
        Dimension(
            "exploitation_type",
            "Exploitation type",
            ("exploitation_types",),
            _exploitation_categories,
            _exploitation_type,
        ),
        Dimension(
            "competent_authority",
            "Competent authority",
            ("competent_authority_id",),
            _authority_categories,
            _authority,
        ),
        Dimension(
            "jurisdiction",
            "Jurisdiction",
            ("jurisdiction",),
            _choices(Jurisdiction),
            _known(Jurisdiction),
        ),
        Dimension("status", "Status now", ("status",), _choices(CaseStatus), _known(CaseStatus)),
        Dimension(
            "quarter",
            "Quarter referred",
            ("dp_quarter",),
            _quarter_categories,
            _quarter,
            # One expression, which PostgreSQL keeps statistics on (cases/0013): with them it
            # hashes the few groups instead of sorting every referral.
            lambda: {"dp_quarter": TruncQuarter("submitted_at")},
        ),
    )
}


@dataclass(frozen=True)
class Query:
    start: date
    end: date
    dimensions: tuple[str, ...]
    epsilon: Decimal

    def problems(self, today: date | None = None) -> dict[str, str]:
        """What is wrong with the question, by form field (empty if nothing). `today` is the
        local date (by default, now's)."""
        found: dict[str, str] = {}
        unknown = [key for key in self.dimensions if key not in DIMENSIONS]
        if unknown:
            found["dimensions"] = "Select the ways to split the count from the list"
        elif len(self.dimensions) < MIN_DIMENSIONS:
            found["dimensions"] = "Select at least one way to split the count"
        elif len(self.dimensions) > MAX_DIMENSIONS:
            found["dimensions"] = f"Select no more than {MAX_DIMENSIONS} ways to split the count"
        elif len(set(self.dimensions)) != len(self.dimensions):
            found["dimensions"] = "Select each way to split the count only once"
        found |= self._period_problems(today or timezone.localdate())
        if not EPSILON_MIN <= self.epsilon <= EPSILON_MAX:
            found["epsilon"] = f"Epsilon must be between {EPSILON_MIN} and {EPSILON_MAX}"
        return found

    def _period_problems(self, today: date) -> dict[str, str]:
        found: dict[str, str] = {}
        # No referral is submitted after today, so a later day asks for nothing; refusing it
        # also keeps the period's bounds far from the last date Python can hold (9999-12-31).
        if self.start > today:
            found["start"] = "The start of the period must be today or earlier"
        elif self.start < EARLIEST:
            found["start"] = "The start of the period must be on or after 1 April 2009"
        if self.end > today:
            found["end"] = "The end of the period must be today or earlier"
        elif self.end < self.start:
            found["end"] = "The end of the period must be the same as or after its start"
        elif (self.end - self.start).days > MAX_PERIOD_DAYS:
            found["end"] = "The period must be 10 years or shorter"
        return found

    def describe(self) -> str:
        split = " by ".join(DIMENSIONS[key].label.lower() for key in self.dimensions)
        return f"Referrals by {split}, {self.start:%-d %b %Y} to {self.end:%-d %b %Y}"


@dataclass(frozen=True)
class Cell:
    categories: tuple[str, ...]
    labels: tuple[str, ...]
    noisy: int  # as released: may be below 0
    low: int
    high: int

    @property
    def shown(self) -> int:
        """What the page shows: a negative answer is shown as 0 (post-processing)."""
        return max(0, self.noisy)


@dataclass(frozen=True)
class Answer:
    query: Query
    cells: list[Cell]
    scale: float
    margin: int  # the half-width of every cell's 95% interval

    @property
    def headings(self) -> list[str]:
        return [DIMENSIONS[key].label for key in self.query.dimensions]


def universe(query: Query) -> list[tuple[tuple[str, str], ...]]:
    """Every cell of the table: the cross product of the dimensions' known categories."""
    return list(
        itertools.product(
            *(DIMENSIONS[key].categories(query.start, query.end) for key in query.dimensions)
        )
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _cases(query: Query) -> QuerySet[Case]:
    """The referrals submitted in the period's days (local time), as a range of moments: the
    index on `submitted_at` serves it, with no conversion of each row's time."""
    cases = Case.objects.filter(submitted_at__gte=_local_midnight(query.start))
    if query.end == date.max:
        return cases  # there is no day after it to end before: every later referral is in it
    return cases.filter(submitted_at__lt=_local_midnight(query.end + timedelta(days=1)))


def true_counts(query: Query) -> dict[tuple[str, ...], int]:
    """The exact count of referrals in each cell that has any, from one grouped query."""
    dimensions = [DIMENSIONS[key] for key in query.dimensions]
    annotations: dict[str, Any] = {}
    for dimension in dimensions:
        annotations |= dimension.annotations()
    columns = [column for dimension in dimensions for column in dimension.columns]
    rows = (
        _cases(query)
        .annotate(**annotations)
        .values_list(*columns)
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, ...], int] = {}
    for *values, n in rows:
        key: list[str] = []
        offset = 0
        for dimension in dimensions:
            width = len(dimension.columns)
            category = dimension.category_of(values[offset : offset + width])
            offset += width
            if category is None:
                break
            key.append(category)
        else:
            counts[tuple(key)] = counts.get(tuple(key), 0) + n
    return counts


def measurement(epsilon: Decimal, size: int) -> Any:
    """The discrete Laplace mechanism over a vector of `size` counts with L1 sensitivity 1 (one
    referral is in one cell), with scale 1/epsilon; OpenDP confirms the privacy it gives."""
    mechanism = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int), size=size),
        dp.l1_distance(T=int),
        scale=1.0 / float(epsilon),
    )
    spent = mechanism.map(1)
    if spent > float(epsilon) * (1 + 1e-9):
        raise RuntimeError(f"The mechanism spends {spent}, more than the {epsilon} charged")
    return mechanism


def margin(epsilon: Decimal) -> int:
    """The half-width of the 95% interval around each noisy count."""
    accuracy = dp.discrete_laplacian_scale_to_accuracy(1.0 / float(epsilon), ALPHA)
    return int(accuracy) + (0 if float(accuracy).is_integer() else 1)


def release(counts: Sequence[int], epsilon: Decimal) -> list[int]:
    """The counts with noise: one draw of the mechanism for the whole table."""
    if not counts:
        return []
    return [int(value) for value in measurement(epsilon, len(counts))(list(counts))]


def answer(query: Query) -> Answer:
    """The question's table with noise. Charge the budget before calling this (services)."""
    cells = universe(query)
    exact = true_counts(query)
    noisy = release(
        [exact.get(tuple(code for code, _ in cell), 0) for cell in cells], query.epsilon
    )
    half = margin(query.epsilon)
    return Answer(
        query=query,
        cells=[
            Cell(
                categories=tuple(code for code, _ in cell),
                labels=tuple(label for _, label in cell),
                noisy=value,
                low=max(0, value - half),
                high=max(0, value + half),
            )
            for cell, value in zip(cells, noisy, strict=True)
        ],
        scale=1.0 / float(query.epsilon),
        margin=half,
    )
