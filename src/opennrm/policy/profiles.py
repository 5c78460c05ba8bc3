"""Policy profiles: the rules of each regime, as effective-dated data.

Pure Python, no Django. A profile says what a legislature or a treaty set for one jurisdiction
over one range of dates: the reasonable-grounds target and test, the recovery period, when a
conclusive decision may be made and its outcomes, the reconsideration window, whether
disqualification exists, the move-on periods, the exploitation categories, and the working-day
calendar. `policy/clock.py` turns a profile into due dates.

Profiles are JSON files, one profile each: the bundled ones in `policy/profiles/`, and any a
deployment adds in directories of its own (`load_profiles(extra_dirs=[...])`; the caller reads
the directories from the environment, see `parse_profile_dirs`). Files are checked as a whole
and every problem is reported at once, each saying which file and which field.

The format (version 1), every field required unless marked optional:

    {
      "format": 1,
      "key": "uk-nrm-england-and-wales",     # names the profile; its versions share it
      "version": "ew-2023-01-30",            # unique across all profiles; stored on decisions
      "title": "...",
      "jurisdiction": "england_and_wales",   # or "cets197", or a deployment's own
      "effective_from": "2023-01-30",        # first day in force
      "effective_to": null,                  # last day in force (inclusive); null: open-ended
      "supersedes": "...",                   # optional: the open-ended profile this one ends
      "calendar": {"country": "GB", "subdivision": "ENG"},   # `holidays` codes; null: weekends only
      "reasonable_grounds_target_working_days": 5,           # null: no target
      "reasonable_grounds_test": "...",
      "reasonable_grounds_outcomes": [{"code": "positive", "label": "...", "kind": "positive"}],
      "recovery_period_days": 30,
      "recovery_period_counting": "beginning_with_decision_day",   # optional; or
                                             # "from_day_after_decision" (the default)
      "recovery_period_extendable": true,
      "conclusive_grounds_earliest": "last_day_of_recovery_period",
      "conclusive_grounds_standard": "...",                  # null: not set
      "conclusive_grounds_outcomes": [{"code": "...", "label": "...", "kind": "negative"}],
      "reconsideration_window_days": 30,                     # null: no reconsideration
      "reconsiderable_decisions": ["negative_reasonable_grounds"],
      "reconsideration_requesters": ["referrer", "support_provider"],
      "disqualification_available": true,
      "move_on_after_positive_conclusive": {"days": 45, "unit": "calendar_days",
        "adults_only": true},                # or null; "adults_only" optional (default false)
      "move_on_after_negative_conclusive": {"days": 9, "unit": "working_days",
        "adults_only": true},                # or null; likewise
      "support_after_positive_reasonable_grounds": {          # optional; null: none of its own
        "days": 90, "counting": "beginning_with_decision_day", "adults_only": true,
        "ends_at_conclusive_decision": true, "label": "Support under ..."},
      "negative_decisions_need_second_approval": true,
      "exploitation_types": ["sexual", "labour", ...],
      "source_notes": ["FACTS 2.6: ..."],
      "assumptions": ["..."]
    }

How a period is counted is data, because the regimes differ: "from_day_after_decision" makes day 1
the day after the decision (a period of N days ends on decision + N), "beginning_with_decision_day"
makes the decision's own day day 1 (it ends on decision + N - 1), as a statute saying "N days
beginning with the day" of the decision does.

Date ranges of profiles for the same jurisdiction never overlap. An open-ended profile stays in
force until a later profile that names it in `supersedes` starts; it then ends the day before.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import holidays

FORMAT = 1
BUNDLED_DIR = Path(__file__).resolve().parent / "profiles"

# The exploitation codes of `cases.choices.ExploitationType` (a test keeps the two in step; this
# module cannot import Django).
EXPLOITATION_CODES = frozenset(
    {
        "sexual",
        "labour",
        "criminal",
        "domestic_servitude",
        "organ_harvesting",
        "forced_marriage",
        "unknown",
    }
)

MAX_TEXT = 2000
# A field that is absent (reported once, as missing).
_ABSENT = object()
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
_JURISDICTION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class PeriodUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


class Counting(StrEnum):
    """Which day is day 1 of a period that starts with a decision."""

    # Day 1 is the day after the decision: N days end on decision + N.
    FROM_DAY_AFTER_DECISION = "from_day_after_decision"
    # "N days beginning with the day" of the decision: it is day 1, so N days end on
    # decision + N - 1.
    BEGINNING_WITH_DECISION_DAY = "beginning_with_decision_day"


class OutcomeKind(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    # Closes or pauses the stage without deciding it (a person missing, or gone abroad).
    NOT_DECIDED = "not_decided"


class ConclusiveTiming(StrEnum):
    """The earliest day a conclusive decision may be made, after a positive RG decision."""

    # On the recovery period's last day at the earliest: exactly `recovery_period_days` after RG.
    LAST_DAY_OF_RECOVERY_PERIOD = "last_day_of_recovery_period"
    # Only once the recovery period is over: the day after its last day.
    AFTER_RECOVERY_PERIOD = "after_recovery_period"
    # Not tied to the recovery period: any day from the positive RG decision.
    NOT_TIED = "not_tied_to_recovery_period"


class Reconsiderable(StrEnum):
    NEGATIVE_REASONABLE_GROUNDS = "negative_reasonable_grounds"
    NEGATIVE_CONCLUSIVE_GROUNDS = "negative_conclusive_grounds"
    DISQUALIFICATION = "disqualification"


class Requester(StrEnum):
    """Who may ask for a reconsideration."""

    REFERRER = "referrer"
    SUPPORT_PROVIDER = "support_provider"
    PERSON = "person"
    LEGAL_REPRESENTATIVE = "legal_representative"


@dataclass(frozen=True)
class Period:
    days: int
    unit: PeriodUnit
    # A period for adults only (the adult victim care contract's move-on support: a child's
    # support is the local authority's, ADR 0025). Optional in a file; absent means everyone.
    adults_only: bool = False

    def __str__(self) -> str:
        noun = "working day" if self.unit == PeriodUnit.WORKING_DAYS else "calendar day"
        text = f"{self.days} {noun}{'' if self.days == 1 else 's'}"
        return text + (" (adults)" if self.adults_only else "")


@dataclass(frozen=True)
class SupportPeriod:
    """Support a jurisdiction's own law gives from a positive reasonable grounds decision, apart
    from the recovery period (Scotland: 90 days, or until the conclusive decision if sooner;
    Northern Ireland: until the conclusive decision, and to the end of 45 days if a positive
    one comes within them). How the case page names and reads it: `policy.own_support`."""

    days: int
    counting: Counting
    adults_only: bool
    ends_at_conclusive_decision: bool
    label: str

    def __str__(self) -> str:
        text = f"{self.label}: {self.days} days from the positive reasonable grounds decision"
        if self.ends_at_conclusive_decision:
            text += ", or until the conclusive grounds decision if that is sooner"
        return text + (" (adults)" if self.adults_only else "")


@dataclass(frozen=True)
class WorkingCalendar:
    """Monday to Friday, less the public holidays `holidays` knows for country and subdivision
    (substitute days included). With no country, only weekends are days off."""

    country: str | None
    subdivision: str | None = None


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str
    kind: OutcomeKind


@dataclass(frozen=True)
class PolicyProfile:
    key: str
    version: str
    title: str
    jurisdiction: str
    effective_from: date
    # The last day in force, inclusive; None while open-ended.
    effective_to: date | None
    calendar: WorkingCalendar
    reasonable_grounds_target_working_days: int | None
    reasonable_grounds_test: str
    reasonable_grounds_outcomes: tuple[Outcome, ...]
    recovery_period_days: int
    recovery_period_extendable: bool
    conclusive_grounds_earliest: ConclusiveTiming
    conclusive_grounds_standard: str | None
    conclusive_grounds_outcomes: tuple[Outcome, ...]
    reconsideration_window_days: int | None
    reconsiderable_decisions: tuple[Reconsiderable, ...]
    reconsideration_requesters: tuple[Requester, ...]
    disqualification_available: bool
    move_on_after_positive_conclusive: Period | None
    move_on_after_negative_conclusive: Period | None
    # Negative RG, negative CG and disqualification decisions wait for a second decision maker.
    negative_decisions_need_second_approval: bool
    exploitation_types: tuple[str, ...]
    source_notes: tuple[str, ...]
    assumptions: tuple[str, ...]
    supersedes: str | None = None
    # Optional fields, with the meaning a profile that omits them had before they existed.
    recovery_period_counting: Counting = Counting.FROM_DAY_AFTER_DECISION
    support_after_positive_reasonable_grounds: SupportPeriod | None = None
    # Where it was read from, for messages; not part of the rules.
    source_file: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def allows_reconsideration_of(self, decision: Reconsiderable | str) -> bool:
        return self.reconsideration_window_days is not None and decision in set(
            self.reconsiderable_decisions
        )

    def reasonable_grounds_outcome(self, code: str) -> Outcome:
        return _outcome(self, self.reasonable_grounds_outcomes, code, "reasonable grounds")

    def conclusive_grounds_outcome(self, code: str) -> Outcome:
        return _outcome(self, self.conclusive_grounds_outcomes, code, "conclusive grounds")


def _outcome(profile: PolicyProfile, outcomes: Iterable[Outcome], code: str, stage: str) -> Outcome:
    for outcome in outcomes:
        if outcome.code == code:
            return outcome
    known = ", ".join(o.code for o in outcomes)
    raise ValueError(f'"{code}" is not a {stage} outcome under {profile}; use one of: {known}')


class ProfileError(ValueError):
    """Profiles that cannot be used; `problems` lists every reason, each saying where."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class NoProfileError(LookupError):
    """No profile is in force for a jurisdiction on a date."""


