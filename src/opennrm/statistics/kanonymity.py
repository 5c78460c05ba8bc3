"""k-anonymity for a case-level extract (issue 13, item 4): generalise the quasi-identifiers by
global recoding, and suppress the few rows still in groups smaller than k. ADR 0032.

Pure code: no Django. The extract's builder reads the rows (dicts) and calls `anonymise`; the
download checks the result with `check_k`, written separately, before it is served.

**Hierarchies.** Each quasi-identifier has a `Hierarchy`: level 0 is the value as recorded;
each further level maps the recorded value to a coarser label, and the top level maps every
value to one label (`OTHER`, "Other"). Levels must nest (values that share a label at one level
share it at every level above): `Hierarchy.check` verifies that on the values seen. Builders:

- `nationality_hierarchy`: ISO 3166-1 alpha-2 code, then UN M49 sub-region (the intermediate
  region where M49 has one: "Eastern Africa" rather than "Sub-Saharan Africa"), then M49 region
  ("Africa"), then "Other" (`data/m49_regions.json`);
- `band_hierarchy`: whole numbers (an age) into bands, level after level, each band list
  coarser than the last and the last band of each open-ended (top-coding: "48+", then "30+");
- `keep_frequent`: puts a data-driven level first, keeping by name the values recorded in at
  least so many rows (the commonest nationalities) and the rest at the hierarchy's level 1;
- `mapping_hierarchy`: any levels given as mappings of value to label (data-driven, e.g. an
  age group "18--20" to "Adult", or a year-quarter "2024-Q1" to "2024" by `year_of_quarter`).

A value a level does not know (an empty cell, "not known") stays as it is up to the top level.

**Global recoding.** One level per column for the whole extract (every row's nationality is
given at the same level), found in the lattice of level vectors: the lowest total height at
which some vector leaves no more than `max_suppression` (default 2%) of rows in groups smaller
than k, by binary search over heights (a vector's more general neighbours only merge groups,
so suppression never grows with height: Samarati's property); at that height, every vector is
tried and the one suppressing fewest rows wins (then the one with most distinct groups, then
the first in column order). The rows in groups smaller than k are then suppressed: dropped
from the extract. If even the top of the lattice leaves too many rows (fewer than k rows at
all, with a small bound), the result says k was not reached and holds no rows.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

OTHER = "Other"
DEFAULT_K = 11
DEFAULT_MAX_SUPPRESSION = 0.02

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Hierarchy:
    """The levels of generalisation of one column. `levels[i]` gives level i + 1 of a recorded
    value (returning None for a value it does not know, which then stays as it is); level 0 is
    the value itself, and level `len(levels) + 1` is `top` for every value."""

    column: str
    levels: tuple[Callable[[str], str | None], ...] = ()
    top: str = OTHER
    names: tuple[str, ...] = field(default=(), compare=False)

    @property
    def height(self) -> int:
        """The highest level (the top)."""
        return len(self.levels) + 1

    def generalise(self, value: str, level: int) -> str:
        if level <= 0:
            return value
        if level >= self.height:
            return self.top
        label = self.levels[level - 1](value)
        return value if label is None else label

    def level_name(self, level: int) -> str:
        if level == 0:
            return "as recorded"
        if level >= self.height:
            return "suppressed to one value"
        return self.names[level - 1] if level - 1 < len(self.names) else f"level {level}"

    def check(self, values: Iterable[str]) -> None:
        """Raises ValueError unless the levels nest on these values."""
        values = sorted(set(values))
        for level in range(1, self.height):
            above: dict[str, str] = {}
            for value in values:
                here = self.generalise(value, level)
                up = self.generalise(value, level + 1)
                if above.setdefault(here, up) != up:
                    raise ValueError(
                        f"{self.column}: {here!r} at level {level} goes to both "
                        f"{above[here]!r} and {up!r} at level {level + 1}"
                    )


def mapping_hierarchy(
    column: str, levels: Sequence[Mapping[str, str]], *, names: Sequence[str] = ()
) -> Hierarchy:
    """A hierarchy whose levels are given as data: each maps a recorded value to its label."""
    return Hierarchy(column, tuple(level.get for level in levels), names=tuple(names))


@cache
def m49_regions() -> dict[str, dict[str, str | None]]:
    """ISO 3166-1 alpha-2 code to its UN M49 region, sub-region and intermediate region."""
    path = Path(__file__).parent / "data" / "m49_regions.json"
    countries: dict[str, dict[str, str | None]] = json.loads(path.read_text(encoding="utf-8"))[
        "countries"
    ]
    return countries


def nationality_hierarchy(column: str = "nationality") -> Hierarchy:
    """ISO alpha-2 code, then M49 sub-region (or intermediate region), then M49 region."""

    def sub_region(code: str) -> str | None:
        entry = m49_regions().get(code.upper())
        if entry is None:
            return None
        return entry["intermediate_region"] or entry["sub_region"]

    def region(code: str) -> str | None:
        entry = m49_regions().get(code.upper())
        return None if entry is None else entry["region"]

    return Hierarchy(column, (sub_region, region), names=("UN M49 sub-region", "UN M49 region"))


def band_label(low: int, high: int | None) -> str:
    """CTDC's form: `18--20`, and `48+` for the open top band."""
    return f"{low}+" if high is None else f"{low}--{high}"


