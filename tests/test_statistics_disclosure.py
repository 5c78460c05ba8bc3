"""Disclosure control (issue 13, item 2): primary suppression of small counts, secondary
suppression so that no suppressed cell can be worked out from margins, totals or other tables
of the release, and the LP audit that proves it.

The intervals are checked against a second formulation written here from the tables alone: an
integer program (OR-Tools CP-SAT, not the LP the module uses) over the test's own names for
every figure. For tables by X, by Y and by X and Y (any of them together) the relations form a
network, whose linear program has whole-number corners, so the integer interval and the LP's
must be the same."""

from __future__ import annotations

import math
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from opennrm.statistics.disclosure import (
    CONFIDENTIAL,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    TOTAL,
    Cell,
    Dimension,
    InconsistentRelease,
    Relation,
    Release,
    Table,
    audit,
    is_safe,
    mean,
    median,
    percentage,
    problems,
    protect,
    publish,
    quartiles,
)

SEX = Dimension("sex", ("Female", "Male"))
AGE = Dimension("age", ("Adult", "Child", "Not specified"))


def cell(**values: str) -> Cell:
    return Cell.of("referrals", **values)


# The crafted release of the issue: "by sex: total 10, female 3, male 7".


def test_a_margin_that_would_reveal_a_suppressed_cell_is_caught_and_fixed() -> None:
    release = Release.of([Table("by sex", (SEX,), {("Female",): 3, ("Male",): 7})])
    only_primary = publish(release, [cell(sex="Female")])
    assert only_primary[cell(sex="Male")] == 7
    assert only_primary[cell()] == 10
    assert not is_safe(release, only_primary)
    (problem,) = problems(release, only_primary)
    assert problem.cell == cell(sex="Female")
    assert "between 3 and 3" in str(problem)

    protected = protect(release)
    assert protected.table("by sex") == [[CONFIDENTIAL], [CONFIDENTIAL], [10]]
    assert protected.primary == {cell(sex="Female")}
    assert protected.secondary == {cell(sex="Male")}
    assert tuple(protected.audit[cell(sex="Female")]) == (0, 10)
    assert is_safe(release, protected.published)


def test_another_table_of_the_release_cannot_reveal_a_cell_either() -> None:
    """The table by sex alone would publish 'Female 12', 'Male 30'; the table by sex and age
    shares those margins, so its small cells must be protected against them."""
    by_sex = Table("by sex", (SEX,), {("Female",): 12, ("Male",): 30})
    by_sex_and_age = Table(
        "by sex and age",
        (SEX, AGE),
        {
            ("Female", "Adult"): 9,
            ("Female", "Child"): 3,
            ("Male", "Adult"): 20,
            ("Male", "Child"): 10,
        },
    )
    release = Release.of([by_sex, by_sex_and_age])
    assert release.values[cell(sex="Female")] == 12  # one cell, from both tables
    protected = protect(release)
    assert cell(sex="Female", age="Child") in protected.primary
    assert protected.secondary, "one small cell in a row needs partners"
    assert is_safe(release, protected.published)
    for interval in protected.audit.values():
        assert interval.width >= 5
    assert_matches_integer_program(release, protected.published, [by_sex, by_sex_and_age])
    printed = protected.table("by sex and age")  # rows Female, Male, Total; columns by age
    assert [len(row) for row in printed] == [4, 4, 4]
    assert printed[2][3] == 42
    assert printed[0][1] == CONFIDENTIAL


def test_a_release_with_no_small_count_publishes_everything() -> None:
    release = Release.of([Table("by sex", (SEX,), {("Female",): 30, ("Male",): 70})])
    protected = protect(release)
    assert protected.published == release.values
    assert protected.audit == {}
    assert protected.rounds == 0


