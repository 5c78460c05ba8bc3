"""The de-identified case-level extract for researchers (issue 13, item 4; ADR 0034).

One row per referral submitted in a period: the year and quarter of the referral, the age
group and age band, sex, nationality, the exploitation type(s), the competent authority, the
reasonable and conclusive grounds outcomes, the days to each decision in bands and the age of a
case still without a conclusive decision, in bands. Never a name, reference, date of birth,
exact date, free text or any identifier: the rows are built from one query's `values()` that
reads none of them (`referral_rows`).

The quasi-identifiers (`QUASI_IDENTIFIERS`, the age of a case among them: it dates the referral)
are made k-anonymous by global recoding and bounded row suppression (`kanonymity.anonymise`,
default k = 11 as CTDC); the outcomes and the days to each decision are the attributes the
extract is for, and are not generalised. Before any file is produced,
`require_k` counts every combination of the quasi-identifiers afresh (`kanonymity.check_k`,
which shares no code with `anonymise`) and refuses, with a message, if any is under k.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from django.db.models import DateTimeField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from opennrm.cases.choices import (
    AgeGroup,
    CaseStatus,
    ExploitationAgeGroup,
    ExploitationType,
    Sex,
)
from opennrm.cases.models import Case
from opennrm.decisions.models import Decision, DecisionKind, DecisionState

from . import kanonymity
from .kanonymity import DEFAULT_K, DEFAULT_MAX_SUPPRESSION, Hierarchy
from .spreadsheets import csv_cell

NOT_GIVEN = "Not given"  # the top of every hierarchy but nationality's: the column withheld

# --- Columns ----------------------------------------------------------------------------------

COLUMNS: tuple[str, ...] = (
    "referral_year",
    "referral_quarter",
    "age_group",
    "age_band",
    "sex",
    "nationality",
    "exploitation_type",
    "competent_authority",
    "rg_outcome",
    "days_to_rg",
    "cg_outcome",
    "days_rg_to_cg",
    "age_of_case",
)
# `age_of_case` is the extract's day less the referral's, banded: with the day known it dates
# the referral, so it is a quasi-identifier too. Were it an attribute, it would tell apart the
# quarters that generalising `referral_quarter` to the year had merged into one group.
QUASI_IDENTIFIERS: tuple[str, ...] = (*COLUMNS[:8], "age_of_case")
# Names that must never be a column of an extract (tests check every extract against them).
FORBIDDEN_COLUMNS = frozenset(
    {
        "id",
        "pk",
        "reference",
        "name",
        "given_names",
        "family_name",
        "date_of_birth",
        "submitted_at",
        "decided_at",
        "closed_at",
        "area",
        "reasons",
        "responders_account",
        "person",
        "person_id",
        "case_id",
    }
)

# --- Bands ------------------------------------------------------------------------------------

CTDC_AGE_BOUNDS = (0, 9, 18, 21, 24, 27, 30, 39, 48)  # CTDC's ageBroad: 0--8 ... 48+
WIDE_AGE_BOUNDS = (0, 18, 30)
MAJORITY_BOUNDS = (0, 18)
DAYS_TO_RG_BOUNDS = (0, 6, 16, 31, 91, 181, 366)
DAYS_RG_TO_CG_BOUNDS = (0, 46, 91, 181, 366, 731)
AGE_OF_CASE_BOUNDS = (0, 91, 181, 366, 731, 1096)
WIDE_AGE_OF_CASE_BOUNDS = (0, 366)


def band(value: int | None, bounds: Sequence[int]) -> str:
    """The band of `bounds` (ascending lower bounds, the last open) holding `value`, in CTDC's
    form (`18--20`, `48+`); empty when the value is unknown or below the first bound."""
    if value is None or value < bounds[0]:
        return ""
    for low, high in zip(bounds, (*bounds[1:], None), strict=True):
        if high is None or value < high:
            return kanonymity.band_label(low, None if high is None else high - 1)
    raise AssertionError("unreachable")  # pragma: no cover


def _band_map(source: Sequence[int], target: Sequence[int]) -> dict[str, str]:
    """Each band of `source` to the band of `target` holding it (the bands must nest)."""
    return {band(low, source): band(low, target) for low in source}


AGE_BAND_LEVELS = (
    _band_map(CTDC_AGE_BOUNDS, WIDE_AGE_BOUNDS),
    _band_map(CTDC_AGE_BOUNDS, MAJORITY_BOUNDS),
)

# --- Labels -----------------------------------------------------------------------------------

# The age group when the exploitation began, as the Home Office counts (ADR 0042): a child or
# age-disputed person at referral was a child then; an adult's is the referrer's answer.
AGE_GROUP_LABEL = {
    ExploitationAgeGroup.ADULT: "Adult",
    ExploitationAgeGroup.CHILD: "Child",
    ExploitationAgeGroup.NOT_KNOWN: "Not known",
}
SEX_LABEL = {Sex.FEMALE: "Female", Sex.MALE: "Male", Sex.OTHER: "Other", Sex.UNKNOWN: "Not known"}
OUTCOME_LABEL = {"positive": "Positive", "negative": "Negative", "not_decided": "Not decided"}
AWAITING = "Awaiting"
NOT_APPLICABLE = "Not applicable"
CLOSED_UNDECIDED = "Closed without a decision"
# A case in one of these states with no decision of the stage is still waiting for it.
STILL_OPEN = frozenset(
    {
        CaseStatus.AWAITING_REASONABLE_GROUNDS,
        CaseStatus.RG_SUSPENDED,
        CaseStatus.RECOVERY_PERIOD,
        CaseStatus.RECONSIDERATION,
    }
)
MULTIPLE = "multiple"  # exploitation: more than one type, at level 1


KNOWN_TYPES = frozenset(ExploitationType.values) - {ExploitationType.UNKNOWN.value}


def exploitation_value(types: Iterable[str]) -> str:
    """The recorded exploitation types as one value: the codes, sorted, joined by `;`
    ("criminal;labour"); "unknown" when none is known."""
    known = sorted({t for t in types if t in KNOWN_TYPES})
    return ";".join(known) if known else ExploitationType.UNKNOWN.value


def exploitation_types(value: str) -> list[str]:
    """The types an extract's exploitation value names (none for "unknown", "multiple" or a
    withheld value)."""
    return [t for t in value.split(";") if t in KNOWN_TYPES]


# --- Hierarchies ------------------------------------------------------------------------------


def hierarchies(rows: Sequence[Mapping[str, Any]], *, k: int) -> list[Hierarchy]:
    """The generalisation of each quasi-identifier (ADR 0034): quarter to year; age band to
    wide band to child or adult; nationality by name where recorded at least k times, else by
    UN M49 sub-region, then region; several exploitation types to "multiple"; the age of a case
    to under or over a year (a case not waiting keeps its empty value); then each to one value
    for the whole extract (the column withheld)."""
    exploitation = {
        str(row["exploitation_type"]): (
            MULTIPLE if ";" in str(row["exploitation_type"]) else str(row["exploitation_type"])
        )
        for row in rows
    }
    return [
        Hierarchy(
            "year_quarter",
            (kanonymity.year_of_quarter,),
            top=NOT_GIVEN,
            names=("year",),
        ),
        Hierarchy("age_group", (), top=NOT_GIVEN),
        Hierarchy(
            "age_band",
            tuple(level.get for level in AGE_BAND_LEVELS),
            top=NOT_GIVEN,
            names=("bands 0--17, 18--29, 30+", "bands 0--17, 18+"),
        ),
        Hierarchy("sex", (), top=NOT_GIVEN),
        kanonymity.keep_frequent(kanonymity.nationality_hierarchy(), rows, k),
        Hierarchy(
            "exploitation_type", (exploitation.get,), top=NOT_GIVEN, names=("several as one",)
        ),
        Hierarchy("competent_authority", (), top=NOT_GIVEN),
        Hierarchy(
            "age_of_case",
            (_band_map(AGE_OF_CASE_BOUNDS, WIDE_AGE_OF_CASE_BOUNDS).get,),
            top=NOT_GIVEN,
            names=("bands 0--365, 366+",),
        ),
    ]


# --- The extract ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Referrals submitted from `first` to `last`, both days included (local dates)."""

    first: date
    last: date

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = date(year, 3 * quarter - 2, 1)
        after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return cls(first, date.fromordinal(after.toordinal() - 1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))


