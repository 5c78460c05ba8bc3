"""`/healthz` answered before anything reads the request's Host header.

A load balancer or an orchestrator probes each instance at its own address (`Host: 10.0.0.5`:
AWS target groups and Kubernetes probes do by default), which is not among
DJANGO_ALLOWED_HOSTS (the site's name only). CommonMiddleware's host check would refuse the probe
(400), and every instance would be taken for unhealthy. The answer says nothing but whether the
database responds, so it is given whatever the host; every other request is checked as before.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import healthz

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    """Answers `GET` or `HEAD /healthz` itself, with the view the route would reach; anything
    else goes on down the middleware (another method to /healthz gets its 405 page there)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
