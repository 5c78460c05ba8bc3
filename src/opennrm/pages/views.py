from __future__ import annotations

import logging
import secrets
import sys

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.roles import ROLE_SCOPE, Role
from opennrm.audit.context import current as current_request
from opennrm.lib.log_redaction import redact

from .attention import attention_for
from .home import ROLE_SUMMARY, tasks_for
from .middleware import api_error, is_api

logger = logging.getLogger(__name__)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    memberships = [
        {
            "membership": m,
            "summary": ROLE_SUMMARY[Role(m.role)],
            "scope": ROLE_SCOPE[Role(m.role)].label,
            "attention": attention_for(actor, m),
            "tasks": tasks_for(actor, Role(m.role)),
        }
        for m in actor.memberships()
    ]
    return render(request, "pages/home.html", {"title": "Home", "memberships": memberships})


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/accessibility.html",
        {
            "title": "Accessibility statement",
            "site_url": settings.SITE_URL,
            "warning_minutes": max(1, settings.SESSION_WARNING_SECONDS // 60),
        },
    )


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html", {"title": "Cookies and privacy"})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _error(
    request: HttpRequest, template: str, title: str, status: int, api_message: str
) -> HttpResponse:
    """The GOV.UK error page; under /api/, the API's error shape with the same status."""
    if is_api(request):
        return api_error(status, api_message)
    return render(request, template, {"title": title}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        "pages/errors/400.html",
        "There is a problem with your request",
        400,
        "The request could not be understood",
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "pages/errors/403.html", "You cannot do that", 403, "Forbidden")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "pages/errors/404.html", "Page not found", 404, "Not found")


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return _error(
        request,
        "pages/errors/405.html",
        "This page cannot be used that way",
        405,
        "Method not allowed",
    )


def error_reference() -> str:
    """A short reference a person can quote, that finds the error in the server's log: the
    start of the request's id, which every log line of the request carries."""
    context = current_request()
    start = context.request_id[:10] if context else secrets.token_hex(5)
    return start.upper()


def server_error(request: HttpRequest) -> HttpResponse:
    reference = error_reference()
    # Called while the exception is being handled: the log line carries its traceback.
    logger.error(
        "Server error, reference %s, on %s %s",
        reference,
        request.method,
        redact(request.path),  # an invitation's or a reset's path holds its live token
        exc_info=sys.exc_info()[0] is not None,
    )
    if is_api(request):
        return api_error(
            500,
            "Sorry, there is a problem with the service. Try again later; if you report it, "
            f"quote the reference {reference}",
        )
    try:
        return render(
            request,
            "pages/errors/500.html",
            {"title": "Sorry, there is a problem with the service", "reference": reference},
            status=500,
        )
    except Exception:  # noqa: BLE001 - the layout itself failed (say, the database is down)
        return HttpResponse(
            "<!DOCTYPE html><html lang='en-GB'><head><title>Sorry, there is a problem with the"
            " service - OpenNRM</title></head><body><main><h1>Sorry, there is a problem with the"
            " service</h1><p>Try again later.</p><p>If you tell someone about it, quote this"
            f' reference:</p><p id="error-reference">{reference}</p></main></body></html>',
            status=500,
        )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request, "pages/errors/csrf.html", "Your form could not be sent", 403, "Forbidden"
    )
