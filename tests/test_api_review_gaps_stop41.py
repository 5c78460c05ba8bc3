"""An `Idempotency-Key` sent again with a different request is refused (stop 41 review).

The IETF draft on the `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header): the
same key with the same request answers with the first response; the same key with a different
payload is refused, 422, saying the key was already used for a different request. Additions
and requests for information stored the other body as new information (or, for a request,
asked a new question) instead: now one helper (`opennrm.api.idempotency`) keeps a keyed hash
of each keyed request and refuses a different one.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.api.models import IdempotencyKey
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.referrals import services
from opennrm.referrals.models import InformationRequest, ReferralAddition

from . import api_helpers as a
from . import case_factories

KEY = "sync-0001"
REUSED = (
    "This Idempotency-Key was already used for a different request. Use a new key for each "
    "new request, and send a retry exactly as the first request."
)


def _referrer_client(user: User, organisation: Organisation) -> Client:
    _, secret = a.token(user, organisation, scopes=(a.WRITE,))
    return a.client_with(secret)


def _decider_client(user: User, organisation: Organisation) -> Client:
    _, secret = a.token(user, organisation, scopes=(a.DECISIONS_WRITE,))
    return a.client_with(secret)


def _add(client: Client, case: Case, body: dict[str, Any], key: str = KEY) -> Any:
    return client.post(
        f"/api/v1/cases/{case.reference}/additions",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def _ask(client: Client, case: Case, body: dict[str, Any], key: str = KEY) -> Any:
    return client.post(
        f"/api/v1/cases/{case.reference}/information-requests",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def _question(text: str = "Which town were they held in?", days: int = 7) -> dict[str, Any]:
    return {
        "question": text,
        "respond_by": (timezone.localdate() + timedelta(days=days)).isoformat(),
    }


def _refused(response: Any) -> None:
    assert a.errors(response) == [{"step": None, "field": "Idempotency-Key", "message": REUSED}]


def _other_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Mira Testperson",
    )


# --- Additions -------------------------------------------------------------------------------


def test_an_addition_with_other_text_under_a_used_key_is_refused_and_not_kept(
    case: Case, alice: User, northmoor_police: Organisation, dmitri: User
) -> None:
    """Alice's case management system adds what she learnt with key sync-0001, then (a bug in
    its key counter) sends other information with the same key. Before: the other text was
    kept as a new addition for ever and the decision makers told again. Should: 422 saying the
    key was already used for a different request, nothing kept or told; the first request
    sent again still answers with the first addition (`Idempotent-Replayed: true`)."""
    client = _referrer_client(alice, northmoor_police)
    first = _add(client, case, {"text": "She was moved between three houses in Testtown."})
    assert first.status_code == 201, first.content

    _refused(_add(client, case, {"text": "He says the van was white."}))
    assert [added.text for added in ReferralAddition.objects.filter(case=case)] == [
        "She was moved between three houses in Testtown."
    ]
    told = Notification.objects.filter(kind="referral.information_added", recipient=dmitri)
    assert told.count() == 1

    again = _add(client, case, {"text": "She was moved between three houses in Testtown."})
    assert again.status_code == 201, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert ReferralAddition.objects.filter(case=case).count() == 1
    assert told.count() == 1


def test_an_addition_answering_a_request_under_a_key_used_without_one_is_refused(
    case: Case, alice: User, northmoor_police: Organisation, dmitri: User
) -> None:
    """Alice adds information of her own accord with a key, then sends the same words as the
    answer to Dmitri's open request under the same key. It is another request (`answers`
    differs): 422, and the request stays open, unanswered."""
    asked = services.information_request_ask(
        by=dmitri,
        case=case,
        question="Which town?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    client = _referrer_client(alice, northmoor_police)
    assert _add(client, case, {"text": "Testtown."}).status_code == 201

    _refused(_add(client, case, {"text": "Testtown.", "answers": asked.pk}))
    asked.refresh_from_db()
    assert asked.status == "open"
    assert ReferralAddition.objects.filter(case=case).count() == 1


def test_a_rejected_addition_keeps_no_key(
    case: Case, alice: User, northmoor_police: Organisation, dmitri: User
) -> None:
    """Alice's system sends an empty addition with a key, then one answering a request Dmitri
    has withdrawn (both 422, nothing kept), then the corrected one with the same key: it is
    added, as a referral rejected under a key can be sent again corrected."""
    withdrawn = services.information_request_withdraw(
        by=dmitri,
        request=services.information_request_ask(
            by=dmitri,
            case=case,
            question="Which town?",
            respond_by=timezone.localdate() + timedelta(days=7),
        ),
    )
    client = _referrer_client(alice, northmoor_police)
    assert _add(client, case, {"text": "  "}).status_code == 422
    assert a.errors(_add(client, case, {"text": "Testtown.", "answers": withdrawn.pk})) == [
        {
            "step": None,
            "field": None,
            "message": "This request has already been answered or withdrawn",
        }
    ]
    assert not IdempotencyKey.objects.exists()

    sent = _add(client, case, {"text": "Testtown."})
    assert sent.status_code == 201, sent.content
    assert "Idempotent-Replayed" not in sent.headers
    assert ReferralAddition.objects.filter(case=case).count() == 1


# --- Requests for information ----------------------------------------------------------------


def test_a_request_with_another_question_or_date_under_a_used_key_is_refused(
    case: Case, dmitri: User, authority: Organisation, alice: User
) -> None:
    """Dmitri's system asks a question with key sync-0001, then another question, then the same
    question by another date, under the same key. Before: each was asked as a new request and
    the referrer told each time. Should: both refused 422, one request asked, Alice told
    once; the first request sent again is replayed."""
    client = _decider_client(dmitri, authority)
    first = _ask(client, case, _question())
    assert first.status_code == 201, first.content

    _refused(_ask(client, case, _question("Who drove the van?")))
    _refused(_ask(client, case, _question(days=14)))
    assert [asked.question for asked in InformationRequest.objects.all()] == [
        "Which town were they held in?"
    ]
    assert Notification.objects.filter(kind="information.requested", recipient=alice).count() == 1

    again = _ask(client, case, _question())
    assert again.status_code == 201, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


# --- Whose key -------------------------------------------------------------------------------


def test_keys_are_each_members_own(
    case: Case,
    alice: User,
    bob: User,
    northmoor_police: Organisation,
    dmitri: User,
    sally: User,
    authority: Organisation,
) -> None:
    """Alice and Bob (first responders of Northmoor Police) each run a client counting its own
    keys, and both send key sync-0001 with different information; so do Dmitri and Sally
    (decision makers) with different questions. Each is kept: a key is its member's, and
    another member's use of it neither replays nor refuses theirs."""
    assert _add(_referrer_client(alice, northmoor_police), case, {"text": "A."}).status_code == 201
    bobs = _add(_referrer_client(bob, northmoor_police), case, {"text": "B."})
    assert bobs.status_code == 201, bobs.content
    assert "Idempotent-Replayed" not in bobs.headers
    assert sorted(added.text for added in ReferralAddition.objects.all()) == ["A.", "B."]

    assert _ask(_decider_client(dmitri, authority), case, _question("Q1?")).status_code == 201
    sallys = _ask(_decider_client(sally, authority), case, _question("Q2?"))
    assert sallys.status_code == 201, sallys.content
    assert sorted(asked.question for asked in InformationRequest.objects.all()) == ["Q1?", "Q2?"]


