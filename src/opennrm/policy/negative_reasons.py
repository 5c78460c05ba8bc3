"""The main reason for a negative reasonable or conclusive grounds decision, as coded data.

Pure Python, no Django. The catalogue (`negative_reasons.json` beside this module) lists one
code per way a decision can fail the law as the decision maker applies it. The Home Office's
Modern Slavery statutory guidance (England and Wales, s.49 Modern Slavery Act 2015; Annex B
and the chapters on reasonable and conclusive grounds decisions) structures a decision on the
constituents of the definition and on credibility:

- human trafficking (Palermo Art. 3, CETS 197 Art. 4, MSA 2015 s.2): an **action**
  (recruitment, transport, transfer, harbouring, receipt), by **means** (threat, force,
  deception, abuse of vulnerability...), for the **purpose** of exploitation. A child needs no
  means (CETS 197 Art. 4(c)), so `no_means` is never a reason for a child or a person whose
  age is disputed (treated as a child until assessed, CETS 10(3), MSA 2015 s.51), nor for an
  adult who was a child when the exploitation began (ADR 0042);
- slavery, servitude and forced or compulsory labour (ECHR Art. 4, MSA 2015 s.1), a separate
  outcome in England and Wales from November 2015 (profile ew-2015-11-01);
- and, across all of them, whether the account is credible, or whether there is enough to
  meet the test at all.

A decision records one *main* reason (ADR 0038): the published tables count decisions by it,
so each decision is in exactly one cell. The free-text reasons stay the decision's full
account. The sources, in full, are the catalogue's `source_notes`; what is uncertain is in its
`assumptions`.

Each reason has effective dates and, optionally, the jurisdictions it applies to, like the
policy profiles (ADR 0010). Codes are never reused or removed: a reason that stops applying
gets an `effective_to`, so a decision keeps its meaning and the tables their label.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = 1
BUNDLED = Path(__file__).resolve().parent / "negative_reasons.json"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# What the pages and the API say about a reason that cannot be recorded.
REASON_REQUIRED = "Select the main reason for the negative decision"
NO_MEANS_FOR_A_CHILD = "Means are not needed for a child: choose another reason"
NO_MEANS_EXPLOITED_AS_CHILD = (
    "Means are not needed for a person exploited as a child: choose another reason"
)
ONLY_FOR_NEGATIVE = "Record a main reason only for a negative decision"

# The code the tables show for a negative decision recorded before reasons were coded (or
# recorded without one): nothing is inferred from its free text.
NOT_RECORDED = "not_recorded"
NOT_RECORDED_LABEL = "Not recorded (decided before reasons were coded)"


class CatalogueError(ValueError):
    """A catalogue that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class NegativeReason:
    code: str
    label: str
    effective_from: date
    # The last day it applies, inclusive; None while open-ended.
    effective_to: date | None
    # The jurisdictions it applies to; None: every one.
    jurisdictions: frozenset[str] | None
    # False where the definition does not need it for a child (means).
    for_children: bool

    def applies(self, jurisdiction: str, on: date, *, child: bool) -> bool:
        return (
            self.effective_from <= on
            and (self.effective_to is None or on <= self.effective_to)
            and (self.jurisdictions is None or jurisdiction in self.jurisdictions)
            and (self.for_children or not child)
        )


@dataclass(frozen=True)
class Catalogue:
    reasons: tuple[NegativeReason, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def labels(self) -> dict[str, str]:
        return {r.code: r.label for r in self.reasons}

    def label(self, code: str) -> str:
        """The words for a code; for no code, that none was recorded."""
        if not code:
            return NOT_RECORDED_LABEL
        return self.labels.get(code, code)

    def choices(self, jurisdiction: str, on: date, *, child: bool) -> tuple[NegativeReason, ...]:
        """The reasons a decision maker may give for this jurisdiction on this day."""
        return tuple(r for r in self.reasons if r.applies(jurisdiction, on, child=child))

    def refusal(
        self,
        code: str,
        jurisdiction: str,
        on: date,
        *,
        child: bool,
        exploited_as_child: bool = False,
    ) -> str | None:
        """Why `code` cannot be the main reason of a negative decision on this case today, or
        None if it can. `child`: a child or age-disputed person now; `exploited_as_child`: a
        child when the exploitation began (an adult now, too): neither needs means."""
        if not code:
            return REASON_REQUIRED
        if code == "no_means" and child:
            return NO_MEANS_FOR_A_CHILD
        if code == "no_means" and exploited_as_child:
            return NO_MEANS_EXPLOITED_AS_CHILD
        child = child or exploited_as_child
        if code in {r.code for r in self.choices(jurisdiction, on, child=child)}:
            return None
        allowed = ", ".join(r.code for r in self.choices(jurisdiction, on, child=child))
        return f'"{code}" is not a reason for a negative decision here; use one of: {allowed}'


def parse_catalogue(text: str, where: str = "the catalogue") -> Catalogue:
    """A catalogue from its JSON, every problem reported at once."""
    problems: list[str] = []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogueError([f"{where}: not valid JSON ({error})"]) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CatalogueError([f"{where}: expected an object with format {FORMAT}"])
    items = doc.get("reasons")
    if not isinstance(items, list) or not items:
        raise CatalogueError([f"{where}: reasons must be a non-empty list"])
    reasons: list[NegativeReason] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        place = f"{where}: reasons[{index}]"
        reason = _reason(item, place, problems)
        if reason is None:
            continue
        if reason.code in seen:
            problems.append(f'{place}: the code "{reason.code}" is used twice')
        seen.add(reason.code)
        reasons.append(reason)
    if NOT_RECORDED in seen:
        problems.append(f'{where}: "{NOT_RECORDED}" is kept for decisions without a coded reason')
    if problems:
        raise CatalogueError(problems)
    return Catalogue(tuple(reasons))


def _reason(item: Any, place: str, problems: list[str]) -> NegativeReason | None:
    if not isinstance(item, dict):
        problems.append(f"{place}: must be an object")
        return None
    before = len(problems)
    code, label = item.get("code"), item.get("label")
    if not isinstance(code, str) or not _CODE.match(code):
        problems.append(f"{place}: code must be lower-case letters, digits and _")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{place}: label must be text")
    starts, ends = _day(item.get("effective_from"), place, "effective_from", problems), None
    if item.get("effective_to") is not None:
        ends = _day(item.get("effective_to"), place, "effective_to", problems)
        if starts and ends and ends < starts:
            problems.append(f"{place}: effective_to is before effective_from")
    jurisdictions = item.get("jurisdictions")
    if jurisdictions is not None and (
        not isinstance(jurisdictions, list)
        or not jurisdictions
        or not all(isinstance(j, str) for j in jurisdictions)
    ):
        problems.append(f"{place}: jurisdictions must be null or a non-empty list of names")
    for_children = item.get("for_children")
    if not isinstance(for_children, bool):
        problems.append(f"{place}: for_children must be true or false")
    if len(problems) > before or starts is None:
        return None
    return NegativeReason(
        code=str(code),
        label=str(label),
        effective_from=starts,
        effective_to=ends,
        jurisdictions=None if jurisdictions is None else frozenset(jurisdictions),
        for_children=bool(for_children),
    )


def _day(value: Any, place: str, name: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(f"{place}: {name} must be a date like 2023-01-30")
        return None


@cache
def catalogue() -> Catalogue:
    """The bundled catalogue, read once."""
    return parse_catalogue(BUNDLED.read_text(encoding="utf-8"), str(BUNDLED))
