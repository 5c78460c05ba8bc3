"""Journeys through sign-in, two-factor and the administrator's pages, with axe on every page."""

from __future__ import annotations

import base64
import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from opennrm.accounts import services
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from tests import factories

from .conftest import code_for_secret, secret_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_responder_signs_in_enrols_two_factor_and_lands_home(
    new_page, axe, reads, alice: User
) -> None:
    page = new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    axe.check(page)

    # A mistake first: the error summary links to the field and the email is kept.
    page.get_by_label("Email address").fill(alice.email)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a correct email address and password"
    )
    expect(page.get_by_label("Email address")).to_have_value(alice.email)
    axe.check(page)

    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    axe.check(page)

    secret = secret_on(page)
    page.get_by_label("Security code").fill(code_for_secret(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your work")).to_be_visible()
    expect(page.get_by_role("heading", name="First responder")).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Two-factor authentication is set up"
    )
    nav = page.get_by_role("navigation", name="Menu")
    expect(nav.get_by_role("link")).to_have_text(
        ["Home", "Find a case", "Referrals", "Screening", "Operations", "Notifications"]
    )
    axe.check(page)

    for link, heading in (
        ("Accessibility statement", "Accessibility statement for OpenNRM"),
        ("Cookies and privacy", "Cookies and privacy"),
    ):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        axe.check(page)
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    axe.check(page)

    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_role("heading", name="Sign in to OpenNRM")).to_be_visible()

    # The second time, the code from the same app is asked for.
    page.get_by_label("Email address").fill(alice.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()
    axe.check(page)
    device = TOTPDevice.objects.get(user=alice, confirmed=True)
    # django-otp accepts each code once; forget the last use so this code, from the same
    # 30-second step as the enrolment code, is not refused as a replay.
    device.last_t = -1
    device.save(update_fields=["last_t"])
    page.get_by_label("Security code").fill(code_for_secret(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your work")).to_be_visible()
    assert AuditEvent.objects.filter(actor=alice, action="auth.two_factor_passed").exists()
    # No page on the way showed anyone's identifying details.
    assert reads.check() == []


def test_administrator_invites_a_colleague_who_joins(
    new_page, axe, reads, olivia: User, sysadmin: User, northmoor_police: Organisation
) -> None:
    # A system administrator has asked for someone to join Northmoor: that waits for Olivia.
    services.invitation_create(
        by=sysadmin,
        organisation=northmoor_police,
        email="asked@example.org",
        role=Role.FIRST_RESPONDER,
    )
    factories.totp_device(olivia)
    admin = new_page()
    _sign_in_with_device(admin, olivia)
    admin.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Organisations and users"
    ).click()
    expect(admin.get_by_role("heading", name="Organisations and users")).to_be_visible()
    axe.check(admin)
    admin.get_by_role("link", name="Northmoor Police").click()
    expect(admin.get_by_role("heading", name="Northmoor Police", level=1)).to_be_visible()
    asked = admin.locator("table.govuk-table tbody tr", has_text="asked@example.org")
    expect(asked).to_contain_text("Waiting for approval")
    expect(asked).to_contain_text("Sam Sysadmin")
    axe.check(admin)
    asked.get_by_role("button", name="Approve invitation to asked@example.org").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text(
        "An invitation has been sent to asked@example.org"
    )
    expect(asked).to_contain_text("Sent")
    axe.check(admin)
    admin.get_by_role("button", name="Invite a user").click()
    expect(admin.get_by_role("heading", name="Invite a user")).to_be_visible()
    axe.check(admin)
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.locator(".govuk-error-summary")).to_contain_text(
        "Enter the email address of the person to invite"
    )
    axe.check(admin)
    admin.get_by_label("Email address").fill("newcomer@example.org")
    admin.get_by_label("First responder").check()
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("newcomer@example.org")
    axe.check(admin)

    link = re.search(r"http://\S+/join/\S+/", mail.outbox[-1].body).group(0)
    newcomer = new_page()
    newcomer.goto("/join/" + link.split("/join/", 1)[1])
    expect(newcomer.get_by_role("heading", name="Create your account")).to_be_visible()
    axe.check(newcomer)
    newcomer.get_by_label("Full name").fill("Nia Newcomer")
    newcomer.get_by_label("Create a password").fill("a-long-enough-passphrase")
    newcomer.get_by_label("Enter the password again").fill("a-long-enough-passphrase")
    newcomer.get_by_role("button", name="Create account").click()
    expect(newcomer.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    newcomer.get_by_label("Security code").fill(code_for_secret(secret_on(newcomer)))
    newcomer.get_by_role("button", name="Continue").click()
    expect(newcomer.get_by_role("heading", name="First responder")).to_be_visible()
    assert (
        User.objects.get(email="newcomer@example.org").memberships.get().role
        == Role.FIRST_RESPONDER
    )

    # Olivia changes her new colleague's access.
    admin.goto(f"/organisations/{northmoor_police.pk}/")
    admin.get_by_role("link", name="Change Nia Newcomer's access").click()
    expect(admin.get_by_role("heading", name="Change Nia Newcomer's access")).to_be_visible()
    axe.check(admin)
    admin.get_by_role("button", name="Remove access").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("can no longer use OpenNRM")
    # No page on the way showed anyone's identifying details.
    assert reads.check() == []


def test_a_first_responder_who_lost_her_phone_gets_back_in_through_the_link_sent_to_her(
    new_page, axe, reads, olivia: User, alice: User, northmoor_police: Organisation
) -> None:
    """Alice lost the phone with her authenticator: Olivia, her administrator, sends a link to
    Alice's own address; Alice chooses a new password and sets up a new authenticator."""
    factories.totp_device(olivia)
    factories.totp_device(alice)
    admin = new_page()
    _sign_in_with_device(admin, olivia)
    admin.goto(f"/organisations/{northmoor_police.pk}/")
    admin.get_by_role("link", name="Change Alice Adams's access").click()
    expect(admin.get_by_role("heading", name="Reset how they sign in")).to_be_visible()
    axe.check(admin)
    admin.get_by_role("button", name="Send a reset link").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text(alice.email)
    assert mail.outbox[-1].to == [alice.email]

    link = re.search(r"http://\S+/sign-in/reset/\S+/", mail.outbox[-1].body).group(0)
    person = new_page()
    person.goto("/sign-in/reset/" + link.split("/sign-in/reset/", 1)[1])
    expect(person.get_by_role("heading", name="Choose a new password")).to_be_visible()
    axe.check(person)
    person.get_by_label("Create a password").fill("a-new-long-passphrase")
    person.get_by_label("Enter the password again").fill("a-different-passphrase")
    person.get_by_role("button", name="Save new password").click()
    expect(person.locator(".govuk-error-summary")).to_contain_text("The passwords do not match")
    axe.check(person)
    person.get_by_label("Create a password").fill("a-new-long-passphrase")
    person.get_by_label("Enter the password again").fill("a-new-long-passphrase")
    person.get_by_role("button", name="Save new password").click()
    expect(person.get_by_role("heading", name="Sign in to OpenNRM")).to_be_visible()
    expect(person.locator(".govuk-notification-banner")).to_contain_text("new password is saved")
    person.get_by_label("Email address").fill(alice.email)
    person.get_by_label("Password").fill("a-new-long-passphrase")
    person.get_by_role("button", name="Continue").click()
    expect(person.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    person.get_by_label("Security code").fill(code_for_secret(secret_on(person)))
    person.get_by_role("button", name="Continue").click()
    expect(person.get_by_role("heading", name="First responder")).to_be_visible()
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).count() == 1
    assert reads.check() == []


def test_system_administrator_searches_the_audit_trail(
    new_page, axe, reads, sysadmin: User, alice: User
) -> None:
    factories.totp_device(sysadmin)
    page = new_page()
    _sign_in_with_device(page, sysadmin)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    axe.check(page)
    page.get_by_label("Action (or part of it)").fill("two_factor_passed")
    page.get_by_label("From (date)").fill("31 2 2026")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the start date as a real date"
    )
    axe.check(page)
    page.get_by_label("From (date)").fill("")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.govuk-table tbody")).to_contain_text("sysadmin@example.org")
    axe.check(page)
    # No page on the way showed anyone's identifying details.
    assert reads.check() == []


def test_idle_warning_appears_and_stay_signed_in_keeps_the_session(
    new_page, axe, reads, settings, alice: User
) -> None:
    settings.SESSION_IDLE_SECONDS = 12
    settings.SESSION_WARNING_SECONDS = 10
    factories.totp_device(alice)
    page = new_page()
    _sign_in_with_device(page, alice)
    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    expect(dialog).to_be_visible(timeout=8_000)
    expect(dialog).to_contain_text("second")
    axe.check(page)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    # Without a click, the page signs itself out when the time is up.
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible(
        timeout=20_000
    )
    axe.check(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    # No page on the way showed anyone's identifying details.
    assert reads.check() == []


def test_a_tab_left_idle_does_not_sign_out_a_tab_in_use(
    new_page, axe, reads, settings, alice: User
) -> None:
    """Two tabs of one browser share the session. While one is used, the other, left on its
    page, neither warns nor signs out; once neither is used, both do."""
    settings.SESSION_IDLE_SECONDS = 16
    settings.SESSION_WARNING_SECONDS = 6
    factories.totp_device(alice)
    idle_tab = new_page()
    _sign_in_with_device(idle_tab, alice)
    busy_tab = idle_tab.context.new_page()
    busy_tab.goto("/")
    dialog = idle_tab.get_by_role("dialog", name="You are about to be signed out")
    # Used every few seconds for longer than the idle time: the idle tab never warns.
    for _ in range(8):
        busy_tab.get_by_role("link", name="Home").first.click()
        expect(busy_tab.get_by_role("heading", name="Your work")).to_be_visible()
        idle_tab.wait_for_timeout(2_500)
        assert idle_tab.evaluate("document.getElementById('session-timeout').open") is False
    expect(idle_tab.get_by_role("heading", name="Your work")).to_be_visible()
    # Now neither is used: both warn, then sign out.
    expect(dialog).to_be_visible(timeout=15_000)
    for tab in (idle_tab, busy_tab):
        expect(tab.get_by_role("heading", name="You have been signed out")).to_be_visible(
            timeout=20_000
        )
    axe.check(idle_tab)
    idle_tab.goto("/")
    expect(idle_tab).to_have_url(re.compile(r"/sign-in/"))
    assert AuditEvent.objects.filter(actor=alice, action="auth.signed_out").count() == 1
    assert reads.check() == []


def test_typing_in_a_form_keeps_the_session(new_page, axe, reads, settings, alice: User) -> None:
    """Someone typing into a form that does not save itself (a search, a decision's reasons)
    makes no request until they press its button. Typing now renews the session now and then,
    so they are neither warned nor signed out while they type; once they stop, they are."""
    factories.totp_device(alice)
    page = new_page()
    _sign_in_with_device(page, alice)
    settings.SESSION_IDLE_SECONDS = 16
    settings.SESSION_WARNING_SECONDS = 6
    page.goto("/cases/search/")
    page.get_by_label("Whole name").click()
    for letter in "Testova Zorica Mirela":  # about 25 seconds of typing
        page.keyboard.type(letter)
        page.wait_for_timeout(1_200)
        assert page.evaluate("document.getElementById('session-timeout').open") is False
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible(
        timeout=30_000
    )
    assert reads.check() == []


def _sign_in_with_device(page, user: User) -> None:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    page.goto("/sign-in/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(
        code_for_secret(base64.b32encode(device.bin_key).decode())
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your work")).to_be_visible()
