"""A release's notes split into paragraphs whatever line breaks the browser or program sent."""

from __future__ import annotations

from opennrm.statistics import releases


def test_notes_written_with_lone_carriage_returns_are_two_paragraphs_not_one() -> None:
    """An analyst pastes notes from an older program that ends lines with a lone CR: the blank
    line between her two paragraphs must part them, as it does with LF or CR LF."""
    for newline in ("\n", "\r\n", "\r"):
        text = f"Counts below 10 are suppressed.{newline}{newline}Figures are provisional."
        assert releases._notes(text) == [
            "Counts below 10 are suppressed.",
            "Figures are provisional.",
        ], repr(newline)
