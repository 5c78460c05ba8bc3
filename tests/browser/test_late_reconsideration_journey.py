"""A decision maker takes in a request for reconsideration that reached the competent authority
by letter after the 30-day window closed, in Chromium with axe on each page: the case page offers
it, the form is sent empty once (the error summary names each missing answer), then sent in full;
the case awaits a reconsideration decision, which is refused, and the case page links the letter
saying the decision stands. The form also fits a 375-pixel screen without scrolling sideways.

All people, places and organisations are synthetic."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.models import ReconsiderationRequest, ReconsiderationState
from tests import case_factories, factories

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GROUNDS = "A psychiatric report written after the decision, describing what she was made to do."
CIRCUMSTANCES = "She was in hospital from before the decision until after the window had closed."
REASONS = "The report repeats the account already considered and adds no new evidence."


def _refused_two_months_ago(
    alice: User, police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> Case:
    """A case refused at reasonable grounds by Dmitri, approved by Sally, 60 days ago: the
    30-day window for asking for reconsideration closed a month ago."""
    with time_machine.travel(timezone.now() - timedelta(days=60), tick=False):
        opened = case_factories.case(
            referred_by=alice,
            referring_organisation=police,
            authority=authority,
            given_names="Ardita Testova",
        )
        refused = case_factories.refused_at_reasonable_grounds(
            opened, decider=dmitri, approver=sally
        )
    assert refused.reconsideration_until is not None
    assert refused.reconsideration_until < timezone.localdate()
    return refused


def sign_in(page: Page, user: User) -> None:
    TOTPDevice.objects.filter(user=user).update(last_t=-1)
    _sign_in_with_device(page, user)


def test_a_decision_maker_takes_in_a_late_request_and_refuses_it(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    case = _refused_two_months_ago(alice, northmoor_police, authority, dmitri, sally)
    arrived = timezone.localdate() - timedelta(days=5)
    factories.totp_device(sally)
    factories.totp_device(dmitri)
    page: Page = new_page()
    sign_in(page, sally)

    page.goto(f"/cases/{case.reference}/")
    expect(page.get_by_role("heading", name=f"Case {case.reference}", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Decide the reconsideration")).to_have_count(0)
    axe.check(page)
    page.get_by_role("link", name="Take in a late request for reconsideration").click()
    expect(
        page.get_by_role("heading", name="Take in a late request for reconsideration", level=1)
    ).to_be_visible()
    until = case.reconsideration_until
    assert until is not None
    expect(page.locator("main")).to_contain_text(
        f"Reconsideration could be asked for until {until:%-d %B %Y}"
    )
    axe.check(page)

    # Sent empty: the error summary names each missing answer.
    page.get_by_role("button", name="Take in the request").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    for missing in (
        "Select who asked for the reconsideration",
        "Enter the date the request reached you",
        "Enter why the decision should be reconsidered",
        "Enter the exceptional circumstances for taking the request late",
    ):
        expect(summary).to_contain_text(missing)
    assert not ReconsiderationRequest.objects.filter(case=case).exists()
    axe.check(page)

    page.get_by_label("Their legal representative").check()
    arrival = page.get_by_role("group", name="When did the request reach you?")
    arrival.get_by_label("Day").fill(str(arrived.day))
    arrival.get_by_label("Month").fill(str(arrived.month))
    arrival.get_by_label("Year").fill(str(arrived.year))
    page.get_by_label("Why should the decision be reconsidered?").fill(GROUNDS)
    page.get_by_label("What exceptional circumstances justify taking it late?").fill(CIRCUMSTANCES)
    page.get_by_role("button", name="Take in the request").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.reference}/$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The late request was taken in: the case is now awaiting a reconsideration decision."
    )
    expect(page.locator(".app-status-tag")).to_have_text("Reconsideration requested")
    expect(
        page.get_by_role("link", name="Take in a late request for reconsideration")
    ).to_have_count(0)
    axe.check(page)

    request = ReconsiderationRequest.objects.get(case=case)
    assert request.late
    assert request.requested_by == sally
    assert request.late_asked_by == "legal_representative"
    assert request.late_received_on == arrived
    assert (request.grounds, request.late_circumstances) == (GROUNDS, CIRCUMSTANCES)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECONSIDERATION

    # Dmitri decides it: he sees who asked, when it arrived and why it was taken in late.
    other = new_page()
    sign_in(other, dmitri)
    other.goto(f"/cases/{case.reference}/")
    other.get_by_role("button", name="Decide the reconsideration").click()
    expect(other.get_by_role("heading", name="Decide a reconsideration", level=1)).to_be_visible()
    details = other.locator(".govuk-summary-list")
    expect(details).to_contain_text("Their legal representative, after the time to ask had passed")
    expect(details).to_contain_text("taken in by Sally Senior")
    expect(details).to_contain_text(f"{arrived:%-d %B %Y}")
    expect(details).to_contain_text(GROUNDS)
    expect(details).to_contain_text(CIRCUMSTANCES)
    axe.check(other)
    other.get_by_label("No: the decision stands").check()
    other.get_by_label("Reasons").fill(REASONS)
    other.get_by_role("button", name="Continue").click()
    expect(other).to_have_url(re.compile(rf"/cases/{case.reference}/$"))
    expect(other.locator(".govuk-notification-banner")).to_contain_text("Reconsideration decided")
    expect(other.get_by_role("button", name="Decide the reconsideration")).to_have_count(0)
    axe.check(other)

    request.refresh_from_db()
    assert request.state == ReconsiderationState.REFUSED
    assert request.decided_by == dmitri
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS

    other.get_by_role("link", name=re.compile(r"^Reconsideration letter")).click()
    expect(other).to_have_url(re.compile(rf"/reconsiderations/{request.pk}/letter/$"))
    expect(
        other.get_by_role("heading", name="The result of looking at our decision again", level=1)
    ).to_be_visible()
    expect(other.locator("main")).to_contain_text("the decision stands")
    expect(other.locator("main")).to_contain_text(REASONS)
    axe.check(other)

    # Each page that showed what was typed about the person left an audit event.
    reads.check(typed=[GROUNDS, CIRCUMSTANCES, REASONS])


def test_the_late_request_page_fits_a_375_pixel_screen(
    new_page,
    axe,
    alice: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    case = _refused_two_months_ago(alice, northmoor_police, authority, dmitri, sally)
    factories.totp_device(sally)
    page: Page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, sally)

    page.goto(f"/cases/{case.reference}/")
    expect(page.get_by_role("heading", name=f"Case {case.reference}", level=1)).to_be_visible()
    assert overflow(page) <= 0
    page.get_by_role("link", name="Take in a late request for reconsideration").click()
    expect(
        page.get_by_role("heading", name="Take in a late request for reconsideration", level=1)
    ).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)

    # With the error summary and each field's error shown, it still fits.
    page.get_by_role("button", name="Take in the request").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)
