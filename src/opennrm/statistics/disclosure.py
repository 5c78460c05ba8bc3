"""Disclosure control for a statistical release (issue 13, item 2): primary and secondary
suppression of small counts, and the linear-programming audit that proves no suppressed cell
can be recovered from anything else the release publishes. ADR 0032 gives the reasons.

Pure code: no Django, no database. The release workflow builds the tables from live data and
calls `protect`, then `is_safe` (or `problems`) before it lets a release be published.

**The model: one linear system for the whole release.** A table counts one *population*
(referrals, or people) by one or more *dimensions* (sex, age group, competent authority...). A
cell is identified by its population and its dimension values, not by its table: the cell
(referrals, sex=Female) is the same cell whether it is the "Female" row of the table by sex or
the "Female" row total of the table by sex and age group. So tables that share margins share
cells, and the grand total of every table of a population is one cell. Every table adds the
relations "total = sum of parts": for each of its cells with some dimensions left open (its
margins and the grand total) and each open dimension, the margin equals the sum of the cells
one level down. Other additive facts the reader knows (a region is the sum of its police force
areas, say) are added as extra `Relation`s. The same dimension name must always mean the same
categories; a different grouping (the 20 commonest nationalities, then "other") takes a
different name.

**Symbols** (the UK government statistical symbols):

- `[c]` confidential: a suppressed count, primary (1 to threshold - 1) or secondary;
- `[x]` not available: a count the data cannot give (criminal exploitation before the category
  existed). Such a cell is unknown to the reader too: in the audit it is a free non-negative
  unknown that the margins still include; it is not itself protected;
- `[z]` not applicable: a combination that cannot occur. It is known to be zero;
- a true zero is published as `0`. A zero is not a small count: it discloses that nobody falls
  in the cell, which the release means to say, and suppressing zeros hides nothing in
  additive tables (the reader knows counts are non-negative). `protect(..., suppress_zeros=True)`
  treats zeros as unpublishable for a release that wants it.

**Primary suppression**: every count from 1 to `threshold - 1` (default threshold 5: counts 1
to 4 are `[c]`), margins and totals included.

**The audit** (the proof): for every suppressed cell, the smallest and largest value it can
take over every non-negative real solution of the release's relations that agrees with every
published value. Two linear programs per cell (OR-Tools' GLOP). The integer relaxation can only
widen the interval, so the interval is rounded inwards (ceiling of the minimum, floor of the
maximum): a reader who knows counts are whole numbers can narrow it that far and no further
by the LP bound. A cell is protected when `high - low >= protection` (default: the threshold,
5); an unbounded maximum is infinitely wide. The programs are solved per connected component of
unknown cells; during `protect`, the values each cell took in solutions already found bound its
interval from inside, so a cell seen to vary enough needs no programs of its own (`_Auditor`).
The final audit, and `problems`/`is_safe`, compute every interval exactly.

**Secondary suppression** (a heuristic; the audit is what proves the result): audit, and for
each cell that is not protected, suppress one more published cell in one of its relations, the
relation in which it has the fewest suppressed partners; of that relation's published cells,
prefer a cell that is not a margin or total, then one that closes a cycle (another relation of
it already holds a suppressed cell, the pattern that protects both), then the smallest count
(zeros last). If every cell of its relations is suppressed already, a partner of one of those
neighbours is taken instead. Then audit again, until every suppressed cell is protected. It ends: each round suppresses at
least one cell, and a release with every cell suppressed is protected (every maximum is then
unbounded). Every suppressed cell, primary or secondary, must be protected, so a secondary cell
can never be worked out exactly either.

Percentages, medians, means and quartiles over a group: `percentage`, `median`, `mean` and
`quartiles` return `[c]` when the denominator or the group is suppressed or smaller than the
threshold (`[z]` for a percentage of nothing; `[x]` passes through).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp  # type: ignore[import-untyped]

CONFIDENTIAL = "[c]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
SYMBOLS = (CONFIDENTIAL, NOT_AVAILABLE, NOT_APPLICABLE)

DEFAULT_THRESHOLD = 5
TOTAL = "Total"

Published = int | str
"""A published value: a count, or one of the symbols."""


@dataclass(frozen=True, order=True)
class Cell:
    """One count of the release: a population and the dimension values it is restricted to
    (sorted by dimension name; none for the population's grand total)."""

    population: str
    key: tuple[tuple[str, str], ...] = ()
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.population, self.key)))

    def __hash__(self) -> int:  # cells are hashed a great deal in the audit
        return self._hash

    @classmethod
    def of(cls, population: str, **values: str) -> Cell:
        return cls(population, tuple(sorted(values.items())))

    def narrowed(self, dimension: str, value: str) -> Cell:
        return Cell(self.population, tuple(sorted((*self.key, (dimension, value)))))

    def __str__(self) -> str:
        inside = ", ".join(f"{name}={value}" for name, value in self.key) or TOTAL
        return f"{self.population}: {inside}"


