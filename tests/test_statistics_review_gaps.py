"""Gaps found in review of the statistics downloads (statistics.spreadsheets)."""

from __future__ import annotations

import csv
import io

from opennrm.statistics.disclosure import CONFIDENTIAL, NOT_APPLICABLE
from opennrm.statistics.spreadsheets import release_csv, table_csv

from .test_statistics_spreadsheets import snapshot


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_public_csv_downloads_do_not_emit_a_label_as_a_live_formula() -> None:
    """A row label that begins with "=" (a competent authority's or an area's name, as the
    snapshot fixture's "=SUM(A1:A2)") is written raw into release.csv and tables/<slug>.csv,
    which anyone may download from /official-statistics/. Opened in Excel or LibreOffice, the
    cell runs as a formula (CSV injection). The XLSX and ODS downloads already store it as
    text; the CSVs should neutralise a cell that begins with = + - @ (e.g. a leading ')."""
    snap = snapshot()
    dangerous = [
        cell
        for text in (
            release_csv(snap),
            *(table_csv(t) for s in snap["sections"] for t in s["tables"]),
        )
        for cell in _cells(text)
        if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _number(cell))
    ]
    assert dangerous == []


def test_only_text_is_quoted_in_a_csv_never_a_number_or_a_symbol() -> None:
    """A negative number (a change) stays a number, the symbols stay as they are, and every
    formula start of OWASP's list, tab and carriage return included, is quoted in a label."""
    table = {
        "slug": "changes",
        "caption": "Change on the quarter",
        "headers": ["Area", "Change", "Share"],
        "rows": [
            ["=1+1", -3, CONFIDENTIAL],
            ["+44 area", -0.5, NOT_APPLICABLE],
            ["-minus", 0, 1.5],
            ["@SUM(A1)", 2, 3.0],
            ["\tTab", 1, 1.0],
            ["\rReturn", 1, 1.0],
            ["Plain", 1, 1.0],
        ],
        "footer": None,
        "labels": 1,
    }

    rows = list(csv.reader(io.StringIO(table_csv(table))))

    assert rows[1:] == [
        ["'=1+1", "-3", "[c]"],
        ["'+44 area", "-0.5", "[z]"],
        ["'-minus", "0", "1.5"],
        ["'@SUM(A1)", "2", "3.0"],
        ["'\tTab", "1", "1.0"],
        ["'\rReturn", "1", "1.0"],
        ["Plain", "1", "1.0"],
    ]
