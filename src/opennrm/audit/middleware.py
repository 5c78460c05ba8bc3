from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import context


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, as the server saw it.

    Behind a reverse proxy, configure the proxy to set REMOTE_ADDR (for example with uWSGI or
    gunicorn's forwarded-allow-ips) rather than trusting a client-supplied header here.
    """
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        token = context.set_current(
            context.RequestContext(
                ip_address=client_ip(request),
                request_id=request_id,
                user_agent=request.headers.get("user-agent", "")[:300],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response