@dataclass(frozen=True)
class Relation:
    """`total` equals the sum of `parts`."""

    total: Cell
    parts: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True)
class Dimension:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of counts of `population` by `dimensions`: `counts` maps each combination of
    the dimensions' values (in the dimensions' order) to its count, or to `NOT_AVAILABLE` or
    `NOT_APPLICABLE`. Missing combinations are zero. Its margins and grand total are the sums,
    unless `margins` gives them (keyed the same way, with `TOTAL` for an open dimension): a
    margin over a not-available cell is known only if given, and `[x]` otherwise."""

    name: str
    dimensions: tuple[Dimension, ...]
    counts: Mapping[tuple[str, ...], Published]
    population: str = "referrals"
    margins: Mapping[tuple[str, ...], Published] = field(default_factory=dict)

    def cell(self, *values: str) -> Cell:
        """The cell for these values; `TOTAL` for a dimension leaves it open (a margin)."""
        pairs = {
            dimension.name: value
            for dimension, value in zip(self.dimensions, values, strict=True)
            if value != TOTAL
        }
        return Cell.of(self.population, **pairs)

    def interior(self) -> Iterable[tuple[str, ...]]:
        return itertools.product(*(dimension.values for dimension in self.dimensions))

    def all_cells(self) -> Iterable[tuple[str, ...]]:
        """Every cell's values, margins (`TOTAL`) included, row by row."""
        return itertools.product(*((*dimension.values, TOTAL) for dimension in self.dimensions))


class InconsistentRelease(ValueError):
    """The tables disagree about a shared cell, or a relation does not hold."""


