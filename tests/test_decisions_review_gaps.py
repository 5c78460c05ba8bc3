"""Review of the decisions after referral, as a trafficking lawyer and a competent-authority
decision maker would read them. Each test here fails on the code as it stands and names a
defect: see the docstrings for the law and why it matters to the person."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import letters, services
from opennrm.decisions.models import DecisionKind, DecisionState, Letter, ReconsiderationRequest

from . import api_helpers, case_factories, factories
from .decision_helpers import fresh, positive_rg, rg

UTC = timezone.get_fixed_timezone(0)


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


# --- A conclusive decision must not take effect inside an extended recovery period -------------


def test_a_negative_conclusive_decision_cannot_take_effect_inside_a_recovery_period_extended_while_it_waited(
    case: Case, dmitri: User, sally: User
) -> None:
    """`recovery_extend` does not check for a decision waiting for approval (every other
    decision service does, `_check_nothing_awaiting_approval`), and `decision_approve` never
    checks the earliest conclusive date again. So a negative conclusive decision drafted on the
    first possible day, then an extension granted (for hospital treatment, say) while it waits,
    is approved and takes effect in the middle of the recovery period the authority has just
    extended: the person loses the rest of it, their support starts to end (9 working days) and
    their protection from removal hangs on a reconsideration window. FACTS 2.7: a conclusive
    decision is made "no earlier than the end of the minimum recovery period"; CETS 197 Art. 13.
    Either the extension or the approval must be refused."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        drafted = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="insufficient_evidence",
            negative_reason="insufficient_information",
            reasons="Not on the balance of probabilities.",
            expected_version=case.version,
        )
        assert drafted.state == DecisionState.AWAITING_APPROVAL
        case = fresh(case)
        try:
            services.recovery_extend(
                by=dmitri,
                case=case,
                days=30,
                reasons="Admitted to hospital; needs more time to recover.",
                expected_version=case.version,
            )
        except ValidationError:
            return  # refused while a decision waits: the right answer
        case = fresh(case)
        assert case.conclusive_grounds_from > date(2026, 4, 1)
        with pytest.raises(ValidationError):
            services.decision_approve(by=sally, decision=drafted, approve=True)
    assert fresh(case).status == CaseStatus.RECOVERY_PERIOD


# --- A suspended case can never be decided --------------------------------------------------------


def test_a_person_missing_before_the_reasonable_grounds_decision_can_be_decided_once_found(
    case: Case, dmitri: User
) -> None:
    """An RG decision of "suspended" (the person went missing before a decision, FACTS 2.5)
    moves the case to `rg_suspended`. The state table lets a suspended case go back to awaiting
    a decision, or become withdrawn (`cases/state.py`), but no service makes either move: the
    reasonable grounds service refuses anything but `awaiting_rg`, and a suspended case cannot be
    closed either. So a person found again (the care app records their return) can never get a
    reasonable grounds decision, a recovery period or support on this case, and cannot be
    re-referred cleanly while it stays open. Missing people are exactly the trafficked people
    most at risk of re-trafficking (FACTS 4 item 6)."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        rg(case, dmitri, "suspended", "Reported missing from her accommodation before a decision.")
        assert fresh(case).status == CaseStatus.RG_SUSPENDED
    with time_machine.travel(at(date(2026, 3, 20)), tick=False):
        # She is found and back in touch: the decision maker decides.
        rg(case, dmitri, "positive", "Found; account given and credible.")
    assert fresh(case).status == CaseStatus.RECOVERY_PERIOD


def test_a_suspended_case_can_be_withdrawn_when_the_person_has_left_the_country(
    case: Case, dmitri: User
) -> None:
    """The state table allows `rg_suspended` -> `rg_withdrawn` (a missing person later known
    to have left the UK), but the reasonable grounds service refuses every outcome on a
    suspended case, so the move is unreachable and the case can never be closed."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        rg(case, dmitri, "suspended", "Missing before a decision.")
    with time_machine.travel(at(date(2026, 3, 20)), tick=False):
        rg(case, dmitri, "withdrawn", "Confirmed to have left the UK.")
    assert fresh(case).status == CaseStatus.RG_WITHDRAWN


