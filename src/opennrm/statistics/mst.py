"""Differentially private synthetic data by MST (McKenna, Miklau and Sheldon, "Winning the NIST
Contest: A scalable and general approach to differentially private synthetic data", Journal of
Privacy and Confidentiality 11(3), 2021). ADR 0037. Pure: no Django.

Rows of categorical values (each column with a public domain: the categories it can take,
never read from the data) become synthetic rows in the same columns:

1. **One-way marginals.** Every column's counts get Gaussian noise.
2. **Compression.** A column's values whose noisy count is under 3 standard deviations of
   the noise are put together in one bucket (post-processing: it reads only noisy counts).
3. **Selection of a tree.** For every pair of columns, the L1 distance between the pair's
   true two-way counts and the counts the noisy one-way marginals would give if the two were
   independent (the paper's measure of how much the pair's dependence matters, standing in for
   mutual information; sensitivity 1). A maximum spanning tree is built as Kruskal's algorithm
   does, each edge chosen by the exponential mechanism among the pairs not yet connected.
4. **Two-way marginals** of the tree's edges get Gaussian noise.
5. **Estimation.** A tree-structured distribution is fitted to the noisy marginals: each
   column's marginal combines its own measurement and the margins of its edges' tables
   (inverse-variance weights), is made non-negative and given the estimated total; each edge
   table is made non-negative and fitted to its two columns' marginals by iterative
   proportional fitting, so the model is consistent. The paper fits a graphical model with
   private-pgm (`mbi`); on a tree, with consistent marginals, that model is exactly the one
   here (the joint is the product of the edge tables over the shared columns' marginals).
6. **Sampling** along the tree from a root; a value drawn from a compressed bucket is one of
   the bucket's values, uniformly, as MST does.

**Privacy accounting** (zero-concentrated DP, Bun and Steinke 2016). The target (epsilon,
delta) is turned into the largest rho whose zCDP guarantee implies (epsilon, delta)-DP by the
conversion of Canonne, Kamath and Steinke (2020, "The discrete Gaussian for differential
privacy"), the one OpenDP's `make_zCDP_to_approxDP` applies. A third of rho each goes to the
one-way marginals, the selection and the two-way marginals. The unit is one row, added or
removed: it changes each marginal by 1 in one cell (L2 sensitivity 1 per marginal), and each
selection score by at most 1. With d modelled columns: each one-way marginal is measured with
the Gaussian of scale sigma·sqrt(d), where sigma = sqrt(3 / (2 rho)), spending 1/(2 sigma² d);
each of the d - 1 selections is the exponential mechanism with epsilon_s = sqrt(8 (rho/3) /
(d - 1)), which is epsilon_s²/8-zCDP (Cesar and Rogers 2021); each of the d - 1 edges is
measured with scale sigma·sqrt(d - 1). The three parts sum to rho. With `seed=None` (a
release) every noise draw is OpenDP's: its exact discrete Gaussian and its report-noisy-max,
from the operating system's secure source, each measurement's privacy map checked against the
share charged. With a seed (tests, demonstrations) the same distributions come from numpy's
seeded generator: reproducible, and therefore never for a release.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import opendp.prelude as dp

dp.enable_features("contrib")  # the discrete Gaussian and noisy max are in OpenDP's contrib set

COMPRESSION_SIGMAS = 3.0  # MST's threshold: a value is kept when its noisy count is >= 3 sd
IPF_ITERATIONS = 50
IPF_TOLERANCE = 1e-6
# A little of the independent table is mixed into each clipped edge table before fitting, so a
# parent value whose noisy row is all zeros still has children (as if independent).
INDEPENDENCE_FLOOR = 1e-3


@dataclass(frozen=True)
class Column:
    """A column and its public domain: every value it may take, in order."""

    name: str
    domain: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.domain:
            raise ValueError(f"column {self.name!r} has an empty domain")
        if len(set(self.domain)) != len(self.domain):
            raise ValueError(f"column {self.name!r} repeats a value in its domain")

    @property
    def modelled(self) -> bool:
        """A column with one possible value is a constant: nothing to measure."""
        return len(self.domain) > 1


@dataclass(frozen=True)
class Synthesis:
    rows: list[tuple[str, ...]]
    epsilon: float
    delta: float
    rho: float  # the zCDP budget allowed, which implies (epsilon, delta)-DP
    spent: float  # the zCDP the measurements spent (at most rho)
    tree: tuple[tuple[str, str], ...]  # the edges chosen (for the notes)
    estimated_total: float  # the noisy estimate of the number of input rows


# --- Accounting ---------------------------------------------------------------------------


def delta_of(rho: float, epsilon: float) -> float:
    """The delta that rho-zCDP gives at epsilon (Canonne, Kamath and Steinke 2020): the minimum
    over alpha > 1 of exp((alpha-1)(alpha·rho - epsilon) + alpha·log(1 - 1/alpha)) / (alpha-1),
    found by bisection on the sign of its derivative. Any alpha gives a valid bound, so an
    inexact minimum only overstates delta."""
    if rho <= 0:
        return 0.0
    low, high = 1.01, (epsilon + 1) / (2 * rho) + 2
    alpha = (low + high) / 2
    for _ in range(200):
        alpha = (low + high) / 2
        if (2 * alpha - 1) * rho - epsilon + math.log1p(-1 / alpha) < 0:
            low = alpha
        else:
            high = alpha
    exponent = (alpha - 1) * (alpha * rho - epsilon) + alpha * math.log1p(-1 / alpha)
    return min(math.exp(exponent) / (alpha - 1), 1.0)


def rho_for(epsilon: float, delta: float) -> float:
    """The largest rho (to bisection precision, rounded down) whose zCDP implies
    (epsilon, delta)-DP."""
    if epsilon <= 0 or not 0 < delta < 1:
        raise ValueError("epsilon must be positive and delta between 0 and 1")
    low, high = 0.0, epsilon + 1
    for _ in range(200):
        middle = (low + high) / 2
        if delta_of(middle, epsilon) <= delta:
            low = middle
        else:
            high = middle
    return low


def opendp_epsilon(rho: float, delta: float) -> float:
    """The epsilon OpenDP's own zCDP-to-approximate-DP conversion gives for rho at delta (a
    cross-check of `rho_for`)."""
    gaussian = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=float, nan=False)),
        dp.l2_distance(T=float),
        scale=1 / math.sqrt(2 * rho),
    )
    return float(dp.c.make_zCDP_to_approxDP(gaussian).map(1.0).epsilon(delta))


# --- Noise --------------------------------------------------------------------------------


class Noise(Protocol):
    def gaussian(self, counts: np.ndarray, scale: float, rho: float) -> np.ndarray: ...

    def select(self, scores: np.ndarray, epsilon: float, rho: float) -> int: ...

    @property
    def sampler(self) -> np.random.Generator: ...


class SecureNoise:
    """OpenDP's mechanisms, from the operating system's secure source; each measurement's
    privacy map is checked against the zCDP share charged for it."""

    def __init__(self) -> None:
        self.spent = 0.0
        # Sampling the records is post-processing; its generator need not be secure, but it is
        # seeded from the secure source so that nothing about it can be guessed.
        self._sampler = np.random.default_rng(secrets.randbits(128))

    @property
    def sampler(self) -> np.random.Generator:
        return self._sampler

    def _charge(self, measurement: Any, d_in: Any, rho: float) -> None:
        spent = float(measurement.map(d_in))
        if spent > rho * (1 + 1e-9):
            raise RuntimeError(f"a measurement spends rho {spent}, more than the {rho} charged")
        self.spent += spent

    def gaussian(self, counts: np.ndarray, scale: float, rho: float) -> np.ndarray:
        """The discrete Gaussian on integer counts (L2 sensitivity 1: a row is in one cell)."""
        measurement = dp.m.make_gaussian(
            dp.vector_domain(dp.atom_domain(T=int), size=int(counts.size)),
            dp.l2_distance(T=int),
            scale=scale,
        )
        self._charge(measurement, 1, rho)
        return np.asarray(measurement([int(c) for c in counts.ravel()]), dtype=float).reshape(
            counts.shape
        )

    def select(self, scores: np.ndarray, epsilon: float, rho: float) -> int:
        """The exponential mechanism (report noisy max) on scores of sensitivity 1: scale 2/epsilon
        gives epsilon-DP and epsilon²/8-zCDP."""
        measurement = dp.m.make_noisy_max(
            dp.vector_domain(dp.atom_domain(T=float, nan=False)),
            dp.linf_distance(T=float),
            dp.zero_concentrated_divergence(),
            scale=2 / epsilon,
        )
        self._charge(measurement, 1.0, rho)
        return int(measurement([float(s) for s in scores]))


class SeededNoise:
    """The same distributions from numpy's seeded generator: reproducible, for tests and
    demonstrations only (a seeded generator is not a secure source)."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self.spent = 0.0

    @property
    def sampler(self) -> np.random.Generator:
        return self._rng

    def gaussian(self, counts: np.ndarray, scale: float, rho: float) -> np.ndarray:
        self.spent += 1 / (2 * scale**2)
        return counts + np.rint(self._rng.normal(0.0, scale, size=counts.shape))

    def select(self, scores: np.ndarray, epsilon: float, rho: float) -> int:
        # The Gumbel-max form of the exponential mechanism: P(i) ∝ exp(epsilon·score_i / 2).
        self.spent += epsilon**2 / 8
        return int(np.argmax(scores + self._rng.gumbel(0.0, 2 / epsilon, size=scores.shape)))


