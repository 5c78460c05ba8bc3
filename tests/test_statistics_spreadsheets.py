"""The downloads of a published statistics release (statistics/spreadsheets.py): each workbook
read back with a library other than the writer's own code path (odfpy's document model for the
ODS, openpyxl's reader for the XLSX), and the CSVs with the csv module."""

from __future__ import annotations

import copy
import csv
import io
import re
import zipfile
from datetime import date
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from odf import teletype
from odf.namespaces import TABLENS
from odf.opendocument import load
from odf.table import Table, TableCell, TableHeaderRows, TableRow

from opennrm.statistics.disclosure import CONFIDENTIAL, NOT_APPLICABLE, NOT_AVAILABLE, SYMBOLS
from opennrm.statistics.spreadsheets import (
    ONE_TABLE,
    RELEASE_CSV_COLUMNS,
    About,
    release_csv,
    table_csv,
    workbook_ods,
    workbook_xlsx,
)

RELEASE_NOTE = "These figures come from live case records and may change as records are corrected."
SHARED_NOTE = "Counts are of referrals, not of people: a person referred twice counts twice."
DECISIONS_NOTE = "A decision counts in the quarter it took effect."


def snapshot() -> dict[str, Any]:
    return {
        "format": 1,
        "title": "Human trafficking: National Referral Mechanism statistics, July to September 2026",
        "period": {"start": "2026-07-01", "end": "2026-09-30", "label": "July to September 2026"},
        "jurisdiction": None,
        "jurisdiction_label": "All of the UK",
        "threshold": 5,
        "key_results": ["4,310 referrals were made, 12% more than in the same quarter of 2025."],
        "notes": [RELEASE_NOTE],
        "sections": [
            {
                "title": "Referrals by sex",
                "counts": "referrals",
                "notes": [SHARED_NOTE],
                "tables": [
                    {
                        "slug": "referrals-by-sex",
                        "caption": "Referrals by sex",
                        "headers": ["Sex", "Adult", "Child", "Total"],
                        "rows": [["Female", 120, CONFIDENTIAL, 124], ["Male", 3000, 41, 3041]],
                        "footer": ["Total", 3120, 45, 3165],
                        "labels": 1,
                    }
                ],
            },
            {
                "title": "Referrals by exploitation type and age group",
                "counts": "referrals",
                "notes": [SHARED_NOTE, "Criminal exploitation was recorded from 1 October 2019."],
                "tables": [
                    {
                        "slug": "referrals-by-exploitation-and-age",
                        "caption": "Referrals by exploitation type and age group",
                        "headers": ["Exploitation type", "Age group", "Referrals"],
                        "rows": [
                            ["Labour", "Adult", 210],
                            ["Labour", "Child", CONFIDENTIAL],
                            ["Criminal", "Adult", NOT_AVAILABLE],
                            ["=SUM(A1:A2)", "Child", 0],
                        ],
                        "footer": None,
                        "labels": 2,
                    }
                ],
            },
            {
                "title": "Days to a decision",
                "counts": "decisions",
                "notes": [DECISIONS_NOTE],
                "tables": [
                    {
                        "slug": "decisions",
                        "caption": "Reasonable grounds decisions, positive share",
                        "headers": ["Age group", "Decisions", "Positive (%)"],
                        "rows": [["Adult", 400, 87.0], ["Child", 0, NOT_APPLICABLE]],
                        "footer": ["Total", 400, 87.0],
                        "labels": 1,
                    },
                    {
                        "slug": "days-to-decision",
                        "caption": "Days from referral to a reasonable grounds decision",
                        "headers": ["Age group", "Mean", "Median"],
                        "rows": [["Adult", 12.3, 9.5], ["Child", CONFIDENTIAL, CONFIDENTIAL]],
                        "footer": None,
                        "labels": 1,
                    },
                ],
            },
        ],
        "not_available": [
            {
                "title": "Negative decisions by reason",
                "reason": "The reasons are not recorded in a form that can be counted.",
            }
        ],
    }


