"""A person who has lost their password or the phone with their authenticator app gets back in
through a single-use link their organisation's administrator has e-mailed to them: a new
password, then a new authenticator at the next sign-in. Nobody resets their own sign-in, the
link goes only to the person, and it works once, for a day."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.models import Organisation, SignInReset, User
from opennrm.audit.models import AuditEvent

from . import factories

NEW_PASSWORD = "a-new-long-passphrase-for-alice"


def _send_reset(admin: User, person: User) -> Client:
    client = factories.signed_in_client(admin)
    membership = person.memberships.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("accounts:membership_edit", args=[membership.pk]), {"action": "reset_sign_in"}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def _link() -> str:
    return re.search(r"http://\S+/sign-in/reset/\S+/", mail.outbox[-1].body).group(0)


def _choose(link: str, password: str = NEW_PASSWORD, again: str | None = None, client=None):
    return (client or Client()).post(
        link, {"password": password, "password_again": password if again is None else again}
    )


def _signs_in(email: str, password: str) -> str | None:
    """Where a right password leads (None: refused)."""
    response = Client().post(reverse("accounts:sign_in"), {"email": email, "password": password})
    return response["Location"] if response.status_code == 302 else None


@pytest.mark.page("accounts:sign_in_reset")
def test_a_lost_authenticator_is_replaced_through_the_link_the_administrator_sends(
    olivia: User, alice: User
) -> None:
    """Alice lost her phone: Olivia, her administrator, sends a link; it reaches Alice alone.
    Alice chooses a new password; her old password and authenticator stop working, and her next
    sign-in sets up an authenticator again."""
    factories.totp_device(alice)
    alice_elsewhere = factories.signed_in_client(alice)
    _send_reset(olivia, alice)
    assert [message.to for message in mail.outbox] == [[alice.email]]
    assert "Olivia Owen" in mail.outbox[-1].body
    sent = AuditEvent.objects.get(action="auth.sign_in_reset_sent")
    assert sent.actor == olivia
    # Until the link is used, nothing changes.
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    link = _link()
    page = Client().get(link)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode()
    assert alice.email in page.content.decode()

    response = _choose(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:sign_in")
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert AuditEvent.objects.filter(action="auth.sign_in_reset_used", actor=alice).exists()
    # A session open elsewhere (perhaps on the lost phone) has ended.
    assert alice_elsewhere.get(reverse("pages:home")).status_code == 302
    assert _signs_in(alice.email, factories.PASSWORD) is None
    assert _signs_in(alice.email, NEW_PASSWORD).startswith(reverse("accounts:two_factor_setup"))
    # The link works once.
    assert Client().get(link).status_code == 404


def test_the_reset_page_refuses_other_methods(olivia: User, alice: User) -> None:
    _send_reset(olivia, alice)
    assert Client().put(_link()).status_code == 405
    assert SignInReset.objects.get().used_at is None


def test_passwords_that_differ_or_are_weak_keep_the_link_and_the_authenticator(
    olivia: User, alice: User
) -> None:
    factories.totp_device(alice)
    _send_reset(olivia, alice)
    link = _link()
    page = _choose(link, again="something-else-entirely").content.decode()
    assert "The passwords do not match" in page
    page = _choose(link, password="alice").content.decode()
    assert "<title>Error:" in page  # too short, or too like the name or address
    assert TOTPDevice.objects.filter(user=alice).exists()
    assert SignInReset.objects.get().used_at is None
    assert _choose(link).status_code == 302


def test_nobody_resets_their_own_sign_in(olivia: User) -> None:
    client = factories.signed_in_client(olivia)
    page = client.post(
        reverse("accounts:membership_edit", args=[olivia.memberships.get().pk]),
        {"action": "reset_sign_in"},
    ).content.decode()
    assert "You cannot reset your own sign-in" in page
    assert mail.outbox == []
    assert not SignInReset.objects.exists()


def test_another_organisations_administrator_cannot_reach_the_person(
    oscar: User, alice: User
) -> None:
    response = factories.signed_in_client(oscar).post(
        reverse("accounts:membership_edit", args=[alice.memberships.get().pk]),
        {"action": "reset_sign_in"},
    )
    assert response.status_code == 404
    assert not SignInReset.objects.exists()


def test_a_removed_person_gets_no_link_and_an_open_one_stops_working(
    olivia: User, alice: User
) -> None:
    _send_reset(olivia, alice)
    link = _link()
    membership = alice.memberships.get()
    client = factories.signed_in_client(olivia)
    client.post(reverse("accounts:membership_edit", args=[membership.pk]), {"action": "deactivate"})
    assert Client().get(link).status_code == 404
    page = client.post(
        reverse("accounts:membership_edit", args=[membership.pk]), {"action": "reset_sign_in"}
    ).content.decode()
    assert "no longer has access" in page
    assert SignInReset.objects.count() == 1


def test_a_newer_link_replaces_the_older_and_a_link_lasts_a_day(olivia: User, alice: User) -> None:
    _send_reset(olivia, alice)
    first = _link()
    _send_reset(olivia, alice)
    second = _link()
    assert Client().get(first).status_code == 404
    assert "replaced by a newer link" in Client().get(first).content.decode()
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        assert Client().get(second).status_code == 404
        assert _choose(second).status_code == 404
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


def test_a_system_administrator_may_send_a_link_to_an_organisation_administrator(
    sysadmin: User, olivia: User, northmoor_police: Organisation
) -> None:
    """The only administrator of a police force lost her phone: the service desk sends her a
    link (it goes to her own address, and gives no role)."""
    _send_reset(sysadmin, olivia)
    assert mail.outbox[-1].to == [olivia.email]
    assert _choose(_link()).status_code == 302
