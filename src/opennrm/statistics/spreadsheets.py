"""The downloads of a published statistics release: an OpenDocument (ODS) and an Excel (XLSX)
workbook, a CSV file per table and one tidy CSV of the whole release (issue 13, item 3).

Pure code: no Django, no database. The input is a frozen release's snapshot, the figures exactly
as published (`format` 1: title, period, jurisdiction, threshold, key results, notes, sections
of tables, figures not available); the output is bytes or text for the caller to serve. The same
snapshot always gives the same cells, so a revision is a new snapshot, never an edited file.

**The workbook layout** follows the UK Government Analysis Function's guidance *Releasing
statistics in spreadsheets*, as its accessibility checklist asks:

- ``Cover_sheet``: the title in cell A1, then in column A, a heading above each piece of text:
  what the data is, the period, the area, when it was published, the version (and the reason
  for a revision), the source, the key results, the symbols used and what they mean, the
  suppression rule ("counts from 1 to threshold - 1 are shown as [c]"), the rounding, the
  synthetic dataset published beside it and its guarantee (when the snapshot has
  ``"synthetic"``, ADR 36), where the notes are, and the contact;
- ``Contents``: one table, one row per sheet after it: the ``Notes`` sheet, then each table
  sheet, with its sheet name (a link to the sheet) and its table title;
- ``Notes``: one table of note number (``[note 1]``...) and note text: the release's own notes,
  then each section's notes in order, then one note per figure not available ("title:
  reason"). A text is numbered once: sections that share a note share its number;
- ``Table_1``, ``Table_2``...: one sheet per table, every table of every section (a section
  may have more than one). Each sheet has the title in A1, the line "This worksheet contains
  one table.", what the table counts, the notes of its section ("Notes: [note 3], [note 5]")
  where it has some, then the table from its header row: no blank row and no merged cell
  inside it, the footer (the total) as its last row. Sheet names are ``Table_N``, so they are
  short, unique and use no special characters whatever the captions say.

Every sheet's text starts in column A, and nothing is said by colour alone. Numbers are numeric
cells (whole numbers with a thousands separator, the means, medians, quartiles and percentages
as published, already rounded); the symbols ``[c]``, ``[x]`` and ``[z]`` are text cells. The
header row is bold, is the table's header in the file's own terms where the format has one (an
Excel table in the XLSX, ``table:table-header-rows`` in the ODS), and every column is wide
enough to read. Text is always stored as text: a label or note that starts with "=" is not a
formula. A character that neither workbook can hold (a control character other than tab, line
feed and carriage return; U+FFFE, U+FFFF) is left out of both, or made a line break where it
was one in Word (`writable`).

The CSVs are for re-use, not for reading: `table_csv` is one table as it appears on its sheet
(header row, rows, footer), and `release_csv` is every table in one long file with the columns
``table`` (the table's slug), ``caption``, ``counts``, ``row`` (the row's labels, joined by
" / " where a table has more than one label column), ``column`` (the value column's header)
and ``value``, as published: a number, or a symbol. One exception, in both: a text cell (a
label, header or caption) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written after a single quote (``'=SUM(A1:A2)``), so that a spreadsheet program
opening the file does not run it as a formula (CSV injection); a leading ``'`` marks such a
label. Numbers, negative ones too, and the symbols are never quoted.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from opennrm.statistics.disclosure import CONFIDENTIAL, NOT_APPLICABLE, NOT_AVAILABLE, SYMBOLS

SNAPSHOT_FORMAT = 1

COVER_SHEET = "Cover_sheet"
CONTENTS_SHEET = "Contents"
NOTES_SHEET = "Notes"
ONE_TABLE = "This worksheet contains one table."
LABEL_JOINER = " / "
RELEASE_CSV_COLUMNS = ("table", "caption", "counts", "row", "column", "value")

SYMBOL_MEANINGS = (
    (CONFIDENTIAL, "confidential: a count not shown, so that no one can be identified"),
    (NOT_AVAILABLE, "not available: the data cannot give this figure"),
    (NOT_APPLICABLE, "not applicable: the combination cannot occur"),
)

# Column widths, in characters: wide enough to read, never so wide a column fills the screen.
_MIN_WIDTH = 10
_MAX_WIDTH = 60
_COVER_WIDTH = 100

Value = int | float | str


@dataclass(frozen=True)
class About:
    """What the cover sheet says beyond the snapshot."""

    version: int  # 1 for the first publication, 2.. for revisions
    published_on: date
    revision_reason: str  # "" for version 1
    source: str  # where the figures come from
    contact: str  # whom to ask (the deployment's setting)


# -- The workbook, independent of the file format -------------------------------------------

# What an XML 1.0 document (both workbooks are XML inside) cannot hold, and openpyxl refuses: the
# control characters other than tab, line feed and carriage return, the surrogates, U+FFFE and
# U+FFFF.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WORD_BREAKS = str.maketrans("\x0b\x0c", "\n\n")


def writable(text: str) -> str:
    """`text` without the characters a workbook cannot hold. The services refuse them in what an
    analyst types (the title, the notes, a revision's reason), but a version stored before they
    did keeps them, frozen for ever: left out here, its workbooks can still be written. Word's
    manual line and page breaks (pasted as U+000B and U+000C) become line breaks; the others
    were invisible, so nothing a reader could see is lost."""
    return _NOT_IN_XML.sub("", text.translate(_WORD_BREAKS))


Style = Literal["title", "heading", "text", "header", "data"]


@dataclass(frozen=True)
class Link:
    """A text cell that links to another sheet of the workbook."""

    text: str
    sheet: str


Cell = int | float | str | Link


@dataclass(frozen=True)
class Line:
    style: Style
    cells: tuple[Cell, ...]


@dataclass
class Sheet:
    name: str
    title: str
    lines: list[Line] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)  # characters, per column
    wrap: bool = False  # long text wraps within the column (the cover sheet)

    def add(self, style: Style, *cells: Cell) -> None:
        self.lines.append(Line(style, tuple(_writable_cell(cell) for cell in cells)))

    def table_range(self) -> tuple[int, int, int] | None:
        """(index of the header line, number of lines, number of columns) of the sheet's one
        table, or None if it has none."""
        starts = [i for i, line in enumerate(self.lines) if line.style == "header"]
        if not starts:
            return None
        start = starts[0]
        end = start + 1
        while end < len(self.lines) and self.lines[end].style == "data":
            end += 1
        return start, end - start, len(self.lines[start].cells)


def _writable_cell(cell: Cell) -> Cell:
    if isinstance(cell, Link):
        return Link(writable(cell.text), cell.sheet)
    return writable(cell) if isinstance(cell, str) else cell


def _text(cell: Cell) -> str:
    if isinstance(cell, Link):
        return cell.text
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, float):
        return f"{cell:,}".removesuffix(".0") if cell.is_integer() else f"{cell:,}"
    return cell


def _widths(lines: Iterable[Line]) -> list[int]:
    widths: list[int] = []
    for line in lines:
        for i, cell in enumerate(line.cells):
            longest = max((len(part) for part in _text(cell).split("\n")), default=0)
            wanted = min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2))
            if i == len(widths):
                widths.append(wanted)
            else:
                widths[i] = max(widths[i], wanted)
    return widths


def _value(cell: Any, where: str) -> Value:
    """A published figure, checked: a whole number, a finite decimal, or a symbol."""
    if isinstance(cell, bool) or cell is None:
        raise ValueError(f"{where}: {cell!r} is not a published figure")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if not math.isfinite(cell):
            raise ValueError(f"{where}: {cell!r} is not a finite number")
        return cell
    if isinstance(cell, str) and cell in SYMBOLS:
        return cell
    raise ValueError(
        f"{where}: {cell!r} is neither a number nor one of the symbols {', '.join(SYMBOLS)}"
    )


def _row(table: Mapping[str, Any], row: Sequence[Any], where: str) -> tuple[Value, ...]:
    labels = int(table["labels"])
    if len(row) != len(table["headers"]):
        raise ValueError(f"{where}: {len(row)} cells under {len(table['headers'])} headers")
    return tuple(
        str(cell) if i < labels else _value(cell, f"{where}, column {i + 1}")
        for i, cell in enumerate(row)
    )


def _table_rows(table: Mapping[str, Any]) -> list[tuple[Value, ...]]:
    """The table's body rows then its footer, checked, as they are published."""
    name = table.get("slug") or table.get("caption") or "a table"
    rows = [_row(table, row, f"{name}, row {n}") for n, row in enumerate(table["rows"], start=1)]
    if table.get("footer") is not None:
        rows.append(_row(table, table["footer"], f"{name}, footer"))
    return rows


def _check(snapshot: Mapping[str, Any]) -> None:
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"snapshot format {snapshot.get('format')!r} is not {SNAPSHOT_FORMAT}")


