"""The public account of an enforcement operation (issue 14, item 6; ADR 0046): the official
tables of one operation that has ended, published as a release through the same protection,
checker, approval and pages as every other release (ADR 0036).

The statistics app cannot import `operations` (operations imports `statistics.capacity`, and
the apps' imports form no cycle, ADR 0020), so the operations app reads its own records and
hands them over as plain rows: it registers a `Source` from its `AppConfig.ready()` (as it
registers its protection source with `protection`). This module holds the contract (the rows
and the codes they use), the registry, and the pure builders that turn the rows into tables.

What the rows hold is decided here, not by the source: the codes of each dimension are listed
below, and `tables.counted` refuses a row with any other code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from opennrm.accommodation.matching import constraint_label
from opennrm.cases.choices import Sex

from . import disclosure, tables
from .disclosure import Cell, Dimension, Relation
from .tables import NOT_KNOWN, SEXES, AnyTable, StatTable, counted

PEOPLE = "operation_people"
REQUESTS = "operation_turned_away"
REMOVALS = "operation_planned_removals"

# The operation's own age groups (as the reception record takes them): age disputed is its own
# group, never counted as adult (treated as a child until assessed, CETS Art. 10(3)).
AGE_GROUPS = ("adult", "child", "age_disputed")
AGE_LABELS = {"adult": "Adult", "child": "Child", "age_disputed": "Age disputed"}
SEX_LABELS = {s.value: s.label for s in Sex}

# The route each person's draft took (`Person.outcome`) and where they stand now
# (`Person.standing`: operations.selectors.Standing, read when the version was prepared).
# A child or age-disputed person whose draft was deleted (only retention deletes one): they are
# referred without consent, so they cannot have declined; their own outcome and row.
CHILD_NOT_REFERRED = "child_not_referred"
OUTCOMES = ("referred", "duty_to_notify", "declined", CHILD_NOT_REFERRED, "not_yet_submitted")
STANDINGS = (
    "draft",
    "referred",
    "duty_to_notify",
    "declined",
    "not_referred",
    "placed",
    "waiting_for_bed",
    "missing",
)

# What became of each person, in one table: the route their draft took, and, for the people
# referred or not yet referred, where they stand now (their outcome and standing together). A
# person who went missing before their referral was submitted is missing here too, as on the
# board and in the report (ADR 0043).
REFERRED_ROWS = ("referred_placed", "referred_waiting", "referred_missing", "referred_other")
NOT_REFERRED_ROWS = (
    "draft_waiting",
    "draft_missing",
    "draft",
    "duty_to_notify",
    "declined",
    CHILD_NOT_REFERRED,
)
BECAME = (*REFERRED_ROWS, *NOT_REFERRED_ROWS)
BECAME_LABELS = {
    "referred_placed": "Referred: in a safe-house place",
    "referred_waiting": "Referred: waiting for a bed",
    "referred_missing": "Referred: missing",
    "referred_other": "Referred: not in or waiting for a safe-house place",
    "draft_waiting": "Referral not yet submitted: waiting for a bed",
    "draft_missing": "Referral not yet submitted: missing",
    "draft": "Referral not yet submitted",
    "duty_to_notify": "Reported under the duty to notify only (no consent to a referral)",
    "declined": "Declined (no referral and no report)",
    CHILD_NOT_REFERRED: "Not referred (child or age disputed; the draft was deleted)",
}


def became_of(person: Person) -> str:
    """The person's row in the table of what became of them."""
    if person.outcome == "referred":
        found = {"placed": "placed", "waiting_for_bed": "waiting", "missing": "missing"}
        return f"referred_{found.get(person.standing, 'other')}"
    if person.outcome == "not_yet_submitted":
        found = {"waiting_for_bed": "draft_waiting", "missing": "draft_missing"}
        return found.get(person.standing, "draft")
    return person.outcome


# The decisions in effect on each referral (`Person.rg`, `Person.cg`).
NOT_REFERRED = "not_referred"
RG_DECISIONS = ("positive", "negative", "awaiting", NOT_REFERRED)
NO_CG_DUE = "not_due"
CG_DECISIONS = ("positive", "negative", "awaiting", NO_CG_DUE)

# The two decisions together, one row each (a table of one dimension: see `account_tables`).
DECISIONS = (
    "rg_positive_cg_positive",
    "rg_positive_cg_negative",
    "rg_positive_cg_awaiting",
    "rg_negative",
    "rg_awaiting",
    NOT_REFERRED,
)
DECISION_LABELS = {
    "rg_positive_cg_positive": "Positive reasonable grounds, then positive conclusive grounds",
    "rg_positive_cg_negative": "Positive reasonable grounds, then negative conclusive grounds",
    "rg_positive_cg_awaiting": "Positive reasonable grounds, conclusive grounds awaited",
    "rg_negative": "Negative reasonable grounds",
    "rg_awaiting": "Reasonable grounds decision awaited",
    NOT_REFERRED: "Not referred",
}


