from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from opennrm.accounts.roles import ROLE_SCOPE, Role
from opennrm.accounts.selectors import memberships_of

from .home import ROLE_SUMMARY, tasks_for
from .middleware import api_error, is_api


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    memberships = [
        {
            "membership": m,
            "summary": ROLE_SUMMARY[Role(m.role)],
            "scope": ROLE_SCOPE[Role(m.role)].label,
            "tasks": tasks_for(user, Role(m.role)),  # type: ignore[arg-type]
        }
        for m in memberships_of(user)  # type: ignore[arg-type]
    ]
    return render(request, "pages/home.html", {"title": "Home", "memberships": memberships})


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html", {"title": "Accessibility statement"})


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html", {"title": "Cookies and privacy"})


@never_cache
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


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return api_error(500, "Sorry, there is a problem with the service. Try again later")
    try:
        return _error(
            request,
            "pages/errors/500.html",
            "Sorry, there is a problem with the service",
            500,
            "Sorry, there is a problem with the service",
        )
    except Exception:  # noqa: BLE001 - the layout itself failed (say, the database is down)
        return HttpResponse(
            "<!DOCTYPE html><html lang='en-GB'><head><title>Sorry, there is a problem with the"
            " service - OpenNRM</title></head><body><main><h1>Sorry, there is a problem with the"
            " service</h1><p>Try again later.</p></main></body></html>",
            status=500,
        )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request, "pages/errors/csrf.html", "Your form could not be sent", 403, "Forbidden"
    )
