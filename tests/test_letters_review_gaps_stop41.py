"""Decision letters after a review of a decision maker's week (stop 41): a withdrawn referral's
letter is its own, not a suspension's, and a Scottish letter accepting a reconsideration states
when s.9 support ends instead of promising support that may have ended (ADR 0017, addendum of
stop 41)."""

from __future__ import annotations

from datetime import date

import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import letters, services
from opennrm.decisions.letters import LetterText
from opennrm.decisions.models import Letter, ReconsiderationRequest

from . import case_factories
from .decision_helpers import fresh, positive_rg, rg


def _words(letter: Letter) -> LetterText:
    return LetterText.from_json(letter.text)


def _reads(case: Case, language: str) -> Case:
    case.person.languages = [language]
    case.person.save(update_fields=["languages"])
    return case


# --- A withdrawal is not a suspension ------------------------------------------------------


def test_a_withdrawal_letter_does_not_say_a_decision_is_still_to_come(
    case: Case, dmitri: User
) -> None:
    """Dmitri withdraws the reasonable grounds decision: the person is known to have left the
    country (FACTS 2.5, "withdrawn ... left the UK prior to the reasonable grounds decision").
    A withdrawn case can only be closed (`cases.state`: RG_WITHDRAWN -> CLOSED): no decision
    will follow on this referral. The letter issued should say the case was withdrawn, not what
    a suspension's letter says. Before stop 41 both outcomes shared
    `reasonable_grounds.not_decided`: the person was told "We have not been able to make a
    decision on your case yet" and that the referrer "can tell us when you can be contacted
    again", as if the case would resume. (Copied from the reviewers'
    tests/_review_decisions/test_decision_week.py.)"""
    missing = case_factories.case(
        referred_by=case.referred_by,
        referring_organisation=case.referring_organisation,
        authority=case.competent_authority,
        given_names="Other Person",
    )
    withdrawn = rg(case, dmitri, "withdrawn", "Border Force confirmed she flew to Tirana.")
    suspended = rg(missing, dmitri, "suspended", "Missing from the safe house since Tuesday.")
    assert withdrawn.status == CaseStatus.RG_WITHDRAWN
    assert suspended.status == CaseStatus.RG_SUSPENDED
    withdrawal = _words(Letter.objects.get(case=withdrawn))
    suspension = _words(Letter.objects.get(case=suspended))
    assert (withdrawal.decision, withdrawal.next) != (suspension.decision, suspension.next)
    assert "yet" not in withdrawal.decision
    assert "contacted again" not in withdrawal.next


def test_a_withdrawal_letter_says_the_referral_ended_and_how_to_be_referred_again(
    case: Case, dmitri: User
) -> None:
    """Dmitri withdraws an English reader's referral: she has left the country. Her letter
    should say that the referral has ended and no decision will be made on it, that the support
    she had because she was referred ends with it (OpenNRM sets no date: a withdrawn case is
    only closed, and a closed case gets no new place), and that she can be referred again if
    she comes back or needs help."""
    withdrawn = rg(_reads(case, "en"), dmitri, "withdrawn", "She flew to Tirana on Monday.")
    letter = _words(Letter.objects.get(case=withdrawn))
    assert letter.language == "en"
    assert "withdrawn your referral" in letter.decision
    assert "will not make a decision" in letter.decision
    assert "ends with the referral" in letter.next
    assert "new referral" in letter.next
    assert letter.reasons == "She flew to Tirana on Monday."


def test_an_albanian_reader_gets_the_withdrawal_text_in_english(case: Case, dmitri: User) -> None:
    """Zorica reads Albanian, which has no text for a suspension nor for a withdrawal yet.
    Withdrawn, she should get the withdrawal's text in English (a missing translation falls
    back to English, ADR 0017), never the suspension's."""
    withdrawn = rg(_reads(case, "sq"), dmitri, "withdrawn", "She flew to Tirana on Monday.")
    letter = _words(Letter.objects.get(case=withdrawn))
    assert letter.language == "en"
    assert "withdrawn your referral" in letter.decision
    assert "contacted again" not in letter.next


def test_a_case_suspended_then_withdrawn_gets_the_withdrawal_letter(
    case: Case, dmitri: User
) -> None:
    """Dmitri suspended the decision while the person was missing; a week later she is known to
    have left the country and he withdraws it. The second letter should be the withdrawal's,
    not the suspension's again."""
    suspended = rg(_reads(case, "en"), dmitri, "suspended", "Missing since Tuesday.")
    withdrawn = rg(suspended, dmitri, "withdrawn", "Border Force confirmed she left.")
    assert withdrawn.status == CaseStatus.RG_WITHDRAWN
    first, second = (
        _words(letter) for letter in Letter.objects.filter(case=withdrawn).order_by("pk")
    )
    assert "yet" in first.decision
    assert "withdrawn your referral" in second.decision
    assert "contacted again" not in second.next


