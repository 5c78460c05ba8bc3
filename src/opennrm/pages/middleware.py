"""HTTP rules that hold for every request and response, whatever the page or API operation.

- `NoStoreMiddleware`: no response Django makes may be kept by a browser or a proxy.
- `MethodNotAllowedPageMiddleware`: a page asked with the wrong method gets the service's 405
  page, not an empty body.
- `RequestScreeningMiddleware`: a body larger than the route takes is refused (413) before
  anything reads it, and a NUL byte in the path (404) or the query (400; 422 in the API) stops
  the request before it reaches a view or a database query.

Both answer the API's routes in the API's error shape (`{"errors": [...]}`) and every other
route with the GOV.UK error page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus, unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

API_PREFIX = "/api/"

# The routes that take a file, and so a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE.
UPLOAD_ROUTES = frozenset(
    {
        "referrals:evidence",
        "cases:addition_add",
        "cases:information_request_answer",
        "cases:reconsideration_request",
    }
)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


# API routes that answer an unknown reference as a known one and so never say 404 (the
# protection check, ADR 40): a NUL byte in their reference is refused as a malformed one.
NEVER_404_PREFIXES = ("/api/v1/protection/",)


def api_error(status: int, message: str) -> JsonResponse:
    """The API's one error shape, for answers given before (or instead of) the API itself."""
    return JsonResponse(
        {"errors": [{"step": None, "field": None, "message": message}]}, status=status
    )


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and, for HTTP/1.0 caches, `Pragma: no-cache`) on every response
    Django makes: pages, redirects, error pages and API answers, signed in or not.

    Deciding per view which responses carry identifying data would fail open the day a view is
    added and forgotten; and the few pages that hold nothing (sign-in, the accessibility
    statement) gain nothing from a cache, carry a CSRF token or a CSP nonce that must not be
    reused, and are read before or after someone's session, on shared computers. Static files
    are what is worth caching, and WhiteNoise serves those before this middleware is reached.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


def route_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


def size_in_words(size: int) -> str:
    megabyte = 1024 * 1024
    return f"{size // megabyte} MB" if size >= megabyte else f"{max(1, size // 1024)} KB"


class RequestScreeningMiddleware:
    """Refuses, before any view, CSRF check or form reads the body, a request that no route
    could take.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only for the parts of a form that are not files,
    and only once a view reads them: an upload of any size was streamed to a temporary file
    first. Here the declared Content-Length is checked against the route's limit (an evidence
    file and the form around it on the upload routes, the form or JSON limit everywhere else),
    and Django never reads more than Content-Length, so nothing larger is read at all.

    A NUL byte cannot be part of any address OpenNRM makes, and PostgreSQL refuses a query
    holding one (a server error, had the path reached a view): 404 for the path, as for any page
    that does not exist; 400 for the query string of a page, and 422 for the API's (as it
    answers any query parameter it cannot take).

    A form whose body is not UTF-8 gets 400: Django would decode it with replacement
    characters, and what is written from it (a case note) is kept for ever.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from . import views

        if "\x00" in request.path or "\x00" in request.path_info:
            if request.path.startswith(NEVER_404_PREFIXES):
                # The protection check never says 404 (ADR 40): a malformed reference is 422.
                return JsonResponse(
                    {
                        "errors": [
                            {
                                "step": None,
                                "field": "reference",
                                "message": "Enter a reference in the form NRM-7K3Q-9XPD",
                            }
                        ]
                    },
                    status=422,
                )
            return api_error(404, "Not found") if is_api(request) else views.not_found(request)
        if "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            if is_api(request):
                # 422, as for any other query parameter the API cannot take.
                return api_error(422, "The query string holds a NUL byte, which no parameter takes")
            return views.bad_request(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        upload = route_name(request) in UPLOAD_ROUTES
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if upload:
            limit += settings.EVIDENCE_MAX_BYTES
        if length > limit:
            return self.too_large(request, limit, upload=upload)
        if request.content_type == "application/x-www-form-urlencoded" and not _utf8(request.body):
            # Django would decode it with replacement characters, and a note is kept for ever.
            return views.bad_request(request)
        return self.get_response(request)

    def too_large(self, request: HttpRequest, limit: int, *, upload: bool) -> HttpResponse:
        if is_api(request):
            return api_error(
                413, f"The request body is too large: send less than {size_in_words(limit)}"
            )
        return render(
            request,
            "pages/errors/413.html",
            {
                "title": "The file you sent is too large"
                if upload
                else "What you sent is too large",
                "upload": upload,
                "file_size": size_in_words(settings.EVIDENCE_MAX_BYTES),
            },
            status=413,
        )


class MethodNotAllowedPageMiddleware:
    """Django's `require_POST` and friends answer 405 with an empty body; a person who follows
    a stale link or reloads a page gets the service's page instead, saying what to do. The API
    answers in its own error shape (`{"errors": [...]}`, as every other API error), where ninja
    would answer in plain text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        if is_api(request):
            if response.get("Content-Type", "").startswith("application/json"):
                return response
            from opennrm.api.schemas import error_out

            allowed = response["Allow"]
            answer: HttpResponse = JsonResponse(
                error_out(
                    f"This address does not take {request.method} requests; it takes {allowed}"
                ).model_dump(),
                status=405,
            )
        elif not response.content:
            from .views import method_not_allowed

            answer = method_not_allowed(request)
        else:
            return response
        answer["Allow"] = response["Allow"]
        return answer


def _utf8(form_body: bytes) -> bool:
    """Whether a form's body, once its %-escapes are undone, is UTF-8 (browsers send the
    service's forms as UTF-8; other bytes come from something else)."""
    try:
        unquote_to_bytes(form_body.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
