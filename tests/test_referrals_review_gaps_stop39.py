"""Referral gaps found in review at stop 39 (reviewers races and apidev): the same form sent
twice adds information, or asks for it, once; a request for information cannot be due years
ahead; JSON true is never an answer of 1; a child referred by API is told which children's
services were not told."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case, Person
from opennrm.notifications.models import Notification
from opennrm.referrals import services
from opennrm.referrals.models import InformationRequest, ReferralAddition

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r

# --- Reading a page's form as a browser sends it (from the races reviewer's helper) -----------


class _Form(HTMLParser):
    """Every input, select and textarea of a page with its current value, hidden fields
    included (the one-time key is sent back as the browser sends it)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            self._input(name, a)
        elif tag == "select" and name:
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            self._option(a)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def _input(self, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in ("submit", "button", "file", "image", "reset"):
            return
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        default = "on" if kind in ("checkbox", "radio") else ""
        self.values.setdefault(name, []).append(a.get("value", default))

    def _option(self, a: dict[str, str]) -> None:
        assert self._select is not None
        value = a.get("value", "")
        if self._select_first is None:
            self._select_first = value
        if "selected" in a:
            self.values.setdefault(self._select, []).append(value)

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if self._select not in self.values and self._select_first is not None:
                self.values[self._select] = [self._select_first]
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self.values.setdefault(self._textarea, []).append(text.removeprefix("\n"))
            self._textarea = None


def form_data(html: str) -> dict[str, Any]:
    """The fields of the page's forms, as a dict for the test client: one value, or a list
    where a name has several."""
    parser = _Form()
    parser.feed(html)
    return {k: v[0] if len(v) == 1 else v for k, v in parser.values.items()}


# --- The same form sent twice (reviewer: races) ---------------------------------------------


def test_information_added_twice_by_a_double_click_is_kept_once_and_told_once(
    case: Case, alice: User, dmitri: User
) -> None:
    """Who is hurt: the decision maker, and the first responder's credibility. Alice adds what
    Zorica told her since the referral ("Add information") and the page is slow, so she clicks
    "Send" again (or goes Back and sends again).

    Now: two identical additions are kept beside the referral for ever (ADR 0028: they are
    never changed or removed), the timeline says information was added twice, and the decision
    makers are told twice; with files attached, every file is stored twice.
    `referrals.services.referral_addition_add` made of her own accord has no one-time key (case
    notes have one: `casework.services.case_note_add`).
    Should: the second send is recognised as the same form and takes her to the case, with one
    addition kept and the decision makers told once."""
    client = factories.signed_in_client(alice)
    url = reverse("cases:addition_add", args=[case.reference])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode())
    data["text"] = "She now says she was moved between three houses in Testtown."

    first = client.post(url, data)
    assert first.status_code == 302
    client.post(url, data)  # the same form, sent again

    assert ReferralAddition.objects.filter(case=case).count() == 1, (
        "the same form sent twice kept the same information twice, for ever"
    )
    assert (
        Notification.objects.filter(
            kind="referral.information_added", recipient=dmitri, case=case
        ).count()
        == 1
    )


def test_a_request_for_information_sent_twice_asks_once(
    case: Case, alice: User, dmitri: User
) -> None:
    """Who is hurt: the first responder and, through delay, the person. Dmitri asks the
    referrer for more information and, the page being slow, clicks "Send" again.

    Now: two identical open requests are made; Alice is told twice and must answer the same
    question twice (each addition answers one request), and two requests wait on the case. `referrals.services.information_request_ask` has no one-time key and no
    check for the same question already open.
    Should: the second send is recognised as the same form: one request, Alice told once."""
    client = factories.signed_in_client(dmitri)
    url = reverse("cases:information_request_ask", args=[case.reference])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode())
    by = timezone.localdate() + timedelta(days=7)
    data |= {
        "question": "Where was she kept before she was found?",
        "respond_by_day": str(by.day),
        "respond_by_month": str(by.month),
        "respond_by_year": str(by.year),
    }

    assert client.post(url, data).status_code == 302
    client.post(url, data)  # the same form, sent again

    assert InformationRequest.objects.filter(case=case).count() == 1, (
        "the same request sent twice was asked twice"
    )
    assert Notification.objects.filter(kind="information.requested", recipient=alice).count() == 1


