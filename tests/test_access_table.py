"""Every route has a rule in the access table, and a route without one is refused."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import get_resolver, path

from opennrm.accounts import access
from opennrm.accounts.models import User

from . import factories, routes


def routes_without_rule(urlconf: str | None = None) -> list[str]:
    missing = []
    for name in routes.view_names(urlconf):
        namespace = name.split(":", 1)[0] if ":" in name else ""
        if name not in access.ROUTES and namespace not in access.NAMESPACES:
            missing.append(name)
    return missing


def test_every_route_has_an_access_rule() -> None:
    assert routes_without_rule() == []


def test_every_rule_names_a_real_route() -> None:
    names = set(routes.view_names())
    assert set(access.ROUTES) - names == set()


def _secret(request):  # pragma: no cover - must never run
    raise AssertionError("a route without an access rule was served")


urlpatterns = [*get_resolver().url_patterns, path("unruled/", _secret, name="unruled")]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_route_added_without_a_rule_is_found_and_refused(sysadmin: User) -> None:
    assert routes_without_rule(__name__) == ["unruled"]
    response = factories.signed_in_client(sysadmin).get("/unruled/")
    assert response.status_code == 404
    assert Client().get("/unruled/").status_code == 404