FIRST = About(
    version=1,
    published_on=date(2026, 11, 26),
    revision_reason="",
    source="OpenNRM case records (live data), competent authorities' decisions",
    contact="statistics@example.org",
)
REVISED = About(
    version=2,
    published_on=date(2026, 12, 3),
    revision_reason="Twelve referrals were recorded twice; the duplicates are removed.",
    source=FIRST.source,
    contact=FIRST.contact,
)


def every_table(snap: dict[str, Any]) -> list[dict[str, Any]]:
    return [table for section in snap["sections"] for table in section["tables"]]


def published_rows(table: dict[str, Any]) -> list[list[Any]]:
    return [*table["rows"], *([table["footer"]] if table["footer"] is not None else [])]


# -- Reading the workbooks back ---------------------------------------------------------------


def ods_cell(cell: Any) -> Any:
    assert cell.getAttrNS(TABLENS, "number-columns-repeated") is None
    kind = cell.getAttribute("valuetype")
    if kind == "float":
        text = cell.getAttribute("value")
        return float(text) if any(mark in text for mark in ".eE") else int(text)
    assert kind == "string"
    return "\n".join(teletype.extractText(p) for p in cell.childNodes)


def read_ods(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet, by name in order, as rows of cells: numbers as numbers, text as text."""
    doc = load(io.BytesIO(data))
    return {
        table.getAttribute("name"): [
            [ods_cell(cell) for cell in row.getElementsByType(TableCell)]
            for row in table.getElementsByType(TableRow)
        ]
        for table in doc.spreadsheet.getElementsByType(Table)
    }


def read_xlsx(data: bytes) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheets = {}
    for ws in book.worksheets:
        rows = []
        for row in ws.iter_rows(values_only=True):
            cells = list(row)
            while cells and cells[-1] is None:
                cells.pop()
            rows.append(cells)
        sheets[ws.title] = rows
    return sheets


READERS = {"ods": (workbook_ods, read_ods), "xlsx": (workbook_xlsx, read_xlsx)}


def read(kind: str, snap: dict[str, Any], about: About = FIRST) -> dict[str, list[list[Any]]]:
    write, reader = READERS[kind]
    return reader(write(snap, about))


def table_part(rows: list[list[Any]], headers: list[str]) -> list[list[Any]]:
    """The sheet's table: from its header row to the end of the sheet."""
    starts = [i for i, row in enumerate(rows) if row == headers]
    assert len(starts) == 1, rows
    return rows[starts[0] :]


def same(published: Any, read_back: Any, kind: str) -> bool:
    """Equal, and a number read back as a number and a symbol as text. An XLSX keeps no
    difference between 87 and 87.0 (Excel has one kind of number), the ODS keeps the value's
    own text."""
    if isinstance(published, str):
        return isinstance(read_back, str) and published == read_back
    if kind == "xlsx":
        return (
            isinstance(read_back, int | float)
            and not isinstance(read_back, bool)
            and read_back == published
        )
    return type(read_back) is type(published) and read_back == published


def text_of(rows: list[list[Any]]) -> str:
    return "\n".join(str(cell) for row in rows for cell in row)


def notes_table(sheets: dict[str, list[list[Any]]]) -> dict[str, str]:
    rows = table_part(sheets["Notes"], ["Note number", "Note text"])
    return {number: text for number, text in rows[1:]}


# -- The layout -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_sheets_are_cover_contents_notes_then_one_per_table_in_order(kind):
    sheets = read(kind, snapshot())

    assert list(sheets) == [
        "Cover_sheet",
        "Contents",
        "Notes",
        "Table_1",
        "Table_2",
        "Table_3",
        "Table_4",
    ]


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_cover_sheet_says_what_when_where_which_version_and_the_symbols(kind):
    cover = read(kind, snapshot(), REVISED)["Cover_sheet"]
    text = text_of(cover)

    assert cover[0] == [snapshot()["title"]]
    assert all(len(row) <= 1 for row in cover), "the cover sheet is one column"
    for expected in (
        "July to September 2026 (1 July 2026 to 30 September 2026)",
        "All of the UK",
        "3 December 2026",
        "Version 2",
        "Twelve referrals were recorded twice; the duplicates are removed.",
        FIRST.source,
        "statistics@example.org",
        "4,310 referrals were made",
        "Counts from 1 to 4 are shown as [c]",
        "[note 1] applies to every table",
    ):
        assert expected in text, expected
    for symbol in SYMBOLS:
        assert any(str(row[0]).startswith(f"{symbol} ") for row in cover if row), symbol


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_a_first_publication_gives_no_reason_for_revision(kind):
    text = text_of(read(kind, snapshot(), FIRST)["Cover_sheet"])

    assert "Version 1: the first publication" in text
    assert "Reason for the revision" not in text


@pytest.mark.parametrize(
    ("threshold", "rule"), [(10, "Counts from 1 to 9 are shown as [c]"), (2, "Counts of 1 are")]
)
def test_the_suppression_rule_follows_the_threshold(threshold, rule):
    snap = snapshot() | {"threshold": threshold}

    assert rule in text_of(read("xlsx", snap)["Cover_sheet"])


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_contents_lists_the_notes_and_every_table(kind):
    contents = read(kind, snapshot())["Contents"]

    assert contents[:2] == [["Contents"], [ONE_TABLE]]
    assert contents[2:] == [
        ["Sheet name", "Table title"],
        ["Notes", "Notes"],
        ["Table_1", "Table 1: Referrals by sex"],
        ["Table_2", "Table 2: Referrals by exploitation type and age group"],
        ["Table_3", "Table 3: Reasonable grounds decisions, positive share"],
        ["Table_4", "Table 4: Days from referral to a reasonable grounds decision"],
    ]


def test_contents_links_to_each_sheet():
    data = workbook_xlsx(snapshot(), FIRST)
    ws = openpyxl.load_workbook(io.BytesIO(data))["Contents"]
    assert [ws.cell(row=r, column=1).hyperlink.location for r in range(4, 9)] == [
        "'Notes'!A1",
        "'Table_1'!A1",
        "'Table_2'!A1",
        "'Table_3'!A1",
        "'Table_4'!A1",
    ]
    content = (
        zipfile.ZipFile(io.BytesIO(workbook_ods(snapshot(), FIRST))).read("content.xml").decode()
    )
    assert 'xlink:href="#Table_4.A1"' in content


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_notes_are_numbered_once_release_notes_first_then_sections_then_what_is_not_available(kind):
    notes = notes_table(read(kind, snapshot()))

    assert notes == {
        "[note 1]": RELEASE_NOTE,
        "[note 2]": SHARED_NOTE,
        "[note 3]": "Criminal exploitation was recorded from 1 October 2019.",
        "[note 4]": DECISIONS_NOTE,
        "[note 5]": "Negative decisions by reason: The reasons are not recorded in a form that can be counted.",
    }
    assert len(set(notes.values())) == len(notes)


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_each_table_sheet_has_title_one_table_line_what_it_counts_and_its_sections_notes(kind):
    sheets = read(kind, snapshot())

    assert sheets["Table_1"][:4] == [
        ["Table 1: Referrals by sex"],
        [ONE_TABLE],
        ["This table counts referrals."],
        ["Notes: [note 2]"],
    ]
    assert sheets["Table_2"][3] == ["Notes: [note 2], [note 3]"]  # the shared note keeps its number
    assert (
        sheets["Table_3"][3] == sheets["Table_4"][3] == ["Notes: [note 4]"]
    )  # two tables, one section
    assert sheets["Table_3"][2] == ["This table counts decisions."]


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_every_table_sheet_holds_the_published_rows_exactly(kind):
    sheets = read(kind, snapshot())

    for n, table in enumerate(every_table(snapshot()), start=1):
        part = table_part(sheets[f"Table_{n}"], table["headers"])
        expected = published_rows(table)
        assert len(part) == 1 + len(expected), "no blank or extra rows inside the table"
        for published, read_back in zip(expected, part[1:], strict=True):
            assert len(read_back) == len(published)
            assert all(same(p, r, kind) for p, r in zip(published, read_back, strict=True)), (
                published,
                read_back,
            )


def test_a_label_that_looks_like_a_formula_stays_text():
    ws = openpyxl.load_workbook(io.BytesIO(workbook_xlsx(snapshot(), FIRST)))["Table_2"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "=SUM(A1:A2)")

    assert cell.data_type == "s"


def test_xlsx_marks_each_table_up_with_bold_headers_and_readable_widths():
    book = openpyxl.load_workbook(io.BytesIO(workbook_xlsx(snapshot(), FIRST)))
    ws = book["Table_2"]

    (table,) = ws.tables.values()
    assert table.ref == "A5:C9"  # the header row and four rows, no footer
    assert [c.value for c in ws[5]] == ["Exploitation type", "Age group", "Referrals"]
    assert all(c.font.bold for c in ws[5])
    assert ws.column_dimensions["A"].width >= len("Exploitation type")
    assert book["Table_1"]["B6"].number_format == "#,##0"
    assert book["Cover_sheet"].column_dimensions["A"].width >= 80


def test_ods_marks_the_header_row_and_sets_column_widths():
    doc = load(io.BytesIO(workbook_ods(snapshot(), FIRST)))
    sheet = next(
        t for t in doc.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == "Table_1"
    )

    (header,) = sheet.getElementsByType(TableHeaderRows)
    assert [teletype.extractText(c) for c in header.getElementsByType(TableCell)] == [
        "Sex",
        "Adult",
        "Child",
        "Total",
    ]
    content = (
        zipfile.ZipFile(io.BytesIO(workbook_ods(snapshot(), FIRST))).read("content.xml").decode()
    )
    assert 'style:column-width="21.00cm"' in content  # the cover sheet's one wide column
    assert 'fo:font-weight="bold"' in content


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_thirty_tables_with_long_captions_keep_short_unique_sheet_names(kind):
    snap = snapshot()
    long = "Referrals by police force area, exploitation type and age group at referral, " * 3
    snap["sections"] = [
        {
            "title": f"Section {s}",
            "counts": "referrals",
            "notes": [],
            "tables": [
                {
                    "slug": f"t-{s}-{t}",
                    "caption": f"{long} ({s}.{t})",
                    "headers": ["Area / force", "Referrals"],
                    "rows": [["North: [x]?*", s + t]],
                    "footer": None,
                    "labels": 1,
                }
                for t in range(2)
            ],
        }
        for s in range(17)
    ]

    sheets = read(kind, snap)

    names = list(sheets)
    assert names[3:] == [f"Table_{n}" for n in range(1, 35)]
    assert all(re.fullmatch(r"[A-Za-z0-9_]{1,31}", name) for name in names)
    assert sheets["Table_34"][0] == [f"Table 34: {long} (16.1)"]


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_the_cover_names_a_synthetic_dataset_only_when_the_release_has_one(kind):
    privacy = "Differentially private with epsilon = 1 and delta = 1e-09 for each referral."
    stated = {"epsilon": 1.0, "delta": 1e-9, "method": "MST", "rows": 90, "privacy": privacy}
    text = text_of(read(kind, snapshot() | {"synthetic": stated})["Cover_sheet"])

    assert "Synthetic data" in text
    assert "none of them a real person" in text
    assert privacy in text
    assert "ynthetic" not in text_of(read(kind, snapshot())["Cover_sheet"])


def test_the_cover_names_every_release_note_as_applying_to_every_table():
    snap = snapshot() | {"notes": [RELEASE_NOTE, "Figures for Northern Ireland are provisional."]}

    assert "[note 1], [note 2] apply to every table." in text_of(read("ods", snap)["Cover_sheet"])


def test_a_release_without_notes_says_so_on_the_notes_sheet():
    snap = snapshot() | {"notes": [], "not_available": []}
    for section in snap["sections"]:
        section["notes"] = []

    sheets = read("ods", snap)

    assert sheets["Notes"][1] == [
        "This worksheet contains no table: there are no notes for this release."
    ]
    assert sheets["Table_1"][3] == ["Sex", "Adult", "Child", "Total"]  # no notes line


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (None, "None is not a published figure"),
        (True, "True is not a published figure"),
        ("3", "'3' is neither a number nor one of the symbols"),
        (float("nan"), "nan is not a finite number"),
    ],
)
def test_a_cell_that_is_not_a_published_figure_is_refused_with_where_it_is(cell, message):
    snap = snapshot()
    snap["sections"][0]["tables"][0]["rows"][1][2] = cell

    for write in (workbook_ods, workbook_xlsx, lambda s, _: release_csv(s)):
        with pytest.raises(
            ValueError, match=re.escape(f"referrals-by-sex, row 2, column 3: {message}")
        ):
            write(snap, FIRST)


