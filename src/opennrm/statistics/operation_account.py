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

# What became of each person found: the one route their draft took.
OUTCOMES = ("referred", "duty_to_notify", "declined", "not_yet_submitted")
OUTCOME_LABELS = {
    "referred": "Referred to the National Referral Mechanism",
    "duty_to_notify": "Reported under the duty to notify only (no consent to a referral)",
    "declined": "Declined (no referral and no report)",
    "not_yet_submitted": "Referral not yet submitted",
}

# Where each stands now (operations.selectors.Standing, read when the release was prepared).
STANDINGS = (
    "draft",
    "referred",
    "duty_to_notify",
    "declined",
    "placed",
    "waiting_for_bed",
    "missing",
)
STANDING_LABELS = {
    "draft": "Referral not yet submitted",
    "referred": "Referred, not in a safe-house place",
    "duty_to_notify": "Reported under the duty to notify only",
    "declined": "Declined",
    "placed": "In a safe-house place, or on the way to one",
    "waiting_for_bed": "Waiting for a bed",
    "missing": "Missing (decision suspended)",
}

# The decision in effect on each referral; people not referred are a row of their own.
NOT_REFERRED = "not_referred"
RG_DECISIONS = ("positive", "negative", "awaiting", NOT_REFERRED)
RG_LABELS = {
    "positive": "Positive",
    "negative": "Negative",
    "awaiting": "Awaiting a decision",
    NOT_REFERRED: "Not referred",
}
NO_CG_DUE = "not_due"
CG_DECISIONS = ("positive", "negative", "awaiting", NO_CG_DUE)
CG_LABELS = {
    "positive": "Conclusive grounds: positive",
    "negative": "Conclusive grounds: negative",
    "awaiting": "Conclusive grounds: awaited",
    NO_CG_DUE: "No conclusive grounds decision due",
}

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
    their total and their margins (ADR 0032): a figure suppressed in one is suppressed in all."""
    people = account.people
    age = Dimension("age_group", AGE_GROUPS)
    as_of = _as_of(account)
    reasons = tuple(sorted(set(account.turned_away)))
    return [
        StatTable(
            counted(
                "people_found_by_sex_and_age_group",
                [Dimension("sex", SEXES), age],
                ((p.sex, p.age_group) for p in people),
                population=PEOPLE,
            ),
            "People found, by sex and age group",
            "people",
            (
                PEOPLE_NOTE,
                "Age group as recorded when the person was found. A person whose age is "
                "disputed is treated as a child until their age is assessed.",
            ),
            {"sex": SEX_LABELS, "age_group": AGE_LABELS},
        ),
        StatTable(
            counted(
                "people_by_outcome_and_age_group",
                [Dimension("outcome", OUTCOMES), age],
                ((p.outcome, p.age_group) for p in people),
                population=PEOPLE,
            ),
            "People found, by whether they were referred, reported or declined",
            "people",
            (
                PEOPLE_NOTE,
                "An adult may only be referred with their consent; without it, a public "
                "authority reports them under the duty to notify, without their name. A child "
                "is referred without consent.",
                as_of,
            ),
            {"outcome": OUTCOME_LABELS, "age_group": AGE_LABELS},
        ),
        StatTable(
            counted(
                "people_by_standing",
                [Dimension("standing", STANDINGS)],
                ((p.standing,) for p in people),
                population=PEOPLE,
            ),
            "Where the people found stand now",
            "people",
            (PEOPLE_NOTE, as_of),
            {"standing": STANDING_LABELS},
        ),
        StatTable(
            counted(
                "people_by_decisions",
                [Dimension("rg_decision", RG_DECISIONS), Dimension("cg_decision", CG_DECISIONS)],
                ((p.rg, p.cg) for p in people),
                population=PEOPLE,
            ),
            "People found, by the reasonable grounds and conclusive grounds decisions in effect",
            "people",
            (
                PEOPLE_NOTE,
                "The decision in effect: a decision reconsidered counts as the new one once it "
                "is made, and as awaited until then. A conclusive grounds decision is due only "
                "after a positive reasonable grounds decision.",
                as_of,
            ),
            {"rg_decision": RG_LABELS, "cg_decision": CG_LABELS},
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
    people reported under the duty to notify, and those who declined, are the same in the
    table of outcomes and the table of standings; the people not referred are those reported,
    declined or not yet submitted."""
    return [
        Relation(_people(standing="duty_to_notify"), (_people(outcome="duty_to_notify"),)),
        Relation(_people(standing="declined"), (_people(outcome="declined"),)),
        Relation(
            _people(rg_decision=NOT_REFERRED),
            tuple(_people(outcome=o) for o in OUTCOMES if o != "referred"),
        ),
    ]


def protect(
    made: Sequence[AnyTable], threshold: int = disclosure.DEFAULT_THRESHOLD
) -> disclosure.Protected:
    """The account's tables protected as one release, with the relations across them."""
    return tables.protect(made, threshold, relations=account_relations())
