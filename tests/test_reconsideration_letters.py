"""A reconsideration decided is written to the person: refused (the decision stands, with the
reasons and the judicial review route) or accepted (a new decision follows), frozen as every
letter is, beside the letter of the decision reconsidered (ADR 0017, addendum of 2026-12-05)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, PersonIdentity
from opennrm.decisions import letters, services
from opennrm.decisions.models import (
    Decision,
    DecisionState,
    Letter,
    ReconsiderationRequest,
)
from opennrm.privacy.selectors import subject_access_data

from . import case_factories, factories
from .decision_helpers import fresh, positive_rg

RG_DAY = "2026-03-02 10:00:00+00:00"  # recovery period ends 31 March; CG from 1 April
CG_DAY = "2026-04-02 10:00:00+00:00"
ASKED = "2026-04-03 10:00:00+00:00"
DECIDED = "2026-04-07 10:00:00+00:00"
EXTENDED = "2026-04-08 10:00:00+00:00"
LONG_AGO = timezone.now() - timedelta(days=60)
REASONS = "The new statement adds nothing to the account already weighed."


def _english(case: Case) -> Case:
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    return case


def _recovery_case(alice: User, org: Organisation, authority: Organisation, **kw: object) -> Case:
    """An English speaker in the recovery period, referred long enough ago to be decided."""
    return _english(
        case_factories.case(
            referred_by=alice,
            referring_organisation=org,
            authority=authority,
            status=CaseStatus.RECOVERY_PERIOD,
            submitted_at=LONG_AGO,
            given_names="Zorica",
            **kw,
        )
    )


def _decide(
    case: Case, alice: User, dmitri: User, *, accept: bool, reasons: str = REASONS
) -> ReconsiderationRequest:
    request = services.reconsideration_request(
        by=alice, case=fresh(case), grounds="New statement.", expected_version=fresh(case).version
    )
    return services.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=accept,
        reasons=reasons,
        expected_version=fresh(case).version,
    )


def _words(request: ReconsiderationRequest) -> letters.LetterText:
    return letters.LetterText.from_json(Letter.objects.get(reconsideration=request).text)


def test_a_refusal_is_written_to_the_person_with_its_reasons_and_the_decision_stands(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    decision = refused.decisions.get(state=DecisionState.IN_EFFECT)
    request = _decide(refused, alice, dmitri, accept=False)
    letter = Letter.objects.get(reconsideration=request)
    assert (letter.decision, letter.kind, letter.issued_by) == (decision, decision.kind, dmitri)
    # Beside the decision's own letter, which is untouched.
    assert Letter.objects.filter(decision=decision).count() == 2
    assert Letter.objects.get(decision=decision, reconsideration__isnull=True).text is not None
    words = _words(request)
    # Albanian has no reconsideration text yet: English, rather than nothing.
    assert words.language == "en"
    assert words.reasons == REASONS
    assert "the decision stands" in words.decision
    assert "not reasonable grounds" in words.decision
    assert "judicial review" in words.next
    assert "legal aid" in words.next
    # No time limit for a judicial review is stated, and no date at all.
    assert "month" not in words.next
    assert letter.dates_stated == {}
    assert "will end" not in words.next
    event = AuditEvent.objects.filter(action="letter.issued").latest("pk")
    assert event.detail == {
        "decision": decision.pk,
        "reconsideration": request.pk,
        "language": "en",
    }


def test_an_accepted_reconsideration_of_reasonable_grounds_says_a_new_decision_will_be_made(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    request = _decide(refused, alice, dmitri, accept=True, reasons="The new evidence matters.")
    words = _words(request)
    assert "no longer stands" in words.decision
    assert "We will make a new decision" in words.next
    assert words.reasons == "The new evidence matters."
    assert "judicial review" not in words.next


def test_a_refused_conclusive_reconsideration_states_when_support_ends(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> None:
    case = case_factories.refused_at_conclusive_grounds(
        _recovery_case(alice, northmoor_police, authority), decider=dmitri, approver=sally
    )
    assert case.move_on_ends is not None
    request = _decide(case, alice, dmitri, accept=False)
    letter = Letter.objects.get(reconsideration=request)
    words = _words(request)
    assert f"will end on {letters.written_date(case.move_on_ends)}" in words.next
    assert letter.dates_stated == {"move_on_ends": case.move_on_ends.isoformat()}
    assert "the decision stands" in words.decision


def test_a_childs_refused_letter_never_says_their_support_ends(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> None:
    case = _recovery_case(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    case = case_factories.refused_at_conclusive_grounds(case, decider=dmitri, approver=sally)
    assert case.is_child
    words = _words(_decide(case, alice, dmitri, accept=False))
    assert "will end" not in words.next
    assert "ends" not in words.next
    assert "children's services keep looking after you" in words.next
    assert "judicial review" in words.next


def test_no_letter_without_the_persons_identity(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    PersonIdentity.objects.filter(person=refused.person).delete()
    request = _decide(refused, alice, dmitri, accept=False)
    assert request.state == "refused"
    assert not Letter.objects.filter(reconsideration=request).exists()


def test_the_letter_stays_as_issued_after_a_later_extension(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """Accepted at conclusive grounds: back in the recovery period, which is then extended.
    The reconsideration's letter keeps its date and words; the extension has its own."""
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(_english(case), dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        case_factories.refused_at_conclusive_grounds(case, decider=dmitri, approver=sally)
    with time_machine.travel(ASKED, tick=False):
        request = services.reconsideration_request(
            by=alice, case=fresh(case), grounds="New.", expected_version=fresh(case).version
        )
    with time_machine.travel(DECIDED, tick=False):
        services.reconsideration_decide(
            by=dmitri,
            request=request,
            accept=True,
            reasons="Medical evidence not weighed.",
            expected_version=fresh(case).version,
        )
    letter = Letter.objects.get(reconsideration=request)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM decisions_letter WHERE id = %s", [letter.pk])
        [before] = cursor.fetchone()
    words = _words(request)
    assert "support continues" in words.next
    assert words.date == "Date of this letter: 7 April 2026"
    with time_machine.travel(EXTENDED, tick=False):
        extension = services.recovery_extend(
            by=dmitri,
            case=fresh(case),
            days=60,
            reasons="Hospital treatment.",
            expected_version=fresh(case).version,
        )
    assert Letter.objects.filter(decision=extension).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM decisions_letter WHERE id = %s", [letter.pk])
        assert cursor.fetchone() == (before,)
    assert _words(request) == words
    # And the database refuses to rewrite it, the new column included.
    other = Decision.objects.exclude(pk=letter.decision_id).first()
    for change in ({"issued_on": extension.decided_at.date()}, {"reconsideration": None}):
        with pytest.raises(DatabaseError, match="never rewritten"), transaction.atomic():
            Letter.objects.filter(pk=letter.pk).update(**change)
    with pytest.raises(DatabaseError, match="never rewritten"), transaction.atomic():
        Letter.objects.filter(pk=letter.pk).update(decision=other)


def test_one_letter_of_the_decision_itself(case: Case, dmitri: User) -> None:
    """The decision's own letter is still one: only a reconsideration's letter sits beside it."""
    decision = services.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="positive", reasons="Credible.", expected_version=1
    )
    original = Letter.objects.get(decision=decision)
    with pytest.raises(DatabaseError), transaction.atomic():
        Letter.objects.create(
            decision=decision,
            case=case,
            kind=decision.kind,
            language="en",
            issued_by=dmitri,
            issued_at=original.issued_at,
            issued_on=original.issued_on,
        )