@cache
def _supported_countries() -> dict[str, frozenset[str]]:
    return {
        country: frozenset(subdivisions)
        for country, subdivisions in holidays.list_supported_countries().items()
    }


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


_FIELDS = frozenset(
    {
        "format",
        "key",
        "version",
        "title",
        "jurisdiction",
        "effective_from",
        "effective_to",
        "supersedes",
        "calendar",
        "reasonable_grounds_target_working_days",
        "reasonable_grounds_test",
        "reasonable_grounds_outcomes",
        "recovery_period_days",
        "recovery_period_counting",
        "recovery_period_extendable",
        "conclusive_grounds_earliest",
        "conclusive_grounds_standard",
        "conclusive_grounds_outcomes",
        "reconsideration_window_days",
        "reconsiderable_decisions",
        "reconsideration_requesters",
        "disqualification_available",
        "move_on_after_positive_conclusive",
        "move_on_after_negative_conclusive",
        "support_after_positive_reasonable_grounds",
        "negative_decisions_need_second_approval",
        "exploitation_types",
        "source_notes",
        "assumptions",
    }
)


class _Reader:
    """Reads one profile document, collecting every problem with the field where it was found.

    Each `field_*` method reads a top-level field: an absent one is reported once, as missing.
    Each `value_*` method checks a value already in hand (a field, or an item of a list).
    """

    def __init__(self, where: str, doc: dict[str, Any]) -> None:
        self.where = where
        self.doc = doc
        self.problems: list[str] = []

    def problem(self, place: str, message: str) -> None:
        self.problems.append(f"{self.where}: {place} {message}")

    def field(self, name: str) -> Any:
        if name not in self.doc:
            self.problem(name, "is missing")
            return _ABSENT
        return self.doc[name]

    # Values

    def value_text(self, place: str, value: Any, *, nullable: bool = False) -> str | None:
        if value is _ABSENT:
            return None
        if value is None:
            if not nullable:
                self.problem(place, "must be text, not null")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(place, "must be text that is not empty")
            return None
        if len(value) > MAX_TEXT:
            self.problem(place, f"is {len(value)} characters long; the limit is {MAX_TEXT}")
        return value.strip()

    def value_choice[E: StrEnum](self, place: str, value: Any, enum: type[E]) -> E | None:
        if value is _ABSENT:
            return None
        try:
            return enum(value)
        except (ValueError, TypeError):
            self.problem(place, f"{json.dumps(value)} is not known; use one of: {_choices(enum)}")
            return None

    def value_days(self, place: str, value: Any, *, nullable: bool = False) -> int | None:
        if value is _ABSENT or (value is None and nullable):
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.problem(place, f"must be a whole number of at least 1, not {json.dumps(value)}")
            return None
        return value

    # Fields

    def field_text(self, name: str, *, nullable: bool = False) -> str | None:
        return self.value_text(name, self.field(name), nullable=nullable)

    def field_slug(self, name: str, regex: re.Pattern[str], hint: str) -> str:
        value = self.field_text(name)
        if value is not None and not regex.match(value):
            self.problem(name, f'"{value}" is not allowed: use {hint}')
        return value or ""

    def field_days(self, name: str, *, nullable: bool = False) -> int | None:
        return self.value_days(name, self.field(name), nullable=nullable)

    def field_bool(self, name: str) -> bool:
        value = self.field(name)
        if value is _ABSENT:
            return False
        if not isinstance(value, bool):
            self.problem(name, f"must be true or false, not {json.dumps(value)}")
            return False
        return value

    def field_date(self, name: str, *, nullable: bool = False) -> date | None:
        value = self.field(name)
        if value is _ABSENT or (value is None and nullable):
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.problem(name, f"must be a date written YYYY-MM-DD, not {json.dumps(value)}")
            return None

    def field_choice[E: StrEnum](self, name: str, enum: type[E]) -> E | None:
        return self.value_choice(name, self.field(name), enum)

    def field_list(self, name: str) -> list[Any]:
        value = self.field(name)
        if value is _ABSENT:
            return []
        if not isinstance(value, list):
            self.problem(name, "must be a list")
            return []
        return value

    def field_choices[E: StrEnum](self, name: str, enum: type[E]) -> tuple[E, ...]:
        found: list[E] = []
        for index, item in enumerate(self.field_list(name)):
            member = self.value_choice(f"{name}[{index}]", item, enum)
            if member is not None and member in found:
                self.problem(f"{name}[{index}]", f'"{member}" is listed twice')
            elif member is not None:
                found.append(member)
        return tuple(found)

    def field_texts(self, name: str, *, required: bool) -> tuple[str, ...]:
        items = self.field_list(name)
        if required and name in self.doc and not items:
            self.problem(name, "must list at least one entry")
        found = (self.value_text(f"{name}[{index}]", item) for index, item in enumerate(items))
        return tuple(text for text in found if text is not None)

    def field_calendar(self) -> WorkingCalendar:
        value = self.field("calendar")
        if value is _ABSENT:
            return WorkingCalendar(None)
        if not isinstance(value, dict) or set(value) != {"country", "subdivision"}:
            self.problem(
                "calendar",
                'must be an object with "country" and "subdivision" (either may be null)',
            )
            return WorkingCalendar(None)
        country, subdivision = value["country"], value["subdivision"]
        supported = _supported_countries()
        if country is not None and country not in supported:
            self.problem(
                "calendar.country", f"{json.dumps(country)} is not a country `holidays` knows"
            )
            return WorkingCalendar(None)
        if subdivision is not None and (country is None or subdivision not in supported[country]):
            known = ", ".join(sorted(supported[country])) if country else "none without a country"
            self.problem(
                "calendar.subdivision",
                f"{json.dumps(subdivision)} is not a subdivision of {country}; known: {known}",
            )
            return WorkingCalendar(country)
        return WorkingCalendar(country, subdivision)

    def field_outcomes(self, name: str, *, allow_not_decided: bool) -> tuple[Outcome, ...]:
        found: list[Outcome] = []
        for index, item in enumerate(self.field_list(name)):
            place = f"{name}[{index}]"
            if not isinstance(item, dict) or set(item) != {"code", "label", "kind"}:
                self.problem(place, 'must be an object with "code", "label" and "kind"')
                continue
            code = item["code"]
            label = self.value_text(f"{place}.label", item["label"])
            kind = self.value_choice(f"{place}.kind", item["kind"], OutcomeKind)
            if not isinstance(code, str) or not _CODE.match(code):
                self.problem(f"{place}.code", "must be lower_case_with_underscores")
                continue
            if any(o.code == code for o in found):
                self.problem(f"{place}.code", f'"{code}" is used twice')
            if kind == OutcomeKind.NOT_DECIDED and not allow_not_decided:
                self.problem(f"{place}.kind", "must be positive or negative")
            if kind is not None and label is not None:
                found.append(Outcome(code, label, kind))
        kinds = {o.kind for o in found}
        if name in self.doc and not {OutcomeKind.POSITIVE, OutcomeKind.NEGATIVE} <= kinds:
            self.problem(name, "must include at least one positive and one negative outcome")
        return tuple(found)

    def field_period(self, name: str) -> Period | None:
        value = self.field(name)
        if value is _ABSENT or value is None:
            return None
        if not isinstance(value, dict) or not {"days", "unit"} <= set(value) <= _PERIOD_KEYS:
            self.problem(
                name, 'must be null or an object with "days" and "unit" (and "adults_only")'
            )
            return None
        days = self.value_days(f"{name}.days", value["days"])
        unit = self.value_choice(f"{name}.unit", value["unit"], PeriodUnit)
        adults_only = value.get("adults_only", False)
        if not isinstance(adults_only, bool):
            self.problem(
                f"{name}.adults_only", f"must be true or false, not {json.dumps(adults_only)}"
            )
            return None
        if days is None or unit is None:
            return None
        return Period(days, unit, adults_only=adults_only)

    def field_counting(self, name: str) -> Counting:
        """Optional: absent means day 1 is the day after the decision."""
        if name not in self.doc:
            return Counting.FROM_DAY_AFTER_DECISION
        return self.value_choice(name, self.doc[name], Counting) or Counting.FROM_DAY_AFTER_DECISION

    def field_support(self, name: str) -> SupportPeriod | None:
        """Optional: absent or null means no support period of the jurisdiction's own."""
        value = self.doc.get(name)
        if value is None:
            return None
        keys = {"days", "counting", "adults_only", "ends_at_conclusive_decision", "label"}
        if not isinstance(value, dict) or set(value) != keys:
            self.problem(name, f"must be null or an object with {', '.join(sorted(keys))}")
            return None
        days = self.value_days(f"{name}.days", value["days"])
        counting = self.value_choice(f"{name}.counting", value["counting"], Counting)
        label = self.value_text(f"{name}.label", value["label"])
        flags = {}
        for flag in ("adults_only", "ends_at_conclusive_decision"):
            if not isinstance(value[flag], bool):
                self.problem(
                    f"{name}.{flag}", f"must be true or false, not {json.dumps(value[flag])}"
                )
            flags[flag] = value[flag] is True
        if days is None or counting is None or label is None:
            return None
        return SupportPeriod(days, counting, label=label, **flags)