@dataclass
class Release:
    """Every cell of a release with its true value, and every additive relation between them."""

    values: dict[Cell, Published] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    _seen: set[Relation] = field(default_factory=set, init=False, repr=False, compare=False)
    _cells: dict[Cell, Cell] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, tables: Sequence[Table], relations: Sequence[Relation] = ()) -> Release:
        release = cls()
        for table in tables:
            release.add_table(table)
        for relation in relations:
            release._relate(relation)
        release.check_consistent()
        return release

    def add_table(self, table: Table) -> None:
        if any(existing.name == table.name for existing in self.tables):
            raise InconsistentRelease(f"two tables are called {table.name!r}")
        interior = set(table.interior())
        stray = [values for values in table.counts if values not in interior]
        if stray:
            raise InconsistentRelease(f"{table.name}: {stray[0]} is not a cell of the table")
        self.tables.append(table)
        for values in table.interior():
            self._set(table.cell(*values), table.counts.get(values, 0))
        for values in table.all_cells():
            open_dimensions = [
                d for d, v in zip(table.dimensions, values, strict=True) if v == TOTAL
            ]
            total = table.cell(*values)
            for dimension in open_dimensions:
                parts = tuple(total.narrowed(dimension.name, value) for value in dimension.values)
                self._relate(Relation(self._one(total), tuple(map(self._one, parts))))
        for values in table.all_cells():
            if TOTAL in values:
                cell = table.cell(*values)
                self._set(cell, table.margins.get(values, self._sum(cell, table)))

    def _sum(self, cell: Cell, table: Table) -> Published:
        """A margin's value: the sum of the interior cells under it ([x] if any is [x])."""
        narrowed = [dict(cell.key).get(d.name) for d in table.dimensions]
        total = 0
        for values in table.interior():
            if all(n is None or n == v for n, v in zip(narrowed, values, strict=True)):
                value = table.counts.get(values, 0)
                if value == NOT_AVAILABLE:
                    return NOT_AVAILABLE
                total += value if isinstance(value, int) else 0
        return total

    def _one(self, cell: Cell) -> Cell:
        """The one object for this cell (dictionary look-ups then compare by identity)."""
        return self._cells.setdefault(cell, cell)

    def _set(self, cell: Cell, value: Published) -> None:
        cell = self._one(cell)
        if isinstance(value, str) and value not in (NOT_AVAILABLE, NOT_APPLICABLE):
            raise InconsistentRelease(f"{cell}: {value!r} is not a count or [x] or [z]")
        if isinstance(value, int) and value < 0:
            raise InconsistentRelease(f"{cell}: a count cannot be negative ({value})")
        known = self.values.setdefault(cell, value)
        if known == NOT_AVAILABLE and value != NOT_AVAILABLE:
            self.values[cell] = value  # one table knows the margin the other cannot add up
        elif known != value and value != NOT_AVAILABLE:
            raise InconsistentRelease(f"{cell} is {known} in one table and {value} in another")

    def _relate(self, relation: Relation) -> None:
        relation = Relation(self._one(relation.total), tuple(map(self._one, relation.parts)))
        if relation not in self._seen:
            self._seen.add(relation)
            self.relations.append(relation)

    def check_consistent(self) -> None:
        for relation in self.relations:
            missing = [cell for cell in relation.cells if cell not in self.values]
            if missing:
                raise InconsistentRelease(f"{missing[0]} has no value")
            values = [self.values[cell] for cell in relation.cells]
            if any(v == NOT_AVAILABLE for v in values):
                continue
            total, *parts = (v if isinstance(v, int) else 0 for v in values)
            if total != sum(parts):
                raise InconsistentRelease(
                    f"{relation.total} is {total}, its parts add up to {sum(parts)}"
                )

    def totals(self) -> frozenset[Cell]:
        """The cells that are the total of some relation (margins and grand totals)."""
        return frozenset(relation.total for relation in self.relations)


@dataclass(frozen=True)
class Interval:
    """The values a suppressed cell can take, given everything published (rounded inwards)."""

    low: float
    high: float  # math.inf when unbounded

    @property
    def width(self) -> float:
        return self.high - self.low

    def __iter__(self) -> Iterator[float]:  # low, high = interval
        return iter((self.low, self.high))


@dataclass
class Protected:
    """A release's published values (counts and symbols), which cells were suppressed and why,
    and the audit of every suppressed cell."""

    release: Release
    published: dict[Cell, Published]
    primary: frozenset[Cell]
    secondary: frozenset[Cell]
    audit: dict[Cell, Interval]
    threshold: int
    protection: float
    rounds: int = 0

    def table(self, name: str) -> list[list[Published]]:
        """The named table as published, row by row over its first dimension's values and the
        total (every dimension's margin last), one column per combination of the others."""
        table = next(t for t in self.release.tables if t.name == name)
        first, *rest = table.dimensions
        columns = list(itertools.product(*((*d.values, TOTAL) for d in rest)))
        return [
            [self.published[table.cell(row, *column)] for column in columns]
            for row in (*first.values, TOTAL)
        ]

    @property
    def suppressed(self) -> frozenset[Cell]:
        return self.primary | self.secondary


