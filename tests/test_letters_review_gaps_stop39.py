"""Decision letters read as a victim's immigration lawyer reads them (review of stop 39): the
grounds for reconsideration a negative conclusive letter names, what a Scottish extension letter
says of s.9 support, the adult dates an age assessment starts, and the support provider that
asked for a reconsideration reading its answer (ADR 0017 and ADR 0025, addenda of stop 39)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, Person
from opennrm.decisions import letters, selectors, services
from opennrm.decisions.models import (
    DecisionKind,
    Letter,
    LetterOccasion,
    ReconsiderationRequest,
)
from opennrm.notifications.models import Notification
from opennrm.policy import clock
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.coming_of_age import years_later

from . import case_factories, factories
from .decision_helpers import fresh, positive_rg

RG_DAY = "2026-03-02 10:00:00+00:00"  # 30 days beginning with 2 March: ends 31 March
CG_DAY = "2026-04-01 10:00:00+00:00"  # the first day a conclusive decision may be made
ASSESSED = "2026-04-27 10:00:00+00:00"


def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def _english(case: Case) -> Case:
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    return case


def _albanian(case: Case) -> Case:
    case.person.languages = ["sq"]
    case.person.save(update_fields=["languages"])
    return case


def _text(letter: Letter) -> letters.LetterText:
    return letters.LetterText.from_json(letter.text)


def _pdf_text(letter: Letter) -> str:
    content = letters.pdf(_text(letter), issued_at=letter.issued_at)
    # Lines wrap anywhere: compare with the white space collapsed.
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
    )


# --- Both grounds for reconsideration ---------------------------------------------------------


def test_a_negative_conclusive_letter_names_both_grounds_for_reconsideration(
    case: Case, dmitri: User, sally: User
) -> None:
    """Who is hurt: a person refused at conclusive grounds whose decision was not made in line
    with the statutory guidance (the wrong test, indicators ignored), and the lawyer who reads
    the letter to see what can be done. FACTS 2.7: a reconsideration may be asked for on (i)
    additional evidence or (ii) the decision not being in line with the statutory guidance, for
    negative RG and CG alike. The negative reasonable grounds letter names both ("If you have
    new information, or you think the decision did not follow the rules"); the negative
    conclusive letter (`conclusive_grounds.negative` and its `.child` / `.undated` variants in
    letter_texts/en.json, and the Albanian one) says only "If you have new information": a
    person with no new evidence reads that there is nothing to ask for, and lets the 30 days
    pass, leaving only a judicial review. Expected: the conclusive letter names the second
    ground too (it speaks of the rules or the guidance), in the letter and in its PDF."""
    _english(case)
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(case, dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        refused = case_factories.refused_at_conclusive_grounds(case, decider=dmitri, approver=sally)
    assert refused.status == CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS
    letter = Letter.objects.get(decision__kind=DecisionKind.CONCLUSIVE_GROUNDS)
    words = _text(letter)
    # The letter does offer reconsideration, with its last day written out.
    assert "1 May 2026" in words.next, words.next
    pdf = _pdf_text(letter)
    assert "1 May 2026" in pdf
    mentions_second_ground = any(w in words.next.lower() for w in ("rules", "guidance"))
    assert mentions_second_ground, (
        "the negative conclusive letter names only new information as a ground for "
        f"reconsideration: {words.next!r}"
    )


def test_every_negative_conclusive_text_names_both_grounds_in_the_words_of_the_rg_letter() -> None:
    """The child's, the undated and the adult dates English texts, and the Albanian one, name the second ground
    in the words their language's negative reasonable grounds letter already uses for it: no
    new Albanian was written."""
    second_ground = {
        "en": "or you think the decision did not follow the rules",
        "sq": "ose mendoni se vendimi nuk ndoqi rregullat",
    }
    for language, words in second_ground.items():
        texts = letters.translations()[language]["texts"]
        assert words in texts["reasonable_grounds.negative"]["next"]
        keys = [key for key in texts if "conclusive_grounds.negative" in key]
        assert keys
        for key in keys:
            assert words in texts[key]["next"], (language, key)
    assert {
        key for key in letters.translations()["en"]["texts"] if "conclusive_grounds.negative" in key
    } == {
        "conclusive_grounds.negative",
        "conclusive_grounds.negative.child",
        "conclusive_grounds.negative.undated",
        # Written to a person found an adult after the decision (stop 39).
        "adult_dates.conclusive_grounds.negative",
    }


def test_an_albanian_negative_conclusive_letter_names_both_grounds(
    case: Case, dmitri: User, sally: User
) -> None:
    """The letter as issued to an Albanian reader says it in Albanian."""
    _albanian(case)
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(case, dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        case_factories.refused_at_conclusive_grounds(case, decider=dmitri, approver=sally)
    letter = Letter.objects.get(decision__kind=DecisionKind.CONCLUSIVE_GROUNDS)
    assert letter.language == "sq"
    assert "ose mendoni se vendimi nuk ndoqi rregullat" in _text(letter).next


# --- A Scottish extension and s.9 support -------------------------------------------------------


def test_a_scottish_extension_letter_does_not_promise_support_past_the_s9_period(
    authority: Organisation, dmitri: User
) -> None:
    """Who is hurt: an adult in Scotland whose recovery period is extended (a hospital stay,
    say) well past the 90 days of support the 2015 Act s.9 gives from the positive reasonable
    grounds decision (FACTS 2.8: 90 days, or until the conclusive decision if sooner). The
    extension letter (`recovery_extension.positive`) says "Your recovery period now lasts until
    <date>. You keep your support during this time", while the case keeps `support_ends` at
    day 90 (`services.recovery_extend` does not touch it): the reminders and the support pages
    end the person's support on a day the letter says they keep it. Either the promise or the
    date is wrong; a lawyer cannot tell the person which. Expected: a letter that states an end
    of the recovery period after the case's s.9 support end does not promise support to that
    end without stating when the s.9 support ends (as the Scottish positive RG letter does)."""
    scottish = _english(
        case_factories.referred_in_scotland(
            authority, given_names="Mirela", submitted_at=_at("2026-02-20 09:00:00+00:00")
        )
    )
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(scottish, dmitri)
    scottish = fresh(scottish)
    assert scottish.support_ends == date(2026, 5, 30)  # 90 days beginning with 2 March
    with time_machine.travel("2026-03-20 10:00:00+00:00", tick=False):
        extension = services.recovery_extend(
            by=dmitri,
            case=scottish,
            days=120,
            reasons="In hospital for several months.",
            expected_version=scottish.version,
        )
    scottish = fresh(scottish)
    assert scottish.recovery_period_ends == date(2026, 7, 29)
    assert scottish.support_ends == date(2026, 5, 30)
    words = _text(Letter.objects.get(decision=extension)).next
    assert "29 July 2026" in words
    promises_support = "support" in words.lower()
    assert not promises_support or "30 May 2026" in words, (
        f"the letter promises support until 29 July 2026, but the case's s.9 support ends on "
        f"30 May 2026: {words!r}"
    )


def _extended(case: Case, dmitri: User) -> Letter:
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(case, dmitri)
    case = fresh(case)
    with time_machine.travel("2026-03-20 10:00:00+00:00", tick=False):
        extension = services.recovery_extend(
            by=dmitri, case=case, days=120, reasons="In hospital.", expected_version=case.version
        )
    letter: Letter = Letter.objects.get(decision=extension)
    return letter


def test_an_albanian_reader_in_scotland_gets_scotlands_extension_text_in_english(
    authority: Organisation, dmitri: User
) -> None:
    """Albanian has no extension text: the letter is in English either way, so it is
    Scotland's (stating when s.9 support ends), never the usual English promise of support
    through the whole extension."""
    scottish = _albanian(
        case_factories.referred_in_scotland(
            authority, given_names="Mirela", submitted_at=_at("2026-02-20 09:00:00+00:00")
        )
    )
    letter = _extended(scottish, dmitri)
    assert letter.language == "en"
    assert "30 May 2026" in _text(letter).next
    assert letter.dates_stated["support_ends"] == "2026-05-30"
    assert "You keep your support" not in _text(letter).next


def test_an_extension_in_england_still_says_support_goes_on(case: Case, dmitri: User) -> None:
    """England and Wales have no s.9 period: support goes on through the recovery period, as the
    usual text says."""
    letter = _extended(_english(case), dmitri)
    assert _text(letter).next == (
        "Your recovery period now lasts until 29 July 2026. You keep your support during this time."
    )


# --- Adult dates that start with a change of age group -----------------------------------------


def _disputed_and_refused(
    alice: User, police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> Case:
    disputed = _english(
        case_factories.case(
            referred_by=alice,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup.PRESUMED_CHILD,
            given_names="Ardit",
            submitted_at=_at("2026-02-20 09:00:00+00:00"),
        )
    )
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(disputed, dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        refused = case_factories.refused_at_conclusive_grounds(
            disputed, decider=dmitri, approver=sally
        )
    assert refused.move_on_ends is None
    return refused


def _assessed_adult(case: Case, lena: User, moment: str) -> Case:
    with time_machine.travel(moment, tick=False):
        case = fresh(case)
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="adult",
            assessed_on=timezone.localdate(),
            reasons="Assessed by two social workers.",
            expected_version=case.version,
        )
    return fresh(case)


def test_an_adult_move_on_end_already_past_when_the_assessment_is_made_counts_from_that_day(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """Found an adult 26 days after a negative conclusive decision: counted from the decision,
    the adult move-on period had ended before the assessment; it counts from the assessment's
    day instead, and the decision maker is told the date, which no letter the person holds
    gives."""
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    from_decision = clock.clocks_after_conclusive(
        date(2026, 4, 1), refused.jurisdiction, "insufficient_evidence", adult=True
    ).move_on_ends
    assert from_decision is not None
    assert from_decision < date(2026, 4, 27)

    adult = _assessed_adult(refused, lena, ASSESSED)

    expected = clock.clocks_after_conclusive(
        date(2026, 4, 27), adult.jurisdiction, "insufficient_evidence", adult=True
    ).move_on_ends
    assert expected is not None
    assert adult.age_group == AgeGroup.ADULT
    assert adult.move_on_ends == expected
    told = Notification.objects.get(recipient=dmitri, kind="case.age_group_changed")
    assert f"{expected:%-d %B %Y}" in told.body, told.body


def test_an_adult_move_on_end_still_to_come_keeps_the_decisions_day(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """Found an adult two days after the decision: the move-on period from the decision's own
    day has not ended, and stands (ADR 25)."""
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    adult = _assessed_adult(refused, lena, "2026-04-03 10:00:00+00:00")
    assert (
        adult.move_on_ends
        == clock.clocks_after_conclusive(
            date(2026, 4, 1), adult.jurisdiction, "insufficient_evidence", adult=True
        ).move_on_ends
    )


def test_a_care_leaver_moved_long_after_the_birthday_gets_a_move_on_end_still_to_come(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A child recognised as a victim whose 18th birthday is 100 days past when the task moves
    the case (it was down, or the date of birth was corrected): 45 days from the birthday ended
    long ago, so the move-on period counts from the day of the move."""
    today = timezone.localdate()
    birthday = today - timedelta(days=100)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=years_later(birthday, -18),
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        consent_to_support=None,
        consent_to_referral=None,
        submitted_at=timezone.now() - timedelta(days=500),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=16, age_is_estimated=False)
    coming_of_age.run(today)
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
    assert case.move_on_ends == today + timedelta(days=45)