_PERIOD_KEYS = frozenset({"days", "unit", "adults_only"})
_SLUG_HINT = "lower-case letters, digits, '.', '-' or '_' (at most 60)"


def _read_header(r: _Reader) -> None:
    for name in sorted(set(r.doc) - _FIELDS):
        r.problem(name, "is not a known field (check its spelling)")
    fmt = r.field("format")
    if fmt is not _ABSENT and (isinstance(fmt, bool) or fmt != FORMAT):
        r.problem("format", f"must be {FORMAT}, not {json.dumps(fmt)}")


def _read_dates(r: _Reader) -> tuple[date, date | None]:
    effective_from = r.field_date("effective_from")
    effective_to = r.field_date("effective_to", nullable=True)
    if effective_from and effective_to and effective_to < effective_from:
        r.problem("effective_to", f"({effective_to}) is before effective_from ({effective_from})")
    return effective_from or date.min, effective_to


def _read_reconsideration(
    r: _Reader, disqualification: bool
) -> tuple[int | None, tuple[Reconsiderable, ...], tuple[Requester, ...]]:
    window = r.field_days("reconsideration_window_days", nullable=True)
    decisions = r.field_choices("reconsiderable_decisions", Reconsiderable)
    requesters = r.field_choices("reconsideration_requesters", Requester)
    if window is None and (decisions or requesters) and "reconsideration_window_days" in r.doc:
        r.problem(
            "reconsideration_window_days",
            "is null (no reconsideration), so reconsiderable_decisions and "
            "reconsideration_requesters must be empty",
        )
    if window is not None and not (decisions and requesters):
        r.problem(
            "reconsideration_window_days",
            "is set, so reconsiderable_decisions and reconsideration_requesters must list some",
        )
    if Reconsiderable.DISQUALIFICATION in decisions and not disqualification:
        r.problem(
            "reconsiderable_decisions",
            'lists "disqualification" but disqualification_available is false',
        )
    return window, decisions, requesters


