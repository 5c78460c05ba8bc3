"""A first responder records a case's contacts and references on a small phone: the bad phone
number explained with nothing typed lost, the address shown only when asked for, consent to
share recorded; every page axe-checked, none wider than the screen, every showing of the
details recorded as a read."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.contacts.models import AgencyConsent, CaseContacts
from tests import factories

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contacts_and_references_of_a_case(new_page, axe, reads, alice: User, case: Case) -> None:
    factories.totp_device(alice)
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, alice)
    page.goto(f"/cases/{case.reference}/")
    page.get_by_role("link", name="Contacts and agency references").click()
    expect(page.get_by_role("heading", name="Contacts and references")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Change contacts and references").click()
    axe.check(page)
    assert overflow(page) <= 0
    page.get_by_label("Referrer's phone number").fill("call me")
    page.get_by_label("Police force").select_option("British Transport Police")
    page.get_by_label("Crime reference").fill("13/45678/26")
    page.get_by_label("With family or friends").check()
    page.get_by_label("Address").fill("12 Example Row, Testshire")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The referrer's phone number must be a phone number"
    )
    expect(page.get_by_label("Address")).to_have_value("12 Example Row, Testshire")
    axe.check(page)
    page.get_by_label("Referrer's phone number").fill("01632 960 118")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
    expect(page.locator("main")).to_contain_text("British Transport Police")
    expect(page.locator("main")).not_to_contain_text("Example Row")
    assert overflow(page) <= 0
    axe.check(page)
    page.get_by_role("link", name="Show the address").click()
    expect(page.locator("main")).to_contain_text("12 Example Row, Testshire")
    axe.check(page)
    page.goto(f"/cases/{case.reference}/contacts/consent/")
    page.get_by_label("Legal adviser").check()
    page.get_by_label("Name of the agency").fill("Testshire Law Centre")
    page.get_by_role("group", name="Does the person agree").get_by_label("Yes").check()
    # The day they answered: today (an answer may be dated up to 30 days before the referral).
    answered = timezone.localdate()
    page.get_by_label("Day").fill(str(answered.day))
    page.get_by_label("Month").fill(str(answered.month))
    page.get_by_label("Year").fill(str(answered.year))
    axe.check(page)
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("main")).to_contain_text("Testshire Law Centre")
    assert overflow(page) <= 0
    axe.check(page)
    assert CaseContacts.objects.get(case=case).crime_reference == "13/45678/26"
    assert AgencyConsent.objects.get(case=case).consent_given is True
    # Each page that showed what was saved recorded the read (what the error page gave back
    # was only what had just been typed, and nothing was saved).
    shown = reads.check(typed=["01632 960 118"])
    assert "cases:contacts" in {s.route for s in shown}
    assert AuditEvent.objects.filter(
        actor=alice, action="person.viewed", detail__fields=["location_address"]
    ).exists()
