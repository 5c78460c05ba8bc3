"""Checks of text typed into one-line fields, shared by forms and the services behind them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from django.core.exceptions import ValidationError

# Bidirectional overrides and isolates reorder what a reader sees ("Trojan source"); joiners
# (U+200C, U+200D) are kept: Persian, Arabic and Indic names need them.
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


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