@dataclass(frozen=True)
class Notes:
    """The release's notes numbered once each, and which numbers each section's tables carry."""

    texts: tuple[str, ...]  # note n is texts[n - 1]
    release: tuple[int, ...]  # the release's own notes
    by_section: tuple[tuple[int, ...], ...]


def number_notes(snapshot: Mapping[str, Any]) -> Notes:
    numbers: dict[str, int] = {}

    def number(text: str) -> int:
        return numbers.setdefault(text, len(numbers) + 1)

    release = tuple(dict.fromkeys(number(text) for text in snapshot.get("notes", ())))
    by_section = tuple(
        tuple(dict.fromkeys(number(text) for text in section.get("notes", ())))
        for section in snapshot["sections"]
    )
    for missing in snapshot.get("not_available", ()):
        number(f"{missing['title']}: {missing['reason']}")
    return Notes(tuple(numbers), release, by_section)


def note_reference(number: int) -> str:
    return f"[note {number}]"


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _suppression_rule(threshold: int) -> str:
    secondary = (
        " Some other counts, and the totals, means and percentages they would give away, are also "
        "shown as [c] so that no count shown as [c] can be worked out from the others."
    )
    if threshold <= 1:
        return "No count is suppressed for being small." + secondary
    if threshold == 2:
        return "Counts of 1 are shown as [c]." + secondary
    return f"Counts from 1 to {threshold - 1} are shown as [c]." + secondary