def decisions_of(person: Person) -> str:
    """The person's row in the table of decisions."""
    if person.rg == NOT_REFERRED:
        return NOT_REFERRED
    if person.rg == "positive":
        return (
            f"rg_positive_cg_{person.cg if person.cg in ('positive', 'negative') else 'awaiting'}"
        )
    return f"rg_{person.rg}"


# Days from the day a person was found to the day they arrived at a safe-house place.
NOT_PLACED = "not_placed"
TIME_BANDS: tuple[tuple[str, str, int | None], ...] = (
    ("same_day", "The same day", 0),
    ("1_to_2_days", "1 to 2 days", 2),
    ("3_to_7_days", "3 to 7 days", 7),
    ("more_than_7_days", "More than 7 days", None),
)
TIME_LABELS = {
    **{code: label for code, label, _ in TIME_BANDS},
    NOT_PLACED: "Not placed in a safe house",
}
TIMES = (*(code for code, _, _ in TIME_BANDS), NOT_PLACED)

WENT_MISSING = ("went_missing", "did_not_go_missing")
MISSING_LABELS = {
    "went_missing": "Went missing at least once",
    "did_not_go_missing": "Did not go missing",
}

PROTECTED = ("protected", "not_protected")
PROTECTED_LABELS = {
    "protected": "Protected on the planned day (removal must not proceed)",
    "not_protected": "Not protected on the planned day",
}


def time_band(days: int | None) -> str:
    """The band of the days from being found to arriving at a place (None: never placed)."""
    if days is None:
        return NOT_PLACED
    for code, _label, most in TIME_BANDS:
        if most is None or days <= most:
            return code
    return TIME_BANDS[-1][0]


# --- The rows a source gives ------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One person taken in during the operation, as the account counts them."""

    sex: str  # a cases.choices.Sex value
    age_group: str  # AGE_GROUPS
    outcome: str  # OUTCOMES
    standing: str  # STANDINGS
    rg: str  # RG_DECISIONS
    cg: str  # CG_DECISIONS
    days_to_place: int | None  # from the day found to the first arrival at a place; None: never
    went_missing: bool


@dataclass(frozen=True)
class Summary:
    """An operation that may be released: it took place and has ended."""

    id: int
    name: str
    starts_on: date
    ends_on: date
    region_label: str


@dataclass(frozen=True)
class Account:
    """Everything the public account counts, read from the live records on `as_of`."""

    operation: Summary
    as_of: date
    people: tuple[Person, ...]
    # The reason (a matching constraint code, "taken", "no_beds" or NOT_KNOWN) each request for
    # a bed for one of the people was first found unmet.
    turned_away: tuple[str, ...]
    # For each removal planned for one of the people: whether they were protected that day.
    planned_removals: tuple[bool, ...]


class NotReleasable(Exception):
    """The operation cannot have a public account (yet): the message says why."""


class Source(Protocol):
    def releasable(self, today: date) -> list[Summary]:
        """The operations that have ended, not cancelled, newest first."""
        ...

    def account(self, operation_id: int, today: date) -> Account:
        """The account of one of them; `NotReleasable` for any other operation."""
        ...


_SOURCES: list[Source] = []