# --- MST --------------------------------------------------------------------------------------


@dataclass
class _Compressed:
    """A column's compressed domain: the kept values' indices, and the rest in one bucket."""

    kept: np.ndarray  # indices into the original domain
    rest: np.ndarray  # indices merged into the last bucket (may be empty)
    lookup: np.ndarray  # original index -> compressed index

    @property
    def size(self) -> int:
        return int(self.kept.size + (1 if self.rest.size else 0))

    @classmethod
    def of(cls, noisy: np.ndarray, threshold: float) -> _Compressed:
        kept = np.flatnonzero(noisy >= threshold)
        rest = np.flatnonzero(noisy < threshold)
        lookup = np.empty(noisy.size, dtype=np.int64)
        lookup[kept] = np.arange(kept.size)
        lookup[rest] = kept.size
        return cls(kept, rest, lookup)

    def measurement(self, noisy: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
        """The one-way measurement re-expressed on the compressed domain, with each cell's
        noise variance (the bucket's is the sum of its cells')."""
        values = noisy[self.kept]
        variances = np.full(self.kept.size, sd**2)
        if self.rest.size:
            values = np.append(values, noisy[self.rest].sum())
            variances = np.append(variances, self.rest.size * sd**2)
        return values, variances


def synthesise(
    rows: Sequence[Sequence[str]],
    columns: Sequence[Column],
    *,
    epsilon: float,
    delta: float,
    count: int | None = None,
    seed: int | None = None,
) -> Synthesis:
    """Synthetic rows with (epsilon, delta)-differential privacy for each input row (added or
    removed). `count` rows are drawn, or, by default, as many as the noisy estimate of the
    input's size. With `seed=None` the noise is OpenDP's (for a release); with a seed it is
    reproducible (never for a release)."""
    rho = rho_for(epsilon, delta)
    noise: SecureNoise | SeededNoise = SecureNoise() if seed is None else SeededNoise(seed)
    codes = _encode(rows, columns)
    modelled = [i for i, column in enumerate(columns) if column.modelled]
    d = len(modelled)
    sigma = math.sqrt(3 / (2 * rho))

    # 1. One-way marginals, rho/3 in all.
    one_way_sd = sigma * math.sqrt(d) if d else 0.0
    one_way: dict[int, np.ndarray] = {}
    for i in modelled:
        counts = np.bincount(codes[:, i], minlength=len(columns[i].domain)).astype(float)
        one_way[i] = noise.gaussian(counts, one_way_sd, rho / 3 / d)

    # 2. Compression (post-processing of the noisy one-way counts).
    compressed = {i: _Compressed.of(one_way[i], COMPRESSION_SIGMAS * one_way_sd) for i in modelled}
    small = np.zeros((len(codes), len(columns)), dtype=np.int64)
    for i in modelled:
        small[:, i] = compressed[i].lookup[codes[:, i]]
    measured = {i: compressed[i].measurement(one_way[i], one_way_sd) for i in modelled}
    total = _total([values for values, _ in measured.values()], [v for _, v in measured.values()])

    # 3. The tree, rho/3 in all; 4. its edges' two-way marginals, rho/3 in all.
    edges = _select(small, modelled, compressed, measured, total, noise, rho / 3)
    edge_sd = sigma * math.sqrt(len(edges)) if edges else 0.0
    two_way = {
        (a, b): noise.gaussian(
            _table(small[:, a], small[:, b], compressed[a].size, compressed[b].size),
            edge_sd,
            rho / 3 / len(edges),
        )
        for a, b in edges
    }
    if noise.spent > rho * (1 + 1e-9):  # pragma: no cover (each share is checked as charged)
        raise RuntimeError(f"spent rho {noise.spent}, more than the {rho} allowed")

    # 5. Estimation (post-processing from here on).
    total = _total(
        [values for values, _ in measured.values()] + [t.ravel() for t in two_way.values()],
        [v for _, v in measured.values()] + [np.full(t.size, edge_sd**2) for t in two_way.values()],
    )
    marginals = _node_marginals(modelled, measured, two_way, edge_sd, total)
    tables = {edge: _fit(two_way[edge], marginals[edge[0]], marginals[edge[1]]) for edge in edges}

    # 6. Sampling.
    wanted = max(0, round(total)) if count is None else count
    drawn = _sample(wanted, modelled, marginals, tables, noise.sampler)
    out = np.zeros((wanted, len(columns)), dtype=np.int64)  # a constant column: its one value
    for i in modelled:
        out[:, i] = _decompress(drawn[i], compressed[i], noise.sampler)
    domains = [np.asarray(column.domain, dtype=object) for column in columns]
    synthetic = [tuple(str(v) for v in row) for row in _decode(out, domains)]
    names = [column.name for column in columns]
    return Synthesis(
        rows=synthetic,
        epsilon=epsilon,
        delta=delta,
        rho=rho,
        spent=noise.spent,
        tree=tuple((names[a], names[b]) for a, b in edges),
        estimated_total=total,
    )


def _encode(rows: Sequence[Sequence[str]], columns: Sequence[Column]) -> np.ndarray:
    index = [{value: code for code, value in enumerate(column.domain)} for column in columns]
    codes = np.zeros((len(rows), len(columns)), dtype=np.int64)
    for r, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"row {r} has {len(row)} values for {len(columns)} columns")
        for c, value in enumerate(row):
            try:
                codes[r, c] = index[c][value]
            except KeyError:
                raise ValueError(
                    f"row {r}: {value!r} is not in the domain of {columns[c].name}"
                ) from None
    return codes


