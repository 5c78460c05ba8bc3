"""The URL walker the access and page tests share: every named route, a path for each with
sample values, and which test is each page's own (the `page` marker, found by reading the test
files so that it works however much of the suite runs, and under xdist)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve

from opennrm.accounts import access

TESTS = Path(__file__).parent

# Placeholder values for route arguments, by converter: the route-level checks happen before
# the view runs, so any well-formed value will do.
SAMPLE = {
    "int": "1",
    "str": "NRM-0000-0000",
    "slug": "reasonable-grounds",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}

# The same for the API's path parameters, by name.
API_SAMPLE = {
    "reference": "NRM-0000-0000",
    "name": "reasonable-grounds",
    "decision_id": "1",
    "request_id": "1",
    "placement_id": "1",
    "placement_request_id": "1",
    "site_id": "1",
    "release_id": "1",
    "number": "1",
    "operation_id": "1",
}


def routes(urlconf: str | None = None) -> list[tuple[str, str]]:
    """(name, route) of every route, named `<unnamed pattern>` where it has no name."""
    return _walk(get_resolver(urlconf).url_patterns)


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((f"{namespace}{pattern.name}", route))
        elif isinstance(pattern, URLPattern):
            found.append((f"{namespace}<unnamed {pattern.pattern}>", route))
    return found


def view_names(urlconf: str | None = None) -> list[str]:
    return [name for name, _ in routes(urlconf)]


def sample_path(route: str) -> str:
    """The route with a sample value in each argument."""
    filled = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
    return "/" + filled.lstrip("^").rstrip("$")


def api_route_of(template: str) -> str:
    """The route name of an OpenAPI path template such as /api/v1/cases/{reference}."""
    path = re.sub(r"\{(\w+)\}", lambda m: API_SAMPLE[m.group(1)], template)
    return resolve(path).view_name


def api_sample_path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: API_SAMPLE[m.group(1)], template)


def page_routes() -> set[str]:
    """Every route of the access table: each is a page (the API and the admin have their
    namespaces in access.NAMESPACES, not here)."""
    return set(access.ROUTES)


def page_tests() -> dict[str, list[str]]:
    """Route name -> the tests marked `@pytest.mark.page(route)`, as `file::[Class::]test`.
    Browser journeys do not count: they are not in the everyday suite."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.glob("**/*.py")):
        if "browser" in path.relative_to(TESTS).parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for owner, function in _functions(tree):
            for decorator in function.decorator_list:
                for route in _page_marker_routes(decorator):
                    name = "::".join([str(path.relative_to(TESTS.parent)), *owner, function.name])
                    found.setdefault(route, []).append(name)
    return found


def _functions(tree: ast.Module) -> list[tuple[list[str], ast.FunctionDef]]:
    found: list[tuple[list[str], ast.FunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append(([], node))
        elif isinstance(node, ast.ClassDef):
            found += [([node.name], f) for f in node.body if isinstance(f, ast.FunctionDef)]
    return found


def _page_marker_routes(decorator: ast.expr) -> list[str]:
    """The routes named by `@pytest.mark.page("app:name", ...)`, else none."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return []
    marker = decorator.func
    if not (
        marker.attr == "page"
        and isinstance(marker.value, ast.Attribute)
        and marker.value.attr == "mark"
    ):
        return []
    return [
        a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]


def declared_methods(name: str, route: str) -> list[str] | None:
    """The methods a route's view declares (require_http_methods and its kin), or None."""
    view: Any = resolve(sample_path(route)).func
    while view is not None:
        if hasattr(view, "__code__"):
            declared = inspect.getclosurevars(view).nonlocals.get("request_method_list")
            if declared is not None:
                return list(declared)
        view = getattr(view, "__wrapped__", None)
    return None
