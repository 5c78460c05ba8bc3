"""A person who has lost their password or the phone with their authenticator app gets back in
through a single-use link their organisation's administrator has e-mailed to them: a new
password, then a new authenticator at the next sign-in. Nobody resets their own sign-in, the
link goes only to the person, and it works once, for a day."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.models import Membership, Organisation, SignInReset, User
from opennrm.accounts.roles import Role
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


# --- A penetration tester's findings (stop 39) --------------------------------------------------

SIGN_IN = reverse("accounts:sign_in")
SETUP = reverse("accounts:two_factor_setup")


def _edit(client: Client, membership: Membership, action: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("accounts:membership_edit", args=[membership.pk]), {"action": action}
        )


def _send_reset_for(admin: User, membership: Membership) -> None:
    response = _edit(factories.signed_in_client(admin), membership, "reset_sign_in")
    assert response.status_code == 302, response.content.decode()[:2000]


def _sign_in(email: str, password: str):
    return Client().post(SIGN_IN, {"email": email, "password": password})


# --- 1. Who may reset whom ------------------------------------------------------------------


@pytest.mark.parametrize("elsewhere", ["system_admin", "decision_maker"])
def test_an_organisation_administrator_cannot_reset_someone_who_holds_more_power_elsewhere(
    olivia: User,
    northmoor_police: Organisation,
    operator: Organisation,
    authority: Organisation,
    elsewhere: str,
) -> None:
    """Who is hurt: every organisation, through a system administrator's (or a competent
    authority decision maker's) account. Sam is a system administrator who also keeps a first
    responder membership at Northmoor Police (or Dana, a decision maker at the competent
    authority, volunteers as a first responder there). Now Olivia, Northmoor's administrator,
    can send either a reset link: whoever reads that mailbox (Northmoor's own mail staff, or an
    attacker who has persuaded only Northmoor's administrator, threat 42) sets a new password
    and enrols their own authenticator, and holds the system administrator's or decision maker's
    roles, vouched for by nobody who administers them. What should happen: an organisation
    administrator resets only someone whose every role in force is in organisations they
    administer; anyone else is reset by a system administrator (as Entra's helpdesk role may
    not reset an administrator)."""
    if elsewhere == "system_admin":
        person = factories.user(
            "sam.second@example.org", organisation=operator, role=Role.SYSTEM_ADMIN
        )
    else:
        person = factories.user(
            "dana@example.org", organisation=authority, role=Role.DECISION_MAKER
        )
    at_northmoor = Membership.objects.create(
        user=person, organisation=northmoor_police, role=Role.FIRST_RESPONDER
    )
    _edit(factories.signed_in_client(olivia), at_northmoor, "reset_sign_in")
    assert not SignInReset.objects.filter(user=person).exists()
    assert mail.outbox == []


def test_a_link_from_an_administrator_since_removed_no_longer_works(
    olivia: User, alice: User, sysadmin: User, northmoor_police: Organisation
) -> None:
    """Who is hurt: Alice, and whatever her account reaches. Olivia sends Alice a reset link,
    then Olivia is removed as administrator (left the force, or removed for misuse, perhaps
    because she was working with whoever reads Alice's mail). Now the link she sent still
    sets a new password and clears Alice's authenticator for a day. Invitations already rest on
    the standing of whoever sent them (`services._refuse_unvouched`); a reset link, which hands
    over a whole account, should too: it stops working once its sender no longer administers an
    organisation the person is in (nor is a system administrator)."""
    factories.totp_device(alice)
    _send_reset_for(olivia, alice.memberships.get())
    link = _link()
    _edit(factories.signed_in_client(sysadmin), olivia.memberships.get(), "deactivate")
    assert not olivia.memberships.get().is_active
    assert Client().get(link).status_code == 404
    _choose(link)
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


# --- 2. A link outliving the access it was sent for ---------------------------------------


def test_a_link_withdrawn_with_the_persons_access_is_not_revived_when_access_is_given_back(
    olivia: User, alice: User
) -> None:
    """Who is hurt: Alice. Olivia sends a reset link, then removes Alice's access (she
    suspects Alice's mailbox or phone is in the wrong hands, or Alice has left); the link
    stops working. Now, when Alice's access is given back the same day, the link she was
    sent before comes back to life: whoever took it from the mailbox can still set a new
    password and enrol their own authenticator. What should happen: removing the access
    withdraws the open link for good (as it already withdraws open invitations), so only a
    link sent after the access came back works."""
    membership = alice.memberships.get()
    _send_reset_for(olivia, membership)
    link = _link()
    client = factories.signed_in_client(olivia)
    _edit(client, membership, "deactivate")
    assert Client().get(link).status_code == 404
    _edit(client, membership, "reactivate")
    membership.refresh_from_db()
    assert membership.is_active

    assert Client().get(link).status_code == 404
    _choose(link)
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)
    assert SignInReset.objects.get().withdrawn_at is not None


# --- 3. Locked out after the reset ------------------------------------------------------------


@override_settings(AXES_FAILURE_LIMIT=3)
def test_someone_locked_out_by_a_forgotten_password_gets_in_with_the_new_one(
    olivia: User, alice: User
) -> None:
    """Who is hurt: a first responder who forgot her password. Alice tries her old passwords
    until the account locks her out, rings Olivia, who sends the link; Alice chooses a new
    password ten minutes later. Now the lockout (and the account-wide throttle) from her own
    forgotten-password attempts still stands: with the new password she gets "Your account is
    locked" for the rest of the hour (OPENNRM_LOCKOUT_MINUTES), in the middle of a referral.
    What should happen: using the reset link clears the failed attempts recorded against the
    account (axes' `reset(username=...)`), so the new password lets her in and she goes on to
    set up her authenticator."""
    factories.totp_device(alice)
    for _ in range(3):
        _sign_in(alice.email, "what-was-it-again-2024")
    assert _sign_in(alice.email, "what-was-it-again-2025").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        _send_reset_for(olivia, alice.memberships.get())
        assert _choose(_link()).status_code == 302
        response = _sign_in(alice.email, NEW_PASSWORD)
    assert response.status_code == 302, "the new password is refused: " + str(response.status_code)
    assert response["Location"].startswith(SETUP)


# --- 4. The live token in the logs ------------------------------------------------------------


def test_the_live_reset_token_is_never_written_to_the_log(
    olivia: User, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    """Who is hurt: Alice, and the promise that "the sender never holds" the link. The token is
    the only credential and it sits in the page's path. Now any refused request to a live link
    writes that path to the service's log: a mail filter or link preview asking HEAD (405,
    "Method Not Allowed (HEAD): /sign-in/reset/<token>/"), or Alice's form refused for its CSRF
    token (403). Anyone who reads the logs (operations staff, the log platform) can open the
    still-valid link, choose a password and enrol their own authenticator. What should happen:
    the token never reaches a log line: as Django's own password reset does, the view keeps the
    token in the session and redirects to an address without it (which also keeps it out of
    Referer headers), or the log redacts it."""
    _send_reset_for(olivia, alice.memberships.get())
    link = _link()
    token = link.rstrip("/").rsplit("/", 1)[-1]
    with caplog.at_level(logging.INFO):
        Client().head(link)
        Client(enforce_csrf_checks=True).post(
            link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
    # The link is still live after both.
    assert SignInReset.objects.get().used_at is None
    assert Client().get(link, follow=True).status_code == 200
    leaked = [record.getMessage() for record in caplog.records if token in record.getMessage()]
    assert leaked == []


def test_an_invitation_token_is_kept_out_of_the_log_too(
    caplog: pytest.LogCaptureFixture, db: None
) -> None:
    """The invitation's link is a credential as well (it creates the invited account)."""
    with caplog.at_level(logging.INFO):
        Client().head(reverse("accounts:invitation_accept", args=["a-live-looking-token"]))
    lines = [record.getMessage() for record in caplog.records]
    assert lines
    assert all("a-live-looking-token" not in line for line in lines)
    assert any("/join/[token]/" in line for line in lines)


def _live_link(admin: User, person: User) -> str:
    client = factories.signed_in_client(admin)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("accounts:membership_edit", args=[person.memberships.get().pk]),
            {"action": "reset_sign_in"},
        )
    assert response.status_code == 302
    return re.search(r"http://\S+/sign-in/reset/\S+/", mail.outbox[-1].body).group(0)


def test_a_server_error_on_the_reset_page_does_not_write_the_live_token_to_the_log(
    olivia: User, alice: User, caplog
) -> None:
    """Who is hurt: Alice, whose account anyone reading the service's logs could take over.

    Now: the redaction filter (`SecretPathFilter`) sits only on `django.request`,
    `django.server` and `django.security.csrf`. The site's own 500 handler
    (`pages.views.server_error`) logs "Server error, reference ..., on POST <path>" on the
    `opennrm.pages.views` logger, which has no filter: a failure while Alice saves her new
    password (a database hiccup, a mail error) writes `/sign-in/reset/<token>/` in clear. The
    transaction rolled back, so the link is still live for 24 hours: whoever reads the log line
    (operations staff, the log platform) opens it, chooses a password and enrols their own
    authenticator.

    Should: no log line carries the live token (the filter on every logger that writes a path,
    or on the handler, or the server-error line redacting the path)."""
    link = _live_link(olivia, alice)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    client = Client(raise_request_exception=False)
    with (
        mock.patch(
            "opennrm.accounts.services.sign_in_reset_use",
            side_effect=RuntimeError("database went away"),
        ),
        caplog.at_level(logging.INFO),
    ):
        response = client.post(
            link,
            {"password": "a-new-long-passphrase-x", "password_again": "a-new-long-passphrase-x"},
        )
    assert response.status_code == 500
    # The link is still live after the failure.
    assert SignInReset.objects.get().used_at is None
    assert Client().get(link).status_code == 200

    leaked = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if token in record.getMessage()
    ]
    assert leaked == [], leaked