def _cover(snapshot: Mapping[str, Any], about: About, notes: Notes) -> Sheet:
    sheet = Sheet(COVER_SHEET, snapshot["title"], wrap=True)
    period = snapshot["period"]
    start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
    counts = list(dict.fromkeys(section["counts"] for section in snapshot["sections"]))

    def part(heading: str, *texts: str) -> None:
        sheet.add("heading", heading)
        for text in texts:
            sheet.add("text", text)

    sheet.add("title", snapshot["title"])
    part(
        "About these statistics",
        "Official statistics of the National Referral Mechanism, through which people who may "
        "be victims of human trafficking or modern slavery are identified and supported.",
        (
            "The tables count "
            + ", ".join(counts)
            + ", from the case records. Each table says what it counts."
        )
        if counts
        else "This release has no tables.",
    )
    part("Period covered", f"{period['label']} ({_long_date(start)} to {_long_date(end)})")
    part("Area covered", snapshot["jurisdiction_label"])
    part("Published", _long_date(about.published_on))
    if about.version == 1:
        part("Version", "Version 1: the first publication of these statistics.")
    else:
        part(
            "Version",
            f"Version {about.version}: a revision of these statistics, replacing version {about.version - 1}.",
        )
        part("Reason for the revision", about.revision_reason)
    part("Source", about.source)
    if snapshot.get("key_results"):
        part("Key results", *snapshot["key_results"])
    part("Symbols used", *(f"{symbol} {meaning}" for symbol, meaning in SYMBOL_MEANINGS))
    part("Suppression of small counts", _suppression_rule(int(snapshot["threshold"])))
    part(
        "Rounding",
        "Counts are not rounded. Means, medians and quartiles are rounded to one decimal place, "
        "percentages to whole numbers.",
    )
    if snapshot.get("synthetic"):
        part(
            "Synthetic data",
            "A synthetic dataset is published with these statistics, as a CSV file beside this "
            "one: records generated to look like the referrals, none of them a real person, in "
            "the columns of CTDC's Global Synthetic Dataset. It is for research and teaching, "
            "not for counting: use these tables for figures.",
            snapshot["synthetic"]["privacy"],
        )
    release_notes = ", ".join(note_reference(n) for n in notes.release)
    part(
        "Notes",
        "The notes are in the Notes worksheet. A table's notes are named above it"
        + (
            f"; {release_notes} {'applies' if len(notes.release) == 1 else 'apply'} to every table."
            if release_notes
            else "."
        ),
    )
    part("Contact", about.contact)
    sheet.widths = [_COVER_WIDTH]
    return sheet


