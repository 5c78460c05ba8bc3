"""How an official table is laid out, once, for the analyst's preview and for a release's frozen
snapshot (ADR 0036): rows over the table's first dimension, a column for each value of the
others, the total row last as the footer.

`laid_out` gives a table as the snapshot keeps it (`SnapshotTable`): cells are counts (int),
figures (float, already rounded: 1 decimal place, percentages none) or the symbols `[c]`, `[x]`,
`[z]`. `display` turns such a table into the page's `capacity.Table`, every figure formatted
for reading. The preview shows `display(laid_out(...))`, the bulletin `display(snapshot table)`,
so the two cannot disagree on layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TypedDict

from . import disclosure, tables
from .capacity import Cell as CapacityCell
from .capacity import Table
from .disclosure import TOTAL

SnapshotCell = int | float | str
PERCENT = "(%)"  # the end of a percentage column's header

# The first column's header, where the dimension's name read aloud would not do.
ROW_HEADERS = {
    "nationality_top20": "Nationality",
    "exploitation": "Type of exploitation",
    "exploitation_location": "Where the exploitation took place",
    "first_responder_kind": "Type of first responder organisation",
    "reporter_kind": "Type of public authority",
    "reason": "Why no bed could meet the request",
    # An operation's account (ADR 0046).
    "became": "What became of them",
    "decisions": "Decisions in effect",
    "time_to_place": "Time to a safe-house place",
    "went_missing": "Went missing",
    "protected": "Protection from removal",
}


class SnapshotTable(TypedDict):
    slug: str
    caption: str
    headers: list[str]
    rows: list[list[SnapshotCell]]
    footer: list[SnapshotCell] | None
    labels: int


def _rounded(value: float | str, decimals: int = 1) -> float | str:
    return round(float(value), decimals) if isinstance(value, int | float) else value


def _slug(name: str) -> str:
    return name.replace("_", "-")


def count_table(table: tables.StatTable, protected: disclosure.Protected) -> SnapshotTable:
    """A count table as published: rows over its first dimension, a column for each value of
    the others (and their totals), the total row last."""
    first, *rest = table.table.dimensions
    published = protected.table(table.name)
    columns = list(itertools.product(*((*d.values, TOTAL) for d in rest)))
    headers = [
        ", ".join(table.label(d.name, v) for d, v in zip(rest, column, strict=True)) or "Count"
        for column in columns
    ]
    rows: list[list[SnapshotCell]] = [
        [table.label(first.name, value), *published[i]]
        for i, value in enumerate((*first.values, TOTAL))
    ]
    return SnapshotTable(
        slug=_slug(table.name),
        caption=table.title,
        headers=[ROW_HEADERS.get(first.name, first.name.replace("_", " ").capitalize()), *headers],
        rows=rows[:-1],
        footer=rows[-1],
        labels=1,
    )


def summary_table(table: tables.SummaryTable, protected: disclosure.Protected) -> SnapshotTable:
    """Days per group: count, mean and quartiles, each `[c]` over a suppressed group."""
    rows: list[list[SnapshotCell]] = [
        [
            table.label(row.group),
            row.count,
            _rounded(row.mean),
            _rounded(row.lower_quartile),
            _rounded(row.median),
            _rounded(row.upper_quartile),
        ]
        for row in table.published(protected)
    ]
    return SnapshotTable(
        slug=_slug(table.name),
        caption=table.title,
        headers=[
            "Competent authority",
            "Decisions",
            "Mean",
            "Lower quartile",
            "Median",
            "Upper quartile",
        ],
        rows=rows[:-1],
        footer=rows[-1],
        labels=1,
    )


def share_table(table: tables.StatTable, protected: disclosure.Protected) -> SnapshotTable:
    """The decisions of a decisions table, and the share positive (whole percent)."""
    rows: list[list[SnapshotCell]] = [
        [
            "Total" if row.authority == TOTAL else row.authority,
            row.decisions,
            row.positive,
            _rounded(row.share, 0),
        ]
        for row in tables.positive_shares(table, protected)
    ]
    return SnapshotTable(
        slug=f"{_slug(table.name)}-share",
        caption=f"{table.title}: share positive",
        headers=["Competent authority", "Decisions", "Positive", f"Positive {PERCENT}"],
        rows=rows[:-1],
        footer=rows[-1],
        labels=1,
    )


def laid_out(
    table: tables.StatTable | tables.SummaryTable, protected: disclosure.Protected
) -> list[SnapshotTable]:
    """The published tables of one section: a count table (with its share positive, for a
    decisions table) or a summary table."""
    if isinstance(table, tables.SummaryTable):
        return [summary_table(table, protected)]
    laid = [count_table(table, protected)]
    if table.name.endswith("decisions_by_competent_authority"):
        laid.append(share_table(table, protected))
    return laid


def shown_figure(value: SnapshotCell, decimals: int = 1) -> CapacityCell:
    """A published figure as a page shows it: a count as it is (the page separates the
    thousands), a symbol as it is, a figure to `decimals` places."""
    if isinstance(value, float):
        return f"{value:,.{decimals}f}"
    return value


def _shown_row(row: Sequence[SnapshotCell], headers: Sequence[str]) -> tuple[CapacityCell, ...]:
    return tuple(
        shown_figure(value, 0 if header.endswith(PERCENT) else 1)
        for value, header in zip(row, headers, strict=True)
    )


def display(table: SnapshotTable) -> Table:
    """The table as a page shows it (the GOV.UK table of `capacity_macros.data_table`)."""
    headers = table["headers"]
    footer = table["footer"]
    return Table(
        slug=table["slug"],
        caption=table["caption"],
        headers=tuple(headers),
        rows=[_shown_row(row, headers) for row in table["rows"]],
        footer=None if footer is None else _shown_row(footer, headers),
        labels=table["labels"],
    )
