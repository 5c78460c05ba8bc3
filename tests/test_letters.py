"""Decision letters are records: issued once when the decision takes effect, then shown as they
were sent; and their PDFs print every script, with dates written out, aligned to the left."""

from __future__ import annotations

import importlib
import io
import logging
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.decisions import letters, services
from opennrm.decisions.models import Decision, Letter

from . import factories

MONDAY = "2026-03-02 10:00:00+00:00"
A_WEEK_LATER = "2026-03-09 10:00:00+00:00"
A_MONTH_LATER = "2026-04-02 10:00:00+00:00"


def english(case: Case) -> Case:
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    return case


def positive(case: Case, by: User) -> Decision:
    with time_machine.travel(MONDAY, tick=False):
        return services.decision_record_reasonable_grounds(
            by=by, case=case, outcome="positive", reasons="Credible.", expected_version=case.version
        )


def stored(letter: Letter) -> tuple[object, ...]:
    """Everything a letter states, and the bytes its text is stored as."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM decisions_letter WHERE id = %s", [letter.pk])
        [ciphertext] = cursor.fetchone()
    fresh = Letter.objects.get(pk=letter.pk)
    return (
        ciphertext,
        fresh.text,
        fresh.dates_stated,
        fresh.issued_on,
        fresh.issued_at,
        fresh.language,
        fresh.kind,
    )


def page_of(user: User, decision: Decision) -> str:
    response = factories.signed_in_client(user).get(reverse("decisions:letter", args=[decision.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- Letters are records ------------------------------------------------------------------------


def test_an_extension_issues_a_second_letter_and_the_first_is_unchanged(
    case: Case, dmitri: User, alice: User
) -> None:
    decision = positive(english(case), dmitri)
    first = Letter.objects.get(decision=decision)
    assert first.dates_stated == {
        "conclusive_grounds_from": "2026-04-01",
        "recovery_period_ends": "2026-03-31",
    }
    assert first.issued_on == date(2026, 3, 2)
    before = stored(first)
    case.refresh_from_db()
    with time_machine.travel(A_WEEK_LATER, tick=False):
        extension = services.recovery_extend(
            by=dmitri,
            case=case,
            days=14,
            reasons="Hospital treatment.",
            expected_version=case.version,
        )
    second = Letter.objects.get(decision=extension)
    assert Letter.objects.filter(case=case).count() == 2
    assert second.dates_stated == {"recovery_period_ends": "2026-04-14"}
    assert second.issued_on == date(2026, 3, 9)
    assert "lasts until 14 April 2026" in letters.LetterText.from_json(second.text).next
    # The first letter is byte for byte what was issued, and reads so a month on.
    assert stored(first) == before
    with time_machine.travel(A_MONTH_LATER, tick=False):
        page = page_of(alice, decision)
    assert "Date of this letter: 2 March 2026" in page
    assert "You now have a recovery period until 31 March 2026" in page
    assert "14 April 2026" not in page
    assert "Date of this letter: 9 March 2026" in page_of(alice, extension)


def test_the_letter_keeps_the_language_it_was_issued_in(
    case: Case, dmitri: User, alice: User
) -> None:
    # The person speaks Albanian (sq), which has a translation, months and all.
    decision = positive(case, dmitri)
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    page = page_of(alice, decision)
    assert 'lang="sq"' in page
    assert "Kemi vendosur" in page
    assert "deri më 31 mars 2026" in page


def test_the_database_refuses_to_rewrite_an_issued_letter(case: Case, dmitri: User) -> None:
    letter = Letter.objects.get(decision=positive(case, dmitri))
    for change in (
        {"issued_on": date(2026, 3, 3)},
        {"dates_stated": {"recovery_period_ends": "2026-12-31"}},
        {"language": "en"},
    ):
        with pytest.raises(DatabaseError, match="never rewritten"), transaction.atomic():
            Letter.objects.filter(pk=letter.pk).update(**change)
    # Its words may only be re-encrypted (key rotation) or emptied (erasure).
    Letter.objects.filter(pk=letter.pk).update(text=None)
    assert Letter.objects.get(pk=letter.pk).text is None


def test_issuing_is_recorded_and_waits_for_approval(
    case: Case, dmitri: User, sally: User, alice: User, charlie: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="x",
            expected_version=1,
        )
    # Not in effect: no letter, and nothing to open.
    assert not Letter.objects.exists()
    client = factories.signed_in_client(alice)
    assert client.get(reverse("decisions:letter", args=[decision.pk])).status_code == 404
    with time_machine.travel(A_WEEK_LATER, tick=False):
        services.decision_approve(by=sally, decision=decision, approve=True)
    letter = Letter.objects.get(decision=decision)
    assert (letter.issued_by, letter.issued_on) == (sally, date(2026, 3, 9))
    event = AuditEvent.objects.get(action="letter.issued")
    assert (event.actor, event.object_type, event.object_id) == (
        sally,
        "decisions.letter",
        str(letter.pk),
    )
    assert event.detail == {"decision": decision.pk, "language": "sq"}
    # Issued once: a second issue of the same decision is refused.
    with pytest.raises(ValidationError, match="already been issued"):
        services.letter_issue(by=sally, decision=Decision.objects.get(pk=decision.pk))
    # Only for those who may see the case, on screen and as a PDF.
    outsider = factories.signed_in_client(charlie)
    for name in ("decisions:letter", "decisions:letter_pdf"):
        assert outsider.get(reverse(name, args=[decision.pk])).status_code == 404
    assert client.post(reverse("decisions:letter", args=[decision.pk])).status_code == 405


@pytest.mark.page("decisions:letter_pdf")
def test_reading_the_stored_letter_is_recorded(case: Case, dmitri: User, alice: User) -> None:
    decision = positive(case, dmitri)
    page_of(alice, decision)
    pdf = factories.signed_in_client(dmitri).get(
        reverse("decisions:letter_pdf", args=[decision.pk])
    )
    assert pdf.content.startswith(b"%PDF-")
    viewed, exported = AuditEvent.objects.filter(
        action__in=["person.viewed", "person.exported"]
    ).order_by("pk")
    for event, who, action in (
        (viewed, alice, "person.viewed"),
        (exported, dmitri, "person.exported"),
    ):
        assert (event.actor, event.action, event.person_id) == (who, action, case.person_id)
        assert event.detail["fields"] == ["given_names", "decision_reasons"]


# --- The PDF ------------------------------------------------------------------------------------

# A name and a sentence in each script a letter must print (synthetic samples).
SAMPLES = {
    "Arabic": ("فاطمة", "لقد قررنا أن هناك أسبابا معقولة للاعتقاد"),
    "Vietnamese": ("Nguyễn Thị Hương", "Chúng tôi đã quyết định rằng có cơ sở hợp lý"),
    "Russian": ("Людмила", "Мы решили, что есть разумные основания"),
    "Chinese": ("王秀英", "我们已经决定有合理的理由相信你是受害者"),
    "Tigrinya": ("ለተብርሃን", "ብዛዕባ ጉዳይኩም ዝተወሰነ ውሳነ"),
    "Amharic": ("አበበች", "ስለ ጉዳይዎ የተሰጠ ውሳኔ"),
}


def letter_text(name: str, sentence: str, language: str = "en") -> letters.LetterText:
    return letters.LetterText(
        language=language,
        title="Decision about your case",
        greeting=f"Dear {name},",
        reference="Case reference: NRM-TEST-0001",
        date=f"Date of this letter: {letters.written_date(date(2026, 12, 31))}",
        decision="We have decided that there are reasonable grounds to believe you are a victim "
        "of human trafficking or modern slavery, and this sentence is long enough to wrap.",
        reasons_heading="Why we decided this",
        reasons=sentence,
        next_heading="What happens next",
        next=f"You now have a recovery period until {letters.written_date(date(2027, 1, 30))}.",
        help="If you do not understand this letter, ask for an interpreter.",
        sign_off="Test Competent Authority",
    )


def squashed(text: str) -> str:
    return re.sub(r"[\s\x00]", "", text)


@pytest.mark.parametrize("script", sorted(SAMPLES))
def test_the_pdf_prints_every_script(
    script: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    aligned: list[str] = []
    original = letters.FPDF.multi_cell

    def multi_cell(self, *args, **kwargs):
        aligned.append(str(kwargs.get("align", "J (the default)")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(letters.FPDF, "multi_cell", multi_cell)
    name, sentence = SAMPLES[script]
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        document = letters.pdf(
            letter_text(name, sentence), issued_at=datetime(2026, 12, 31, 9, tzinfo=UTC)
        )
    # fpdf2 only logs a glyph it lacks: here that is a failure.
    assert [r.getMessage() for r in caplog.records if "missing" in r.getMessage()] == []
    page = PdfReader(io.BytesIO(document)).pages[0]
    text = squashed(page.extract_text())
    assert "Dateofthisletter:31December2026" in text
    assert "30January2027" in text
    for word in (name, *sentence.split()):
        assert squashed(word) in text, (script, word)
    # Left-aligned, never justified; every line starts at the left margin.
    assert set(aligned) == {"L"}
    starts: dict[float, float] = {}

    def visit(shown: str, cm: object, tm: list[float], *_: object) -> None:
        if shown.strip():
            starts[round(tm[5], 1)] = min(starts.get(round(tm[5], 1), 1e9), tm[4])

    page.extract_text(visitor_text=visit)
    assert {round(x) for x in starts.values()} == {60}


def test_arabic_is_shaped_joined_and_right_to_left() -> None:
    name, sentence = SAMPLES["Arabic"]
    document = letters.pdf(
        letter_text(name, sentence), issued_at=datetime(2026, 12, 31, tzinfo=UTC)
    )
    page: Any = PdfReader(io.BytesIO(document)).pages[0]
    [arabic] = [
        font.get_object()
        for font in page["/Resources"]["/Font"].values()
        if "NotoNaskhArabic" in str(font.get_object()["/BaseFont"])
    ]
    descriptor = arabic["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    embedded = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
    glyphs = set(embedded.getGlyphOrder())
    # Joined forms come only from shaping: initial lam (U+FEDF), medial meem (U+FEE4), final
    # teh marbuta (U+FE94) of فاطمة / معقولة, where unshaped text would use U+0644, U+0645...
    assert {"uniFEDF", "uniFEE4", "uniFE94"} <= glyphs
    # Read in logical order, the words come out whole (the PDF lays them out right to left).
    assert "فاطمة" in page.extract_text()


def test_a_right_to_left_letter_is_aligned_to_the_right(monkeypatch: pytest.MonkeyPatch) -> None:
    aligned: list[str] = []
    original = letters.FPDF.multi_cell

    def multi_cell(self, *args, **kwargs):
        aligned.append(str(kwargs.get("align")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(letters.FPDF, "multi_cell", multi_cell)
    letters.pdf(letter_text(*SAMPLES["Arabic"], language="ar"), issued_at=datetime.now(UTC))
    assert set(aligned) == {"R"}


def test_a_character_no_font_has_is_an_error_not_a_box(
    case: Case, dmitri: User, alice: User
) -> None:
    with pytest.raises(letters.MissingGlyphs, match=r"U\+10000 LINEAR B SYLLABLE B008 A"):
        letters.pdf(letter_text("Test", "𐀀"), issued_at=datetime.now(UTC))
    # On the page, the PDF link explains itself and nothing is recorded as exported.
    decision = positive(case, dmitri)
    letter = Letter.objects.get(decision=decision)
    letter.text = {**letter.text, "reasons": "𐀀"}
    letter.save(update_fields=["text"])
    client = factories.signed_in_client(alice)
    response = client.get(reverse("decisions:letter_pdf", args=[decision.pk]), follow=True)
    assert "cannot print 𐀀" in response.content.decode()
    assert not AuditEvent.objects.filter(action="person.exported").exists()


def test_dates_are_written_out() -> None:
    assert letters.written_date(date(2026, 12, 31)) == "31 December 2026"
    assert letters.written_date(date(2026, 1, 5), "sq") == "5 janar 2026"
    assert letters.written_date(date(2026, 1, 5), "xx") == "5 January 2026"


def test_decisions_in_effect_before_letters_were_stored_get_theirs(
    case: Case, dmitri: User
) -> None:
    from django.apps import apps

    migration = importlib.import_module("opennrm.decisions.migrations.0004_letters_are_records")
    decision = positive(english(case), dmitri)
    Letter.objects.all().delete()
    with time_machine.travel(A_MONTH_LATER, tick=False):
        migration.issue_letters_of_decisions_in_effect(apps, None)
    letter = Letter.objects.get(decision=decision)
    # Dated the day the decision took effect, not the day the migration ran.
    assert (letter.issued_on, letter.issued_by) == (date(2026, 3, 2), dmitri)
    assert letters.LetterText.from_json(letter.text).date == "Date of this letter: 2 March 2026"