# --- A presumed child later found an adult loses the adult's support clocks ----------------------


def test_a_presumed_child_found_an_adult_after_a_positive_conclusive_decision_gets_adult_move_on(
    alice: User,
    dmitri: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A positive conclusive decision for a presumed child (age disputed) rightly starts no
    adult move-on period (ADR 25). But when the local authority's age assessment then finds the
    person an adult, nothing computes the move-on end the decision would have given an adult:
    `move_on_ends` stays empty for good. An adult recognised as a victim is entitled to at
    least 45 days of move-on support under the victim care contract (FACTS 2.8); with no date,
    no move-on reminder is sent (`care.reminders`), the case page shows no move-on clock and the
    case can be closed as "support ended" at once (`cases.services.support_running`). ADR 25
    handles the opposite direction (an adult's date is kept, not cleared) but not this one."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=AgeGroup.PRESUMED_CHILD,
        )
        case = positive_rg(case, dmitri)
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="recognised_trafficking",
            reasons="Balance of probabilities met.",
            expected_version=case.version,
        )
        assert fresh(case).move_on_ends is None  # right for a presumed child
    from opennrm.safeguarding import services as safeguarding

    with time_machine.travel(at(date(2026, 4, 10)), tick=False):
        case = fresh(case)
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="adult",
            assessed_on=date(2026, 4, 9),
            reasons="Merton-compliant assessment: 24 years old.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.age_group == AgeGroup.ADULT
    # 45 calendar days after the positive conclusive decision of 1 April 2026.
    assert case.move_on_ends == date(2026, 5, 16)


def test_a_scottish_presumed_child_found_an_adult_during_the_recovery_period_gets_s9_support(
    alice: User,
    dmitri: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Scotland's 2015 Act s.9 gives an adult 90 days of support from the positive reasonable
    grounds decision (FACTS 2.8). A presumed child gets none (right: children's services look
    after them). When an age assessment finds the person an adult while the recovery period
    still runs, `support_ends` is never computed, so the adult has no s.9 period on record: the
    case page shows none and the support reminders never warn of its end."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=AgeGroup.PRESUMED_CHILD,
        )
        Case.objects.filter(pk=case.pk).update(jurisdiction="scotland")
        case = positive_rg(fresh(case), dmitri)
        assert case.support_ends is None  # right for a presumed child
    from opennrm.safeguarding import services as safeguarding

    with time_machine.travel(at(date(2026, 3, 10)), tick=False):
        case = fresh(case)
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="adult",
            assessed_on=date(2026, 3, 9),
            reasons="Merton-compliant assessment: 22 years old.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.age_group == AgeGroup.ADULT
    assert case.status == CaseStatus.RECOVERY_PERIOD
    # 2 March 2026 is day 1 of 90.
    assert case.support_ends == date(2026, 5, 30)


def test_a_scottish_adults_s9_support_is_not_left_ended_when_the_negative_conclusive_decision_is_reopened(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    """Scotland's s.9 support lasts 90 days from the positive reasonable grounds decision "or
    until the conclusive grounds decision if that is sooner" (FACTS 2.8). A negative conclusive
    decision cuts `support_ends` to its own day. When a reconsideration of it is accepted, the
    decision no longer stands (it is superseded) and the person is back in the recovery
    period awaiting a conclusive decision; the service clears the move-on end for that reason
    (`reconsideration_decide`), but leaves `support_ends` at the superseded decision's day. The
    case page then shows the Scottish support as ended, the support reminders treat it as over,
    while the 90 days (to 30 May 2026) have not run out and no conclusive decision stands."""
    Case.objects.filter(pk=case.pk).update(jurisdiction="scotland")
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = positive_rg(fresh(case), dmitri)
        assert case.support_ends == date(2026, 5, 30)
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        drafted = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="insufficient_evidence",
            negative_reason="insufficient_information",
            reasons="Not on the balance of probabilities.",
            expected_version=case.version,
        )
        services.decision_approve(by=sally, decision=drafted, approve=True)
        assert fresh(case).support_ends == date(2026, 4, 1)
    with time_machine.travel(at(date(2026, 4, 6)), tick=False):
        request = services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="Medical evidence the decision did not consider.",
            expected_version=fresh(case).version,
        )
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="The evidence is new and material.",
            expected_version=fresh(case).version,
        )
    case = fresh(case)
    assert case.status == CaseStatus.RECOVERY_PERIOD
    assert case.support_ends == date(2026, 5, 30)