def test_a_childs_withdrawal_letter_says_childrens_services_keep_looking_after_them(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """A child's referral is withdrawn: he has left the country. His letter should say, as the
    other child letters do, that children's services look after him, never that his support
    simply ends."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    withdrawn = rg(_reads(child, "en"), dmitri, "withdrawn", "He left with his uncle.")
    letter = _words(Letter.objects.get(case=withdrawn))
    assert "withdrawn your referral" in letter.decision
    assert "children's services" in letter.next
    assert "ends with the referral" not in letter.next


def test_every_language_with_a_suspension_text_has_a_withdrawal_text() -> None:
    """No language may show a suspension's words for a withdrawal: a language that translates
    the suspension letter must translate the withdrawal's too (one that translates neither
    falls back to English's withdrawal text, as for any missing text)."""
    for code, translation in letters.translations().items():
        texts = translation["texts"]
        if "reasonable_grounds.not_decided" in texts:
            assert "reasonable_grounds.withdrawn" in texts, code


# --- Scotland: an accepted reconsideration and s.9 support -------------------------------------


def _scottish_case_refused_at_conclusive_grounds(
    authority: Organisation, dmitri: User, sally: User
) -> tuple[Case, ReconsiderationRequest]:
    with time_machine.travel("2026-01-05 10:00:00+00:00", tick=False):
        case = positive_rg(case_factories.referred_in_scotland(authority), dmitri)
    with time_machine.travel("2026-02-10 10:00:00+00:00", tick=False):
        case = case_factories.refused_at_conclusive_grounds(case, decider=dmitri, approver=sally)
        fiona = User.objects.get(email="fiona@example.org")
        request = services.reconsideration_request(
            by=fiona, case=case, grounds="A police statement.", expected_version=case.version
        )
    return case, request


def test_scotland_accepted_reconsideration_letter_does_not_promise_support_already_ended(
    authority: Organisation, dmitri: User, sally: User
) -> None:
    """In Scotland an adult's support under s.9 of the 2015 Act lasts 90 days from the positive
    reasonable grounds decision, or until the conclusive decision if sooner (FACTS 2.8). A
    negative conclusive decision cut it short; Sally accepts a reconsideration of it more than
    90 days after the positive decision. `reconsideration_decide` records the s.9 end again,
    counted from the reasonable grounds decision: already past (the case page shows it as the
    current end). The letter the person receives should not tell them the opposite. Before
    stop 41 it said "You are back in your recovery period and your support continues while we
    make a new decision". (Copied from the reviewers'
    tests/_review_decisions/test_decision_week.py.)"""
    case, request = _scottish_case_refused_at_conclusive_grounds(authority, dmitri, sally)
    with time_machine.travel("2026-05-10 10:00:00+00:00", tick=False):
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="The police statement supports her account.",
            expected_version=fresh(case).version,
        )
    case = fresh(case)
    assert case.status == CaseStatus.RECOVERY_PERIOD
    assert case.support_ends is not None
    assert case.support_ends < date(2026, 5, 10)
    letter = Letter.objects.get(reconsideration=request)
    assert "your support continues" not in _words(letter).next


def test_scotland_accepted_reconsideration_letter_states_the_s9_end_recorded(
    authority: Organisation, dmitri: User, sally: User
) -> None:
    """Sally accepts the same reconsideration, for an English reader, after the s.9 end. The
    letter should state the end the service recorded (4 April 2026: 90 days beginning with
    5 January), say that support under the 2015 Act is counted from the reasonable grounds
    decision and has ended if that day is before the letter's, and whom to ask about support
    now; and still that a new decision will be made."""
    case, request = _scottish_case_refused_at_conclusive_grounds(authority, dmitri, sally)
    _reads(case, "en")
    with time_machine.travel("2026-05-10 10:00:00+00:00", tick=False):
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="The police statement supports her account.",
            expected_version=fresh(case).version,
        )
    assert fresh(case).support_ends == date(2026, 4, 4)
    letter = Letter.objects.get(reconsideration=request)
    words = _words(letter)
    assert words.language == "en"
    assert "4 April 2026" in words.next
    assert "(Scotland) Act 2015" in words.next
    assert "has already ended" in words.next
    assert "what support you can get now" in words.next
    assert "new decision" in words.next
    assert letter.dates_stated == {"support_ends": "2026-04-04"}


def test_scotland_accepted_disqualification_reconsideration_does_not_promise_support(
    authority: Organisation, dmitri: User, sally: User
) -> None:
    """The same holds for a disqualification: Sally accepts, more than 90 days after the
    positive reasonable grounds decision, a reconsideration of a Scottish disqualification. The
    s.9 end the service records again has passed; the letter should state it, not say "your
    support continues"."""
    with time_machine.travel("2026-01-05 10:00:00+00:00", tick=False):
        case = positive_rg(_reads(case_factories.referred_in_scotland(authority), "en"), dmitri)
    with time_machine.travel("2026-02-10 10:00:00+00:00", tick=False):
        drafted = services.decision_disqualify(
            by=dmitri,
            case=fresh(case),
            reasons="A claim made in bad faith.",
            ground="bad_faith",
            expected_version=fresh(case).version,
        )
        services.decision_approve(by=sally, decision=drafted, approve=True)
        assert fresh(case).status == CaseStatus.DISQUALIFIED
        fiona = User.objects.get(email="fiona@example.org")
        request = services.reconsideration_request(
            by=fiona,
            case=fresh(case),
            grounds="New evidence.",
            expected_version=fresh(case).version,
        )
    with time_machine.travel("2026-05-10 10:00:00+00:00", tick=False):
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="The claim was made in good faith.",
            expected_version=fresh(case).version,
        )
    case = fresh(case)
    assert case.status == CaseStatus.RECOVERY_PERIOD
    assert case.support_ends == date(2026, 4, 4)
    words = _words(Letter.objects.get(reconsideration=request))
    assert "your support continues" not in words.next
    assert "4 April 2026" in words.next
    assert "protection of the recovery period again" in words.next
