"""Checks of text typed into one-line and multi-line fields, shared by forms and the services
behind them, and the form field for text of many lines (`LinesField`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# Bidirectional overrides and isolates reorder what a reader sees ("Trojan source"); joiners
# (U+200C, U+200D) are kept: Persian, Arabic and Indic names need them.
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# The control characters a paragraph may hold: line breaks (a browser sends a text area's as
# "\r\n") and tabs. Every other one is refused: no one means it, and a spreadsheet, an XML file
# or an e-mail cannot hold it (Word's manual line break is pasted as a vertical tab, U+000B).
_PARAGRAPH_CONTROLS = frozenset("\n\r\t")


def as_lines(text: str) -> str:
    """The text with every line break an LF: a browser sends a textarea's as CR LF (older
    programs a lone CR), which would count twice against a limit its author counts once."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LinesField(forms.CharField):
    """Text of many lines, its line breaks made LF (`as_lines`) before it is measured."""

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return as_lines(text) if text else text


def single_line_problem(text: str, label: str) -> str | None:
    """Why `text` cannot stand in a one-line field named `label`, or None: a line break, a tab
    or another control character (an escape sequence, a backspace), or a character that
    reorders the text around it."""
    if any(unicodedata.category(c) == "Cc" or c in _REORDERING for c in text):
        return f"{label} must be one line, without tabs or hidden control characters"
    return None


def single_line(label: str) -> Callable[[str], None]:
    """A form field validator refusing what `single_line_problem` refuses."""

    def validate(text: str) -> None:
        if problem := single_line_problem(text, label):
            raise ValidationError(problem, code="single_line")

    return validate


def multi_line_problem(text: str, label: str) -> str | None:
    """Why `text` cannot stand in a multi-line field (paragraphs) named `label`, or None: a
    control character other than a line break or a tab, or a character that reorders the text
    around it."""
    if any(
        (unicodedata.category(c) == "Cc" and c not in _PARAGRAPH_CONTROLS) or c in _REORDERING
        for c in text
    ):
        return (
            f"{label} must not contain hidden control characters: type again any line break "
            "or symbol pasted from another program"
        )
    return None


def multi_line(label: str) -> Callable[[str], None]:
    """A form field validator refusing what `multi_line_problem` refuses."""

    def validate(text: str) -> None:
        if problem := multi_line_problem(text, label):
            raise ValidationError(problem, code="multi_line")

    return validate