def _read_exploitation(r: _Reader) -> tuple[str, ...]:
    codes = r.field_texts("exploitation_types", required=True)
    for index, code in enumerate(codes):
        if code not in EXPLOITATION_CODES:
            r.problem(
                f"exploitation_types[{index}]",
                f'"{code}" is not known; use one of: {", ".join(sorted(EXPLOITATION_CODES))}',
            )
    if len(set(codes)) != len(codes):
        r.problem("exploitation_types", "lists a type twice")
    return codes


def _read(where: str, doc: Any) -> PolicyProfile:
    if not isinstance(doc, dict):
        raise ProfileError([f"{where}: must hold one JSON object (a profile)"])
    r = _Reader(where, doc)
    _read_header(r)
    effective_from, effective_to = _read_dates(r)
    disqualification = r.field_bool("disqualification_available")
    window, reconsiderable, requesters = _read_reconsideration(r, disqualification)
    profile = PolicyProfile(
        key=r.field_slug("key", _SLUG, _SLUG_HINT),
        version=r.field_slug("version", _SLUG, _SLUG_HINT),
        title=r.field_text("title") or "",
        jurisdiction=r.field_slug(
            "jurisdiction", _JURISDICTION, "lower_case_with_underscores (at most 40)"
        ),
        effective_from=effective_from,
        effective_to=effective_to,
        supersedes=r.field_slug("supersedes", _SLUG, _SLUG_HINT) if "supersedes" in doc else None,
        calendar=r.field_calendar(),
        reasonable_grounds_target_working_days=r.field_days(
            "reasonable_grounds_target_working_days", nullable=True
        ),
        reasonable_grounds_test=r.field_text("reasonable_grounds_test") or "",
        reasonable_grounds_outcomes=r.field_outcomes(
            "reasonable_grounds_outcomes", allow_not_decided=True
        ),
        recovery_period_days=r.field_days("recovery_period_days") or 0,
        recovery_period_counting=r.field_counting("recovery_period_counting"),
        recovery_period_extendable=r.field_bool("recovery_period_extendable"),
        conclusive_grounds_earliest=r.field_choice("conclusive_grounds_earliest", ConclusiveTiming)
        or ConclusiveTiming.AFTER_RECOVERY_PERIOD,
        conclusive_grounds_standard=r.field_text("conclusive_grounds_standard", nullable=True),
        conclusive_grounds_outcomes=r.field_outcomes(
            "conclusive_grounds_outcomes", allow_not_decided=False
        ),
        reconsideration_window_days=window,
        reconsiderable_decisions=reconsiderable,
        reconsideration_requesters=requesters,
        disqualification_available=disqualification,
        move_on_after_positive_conclusive=r.field_period("move_on_after_positive_conclusive"),
        move_on_after_negative_conclusive=r.field_period("move_on_after_negative_conclusive"),
        support_after_positive_reasonable_grounds=r.field_support(
            "support_after_positive_reasonable_grounds"
        ),
        negative_decisions_need_second_approval=r.field_bool(
            "negative_decisions_need_second_approval"
        ),
        exploitation_types=_read_exploitation(r),
        source_notes=r.field_texts("source_notes", required=True),
        assumptions=r.field_texts("assumptions", required=False),
        source_file=where,
    )
    if r.problems:
        raise ProfileError(r.problems)
    return profile


