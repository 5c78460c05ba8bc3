"""Device cookies: a browser that has signed in to an account (password and code) before is
not held back by that account's throttle (OWASP, "Slow down online guessing attacks with device
cookies").

The account-wide throttle (`selectors.sign_in_wait`) is keyed on the e-mail address, so a
stranger who knows it and fails once each time the delay ends keeps everyone waiting, the owner
too. A browser the owner has signed in from carries a signed cookie naming the account (by a
keyed digest of its address, never the address itself): there the throttle does not apply,
only axes' lockout of one client, and the device's own failures, which take the cookie's
exemption away once they reach the same limit. A new browser still waits its turn.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

COOKIE = "opennrm_device"
SALT = "opennrm.accounts.devices"
MAX_AGE = timedelta(days=180)


def _account(email: str) -> str:
    return salted_hmac(SALT, email.strip().lower(), algorithm="sha256").hexdigest()


def remember(response: HttpResponse, email: str) -> None:
    """Mark the browser as one `email`'s owner signed in from, once the code is accepted."""
    response.set_cookie(
        COOKIE,
        signing.dumps(_account(email), salt=SALT),
        max_age=int(MAX_AGE.total_seconds()),
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def _failures_key(request: HttpRequest) -> str:
    return f"sign-in-device-failures:{_account(request.COOKIES.get(COOKIE, ''))}"


def known(request: HttpRequest, email: str) -> bool:
    """Whether this browser carries a valid device cookie for `email`'s account, not spent by
    failures of its own."""
    value = request.COOKIES.get(COOKIE)
    if not value:
        return False
    try:
        account = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    if account != _account(email):
        return False
    return int(cache.get(_failures_key(request), 0)) < settings.AXES_FAILURE_LIMIT


def failed(request: HttpRequest) -> None:
    """Count a failed password from a browser with a device cookie against that cookie."""
    if not request.COOKIES.get(COOKIE):
        return
    key = _failures_key(request)
    timeout = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if not cache.add(key, 1, timeout):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout)
