"""Draft decisions never reach the referrer through the referrals API (found reviewing stop 37)."""

from __future__ import annotations

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.cases.selectors import DRAFT_EVENT_KINDS
from opennrm.decisions import services

from . import api_helpers
from .decision_helpers import fresh


def test_the_referrals_api_timeline_gives_the_referrer_no_entry_about_a_draft_decision(
    case: Case, alice: User, dmitri: User, sally: User, northmoor_police: Organisation
) -> None:
    """ADR 0017's stop-37 addendum says a negative decision waiting for a second decision
    maker's approval (or refused it), "and the timeline's entries about them, are now shown
    only to the competent authority's decision makers". The referrer's own endpoint,
    `GET /api/v1/referrals/{reference}` ("Follow one referral"), still returns every timeline
    entry: "decision.awaiting_approval" with its description "Reasonable grounds decision
    (Not reasonable grounds) waiting for approval". The police force's case-management system
    shows it to the officer, who can tell the person she has been refused before any decision
    exists (and one the second decision maker then refuses never will). Cause:
    referrals/api.py `CaseDetailOut.resolve_timeline` returns `case.events.all()`; fix: leave
    out `DRAFT_EVENT_KINDS` for anyone who does not decide for the case's authority (as
    pages/case_page.py does)."""
    services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="not_credible",
        reasons="Not credible.",
        expected_version=fresh(case).version,
    )
    _, secret = api_helpers.token(alice, northmoor_police, [api_helpers.READ])
    response = api_helpers.client_with(secret).get(f"{api_helpers.REFERRALS_URL}/{case.reference}")
    assert response.status_code == 200
    timeline = response.json()["timeline"]
    assert case.events.filter(kind="decision.awaiting_approval").exists()
    assert len(timeline) == case.events.exclude(kind__in=DRAFT_EVENT_KINDS).count()
    leaked = [e for e in timeline if e["kind"] in DRAFT_EVENT_KINDS]
    assert not leaked, f"the referrer reads a draft decision: {leaked}"