# --- Input the API takes that it should refuse (reviewer: apidev) --------------------------


def test_true_is_not_taken_as_an_age_of_one(
    alice: User, northmoor_police: Organisation, routing: Organisation, lena: User
) -> None:
    """Who is hurt: a child referred through `POST /api/v1/referrals` by a client that maps an
    unchecked box or a flag onto `estimated_age` (a JSON `true`).

    Now: the answer schema says a text answer is "text or a number", but pydantic's lax union
    turns `true` into the number 1 (`referrals.api._value_type`, `_as_posted`), so the referral
    is accepted (201) and the child's case records an age at referral of 1. (`false` likewise
    becomes "0", a non-empty answer, in any text field.) The page can never post a boolean.

    Should: a JSON true or false in an answer that is not a tick box is refused with 422 naming
    the step and field, like any other answer of the wrong type."""
    _, secret = a.token(alice, northmoor_police)
    client = a.client_with(secret)
    answers = {**r.CHILD_REFERRAL, "person": {**r.CHILD_PERSON, "estimated_age": True}}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = a.post_referral(client, answers)
    assert Person.objects.filter(age_at_referral=1).count() == 0
    errors = a.errors(response, 422)
    assert {(e["step"], e["field"]) for e in errors} == {("person", "estimated_age")}