def _decode(out: np.ndarray, domains: list[np.ndarray]) -> list[list[Any]]:
    if not len(out):
        return []
    return np.column_stack([domains[c][out[:, c]] for c in range(out.shape[1])]).tolist()


def _table(a: np.ndarray, b: np.ndarray, size_a: int, size_b: int) -> np.ndarray:
    return (
        np.bincount(a * size_b + b, minlength=size_a * size_b).reshape(size_a, size_b).astype(float)
    )


def _total(values: list[np.ndarray], variances: list[np.ndarray]) -> float:
    """The inverse-variance weighted mean of each measurement's total (at least 0)."""
    if not values:
        return 0.0
    totals = np.array([v.sum() for v in values])
    weights = np.array([1 / v.sum() for v in variances])
    return max(0.0, float((totals * weights).sum() / weights.sum()))


def _independent(marginal_a: np.ndarray, marginal_b: np.ndarray, total: float) -> np.ndarray:
    if total <= 0:
        return np.zeros((marginal_a.size, marginal_b.size))
    return np.outer(marginal_a, marginal_b) / total


def _nonnegative(values: np.ndarray, total: float) -> np.ndarray:
    """Clipped at 0 and scaled to the total (uniform when nothing is left)."""
    clipped = np.clip(values, 0, None)
    if clipped.sum() <= 0:
        return np.full(values.size, total / values.size)
    return clipped * (total / clipped.sum())


