"""The access table, walked: for every page route, every role and an outsider, a role the table
does not allow gets 404 (exactly like a page that does not exist), and an allowed role is let
through to the page. The same for every API operation, with a token acting for a member in each
role: a role the table does not allow gets the API's 403, which names no record (the decision is
made from the token alone, before any record is looked up). Record-level scope (whose case, which
organisation) is tested beside each feature; this walks the route level for all of them at once."""

from __future__ import annotations

import pytest
from django.test import Client

from opennrm.accounts import access
from opennrm.accounts.models import Membership, User
from opennrm.accounts.roles import Role
from opennrm.api.urls import api

from . import api_helpers, factories, routes

PAGE_ROUTES = [
    (name, routes.sample_path(route))
    for name, route in routes.routes()
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


# --- The API, walked ------------------------------------------------------------------------------
# Every API operation, for a token acting for a member in each role (with every scope, so that
# only the role decides) and for an outsider: the rule's roles are let through to the handler,
# every other role gets the API's refusal. Record-level scope is tested beside each operation
# (tests/test_api_*.py).

ROLE_REFUSED = "The member this API token acts for does not hold a role that may use this operation"


def _api_operations() -> list[tuple[str, str, str]]:
    """(method, path with sample values, route name) for every operation in the OpenAPI
    document, so an operation added without a rule is walked too (and refused)."""
    found = []
    for template, methods in api.get_openapi_schema()["paths"].items():
        path = routes.api_sample_path(template)
        route = routes.api_route_of(template)
        found += [(method.upper(), path, route) for method in methods]
    return found


def _api_call(client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return client.generic(method, path, "{}", content_type="application/json")


def test_the_api_walk_covers_every_operation_in_the_table() -> None:
    walked = {(method, route) for method, _, route in _api_operations()}
    assert walked == set(access.API_OPERATIONS) | access.PUBLIC_API_OPERATIONS


def test_the_public_api_operations_answer_without_a_token(db: None) -> None:
    """Published statistics: no token, no session; the sample version does not exist (404),
    but nothing refuses the caller at the door."""
    for method, path, route in _api_operations():
        if (method, route) in access.PUBLIC_API_OPERATIONS:
            response = _api_call(Client(), method, path)
            assert response.status_code in (200, 404), (route, response.status_code)


@pytest.mark.parametrize("role", [*list(Role), None], ids=lambda r: r.value if r else "outsider")
def test_api_roles_the_table_refuses_get_403_on_every_operation(
    people_in_every_role: dict[Role, User], role: Role | None
) -> None:
    if role is not None:
        person = people_in_every_role[role]
        organisation = person.memberships.get().organisation
    else:
        # An outsider to the API: in the token's organisation they only administer accounts,
        # which opens no operation but those for every role (the directory); the roles they
        # hold elsewhere must not come with the token.
        organisation = people_in_every_role[Role.ORGANISATION_ADMIN].memberships.get().organisation
        person = factories.user(
            "outsider@example.org", organisation=organisation, role=Role.ORGANISATION_ADMIN
        )
        for role_elsewhere, holder in people_in_every_role.items():
            elsewhere = holder.memberships.get().organisation
            if elsewhere != organisation:
                Membership.objects.create(user=person, organisation=elsewhere, role=role_elsewhere)
    _, secret = api_helpers.token(person, organisation, scopes=api_helpers.EVERY_SCOPE)
    client = api_helpers.client_with(secret)
    # The one role the token carries: the outsider's in the token's organisation.
    held = role if role is not None else Role.ORGANISATION_ADMIN
    for method, path, route in _api_operations():
        if (method, route) in access.PUBLIC_API_OPERATIONS:
            continue  # no token needed: walked above
        rule = access.api_rule_for(method, route)
        assert rule is not None, (method, route)
        response = _api_call(client, method, path)
        if held in rule.roles:
            # Let through to the handler: a page of results, 404 for the sample record, 422 for
            # the empty body; never refused at the door, never a server error.
            assert response.status_code not in (401, 403), (role, method, path, response.content)
            assert response.status_code < 500, (role, method, path, response.status_code)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert response.json() == {
                "errors": [{"step": None, "field": None, "message": ROLE_REFUSED}]
            }
