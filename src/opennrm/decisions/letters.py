"""Plain-language decision letters, in the person's language where a translation exists.

Translations are data (`letter_texts/<language>.json`); a missing text falls back to English,
so a partial translation is still useful. The PDF uses fpdf2's built-in fonts, which cover the
Latin-1 alphabet; a language outside it needs a TrueType font added here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.http import Http404
from django.utils import timezone
from fpdf import FPDF

from opennrm.accounts.models import User
from opennrm.cases.selectors import cases_visible_to

from .models import Decision

TEXTS_DIR = Path(__file__).resolve().parent / "letter_texts"


@cache
def translations() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in TEXTS_DIR.glob("*.json")
    }


@dataclass(frozen=True)
class Letter:
    language: str
    title: str
    greeting: str
    reference: str
    date: str
    decision: str
    reasons_heading: str
    reasons: str
    next_heading: str
    next: str
    help: str
    sign_off: str


def decision_for_letter(user: User, decision_id: int) -> Decision:
    """Letters are for the decision makers who send them and the referrer who explains them."""
    try:
        return Decision.objects.select_related(
            "case__person__identity", "case__competent_authority"
        ).get(
            pk=decision_id,
            case__in=cases_visible_to(user),
            state="in_effect",
            # Once the person's details are erased, no letter addressed to them can be made.
            case__person__identity__isnull=False,
        )
    except Decision.DoesNotExist:
        raise Http404 from None


def _day(value: date | None) -> str:
    return value.strftime("%-d/%-m/%Y") if value else "-"


def compose(decision: Decision) -> Letter:
    case = decision.case
    languages = [code for code in case.person.languages if code in translations()]
    language = languages[0] if languages else "en"
    chosen, english = translations()[language], translations()["en"]
    key = f"{decision.kind}.{decision.outcome_kind}"
    texts = chosen["texts"].get(key) or english["texts"].get(key)
    if key not in chosen["texts"]:
        chosen, language = english, "en"
    values = {
        "name": case.person.identity.given_names,
        "reference": case.reference,
        "date": _day(timezone.localdate()),
        "authority": case.competent_authority.name,
        "recovery_period_ends": _day(case.recovery_period_ends),
        "conclusive_grounds_from": _day(case.conclusive_grounds_from),
        "reconsideration_until": _day(case.reconsideration_until),
        "move_on_ends": _day(case.move_on_ends),
    }
    texts = texts or {"decision": decision.outcome_label, "next": ""}
    return Letter(
        language=language,
        title=chosen["title"],
        greeting=chosen["greeting"].format(**values),
        reference=chosen["reference"].format(**values),
        date=chosen["date"].format(**values),
        decision=texts["decision"].format(**values),
        reasons_heading=chosen["reasons_heading"],
        reasons=decision.reasons,
        next_heading=chosen["next_heading"],
        next=texts["next"].format(**values),
        help=chosen["help"],
        sign_off=chosen["sign_off"].format(**values),
    )


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf(letter: Letter) -> bytes:
    document = FPDF(format="A4")
    document.set_title(_latin1(letter.title))
    document.add_page()
    document.set_margins(20, 20, 20)
    document.set_font("Helvetica", "B", 18)
    document.multi_cell(0, 10, _latin1(letter.title), new_x="LMARGIN", new_y="NEXT")
    document.set_font("Helvetica", size=11)
    for line in (letter.reference, letter.date, "", letter.greeting, "", letter.decision):
        document.multi_cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    for heading, body in (
        (letter.reasons_heading, letter.reasons),
        (letter.next_heading, letter.next),
    ):
        document.ln(4)
        document.set_font("Helvetica", "B", 13)
        document.multi_cell(0, 8, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        document.set_font("Helvetica", size=11)
        document.multi_cell(0, 6, _latin1(body), new_x="LMARGIN", new_y="NEXT")
    document.ln(4)
    document.multi_cell(0, 6, _latin1(letter.help), new_x="LMARGIN", new_y="NEXT")
    document.ln(4)
    document.multi_cell(0, 6, _latin1(letter.sign_off), new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())