class ExtractRefused(Exception):
    """The extract cannot be produced: k is not reached. The message says why."""


@dataclass(frozen=True)
class Extract:
    """The extract's rows (each with `COLUMNS`), the k it was made and checked for, how many
    referrals the period had and how many rows were suppressed, and the level of
    generalisation chosen for each quasi-identifier (by name)."""

    period: Period
    k: int
    rows: list[dict[str, str]]
    total: int
    suppressed: int
    levels: dict[str, str]


def referral_rows(period: Period, *, today: date | None = None) -> list[dict[str, str]]:
    """One row per referral submitted in the period, from one query (values(), the decisions
    as subqueries): nothing that identifies anyone is read. Outcomes and the age of a case are
    as they stand today (the day the extract is made)."""
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    start = datetime.combine(period.first, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(date.fromordinal(period.last.toordinal() + 1), datetime.min.time(), tz)

    def latest(kind: str) -> Any:
        return Decision.objects.filter(
            case=OuterRef("pk"), kind=kind, state=DecisionState.IN_EFFECT
        ).order_by("-decided_at", "-id")

    def effective(kind: str) -> Subquery:
        return Subquery(
            latest(kind)
            .annotate(effective=Coalesce("approved_at", "decided_at"))
            .values("effective")[:1],
            output_field=DateTimeField(),
        )

    found = (
        Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .annotate(
            rg_kind=Subquery(latest(DecisionKind.REASONABLE_GROUNDS).values("outcome_kind")[:1]),
            rg_at=effective(DecisionKind.REASONABLE_GROUNDS),
            cg_kind=Subquery(latest(DecisionKind.CONCLUSIVE_GROUNDS).values("outcome_kind")[:1]),
            cg_at=effective(DecisionKind.CONCLUSIVE_GROUNDS),
        )
        .order_by()
        .values_list(
            "submitted_at",
            "age_group",
            "age_group_at_exploitation",
            "person__age_at_referral",
            "person__sex",
            "person__nationalities",
            "exploitation_types",
            "competent_authority__name",
            "status",
            "rg_kind",
            "rg_at",
            "cg_kind",
            "cg_at",
        )
    )
    return [_row(values, today, tz) for values in found.iterator(chunk_size=5000)]


def _row(values: tuple[Any, ...], today: date, tz: tzinfo) -> dict[str, str]:
    (submitted, age_group, at_exploitation, age, sex, nationalities, types, authority, status) = (
        values[:9]
    )
    rg_kind, rg_at, cg_kind, cg_at = values[9:]
    referred = submitted.astimezone(tz).date()
    rg_on = rg_at.astimezone(tz).date() if rg_at is not None else None
    cg_on = cg_at.astimezone(tz).date() if cg_at is not None else None
    waiting = status in STILL_OPEN
    if rg_kind is not None:
        rg_outcome = OUTCOME_LABEL.get(rg_kind, rg_kind)
    else:
        rg_outcome = AWAITING if waiting else CLOSED_UNDECIDED
    if cg_kind is not None:
        cg_outcome = OUTCOME_LABEL.get(cg_kind, cg_kind)
    elif rg_kind == "positive":
        cg_outcome = AWAITING if waiting else CLOSED_UNDECIDED
    else:
        cg_outcome = NOT_APPLICABLE
    return {
        "year_quarter": f"{referred.year}-Q{(referred.month - 1) // 3 + 1}",
        "age_group": AGE_GROUP_LABEL.get(at_exploitation, NOT_GIVEN),
        # The band of the age at referral (of the age group at referral, not at exploitation).
        "age_band": age_band_of(age_group, age),
        "sex": SEX_LABEL.get(sex, "Not known"),
        "nationality": str(nationalities[0]).upper() if nationalities else "",
        "exploitation_type": exploitation_value(types or ()),
        "competent_authority": authority,
        "rg_outcome": rg_outcome,
        "days_to_rg": band(_days(referred, rg_on), DAYS_TO_RG_BOUNDS),
        "cg_outcome": cg_outcome,
        "days_rg_to_cg": band(_days(rg_on, cg_on), DAYS_RG_TO_CG_BOUNDS),
        # How long a case still waiting for a decision (either) has waited, as of today.
        "age_of_case": band((today - referred).days, AGE_OF_CASE_BOUNDS)
        if AWAITING in (rg_outcome, cg_outcome)
        else "",
    }


def age_band_of(age_group: str, age: int | None) -> str:
    """The CTDC age band of the age at referral. A child, or a person whose age is disputed,
    with no age or an age of 18 or more recorded has no band: never an adult's."""
    child = age_group != AgeGroup.ADULT
    return "" if child and (age is None or age >= 18) else band(age, CTDC_AGE_BOUNDS)


def _days(start: date | None, end: date | None) -> int | None:
    return None if start is None or end is None else max((end - start).days, 0)


def anonymise(
    period: Period,
    raw: Sequence[Mapping[str, str]],
    *,
    k: int = DEFAULT_K,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
) -> Extract:
    """The raw rows made k-anonymous on the quasi-identifiers. Raises ExtractRefused when k
    cannot be reached within the suppression bound (too few referrals, or too varied)."""
    if k < 2:
        raise ValueError("k must be at least 2")
    chosen_hierarchies = hierarchies(raw, k=k)
    made = kanonymity.anonymise(raw, chosen_hierarchies, k=k, max_suppression=max_suppression)
    if not made.reached:
        raise ExtractRefused(
            f"The extract cannot be produced: its {len(raw):,} referrals cannot be grouped so "
            f"that every combination of {', '.join(QUASI_IDENTIFIERS)} holds at least {k} "
            f"referrals, even with every column generalised and up to "
            f"{max_suppression:.0%} of rows suppressed. Choose a longer period."
        )
    rows = [_output(row) for row in made.rows]
    # The level chosen for each column, by name, for the page and the release notes.
    chosen = {h.column: h.level_name(made.levels[h.column]) for h in chosen_hierarchies}
    return Extract(period, k, rows, len(raw), made.suppressed, chosen)


def _output(row: Mapping[str, Any]) -> dict[str, str]:
    year, _, quarter = str(row["year_quarter"]).partition("-")
    out = {
        "referral_year": "" if year == NOT_GIVEN else year,
        "referral_quarter": quarter,
    }
    for column in COLUMNS[2:]:
        value = str(row[column])
        out[column] = "" if value == NOT_GIVEN else value
    return out


def build(
    period: Period,
    *,
    k: int = DEFAULT_K,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
    today: date | None = None,
) -> Extract:
    """The extract of the period, from the live data, k-anonymous and checked (`require_k`)."""
    made = anonymise(
        period, referral_rows(period, today=today), k=k, max_suppression=max_suppression
    )
    require_k(made.rows, QUASI_IDENTIFIERS, made.k)
    return made


def require_k(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], k: int) -> None:
    """The gate before any file: raises ExtractRefused if any combination of `columns` occurs
    in fewer than k rows, counted afresh by `kanonymity.check_k`."""
    if k < 2:
        raise ExtractRefused(f"k must be at least 2, not {k}")
    small = kanonymity.check_k(rows, columns, k)
    if small:
        least = min(n for _, n in small)
        raise ExtractRefused(
            f"The extract cannot be produced: {len(small):,} combination"
            f"{'s' if len(small) != 1 else ''} of {', '.join(columns)} "
            f"{'occur' if len(small) != 1 else 'occurs'} in fewer than {k} rows "
            f"(the smallest in {least}). Nothing has been downloaded."
        )


def extract_csv(made: Extract) -> str:
    """The extract as CSV (a header of `COLUMNS`, then the rows), after the k check."""
    require_k(made.rows, QUASI_IDENTIFIERS, made.k)
    return write_csv(COLUMNS, made.rows)


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as CSV, every cell through `spreadsheets.csv_cell` as in the public downloads:
    a value beginning with a formula character (a competent authority's name that begins with
    "=") is written after a single quote, never as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(column) for column in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(column, "")) for column in columns])
    return out.getvalue()