def primary_cells(
    release: Release, threshold: int = DEFAULT_THRESHOLD, *, suppress_zeros: bool = False
) -> frozenset[Cell]:
    """The cells whose count is small enough to identify someone: 1 to threshold - 1."""
    low = 0 if suppress_zeros else 1
    return frozenset(
        cell
        for cell, value in release.values.items()
        if isinstance(value, int) and low <= value < threshold
    )


def publish(release: Release, suppressed: Iterable[Cell]) -> dict[Cell, Published]:
    """The published value of every cell: `[c]` for the suppressed, the count or symbol else."""
    hidden = set(suppressed)
    return {
        cell: CONFIDENTIAL if cell in hidden else value for cell, value in release.values.items()
    }


# Every unknown is bounded by this many times the largest count of the release, so that every
# linear program has an optimum (and stays well scaled); a maximum beyond half of it means no
# published value bounds the cell: unbounded. A bounded maximum is at most a published total.
_HEADROOM = 100


class _Model:
    """The release's relations as one linear program over unknown cells (suppressed or not
    available); published counts and [z] are constants."""

    def __init__(
        self, release: Release, unknown: Iterable[Cell], relations: Iterable[Relation]
    ) -> None:
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        largest = max((v for v in release.values.values() if isinstance(v, int)), default=0)
        self.unbounded = float(_HEADROOM * max(largest, 10))
        self.variables = {
            cell: self.solver.NumVar(0.0, self.unbounded, f"x{i}")
            for i, cell in enumerate(sorted(unknown))
        }
        for relation in relations:
            self._add(release, relation)

    def _add(self, release: Release, relation: Relation) -> None:
        constant = 0.0
        terms: dict[Cell, float] = defaultdict(float)
        for cell, sign in ((relation.total, 1.0), *((part, -1.0) for part in relation.parts)):
            if cell in self.variables:
                terms[cell] += sign
            else:
                value = release.values[cell]
                constant += sign * (value if isinstance(value, int) else 0)
        if not any(terms.values()):
            return
        constraint = self.solver.Constraint(-constant, -constant)
        for cell, coefficient in terms.items():
            constraint.SetCoefficient(self.variables[cell], coefficient)

    def bound(self, cell: Cell, *, maximise: bool) -> float:
        objective = self.solver.Objective()
        objective.Clear()
        objective.SetCoefficient(self.variables[cell], 1.0)
        if maximise:
            objective.SetMaximization()
        else:
            objective.SetMinimization()
        status = self.solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise InconsistentRelease(f"the audit's linear program has no solution ({status})")
        value = float(objective.Value())
        return math.inf if value >= self.unbounded / 2 else value

    def solution(self) -> dict[Cell, float]:
        """The last solution found (values of the unbounded direction are huge, not infinite)."""
        return {cell: variable.solution_value() for cell, variable in self.variables.items()}


_TOLERANCE = 1e-6


def audit(release: Release, suppressed: Iterable[Cell]) -> dict[Cell, Interval]:
    """For every suppressed cell, the interval of values consistent with every published value
    and every relation of the release: the exact LP minimum and maximum, rounded inwards to
    whole numbers (the ceiling of the minimum, the floor of the maximum)."""
    return _Auditor(release).audit(frozenset(suppressed))


