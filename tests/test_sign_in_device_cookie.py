"""The account-wide sign-in throttle and device cookies (`accounts/devices.py`): a stranger who
knows an address and fails once each time the delay ends cannot keep its owner out of a browser
they have signed in from (found in review, stop 33: before, the owner got 429 for the whole hour
while the stranger's script was a second quicker)."""

from __future__ import annotations

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts import devices
from opennrm.accounts.models import User

from . import factories
from .test_sign_in import current_code

SIGN_IN = reverse("accounts:sign_in")
VERIFY = reverse("accounts:two_factor_verify")


def _sign_in(client: Client, email: str, password: str = factories.PASSWORD):
    return client.post(SIGN_IN, {"email": email, "password": password})


def _owners_browser(alice: User) -> Client:
    """Alice's usual browser: she has signed in from it (password and code), then out."""
    device = factories.totp_device(alice)
    owner = Client(REMOTE_ADDR="198.51.100.30")
    assert _sign_in(owner, alice.email).status_code == 302
    assert owner.post(VERIFY, {"code": current_code(device)}).status_code == 302
    assert devices.COOKIE in owner.cookies
    assert alice.email not in owner.cookies[devices.COOKIE].value  # a digest, not the address
    owner.post(reverse("accounts:sign_out"))
    return owner


class _Stranger:
    """Fails once at a time, moving to a new address every five tries (under axes' lockout)."""

    def __init__(self, email: str) -> None:
        self.email, self.attempts = email, 0

    def fails(self) -> None:
        client = Client(REMOTE_ADDR=f"192.0.2.{self.attempts // 5 + 1}")
        self.attempts += 1
        _sign_in(client, self.email, "wrong-password")


def _throttled_to_the_longest_delay(stranger: _Stranger, email: str, traveller) -> None:
    for _ in range(13):
        stranger.fails()
        response = _sign_in(Client(REMOTE_ADDR="203.0.113.9"), email, "x")
        traveller.shift(int(response.get("Retry-After", "1")))
    stranger.fails()
    traveller.shift(1)


def test_a_stranger_failing_once_per_delay_cannot_keep_the_owner_out_of_their_browser(
    alice: User,
) -> None:
    owner = _owners_browser(alice)
    stranger = _Stranger(alice.email)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _throttled_to_the_longest_delay(stranger, alice.email, traveller)
        # A new browser still waits its turn...
        assert _sign_in(Client(REMOTE_ADDR="198.51.100.77"), alice.email).status_code == 429
        # ...the owner's own gets straight to the code.
        response = _sign_in(owner, alice.email)
        assert response.status_code == 302
        assert response["Location"].startswith(VERIFY)


def test_a_device_cookie_spent_by_its_own_failures_waits_like_any_browser(alice: User) -> None:
    owner = _owners_browser(alice)
    stranger = _Stranger(alice.email)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _throttled_to_the_longest_delay(stranger, alice.email, traveller)
        # The cookie copied to a guesser's machine (or the owner mistyping): its own failures,
        # from addresses axes has not locked, spend it at the same limit.
        cookie = owner.cookies[devices.COOKIE].value
        for n in range(5):
            guesser = Client(REMOTE_ADDR=f"198.18.0.{n + 1}")
            guesser.cookies[devices.COOKIE] = cookie
            assert _sign_in(guesser, alice.email, "wrong-password").status_code == 200
        assert _sign_in(owner, alice.email).status_code == 429


def test_a_device_cookie_for_another_account_or_forged_exempts_nothing(
    alice: User, dmitri: User
) -> None:
    owner = _owners_browser(alice)
    stranger = _Stranger(dmitri.email)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _throttled_to_the_longest_delay(stranger, dmitri.email, traveller)
        assert _sign_in(owner, dmitri.email).status_code == 429
        forged = Client(REMOTE_ADDR="198.51.100.31")
        forged.cookies[devices.COOKIE] = "forged:value"
        assert _sign_in(forged, dmitri.email).status_code == 429
