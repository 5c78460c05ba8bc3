"""HTTP rules that hold for every request and response, whatever the page or API operation.

- `NoStoreMiddleware`: no response Django makes may be kept by a browser or a proxy.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


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
