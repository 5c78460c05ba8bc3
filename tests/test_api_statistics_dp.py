"""`POST /api/v1/statistics/private-counts`: the analyst's differentially private counts through
the API (statistics.dp_api; ADR 0035): the answer and its charge, the budget refusal, bad
questions, and others refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import override_settings

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, Sex
from opennrm.statistics.models import PrivacyLedgerEntry

from . import factories
from .api_helpers import STATISTICS_QUERY, SUPPORT_READ, client_with, post_json, token

URL = "/api/v1/statistics/private-counts"
QUESTION = {
    "start": "2026-10-01",
    "end": "2026-12-31",
    "dimensions": ["sex", "age_group"],
    "epsilon": "0.1",
}


@pytest.fixture
def clock() -> Any:
    # The last day of QUESTION's period: a period may not end after today.
    with time_machine.travel("2026-12-31 10:00:00+00:00", tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann(monitoring: Organisation) -> User:
    return factories.user("ann@example.org", organisation=monitoring, role=Role.ANALYST)


def test_an_analysts_token_gets_every_cell_and_the_charge(
    clock: Any, ann: User, monitoring: Organisation
) -> None:
    _, secret = token(ann, monitoring, scopes=[STATISTICS_QUERY])
    response = post_json(client_with(secret), URL, QUESTION)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert len(body["cells"]) == len(Sex.choices) * len(AgeGroup.choices)
    assert body["cells"][0]["categories"] == {"sex": "female", "age_group": "adult"}
    assert body["mechanism"] == "discrete_laplace"
    assert body["confidence"] == 0.95
    assert Decimal(body["budget"]["left"]) == Decimal("0.9")
    entry = PrivacyLedgerEntry.objects.get()
    assert (entry.analyst, entry.organisation, entry.epsilon) == (ann, monitoring, Decimal("0.1"))
    assert AuditEvent.objects.filter(action="statistics.dp_query", actor=ann).count() == 1


@override_settings(DP_BUDGET_EPSILON=Decimal("0.15"))
def test_a_question_over_the_budget_is_refused_with_422_and_not_charged(
    clock: Any, ann: User, monitoring: Organisation
) -> None:
    _, secret = token(ann, monitoring, scopes=[STATISTICS_QUERY])
    client = client_with(secret)
    assert post_json(client, URL, QUESTION).status_code == 200
    refused = post_json(client, URL, QUESTION)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "step": None,
            "field": "epsilon",
            "message": "Your privacy budget for December 2026 is spent: 0.05 of 0.15 left; "
            "this question needs 0.1",
        }
    ]
    assert PrivacyLedgerEntry.objects.count() == 1


def test_a_bad_question_is_refused_naming_the_field(
    clock: Any, ann: User, monitoring: Organisation
) -> None:
    _, secret = token(ann, monitoring, scopes=[STATISTICS_QUERY])
    client = client_with(secret)
    four = post_json(
        client, URL, QUESTION | {"dimensions": ["sex", "age_group", "status", "quarter"]}
    )
    assert four.status_code == 422
    assert four.json()["errors"][0]["field"] == "dimensions"
    backwards = post_json(client, URL, QUESTION | {"end": "2026-09-01"})
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "end"
    # The day after 31 December 9999 was an OverflowError and a 500.
    future = post_json(client, URL, QUESTION | {"start": "9999-12-30", "end": "9999-12-31"})
    assert future.status_code == 422
    assert {(e["field"], e["message"]) for e in future.json()["errors"]} == {
        ("start", "The start of the period must be today or earlier"),
        ("end", "The end of the period must be today or earlier"),
    }
    assert not PrivacyLedgerEntry.objects.exists()


def test_others_and_tokens_without_the_scope_are_refused(
    clock: Any, ann: User, monitoring: Organisation, cora: User, provider: Organisation
) -> None:
    _, secret = token(ann, monitoring, scopes=[SUPPORT_READ])
    assert post_json(client_with(secret), URL, QUESTION).status_code == 403
    _, secret = token(cora, provider, scopes=[STATISTICS_QUERY])
    assert post_json(client_with(secret), URL, QUESTION).status_code == 403
    assert not PrivacyLedgerEntry.objects.exists()