def test_a_presumed_child_found_an_adult_after_a_negative_conclusive_decision_is_written_to(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """Who is hurt: a young person whose age was disputed, refused at conclusive grounds while
    treated as a child. Their letter says "children's services keep looking after you,
    whatever this decision" and states no end of support (rightly: ADR 0025). Weeks later an
    age assessment finds them an adult: `safeguarding.services.age_assessment_record` gives
    the case the adult move-on end through `decisions.services.adult_clocks`, counted from the
    conclusive decision's own day (9 working days after 1 April 2026), so it is already over
    on the day of the assessment, and no letter is issued. The person, their lawyer and the
    support worker hold only a letter promising children's services' care; the support the
    case now records as ended was never announced, let alone with a date still to come.
    ADR 0017 says a later change that moves a date is a new letter, and its addendum (stop 35)
    that a person must never be told of an end already gone. Expected: a new letter is issued
    when the assessment moves the case to the adult pathway, stating an end of support that
    has not passed on the day it is issued."""
    disputed = _english(
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=AgeGroup.PRESUMED_CHILD,
            given_names="Ardit",
            submitted_at=_at("2026-02-20 09:00:00+00:00"),
        )
    )
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(disputed, dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        refused = case_factories.refused_at_conclusive_grounds(
            disputed, decider=dmitri, approver=sally
        )
    assert refused.move_on_ends is None  # a presumed child: no adult move-on period
    child_letter = Letter.objects.get(case=refused, decision__kind=DecisionKind.CONCLUSIVE_GROUNDS)
    assert "children's services" in _text(child_letter).next
    before = Letter.objects.filter(case=refused).count()

    with time_machine.travel(ASSESSED, tick=False):
        refused = fresh(refused)
        safeguarding.age_assessment_record(
            by=lena,
            case=refused,
            outcome="adult",
            assessed_on=date(2026, 4, 27),
            reasons="Assessed by two social workers.",
            expected_version=refused.version,
        )
    adult = fresh(refused)
    assert adult.age_group == AgeGroup.ADULT
    assert adult.move_on_ends is not None  # the adult support end the case now records
    new = list(Letter.objects.filter(case=adult).order_by("pk")[before:])
    assert new, (
        f"the case now records adult support ending {adult.move_on_ends:%-d %B %Y}, before the "
        "assessment of 27 April 2026, and no letter told the person: the only letter they hold "
        "says children's services keep looking after them"
    )
    stated = new[-1].dates_stated.get("move_on_ends")
    assert stated is not None
    assert date.fromisoformat(stated) >= new[-1].issued_on


def test_the_adult_dates_letter_restates_the_decision_and_states_the_end_in_words(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """The new letter says why it is written (the assessment), that the negative decision
    stands, and the move-on end in words, in the PDF too; it is audited as issued, the
    decision's own letter stays as it was, and the decision maker's message says the letter was
    issued rather than asking that the person be told."""
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    child_letter = Letter.objects.get(
        case=refused,
        decision__kind=DecisionKind.CONCLUSIVE_GROUNDS,
        occasion=LetterOccasion.DECISION,
    )
    as_sent = dict(child_letter.text)
    adult = _assessed_adult(refused, lena, ASSESSED)
    letter = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES)
    assert letter.decision == child_letter.decision
    assert (letter.kind, letter.issued_by, letter.issued_on) == (
        DecisionKind.CONCLUSIVE_GROUNDS,
        lena,
        date(2026, 4, 27),
    )
    assert letter.dates_stated == {"move_on_ends": adult.move_on_ends.isoformat()}
    words = _text(letter)
    assert "age assessment" in words.reasons
    assert "not enough evidence" in words.decision
    assert letters.written_date(adult.move_on_ends) in words.next
    assert "children's services" not in words.next
    assert letters.written_date(adult.move_on_ends) in _pdf_text(letter)
    child_letter.refresh_from_db()
    assert child_letter.text == as_sent
    assert AuditEvent.objects.filter(
        action="letter.issued", detail__occasion=LetterOccasion.ADULT_DATES
    ).exists()
    told = Notification.objects.get(recipient=dmitri, kind="case.age_group_changed")
    assert "A letter telling them so has been issued" in told.body, told.body


def test_an_albanian_reader_gets_the_adult_dates_letter_in_english(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """Albanian has no adult dates text yet: the letter falls back to English, as any letter
    without a translation does, rather than not being issued."""
    refused = _albanian(_disputed_and_refused(alice, northmoor_police, authority, dmitri, sally))
    adult = _assessed_adult(refused, lena, ASSESSED)
    letter = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES)
    assert letter.language == "en"
    assert letters.written_date(adult.move_on_ends) in _text(letter).next


def test_a_decision_still_has_one_letter_of_its_own(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """The letter of the adult dates sits beside the decision's own letter; a second letter of
    the decision itself is still refused, and the new letter is frozen like the others."""
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    adult = _assessed_adult(refused, lena, ASSESSED)
    decision = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES).decision
    with pytest.raises(ValidationError):
        services.letter_issue(by=dmitri, decision=decision)
    with pytest.raises(DatabaseError), transaction.atomic():
        Letter.objects.filter(case=adult, occasion=LetterOccasion.ADULT_DATES).update(
            occasion=LetterOccasion.DECISION
        )


def test_an_assessment_that_starts_no_adult_date_issues_no_letter(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
) -> None:
    """Found an adult while the reasonable grounds decision is awaited: no decision gives a
    date yet, so there is nothing to write about (the decision's own letter will)."""
    disputed = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
        submitted_at=_at("2026-02-20 09:00:00+00:00"),
    )
    adult = _assessed_adult(disputed, lena, ASSESSED)
    assert adult.age_group == AgeGroup.ADULT
    assert not Letter.objects.filter(case=adult).exists()


