"""An `Idempotency-Key` retried across midnight (stop 41 review, second pass).

The IETF draft on the `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header): the
same key with the same request answers with the first response; the same key with a different
request is refused, 422. A retry after midnight of a request due "today" was refused because
the date was checked before the key was looked up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.api.models import IdempotencyKey
from opennrm.notifications.models import Notification
from opennrm.protection.models import PlannedRemoval
from opennrm.referrals.models import InformationRequest

from . import api_helpers as a
from . import case_factories, factories

LONDON = ZoneInfo("Europe/London")
BEFORE_MIDNIGHT = datetime(2026, 3, 10, 23, 58, tzinfo=LONDON)
AFTER_MIDNIGHT = BEFORE_MIDNIGHT + timedelta(minutes=4)
REUSED = (
    "This Idempotency-Key was already used for a different request. Use a new key for each "
    "new request, and send a retry exactly as the first request."
)


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    """An immigration enforcement officer."""
    return factories.user(
        "ivan@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Ivan Ives",
    )


def _post(client: Client, path: str, body: dict[str, Any], key: str) -> Any:
    return client.post(
        path, body, content_type="application/json", headers={"Idempotency-Key": key}
    )


def test_a_retry_after_midnight_of_a_request_due_today_is_replayed_not_refused(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """Dmitri's system asks Northmoor Police at 23:58 to answer by today, with key sync-0001.
    The request is asked and Alice told, but the response is lost; the system retries, the same
    request with the same key, at 00:02. Expected (IETF draft, docs/api.md "Idempotency-Key"):
    the first response, `Idempotent-Replayed: true`, and nobody told again; not 422 "The date
    to answer by must be today or in the future"."""
    with time_machine.travel(BEFORE_MIDNIGHT, tick=False):
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        _, secret = a.token(dmitri, authority, scopes=(a.DECISIONS_WRITE,))
        client = a.client_with(secret)
        path = f"/api/v1/cases/{case.reference}/information-requests"
        body = {"question": "Which town were they held in?", "respond_by": "2026-03-10"}
        first = _post(client, path, body, "sync-0001")
        assert first.status_code == 201, first.content
    told = Notification.objects.filter(recipient=alice, kind="information.requested").count()
    with time_machine.travel(AFTER_MIDNIGHT, tick=False):
        again = _post(client, path, body, "sync-0001")
        assert again.status_code == 201, again.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["respond_by"] == "2026-03-10"
        assert InformationRequest.objects.filter(case=case).count() == 1
        assert (
            Notification.objects.filter(recipient=alice, kind="information.requested").count()
            == told
        )

        # A first use is still checked against today: yesterday's date under a new key is
        # refused, and keeps no key.
        fresh = _post(client, path, body, "sync-0002")
        assert a.errors(fresh)[0]["field"] == "respond_by"
        assert not IdempotencyKey.objects.filter(key="sync-0002").exists()
        # Another request under the used key is still refused, whatever its date.
        other = _post(client, path, {**body, "question": "Which city?"}, "sync-0001")
        assert a.errors(other) == [{"step": None, "field": "Idempotency-Key", "message": REUSED}]
        assert InformationRequest.objects.filter(case=case).count() == 1


def test_a_planned_removal_retried_after_midnight_is_replayed_not_refused(
    ivan: User,
    border_enforcement: Organisation,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Ivan's system records at 23:58 a removal planned for today of a protected person, with
    key sync-0001; the decision makers and the referrer are alerted, but the response is lost.
    It retries, exactly the same, at 00:02. Expected: the removal already recorded,
    `Idempotent-Replayed: true`, nobody alerted again; not 422 "must be today or in the
    future". A new key with the same past day is still refused."""
    body = {"planned_on": "2026-03-10"}
    with time_machine.travel(BEFORE_MIDNIGHT, tick=False):
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        _, secret = a.token(ivan, border_enforcement, scopes=[a.PROTECTION_CHECK])
        client = a.client_with(secret)
        path = f"/api/v1/protection/{case.reference}/planned-removals"
        first = _post(client, path, body, "sync-0001")
        assert first.status_code == 201, first.content
    alerted = Notification.objects.filter(kind="protection.planned_removal").count()
    assert alerted == 2
    with time_machine.travel(AFTER_MIDNIGHT, tick=False):
        again = _post(client, path, body, "sync-0001")
        assert again.status_code == 201, again.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["planned_on"] == "2026-03-10"
        assert PlannedRemoval.objects.count() == 1
        assert Notification.objects.filter(kind="protection.planned_removal").count() == alerted

        fresh = _post(client, path, body, "sync-0002")
        assert a.errors(fresh)[0]["field"] == "planned_on"
        other = _post(client, path, {"planned_on": "2026-03-12"}, "sync-0001")
        assert a.errors(other)[0]["field"] == "Idempotency-Key"
        assert PlannedRemoval.objects.count() == 1