def register_source(source: Source) -> None:
    """Called by the operations app from its `AppConfig.ready()`."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def source() -> Source:
    if not _SOURCES:
        raise NotReleasable("Operations are not installed: there is no operation to release.")
    return _SOURCES[0]


# --- The tables (pure) -------------------------------------------------------------------

PEOPLE_NOTE = (
    "Counts are of people found and taken in during the operation, each once, whatever "
    "happened to them after."
)


def _as_of(account: Account) -> str:
    return f"As recorded on {account.as_of:%-d %B %Y}, when this version was prepared."


def account_tables(account: Account) -> list[AnyTable]:
    """The account's tables. Every table of people counts the same population, so they share
    their total (ADR 0032): a figure suppressed in one is suppressed in all. Each has one
    dimension: an operation finds tens of people, mostly of one age group and sex, and a table
    of two dimensions would be mostly zeros that tie each row to its total, so that suppressing
    one small count would spread to nearly every figure."""
    people = account.people
    age = Dimension("age_group", AGE_GROUPS)
    as_of = _as_of(account)
    reasons = tuple(sorted(set(account.turned_away)))
    return [
        StatTable(
            counted(
                "people_found_by_sex",
                [Dimension("sex", SEXES)],
                ((p.sex,) for p in people),
                population=PEOPLE,
            ),
            "People found, by sex",
            "people",
            (PEOPLE_NOTE,),
            {"sex": SEX_LABELS},
        ),
        StatTable(
            counted(
                "people_found_by_age_group",
                [age],
                ((p.age_group,) for p in people),
                population=PEOPLE,
            ),
            "People found, by age group",
            "people",
            (
                PEOPLE_NOTE,
                "Age group as recorded when the person was found. A person whose age is "
                "disputed is treated as a child until their age is assessed.",
            ),
            {"age_group": AGE_LABELS},
        ),
        StatTable(
            counted(
                "people_by_what_became_of_them",
                [Dimension("became", BECAME)],
                ((became_of(p),) for p in people),
                population=PEOPLE,
            ),
            "People found, by whether they were referred, reported or declined, and where they "
            "stand now",
            "people",
            (
                PEOPLE_NOTE,
                "An adult may only be referred with their consent; without it, a public "
                "authority reports them under the duty to notify, without their name. A child "
                "is referred without consent, so never declines: a child or age-disputed person "
                "whose draft referral was deleted unsubmitted is counted as not referred.",
                "In a safe-house place includes a person on their way to one. Missing: the "
                "person went missing before a reasonable grounds decision, which waits for "
                "them, or before their referral was submitted.",
                as_of,
            ),
            {"became": BECAME_LABELS},
        ),
        StatTable(
            counted(
                "people_by_decisions",
                [Dimension("decisions", DECISIONS)],
                ((decisions_of(p),) for p in people),
                population=PEOPLE,
            ),
            "People found, by the reasonable grounds and conclusive grounds decisions in effect",
            "people",
            (
                PEOPLE_NOTE,
                "The decision in effect: a decision reconsidered counts as the new one once it "
                "is made, and as awaited until then. A conclusive grounds decision is made only "
                "after a positive reasonable grounds decision.",
                "A decision suspended or withdrawn (the person went missing, or left the "
                "country, before it) decided nothing: the person counts as awaiting it, never "
                "as negative.",
                as_of,
            ),
            {"decisions": DECISION_LABELS},
        ),
        StatTable(
            counted(
                "people_by_time_to_a_place",
                [Dimension("time_to_place", TIMES)],
                ((time_band(p.days_to_place),) for p in people),
                population=PEOPLE,
            ),
            "People found, by the time from being found to arriving at a safe-house place",
            "people",
            (
                PEOPLE_NOTE,
                "Days from the day the person was found to the day they first arrived at a "
                "safe-house place recorded in OpenNRM; support outside it is not recorded.",
                as_of,
            ),
            {"time_to_place": TIME_LABELS},
        ),
        StatTable(
            counted(
                "people_gone_missing",
                [Dimension("went_missing", WENT_MISSING)],
                (("went_missing" if p.went_missing else "did_not_go_missing",) for p in people),
                population=PEOPLE,
            ),
            "People found who went missing from support",
            "people",
            (PEOPLE_NOTE, "A person who went missing twice counts once.", as_of),
            {"went_missing": MISSING_LABELS},
        ),
        StatTable(
            counted(
                "turned_away_by_reason",
                [Dimension("reason", reasons)],
                ((reason,) for reason in account.turned_away),
                population=REQUESTS,
            ),
            "Requests for a bed for the people found that no suitable bed could meet, by reason",
            "placement requests",
            (
                "Counts are of requests for a place; a request found unmet on several days "
                "counts once, under the reason of the first day. A request closed as unmet "
                "with no reason recorded counts as not known.",
                as_of,
            ),
            {"reason": {code: _reason_label(code) for code in reasons}},
        ),
        StatTable(
            counted(
                "planned_removals_by_protection",
                [Dimension("protected", PROTECTED)],
                (("protected" if p else "not_protected",) for p in account.planned_removals),
                population=REMOVALS,
            ),
            "Removals planned for people found, by whether they were protected from removal",
            "planned removals",
            (
                "Counts are of removals an immigration enforcement organisation recorded as "
                "planned for one of the people found, by their reception or referral "
                "reference. A protected person must not be removed: the count of planned "
                "removals of protected people should be zero.",
                "OpenNRM records that a removal was planned and what the protection check "
                "answered for the planned day, not whether the removal took place.",
                as_of,
            ),
            {"protected": PROTECTED_LABELS},
        ),
        *NOT_IN_AN_ACCOUNT,
    ]


NOT_IN_AN_ACCOUNT = (
    tables.Missing(
        "Nationality and type of exploitation of the people found",
        "Not published for an operation: with few people found in one place and time, their "
        "nationalities or the kind of exploitation could identify them.",
    ),
    tables.Missing(
        "Removals carried out",
        "OpenNRM records that a removal was planned and what the protection check answered "
        "for the planned day, not whether the removal took place.",
    ),
)


def _reason_label(code: str) -> str:
    return "Not known" if code == NOT_KNOWN else constraint_label(code)


def _people(**values: str) -> Cell:
    return Cell.of(PEOPLE, **values)


def account_relations() -> list[Relation]:
    """What a reader knows beyond each table's own sums, for the checker to know it too: the
    people with no decision because they were not referred are the people not referred in the
    table of what became of them (every row of `NOT_REFERRED_ROWS`, the missing before
    referral and the children whose draft was deleted included)."""
    return [
        Relation(
            _people(decisions=NOT_REFERRED),
            tuple(_people(became=row) for row in NOT_REFERRED_ROWS),
        )
    ]


def protect(
    made: Sequence[AnyTable], threshold: int = disclosure.DEFAULT_THRESHOLD
) -> disclosure.Protected:
    """The account's tables protected as one release, with the relations across them."""
    return tables.protect(made, threshold, relations=account_relations())