def test_a_child_who_turned_18_after_the_decision_is_written_to_by_opennrm(
    case: Case, dmitri: User, sally: User
) -> None:
    """A child refused at conclusive grounds turns 18: the daily task moves the case to the
    adult pathway with a move-on end, and issues the letter stating it (issued by nobody: by
    OpenNRM), telling the person why in words that do not give the birthday (the entry on the
    timeline, and the letter, are dated the day of the move, ADR 0025)."""
    _english(case)
    Case.objects.filter(pk=case.pk).update(age_group=AgeGroup.CHILD)
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(fresh(case), dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        refused = case_factories.refused_at_conclusive_grounds(
            fresh(case), decider=dmitri, approver=sally
        )
    assert refused.move_on_ends is None
    with time_machine.travel("2026-04-20 06:00:00+00:00", tick=False):
        assert coming_of_age._turn_18(refused.pk, date(2026, 4, 20)) is not None
    adult = fresh(refused)
    assert adult.age_group == AgeGroup.ADULT
    assert adult.move_on_ends is not None
    letter = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES)
    assert letter.issued_by is None
    assert letter.dates_stated == {"move_on_ends": adult.move_on_ends.isoformat()}
    words = _text(letter)
    assert "You have turned 18" in words.reasons
    # The letter is dated the day of the move, as the timeline's entry is; its words say no more.
    assert "20 April" not in " ".join((words.reasons, words.decision, words.next))
    assert letters.written_date(adult.move_on_ends) in words.next