class _Auditor:
    """Audits component by component: unknown cells linked by a relation with two or more
    unknowns bound each other; a relation with one unknown fixes it alone. A component's
    intervals depend only on its own cells, so they are kept between rounds of `protect` until
    a new suppression changes the component."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self.by_cell = _relations_by_cell(release)
        self.known: dict[frozenset[Cell], dict[Cell, Interval]] = {}
        self.checked: dict[frozenset[Cell], list[Cell]] = {}
        # The least and greatest value each cell took in any solution found so far. Suppressing
        # one more cell keeps every earlier solution feasible (the new unknown at its true
        # value), so these stay valid from round to round, and a cell once seen to vary by the
        # protection width stays protected.
        self.seen: dict[Cell, list[float]] = defaultdict(lambda: [math.inf, -math.inf])

    def audit(self, suppressed: frozenset[Cell]) -> dict[Cell, Interval]:
        unknown = self._unknown(suppressed)
        intervals: dict[Cell, Interval] = {}
        for component in self._components(unknown):
            if component not in self.known:
                self.known[component] = self._solve(component, suppressed)
            intervals.update(self.known[component])
        return intervals

    def narrow(self, suppressed: frozenset[Cell], width: float) -> list[Cell]:
        """The suppressed cells whose interval is narrower than `width`. Quicker than `audit`:
        every solution a linear program finds is a feasible release, so the values each cell
        takes across them already bound its interval from inside, and a cell seen to vary by
        `width` needs no program of its own."""
        unknown = self._unknown(suppressed)
        under: list[Cell] = []
        for component in self._components(unknown):
            if component not in self.checked:
                self.checked[component] = self._check(component, suppressed, width)
            under.extend(self.checked[component])
        return sorted(under)

    def _check(
        self, component: frozenset[Cell], suppressed: frozenset[Cell], width: float
    ) -> list[Cell]:
        seen = self.seen
        model: _Model | None = None

        def wide(cell: Cell) -> bool:
            low, high = seen[cell]
            if low > high:
                return False
            return math.floor(high + _TOLERANCE) - math.ceil(low - _TOLERANCE) >= width

        under = []
        for cell in sorted(component & suppressed):
            for maximise in (False, True):
                if wide(cell):
                    break
                model = model or self._model(component)
                model.bound(cell, maximise=maximise)
                for other, value in model.solution().items():
                    seen[other][0] = min(seen[other][0], value)
                    seen[other][1] = max(seen[other][1], value)
            if not wide(cell):
                under.append(cell)
        return under

    def _unknown(self, suppressed: frozenset[Cell]) -> frozenset[Cell]:
        return suppressed | {
            cell for cell, value in self.release.values.items() if value == NOT_AVAILABLE
        }

    def _model(self, component: frozenset[Cell]) -> _Model:
        relations = {r for cell in component for r in self.by_cell.get(cell, ())}
        return _Model(self.release, component, sorted(relations, key=_relation_order))

    def _components(self, unknown: frozenset[Cell]) -> list[frozenset[Cell]]:
        parent = {cell: cell for cell in unknown}

        def root(cell: Cell) -> Cell:
            while parent[cell] != cell:
                parent[cell] = parent[parent[cell]]
                cell = parent[cell]
            return cell

        for cell in unknown:
            for relation in self.by_cell.get(cell, ()):
                for other in relation.cells:
                    if other in parent:
                        parent[root(other)] = root(cell)
        groups: dict[Cell, set[Cell]] = defaultdict(set)
        for cell in unknown:
            groups[root(cell)].add(cell)
        return [frozenset(group) for group in groups.values()]

    def _solve(
        self, component: frozenset[Cell], suppressed: frozenset[Cell]
    ) -> dict[Cell, Interval]:
        model = self._model(component)
        intervals = {}
        for cell in sorted(component & suppressed):
            low = model.bound(cell, maximise=False)
            high = model.bound(cell, maximise=True)
            intervals[cell] = Interval(
                float(math.ceil(low - _TOLERANCE)),
                high if math.isinf(high) else float(math.floor(high + _TOLERANCE)),
            )
        return intervals


def _relation_order(relation: Relation) -> tuple[Cell, tuple[Cell, ...]]:
    return (relation.total, relation.parts)


def narrow(intervals: Mapping[Cell, Interval], protection: float) -> list[Cell]:
    """The cells whose interval is narrower than the protection level."""
    return [cell for cell, interval in intervals.items() if interval.width < protection]


def protect(
    release: Release,
    threshold: int = DEFAULT_THRESHOLD,
    protection: float | None = None,
    *,
    suppress_zeros: bool = False,
) -> Protected:
    """Primary and secondary suppression, and the audit that proves it.

    `protection` (default: the threshold) is the width every suppressed cell's interval must
    have. Raises `InconsistentRelease` if the release's tables disagree."""
    release.check_consistent()
    width = float(threshold if protection is None else protection)
    primary = primary_cells(release, threshold, suppress_zeros=suppress_zeros)
    suppressed = set(primary)
    totals = release.totals()
    auditor = _Auditor(release)
    by_cell = auditor.by_cell
    rounds = 0
    while True:
        under = auditor.narrow(frozenset(suppressed), width)
        if not under:
            break
        rounds += 1
        added = _secondary_round(release, suppressed, under, by_cell, totals)
        if not added:  # nothing left to suppress: cannot happen for a consistent release
            raise InconsistentRelease("secondary suppression found no cell left to suppress")
    intervals = auditor.audit(frozenset(suppressed))
    return Protected(
        release=release,
        published=publish(release, suppressed),
        primary=primary,
        secondary=frozenset(suppressed - primary),
        audit=intervals,
        threshold=threshold,
        protection=width,
        rounds=rounds,
    )