def test_a_suspended_case_is_not_suspended_again_and_an_extension_waits_for_approvals(
    case: Case, dmitri: User
) -> None:
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        rg(case, dmitri, "suspended", "Missing before a decision.")
        with pytest.raises(ValidationError, match="already suspended"):
            services.decision_record_reasonable_grounds(
                by=dmitri,
                case=fresh(case),
                outcome="suspended",
                reasons="Still missing.",
                expected_version=fresh(case).version,
            )
        assert (
            services.decision_refusal(
                case=fresh(case), stage=services.DecisionKind.REASONABLE_GROUNDS
            )
            is None
        )


# --- Letters and reconsiderations, reviewed as a decision maker working a queue, as the lawyer --
# --- of a potential victim, and as the person reading the letter (stop 37) ----------------------

LONDON = ZoneInfo("Europe/London")


def _english(case: Case) -> Case:
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    return case


def test_a_childs_disqualification_letter_tells_them_childrens_services_keep_looking_after_them(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> None:
    """A 15-year-old (or a person whose age is disputed, treated as a child) is disqualified on
    public-order grounds (NABA s.63). Every other letter a child can get has a child's text
    saying children's services keep looking after them whatever the decision, including the
    letter refusing a reconsideration of this very disqualification
    (`reconsideration.refused.disqualification.child`). The disqualification letter itself has
    no child's text, so the child is sent the adult's words: "you can no longer receive the
    protection of the recovery period" and nothing else, which reads to a child as losing the
    safe place they live in. Cause: letter_texts/en.json has no
    `disqualification.negative.child`; `letters._texts_for` falls back to the adult's text."""
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        case = _english(
            case_factories.case(
                referred_by=alice,
                referring_organisation=northmoor_police,
                authority=authority,
                age_group=AgeGroup.CHILD,
                given_names="Mira",
            )
        )
        case = positive_rg(case, dmitri)
        drafted = services.decision_disqualify(
            by=dmitri, case=case, reasons="Serious offence.", expected_version=case.version
        )
        services.decision_approve(by=sally, decision=drafted, approve=True)
    assert fresh(case).status == CaseStatus.DISQUALIFIED
    letter = Letter.objects.get(decision=drafted, reconsideration__isnull=True)
    words = letters.LetterText.from_json(letter.text)
    assert "children's services" in words.next, (
        "a child's disqualification letter says only: " + words.decision + " " + words.next
    )
    assert "1 April 2026" in words.next  # still told until when to ask again


def test_a_childs_negative_reasonable_grounds_letter_says_childrens_services_keep_looking_after_them(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> None:
    """The same gap at reasonable grounds: a child refused there was sent the adult's words."""
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        case = _english(
            case_factories.case(
                referred_by=alice,
                referring_organisation=northmoor_police,
                authority=authority,
                age_group=AgeGroup.PRESUMED_CHILD,
            )
        )
        refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    letter = Letter.objects.get(case=refused, reconsideration__isnull=True)
    words = letters.LetterText.from_json(letter.text)
    assert "children's services keep looking after you" in words.next
    assert "1 April 2026" in words.next


def _refused_rg_on_2_march(case: Case, dmitri: User, sally: User) -> Case:
    # A negative RG approved on 2 March 2026: reconsideration may be asked until 1 April.
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        refused = case_factories.refused_at_reasonable_grounds(
            fresh(case), decider=dmitri, approver=sally
        )
    assert refused.reconsideration_until == date(2026, 4, 1)
    return refused


def test_a_referrer_who_sends_the_reconsideration_form_just_after_midnight_is_told_why_not_given_a_404(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """The first responder opens "Ask for reconsideration" on the last day of the window
    (1 April), types the grounds (a psychiatric report) and sends it at 00:05 on 2 April. The
    page answers 404 "not found": the grounds typed are lost, and the referrer is never told
    what the service was written to tell them (ADR 0017, addendum 2026-12-05): that the time
    has passed, that the competent authority takes a late request in exceptional
    circumstances, and how. Cause: decisions.views.reconsideration_request raises Http404
    whenever `may_request_reconsideration` is false (the window shut), before the service can
    refuse with its message. Fix: 404 only someone who is not the referrer; let
    `services.reconsideration_request` refuse the rest, showing the form with what was typed."""
    refused = _refused_rg_on_2_march(case, dmitri, sally)
    url = reverse("cases:reconsideration_request", args=[refused.reference])
    client = factories.signed_in_client(alice)
    with time_machine.travel(datetime(2026, 4, 1, 23, 40, tzinfo=LONDON), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(datetime(2026, 4, 2, 0, 5, tzinfo=LONDON), tick=False):
        response = client.post(
            url,
            {
                "grounds": "A psychiatric report dated 30 March explains the gaps in her account.",
                "expected_version": refused.version,
            },
        )
    assert response.status_code == 200, (
        f"the referrer got {response.status_code} and lost what they typed"
    )
    html = response.content.decode()
    assert "exceptional circumstances" in html
    assert "A psychiatric report dated 30 March" in html
    assert fresh(case).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
    assert not ReconsiderationRequest.objects.exists()


def test_after_the_window_nobody_but_the_referrer_learns_anything_from_the_request_form(
    case: Case, alice: User, charlie: User, dmitri: User, sally: User
) -> None:
    """Who is not the referrer is still not found, before and after the window; the form is
    not offered to the referrer once it has shut (only a request sent is answered)."""
    refused = _refused_rg_on_2_march(case, dmitri, sally)
    url = reverse("cases:reconsideration_request", args=[refused.reference])
    sent = {"grounds": "New evidence.", "expected_version": refused.version}
    with time_machine.travel(datetime(2026, 4, 2, 0, 5, tzinfo=LONDON), tick=False):
        for outsider in (charlie, dmitri):
            assert factories.signed_in_client(outsider).post(url, sent).status_code == 404
        assert factories.signed_in_client(alice).get(url).status_code == 404
    with time_machine.travel(datetime(2026, 3, 20, 10, tzinfo=LONDON), tick=False):
        assert factories.signed_in_client(charlie).post(url, sent).status_code == 404


def test_a_support_provider_who_sends_the_form_after_the_window_is_told_why(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """The same on the support plan's form (`care.views.reconsideration_request`)."""
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        case = case_factories.refused_while_housed(
            alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
        )
    url = reverse("support:reconsideration_request", args=[case.reference])
    client = factories.signed_in_client(maya)
    with time_machine.travel(datetime(2026, 4, 2, 0, 5, tzinfo=LONDON), tick=False):
        assert client.get(url).status_code == 404  # not offered any more
        response = client.post(
            url, {"grounds": "She has told us more about the work.", "expected_version": 1}
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "exceptional circumstances" in html
    assert "She has told us more about the work." in html
    assert not ReconsiderationRequest.objects.exists()


def test_a_request_that_reached_the_authority_in_time_is_not_treated_as_late(
    case: Case, dmitri: User, sally: User
) -> None:
    """The person's solicitor writes to the competent authority asking for reconsideration; the
    letter arrives on 31 March, inside the 30-day window (until 1 April). A request by letter
    can only be entered through "take in a late request", and that page refuses anything while
    the window is open, so the decision maker enters it on 3 April, with the day it arrived,
    31 March. OpenNRM then refuses it unless "exceptional circumstances for taking the request
    late" are recorded, and marks it late: a request made in time is held to the exceptional
    test (the decision maker, having none to record, may turn it away), and the record says it
    was late when it was not. Cause: decisions.services.reconsideration_take_late judges
    lateness by today (`_today() <= until`) and always requires circumstances, never by
    `received_on`, which it records. Fix: a request received on or before
    `reconsideration_until` is in time: no circumstances needed, not marked late."""
    _refused_rg_on_2_march(case, dmitri, sally)
    with time_machine.travel(datetime(2026, 4, 3, 10, tzinfo=LONDON), tick=False):
        services.reconsideration_take_late(
            by=sally,
            case=fresh(case),
            asked_by="legal_representative",
            received_on=date(2026, 3, 31),
            grounds="A psychiatric report explains the gaps in her account.",
            circumstances="",
            expected_version=fresh(case).version,
        )
    request = ReconsiderationRequest.objects.get(case=case)
    assert fresh(case).status == CaseStatus.RECONSIDERATION
    assert request.decision.kind == DecisionKind.REASONABLE_GROUNDS
    assert not request.late
    assert (request.late_asked_by, request.late_received_on) == (
        "legal_representative",
        date(2026, 3, 31),
    )
    assert AuditEvent.objects.filter(action="reconsideration.taken_in").count() == 1


def test_a_request_by_letter_is_taken_in_while_the_window_is_open_and_never_from_the_future(
    case: Case, dmitri: User, sally: User
) -> None:
    """A letter that arrives while the window is open is entered at once, from the case page;
    a day it arrived still to come is refused, saying so; one that arrived after the last day
    still needs the exceptional circumstances, the day it arrived deciding, not today."""
    _refused_rg_on_2_march(case, dmitri, sally)
    url = reverse("cases:reconsideration_take_late", args=[case.reference])
    detail = reverse("cases:detail", args=[case.reference])
    with time_machine.travel(datetime(2026, 4, 3, 10, tzinfo=LONDON), tick=False):
        with pytest.raises(ValidationError) as refused:
            services.reconsideration_take_late(
                by=sally,
                case=fresh(case),
                asked_by="person",
                received_on=date(2026, 4, 2),
                grounds="A report.",
                circumstances="",
                expected_version=fresh(case).version,
            )
        assert "it reached you after 1 April 2026" in " ".join(
            refused.value.message_dict["circumstances"]
        )
    with time_machine.travel(datetime(2026, 3, 20, 10, tzinfo=LONDON), tick=False):
        client = factories.signed_in_client(sally)
        assert "Take in a request for reconsideration sent by letter or e-mail" in (
            client.get(detail).content.decode()
        )
        assert client.get(url).status_code == 200
        answers = {
            "asked_by": "person",
            "received_on_day": "21",
            "received_on_month": "3",
            "received_on_year": "2026",
            "grounds": "A report from the GP.",
            "circumstances": "",
            "expected_version": fresh(case).version,
        }
        html = client.post(url, answers).content.decode()
        assert "must be today or earlier" in html
        assert "A report from the GP." in html
        response = client.post(url, answers | {"received_on_day": "19"})
        assert response.status_code == 302
    request = ReconsiderationRequest.objects.get(case=case)
    assert (request.late, request.late_received_on) == (False, date(2026, 3, 19))
    assert fresh(case).status == CaseStatus.RECONSIDERATION


PDF = b"%PDF-1.7\n% a psychiatric report about Zorica\n%%EOF"


def test_evidence_sent_with_a_request_refused_as_stale_is_not_left_on_disk(
    case: Case, alice: User, dmitri: User, sally: User, settings, tmp_path
) -> None:
    """While the referrer fills in "Ask for reconsideration" with Zorica's psychiatric report,
    a decision maker assigns the case (its version moves on). The referrer's request is refused
    ("This case changed while you were working on it ... submit again") and rolled back, but
    the report had already been written, encrypted, to the evidence folder: it stays there with
    no row pointing at it, so no page can serve it, nothing lists it, and erasing Zorica's
    details never deletes it (ADR 0014: erasure must reach every copy; ADR 0017 keeps letters,
    not uploads). Each stale submission, and each retry with the files chosen again, leaves
    another copy. Cause: decisions.services._reconsideration_open saves the file
    (`evidence.file.save`) before `case_transition` claims the case's version; nothing deletes
    it when the transaction rolls back. Fix: claim the version before writing files, or delete
    the written files when the transaction does not commit."""
    settings.PRIVATE_FILES_DIR = tmp_path
    refused = _refused_rg_on_2_march(case, dmitri, sally)
    seen_version = refused.version
    with time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=LONDON), tick=False):
        services.case_assign(
            by=sally, case=fresh(case), assignee=dmitri, expected_version=seen_version
        )
        with pytest.raises(ValidationError, match="changed while you were working on it"):
            services.reconsideration_request(
                by=alice,
                case=refused,
                grounds="A psychiatric report explains the gaps in her account.",
                expected_version=seen_version,
                uploads=[SimpleUploadedFile("Zorica psychiatric report.pdf", PDF)],
                max_bytes=10**6,
            )
    assert not ReconsiderationRequest.objects.exists()
    left = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert left == [], f"evidence files left on disk with no record: {left}"


def test_evidence_written_before_a_later_failure_is_deleted_too(
    case: Case, alice: User, dmitri: User, sally: User, settings, tmp_path, monkeypatch
) -> None:
    """Files are written after the version is claimed; should anything after them fail (the
    notification, say), they are deleted as the transaction rolls back."""
    settings.PRIVATE_FILES_DIR = tmp_path
    refused = _refused_rg_on_2_march(case, dmitri, sally)

    def broken(**_: object) -> None:
        raise RuntimeError("the notification could not be stored")

    monkeypatch.setattr(services, "deliver", broken)
    with (
        time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=LONDON), tick=False),
        pytest.raises(RuntimeError),
    ):
        services.reconsideration_request(
            by=alice,
            case=refused,
            grounds="A psychiatric report.",
            expected_version=refused.version,
            uploads=[SimpleUploadedFile("report.pdf", PDF)],
            max_bytes=10**6,
        )
    assert not ReconsiderationRequest.objects.exists()
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_the_referrer_does_not_see_a_negative_decision_that_has_not_been_approved(
    case: Case, alice: User, dmitri: User
) -> None:
    """A negative decision takes effect only when a second decision maker approves it
    (profile `negative_decisions_need_second_approval`; the decision page says so). Until then
    it is a draft of the competent authority, and it may never be approved. Yet the case page
    of the first responder who referred Zorica lists it, "Reasonable grounds decision:
    Negative", with the drafter's reasons in full ("her account is not credible"), and keeps
    showing a draft the approver refused. The referrer, who explains decisions to the person,
    can tell her she has been refused before any decision exists, and a police referrer holds a
    credibility finding the authority never made. Cause: pages/case_page.py passes
    `case.decisions` (every state) to templates/cases/detail.html for every reader; only those
    who decide should see drafts and refused drafts (the API's `case_get` does the same)."""
    draft_reasons = "Her account of the car wash is not credible: the dates do not fit."
    services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="not_credible",
        reasons=draft_reasons,
        expected_version=fresh(case).version,
    )
    assert fresh(case).status == CaseStatus.AWAITING_REASONABLE_GROUNDS  # nothing in effect
    page = factories.signed_in_client(alice).get(reverse("cases:detail", args=[case.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "not credible: the dates do not fit" not in html, (
        "the referrer reads the reasons of a negative decision not yet approved"
    )
    assert "waiting for approval" not in html  # nor the timeline's entry about the draft
    # The decision makers see it, marked as waiting for approval.
    theirs = factories.signed_in_client(dmitri).get(reverse("cases:detail", args=[case.reference]))
    assert "not credible: the dates do not fit" in theirs.content.decode()
    assert "Waiting for a second decision maker&#39;s approval" in theirs.content.decode()


def test_the_api_shows_the_referrer_no_draft_and_the_authority_every_one(
    case: Case,
    alice: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """`GET /api/v1/cases/{reference}`, as the case page: a draft refused approval, and the one
    waiting, are the decision makers' only; the decision in effect is everyone's."""
    first = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="not_credible",
        reasons="Not credible.",
        expected_version=fresh(case).version,
    )
    services.decision_approve(by=sally, decision=first, approve=False, note="Ask for more.")
    services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="not_credible",
        reasons="Still not credible.",
        expected_version=fresh(case).version,
    )
    url = f"/api/v1/cases/{case.reference}"

    def states(user: User, organisation: Organisation) -> list[str]:
        _, secret = api_helpers.token(user, organisation, api_helpers.EVERY_SCOPE)
        body = api_helpers.client_with(secret).get(url).json()
        return [d["state"] for d in body["decisions"]]

    assert states(alice, northmoor_police) == []
    assert states(dmitri, authority) == ["approval_refused", "awaiting_approval"]
