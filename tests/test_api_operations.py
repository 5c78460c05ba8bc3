"""The operations API (issue 14, item 8): the operations a token's member may see, one of them,
and planning one, with the pages' rules (ADR 0039)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.operations import services
from opennrm.operations.models import Operation

from . import api_helpers as a
from . import factories
from . import operation_helpers as op

URL = "/api/v1/operations"
READ = (a.OPERATIONS_READ,)
WRITE = (a.OPERATIONS_READ, a.OPERATIONS_WRITE)


def _plan(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Operation Larkspur",
        "confidential": True,
        "starts_on": "2027-03-10",
        "ends_on": "2027-03-16",
        "region": "north_east",
        "expected": [
            {"sex": "female", "age_group": "adult", "exploitation_type": "sexual", "number": 30},
            {"sex": "female", "age_group": "child", "exploitation_type": "sexual", "number": 3},
        ],
        "languages": ["ro"],
    }
    body.update(changes)
    return body


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=provider, role="support_provider"
        )
    return operation


def test_a_police_token_plans_an_operation(alice: User, northmoor_police: Organisation) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=WRITE)
        response = a.post_json(a.client_with(secret), URL, _plan())
    assert response.status_code == 201, response.content
    body = response.json()
    operation = Operation.objects.get()
    assert body["id"] == operation.id
    assert body["lead_organisation"] == "Northmoor Police"
    assert body["expected_total"] == 33
    assert body["status"] == "planned"
    assert operation.languages == ["ro"]
    assert AuditEvent.objects.filter(action="operation.planned", actor=alice).count() == 1


def test_a_plan_with_mistakes_is_refused_naming_the_fields(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=WRITE)
        client = a.client_with(secret)
        wrong = a.errors(
            a.post_json(client, URL, _plan(ends_on="2027-03-01", languages=["zz"], region="x"))
        )
        nobody = a.errors(a.post_json(client, URL, _plan(expected=[])))
    assert {e["field"] for e in wrong} == {"ends_on", "languages", "region"}
    assert nobody == [
        {
            "step": None,
            "field": "expected",
            "message": "Enter how many people you expect to find in at least one group",
        }
    ]
    assert not Operation.objects.exists()


def test_an_organisation_that_cannot_lead_gets_404(db: None) -> None:
    charity = factories.organisation(
        "Helping Hands", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    sam = factories.user(organisation=charity, role=Role.FIRST_RESPONDER)
    _, secret = a.token(sam, charity, scopes=WRITE)
    response = a.post_json(a.client_with(secret), URL, _plan())
    assert response.json() == a.NOT_FOUND
    assert not Operation.objects.exists()


def test_the_lead_and_partners_read_it_and_no_one_else_does(
    larkspur: Operation, provider: Organisation, northmoor_police: Organisation, alice: User
) -> None:
    grace = factories.user(organisation=provider, role=Role.SUPPORT_COORDINATOR)
    elsewhere = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    ursula = factories.user(organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    one = f"{URL}/{larkspur.id}"
    for member, organisation in ((alice, northmoor_police), (grace, provider)):
        _, secret = a.token(member, organisation, scopes=READ)
        client = a.client_with(secret)
        listing = client.get(URL).json()
        assert listing["count"] == 1
        assert listing["items"][0]["name"] == "Operation Larkspur"
        got = client.get(one).json()
        assert got["partners"] == [{"organisation": "Test Refuge", "role": "support_provider"}]
        assert got["expected_total"] == 38
    _, secret = a.token(ursula, elsewhere, scopes=READ)
    outsider = a.client_with(secret)
    assert outsider.get(URL).json() == {"items": [], "count": 0}
    assert outsider.get(one).json() == a.NOT_FOUND
    assert outsider.get(f"{URL}/999999").json() == a.NOT_FOUND
