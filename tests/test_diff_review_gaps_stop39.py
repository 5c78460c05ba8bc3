"""Gaps found in review of the stop 39 diff (3c5a345..HEAD): Northern Ireland's s.18 support
was fixed on the case page but not in the API; an answer sent again from its page was reported
as refused; a retried addition or request for information through the API was kept twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.accounts.roles import Jurisdiction, Role
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.referrals import services
from opennrm.referrals.models import InformationRequest, ReferralAddition

from . import api_helpers as a
from . import case_factories, factories
from ._races_forms import form_data

# --- The API's clocks say what the case page says ----------------------------------------------


def _ni_case(authority, **fields) -> Case:
    psni = factories.organisation("PSNI Belfast", jurisdiction=Jurisdiction.NORTHERN_IRELAND)
    officer = factories.user(organisation=psni, role=Role.FIRST_RESPONDER)
    return case_factories.case(
        referred_by=officer, referring_organisation=psni, authority=authority, **fields
    )


def test_the_api_does_not_say_s18_support_ended_while_the_conclusive_decision_is_awaited(
    authority, dmitri
) -> None:
    """Who is hurt: an adult in Northern Ireland still awaiting the conclusive decision 60 days
    after a positive reasonable grounds decision, whose support must run until that decision
    (s.18(3)), and the case management system of the competent authority or the support
    provider that reads the case through the API.

    Today's commit e344a1e fixed the case page (`clocks_of` gives the row `until_decision`,
    `cases/detail.html` then says "At the conclusive grounds decision, still awaited" and drops
    the countdown of any clock not current). The API's `GET /api/v1/cases/{reference}` reads the
    same `clocks_of` but `decisions.api.clocks_out` copies only name, label, date and
    `days_left`: it still answers `support_ends` with `days_left` -15 and nothing saying the
    date is not an end, the misreading the page fix removed (a system that ends support when
    `days_left` < 0 stops it). The schema's description still says "support_ends (Scotland)".

    Should: the API says what the page says: the row left out while the decision is awaited, or
    marked (e.g. `current: false` / `until_decision: true`) and documented in the schema."""
    referred = timezone.now() - timedelta(days=60)
    case = _ni_case(authority, status=CaseStatus.RECOVERY_PERIOD, submitted_at=referred)
    assert case.support_ends is not None
    assert case.support_ends < timezone.localdate()

    _, secret = a.token(dmitri, authority, scopes=(a.CASES_READ,))
    response = a.client_with(secret).get(f"/api/v1/cases/{case.reference}")
    assert response.status_code == 200, response.content
    rows = [row for row in response.json()["clocks"] if row["name"] == "support_ends"]
    said_ended = [
        row
        for row in rows
        if row["days_left"] is not None  # no countdown (null) for a clock not running now
        and row["days_left"] < 0
        and not row.get("until_decision")
        and row.get("current", True) is not False
    ]
    assert said_ended == [], said_ended
    # As the page: marked, with no countdown, and the schema says what the marks mean.
    [row] = rows
    assert (row["current"], row["until_decision"], row["days_left"]) == (False, True, None)
    clock = a.client_with(secret).get("/api/v1/openapi.json").json()["components"]["schemas"]
    described = clock["ClockOut"]["properties"]
    assert "Northern Ireland" in described["name"]["description"]
    assert {"current", "until_decision"} <= set(clock["ClockOut"]["required"])


# --- An answer sent again from its page --------------------------------------------------------


def test_an_answer_sent_again_from_its_page_is_not_reported_as_refused(
    case: Case, alice: User, dmitri: User
) -> None:
    """Who is hurt: Alice, a first responder answering the competent authority's question
    ("Which town were they held in?") on "Answer this request", and the person whose decision
    waits on the answer.

    Now: the form carries a one-time key (commit e344a1e) and `referral_addition_add` returns
    the addition already made for it ("This information had already been added: it is not
    added twice"). But `referrals.views._addition` checks the request's status first: once the
    first send has answered it, the same form sent again (a second click after the first
    committed, or Back and send again, the cases the key's comment names) gets the red error
    "This request has already been answered or withdrawn" and never reaches the service. Alice
    reads that someone else answered, or the authority withdrew the question, and does not know
    her answer went; she may ring the authority or answer again under a new form.
    The committed test (`test_an_answer_sent_twice_with_one_key_answers_once`) calls the
    service only, so it cannot see this.

    Should: the repeat is recognised as hers (same key, same words) and she is told it was
    already added, as for information added of her own accord; one addition is kept."""
    asked = services.information_request_ask(
        by=dmitri,
        case=case,
        question="Which town were they held in?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    client = factories.signed_in_client(alice)
    url = reverse("cases:information_request_answer", args=[case.reference, asked.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode())
    assert data.get("submission_key"), "the answer page carries no one-time key"
    data["text"] = "Testtown, in a flat above a car wash."

    first = client.post(url, data, follow=True)  # the case page shows (and uses up) its message
    assert first.redirect_chain
    assert first.status_code == 200

    again = client.post(url, data)  # the same form, sent again
    assert ReferralAddition.objects.filter(case=case).count() == 1
    levels = [message.level_tag for message in get_messages(again.wsgi_request)]
    assert levels
    assert "error" not in levels, levels


def test_an_answered_request_is_still_refused_to_other_words_and_to_a_new_page(
    case: Case, alice: User, dmitri: User
) -> None:
    """The repeat goes on to the service; a new answer to a request already answered does not
    get through: other words under the same key are refused on the form (her text kept), and
    the page opened again sends her back to the case with the error."""
    asked = services.information_request_ask(
        by=dmitri,
        case=case,
        question="Which town were they held in?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    client = factories.signed_in_client(alice)
    url = reverse("cases:information_request_answer", args=[case.reference, asked.pk])
    data = form_data(client.get(url).content.decode())
    data["text"] = "Testtown."
    client.post(url, data, follow=True)

    data["text"] = "Testtown, or perhaps Otherton."
    changed = client.post(url, data)
    assert changed.status_code == 200
    assert "This request has already been answered or withdrawn" in changed.content.decode()
    assert ReferralAddition.objects.filter(case=case).count() == 1

    reopened = client.get(url)
    assert reopened.status_code == 302
    levels = [message.level_tag for message in get_messages(reopened.wsgi_request)]
    assert levels == ["error"]


# --- The API's additions and requests for information take an Idempotency-Key -------------------


def test_an_addition_retried_through_the_api_is_kept_once(
    case: Case, alice: User, northmoor_police, dmitri: User
) -> None:
    """Who is hurt: the decision maker and the record of the case. A police force's case
    management system adds what the officer learnt (`POST /api/v1/cases/{ref}/additions`); the
    answer is lost on the network and the system retries, as the API invites for every other
    write that makes something (referrals, reception, and since today planned removals, take an
    `Idempotency-Key`).

    Now: today's commit gave `referral_addition_add` (and `information_request_ask`) a
    `submission_key` so that "the same form sent twice adds it once", but `referrals.api`
    passes none and reads no `Idempotency-Key`: every retry keeps the same information again,
    for ever (ADR 0028: additions are never changed or removed), puts it on the timeline again
    and tells the decision makers again; a retried request for information asks the referrer
    twice.

    Should: as the other create endpoints, an `Idempotency-Key` sent again answers with the
    addition already made (`Idempotent-Replayed: true`), keeping and telling it once (the
    service's `submission_key` is there to take it)."""
    _, secret = a.token(alice, northmoor_police, scopes=(a.WRITE,))
    client = a.client_with(secret)
    url = f"/api/v1/cases/{case.reference}/additions"
    key = str(uuid.uuid4())
    body = {"text": "She now says she was moved between three houses in Testtown."}
    first = client.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201, first.content
    again = client.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": key}
    )
    assert again.status_code in (200, 201), again.content

    assert ReferralAddition.objects.filter(case=case).count() == 1
    assert (
        Notification.objects.filter(
            kind="referral.information_added", recipient=dmitri, case=case
        ).count()
        == 1
    )
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    # Without a key, each request adds: the key is what says it is the same.
    client.post(url, body, content_type="application/json")
    assert ReferralAddition.objects.filter(case=case).count() == 2


def test_a_request_for_information_retried_through_the_api_is_asked_once(
    case: Case, dmitri: User, authority, alice: User
) -> None:
    """The same for the question: a retried `POST .../information-requests` with its key asks
    the referrer once; any string is a key, and it is the member's own."""
    _, secret = a.token(dmitri, authority, scopes=(a.DECISIONS_WRITE,))
    client = a.client_with(secret)
    url = f"/api/v1/cases/{case.reference}/information-requests"
    body = {
        "question": "Which town were they held in?",
        "respond_by": (timezone.localdate() + timedelta(days=7)).isoformat(),
    }
    headers = {"Idempotency-Key": "retry-me-1"}
    first = client.post(url, body, content_type="application/json", headers=headers)
    assert first.status_code == 201, first.content
    again = client.post(url, body, content_type="application/json", headers=headers)
    assert again.status_code == 201, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert InformationRequest.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(kind="information.requested", recipient=alice).count() == 1
    document = a.client_with(secret).get("/api/v1/openapi.json").json()
    for path in ("information-requests", "additions"):
        operation = document["paths"][f"/api/v1/cases/{{reference}}/{path}"]["post"]
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}, path
