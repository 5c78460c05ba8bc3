"""A session ends after the idle timeout; activity keeps it alive."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import User

from . import factories

HOME = reverse("pages:home")


def test_session_expires_when_idle(alice: User) -> None:
    idle = timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = factories.signed_in_client(alice)
        assert client.get(HOME).status_code == 200
        traveller.shift(idle - timedelta(minutes=1))
        assert client.get(HOME).status_code == 200  # activity renews the session
        traveller.shift(idle - timedelta(minutes=1))
        assert client.get(HOME).status_code == 200
        traveller.shift(idle + timedelta(seconds=1))
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_keep_alive_extends_the_session(alice: User) -> None:
    idle = timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = factories.signed_in_client(alice)
        client.get(HOME)
        traveller.shift(idle - timedelta(minutes=1))
        assert client.post(reverse("accounts:keep_alive")).status_code == 204
        traveller.shift(idle - timedelta(minutes=1))
        assert client.get(HOME).status_code == 200


def test_pages_carry_the_timeout_warning_for_signed_in_users(alice: User) -> None:
    html = factories.signed_in_client(alice).get(HOME).content.decode()
    assert f'data-idle-seconds="{settings.SESSION_IDLE_SECONDS}"' in html
    assert "You are about to be signed out" in html


def test_idle_sign_out_page_explains_why(alice: User) -> None:
    client = factories.signed_in_client(alice)
    response = client.get(reverse("accounts:signed_out_idle"))
    assert "You have been signed out" in response.content.decode()
    assert client.get(HOME).status_code == 302
