"""Signing in: password, then mandatory two-factor; lockout; the limit on guessing codes; the demo
exception."""

from __future__ import annotations

import base64
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent

from . import factories

HOME = reverse("pages:home")
SIGN_IN = reverse("accounts:sign_in")
SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")


def sign_in(client: Client, email: str, password: str = factories.PASSWORD):
    return client.post(SIGN_IN, {"email": email, "password": password})


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_sign_in_page_is_served(db: None) -> None:
    response = Client().get(SIGN_IN)
    assert response.status_code == 200
    assert "Sign in to OpenNRM" in response.content.decode()


def test_wrong_password_gives_a_clear_error_and_keeps_the_email(alice: User) -> None:
    response = sign_in(Client(), alice.email, "not-the-password")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a correct email address and password" in html
    assert 'value="alice@example.org"' in html
    assert "not-the-password" not in html


def test_missing_fields_are_named(db: None) -> None:
    html = Client().post(SIGN_IN, {"email": "", "password": ""}).content.decode()
    assert "Enter your email address" in html
    assert "Enter your password" in html
    assert html.count('href="#id_email"') == 1


@pytest.mark.page("accounts:two_factor_setup")
def test_first_sign_in_enrols_an_authenticator_then_lands_home(alice: User) -> None:
    client = Client()
    response = sign_in(client, alice.email)
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)
    # Until two-factor is done, nothing else opens.
    assert client.get(HOME)["Location"].startswith(VERIFY)

    page = client.get(SETUP).content.decode()
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'id="secret-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    assert base64.b32encode(device.bin_key).decode().rstrip("=") == secret

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        wrong = "000000" if current_code(device) != "000000" else "111111"
        assert (
            "The security code is not correct"
            in client.post(SETUP, {"code": wrong}).content.decode()
        )
        # Straight after a wrong code, even the right one waits (django-otp's throttle).
        too_soon = client.post(SETUP, {"code": current_code(device)}).content.decode()
        assert "Wait a few seconds" in too_soon
        traveller.shift(3)
        device.refresh_from_db()
        response = client.post(SETUP, {"code": current_code(device)})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200
    assert TOTPDevice.objects.get(user=alice).confirmed
    assert AuditEvent.objects.filter(action="auth.two_factor_enrolled", actor=alice).count() == 1


@pytest.mark.page("accounts:sign_in")
def test_later_sign_ins_ask_for_the_code(alice: User) -> None:
    device = factories.totp_device(alice)
    client = Client()
    assert sign_in(client, alice.email)["Location"].startswith(VERIFY)
    bad = client.post(VERIFY, {"code": "12ab"})
    assert "Enter the security code as 6 digits" in bad.content.decode()
    response = client.post(VERIFY, {"code": current_code(device)})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