def _table_sheet(
    number: int, section: Mapping[str, Any], table: Mapping[str, Any], notes: Sequence[int]
) -> Sheet:
    title = f"Table {number}: {table['caption']}"
    sheet = Sheet(f"Table_{number}", title)
    sheet.add("title", title)
    sheet.add("text", ONE_TABLE)
    sheet.add("text", f"This table counts {section['counts']}.")
    if notes:
        sheet.add("text", "Notes: " + ", ".join(note_reference(n) for n in notes))
    header = len(sheet.lines)
    sheet.add("header", *(str(header) for header in table["headers"]))
    for row in _table_rows(table):
        sheet.add("data", *row)
    sheet.widths = _widths(sheet.lines[header:])  # the title and the lines above may overflow
    return sheet


def _notes_sheet(notes: Notes) -> Sheet:
    sheet = Sheet(NOTES_SHEET, "Notes")
    sheet.add("title", "Notes")
    if not notes.texts:
        sheet.add("text", "This worksheet contains no table: there are no notes for this release.")
        sheet.widths = [_MAX_WIDTH]
        return sheet
    sheet.add("text", ONE_TABLE)
    sheet.add("header", "Note number", "Note text")
    for n, text in enumerate(notes.texts, start=1):
        sheet.add("data", note_reference(n), text)
    sheet.widths = [_MIN_WIDTH + 2, 100]
    sheet.wrap = True
    return sheet


def _contents(sheets: Sequence[Sheet]) -> Sheet:
    sheet = Sheet(CONTENTS_SHEET, "Contents")
    sheet.add("title", "Contents")
    sheet.add("text", ONE_TABLE)
    sheet.add("header", "Sheet name", "Table title")
    for listed in sheets:
        sheet.add("data", Link(listed.name, listed.name), listed.title)
    sheet.widths = _widths(sheet.lines[2:])
    return sheet


def published_tables(
    snapshot: Mapping[str, Any],
) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Every table of the release, with its section, in the order they are published."""
    return [(section, table) for section in snapshot["sections"] for table in section["tables"]]


def workbook(snapshot: Mapping[str, Any], about: About) -> list[Sheet]:
    """The sheets of the release's workbook, in order, whatever the file format."""
    _check(snapshot)
    notes = number_notes(snapshot)
    table_sheets: list[Sheet] = []
    for section, numbers in zip(snapshot["sections"], notes.by_section, strict=True):
        for table in section["tables"]:
            table_sheets.append(_table_sheet(len(table_sheets) + 1, section, table, numbers))
    notes_sheet = _notes_sheet(notes)
    return [
        _cover(snapshot, about, notes),
        _contents([notes_sheet, *table_sheets]),
        notes_sheet,
        *table_sheets,
    ]


