"""Reconsideration after its window, and move-on after a refusal (ADR 0017, stop 35).

A request for reconsideration that reaches the competent authority after the window closed (by
letter or e-mail) is taken in by a decision maker only in exceptional circumstances, which they
record (`services.reconsideration_take_late`); it is then decided like any other. And when a
reconsideration of a negative conclusive decision is refused after the move-on period first
given has run out (support runs on while it waits), the move-on period counts again from the
refusal: the letter never states an end already past.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import letters, services
from opennrm.decisions.models import Letter, ReconsiderationRequest

from . import case_factories, factories
from .decision_helpers import fresh, positive_rg

RG_DAY = "2026-03-02 10:00:00+00:00"  # 30 days beginning with 2 March: CG from 1 April
CG_DAY = "2026-04-02 10:00:00+00:00"  # negative CG: 9 working days of move-on, to 17 April
ASKED = "2026-04-03 10:00:00+00:00"  # inside the 30-day window
REFUSED = "2026-04-28 10:00:00+00:00"  # the reconsideration refused, after 17 April


def test_a_refusal_decided_after_the_old_move_on_end_never_states_an_end_already_past(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """The person should be told a date of support still ahead (a move-on period counted
    from the refusal, as the negative decision first gave), never one already gone."""
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(case, dmitri)
    with time_machine.travel(CG_DAY, tick=False):
        case_factories.refused_at_conclusive_grounds(case, decider=dmitri, approver=sally)
    assert fresh(case).move_on_ends == date(2026, 4, 17)
    with time_machine.travel(ASKED, tick=False):
        request = services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="New statement.",
            expected_version=fresh(case).version,
        )
    with time_machine.travel(REFUSED, tick=False):
        services.reconsideration_decide(
            by=dmitri,
            request=request,
            accept=False,
            reasons="The statement adds nothing new.",
            expected_version=fresh(case).version,
        )
    letter = Letter.objects.get(reconsideration=request)
    words = letters.LetterText.from_json(letter.text)
    assert "17 April 2026" not in words.next, words.next
    stated = letter.dates_stated.get("move_on_ends")
    assert stated is None or date.fromisoformat(stated) >= letter.issued_on, (
        stated,
        letter.issued_on,
    )
    ends = fresh(case).move_on_ends
    assert ends is None or ends >= date(2026, 4, 28), ends


REFUSED_RG = "2026-03-02 10:00:00+00:00"  # a negative RG approved: reconsideration until 1 April
LATE = "2026-05-04 10:00:00+00:00"  # a month after the window closed


def refused_at_rg(case: Case, dmitri: User, sally: User) -> Case:
    with time_machine.travel(REFUSED_RG, tick=False):
        return case_factories.refused_at_reasonable_grounds(
            fresh(case), decider=dmitri, approver=sally
        )


def take_late(case: Case, by: User, **changes: object) -> ReconsiderationRequest:
    answers: dict[str, object] = {
        "asked_by": "legal_representative",
        "received_on": date(2026, 4, 30),
        "grounds": "A psychiatric report.",
        "circumstances": "In hospital from before the decision until 20 April.",
    }
    return services.reconsideration_take_late(
        by=by, case=fresh(case), expected_version=fresh(case).version, **(answers | changes)
    )


def test_a_decision_maker_takes_in_a_late_request_and_it_is_decided_like_any_other(
    case: Case, dmitri: User, sally: User
) -> None:
    refused_at_rg(case, dmitri, sally)
    with time_machine.travel(LATE, tick=False):
        request = take_late(case, sally)
        assert fresh(case).status == CaseStatus.RECONSIDERATION
        assert fresh(case).reconsideration_decide_by is not None
        assert request.late
        assert request.late_received_on == date(2026, 4, 30)
        assert request.late_circumstances.startswith("In hospital")
        audit = AuditEvent.objects.get(action="reconsideration.taken_late")
        assert audit.organisation_id == case.competent_authority_id
        services.reconsideration_decide(
            by=dmitri,
            request=request,
            accept=True,
            reasons="The report is new evidence.",
            expected_version=fresh(case).version,
        )
    assert fresh(case).status == CaseStatus.AWAITING_REASONABLE_GROUNDS


def test_a_request_that_reached_the_authority_in_time_is_taken_in_without_circumstances(
    case: Case, dmitri: User, sally: User
) -> None:
    """Until stop 37 a request by letter could not be taken in while the window was open, and
    was judged late by the day it was entered (ADR 0017, addendum 2026-12-05, stop 37)."""
    refused_at_rg(case, dmitri, sally)
    with time_machine.travel("2026-03-20 10:00:00+00:00", tick=False):
        request = take_late(case, sally, received_on=date(2026, 3, 19), circumstances="")
    assert not request.late
    assert request.late_circumstances == ""
    assert fresh(case).status == CaseStatus.RECONSIDERATION


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"circumstances": "  "}, "circumstances", "Enter the exceptional circumstances"),
        ({"asked_by": "a_friend"}, "asked_by", "Select who asked"),
        ({"received_on": date(2026, 5, 5)}, "received_on", "today or earlier"),
        ({"received_on": date(2026, 2, 1)}, "received_on", "before the decision took effect"),
        ({"grounds": ""}, "grounds", "Enter the new evidence"),
    ],
)
def test_a_late_request_needs_who_asked_when_it_came_why_and_the_circumstances(
    case: Case,
    dmitri: User,
    sally: User,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    refused_at_rg(case, dmitri, sally)
    with time_machine.travel(LATE, tick=False):
        with pytest.raises(ValidationError) as refused:
            take_late(case, sally, **changes)
        assert message in " ".join(refused.value.message_dict[field])
        assert fresh(case).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
        assert not ReconsiderationRequest.objects.exists()


def test_only_a_decision_maker_of_the_authority_takes_one_in(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    refused_at_rg(case, dmitri, sally)
    with time_machine.travel(LATE, tick=False), pytest.raises(ValidationError):
        take_late(case, alice)


@pytest.mark.page("cases:reconsideration_take_late")
def test_the_late_request_page(
    case: Case, alice: User, dmitri: User, sally: User, charlie: User
) -> None:
    refused_at_rg(case, dmitri, sally)
    url = reverse("cases:reconsideration_take_late", args=[case.reference])
    detail = reverse("cases:detail", args=[case.reference])
    with time_machine.travel(LATE, tick=False):
        client = factories.signed_in_client(sally)
        assert "Take in a late request for reconsideration" in client.get(detail).content.decode()
        # The referrer, and a stranger, cannot take a request in.
        assert factories.signed_in_client(alice).get(url).status_code == 404
        assert factories.signed_in_client(charlie).get(url).status_code == 404
        assert Client().delete(url).status_code in (302, 405)
        version = fresh(case).version
        html = client.post(
            url,
            {
                "asked_by": "person",
                "received_on_day": "30",
                "received_on_month": "4",
                "received_on_year": "2026",
                "grounds": "A report from the GP.",
                "circumstances": "",
                "expected_version": version,
            },
        ).content.decode()
        assert "Enter the exceptional circumstances for taking the request late" in html
        assert "A report from the GP." in html  # what was typed is kept
        response = client.post(
            url,
            {
                "asked_by": "person",
                "received_on_day": "30",
                "received_on_month": "4",
                "received_on_year": "2026",
                "grounds": "A report from the GP.",
                "circumstances": "She could not read the letter until an interpreter came.",
                "expected_version": version,
            },
        )
        assert response.status_code == 302
        assert response["Location"] == detail
    request = ReconsiderationRequest.objects.get(case=case)
    assert request.late_asked_by == "person"
    assert fresh(case).status == CaseStatus.RECONSIDERATION
    with time_machine.travel(LATE, tick=False):
        # Taken in: no longer offered.
        assert factories.signed_in_client(sally).get(url).status_code == 404


def test_erasure_empties_the_exceptional_circumstances(
    case: Case, dmitri: User, sally: User
) -> None:
    refused_at_rg(case, dmitri, sally)
    with time_machine.travel(LATE, tick=False):
        request = take_late(case, sally)
    services.decision_records_pseudonymise([case.pk])
    request.refresh_from_db()
    assert (request.grounds, request.late_circumstances) == ("", "")
