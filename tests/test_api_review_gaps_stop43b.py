"""An `Idempotency-Key` forgotten after 24 hours is forgotten by the services too (stop 43 review).

The IETF draft on the `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header): a key
that has expired is forgotten, and a request sent with it is a new request. `api.idempotency`
forgot a key sent with a request for information or an addition after 24 hours (`KEY_EXPIRY`),
but the services kept it, as a UUID derived from the key alone, in what the key made, and went
on matching it for ever: the same request sent a day later was answered with the old one, nobody
told, and the key sent to another case a day later was refused. Now the UUID the services keep
is one use of the key's (`referrals.api._submission_key`): within 24 hours nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from opennrm.accounts.models import Organisation, User
from opennrm.api.models import IdempotencyKey
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.referrals.models import InformationRequest, ReferralAddition

from . import api_helpers as a
from . import case_factories

LONDON = ZoneInfo("Europe/London")
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
WITHIN = TUESDAY + timedelta(hours=23, minutes=59)
WEDNESDAY = TUESDAY + timedelta(hours=24, minutes=1)
RETRY = timedelta(minutes=5)
KEY = "sync-0001"
RESPOND_BY = "2026-03-20"
ASKING = {"question": "Which town?", "respond_by": RESPOND_BY}
REUSED = (
    "This Idempotency-Key was already used for a different request. Use a new key for each "
    "new request, and send a retry exactly as the first request."
)
ADDED = "referral.information_added"
ASKED = "information.requested"


def _post(client: Client, path: str, body: dict[str, Any], key: str = KEY) -> Any:
    return client.post(
        path, body, content_type="application/json", headers={"Idempotency-Key": key}
    )


def _case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )


def _told(user: User, kind: str, case: Case) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=kind, case=case).values_list(
            "subject", flat=True
        )
    )


def _clients(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> tuple[Client, Client]:
    """Alice's client (her organisation referred the cases) and Dmitri's (he decides them)."""
    _, referrer = a.token(alice, northmoor_police, scopes=(a.WRITE,))
    _, decider = a.token(dmitri, authority, scopes=(a.DECISIONS_WRITE,))
    return a.client_with(referrer), a.client_with(decider)


@dataclass(frozen=True)
class _Keyed:
    """Alice's client adding to `case` (her organisation referred it) and Dmitri's asking on it
    (he decides it), each under `KEY`."""

    case: Case
    referrer: Client
    decider: Client

    def add(self, at: datetime, text: str) -> Any:
        """Alice's client adds `text` at `at`."""
        with time_machine.travel(at, tick=False):
            path = f"/api/v1/cases/{self.case.reference}/additions"
            return _post(self.referrer, path, {"text": text})

    def ask(self, at: datetime, asking: dict[str, str]) -> Any:
        """Dmitri's client asks `asking` at `at`."""
        with time_machine.travel(at, tick=False):
            path = f"/api/v1/cases/{self.case.reference}/information-requests"
            return _post(self.decider, path, asking)

    def send(self, at: datetime, text: str, asking: dict[str, str]) -> tuple[Any, Any]:
        """Both at `at`: the addition and the request for information."""
        return self.add(at, text), self.ask(at, asking)


