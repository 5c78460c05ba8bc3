"""Plain-language decision letters, in the person's language where a translation exists.

Translations are data (`letter_texts/<language>.json`); a missing text falls back to English,
so a partial translation is still useful. `compose` writes a letter's words once, when the
decision takes effect (`services.letter_issue` stores them); `pdf` prints stored words and never
looks at the case again. Dates are written out ("31 December 2026"), in the letter's language
where the translation names the months.

The PDF embeds Noto fonts, so a letter prints in every script a person's name or a translation
may use: Noto Sans (Latin, including Vietnamese, Greek and Cyrillic), Noto Naskh Arabic, Noto
Sans Ethiopic (Amharic, Tigrinya) vendored in `fonts/` with their licence, and Noto Sans CJK
(Chinese) from the `noto-cjk-sans-otc` package. Text is shaped by HarfBuzz (`uharfbuzz`), so
Arabic joins and runs right to left. A character no font has is refused (`MissingGlyphs`)
rather than printed as an empty box. See docs/adr/0017-letters-are-records.md.
"""

from __future__ import annotations

import json
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF

from opennrm.cases.models import Case

from .models import Decision, ReconsiderationRequest

TEXTS_DIR = Path(__file__).resolve().parent / "letter_texts"
FONTS_DIR = Path(__file__).resolve().parent / "fonts"

ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# The case's dates a letter's text may state, by the name its placeholders use.
CASE_DATES = (
    "recovery_period_ends",
    "conclusive_grounds_from",
    "reconsideration_until",
    "move_on_ends",
    "support_ends",
)
# Languages written right to left: their letters are aligned to the right, the start of a line.
RIGHT_TO_LEFT = {"ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"}


@cache
def translations() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in TEXTS_DIR.glob("*.json")
    }


@dataclass(frozen=True)
class LetterText:
    """The words of one letter, as issued."""

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

    @property
    def direction(self) -> str:
        return "rtl" if self.language in RIGHT_TO_LEFT else "ltr"

    def as_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, stored: dict[str, str] | None) -> LetterText:
        if stored is None:
            raise ValueError("This letter's words were erased with the person's details")
        return cls(**stored)

    def lines(self) -> list[str]:
        return [value for value in self.as_json().values() if value != self.language]


def written_date(value: date | None, language: str = "en") -> str:
    """ "31 December 2026", with the month's name in `language` where its translation has one."""
    if value is None:
        return "-"
    months = translations().get(language, {}).get("months") or ENGLISH_MONTHS
    return f"{value.day} {months[value.month - 1]} {value.year}"


