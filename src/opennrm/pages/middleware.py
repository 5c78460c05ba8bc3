"""The service's own page for a request with the wrong method (405), like its 404 and 500."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed


class MethodNotAllowedPageMiddleware:
    """Django's `require_POST` and friends answer 405 with an empty body; a person who follows
    a stale link or reloads a page gets the service's page instead, saying what to do. The API
    keeps its own JSON answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponseNotAllowed)
            and not response.content
            and not request.path.startswith("/api/")
        ):
            from .views import method_not_allowed

            page = method_not_allowed(request)
            page["Allow"] = response["Allow"]
            return page
        return response