def test_zero_is_published_and_can_be_suppressed_on_request() -> None:
    table = Table("by sex", (SEX,), {("Female",): 0, ("Male",): 70})
    assert protect(Release.of([table])).published[cell(sex="Female")] == 0
    protected = protect(Release.of([table]), suppress_zeros=True)
    assert protected.published[cell(sex="Female")] == CONFIDENTIAL
    assert protected.published[cell(sex="Male")] == CONFIDENTIAL


def test_the_threshold_and_the_protection_are_configurable() -> None:
    table = Table("by sex", (SEX,), {("Female",): 8, ("Male",): 90})
    assert protect(Release.of([table])).secondary == frozenset()
    protected = protect(Release.of([table]), threshold=10, protection=20)
    assert protected.published[cell(sex="Female")] == CONFIDENTIAL
    assert protected.audit[cell(sex="Female")].width >= 20
    assert not is_safe(Release.of([table]), protected.published, threshold=10, protection=200)


def test_tables_that_disagree_are_refused() -> None:
    with pytest.raises(InconsistentRelease, match="Female"):
        Release.of(
            [
                Table("by sex", (SEX,), {("Female",): 3, ("Male",): 7}),
                Table("by sex and age", (SEX, AGE), {("Female", "Adult"): 4, ("Male", "Adult"): 7}),
            ]
        )


def test_a_count_outside_the_table_is_refused() -> None:
    with pytest.raises(InconsistentRelease, match="not a cell"):
        Release.of([Table("by sex", (SEX,), {("Female",): 3, ("Femal",): 7})])


def test_an_additive_relation_given_with_the_release_is_audited_too() -> None:
    """Regions R1 (3), R2 (40), R3 (30); a table by nation, where England is R1 and R2. Only the
    relation England = R1 + R2 says that 43 - 40 reveals R1."""
    region = Dimension("region", ("R1", "R2", "R3"))
    nation = Dimension("nation", ("England", "Scotland"))
    tables = [
        Table("by region", (region,), {("R1",): 3, ("R2",): 40, ("R3",): 30}),
        Table("by nation", (nation,), {("England",): 43, ("Scotland",): 30}),
    ]
    england = Relation(cell(nation="England"), (cell(region="R1"), cell(region="R2")))
    scotland = Relation(cell(nation="Scotland"), (cell(region="R3"),))
    unaware = protect(Release.of(tables))
    assert unaware.published[cell(region="R2")] == 40  # R3, the smaller, was the partner
    aware = Release.of(tables, [england, scotland])
    # England gives R1 away, and Scotland (which is R3) gives R3 away.
    assert {p.cell for p in problems(aware, unaware.published)} == {
        cell(region="R1"),
        cell(region="R3"),
    }
    protected = protect(aware)
    assert is_safe(aware, protected.published)
    assert protected.published[cell(region="R1")] == CONFIDENTIAL
    assert CONFIDENTIAL in (
        protected.published[cell(region="R2")],
        protected.published[cell(nation="England")],
    )


def test_a_published_value_other_than_the_true_one_is_a_problem() -> None:
    release = Release.of([Table("by sex", (SEX,), {("Female",): 30, ("Male",): 70})])
    published = dict(release.values)
    published[cell()] = 99
    assert [p.cell for p in problems(release, published)] == [cell()]
    published = dict(release.values)
    published[cell(sex="Female")] = 3
    assert not is_safe(release, published)