def _select(
    small: np.ndarray,
    modelled: list[int],
    compressed: dict[int, _Compressed],
    measured: dict[int, tuple[np.ndarray, np.ndarray]],
    total: float,
    noise: SecureNoise | SeededNoise,
    rho: float,
) -> list[tuple[int, int]]:
    """Kruskal's maximum spanning tree, each edge by the exponential mechanism over the pairs
    that would not close a cycle; the score of a pair is the L1 distance between its true
    two-way counts and the independent estimate from the noisy one-way marginals."""
    if len(modelled) < 2:
        return []
    estimate = {i: _nonnegative(measured[i][0], total) for i in modelled}
    scores: dict[tuple[int, int], float] = {}
    for a, b in itertools.combinations(modelled, 2):
        true = _table(small[:, a], small[:, b], compressed[a].size, compressed[b].size)
        scores[a, b] = float(np.abs(true - _independent(estimate[a], estimate[b], total)).sum())
    rounds = len(modelled) - 1
    epsilon = math.sqrt(8 * rho / rounds)
    parent = {i: i for i in modelled}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    chosen: list[tuple[int, int]] = []
    for _ in range(rounds):
        candidates = [pair for pair in scores if root(pair[0]) != root(pair[1])]
        pick = candidates[
            noise.select(np.array([scores[p] for p in candidates]), epsilon, rho / rounds)
        ]
        parent[root(pick[0])] = root(pick[1])
        chosen.append(pick)
    return chosen