@pytest.mark.page("decisions:adult_dates_letter")
def test_the_adult_dates_letter_is_listed_on_the_case_page_and_opens(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """The case page lists the new letter beside the conclusive decision's own, for the
    decision makers and the referrer who explains it; it opens as issued, its read audited
    with the letter named; the decision's own letter still opens (one of its own)."""
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    adult = _assessed_adult(refused, lena, ASSESSED)
    letter = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES)
    url = reverse("decisions:adult_dates_letter", args=[letter.pk])
    for reader in (dmitri, alice):
        client = factories.signed_in_client(reader)
        detail = client.get(reverse("cases:detail", args=[adult.reference])).content.decode()
        assert url in detail
        assert reverse("decisions:letter", args=[letter.decision_id]) in detail
        page = client.get(url)
        assert page.status_code == 200
        assert letters.written_date(adult.move_on_ends) in page.content.decode()
        read = AuditEvent.objects.filter(actor=reader, action="person.viewed").latest("pk")
        assert read.detail["document"]["id"] == letter.pk
        own = client.get(reverse("decisions:letter", args=[letter.decision_id]))
        assert own.status_code == 200
        assert "children&#39;s services" in own.content.decode()
    # A decision's letter is not opened as a letter of adult dates.
    own_letter = Letter.objects.get(decision=letter.decision, occasion=LetterOccasion.DECISION)
    with pytest.raises(Http404):
        selectors.adult_dates_letter_get_for_reader(Actor.of_session(dmitri), own_letter.pk)