def test_a_key_used_on_one_case_is_refused_on_another(
    case: Case, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Alice's client adds to one case with a key, then sends the same words to another of her
    cases under the same key. The case is part of the request (its address): a different
    request, refused 422, and nothing is added to the other case (before, it was added there
    without the key, and every retry of it added it again)."""
    other = _other_case(alice, northmoor_police, authority)
    client = _referrer_client(alice, northmoor_police)
    assert _add(client, case, {"text": "Testtown."}).status_code == 201

    _refused(_add(client, other, {"text": "Testtown."}))
    assert not ReferralAddition.objects.filter(case=other).exists()
    assert _add(client, other, {"text": "Testtown."}, key="sync-0002").status_code == 201


# --- What is kept ----------------------------------------------------------------------------


def test_the_key_keeps_a_keyed_hash_only_and_erasure_empties_it(
    case: Case, alice: User, northmoor_police: Organisation
) -> None:
    """What is kept of a keyed addition is the key, its member, the operation and a keyed hash
    (HMAC-SHA-256) of the request: never the text, nor a plain SHA-256 of it anyone could
    recompute from a guess. Erasing the person empties the hash with the text."""
    text = "She was moved between three houses in Testtown."
    assert _add(_referrer_client(alice, northmoor_police), case, {"text": text}).status_code == 201
    kept = IdempotencyKey.objects.get()
    assert (kept.user, kept.operation, kept.key, kept.case) == (
        alice,
        "referral_addition_add",
        KEY,
        case,
    )
    assert len(kept.fingerprint) == 64
    assert text not in str(vars(kept))
    assert kept.fingerprint != hashlib.sha256(text.encode()).hexdigest()

    removed = services.referral_records_pseudonymise([case.pk])
    kept.refresh_from_db()
    assert kept.fingerprint == ""
    assert removed["api_idempotency_fingerprints"] == 1
