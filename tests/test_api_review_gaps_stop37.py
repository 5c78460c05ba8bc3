"""Review gaps of the API found while fixing other defects (stop 37)."""

from __future__ import annotations

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.cases.selectors import DRAFT_EVENT_KINDS
from opennrm.decisions import services

from . import api_helpers
from .decision_helpers import fresh


def test_the_timeline_api_shows_the_referrer_no_entry_about_a_draft_decision(
    case: Case,
    alice: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A negative decision waiting for a second decision maker's approval, or refused it, is a
    draft of the competent authority: the case page hides it, and its timeline entries, from
    all but the authority's decision makers (ADR 0017, addendum 2026-12-05, stop 37). The
    referrer's case-management system reading `GET /api/v1/cases/{reference}/timeline` was still
    given "decision.awaiting_approval" and "decision.not_approved", so a first responder could
    tell Zorica she had been refused before any decision existed. Cause: cases/api.py returned
    every event to every reader."""
    first = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="not_credible",
        reasons="Not credible.",
        expected_version=fresh(case).version,
    )
    services.decision_approve(by=sally, decision=first, approve=False, note="Ask for more.")
    second = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="not_credible",
        reasons="Still not credible.",
        expected_version=fresh(case).version,
    )
    services.decision_approve(by=sally, decision=second, approve=True)
    url = f"/api/v1/cases/{case.reference}/timeline"

    def kinds(user: User, organisation: Organisation) -> list[str]:
        _, secret = api_helpers.token(user, organisation, [api_helpers.CASES_READ])
        response = api_helpers.client_with(secret).get(url)
        assert response.status_code == 200
        return [entry["kind"] for entry in response.json()["timeline"]]

    referrers = kinds(alice, northmoor_police)
    assert "case.status_changed" in referrers, "the decision that took effect is everyone's"
    assert not set(referrers) & set(DRAFT_EVENT_KINDS), referrers
    deciders = kinds(dmitri, authority)
    assert "decision.awaiting_approval" in deciders
    assert "decision.not_approved" in deciders