def _keyed(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> _Keyed:
    """A case referred on Tuesday, and the two clients sending under the key about it."""
    with time_machine.travel(TUESDAY, tick=False):
        return _Keyed(
            _case(alice, northmoor_police, authority),
            *_clients(alice, dmitri, northmoor_police, authority),
        )


def _new_on_wednesday(
    keyed: _Keyed, tuesday: tuple[Any, Any], text: str, asking: dict[str, str]
) -> tuple[Any, Any]:
    """Sends `text` and `asking` on Wednesday, more than 24 hours after `tuesday`'s: each is a
    new request, not Tuesday's replayed; their retry a few minutes later is their replay."""
    wednesday = keyed.send(WEDNESDAY, text, asking)
    for new, old in zip(wednesday, tuesday, strict=True):
        assert new.status_code == 201, new.content
        assert "Idempotent-Replayed" not in new.headers, "a day-old request was replayed"
        assert new.json()["id"] != old.json()["id"]
    again = keyed.send(WEDNESDAY + RETRY, text, asking)
    for new, retried in zip(wednesday, again, strict=True):
        assert retried.status_code == 201, retried.content
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.json()["id"] == new.json()["id"]
    return wednesday


def test_within_24_hours_a_retry_is_replayed_and_another_body_refused(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Alice's and Dmitri's clients time out and retry the same requests with the same key a
    minute before the 24 hours are up. Expected, as before: the first response with
    `Idempotent-Replayed: true`, one addition and one request, nobody told twice; another text or
    question under the key within the 24 hours is 422 and writes nothing."""
    with time_machine.travel(TUESDAY, tick=False):
        case = _case(alice, northmoor_police, authority)
        referrer, decider = _clients(alice, dmitri, northmoor_police, authority)
        additions = f"/api/v1/cases/{case.reference}/additions"
        requests = f"/api/v1/cases/{case.reference}/information-requests"
        asking = {"question": "Which town?", "respond_by": RESPOND_BY}
        added = _post(referrer, additions, {"text": "She was held in Testtown."})
        asked = _post(decider, requests, asking)
        assert (added.status_code, asked.status_code) == (201, 201)
    with time_machine.travel(WITHIN, tick=False):
        added_again = _post(referrer, additions, {"text": "She was held in Testtown."})
        asked_again = _post(decider, requests, asking)
        for first, again in ((added, added_again), (asked, asked_again)):
            assert again.status_code == 201, again.content
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == first.json()["id"]
        other_text = _post(referrer, additions, {"text": "She was moved to Othertown."})
        other_question = _post(decider, requests, {**asking, "question": "Which city?"})
        for refused in (other_text, other_question):
            assert a.errors(refused) == [
                {"step": None, "field": "Idempotency-Key", "message": REUSED}
            ]
    assert [added.text for added in ReferralAddition.objects.filter(case=case)] == [
        "She was held in Testtown."
    ]
    assert [asked.question for asked in InformationRequest.objects.filter(case=case)] == [
        "Which town?"
    ]
    assert len(_told(dmitri, ADDED, case)) == 1
    assert len(_told(alice, ASKED, case)) == 1


def test_after_24_hours_the_same_key_with_another_text_is_new_and_told(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Alice's and Dmitri's systems reset their key counters overnight: on Wednesday, more than
    24 hours after Tuesday's requests, they send sync-0001 again with new information and a new
    question. Expected: new requests (the key is forgotten), each kept with its own words and
    told again; and the key is then Wednesday's: a retry of Wednesday's request is replayed, and
    Tuesday's words sent under it on Wednesday are another request, 422. On Thursday, once
    Wednesday's use is forgotten too, Tuesday's words sent under it (she was seen in Testtown
    again) are new once more: they were answered with Tuesday's addition, kept under the key,
    and the new information lost."""
    keyed = _keyed(alice, dmitri, northmoor_police, authority)
    tuesday = keyed.send(TUESDAY, "She was held in Testtown.", ASKING)
    wednesday_asking = {"question": "Who drove her there?", "respond_by": RESPOND_BY}
    added, asked = _new_on_wednesday(
        keyed, tuesday, "She was moved to Othertown.", wednesday_asking
    )
    tuesdays = keyed.add(WEDNESDAY + RETRY, "She was held in Testtown.")
    assert a.errors(tuesdays)[0]["field"] == "Idempotency-Key"
    case = keyed.case
    assert ReferralAddition.objects.get(pk=added.json()["id"]).text == "She was moved to Othertown."
    assert InformationRequest.objects.get(pk=asked.json()["id"]).question == "Who drove her there?"
    assert InformationRequest.objects.filter(case=case).count() == 2
    assert len(_told(dmitri, ADDED, case)) == 2
    assert len(_told(alice, ASKED, case)) == 2
    thursday = keyed.add(WEDNESDAY + timedelta(hours=24, minutes=1), "She was held in Testtown.")
    assert thursday.status_code == 201, thursday.content
    assert "Idempotent-Replayed" not in thursday.headers, "Tuesday's addition was replayed"
    assert [added.text for added in ReferralAddition.objects.filter(case=case)] == [
        "She was held in Testtown.",
        "She was moved to Othertown.",
        "She was held in Testtown.",
    ]
    assert len(_told(dmitri, ADDED, case)) == 3


def test_after_24_hours_the_same_request_again_is_a_new_request(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """On Wednesday, more than 24 hours on, Alice's and Dmitri's systems send sync-0001 with the
    very words they sent on Tuesday (she was seen in Testtown again; the question still stands,
    asked anew). Expected: the key is forgotten, so each is a new request, not a replay: a second
    addition and a second request, with `Idempotent-Replayed` absent, and the decision maker and
    the first responder told again. It was answered with Tuesday's rows, telling nobody."""
    text = "She was seen in Testtown."
    keyed = _keyed(alice, dmitri, northmoor_police, authority)
    tuesday = keyed.send(TUESDAY, text, ASKING)
    _new_on_wednesday(keyed, tuesday, text, ASKING)
    case = keyed.case
    assert [(r.text, r.added_at) for r in ReferralAddition.objects.filter(case=case)] == [
        (text, TUESDAY),
        (text, WEDNESDAY),
    ]
    assert [(r.question, r.asked_at) for r in InformationRequest.objects.filter(case=case)] == [
        ("Which town?", TUESDAY),
        ("Which town?", WEDNESDAY),
    ]
    assert len(_told(dmitri, ADDED, case)) == 2
    assert len(_told(alice, ASKED, case)) == 2
    assert IdempotencyKey.objects.get(user=alice, key=KEY).created_at == WEDNESDAY


def test_after_24_hours_the_key_may_be_sent_to_another_case(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """On Wednesday Alice's and Dmitri's systems send sync-0001, used on Zorica's case on
    Tuesday, with information and a question on Mira's case. Expected: a new request on Mira's
    case, kept and told, as with any forgotten key; it was refused (422) for ever, as the
    services still held the key."""
    with time_machine.travel(TUESDAY, tick=False):
        case = _case(alice, northmoor_police, authority)
        other = _case(alice, northmoor_police, authority)
        referrer, decider = _clients(alice, dmitri, northmoor_police, authority)
        asking = {"question": "Which town?", "respond_by": RESPOND_BY}
        _post(referrer, f"/api/v1/cases/{case.reference}/additions", {"text": "Testtown."})
        _post(decider, f"/api/v1/cases/{case.reference}/information-requests", asking)
    with time_machine.travel(WEDNESDAY, tick=False):
        added = _post(referrer, f"/api/v1/cases/{other.reference}/additions", {"text": "Hi."})
        asked = _post(decider, f"/api/v1/cases/{other.reference}/information-requests", asking)
        assert (added.status_code, asked.status_code) == (201, 201), (added.content, asked.content)
    assert [added.text for added in ReferralAddition.objects.filter(case=other)] == ["Hi."]
    assert InformationRequest.objects.get(case=other).question == "Which town?"
    assert len(_told(dmitri, ADDED, other)) == 1
    assert len(_told(alice, ASKED, other)) == 1