def test_not_applicable_is_known_zero_and_not_available_is_unknown() -> None:
    """[z]: a combination that cannot occur. [x]: a count the data cannot give (its margin is
    given by another table or by `margins`); it is an unknown in the audit, never protected."""
    kind = Dimension("exploitation", ("Labour", "Sexual", "Criminal"))
    table = Table(
        "by exploitation and age",
        (kind, AGE),
        {
            ("Labour", "Adult"): 40,
            ("Labour", "Child"): 2,
            ("Sexual", "Adult"): 30,
            ("Sexual", "Child"): 12,
            ("Criminal", "Adult"): NOT_AVAILABLE,
            ("Criminal", "Child"): 25,
            ("Labour", "Not specified"): NOT_APPLICABLE,
        },
        margins={("Criminal", TOTAL): 33, ("Criminal", "Not specified"): 0},
    )
    release = Release.of([table])
    assert release.values[cell(exploitation="Criminal")] == 33
    assert release.values[cell(age="Adult")] == NOT_AVAILABLE
    protected = protect(release)
    assert protected.published[cell(exploitation="Labour", age="Not specified")] == NOT_APPLICABLE
    assert protected.published[cell(exploitation="Criminal", age="Adult")] == NOT_AVAILABLE
    assert protected.published[cell(exploitation="Labour", age="Child")] == CONFIDENTIAL
    assert cell(exploitation="Criminal", age="Adult") not in protected.audit
    assert is_safe(release, protected.published)


# Random releases: one to three of the tables by X, by Y and by X and Y.

COUNTS = st.one_of(st.integers(0, 6), st.integers(5, 300))


@st.composite
def releases(draw: st.DrawFn) -> tuple[list[Table], int, int]:
    x = Dimension("x", tuple(f"x{i}" for i in range(draw(st.integers(1, 4)))))
    y = Dimension("y", tuple(f"y{j}" for j in range(draw(st.integers(1, 4)))))
    counts = {(i, j): draw(COUNTS) for i in x.values for j in y.values}
    by_x = Table("by x", (x,), {(i,): sum(counts[i, j] for j in y.values) for i in x.values})
    by_y = Table("by y", (y,), {(j,): sum(counts[i, j] for i in x.values) for j in y.values})
    by_xy = Table("by x and y", (x, y), counts)
    chosen = draw(st.sets(st.sampled_from(["x", "y", "xy"]), min_size=1))
    tables = [t for k, t in (("x", by_x), ("y", by_y), ("xy", by_xy)) if k in chosen]
    threshold = draw(st.integers(2, 10))
    protection = draw(st.integers(1, 2 * threshold))
    return tables, threshold, protection


@settings(deadline=None)
@given(releases())
def test_every_suppressed_cell_is_protected_and_every_other_published_as_it_is(
    drawn: tuple[list[Table], int, int],
) -> None:
    tables, threshold, protection = drawn
    release = Release.of(tables)
    protected = protect(release, threshold, protection)
    for shown_cell, shown in protected.published.items():
        if shown == CONFIDENTIAL:
            assert shown_cell in protected.suppressed
        else:
            assert shown == release.values[shown_cell]
            assert not 1 <= shown < threshold
    assert set(protected.audit) == protected.suppressed
    assert all(interval.width >= protection for interval in protected.audit.values())
    assert is_safe(release, protected.published, threshold=threshold, protection=protection)
    intervals = assert_matches_integer_program(release, protected.published, tables)
    assert all(high - low >= protection for low, high in intervals.values())


def assert_matches_integer_program(
    release: Release, published: dict[Cell, int | str], tables: list[Table]
) -> dict[Cell, tuple[float, float]]:
    """The interval of every suppressed cell from an integer program written here from the
    tables alone (never from the release's relations), equal to the audit's."""
    independent = integer_intervals(published, tables)
    audited = audit(release, [c for c, v in published.items() if v == CONFIDENTIAL])
    assert {c: (i.low, i.high) for c, i in audited.items()} == independent
    return independent


def integer_intervals(
    published: dict[Cell, int | str], tables: list[Table]
) -> dict[Cell, tuple[float, float]]:
    model = cp_model.CpModel()
    bound = 10 * sum(v for v in published.values() if isinstance(v, int)) + 1_000
    figures = {}
    for table in tables:
        for values in product(*((*d.values, TOTAL) for d in table.dimensions)):
            figure = table.cell(*values)
            if figure not in figures:
                shown = published[figure]
                if shown == CONFIDENTIAL:
                    figures[figure] = model.new_int_var(0, bound, str(figure))
                else:
                    figures[figure] = model.new_constant(shown)
    add_margins(model, figures, tables)
    return solve_ends(model, figures, published, bound)