def _relations_by_cell(release: Release) -> dict[Cell, list[Relation]]:
    by_cell: dict[Cell, list[Relation]] = defaultdict(list)
    for relation in release.relations:
        for cell in relation.cells:
            by_cell[cell].append(relation)
    return by_cell


def _secondary_round(
    release: Release,
    suppressed: set[Cell],
    under: Sequence[Cell],
    by_cell: Mapping[Cell, list[Relation]],
    totals: frozenset[Cell],
) -> list[Cell]:
    """Suppress one partner for each under-protected cell that no earlier choice of this round
    touched (a choice changes the intervals of every cell in its relations)."""
    touched: set[Cell] = set()
    added: list[Cell] = []
    for cell in under:
        if cell in touched:
            continue
        partner = _partner(release, cell, suppressed, by_cell, totals)
        if partner is None:
            partner = _further_partner(release, cell, suppressed, by_cell, totals)
        if partner is None:
            continue
        suppressed.add(partner)
        added.append(partner)
        touched.add(cell)
        for relation in by_cell[partner]:
            touched.update(relation.cells)
    return added


def _further_partner(
    release: Release,
    cell: Cell,
    suppressed: set[Cell],
    by_cell: Mapping[Cell, list[Relation]],
    totals: frozenset[Cell],
) -> Cell | None:
    """When every cell in the relations of `cell` is suppressed already: a partner of one of
    those suppressed neighbours (the least suppressed cell by `_partner`'s rule)."""
    neighbours = sorted({c for r in by_cell.get(cell, ()) for c in r.cells if c in suppressed})
    for neighbour in neighbours:
        partner = _partner(release, neighbour, suppressed, by_cell, totals)
        if partner is not None:
            return partner
    return None


def _candidates(release: Release, relation: Relation, suppressed: set[Cell]) -> list[Cell]:
    return [
        cell
        for cell in relation.cells
        if cell not in suppressed and isinstance(release.values[cell], int)
    ]


def _partner(
    release: Release,
    cell: Cell,
    suppressed: set[Cell],
    by_cell: Mapping[Cell, list[Relation]],
    totals: frozenset[Cell],
) -> Cell | None:
    """The published cell to suppress next to `cell`: in the relation of `cell` with the fewest
    suppressed cells (that still has a published one), the best candidate by `_preference`."""
    options = []
    for relation in by_cell.get(cell, ()):
        candidates = _candidates(release, relation, suppressed)
        if candidates:
            hidden = sum(1 for c in relation.cells if c in suppressed)
            options.append((hidden, len(relation.parts), relation, candidates))
    if not options:
        return None
    _, _, relation, candidates = min(options, key=lambda option: option[:2])

    def preference(candidate: Cell) -> tuple[int, int, int, Cell]:
        closes = any(
            other is not relation and any(c in suppressed for c in other.cells)
            for other in by_cell[candidate]
        )
        value = release.values[candidate]
        return (
            candidate in totals,
            0 if closes else 1,
            value if isinstance(value, int) and value > 0 else 1 << 40,
            candidate,
        )

    return min(candidates, key=preference)