# -- XLSX -----------------------------------------------------------------------------------


def workbook_xlsx(snapshot: Mapping[str, Any], about: About) -> bytes:
    """The release as an Excel workbook (Office Open XML)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    book.properties.title = writable(snapshot["title"])
    book.properties.creator = "OpenNRM"
    book.properties.language = "en-GB"
    for sheet in workbook(snapshot, about):
        _xlsx_sheet(book.create_sheet(sheet.name), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_sheet(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    fonts: dict[Style, Font] = {
        "title": Font(bold=True, size=15),
        "heading": Font(bold=True, size=13),
        "header": Font(bold=True),
    }
    for r, line in enumerate(sheet.lines, start=1):
        for c, value in enumerate(line.cells, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, Link):
                cell.value = value.text
                # A link within the workbook: a location, not an external target.
                cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{value.sheet}'!A1")
                cell.font = Font(underline="single", color="0563C1")
            else:
                cell.value = value
            if isinstance(value, str | Link):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, int):
                cell.number_format = "#,##0"
            if line.style in fonts:
                cell.font = fonts[line.style]
            if sheet.wrap and line.style in ("text", "data"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for c, width in enumerate(sheet.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    _xlsx_table(ws, sheet)


def _xlsx_table(ws: Any, sheet: Sheet) -> None:
    """Mark the sheet's table up as an Excel table, so a screen reader announces its headers."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    found = sheet.table_range()
    if found is None:
        return
    start, height, width = found
    headers = [str(header) for header in sheet.lines[start].cells]
    # Excel requires a table's headers to be distinct, non-empty text, and a row under them; a
    # table without has its bold header row all the same, only not the markup.
    if height < 2 or not all(headers) or len({h.casefold() for h in headers}) < len(headers):
        return
    table = Table(
        displayName=sheet.name, ref=f"A{start + 1}:{get_column_letter(width)}{start + height}"
    )
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(table)


# -- ODS ------------------------------------------------------------------------------------


class _Ods:
    """An OpenDocument spreadsheet being written, with the styles its cells share."""

    def __init__(self, title: str) -> None:
        from odf import dc, number
        from odf.opendocument import OpenDocumentSpreadsheet
        from odf.style import TableCellProperties, TextProperties

        self.doc = OpenDocumentSpreadsheet()
        self.doc.meta.addElement(dc.Title(text=title))
        self.doc.meta.addElement(dc.Language(text="en-GB"))
        whole = number.NumberStyle(name="whole")
        whole.addElement(number.Number(decimalplaces="0", minintegerdigits="1", grouping="true"))
        self.doc.automaticstyles.addElement(whole)
        self.styles = {
            "title": self._style(
                "title", "table-cell", TextProperties(fontweight="bold", fontsize="15pt")
            ),
            "heading": self._style(
                "heading", "table-cell", TextProperties(fontweight="bold", fontsize="13pt")
            ),
            "header": self._style("header", "table-cell", TextProperties(fontweight="bold")),
            "wrapped": self._style(
                "wrapped", "table-cell", TableCellProperties(wrapoption="wrap", verticalalign="top")
            ),
            "whole": self._style("whole_number", "table-cell", datastylename="whole"),
        }
        self.widths: dict[int, Any] = {}

    def _style(self, name: str, family: str, *properties: Any, **attributes: Any) -> Any:
        from odf.style import Style as OdfStyle

        style = OdfStyle(name=name, family=family, **attributes)
        for prop in properties:
            style.addElement(prop)
        self.doc.automaticstyles.addElement(style)
        return style

    def column(self, width: int) -> Any:
        from odf.style import TableColumnProperties
        from odf.table import TableColumn

        if width not in self.widths:
            # About a fifth of a centimetre a character, in the default 10-point font.
            properties = TableColumnProperties(columnwidth=f"{width * 0.21:.2f}cm")
            self.widths[width] = self._style(f"width{width}", "table-column", properties)
        return TableColumn(stylename=self.widths[width])

    def cell(self, value: Cell, style: Style, wrap: bool) -> Any:
        from odf import teletype
        from odf.table import TableCell
        from odf.text import A, P

        paragraph = P()
        if isinstance(value, Link):
            cell = TableCell(valuetype="string")
            link = A(href=f"#{value.sheet}.A1", type="simple")
            teletype.addTextToElement(link, value.text)
            paragraph.addElement(link)
        elif isinstance(value, str):
            cell = TableCell(valuetype="string")
            teletype.addTextToElement(paragraph, value)
        else:
            cell = TableCell(valuetype="float", value=repr(value))
            teletype.addTextToElement(paragraph, _text(value))
        if style in self.styles:
            cell.setAttribute("stylename", self.styles[style])
        elif isinstance(value, int):
            cell.setAttribute("stylename", self.styles["whole"])
        elif wrap and style in ("text", "data"):
            cell.setAttribute("stylename", self.styles["wrapped"])
        cell.addElement(paragraph)
        return cell

    def add(self, sheet: Sheet) -> None:
        from odf.table import Table, TableHeaderRows, TableRow

        table = Table(name=sheet.name)
        for width in sheet.widths:
            table.addElement(self.column(width))
        for line in sheet.lines:
            row = TableRow()
            for value in line.cells:
                row.addElement(self.cell(value, line.style, sheet.wrap))
            if line.style == "header":
                # The header row of the table, in the format's own terms.
                header = TableHeaderRows()
                header.addElement(row)
                table.addElement(header)
            else:
                table.addElement(row)
        self.doc.spreadsheet.addElement(table)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.write(out)
        return out.getvalue()