def add_margins(model: cp_model.CpModel, figures: dict, tables: list[Table]) -> None:
    """Each table: every margin is the sum of its row, column or level below, as printed."""
    for table in tables:
        for values in product(*((*d.values, TOTAL) for d in table.dimensions)):
            for position, dimension in enumerate(table.dimensions):
                if values[position] != TOTAL:
                    continue
                parts = [
                    figures[table.cell(*values[:position], value, *values[position + 1 :])]
                    for value in dimension.values
                ]
                model.add(figures[table.cell(*values)] == sum(parts))


def solve_ends(
    model: cp_model.CpModel, figures: dict, published: dict, bound: int
) -> dict[Cell, tuple[float, float]]:
    intervals = {}
    for figure, variable in figures.items():
        if published[figure] != CONFIDENTIAL:
            continue
        ends = []
        for sense in (model.minimize, model.maximize):
            sense(variable)
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            assert solver.solve(model) == cp_model.OPTIMAL
            ends.append(solver.objective_value)
        low, high = ends
        # A finite maximum is at most a published total, far below half the bound.
        intervals[figure] = (low, math.inf if high >= bound / 2 else high)
    return intervals


@settings(deadline=None, max_examples=10)
@given(
    st.lists(st.one_of(st.integers(0, 4), st.integers(0, 60)), min_size=27, max_size=27),
    st.integers(3, 6),
)
def test_a_three_way_table_is_protected_against_its_two_way_margins(
    counts: list[int], threshold: int
) -> None:
    """By X, Y and Z, with every two-way and one-way margin: no longer a network, so the
    integer interval may be narrower than the LP's; the audit must contain it, and be wide."""
    dims = tuple(Dimension(n, (f"{n}0", f"{n}1", f"{n}2")) for n in "xyz")
    table = Table(
        "by x, y and z",
        dims,
        dict(zip(product(*(d.values for d in dims)), counts, strict=True)),
    )
    release = Release.of([table])
    protected = protect(release, threshold)
    assert is_safe(release, protected.published, threshold=threshold)
    assert all(interval.width >= threshold for interval in protected.audit.values())
    for figure, (low, high) in integer_intervals(protected.published, [table]).items():
        assert protected.audit[figure].low <= low
        assert protected.audit[figure].high >= high


# Percentages, medians and quartiles over groups.


def test_a_percentage_over_a_suppressed_or_small_group_is_suppressed() -> None:
    assert percentage(30, 120) == 25
    assert percentage(1, 3) == CONFIDENTIAL  # the denominator is below the threshold
    assert percentage(CONFIDENTIAL, 120) == CONFIDENTIAL
    assert percentage(30, CONFIDENTIAL) == CONFIDENTIAL
    assert percentage(0, 0) == NOT_APPLICABLE
    assert percentage(NOT_AVAILABLE, 120) == NOT_AVAILABLE
    assert percentage(1, 3, threshold=2) == 33
    assert percentage(1, 3, threshold=2, decimals=1) == 33.3


def test_a_median_over_a_suppressed_or_small_group_is_suppressed() -> None:
    days = [10, 20, 30, 40, 50]
    assert median(days) == 30
    assert median(days[:4]) == CONFIDENTIAL
    assert median(days, group=CONFIDENTIAL) == CONFIDENTIAL
    assert median(days, group=3) == CONFIDENTIAL
    assert median(days, group=NOT_AVAILABLE) == NOT_AVAILABLE
    assert quartiles(days) == (20, 30, 40)
    assert quartiles(days, group=CONFIDENTIAL) == CONFIDENTIAL
    assert quartiles([7] * 5) == (7, 7, 7)
    assert mean(days) == 30
    assert mean(days[:2]) == CONFIDENTIAL