def _node_marginals(
    modelled: list[int],
    measured: dict[int, tuple[np.ndarray, np.ndarray]],
    two_way: dict[tuple[int, int], np.ndarray],
    edge_sd: float,
    total: float,
) -> dict[int, np.ndarray]:
    """Each column's marginal from its own measurement and its edges' margins, by inverse
    variance per cell, then made non-negative with the estimated total."""
    marginals = {}
    for i in modelled:
        values, variances = measured[i]
        weighted = values / variances
        weights = 1 / variances
        for (a, b), table in two_way.items():
            if i in (a, b):
                margin = table.sum(axis=1) if i == a else table.sum(axis=0)
                variance = edge_sd**2 * (table.shape[1] if i == a else table.shape[0])
                weighted = weighted + margin / variance
                weights = weights + 1 / variance
        marginals[i] = _nonnegative(weighted / weights, total)
    return marginals


def _fit(noisy: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The noisy table made non-negative and fitted to its margins by iterative proportional
    fitting (both margins have the same total, so the fit is consistent)."""
    total = rows.sum()
    table = np.clip(noisy, 0, None) + INDEPENDENCE_FLOOR * _independent(rows, columns, total)
    for _ in range(IPF_ITERATIONS):
        row_sums = table.sum(axis=1)
        table *= np.divide(rows, row_sums, out=np.zeros_like(rows), where=row_sums > 0)[:, None]
        column_sums = table.sum(axis=0)
        table *= np.divide(columns, column_sums, out=np.zeros_like(columns), where=column_sums > 0)[
            None, :
        ]
        if np.abs(table.sum(axis=1) - rows).max() <= IPF_TOLERANCE * max(total, 1.0):
            break
    return table


def _sample(
    count: int,
    modelled: list[int],
    marginals: dict[int, np.ndarray],
    tables: dict[tuple[int, int], np.ndarray],
    rng: np.random.Generator,
) -> dict[int, np.ndarray]:
    """`count` rows from the tree model: the root from its marginal, then each column given its
    parent in the tree (breadth first), from the edge table's row of the parent's value."""
    drawn: dict[int, np.ndarray] = {}
    if not modelled:
        return drawn
    neighbours: dict[int, list[tuple[int, np.ndarray]]] = {i: [] for i in modelled}
    for (a, b), table in tables.items():
        neighbours[a].append((b, table))  # rows: a, columns: b
        neighbours[b].append((a, table.T))
    for start in modelled:  # each connected part of the model (one, unless d < 2)
        if start in drawn:
            continue
        drawn[start] = _draw(marginals[start][None, :], np.zeros(count, dtype=np.int64), rng)
        queue = [start]
        while queue:
            node = queue.pop(0)
            for child, table in neighbours[node]:
                if child not in drawn:
                    drawn[child] = _draw(table, drawn[node], rng)
                    queue.append(child)
    return drawn


def _draw(table: np.ndarray, given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One value per row, from the row of `table` that `given` names (uniform where the row is
    empty). As private-pgm's `synthetic_data(method="round")`: among the m rows that share a
    parent value, each child value is given its expected number m·p rounded down, the rows
    left over go to values drawn in proportion to the fractions left, and the values are
    shuffled; the synthetic marginals then follow the model without the spread of drawing
    every row independently."""
    size = table.shape[1]
    sums = table.sum(axis=1, keepdims=True)
    conditional = np.divide(table, sums, out=np.full_like(table, 1 / size), where=sums > 0)
    out = np.empty(given.size, dtype=np.int64)
    order = np.argsort(given, kind="stable")
    values, starts, counts = np.unique(given[order], return_index=True, return_counts=True)
    for value, start, many in zip(values, starts, counts, strict=True):
        expected = many * conditional[value]
        allotted = np.floor(expected).astype(np.int64)
        short = int(many - allotted.sum())
        if short > 0:
            fractions = np.clip(expected - allotted, 0, None)
            if np.count_nonzero(fractions) >= short:
                extra = rng.choice(size, size=short, replace=False, p=fractions / fractions.sum())
            else:  # pragma: no cover (rounding error only)
                extra = rng.choice(size, size=short, p=conditional[value])
            np.add.at(allotted, extra, 1)
        drawn = np.repeat(np.arange(size), allotted)
        rng.shuffle(drawn)
        out[order[start : start + many]] = drawn
    return out


def _decompress(
    values: np.ndarray, compressed: _Compressed, rng: np.random.Generator
) -> np.ndarray:
    """Back to the column's domain: a value in the merged bucket becomes one of the bucket's
    values, uniformly (MST's choice: the bucket's own counts are mostly noise)."""
    out = np.empty(values.size, dtype=np.int64)
    in_bucket = values == compressed.kept.size
    out[~in_bucket] = compressed.kept[values[~in_bucket]]
    if compressed.rest.size:
        out[in_bucket] = rng.choice(compressed.rest, size=int(in_bucket.sum()))
    return out
