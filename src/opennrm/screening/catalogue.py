"""Indicator catalogues: the JSON format, read into typed values and checked.

Pure Python, no Django. A catalogue is data a deployment can replace with the official list it
is licensed to use, so a bad file must be refused with messages that say exactly what is wrong
and where, all at once, rather than failing on the first problem.

The format (version 1):

    {
      "format": 1,
      "key": "opennrm-indicators",          # names the catalogue; versions share it
      "version": "1",                       # unique per key; a string, so "2026.1" works
      "title": "...",
      "source": "...",                      # where the wording comes from, and its status
      "licence": "...",
      "lists": {
        "adult_labour": [
          {"code": "AL-DR-01", "dimension": "deceptive_recruitment", "strength": "strong",
           "group": "situational", "text": "..."},
          ...
        ],
        "adult_sexual": [...], "child_labour": [...], "child_sexual": [...]
      }
    }

Codes are unique across the whole catalogue, so a code alone names one indicator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from .rules import Dimension, Observed, Strength

FORMAT = 1
BUNDLED_DIR = Path(__file__).resolve().parent / "catalogues"
BUNDLED_PATH = BUNDLED_DIR / "opennrm-indicators-v1.json"

MAX_TEXT = 500
MAX_CODE = 40


class ListKey(StrEnum):
    ADULT_LABOUR = "adult_labour"
    ADULT_SEXUAL = "adult_sexual"
    CHILD_LABOUR = "child_labour"
    CHILD_SEXUAL = "child_sexual"

    @property
    def is_child(self) -> bool:
        return self.value.startswith("child_")

    @property
    def label(self) -> str:
        return LIST_LABELS[self]

    @classmethod
    def of(cls, *, is_child: bool, exploitation: str) -> ListKey:
        """The list for an age group and a kind of exploitation ("labour" or "sexual")."""
        return cls(f"{'child' if is_child else 'adult'}_{exploitation}")


LIST_LABELS: dict[ListKey, str] = {
    ListKey.ADULT_LABOUR: "Adult, labour exploitation",
    ListKey.ADULT_SEXUAL: "Adult, sexual exploitation",
    ListKey.CHILD_LABOUR: "Child, labour exploitation",
    ListKey.CHILD_SEXUAL: "Child, sexual exploitation",
}


class Group(StrEnum):
    """How the UK statutory guidance groups indicators."""

    PHYSICAL = "physical"
    PSYCHOLOGICAL = "psychological"
    SITUATIONAL = "situational"
    ENVIRONMENTAL = "environmental"


@dataclass(frozen=True)
class Indicator(Observed):
    # The UK grouping, shown to help the first responder; the rule does not use it.
    group: Group


@dataclass(frozen=True)
class IndicatorList:
    key: ListKey
    indicators: tuple[Indicator, ...]

    @property
    def label(self) -> str:
        return self.key.label

    @property
    def is_child(self) -> bool:
        return self.key.is_child

    def by_dimension(self) -> Iterator[tuple[Dimension, tuple[Indicator, ...]]]:
        """Each dimension that has indicators, in the rule's order, with its indicators."""
        for dimension in Dimension:
            found = tuple(i for i in self.indicators if i.dimension == dimension)
            if found:
                yield dimension, found

    def get(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(i.code for i in self.indicators)


@dataclass(frozen=True)
class Catalogue:
    key: str
    version: str
    title: str
    source: str
    licence: str
    lists: dict[ListKey, IndicatorList]

    def list(self, key: str) -> IndicatorList | None:
        """The list with this key, or None for a key that is not one of the four."""
        try:
            return self.lists[ListKey(key)]
        except ValueError:
            return None

    @property
    def indicator_count(self) -> int:
        return sum(len(lst.indicators) for lst in self.lists.values())


class CatalogueError(ValueError):
    """A catalogue that cannot be used; `problems` lists every reason, each saying where."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


class _Reader:
    """Walks the document once, collecting every problem with the path where it was found."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.codes: dict[str, str] = {}

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def text(self, obj: dict[str, Any], name: str, where: str, max_length: int) -> str:
        place = f"{where}.{name}" if where else name
        if name not in obj:
            self.problem(place, "is missing")
            return ""
        value = obj[name]
        if not isinstance(value, str) or not value.strip():
            self.problem(place, "must be text that is not empty")
            return ""
        if len(value) > max_length:
            self.problem(place, f"is {len(value)} characters long; the limit is {max_length}")
        return value.strip()

    def choice[E: StrEnum](self, obj: dict[str, Any], name: str, where: str, enum: type[E]) -> E:
        raw = self.text(obj, name, where, 100)
        try:
            return enum(raw)
        except ValueError:
            if raw:
                self.problem(
                    f"{where}.{name}",
                    f'"{raw}" is not a known {name}; use one of: {_choices(enum)}',
                )
            return next(iter(enum))

    def indicator(self, obj: Any, where: str) -> Indicator | None:
        if not isinstance(obj, dict):
            self.problem(where, "must be an object with code, dimension, strength, group, text")
            return None
        before = len(self.problems)
        code = self.text(obj, "code", where, MAX_CODE)
        if code and code in self.codes:
            self.problem(f"{where}.code", f'"{code}" is used twice (also at {self.codes[code]})')
        elif code:
            self.codes[code] = where
        item = Indicator(
            code=code,
            dimension=self.choice(obj, "dimension", where, Dimension),
            strength=self.choice(obj, "strength", where, Strength),
            group=self.choice(obj, "group", where, Group),
            text=self.text(obj, "text", where, MAX_TEXT),
        )
        unknown = sorted(set(obj) - {"code", "dimension", "strength", "group", "text"})
        if unknown:
            self.problem(where, f"has unknown fields: {', '.join(unknown)}")
        return item if len(self.problems) == before else None

    def lists(self, raw: Any) -> dict[ListKey, IndicatorList]:
        if not isinstance(raw, dict):
            self.problem("lists", f"must be an object with the lists {_choices(ListKey)}")
            return {}
        for name in sorted(set(raw) - {k.value for k in ListKey}):
            self.problem(f"lists.{name}", f"is not a known list; use only: {_choices(ListKey)}")
        result: dict[ListKey, IndicatorList] = {}
        for key in ListKey:
            where = f"lists.{key.value}"
            if key.value not in raw:
                self.problem(where, "is missing")
                continue
            entries = raw[key.value]
            if not isinstance(entries, list) or not entries:
                self.problem(where, "must be a list with at least one indicator")
                continue
            indicators = [self.indicator(e, f"{where}[{n}]") for n, e in enumerate(entries)]
            result[key] = IndicatorList(key, tuple(i for i in indicators if i is not None))
        return result


def parse(data: Any) -> Catalogue:
    """Check a decoded JSON document and return the catalogue, or raise CatalogueError."""
    if not isinstance(data, dict):
        raise CatalogueError(["The catalogue must be a JSON object, not a list or a value"])
    reader = _Reader()
    if data.get("format") != FORMAT:
        reader.problem("format", f"must be {FORMAT}; this loader reads format {FORMAT} only")
    catalogue = Catalogue(
        key=reader.text(data, "key", "", 100),
        version=reader.text(data, "version", "", 40),
        title=reader.text(data, "title", "", 200),
        source=reader.text(data, "source", "", 2000),
        licence=reader.text(data, "licence", "", 200),
        lists=reader.lists(data["lists"]) if "lists" in data else {},
    )
    if "lists" not in data:
        reader.problem("lists", "is missing")
    if reader.problems:
        raise CatalogueError(reader.problems)
    return catalogue


def decode(text: str | bytes) -> Any:
    """JSON text to a document; bad JSON is reported with its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise CatalogueError([f"The file is not valid JSON: {error.msg} at {where}"]) from None
    except UnicodeDecodeError:
        raise CatalogueError(["The file is not UTF-8 text"]) from None
    except RecursionError:
        # Arrays or objects nested deeper than the decoder goes: no catalogue is nested so.
        raise CatalogueError(
            ["The file is not an indicator catalogue: it is nested too deeply"]
        ) from None


def loads(text: str | bytes) -> Catalogue:
    """Decode JSON text and check it."""
    return parse(decode(text))


def load_bundled() -> Catalogue:
    return loads(BUNDLED_PATH.read_bytes())
