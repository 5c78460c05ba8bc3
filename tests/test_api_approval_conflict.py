"""Approving a decision while someone else changes the case answers 409, the status its OpenAPI
entry declares (docs/api.md: "409: the case changed ... nothing was written"), never a server
error."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db.models import F

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.decisions import services as decision_services

from . import api_helpers as a

MONDAY = "2026-03-02 10:00:00+00:00"


def _declared(client: Any, path: str, method: str) -> set[str]:
    document = client.get("/api/v1/openapi.json").json()
    return {str(status) for status in document["paths"][path][method]["responses"]}


@time_machine.travel(MONDAY, tick=False)
def test_approving_a_decision_while_the_case_changes_answers_a_declared_status(
    case: Case, dmitri: User, sally: User, authority: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sally's workflow system approves Dmitri's negative reasonable grounds decision at the
    moment someone else changes the case (an assignment, an age dispute). `decision_approve`
    reads the case's version when it locks the decision, not the case, so the move the
    approval makes claims a stale version and `case_transition` raises `CaseChanged`; the API
    handler returns 409 (`schemas.refusal`), but the route declares only 200, 404 and 422 (and
    the auth errors), so ninja raises ConfigError and the client gets a 500 server error, not
    the documented "409: the case changed ... nothing was written" (docs/api.md, Errors) that
    tells it to read the case again and retry. Expected: 409, listed in the operation's
    OpenAPI entry."""
    decision = decision_services.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        reasons="Reasons given.",
        negative_reason="no_purpose",
        expected_version=case.version,
    )
    assert decision.state == "awaiting_approval"

    real_check = decision_services._check_reason_still_fits

    def someone_else_changes_the_case(checked: Any) -> None:
        # A concurrent write to the case lands between the decision's lock and the move.
        Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
        real_check(checked)

    monkeypatch.setattr(
        decision_services, "_check_reason_still_fits", someone_else_changes_the_case
    )
    _, secret = a.token(sally, authority, a.EVERY_SCOPE)
    client = a.client_with(secret, raise_request_exception=False)
    response = a.post_json(client, f"/api/v1/decisions/{decision.pk}/approval", {"approve": True})

    assert response.status_code == 409, response.content
    declared = _declared(client, "/api/v1/decisions/{decision_id}/approval", "post")
    assert str(response.status_code) in declared, (response.status_code, sorted(declared))
