"""Rate limits on the API: per token, and per client address for requests without a known token.

Built on django-ninja's `SimpleRateThrottle`: a sliding window of the times of recent requests,
kept in Django's default cache. Settings make that cache the database cache, so every process
serving the API counts in the same place (docs/adr/0013-api-rate-limits.md).

`TokenAuth` applies them itself rather than through `NinjaAPI(throttle=...)`: ninja runs its
throttles only after authentication has succeeded, so a request with no token, an unknown one,
or one refused for its scope or role would never be counted, and guessing tokens would be
unlimited. A request that was refused for being over the limit is not counted.
"""

from __future__ import annotations

import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.throttling import SimpleRateThrottle

from opennrm.audit.middleware import client_ip

from .models import ApiToken

WINDOW_SECONDS = 60


class RateLimited(Throttled):
    """429: too many requests; `wait` is the whole number of seconds until one is allowed."""

    def __init__(self, wait: int, message: str) -> None:
        super().__init__(wait=wait)
        self.message = message


class _PerMinute(SimpleRateThrottle):
    """At most `limit` requests in any 60 seconds, for one key."""

    def __init__(self, limit: int) -> None:
        super().__init__(rate=f"{limit}/{WINDOW_SECONDS}s")

    def seconds_to_wait(self) -> int:
        """Whole seconds until a request will be allowed again: until the request that filled
        the window is older than the window. (ninja's own `wait()` spreads the wait over the
        requests still allowed, and says nothing once the window is over-full.)"""
        limit, window = self.num_requests or 1, self.duration or WINDOW_SECONDS
        filled_by = self.history[min(limit, len(self.history)) - 1]
        return max(1, math.ceil(filled_by + window - self.now))


class TokenThrottle(_PerMinute):
    scope = "api_token"

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        super().__init__(settings.API_TOKEN_REQUESTS_PER_MINUTE)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.token.pk}


class AddressThrottle(_PerMinute):
    scope = "api_address"

    def __init__(self) -> None:
        super().__init__(settings.API_ADDRESS_REQUESTS_PER_MINUTE)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": address_key(request)}


def address_key(request: HttpRequest) -> str:
    """Who is asking, for the per-address limit: the client's address as the audit trail and the
    sign-in lockout take it (`client_ip`, which trusts X-Forwarded-For only behind our proxy).
    An IPv6 client is counted by its /64 network, since one host usually holds a whole /64."""
    raw = client_ip(request)
    if raw is None:
        return "unknown"
    address = ipaddress.ip_address(raw)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def seconds_in_words(count: int) -> str:
    return "1 second" if count == 1 else f"{count} seconds"


def check_token(request: HttpRequest, token: ApiToken) -> None:
    """Count a request made with a known token; raise `RateLimited` if it is one too many."""
    throttle = TokenThrottle(token)
    if not throttle.allow_request(request):
        wait = throttle.seconds_to_wait()
        raise RateLimited(
            wait,
            f"Too many requests: this API token may make {throttle.num_requests} requests a "
            f"minute. Try again in {seconds_in_words(wait)}",
        )


def check_address(request: HttpRequest) -> None:
    """Count a request without a known token against its address; raise `RateLimited` if it is
    one too many."""
    throttle = AddressThrottle()
    if not throttle.allow_request(request):
        wait = throttle.seconds_to_wait()
        raise RateLimited(
            wait,
            f"Too many requests without a valid API token from this address: at most "
            f"{throttle.num_requests} a minute. Try again in {seconds_in_words(wait)}",
        )


class UserThrottle(_PerMinute):
    """A token's limit, for one person's requests through a page that answers what the API
    does (a stolen or shared session is no faster than a token)."""

    def __init__(self, scope: str, user_id: int) -> None:
        self.scope = f"page_{scope}"
        self.user_id = user_id
        super().__init__(settings.API_TOKEN_REQUESTS_PER_MINUTE)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.user_id}


def page_refusal(request: HttpRequest, scope: str, user_id: int) -> str | None:
    """Count one request of a person's through the pages of `scope`; the message to show if it
    is one too many (nothing is then done or recorded), else None."""
    throttle = UserThrottle(scope, user_id)
    if throttle.allow_request(request):
        return None
    wait = throttle.seconds_to_wait()
    return (
        f"Too many requests: you may make {throttle.num_requests} a minute. "
        f"Try again in {seconds_in_words(wait)}"
    )
