"""Public pages, error pages, security headers and the health check."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client, override_settings
from django.urls import reverse

from opennrm.accounts.models import User

from . import factories


@pytest.mark.parametrize("route", ["pages:accessibility", "pages:privacy", "accounts:sign_in"])
def test_public_pages_open_without_signing_in(db: None, route: str) -> None:
    response = Client().get(reverse(route))
    assert response.status_code == 200
    assert "OpenNRM" in response.content.decode()


def test_pages_are_rebranded_without_the_crown_or_gds_font(alice: User) -> None:
    html = factories.signed_in_client(alice).get("/").content.decode()
    assert "govuk-logo" not in html
    assert "crown" not in html.lower()
    assert '<span class="app-logotype">OpenNRM</span>' in html
    assert "govuk-phase-banner" in html
    assert "Accessibility statement" in html


def test_strict_content_security_policy_with_a_nonce_on_every_script(alice: User) -> None:
    response = factories.signed_in_client(alice).get("/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert scripts
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_each_response_gets_a_fresh_nonce(db: None) -> None:
    client = Client()
    first = client.get(reverse("accounts:sign_in"))["Content-Security-Policy"]
    second = client.get(reverse("accounts:sign_in"))["Content-Security-Policy"]
    assert first != second


def test_not_found_page_uses_the_service_design(alice: User) -> None:
    response = factories.signed_in_client(alice).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "govuk-template" in html


def test_server_error_page_uses_the_service_design(rf, db: None) -> None:
    from opennrm.pages.views import forbidden, server_error

    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    request._csp_nonce = "n"
    response = server_error(request)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()
    assert "govuk-template" in response.content.decode()
    assert forbidden(request).status_code == 403


def test_server_error_page_survives_a_broken_layout(rf) -> None:
    from opennrm.pages import views

    with mock.patch.object(views, "_error", side_effect=RuntimeError("layout broken")):
        response = views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content


@override_settings(DEBUG=False)
def test_unexpected_exceptions_show_the_500_page(alice: User) -> None:
    client = factories.signed_in_client(alice)
    client.raise_request_exception = False
    with mock.patch("opennrm.pages.views.render", side_effect=RuntimeError("boom")):
        response = client.get(reverse("pages:accessibility"))
    assert response.status_code == 500


def test_csrf_failure_page_explains(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:sign_in"), {"email": "a@example.org", "password": "x"})
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()


@pytest.mark.page("pages:healthz")
def test_healthz_reports_the_database(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_fails_when_the_database_does_not_answer(db: None) -> None:
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")
    ):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.mark.page("pages:home")
def test_home_lists_each_role_with_its_tasks(olivia: User) -> None:
    html = factories.signed_in_client(olivia).get("/").content.decode()
    assert "Organisation administrator" in html
    assert "Northmoor Police" in html
    assert "Manage users" in html