def test_a_row_of_the_wrong_width_and_an_unknown_format_are_refused():
    snap = snapshot()
    snap["sections"][0]["tables"][0]["footer"] = ["Total", 1]
    with pytest.raises(ValueError, match="referrals-by-sex, footer: 2 cells under 4 headers"):
        table_csv(snap["sections"][0]["tables"][0])
    with pytest.raises(ValueError, match="snapshot format 2 is not 1"):
        workbook_xlsx(snapshot() | {"format": 2}, FIRST)


# -- The CSVs ---------------------------------------------------------------------------------


def csv_text(text: str) -> str:
    """A text cell as the CSVs publish it: after a single quote if a spreadsheet program would
    read it as a formula (spreadsheets.csv_cell)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def parsed(value: str) -> Any:
    if value in SYMBOLS:
        return value
    return float(value) if any(mark in value for mark in ".eE") else int(value)


def test_table_csv_is_the_header_the_rows_and_the_footer():
    table = snapshot()["sections"][2]["tables"][0]

    rows = list(csv.reader(io.StringIO(table_csv(table))))

    assert rows[0] == table["headers"]
    expected = published_rows(table)
    assert [[*row[:1], *map(parsed, row[1:])] for row in rows[1:]] == expected
    assert [type(v) for v in [parsed(c) for c in rows[1][1:]]] == [
        int,
        float,
    ]  # 87.0 stays a decimal


def test_release_csv_has_one_line_per_published_figure():
    snap = snapshot()

    lines = list(csv.DictReader(io.StringIO(release_csv(snap))))

    assert tuple(lines[0]) == RELEASE_CSV_COLUMNS
    expected = [
        {
            "table": table["slug"],
            "caption": table["caption"],
            "counts": section["counts"],
            "row": csv_text(" / ".join(row[: table["labels"]])),
            "column": header,
            "value": value,
        }
        for section in snap["sections"]
        for table in section["tables"]
        for row in published_rows(table)
        for header, value in zip(
            table["headers"][table["labels"] :], row[table["labels"] :], strict=True
        )
    ]
    assert [line | {"value": parsed(line["value"])} for line in lines] == expected
    assert "'=SUM(A1:A2) / Child" in [line["row"] for line in lines]  # not a live formula
    labour_adults = next(line for line in lines if line["row"] == "Labour / Adult")
    assert labour_adults == {
        "table": "referrals-by-exploitation-and-age",
        "caption": "Referrals by exploitation type and age group",
        "counts": "referrals",
        "row": "Labour / Adult",
        "column": "Referrals",
        "value": "210",
    }


# -- Any small release round-trips ------------------------------------------------------------

words = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "Zs"), max_codepoint=0x2FFF),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s)
figures = st.one_of(
    st.integers(min_value=0, max_value=10**7),
    st.floats(min_value=0, max_value=10**5, allow_nan=False).map(lambda x: round(x, 1)),
    st.sampled_from(SYMBOLS),
)


@st.composite
def tables(draw: Any) -> dict[str, Any]:
    labels = draw(st.integers(min_value=1, max_value=2))
    values = draw(st.integers(min_value=1, max_value=3))
    width = labels + values
    row = st.tuples(*[words] * labels, *[figures] * values).map(list)
    return {
        "slug": draw(words),
        "caption": draw(words),
        "headers": draw(st.lists(words, min_size=width, max_size=width)),
        "rows": draw(st.lists(row, min_size=1, max_size=3)),
        "footer": draw(st.none() | row),
        "labels": labels,
    }


note_texts = st.lists(st.sampled_from(["Note A.", "Note B.", "Note C.", "Note D."]), max_size=3)


@st.composite
def snapshots(draw: Any) -> dict[str, Any]:
    snap = copy.deepcopy(snapshot())
    snap["notes"] = draw(note_texts)
    snap["sections"] = [
        {
            "title": draw(words),
            "counts": draw(words),
            "notes": draw(note_texts),
            "tables": draw(st.lists(tables(), min_size=1, max_size=2)),
        }
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    return snap


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
@settings(max_examples=15, deadline=None)
@given(snap=snapshots())
def test_any_small_release_reads_back_as_published(kind, snap):
    sheets = read(kind, snap)

    published = every_table(snap)
    assert list(sheets) == [
        "Cover_sheet",
        "Contents",
        "Notes",
        *[f"Table_{n}" for n in range(1, len(published) + 1)],
    ]
    numbers = notes_table(sheets) if sheets["Notes"][1] == [ONE_TABLE] else {}
    assert list(numbers) == [f"[note {n}]" for n in range(1, len(numbers) + 1)]
    assert len(set(numbers.values())) == len(numbers)
    for n, table in enumerate(published, start=1):
        rows = sheets[f"Table_{n}"]
        assert rows[0] == [f"Table {n}: {table['caption']}"]
        part = rows[rows.index(table["headers"]) :]
        expected = published_rows(table)
        assert len(part) == 1 + len(expected)
        for want, got in zip(expected, part[1:], strict=True):
            assert len(want) == len(got)
            assert all(same(p, r, kind) for p, r in zip(want, got, strict=True)), (want, got)


@settings(max_examples=15, deadline=None)
@given(snap=snapshots())
def test_any_small_release_csv_reads_back_as_published(snap):
    lines = list(csv.DictReader(io.StringIO(release_csv(snap))))

    expected = [
        (
            csv_text(table["slug"]),
            csv_text(" / ".join(row[: table["labels"]])),
            csv_text(header),
            value,
        )
        for table in every_table(snap)
        for row in published_rows(table)
        for header, value in zip(
            table["headers"][table["labels"] :], row[table["labels"] :], strict=True
        )
    ]
    got = [(line["table"], line["row"], line["column"], parsed(line["value"])) for line in lines]
    assert got == expected
    assert all(type(g[3]) is type(e[3]) for g, e in zip(got, expected, strict=True))
    for table in every_table(snap):
        rows = list(csv.reader(io.StringIO(table_csv(table))))
        labels = table["labels"]
        assert rows[0] == [csv_text(header) for header in table["headers"]]
        assert [[*row[:labels], *map(parsed, row[labels:])] for row in rows[1:]] == [
            [*map(csv_text, row[:labels]), *row[labels:]] for row in published_rows(table)
        ]