def band_hierarchy(
    column: str, levels: Sequence[Sequence[int]], *, names: Sequence[str] = ()
) -> Hierarchy:
    """Whole numbers into bands: each level is the list of its bands' lower bounds, ascending
    (the last band open: top-coding). Each level's bounds must be a subset of the level
    below's, so that bands nest. A value that is not a whole number stays as it is."""
    for lower, upper in itertools.pairwise(levels):
        if not set(upper) <= set(lower):
            raise ValueError(f"{column}: bands {list(upper)} do not nest in {list(lower)}")

    def banding(bounds: Sequence[int]) -> Callable[[str], str | None]:
        edges = sorted(bounds)

        def band(value: str) -> str | None:
            try:
                number = int(value)
            except (TypeError, ValueError):
                return None
            if number < edges[0]:
                return None
            index = int(np.searchsorted(edges, number, side="right")) - 1
            high = edges[index + 1] - 1 if index + 1 < len(edges) else None
            return band_label(edges[index], high)

        return band

    return Hierarchy(column, tuple(banding(b) for b in levels), names=tuple(names))


def keep_frequent(hierarchy: Hierarchy, rows: Iterable[Row], minimum: int) -> Hierarchy:
    """A data-driven first level: a value recorded in at least `minimum` rows stays as it is,
    the others go to their level-1 label (for nationality: the commonest countries by name,
    the rest by UN M49 sub-region). The hierarchy's own levels follow; it is one level taller."""
    counts = Counter(_text(row.get(hierarchy.column)) for row in rows)
    frequent = frozenset(value for value, n in counts.items() if n >= minimum)

    def first(value: str) -> str | None:
        return value if value in frequent else hierarchy.generalise(value, 1)

    return Hierarchy(
        hierarchy.column,
        (first, *hierarchy.levels),
        hierarchy.top,
        names=(f"kept if in {minimum} rows or more", *hierarchy.names),
    )


def year_of_quarter(value: str) -> str | None:
    """ "2024-Q1" to "2024"."""
    year, _, quarter = value.partition("-Q")
    return year if year.isdigit() and quarter else None


@dataclass(frozen=True)
class KAnonymity:
    """The generalisation chosen, the extract's rows after it (suppressed rows removed), and
    how many rows were suppressed. `reached` is False when k cannot be reached within the
    bound: then `rows` is empty and nothing may be released."""

    k: int
    levels: dict[str, int]
    rows: list[dict[str, Any]]
    suppressed: int
    total: int
    max_suppressed: int
    reached: bool
    nodes_tried: int

    @property
    def suppressed_share(self) -> float:
        return self.suppressed / self.total if self.total else 0.0