def workbook_ods(snapshot: Mapping[str, Any], about: About) -> bytes:
    """The release as an OpenDocument spreadsheet."""
    ods = _Ods(writable(snapshot["title"]))
    for sheet in workbook(snapshot, about):
        ods.add(sheet)
    return ods.bytes()


# -- CSV ------------------------------------------------------------------------------------


# What a spreadsheet program reads as the start of a formula in a text cell (OWASP, "CSV
# Injection"): tab and carriage return too, as some programs skip them before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Value) -> str:
    """A cell of a CSV download. A number is written as it is (a negative one too: a CSV has no
    text type to confuse it with), as is a symbol; ``repr`` keeps a decimal a decimal ("45.0"),
    so a reader can tell it from a count. Text that begins with one of ``FORMULA_STARTS`` is
    written after a single quote (``'=SUM(A1:A2)``), as OWASP recommends: the public opens
    these files in Excel or LibreOffice, which would otherwise run a label such as
    ``=SUM(A1:A2)`` as a formula. The workbooks store text as text and need no quote."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) or value in SYMBOLS:
        return str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def table_csv(table: Mapping[str, Any]) -> str:
    """One table as on its sheet: the header row, the rows, then the footer if it has one.
    Every cell goes through `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(str(header)) for header in table["headers"]])
    for row in _table_rows(table):
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def release_csv(snapshot: Mapping[str, Any]) -> str:
    """Every table of the release in one long (tidy) CSV: a line per published figure. Every
    cell goes through `csv_cell`."""
    _check(snapshot)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RELEASE_CSV_COLUMNS)
    for section, table in published_tables(snapshot):
        labels = int(table["labels"])
        headers = [str(header) for header in table["headers"]]
        for row in _table_rows(table):
            row_label = LABEL_JOINER.join(str(label) for label in row[:labels])
            for header, value in zip(headers[labels:], row[labels:], strict=True):
                writer.writerow(
                    [
                        csv_cell(str(table["slug"])),
                        csv_cell(str(table["caption"])),
                        csv_cell(str(section["counts"])),
                        csv_cell(row_label),
                        csv_cell(header),
                        csv_cell(value),
                    ]
                )
    return out.getvalue()