def test_next_is_kept_through_sign_in_but_never_offsite(alice: User) -> None:
    device = factories.totp_device(alice)
    client = Client()
    client.post(
        SIGN_IN + "?next=/accessibility/",
        {"email": alice.email, "password": factories.PASSWORD, "next": "/accessibility/"},
    )
    response = client.post(VERIFY, {"code": current_code(device), "next": "/accessibility/"})
    assert response["Location"] == "/accessibility/"
    other = Client()
    sign_in(other, alice.email)
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    response = other.post(VERIFY, {"code": current_code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_locked_out_accounts_stay_locked_even_with_the_right_password(alice: User) -> None:
    client = Client()
    for _ in range(3):
        sign_in(client, alice.email, "wrong-password")
    locked = sign_in(client, alice.email)
    assert locked.status_code == 429
    assert "Your account is locked" in locked.content.decode()
    # A new browser (and so a new session) does not help.
    again = sign_in(Client(), alice.email)
    assert again.status_code == 429
    assert "_auth_user_id" not in Client().session
    assert AuditEvent.objects.filter(action="auth.locked_out").count() >= 1


@override_settings(DEMO=False)
def test_outside_demo_mode_demo_accounts_cannot_be_used_at_all(db: None) -> None:
    demo_user = factories.user("demo@example.org", is_demo_account=True)
    client = Client()
    response = sign_in(client, demo_user.email)
    assert response.status_code == 200
    assert "Demonstration accounts cannot be used on this service" in response.content.decode()
    # Even a session that somehow exists, with an authenticator, gets nowhere.
    assert factories.signed_in_client(demo_user).get(HOME).status_code == 302


@override_settings(DEMO=True)
def test_in_demo_mode_only_demo_accounts_skip_two_factor(alice: User) -> None:
    demo_user = factories.user("demo@example.org", is_demo_account=True)
    client = Client()
    assert sign_in(client, demo_user.email)["Location"] == "/"
    home = client.get(HOME)
    assert home.status_code == 200
    assert "Demonstration system" in home.content.decode()
    # A real account in the same demo deployment does not skip.
    other = Client()
    assert sign_in(other, alice.email)["Location"].startswith(SETUP)


def test_no_demo_banner_outside_demo_mode(alice: User) -> None:
    html = factories.signed_in_client(alice).get(HOME).content.decode()
    assert "Demonstration system" not in html


@pytest.mark.page("accounts:sign_out")
def test_sign_out_ends_the_session(alice: User) -> None:
    client = factories.signed_in_client(alice)
    response = client.post(reverse("accounts:sign_out"))
    assert response["Location"] == SIGN_IN
    assert client.get(HOME).status_code == 302
    assert AuditEvent.objects.filter(actor=alice, action="auth.signed_out").count() == 1


def test_sign_out_is_a_post_so_a_link_or_an_image_elsewhere_cannot_sign_anyone_out(
    alice: User,
) -> None:
    client = factories.signed_in_client(alice)
    assert client.get(reverse("accounts:sign_out")).status_code == 405
    assert client.get(HOME).status_code == 200
    assert not AuditEvent.objects.filter(action="auth.signed_out").exists()
    # Without the form's CSRF token, another site's form cannot either.
    forged = Client(enforce_csrf_checks=True)
    forged.cookies = client.cookies
    assert forged.post(reverse("accounts:sign_out")).status_code == 403
    assert client.get(HOME).status_code == 200
    # The header offers it as a form.
    html = client.get(HOME).content.decode()
    assert f'<form method="post" action="{reverse("accounts:sign_out")}"' in html


@pytest.mark.page("accounts:two_factor_verify")
def test_the_session_key_changes_when_two_factor_passes(alice: User) -> None:
    """A session key someone saw before the second factor (fixed in the victim's browser, or
    read off the wire) is worth nothing after it."""
    device = factories.totp_device(alice)
    client = Client()
    sign_in(client, alice.email)
    before = client.session.session_key
    assert before is not None
    assert client.post(VERIFY, {"code": current_code(device)}).status_code == 302
    after = client.session.session_key
    assert after != before
    assert client.get(HOME).status_code == 200
    stale = Client()
    stale.cookies["sessionid"] = before
    assert stale.get(HOME).status_code == 302


def test_the_session_key_changes_when_an_authenticator_is_enrolled(alice: User) -> None:
    client = Client()
    sign_in(client, alice.email)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    before = client.session.session_key
    assert client.post(SETUP, {"code": current_code(device)}).status_code == 302
    assert client.session.session_key != before
    assert client.get(HOME).status_code == 200


@pytest.mark.parametrize("path", [SETUP, VERIFY])
def test_two_factor_pages_need_a_password_first(db: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)


def test_guessing_security_codes_is_slowed_down_for_the_account_not_the_session(
    alice: User,
) -> None:
    """Someone who has the password can guess the six-digit code only ever more slowly: after n
    wrong codes in a row the next one is not even checked for 2^(n-1) seconds (django-otp's
    device throttle, kept on the account's authenticator), and signing in again in a new browser
    does not reset it. Eleven wrong codes put the next try more than 17 minutes away."""
    device = factories.totp_device(alice)
    guesser = Client()
    sign_in(guesser, alice.email)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for failures in range(10):
            wrong = "000000" if current_code(device) != "000000" else "111111"
            page = guesser.post(VERIFY, {"code": wrong}).content.decode()
            assert "The security code is not correct" in page, failures
            traveller.shift(2**failures + 0.5)
        wrong = "000000" if current_code(device) != "000000" else "111111"
        guesser.post(VERIFY, {"code": wrong})
        # Now even the right code, from a fresh sign-in in another browser, waits 2^10 seconds.
        owner = Client()
        sign_in(owner, alice.email)
        traveller.shift(2**10 - 5)
        too_soon = owner.post(VERIFY, {"code": current_code(device)})
        assert "Wait a few seconds" in too_soon.content.decode()
        assert owner.get(HOME).status_code == 302
        traveller.shift(10)
        assert owner.post(VERIFY, {"code": current_code(device)}).status_code == 302
    assert owner.get(HOME).status_code == 200
    assert AuditEvent.objects.filter(action="auth.two_factor_failed", actor=alice).count() == 12


PROXY = "10.0.0.2"


def behind_proxy(client_address: str, forged: str = "") -> Client:
    """A browser at `client_address` reaching us through our proxy, which appends that address
    to whatever X-Forwarded-For the browser sent (`forged`)."""
    forwarded = f"{forged}, {client_address}" if forged else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


@override_settings(BEHIND_PROXY=True, AXES_FAILURE_LIMIT=5)
def test_behind_the_proxy_one_clients_failures_lock_out_that_client_only(
    alice: User, bob: User
) -> None:
    """Every request arrives from the proxy's address: the lockout must count the client's (the
    audit trail's `client_ip`), or five wrong passwords from anyone lock everyone out."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        attacker = behind_proxy("203.0.113.9")
        for _ in range(4):
            assert sign_in(attacker, alice.email, "wrong-password").status_code == 200
        # The fifth failure locks this client out of this account.
        assert sign_in(attacker, alice.email, "wrong-password").status_code == 429
        # Another account, from another client, is untouched at once.
        assert sign_in(behind_proxy("198.51.100.20"), bob.email)["Location"].startswith(SETUP)
        traveller.shift(settings.SIGN_IN_MAX_DELAY_SECONDS)
        # Alice, from her own office, signs in with her password.
        assert sign_in(behind_proxy("198.51.100.30"), alice.email)["Location"].startswith(SETUP)
        # The attacker's address stays locked out of her account, even with her password, and
        # a forged X-Forwarded-For in front of the proxy's entry changes nothing.
        for forged in ("", "192.0.2.1", "198.51.100.30"):
            locked = sign_in(behind_proxy("203.0.113.9", forged), alice.email)
            assert locked.status_code == 429, forged
            assert "Your account is locked" in locked.content.decode()
    # The audit trail names the client too, never the proxy.
    assert (
        AuditEvent.objects.filter(action="auth.sign_in_failed", ip_address="203.0.113.9").count()
        == 4
    )
    assert not AuditEvent.objects.filter(ip_address=PROXY).exists()


@override_settings(AXES_FAILURE_LIMIT=5, SIGN_IN_MAX_DELAY_SECONDS=300)
def test_failures_from_many_addresses_throttle_the_account_but_never_lock_out_its_owner(
    alice: User,
) -> None:
    """Someone who knows Alice's e-mail address and has many addresses: past the limit, each
    attempt on her account waits a delay that doubles up to five minutes, refused unchecked
    while it lasts; after the wait, the right password and then the right code get her in."""
    device = factories.totp_device(alice)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for n in range(13):
            client = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
            traveller.shift(min(2 ** max(n - 4, 1), 300))
            assert sign_in(client, alice.email, "wrong-password").status_code == 200, n
        # Throttled: even the right password is not checked, and the page says how long.
        owner = Client(REMOTE_ADDR="198.51.100.30")
        waiting = sign_in(owner, alice.email)
        assert waiting.status_code == 429
        assert waiting["Retry-After"] == "300"
        assert "Wait 300 seconds, then try again" in waiting.content.decode()
        assert "_auth_user_id" not in owner.session
        traveller.shift(300)
        assert sign_in(owner, alice.email)["Location"].startswith(VERIFY)
        assert owner.post(VERIFY, {"code": current_code(device)}).status_code == 302
    assert owner.get(HOME).status_code == 200
    assert AuditEvent.objects.filter(action="auth.sign_in_throttled").count() == 1
