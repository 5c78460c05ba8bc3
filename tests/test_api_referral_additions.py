"""The API's requests for information and additions (ADR 28): the same forms, selectors and
services as the case pages, and never the question or the information itself in a response."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.referrals.models import InformationRequest, InformationRequestStatus, ReferralAddition

from . import api_helpers as a
from . import factories

QUESTION = "Where does Zorica sleep now?"
ANSWER = "Zorica sleeps at her cousin's flat."


@pytest.fixture(autouse=True)
def no_response_holds_the_free_text() -> Iterator[None]:
    a.BODIES.clear()
    yield
    for body in a.BODIES:
        assert b"Zorica" not in body


def api(user: User, organisation: Organisation, scopes: tuple[str, ...] = a.EVERY_SCOPE) -> Client:
    _, secret = a.token(user, organisation, scopes=scopes, days=365)
    return a.RecordingClient(headers={"Authorization": f"Bearer {secret}"})


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return a.post_json(client, url, body)


@pytest.fixture
def odette(db: None) -> User:
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


def test_a_decision_maker_asks_and_the_referrer_answers_through_the_api(
    case: Case,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    requests = f"/api/v1/cases/{case.reference}/information-requests"
    decider, referrer = api(dmitri, authority), api(alice, northmoor_police)
    later = timezone.localdate() + timedelta(days=7)
    before = AuditEvent.objects.count()
    asked = post(decider, requests, {"question": QUESTION, "respond_by": later.isoformat()})
    assert asked.status_code == 201, asked.content
    assert AuditEvent.objects.count() == before + 1
    body = asked.json()
    assert (body["status"], body["respond_by"], body["answered_by"]) == (
        "open",
        later.isoformat(),
        [],
    )
    assert InformationRequest.objects.get().question == QUESTION
    listed = referrer.get(requests)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [body["id"]]
    added = post(
        referrer,
        f"/api/v1/cases/{case.reference}/additions",
        {"text": ANSWER, "answers": body["id"]},
    )
    assert added.status_code == 201, added.content
    assert added.json()["answers"] == body["id"]
    assert ReferralAddition.objects.get().text == ANSWER
    assert InformationRequest.objects.get().status == InformationRequestStatus.ANSWERED
    (item,) = decider.get(requests).json()
    assert item["status"] == "answered"
    assert item["answered_by"] == [added.json()["id"]]


def test_the_api_refuses_bad_input_and_outsiders(
    case: Case,
    alice: User,
    dmitri: User,
    charlie: User,
    odette: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
) -> None:
    requests = f"/api/v1/cases/{case.reference}/information-requests"
    additions = f"/api/v1/cases/{case.reference}/additions"
    decider, referrer = api(dmitri, authority), api(alice, northmoor_police)
    later = (timezone.localdate() + timedelta(days=7)).isoformat()
    [error] = a.errors(post(decider, requests, {"question": " ", "respond_by": later}))
    assert error["field"] == "question"
    [error] = a.errors(post(decider, requests, {"question": "Q", "respond_by": "2020-01-01"}))
    assert "today or in the future" in error["message"]
    # a year before 1000 is refused for its date, as the page refuses it, not for its digits
    [error] = a.errors(post(decider, requests, {"question": "Q", "respond_by": "0999-01-01"}))
    assert "today or in the future" in error["message"]
    [error] = a.errors(post(referrer, additions, {"text": ""}))
    assert error["field"] == "text"
    other_authority = odette.memberships.get().organisation
    for outsider, url, body in (
        (api(odette, other_authority), requests, {"question": "Q", "respond_by": later}),
        (api(odette, other_authority), requests, None),
        (api(charlie, southvale_police), additions, {"text": "x"}),
        (api(charlie, southvale_police), requests, None),
        (referrer, additions, {"text": "x", "answers": 999999}),
    ):
        response = outsider.get(url) if body is None else post(outsider, url, body)
        assert response.status_code == 404, (url, response.content)
    assert not InformationRequest.objects.exists()
    assert not ReferralAddition.objects.exists()