@dataclass(frozen=True)
class Problem:
    cell: Cell
    reason: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.reason}"


def problems(
    release: Release,
    published: Mapping[Cell, Published],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    protection: float | None = None,
) -> list[Problem]:
    """Why these published values must not be published (none: they may be). Audits afresh:
    trusts nothing `protect` said. Checks that every cell of the release is published as its
    true value or a symbol, that no published count lies in 1..threshold-1, and that every
    suppressed cell's interval is at least `protection` (default: the threshold) wide."""
    width = float(threshold if protection is None else protection)
    found: list[Problem] = []
    suppressed = set()
    for cell, value in release.values.items():
        shown = published.get(cell)
        if shown == CONFIDENTIAL:
            suppressed.add(cell)
        elif shown != value:
            found.append(Problem(cell, f"published as {shown!r}, but it is {value!r}"))
        elif isinstance(shown, int) and 1 <= shown < threshold:
            found.append(Problem(cell, f"a count of {shown} is published"))
    for cell, interval in audit(release, suppressed).items():
        if interval.width < width:
            found.append(
                Problem(
                    cell,
                    f"can be worked out to lie between {interval.low:g} and {interval.high:g}, "
                    f"narrower than {width:g}",
                )
            )
    return found


def is_safe(
    release: Release,
    published: Mapping[Cell, Published],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    protection: float | None = None,
) -> bool:
    """Whether these published values may be published (see `problems`)."""
    return not problems(release, published, threshold=threshold, protection=protection)


def _unpublishable(value: Published | None, threshold: int) -> str | None:
    """The symbol to show instead of a figure computed over a group of this published size."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value in (NOT_AVAILABLE, NOT_APPLICABLE) else CONFIDENTIAL
    return CONFIDENTIAL if value < threshold else None


def _symbol(value: str) -> str:
    return value if value in (NOT_AVAILABLE, NOT_APPLICABLE) else CONFIDENTIAL


def percentage(
    part: Published,
    whole: Published,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    decimals: int = 0,
) -> float | str:
    """`part` as a percentage of `whole`, both as published: `[c]` if either is suppressed or
    the whole is smaller than the threshold; `[z]` for a whole of zero; `[x]` passes through."""
    if not isinstance(whole, int):
        return _symbol(whole)
    if not isinstance(part, int):
        return _symbol(part)
    if whole == 0:
        return NOT_APPLICABLE
    if whole < threshold:
        return CONFIDENTIAL
    return round(100 * part / whole, decimals)


def median(
    values: Sequence[float],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    group: Published | None = None,
) -> float | str:
    """The median of a group's values; `[c]` if the group (its published count, if given) is
    suppressed or has fewer values than the threshold."""
    symbol = _unpublishable(group, threshold) or _unpublishable(len(values), threshold)
    if symbol:
        return symbol
    return float(statistics.median(values))


def quartiles(
    values: Sequence[float],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    group: Published | None = None,
) -> tuple[float, float, float] | str:
    """The lower quartile, median and upper quartile, or the symbol as for `median`."""
    symbol = _unpublishable(group, threshold) or _unpublishable(len(values), threshold)
    if symbol:
        return symbol
    if len(values) == 1:
        return (float(values[0]),) * 3
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (float(q1), float(q2), float(q3))


def mean(
    values: Sequence[float],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    group: Published | None = None,
) -> float | str:
    """The mean, or the symbol as for `median`."""
    symbol = _unpublishable(group, threshold) or _unpublishable(len(values), threshold)
    if symbol:
        return symbol
    return float(statistics.fmean(values))
