"""A session ends after the idle timeout; activity keeps it alive."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent

from . import factories
from . import referral_helpers as r

HOME = reverse("pages:home")
SIGNED_OUT = reverse("accounts:signed_out_idle")


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


@pytest.mark.page("accounts:keep_alive")
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


@pytest.mark.page("accounts:signed_out_idle")
def test_idle_sign_out_page_explains_why(alice: User) -> None:
    idle = timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = factories.signed_in_client(alice)
        client.get(HOME)
        traveller.shift(idle - timedelta(seconds=5))
        response = client.post(SIGNED_OUT, follow=True)
    assert "You have been signed out" in response.content.decode()
    assert client.get(HOME).status_code == 302
    [event] = AuditEvent.objects.filter(actor=alice, action="auth.signed_out")
    assert event.detail == {"reason": "idle"}


def test_idle_sign_out_is_a_post(alice: User) -> None:
    """A GET (a link, an image on another site, a prefetch) never ends the session."""
    client = factories.signed_in_client(alice)
    page = client.get(SIGNED_OUT)
    assert page.status_code == 302
    assert client.get(HOME).status_code == 200
    assert not AuditEvent.objects.filter(action="auth.signed_out").exists()
    # Someone not signed in who follows the address sees the explanation.
    assert "You have been signed out" in Client().get(SIGNED_OUT).content.decode()
    # Each page's timeout warning signs out with a form, carrying the CSRF token.
    html = client.get(HOME).content.decode()
    assert f'<form method="post" action="{SIGNED_OUT}"' in html


def test_a_tab_left_idle_does_not_sign_out_a_tab_in_use(alice: User) -> None:
    """Two tabs share one session. The one left open on a page counts down from when it was
    loaded; if it still asks to sign out for inactivity while the other tab has been used
    recently, the session stays, and the idle tab is sent back to its page."""
    idle = timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = factories.signed_in_client(alice)
        client.get(HOME)  # the tab left idle
        traveller.shift(idle / 2)
        client.get(reverse("referrals:my_referrals"))  # the tab in use
        traveller.shift(idle / 2)
        response = client.post(SIGNED_OUT, {"next": "/accessibility/"})
        assert response.status_code == 302
        assert response["Location"] == "/accessibility/"
        assert client.get(HOME).status_code == 200
        # Back to its page, and never to another site.
        response = client.post(SIGNED_OUT, {"next": "https://elsewhere.example/"})
        assert response["Location"] == HOME
        assert not AuditEvent.objects.filter(action="auth.signed_out").exists()
        # Once no tab has been used for the idle time (less the warning), it signs out.
        traveller.shift(idle - timedelta(seconds=5))
        response = client.post(SIGNED_OUT, {"next": "/accessibility/"})
        assert response["Location"] == SIGNED_OUT
        assert client.get(HOME).status_code == 302


def test_autosave_counts_as_activity(alice: User, routing: Organisation) -> None:
    """Someone typing a long account in one referral page sends no page request, only the
    answers saved as they go: those keep the session alive, and count as the latest activity."""
    idle = timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        step = reverse("referrals:step", args=[draft.public_id, "age"])
        client.get(step)
        for _ in range(3):
            traveller.shift(idle - timedelta(minutes=1))
            saved = client.post(step, r.ADULT, headers={"X-Autosave": "1"})
            assert saved.status_code < 300
        # The page's own idle sign-out, from when the page was loaded, is refused.
        response = client.post(SIGNED_OUT, {"next": step})
        assert response["Location"] == step
        assert client.get(HOME).status_code == 200