@pytest.mark.page("decisions:adult_dates_letter_pdf")
def test_the_adult_dates_letter_downloads_as_a_pdf(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """The PDF prints the stored words, the end of support in words, and is recorded as
    exported."""
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    adult = _assessed_adult(refused, lena, ASSESSED)
    letter = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES)
    response = factories.signed_in_client(alice).get(
        reverse("decisions:adult_dates_letter_pdf", args=[letter.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    printed = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert letters.written_date(adult.move_on_ends) in printed
    assert AuditEvent.objects.filter(actor=alice, action="person.exported").exists()


def test_the_subject_access_export_names_the_adult_dates_letter(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    """The person's own copy of their data says what the letter is, not only "Conclusive
    grounds decision" twice."""
    from opennrm.privacy.selectors import subject_access_data

    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    adult = _assessed_adult(refused, lena, ASSESSED)
    (exported,) = [
        c for c in subject_access_data(adult.person)["cases"] if c["reference"] == adult.reference
    ]
    named = [letter["decision"] for letter in exported["letters"]]
    assert "Support dates as an adult after the conclusive grounds decision" in named


# --- The support provider that asked reads the answer -------------------------------------------


@pytest.fixture
def asked_by_provider(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> ReconsiderationRequest:
    """A reconsideration the safe-house manager asked for, refused, with its letter."""
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    request = services.reconsideration_request(
        by=maya,
        case=case,
        grounds="She has told us more about the work.",
        expected_version=case.version,
        support_provider=provider,
    )
    services.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="The new account does not change the decision.",
        expected_version=fresh(case).version,
    )
    return ReconsiderationRequest.objects.get(pk=request.pk)


def test_the_provider_that_asked_reads_that_letter_and_no_other(
    asked_by_provider: ReconsiderationRequest,
    case: Case,
    alice: User,
    maya: User,
    cora: User,
    omar: User,
    dmitri: User,
    sally: User,
) -> None:
    """Its coordinators and safe-house managers read the answer to the request it made; not
    the decision's own letter, not the answer to a request the referrer made, and nobody at
    another provider reads it."""
    request = asked_by_provider
    for reader in (maya, cora):
        letter = selectors.reconsideration_letter_get_for_reader(
            Actor.of_session(reader), request.pk
        )
        assert letter.reconsideration_id == request.pk
    with pytest.raises(Http404):
        selectors.reconsideration_letter_get_for_reader(Actor.of_session(omar), request.pk)
    with pytest.raises(Http404):
        selectors.letter_get_for_reader(Actor.of_session(maya), request.decision_id)

    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    by_referrer = services.reconsideration_request(
        by=alice, case=refused, grounds="New evidence.", expected_version=refused.version
    )
    services.reconsideration_decide(
        by=dmitri,
        request=by_referrer,
        accept=False,
        reasons="Nothing new.",
        expected_version=fresh(refused).version,
    )
    assert Letter.objects.filter(reconsideration=by_referrer).exists()
    with pytest.raises(Http404):
        selectors.reconsideration_letter_get_for_reader(Actor.of_session(maya), by_referrer.pk)
    assert list(
        selectors.reconsideration_letters_for_provider(Actor.of_session(maya), request.case)
    ) == [Letter.objects.get(reconsideration=request)]
    assert not selectors.reconsideration_letters_for_provider(Actor.of_session(maya), refused)


def test_the_support_plan_links_the_letter_and_its_page_is_audited(
    asked_by_provider: ReconsiderationRequest, maya: User
) -> None:
    """The support plan the provider was told to look at links the letter, and reading it is
    audited as for any reader."""
    client = factories.signed_in_client(maya)
    url = reverse("decisions:reconsideration_letter", args=[asked_by_provider.pk])
    plan = client.get(reverse("support:plan", args=[asked_by_provider.case.reference]))
    assert plan.status_code == 200
    assert url in plan.content.decode()

    assert client.get(url).status_code == 200
    read = AuditEvent.objects.filter(actor=maya, action="person.viewed").last()
    assert read is not None
    assert read.detail["document"]["id"] == asked_by_provider.pk


@pytest.mark.page("decisions:reconsideration_letter")
def test_the_support_provider_who_asked_can_read_the_reconsideration_outcome_letter(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Who is hurt: a person whose safe-house manager asked for the reconsideration (the rules
    let support providers ask, `reconsideration_requesters`). The refusal letter is what a
    judicial review is brought against (ADR 0017, stop 35), and it tells the person: "Ask the
    person who referred you or your support worker to help you find a solicitor, and do this
    soon". The manager who asked is e-mailed "Reconsideration refused", but the letter and its
    reasons answer her with 404 (`selectors.reconsideration_letter_get_for_reader` lets only
    `cases_visible_to` read it: the referrer, the authority, children's services), and the
    support plan does not show it. The support worker the letter names cannot explain it or
    hand it to a solicitor. Expected: the support provider who asked for the reconsideration
    (and supports the person) can open its outcome letter, the read audited."""
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    request = services.reconsideration_request(
        by=maya,
        case=case,
        grounds="She has told us more about the work.",
        expected_version=case.version,
        support_provider=provider,
    )
    services.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="The new account does not change the decision.",
        expected_version=fresh(case).version,
    )
    request = ReconsiderationRequest.objects.get(pk=request.pk)
    assert Letter.objects.filter(reconsideration=request).exists()
    url = reverse("decisions:reconsideration_letter", args=[request.pk])
    # The referrer reads it; the provider who asked is refused.
    assert factories.signed_in_client(alice).get(url).status_code == 200
    response = factories.signed_in_client(maya).get(url)
    assert response.status_code == 200, (
        f"the safe-house manager who asked for the reconsideration gets {response.status_code} "
        "for the letter refusing it"
    )
    page = response.content.decode()
    # She goes back to the support plan she came from: the case page is not hers to open.
    assert reverse("support:plan", args=[case.reference]) in page
    assert reverse("cases:detail", args=[case.reference]) not in page
    pdf = reverse("decisions:reconsideration_letter_pdf", args=[request.pk])
    assert factories.signed_in_client(maya).get(pdf).status_code == 200
    # Another provider's manager still cannot.
    stranger = factories.user(
        "other.manager@example.org",
        organisation=factories.organisation(kind=OrganisationKind.SUPPORT_PROVIDER),
        role=Role.SAFE_HOUSE_MANAGER,
    )
    assert factories.signed_in_client(stranger).get(url).status_code == 404
