"""Secure headers on every kind of response: a public page, a signed-in page, API responses, the
API's documentation and the 404 page all carry a strict Content Security Policy and the other
browser protections; under the production HTTPS settings, HSTS is sent and the session and CSRF
cookies are Secure, HttpOnly and SameSite."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from http.cookies import Morsel
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

import opennrm.settings
from opennrm.accounts.models import Organisation, User

from . import api_helpers as a
from . import factories

# Who fetches what: each representative response, from a client of the right kind.
RESPONSES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "public page": lambda w: Client().get(reverse("pages:accessibility")),
    "sign-in page": lambda w: Client().get(reverse("accounts:sign_in")),
    "signed-in page": lambda w: w["browser"].get(reverse("pages:home")),
    "404 page": lambda w: w["browser"].get("/no-such-page/"),
    "API response": lambda w: a.client_with(w["secret"]).get(a.REFERRALS_URL),
    "API 401": lambda w: Client().get(a.REFERRALS_URL),
    "API 404": lambda w: a.client_with(w["secret"]).get(a.REFERRALS_URL + "/NRM-0000-0000"),
    "API documentation": lambda w: Client().get("/api/v1/docs"),
    "OpenAPI document": lambda w: Client().get("/api/v1/openapi.json"),
}
EXPECTED_STATUS = {"404 page": 404, "API 401": 401, "API 404": 404}


@pytest.fixture
def world(alice: User, northmoor_police: Organisation) -> dict[str, Any]:
    _, secret = a.token(alice, northmoor_police, scopes=a.EVERY_SCOPE)
    return {"browser": factories.signed_in_client(alice), "secret": secret}


def policy_of(response: HttpResponse) -> dict[str, list[str]]:
    """The Content-Security-Policy header, as directive -> sources."""
    directives: dict[str, list[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            assert words[0] not in directives, f"{words[0]} given twice"
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("kind", list(RESPONSES))
def test_every_kind_of_response_carries_the_protections(world: dict, kind: str) -> None:
    response = RESPONSES[kind](world)
    assert response.status_code == EXPECTED_STATUS.get(kind, 200), response.content[:300]

    policy = policy_of(response)
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    # Scripts only from our own origin or carrying this response's nonce.
    assert {s for s in policy["script-src"] if not s.startswith("'nonce-")} == {"'self'"}
    everything = [source for sources in policy.values() for source in sources]
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"):
        assert loose not in everything, (kind, loose)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# --- Under the production HTTPS settings ---------------------------------------------------------


def _settings_module(https: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("OPENNRM_HTTPS", https)
    monkeypatch.setenv("OPENNRM_DEMO", "false")
    found = runpy.run_path(str(Path(opennrm.settings.__file__)))
    return {name: value for name, value in found.items() if name.isupper()}


@pytest.fixture
def https_settings(settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Exactly what OPENNRM_HTTPS=true changes in the real settings module, applied to this
    test: these are the production values, read from settings.py, not written out here."""
    on = _settings_module("true", monkeypatch)
    off = _settings_module("false", monkeypatch)
    changed = {name: on[name] for name in on if on[name] != off.get(name)}
    for name, value in changed.items():
        setattr(settings, name, value)
    return changed


def _cookie(response: HttpResponse, name: str) -> Morsel:
    assert name in response.cookies, f"{name} was not set"
    return response.cookies[name]


def _assert_locked_down(cookie: Morsel) -> None:
    assert cookie["secure"] is True, cookie.key
    assert cookie["httponly"] is True, cookie.key
    assert cookie["samesite"] in ("Lax", "Strict"), cookie.key


def test_the_https_switch_covers_cookies_redirect_and_hsts(https_settings: dict) -> None:
    assert {
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
    } <= set(https_settings)


def test_over_https_hsts_is_sent_and_cookies_are_secure_httponly_and_samesite(
    https_settings: dict, alice: User
) -> None:
    factories.totp_device(alice)
    browser = Client()
    page = browser.get(reverse("accounts:sign_in"), secure=True)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    _assert_locked_down(_cookie(page, "csrftoken"))

    signed_in = browser.post(
        reverse("accounts:sign_in"),
        {"email": alice.email, "password": factories.PASSWORD},
        secure=True,
    )
    assert signed_in.status_code == 302
    _assert_locked_down(_cookie(signed_in, "sessionid"))


def test_over_https_the_api_sends_hsts_too(https_settings: dict, world: dict) -> None:
    response = a.client_with(world["secret"]).get(a.REFERRALS_URL, secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_plain_http_is_redirected_to_https_except_the_health_check(
    https_settings: dict, db: None
) -> None:
    response = Client().get(reverse("pages:accessibility"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert Client().get("/healthz").status_code == 200
