"""Every page has a test of its own: a test marked `@pytest.mark.page("app:name")` that follows
the page's happy path and asserts its effect (the row written, the state changed, the content
shown), so that deleting the view's body fails it. The wrong method, an outsider's 404 and the
read recorded are checked beside it or, for every route at once, by the access matrix
(tests/test_access_matrix.py) and the audit-read tests (tests/test_audit_reads.py).

The markers are found by reading the test files (tests/routes.py), not by collecting them, so
this holds when only this file runs, and under xdist. To see which test is whose:
`python3 -m uv run pytest -q tests/test_page_tests.py -rP -k listing`.
"""

from __future__ import annotations

from django.test import Client

from opennrm.accounts import access
from opennrm.accounts.models import User
from opennrm.accounts.roles import Role

from . import factories, routes


def test_every_page_route_has_a_page_test_of_its_own() -> None:
    tested = routes.page_tests()
    missing = sorted(routes.page_routes() - set(tested))
    assert missing == [], f"routes without a @pytest.mark.page test: {missing}"


def test_every_page_marker_names_a_route_of_the_access_table() -> None:
    unknown = {
        route: tests
        for route, tests in routes.page_tests().items()
        if route not in routes.page_routes()
    }
    assert unknown == {}


def test_listing_which_test_is_each_pages_own() -> None:
    """Prints the list, for a reader (run with -rP); fails only if it is empty."""
    tested = routes.page_tests()
    for route in sorted(tested):
        print(route, "\n    " + "\n    ".join(tested[route]))
    assert tested


def _client_for(rule: access.Rule, people: dict[Role, User]) -> Client:
    if rule.public:
        return Client()
    person = people[min(rule.roles)] if rule.roles else people[Role.FIRST_RESPONDER]
    return factories.signed_in_client(person)


def test_every_page_refuses_a_method_it_does_not_take_with_the_services_405_page(
    people_in_every_role: dict[Role, User],
) -> None:
    undeclared = set()
    for name, route in routes.routes():
        if name not in routes.page_routes():
            continue
        methods = routes.declared_methods(name, route)
        if methods is None:
            undeclared.add(name)
            continue
        client = _client_for(access.ROUTES[name], people_in_every_role)
        response = client.generic("DELETE", routes.sample_path(route))
        assert response.status_code == 405, (name, response.status_code)
        assert response["Allow"] == ", ".join(methods), name
        assert "This page cannot be used that way" in response.content.decode(), name
    # Every page declares the methods it takes (a page that only shows: GET and HEAD).
    assert undeclared == set()