class _Codes:
    """Each column's values as integer codes, at every level, for fast grouping."""

    def __init__(self, rows: Sequence[Row], hierarchies: Sequence[Hierarchy]) -> None:
        self.size = len(rows)
        self.levels: list[list[np.ndarray]] = []
        for hierarchy in hierarchies:
            seen: dict[str, int] = {}
            column = hierarchy.column
            inverse = np.fromiter(
                (seen.setdefault(_text(row.get(column)), len(seen)) for row in rows),
                dtype=np.int64,
                count=len(rows),
            )
            uniques = list(seen)
            hierarchy.check(uniques)
            per_level = []
            for level in range(hierarchy.height + 1):
                labels: dict[str, int] = {}
                label_codes = np.array(
                    [
                        labels.setdefault(hierarchy.generalise(u, level), len(labels))
                        for u in uniques
                    ],
                    dtype=np.int64,
                )
                per_level.append(label_codes[inverse] if len(uniques) else inverse)
            self.levels.append(per_level)

    def groups(self, vector: Sequence[int]) -> np.ndarray:
        """Each row's group number under this generalisation."""
        key = np.zeros(self.size, dtype=np.int64)
        size = 1
        for column, level in enumerate(vector):
            codes = self.levels[column][level]
            width = int(codes.max()) + 1 if len(codes) else 1
            if size * width >= 2**62:
                _, key = np.unique(key, return_inverse=True)
                size = int(key.max()) + 1
            key = key * width + codes
            size *= width
        return key

    def small(self, vector: Sequence[int], k: int) -> tuple[int, int]:
        """How many rows are in groups smaller than k, and how many groups there are."""
        _, counts = np.unique(self.groups(vector), return_counts=True)
        return int(counts[counts < k].sum()), len(counts)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def anonymise(
    rows: Sequence[Row],
    hierarchies: Sequence[Hierarchy],
    *,
    k: int = DEFAULT_K,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
) -> KAnonymity:
    """Generalise the columns the hierarchies name (global recoding, least height first) and
    suppress the rows left in groups smaller than k, at most `max_suppression` of them."""
    limit = math.floor(max_suppression * len(rows))
    codes = _Codes(rows, hierarchies)
    heights = [h.height for h in hierarchies]
    tried = 0

    def best_at(height: int, *, first: bool) -> tuple[int, int, tuple[int, ...]] | None:
        nonlocal tried
        best = None
        for vector in _vectors(heights, height):
            tried += 1
            suppressed, groups = codes.small(vector, k)
            if suppressed <= limit:
                candidate = (suppressed, -groups, vector)
                if first:
                    return candidate
                best = min(best, candidate) if best else candidate
        return best

    low, high = 0, sum(heights)
    if not rows:
        return _result(rows, hierarchies, codes, k, (0,) * len(heights), limit, 0, reached=True)
    if best_at(high, first=True) is None:
        return _result(rows, hierarchies, codes, k, tuple(heights), limit, tried, reached=False)
    while low < high:  # the least height with a vector within the bound
        middle = (low + high) // 2
        if best_at(middle, first=True) is None:
            low = middle + 1
        else:
            high = middle
    chosen = best_at(low, first=False)
    assert chosen is not None  # noqa: S101 (found at this height above)
    return _result(rows, hierarchies, codes, k, chosen[2], limit, tried, reached=True)


def _vectors(heights: Sequence[int], total: int) -> Iterable[tuple[int, ...]]:
    """Every vector of levels (each at most its column's height) adding up to `total`."""
    if not heights:
        if total == 0:
            yield ()
        return
    first, *rest = heights
    for level in range(min(first, total) + 1):
        for tail in _vectors(rest, total - level):
            yield (level, *tail)


def _result(
    rows: Sequence[Row],
    hierarchies: Sequence[Hierarchy],
    codes: _Codes,
    k: int,
    vector: tuple[int, ...],
    limit: int,
    tried: int,
    *,
    reached: bool,
) -> KAnonymity:
    levels = {h.column: level for h, level in zip(hierarchies, vector, strict=True)}
    if not reached:
        return KAnonymity(k, levels, [], len(rows), len(rows), limit, False, tried)
    groups = codes.groups(vector)
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    keep = counts[inverse] >= k
    out = []
    for row, kept in zip(rows, keep, strict=True):
        if kept:
            generalised = dict(row)
            for hierarchy in hierarchies:
                value = _text(row.get(hierarchy.column))
                generalised[hierarchy.column] = hierarchy.generalise(
                    value, levels[hierarchy.column]
                )
            out.append(generalised)
    suppressed = len(rows) - len(out)
    return KAnonymity(k, levels, out, suppressed, len(rows), limit, True, tried)


def check_k(
    rows: Iterable[Row], quasi_identifiers: Sequence[str], k: int = DEFAULT_K
) -> list[tuple[tuple[str, ...], int]]:
    """Every combination of the quasi-identifiers that occurs in fewer than k rows, with its
    count (none: the rows are k-anonymous). Counts plainly, sharing no code with `anonymise`."""
    counts = Counter(
        tuple(
            "" if row.get(column) is None else str(row.get(column)) for column in quasi_identifiers
        )
        for row in rows
    )
    return sorted((combination, n) for combination, n in counts.items() if n < k)