@pytest.mark.page("decisions:reconsideration_letter")
def test_the_case_page_links_the_letter_and_its_page_shows_it_to_the_case_readers(
    case: Case, alice: User, dmitri: User, sally: User, charlie: User
) -> None:
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    request = _decide(refused, alice, dmitri, accept=False)
    url = reverse("decisions:reconsideration_letter", args=[request.pk])
    case_page = factories.signed_in_client(alice).get(
        reverse("cases:detail", args=[case.reference])
    )
    assert url in case_page.content.decode()
    response = factories.signed_in_client(alice).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The result of looking at our decision again" in page
    assert "Dear Zorica Testova," in page
    assert REASONS in page
    assert "the decision stands" in page
    assert reverse("decisions:reconsideration_letter_pdf", args=[request.pk]) in page
    viewed = AuditEvent.objects.filter(action="person.viewed").latest("pk")
    assert (viewed.actor, viewed.person_id) == (alice, case.person_id)
    assert viewed.detail["fields"] == ["given_names", "decision_reasons"]
    assert viewed.detail["document"]["id"] == request.pk
    # Only what the page takes, and only for those who may see the case.
    assert factories.signed_in_client(alice).post(url).status_code == 405
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    # The decision's own letter still opens as before.
    decision_letter = reverse("decisions:letter", args=[request.decision_id])
    assert factories.signed_in_client(alice).get(decision_letter).status_code == 200


@pytest.mark.page("decisions:reconsideration_letter_pdf")
def test_the_letter_as_a_pdf_is_recorded_as_exported(
    case: Case, alice: User, dmitri: User, sally: User, charlie: User
) -> None:
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    request = _decide(refused, alice, dmitri, accept=False)
    url = reverse("decisions:reconsideration_letter_pdf", args=[request.pk])
    response = factories.signed_in_client(dmitri).get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"reconsideration-{case.reference}-{request.pk}.pdf" in response["Content-Disposition"]
    exported = AuditEvent.objects.get(action="person.exported")
    assert (exported.actor, exported.person_id) == (dmitri, case.person_id)
    assert exported.detail["fields"] == ["given_names", "decision_reasons"]
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    assert factories.signed_in_client(dmitri).post(url).status_code == 405


def test_the_subject_access_export_holds_it_and_erasure_empties_it(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    request = _decide(refused, alice, dmitri, accept=False)
    exported = subject_access_data(refused.person)["cases"][0]["letters"]
    assert [item["decision"] for item in exported] == [
        "Reasonable grounds decision",
        "Reconsideration of the reasonable grounds decision",
    ]
    assert exported[1]["text"]["reasons"] == REASONS
    services.decision_records_pseudonymise([case.pk])
    assert Letter.objects.get(reconsideration=request).text is None
    url = reverse("decisions:reconsideration_letter", args=[request.pk])
    assert factories.signed_in_client(alice).get(url).status_code == 404
    case_page = factories.signed_in_client(alice).get(
        reverse("cases:detail", args=[case.reference])
    )
    assert url not in case_page.content.decode()
