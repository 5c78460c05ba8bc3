"""An `Idempotency-Key`'s expiry (stop 42 review).

The IETF draft on the `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header) asks a
resource to publish how long it keeps a key. Keys never expired: a key used once refused every
other request for ever, and its rows were never deleted. A first use that the endpoint's check
refuses writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.api import idempotency
from opennrm.api.models import IdempotencyKey
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.privacy import services as privacy
from opennrm.referrals.models import InformationRequest, ReferralAddition

from . import api_helpers as a
from . import case_factories

LONDON = ZoneInfo("Europe/London")
MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
KEY = "sync-0001"
REUSED = (
    "This Idempotency-Key was already used for a different request. Use a new key for each "
    "new request, and send a retry exactly as the first request."
)


def _post(client: Client, path: str, body: dict[str, Any], key: str = KEY) -> Any:
    return client.post(
        path, body, content_type="application/json", headers={"Idempotency-Key": key}
    )


def _referrer(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )


def test_the_expiry_is_published_and_is_what_the_code_reads() -> None:
    """A client reading docs/api.md could not know how long a key is honoured. Expected: the
    guide says 24 hours, and the constant the code reads says the same."""
    guide = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    assert "honoured for 24 hours" in " ".join(guide.split())
    assert timedelta(hours=24) == idempotency.KEY_EXPIRY


def test_a_key_older_than_24_hours_is_forgotten(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Alice's system adds to Zorica's case with key sync-0001 on Tuesday morning, and (its
    counter reset) sends the same key with other information on Wednesday afternoon, more than
    24 hours later. Expected (docs/api.md, "Idempotency-Key"): a key older than 24 hours is
    forgotten, so Wednesday's is a new request, added and kept; its own retry is replayed.
    Within the 24 hours the same key with other text was, and stays, 422."""
    with time_machine.travel(MORNING, tick=False):
        case = _referrer(alice, northmoor_police, authority)
        _, secret = a.token(alice, northmoor_police, scopes=(a.WRITE,))
        client = a.client_with(secret)
        path = f"/api/v1/cases/{case.reference}/additions"
        first = _post(client, path, {"text": "She was held in Testtown."})
        assert first.status_code == 201, first.content
    with time_machine.travel(MORNING + timedelta(hours=23), tick=False):
        early = _post(client, path, {"text": "She was moved to Othertown."})
        assert a.errors(early) == [{"step": None, "field": "Idempotency-Key", "message": REUSED}]
    later = MORNING + timedelta(hours=29)
    with time_machine.travel(later, tick=False):
        new = _post(client, path, {"text": "She was moved to Othertown."})
        assert new.status_code == 201, new.content
        assert "Idempotent-Replayed" not in new.headers
        assert new.json()["id"] != first.json()["id"]
    assert [added.text for added in ReferralAddition.objects.filter(case=case).order_by("id")] == [
        "She was held in Testtown.",
        "She was moved to Othertown.",
    ]
    kept = IdempotencyKey.objects.get(user=alice, key=KEY)
    assert kept.created_at == later
    with time_machine.travel(later + timedelta(minutes=1), tick=False):
        again = _post(client, path, {"text": "She was moved to Othertown."})
        assert again.status_code == 201, again.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == new.json()["id"]
    assert ReferralAddition.objects.filter(case=case).count() == 2
    # Forgotten by the services too (stop 43): sent to another case a day later it is new there.
    with time_machine.travel(later + timedelta(hours=25), tick=False):
        other = _referrer(alice, northmoor_police, authority)
        elsewhere = _post(client, f"/api/v1/cases/{other.reference}/additions", {"text": "Hi."})
        assert elsewhere.status_code == 201, elsewhere.content
    assert ReferralAddition.objects.filter(case=other).count() == 1


def test_the_nightly_retention_deletes_keys_older_than_24_hours(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Keys were kept for ever, one row per request sent with one. Expected: the nightly
    retention run (the worker's sweep) deletes every key older than 24 hours, keeps the
    younger ones, and its audit event counts them."""
    with time_machine.travel(MORNING, tick=False):
        case = _referrer(alice, northmoor_police, authority)
        _, secret = a.token(alice, northmoor_police, scopes=(a.WRITE,))
        client = a.client_with(secret)
        path = f"/api/v1/cases/{case.reference}/additions"
        assert _post(client, path, {"text": "Testtown."}, "old").status_code == 201
    with time_machine.travel(MORNING + timedelta(hours=14), tick=False):
        assert _post(client, path, {"text": "Othertown."}, "young").status_code == 201
    with time_machine.travel(MORNING + timedelta(hours=24, minutes=30), tick=False):
        privacy.retention_apply(today=timezone.localdate())
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
    event = AuditEvent.objects.filter(action="retention.applied").latest("id")
    assert event.detail["idempotency_keys_deleted"] == 1
    # What the keys made stays: only the keys go.
    assert ReferralAddition.objects.filter(case=case).count() == 2


def test_a_first_use_the_check_refuses_writes_nothing(
    case: Case, dmitri: User, authority: Organisation
) -> None:
    """A first use that the endpoint's check refuses (a question longer than the page allows,
    which the service alone would take) asks the service only whether the key made something
    already. Expected: 422 naming the question, nothing asked, nobody told, no key kept."""
    _, secret = a.token(dmitri, authority, scopes=(a.DECISIONS_WRITE,))
    client = a.client_with(secret)
    told = Notification.objects.count()
    respond_by = (timezone.localdate() + timedelta(days=10)).isoformat()
    body = {"question": "x" * 10_001, "respond_by": respond_by}
    refused = _post(client, f"/api/v1/cases/{case.reference}/information-requests", body)
    assert a.errors(refused)[0]["field"] == "question"
    assert not InformationRequest.objects.filter(case=case).exists()
    assert Notification.objects.count() == told
    assert not IdempotencyKey.objects.exists()
