"""No response that Django itself makes may be kept by a browser or a proxy (issue 10, item 7):
every page and every API answer carries `Cache-Control: no-store`; only static files, served by
WhiteNoise before any of our code runs, may be cached."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import Organisation, User

from . import api_helpers as a
from . import factories


def assert_not_stored(response) -> None:
    assert "no-store" in response["Cache-Control"], response.get("Cache-Control")
    assert response["Pragma"] == "no-cache"


def test_signed_in_pages_are_not_stored(alice: User) -> None:
    client = factories.signed_in_client(alice)
    for route in ("pages:home", "referrals:my_referrals", "notifications:list"):
        response = client.get(reverse(route))
        assert response.status_code == 200
        assert_not_stored(response)
    # Redirects and error pages too.
    assert_not_stored(client.post(reverse("referrals:draft_start")))
    assert_not_stored(client.get("/cases/NO-SUCH-CASE/"))


@pytest.mark.parametrize("path", ["/sign-in/", "/cookies-and-privacy/", "/no-such-page/"])
def test_pages_for_people_not_signed_in_are_not_stored(db: None, path: str) -> None:
    assert_not_stored(Client().get(path))


def test_api_answers_are_not_stored(alice: User, northmoor_police: Organisation) -> None:
    _, secret = a.token(alice, northmoor_police)
    ok = a.client_with(secret).get(a.REFERRALS_URL)
    assert ok.status_code == 200
    assert_not_stored(ok)
    refused = Client().get(a.REFERRALS_URL)
    assert refused.status_code == 401
    assert_not_stored(refused)


def test_static_files_may_be_cached(db: None) -> None:
    response = Client().get("/static/images/favicon.svg")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