def test_a_request_for_information_cannot_be_due_thousands_of_years_ahead(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """Who is hurt: the person waiting for a reasonable grounds decision, and the referring
    first responder, when a decision maker's workflow system (or a mistyped year on the page)
    sends `respond_by` 9999-12-31 (or 2062 for 2026).

    Now: `POST /api/v1/cases/{reference}/information-requests` accepts any day from today on
    (`InformationRequestForm.clean`, `services.information_request_ask` check only the lower
    bound): 201, the referrer is told to answer "by 31 December 9999", and the request sorts
    last in their list of questions. Other dates the API takes are bounded (a planned removal
    "at most a year ahead, a mistyped year would be judged against the wrong day").

    Should: a date to answer by far beyond any decision's clock (say more than a year ahead) is
    refused with 422 naming `respond_by`, and nothing is asked."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    _, secret = a.token(dmitri, authority, scopes=a.EVERY_SCOPE)
    client = a.client_with(secret)
    response = a.post_json(
        client,
        f"/api/v1/cases/{case.reference}/information-requests",
        {"question": "What documents did they hold?", "respond_by": "9999-12-31"},
    )
    assert InformationRequest.objects.count() == 0
    errors = a.errors(response, 422)
    assert [e["field"] for e in errors] == ["respond_by"]


# --- What the API tells less than the page (reviewer: apidev) ------------------------------


def test_a_child_referral_by_api_says_which_childrens_services_were_not_told(
    alice: User, northmoor_police: Organisation, routing: Organisation, lena: User
) -> None:
    """Who is hurt: a child referred by a police force's case management system through
    `POST /api/v1/referrals`, in an area whose child trafficking guardian service has nobody
    on OpenNRM.

    Now: the page's confirmation for the same referral warns "Nobody at the child trafficking
    guardian service for Testshire uses OpenNRM, so it has not been told. Contact it directly
    today." (`referrals.views.confirmation`, `selectors.childrens_services_told`). The API's
    201 says only the reference, the status and the competent authority: the officer working
    from their own system is never told that a children's service must be contacted by hand,
    and nobody contacts it.

    Should: the 201 for a child (or age-disputed person) says which children's services were
    told and which were not (as the reception API's `message` does for a child taken in)."""
    _, secret = a.token(alice, northmoor_police)
    client = a.client_with(secret)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = a.post_referral(client, r.CHILD_REFERRAL)
    assert response.status_code == 201, response.content
    body = json.dumps(response.json()).lower()
    # Lena (the local authority) was told; the guardian service has nobody and was not.
    assert "guardian" in body or "child_guardian_service" in body, response.json()


# --- Around the fixes -------------------------------------------------------------------------


def test_information_sent_again_changed_after_back_is_added_as_new(
    case: Case, alice: User, dmitri: User
) -> None:
    """The one-time key guards only a repeat: the form sent again with other words (changed
    after going Back) is new information, added and told, never dropped as a repeat; and that
    changed form sent twice is itself added once."""
    client = factories.signed_in_client(alice)
    url = reverse("cases:addition_add", args=[case.reference])
    data = form_data(client.get(url).content.decode())
    data["text"] = "She was moved between three houses."
    assert client.post(url, data).status_code == 302
    data["text"] = "She was moved between four houses, not three."
    assert client.post(url, data).status_code == 302
    client.post(url, data)  # the changed form, sent again

    added = [addition.text for addition in ReferralAddition.objects.filter(case=case)]
    assert added == ["She was moved between three houses.", data["text"]]
    told = Notification.objects.filter(kind="referral.information_added", recipient=dmitri)
    assert told.count() == 2


def test_an_answer_sent_twice_with_one_key_answers_once(
    case: Case, alice: User, dmitri: User
) -> None:
    """Two clicks on "Send the answer" at once: the second finds the answer the first made
    (the request is answered by then) and is told nothing new, rather than refused."""
    asked = services.information_request_ask(
        by=dmitri,
        case=case,
        question="Which town?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    key = uuid.uuid4()
    first = services.referral_addition_add(
        by=alice, case=case, text="Testtown", answers=asked, max_bytes=0, submission_key=key
    )
    again = services.referral_addition_add(
        by=alice, case=case, text="Testtown", answers=asked, max_bytes=0, submission_key=key
    )
    assert again.pk == first.pk
    assert ReferralAddition.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(kind="referral.information_added").count() == 1


def test_a_request_sent_again_with_another_day_is_asked_anew(
    case: Case, alice: User, dmitri: User
) -> None:
    """A key is one form: sent again with another day to answer by (changed after Back), the
    request is asked again, without the key, rather than dropped."""
    today = timezone.localdate()
    key = uuid.uuid4()
    for days in (7, 14):
        services.information_request_ask(
            by=dmitri,
            case=case,
            question="Which town?",
            respond_by=today + timedelta(days=days),
            submission_key=key,
        )
    asked = InformationRequest.objects.filter(case=case).order_by("id")
    assert [(r.respond_by - today).days for r in asked] == [7, 14]
    assert [r.submission_key for r in asked] == [key, None]


def test_the_request_page_refuses_a_day_more_than_three_months_ahead(
    case: Case, dmitri: User
) -> None:
    """A mistyped year on the page (2062 for 2026) is refused on the page, naming the field;
    the last day allowed (92 days ahead) is taken. The service refuses the same."""
    client = factories.signed_in_client(dmitri)
    url = reverse("cases:information_request_ask", args=[case.reference])
    data = form_data(client.get(url).content.decode())
    today = timezone.localdate()
    for by, asked in ((today.replace(year=today.year + 36), False), (today + timedelta(92), True)):
        data |= {
            "question": "Where was she kept?",
            "respond_by_day": str(by.day),
            "respond_by_month": str(by.month),
            "respond_by_year": str(by.year),
        }
        response = client.post(url, data)
        assert response.status_code == (302 if asked else 200)
        if not asked:
            assert "(within 3 months)" in response.content.decode()
        assert InformationRequest.objects.filter(case=case, respond_by=by).exists() is asked
    with pytest.raises(ValidationError) as refused:
        services.information_request_ask(
            by=dmitri, case=case, question="Q", respond_by=today + timedelta(93)
        )
    assert "respond_by" in refused.value.message_dict


def test_a_child_referral_by_api_names_each_childrens_service_told_or_not(
    alice: User, northmoor_police: Organisation, routing: Organisation, lena: User
) -> None:
    """The local authority (Lena) was told; the guardian service, with nobody on OpenNRM, was
    not: the 201 says so in two lists, as the confirmation page does."""
    _, secret = a.token(alice, northmoor_police)
    client = a.client_with(secret)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = a.post_referral(client, r.CHILD_REFERRAL)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["childrens_services_told"] == ["local_authority"]
    assert body["childrens_services_not_told"] == ["child_guardian_service"]


def test_an_adult_referral_by_api_lists_no_childrens_services_and_takes_a_tick_box_as_true(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    """For an adult both lists are empty; a tick box still takes JSON true (strict types refuse
    true only where the answer is text or a number)."""
    _, secret = a.token(alice, northmoor_police)
    client = a.client_with(secret)
    answers = {**r.ADULT_REFERRAL, "indicators": {"none_observed": True}}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = a.post_referral(client, answers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["childrens_services_told"], body["childrens_services_not_told"]) == ([], [])