def parse_profile(text: str, where: str = "<profile>") -> PolicyProfile:
    """One profile from the text of a JSON document; `ProfileError` lists what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileError(
            [
                f"{where}: is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
            ]
        ) from None
    return _read(where, doc)


@dataclass(frozen=True)
class ProfileSet:
    """Every profile known, checked together; chooses the one in force by jurisdiction and date."""

    profiles: tuple[PolicyProfile, ...]

    def get(self, version: str) -> PolicyProfile:
        for profile in self.profiles:
            if profile.version == version:
                return profile
        raise NoProfileError(f'There is no policy profile with version "{version}".')

    @property
    def jurisdictions(self) -> list[str]:
        return sorted({p.jurisdiction for p in self.profiles})

    def for_jurisdiction(self, jurisdiction: str) -> list[PolicyProfile]:
        return sorted(
            (p for p in self.profiles if p.jurisdiction == jurisdiction),
            key=lambda p: p.effective_from,
        )

    def profile_for(self, jurisdiction: str, on: date) -> PolicyProfile:
        candidates = self.for_jurisdiction(jurisdiction)
        if not candidates:
            raise NoProfileError(
                f'There is no policy profile for the jurisdiction "{jurisdiction}"; profiles '
                f"exist for: {', '.join(self.jurisdictions) or 'none'}."
            )
        for profile in candidates:
            if profile.in_force_on(on):
                return profile
        if on < candidates[0].effective_from:
            detail = f"the earliest, {candidates[0]}, starts on {candidates[0].effective_from}"
        else:
            detail = "it falls in a gap between profiles"
        raise NoProfileError(
            f'No policy profile for "{jurisdiction}" is in force on {on.isoformat()}: {detail}.'
        )


def _check_set(profiles: list[PolicyProfile]) -> tuple[list[PolicyProfile], list[str]]:
    """Checks the profiles together and ends superseded open-ended ones; returns the result."""
    problems: list[str] = []
    by_version: dict[str, PolicyProfile] = {}
    key_jurisdiction: dict[str, PolicyProfile] = {}
    for profile in profiles:
        if profile.version in by_version:
            other = by_version[profile.version]
            problems.append(
                f'{profile.source_file}: version "{profile.version}" is already used by '
                f"{other.source_file}"
            )
            continue
        by_version[profile.version] = profile
        first = key_jurisdiction.setdefault(profile.key, profile)
        if first.jurisdiction != profile.jurisdiction:
            problems.append(
                f'{profile.source_file}: key "{profile.key}" is used for the jurisdiction '
                f'"{first.jurisdiction}" by {first.source_file}; one key, one jurisdiction'
            )
    result = dict(by_version)
    for profile in by_version.values():
        if profile.supersedes is None:
            continue
        old = by_version.get(profile.supersedes)
        if old is None or old.jurisdiction != profile.jurisdiction:
            problems.append(
                f'{profile.source_file}: supersedes "{profile.supersedes}", which is not a profile '
                f'for "{profile.jurisdiction}"'
            )
        elif old.effective_to is not None or old.effective_from >= profile.effective_from:
            problems.append(
                f'{profile.source_file}: supersedes "{old.version}", but only an open-ended '
                f"profile that starts earlier can be superseded"
            )
        else:
            result[old.version] = replace(
                result[old.version], effective_to=profile.effective_from - timedelta(days=1)
            )
    checked = list(result.values())
    problems.extend(_overlaps(checked))
    return checked, problems


def _overlaps(profiles: list[PolicyProfile]) -> list[str]:
    problems = []
    for jurisdiction in sorted({p.jurisdiction for p in profiles}):
        ordered = sorted(
            (p for p in profiles if p.jurisdiction == jurisdiction),
            key=lambda p: (p.effective_from, p.version),
        )
        for earlier, later in pairwise(ordered):
            if earlier.effective_to is not None and earlier.effective_to < later.effective_from:
                continue
            ends = earlier.effective_to.isoformat() if earlier.effective_to else "open-ended"
            hint = (
                f'; to end it when the new one starts, add "supersedes": "{earlier.version}"'
                if earlier.effective_to is None
                else ""
            )
            problems.append(
                f'{later.source_file}: "{later.version}" ({later.effective_from} to '
                f'{later.effective_to or "open-ended"}) overlaps "{earlier.version}" '
                f"({earlier.effective_from} to {ends}) in {earlier.source_file} for "
                f'"{jurisdiction}"{hint}'
            )
    return problems


def load_profiles(extra_dirs: Sequence[Path] = (), *, include_bundled: bool = True) -> ProfileSet:
    """The bundled profiles plus every `*.json` in `extra_dirs`, checked together.

    Raises `ProfileError` listing every problem in every file, so a deployment sees all of them
    on the first start rather than one at a time.
    """
    dirs = ([BUNDLED_DIR] if include_bundled else []) + [Path(d) for d in extra_dirs]
    profiles: list[PolicyProfile] = []
    problems: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            problems.append(f"{directory}: the policy profile directory does not exist")
            continue
        for path in sorted(directory.glob("*.json")):
            try:
                profiles.append(parse_profile(path.read_text(encoding="utf-8"), str(path)))
            except ProfileError as error:
                problems.extend(error.problems)
            except (OSError, UnicodeDecodeError) as error:
                problems.append(f"{path}: cannot be read ({error})")
    checked, set_problems = _check_set(profiles)
    problems.extend(set_problems)
    if problems:
        raise ProfileError(problems)
    return ProfileSet(tuple(sorted(checked, key=lambda p: (p.jurisdiction, p.effective_from))))


def parse_profile_dirs(value: str | None) -> list[Path]:
    """Directories from an environment variable's value, separated as PATH is (':' on Unix)."""
    if not value:
        return []
    return [Path(part) for part in value.split(os.pathsep) if part.strip()]


_active: ProfileSet | None = None


def install_profiles(extra_dirs: Sequence[Path] = ()) -> ProfileSet:
    """Load and check the bundled and extra profiles and make them the ones `profile_for` uses.

    Called once at start-up with the deployment's directories, so a bad file stops the service
    from starting instead of failing on the first decision.
    """
    # One checked set for the process, replaced only at start-up.
    global _active
    _active = load_profiles(extra_dirs)
    return _active


def active_profiles() -> ProfileSet:
    """The installed profiles; the bundled ones alone if `install_profiles` was never called."""
    global _active
    if _active is None:
        _active = load_profiles()
    return _active


def profile_for(
    jurisdiction: str, on: date, *, profiles: ProfileSet | None = None
) -> PolicyProfile:
    """The profile in force for `jurisdiction` on `on`; `NoProfileError` says why none is."""
    return (profiles or active_profiles()).profile_for(jurisdiction, on)
