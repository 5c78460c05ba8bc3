"""The access table, walked: for every page route, every role and an outsider, a role the table
does not allow gets 404 (exactly like a page that does not exist), and an allowed role is let
through to the page. Record-level scope (whose case, which organisation) is tested beside each
feature; this walks the route level for all of them at once."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from opennrm.accounts import access
from opennrm.accounts.models import User
from opennrm.accounts.roles import Role

from . import factories

# Placeholder values for route arguments, by converter: the route-level check happens before
# the view runs, so any well-formed value will do.
SAMPLE = {
    "int": "1",
    "str": "NRM-0000-0000",
    "slug": "reasonable-grounds",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def _routes(patterns: list, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((f"{namespace}{pattern.name}", route))
    return found


def _path(route: str) -> str:
    filled = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
    return "/" + filled.lstrip("^").rstrip("$")


PAGE_ROUTES = [
    (name, _path(route))
    for name, route in _routes(get_resolver().url_patterns)
    if name in access.ROUTES
    and not access.ROUTES[name].public
    and not access.ROUTES[name].before_two_factor
]


def test_the_walk_covers_every_signed_in_page() -> None:
    protected = {
        n for n, rule in access.ROUTES.items() if not rule.public and not rule.before_two_factor
    }
    assert {name for name, _ in PAGE_ROUTES} == protected


@pytest.mark.parametrize("role", [*list(Role), None], ids=lambda r: r.value if r else "outsider")
def test_roles_the_table_refuses_get_404_on_every_route(
    people_in_every_role: dict[Role, User], role: Role | None
) -> None:
    person = people_in_every_role[role] if role else factories.user("nobody@example.org")
    client = factories.signed_in_client(person)
    for name, path in PAGE_ROUTES:
        rule = access.ROUTES[name]
        allowed = not rule.roles or role in rule.roles
        for method in ("get", "post"):
            status = getattr(client, method)(path).status_code
            if allowed:
                # Let through the door: the view decides (a form, a redirect, or 404 for a
                # record this sample value does not name); never a server error.
                assert status < 500, (role, name, method, status)
            else:
                assert status == 404, (role, name, method, status)