def _placeholders(*templates: str) -> set[str]:
    return {
        name
        for template in templates
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


@dataclass(frozen=True)
class Composed:
    text: LetterText
    # The case's dates the text states, as they were when it was written.
    dates_stated: dict[str, date]


def _texts_for(key: str, case: Case, language: str) -> tuple[str, dict[str, str] | None]:
    """The language and words of the first text that fits the case: a child's own text first
    (children's services look after them, whatever the decision), then the jurisdiction's own
    where its law says more (Scotland's and Northern Ireland's support after a positive
    reasonable grounds decision), then the usual one, then one stating no date where the case
    has none to state (no move-on period for this person or in this jurisdiction); each in the
    person's language, else in English, except the jurisdiction's own, used only in the
    person's language (the usual text in it says what matters) unless the usual text is not in
    it either: the letter is then in English anyway, and the English usual text may promise
    what the jurisdiction's law does not give (support through an extension in Scotland, whose
    s.9 support keeps its own end). A text that would state a date the case does not have is
    never used: it would print "-" where a date belongs."""
    own = f"{key}.{case.jurisdiction}"
    candidates = [
        *([f"{key}.child"] if case.is_child else []),
        own,
        key,
        f"{key}.undated",
    ]
    usual_translated = key in translations()[language]["texts"]
    for candidate in candidates:
        codes = [language] if candidate == own and usual_translated else [language, "en"]
        for code in dict.fromkeys(codes):
            texts = translations()[code]["texts"].get(candidate)
            if texts is None:
                continue
            dates = _placeholders(texts["decision"], texts["next"]) & set(CASE_DATES)
            if all(getattr(case, name) is not None for name in dates):
                return code, texts
    return "en", None


# Outcomes whose letter is their own rather than their kind's: a withdrawn referral ends (the
# case is only closed after it), where a suspended one waits for the person to be found; both
# are `not_decided`, and the suspension keeps `reasonable_grounds.not_decided`.
OWN_TEXT_OUTCOMES = {("reasonable_grounds", "withdrawn")}


def _letter_key(decision: Decision) -> str:
    """The texts' key of `decision`'s letter: `<kind>.<outcome>` for an outcome in
    `OWN_TEXT_OUTCOMES`, else `<kind>.<outcome kind>`. Never the kind's text for such an
    outcome: a language without its text falls back to English's text for it."""
    if (decision.kind, decision.outcome) in OWN_TEXT_OUTCOMES:
        return f"{decision.kind}.{decision.outcome}"
    return f"{decision.kind}.{decision.outcome_kind}"


def compose(decision: Decision, case: Case, on: date) -> Composed:
    """The letter for `decision`, dated `on`, with the case's dates as they are now. `case` must
    carry the person's identity (the letter greets them by name)."""
    return _compose(
        _letter_key(decision),
        case,
        on,
        reasons=decision.reasons,
        fallback=decision.outcome_label,
    )


def compose_reconsideration(request: ReconsiderationRequest, case: Case, on: date) -> Composed:
    """The letter telling the person how a reconsideration of a decision was decided (accepted
    or refused, by the kind of decision reconsidered), with the reconsideration's reasons;
    otherwise as `compose`."""
    return _compose(
        f"reconsideration.{request.state}.{request.decision.kind}",
        case,
        on,
        reasons=request.decision_reasons,
        fallback=request.get_state_display(),
    )


# Why a change of age group started the adult dates (`compose_adult_dates`), by the words its
# letter gives as its reasons (`"adult_dates_reasons"` in a translation, else English's).
ADULT_DATES_CAUSES = ("age_assessment", "turned_18")


def compose_adult_dates(decision: Decision, case: Case, on: date, *, cause: str) -> Composed:
    """The letter telling a person, written to as a child when `decision` took effect, the
    adult dates it gives now that they are an adult (`cause`: found one by an age assessment,
    or turned 18): it restates the decision's outcome and states the dates (the move-on end,
    an adult's support end) as the case has them now; otherwise as `compose`."""
    if cause not in ADULT_DATES_CAUSES:
        raise ValueError(f"not a cause of adult dates: {cause}")

    def reasons(language: str) -> str:
        said = translations()[language].get("adult_dates_reasons") or {}
        return str(said.get(cause) or translations()["en"]["adult_dates_reasons"][cause])

    return _compose(
        f"adult_dates.{decision.kind}.{decision.outcome_kind}",
        case,
        on,
        reasons=reasons,
        fallback=decision.outcome_label,
    )


def _compose(
    key: str, case: Case, on: date, *, reasons: str | Callable[[str], str], fallback: str
) -> Composed:
    """`reasons`: the words under the reasons heading, or what gives them in the letter's
    language."""
    languages = [code for code in case.person.languages if code in translations()]
    language, texts = _texts_for(key, case, languages[0] if languages else "en")
    chosen = translations()[language]
    texts = texts or {"decision": fallback, "next": ""}
    stated = {
        name: getattr(case, name)
        for name in sorted(_placeholders(texts["decision"], texts["next"]) & set(CASE_DATES))
        if getattr(case, name) is not None
    }
    values = {
        "name": case.person.identity.given_names,
        "reference": case.reference,
        "date": written_date(on, language),
        "authority": case.competent_authority.name,
        **{name: written_date(getattr(case, name), language) for name in CASE_DATES},
    }
    text = LetterText(
        language=language,
        # A text may have a title of its own (a reconsideration's letter); else the usual one.
        title=texts.get("title", chosen["title"]),
        greeting=chosen["greeting"].format(**values),
        reference=chosen["reference"].format(**values),
        date=chosen["date"].format(**values),
        decision=texts["decision"].format(**values),
        # A text may name its reasons otherwise (why a letter is written again); else the usual.
        reasons_heading=texts.get("reasons_heading", chosen["reasons_heading"]),
        reasons=reasons if isinstance(reasons, str) else reasons(language),
        next_heading=chosen["next_heading"],
        next=texts["next"].format(**values),
        help=chosen["help"],
        sign_off=chosen["sign_off"].format(**values),
    )
    return Composed(text=text, dates_stated=stated)


# --- The PDF ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Face:
    family: str
    regular: Path
    bold: Path
    # The face's index in a font collection (.ttc); 0 for a single font.
    index: int = 0


def _cjk_collection() -> Path:
    import noto_cjk_sans_otc

    return Path(str(noto_cjk_sans_otc.FONT_PATH))


MAIN = Face("noto-sans", FONTS_DIR / "NotoSans-Regular.ttf", FONTS_DIR / "NotoSans-Bold.ttf")


@cache
def fallbacks() -> tuple[Face, ...]:
    """The faces for scripts Noto Sans lacks, tried in this order."""
    cjk = _cjk_collection()
    return (
        Face(
            "noto-naskh-arabic",
            FONTS_DIR / "NotoNaskhArabic-Regular.ttf",
            FONTS_DIR / "NotoNaskhArabic-Bold.ttf",
        ),
        Face(
            "noto-sans-ethiopic",
            FONTS_DIR / "NotoSansEthiopic-Regular.ttf",
            FONTS_DIR / "NotoSansEthiopic-Bold.ttf",
        ),
        # Noto Sans CJK SC, the simplified Chinese face of the collection (regular only: bold
        # headings in Chinese print in its regular weight).
        Face("noto-sans-cjk-sc", cjk, cjk, index=2),
    )


@cache
def _coverage(path: Path, index: int) -> frozenset[int]:
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def _covers(face: Face, character: str) -> bool:
    return ord(character) in _coverage(face.regular, face.index)


def _printable(character: str) -> bool:
    # Spaces, line breaks and invisible formatting marks (direction marks, joiners) need no glyph.
    return unicodedata.category(character) not in {"Cc", "Cf", "Zl", "Zp", "Zs"}


class MissingGlyphs(ValueError):
    """The letter has characters that none of the PDF's fonts can print."""

    def __init__(self, characters: Iterable[str]) -> None:
        self.characters = sorted(set(characters))
        named = ", ".join(
            f"{c} (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in self.characters
        )
        super().__init__(f"The letter's fonts cannot print {named}")


def faces_for(lines: Iterable[str]) -> list[Face]:
    """The fallback faces `lines` need beyond Noto Sans; `MissingGlyphs` if no face has some
    character. Only those faces are embedded: the CJK collection is large and slow to load."""
    needed: list[Face] = []
    missing = []
    for character in sorted({c for line in lines for c in line if _printable(c)}):
        if _covers(MAIN, character):
            continue
        face = next((f for f in fallbacks() if _covers(f, character)), None)
        if face is None:
            missing.append(character)
        elif face not in needed:
            needed.append(face)
    if missing:
        raise MissingGlyphs(missing)
    return [face for face in fallbacks() if face in needed]


def pdf_document(lines: Iterable[str], *, language: str, title: str, created_at: datetime) -> FPDF:
    """An A4 document with Noto Sans and the fallback faces `lines` need (`MissingGlyphs` if
    none has some character), shaping on, one page begun. Letters use it, and so does the
    referrer's copy of a referral (referrals/copy_pdf.py)."""
    document = FPDF(format="A4")
    document.set_creation_date(created_at)
    document.set_lang(language)
    extra = faces_for(lines)
    for face in (MAIN, *extra):
        document.add_font(face.family, "", face.regular, collection_font_number=face.index)
        if face.bold != face.regular:
            document.add_font(face.family, "B", face.bold, collection_font_number=face.index)
    if extra:
        # A character Noto Sans lacks is printed in the first of these that has it, in any
        # weight (exact_match=False: Chinese has no bold face here).
        document.set_fallback_fonts([face.family for face in extra], exact_match=False)
    document.set_text_shaping(True)
    document.set_title(title)
    document.add_page()
    document.set_margins(20, 20, 20)
    return document


def pdf_bytes(document: FPDF) -> bytes:
    """The finished document; `MissingGlyphs` if fpdf2 could not find a glyph (it only logs
    one): a document with a gap in it is not given out."""
    output = bytes(document.output())
    missing = [
        chr(code)
        for font in document.fonts.values()
        for code in getattr(font, "missing_glyphs", [])
    ]
    if missing:
        raise MissingGlyphs(missing)
    return output


def pdf(letter: LetterText, *, issued_at: datetime) -> bytes:
    """The letter as an A4 PDF: stored words only, dated as issued, aligned to the start of the
    line (left, or right in a right-to-left language), never justified."""
    document = pdf_document(
        letter.lines(), language=letter.language, title=letter.title, created_at=issued_at
    )
    align = "R" if letter.direction == "rtl" else "L"

    def paragraph(text: str, *, size: float, height: float, bold: bool = False) -> None:
        document.set_font(MAIN.family, "B" if bold else "", size)
        document.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")

    paragraph(letter.title, size=18, height=10, bold=True)
    for line in (letter.reference, letter.date, "", letter.greeting, "", letter.decision):
        paragraph(line, size=11, height=6)
    for heading, body in (
        (letter.reasons_heading, letter.reasons),
        (letter.next_heading, letter.next),
    ):
        document.ln(4)
        paragraph(heading, size=13, height=8, bold=True)
        paragraph(body, size=11, height=6)
    document.ln(4)
    paragraph(letter.help, size=11, height=6)
    document.ln(4)
    paragraph(letter.sign_off, size=11, height=6)
    return pdf_bytes(document)
