"""A safe-house manager asks for a negative decision to be reconsidered, from the support plan
of the woman she houses, in Chromium with axe on each page: the plan offers it while the window
is open, the form is sent empty once (the error summary says what is missing), then sent; the
plan says it was asked and no longer offers it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.models import ReconsiderationRequest
from tests import case_factories, factories

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _refused_while_housed(
    alice: User,
    police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> Case:
    return case_factories.refused_while_housed(
        alice,
        police,
        authority,
        cora,
        maya,
        provider,
        dmitri,
        sally,
        given_names="Ardita Testova",
        submitted_at=timezone.now() - timedelta(days=30),
    )


def test_a_safe_house_manager_asks_for_a_reconsideration_from_the_support_plan(
    new_page,
    axe,
    alice: User,
    cora: User,
    maya: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
) -> None:
    case = _refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    factories.totp_device(maya)
    page: Page = new_page()
    _sign_in_with_device(page, maya)

    page.goto(f"/support/people/{case.reference}/plan/")
    expect(page.get_by_role("heading", name="A negative decision")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Ask for reconsideration").click()
    expect(page.get_by_role("heading", name="Ask for reconsideration", level=1)).to_be_visible()
    axe.check(page)

    page.get_by_role("button", name="Ask for reconsideration").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why the decision should be reconsidered"
    )
    axe.check(page)

    page.get_by_label("Why should the decision be reconsidered?").fill(
        "She has told us more about the work she was made to do."
    )
    page.get_by_role("button", name="Ask for reconsideration").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Reconsideration requested. The competent authority has been told."
    )
    expect(page).to_have_url(re.compile(rf"/support/people/{case.reference}/plan/$"))
    expect(page.get_by_role("heading", name="A negative decision")).to_have_count(0)
    axe.check(page)

    request = ReconsiderationRequest.objects.get(case=case)
    assert request.requested_by == maya
    assert request.grounds == "She has told us more about the work she was made to do."
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONSIDERATION
