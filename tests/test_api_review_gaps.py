"""Review gaps of the API (stop 36).

A police force's case-management developer reads docs/api.md and the OpenAPI document at
/api/v1/openapi.json, and finds answers that do not match what they promise; and what the API
keeps of a referral (its idempotency key's fingerprint) is emptied when the person is erased."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from opennrm.accommodation.models import PlacementRequest, PlacementRequestStatus
from opennrm.accounts.models import Organisation, User
from opennrm.api.models import ReferralIdempotencyKey
from opennrm.cases import services as case_services
from opennrm.cases.choices import CloseReason
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.operations import services as operations
from opennrm.operations.models import Operation
from opennrm.referrals.models import ReferralDraft

from . import api_helpers as a
from . import factories
from . import operation_helpers as op
from . import referral_helpers as r

MONDAY = "2026-03-02 10:00:00+00:00"


def _openapi() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        return op.operation(alice, northmoor_police)


def test_the_operation_report_counts_every_person_taken_in_by_standing(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    """The police force's system took a child in during an operation (POST .../reception), and
    the child's draft was later deleted (retention: a child cannot decline). The board page and
    GET .../reception say the child stands `not_referred`, and the report page lists "Not
    referred" among where people stand. But GET /api/v1/operations/{id}/report drops that
    count: `standings` has no `not_referred`, so its counts add up to 0 while `taken_in` is 1
    (StandingsOut lacks the field and pydantic silently ignores it). The report's standings
    should account for everyone taken in: add `not_referred` to the API's StandingsOut (code
    change; the OpenAPI document then lists it too)."""
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=larkspur,
            name_or_description="girl in a blue coat",
            sex="female",
            age_group="child",
        )
    assert record.draft_id is not None
    ReferralDraft.objects.filter(pk=record.draft_id).delete()
    with time_machine.travel(op.AFTER, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=(a.OPERATIONS_READ,))
        api = a.client_with(secret)
        board = api.get(f"/api/v1/operations/{larkspur.id}/reception").json()
        report = api.get(f"/api/v1/operations/{larkspur.id}/report").json()

    assert board["items"][0]["standing"] == "not_referred"
    assert report["taken_in"] == 1
    assert sum(report["standings"].values()) == report["taken_in"], report["standings"]
    assert report["standings"].get("not_referred") == 1


def test_the_openapi_document_lists_the_422_every_operation_can_give(
    alice: User, northmoor_police: Organisation, case: Case
) -> None:
    """docs/api.md's error table says a query string holding a NUL byte is 422, for any
    operation, and the OpenAPI document is "the full reference". The client sent
    GET /api/v1/cases/{reference}?q=%00 and got 422, a status code the OpenAPI entry of
    case_get does not list (nor referral_get, case_timeline, information_request_list,
    support_proposal_list, support_capacity, directory_hsds, statistics_release_list): a
    client generated from the document, or one validating answers against it (as the fuzz test
    does), treats it as undocumented. Like 400 and 413 for bodies, the 422 every operation can
    give before it runs should be added to every operation (code change, in
    OpenNrmApi.get_openapi_schema)."""
    _, secret = a.token(alice, northmoor_police, scopes=(a.CASES_READ, a.READ))
    api = a.client_with(secret)
    answer = api.get(f"/api/v1/cases/{case.reference}?q=%00")
    assert answer.status_code == 422

    document = _openapi()
    missing = sorted(
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "422" not in {str(code) for code in operation["responses"]}
    )
    assert missing == []


def test_fields_the_docs_say_are_always_sent_are_required_in_the_openapi_document() -> None:
    """docs/api.md shows `recovery_period_ends` in every protection answer (a date in the
    recovery period, "and null otherwise", also for an unknown reference), and every queue row
    with `"reconsideration": null, "decision": null`. The answers always carry them, but the
    OpenAPI document marks them optional (a default in the schema), so a client generated from
    it types them as possibly absent. Code change: no default on ProtectionOut's
    recovery_period_ends and QueueRowOut's reconsideration and decision."""
    schemas = _openapi()["components"]["schemas"]
    assert "recovery_period_ends" in schemas["ProtectionOut"]["required"]
    assert "recovery_period_ends" in schemas["PlannedRemovalOut"]["required"]
    assert "reconsideration" in schemas["QueueRowOut"]["required"]
    assert "decision" in schemas["QueueRowOut"]["required"]


def test_the_openapi_description_names_every_scope() -> None:
    """The OpenAPI document's description lists the scopes a token carries, but not
    `protection:check` (nor does it say that immigration enforcement can check protection
    from removal), while docs/api.md's scope table has it and two operations need it. Doc
    change: add `protection:check` and the protection checks to DESCRIPTION in
    src/opennrm/api/urls.py."""
    description = _openapi()["info"]["description"]
    assert "`protection:check`" in description


def test_suspended_lists_nothing_in_the_approvals_queue(
    case: Case, dmitri: User, sally: User, authority: Organisation
) -> None:
    """docs/api.md: `suspended=true` lists the suspended cases of the reasonable grounds queue
    "(nothing in the others)". The authority's workflow system asked every queue with
    `suspended=true` to find the cases suspended while the person was missing, and
    GET /api/v1/queues/approvals?suspended=true answered with every decision waiting for
    approval, as if the filter were not there. Either the code should answer an empty page
    (as it does for the conclusive grounds and reconsiderations queues) or the doc should
    say the approvals queue ignores every filter; the first keeps one rule for clients."""
    with time_machine.travel(MONDAY, tick=False):
        decision = decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="x",
            expected_version=case.version,
        )
        assert decision.state == "awaiting_approval"
        _, secret = a.token(sally, authority, scopes=(a.DECISIONS_READ,))
        api = a.client_with(secret)
        conclusive = api.get("/api/v1/queues/conclusive-grounds?suspended=true").json()
        approvals = api.get("/api/v1/queues/approvals?suspended=true").json()

    assert conclusive == {"items": [], "count": 0}
    assert approvals == {"items": [], "count": 0}


def test_erasure_empties_the_fingerprint_of_the_referrals_idempotency_key(
    alice: User, dmitri: User, dpo: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    """A referral sent with `POST /api/v1/referrals` and an `Idempotency-Key` keeps the key and a
    keyed hash of all the answers, the person's name included (`api.ReferralIdempotencyKey`).
    Erasing the person empties the hash, as it does the fingerprint of a person taken in during
    an operation: the key stays, so a retry with it still never makes a second case."""
    _, secret = a.token(alice, northmoor_police)
    sent = a.post_referral(a.client_with(secret), r.ADULT_REFERRAL, idempotency_key="sync-4711")
    assert sent.status_code == 201, sent.content
    case = Case.objects.get(reference=sent.json()["reference"])
    assert ReferralIdempotencyKey.objects.get(draft__case=case).fingerprint != ""
    PlacementRequest.objects.filter(case=case).update(status=PlacementRequestStatus.WITHDRAWN)
    closed_at = datetime(2027, 5, 3, 10, 0, tzinfo=timezone.get_fixed_timezone(0))
    with time_machine.travel(closed_at, tick=False):
        decisions.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="withdrawn", reasons="Left.", expected_version=1
        )
        case.refresh_from_db()
        case_services.case_close(
            by=dmitri, case=case, reason=CloseReason.LEFT, expected_version=case.version
        )
    with time_machine.travel(datetime(2027, 6, 1, 12, 0, tzinfo=timezone.get_fixed_timezone(0))):
        erasure = factories.person_erased(
            case.person,
            recorded_by=dpo,
            request_reference="DPR-2027-0001",
            request_received_on=date(2027, 5, 20),
        )

    key = ReferralIdempotencyKey.objects.get(draft__case=case)
    assert (key.key, key.fingerprint) == ("sync-4711", "")
    assert erasure.removed["referral_idempotency_fingerprints"] == 1
