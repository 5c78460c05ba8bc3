"""An adult's age disputed after referral, in Chromium with axe on every page (found by
review): the decision maker opens the case of a person referred as an adult, records that
they may be under 18, is told what happened, and the case page shows them treated as a child;
the adult place requested for them is withdrawn."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.safeguarding.models import ChildrenServicesTask
from tests import case_factories, factories
from tests import support_factories as s

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_decision_maker_records_that_an_adult_may_be_a_child(
    new_page,
    axe,
    alice: User,
    dmitri: User,
    lena: User,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    factories.totp_device(dmitri)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Mira Exampleson",
    )
    s.request(case)
    page: Page = new_page()
    _sign_in_with_device(page, dmitri)
    page.goto(f"/cases/{case.reference}/")
    axe.check(page)
    page.get_by_role("link", name="record that they may be a child").click()
    expect(page.locator("h1")).to_have_text("Record that the person may be under 18")
    axe.check(page)
    page.get_by_role("button", name="Treat them as a child").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select why the person may be under 18"
    )
    axe.check(page)
    page.get_by_label("They say they are under 18").check()
    page.get_by_role("button", name="Treat them as a child").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "the person is now treated as a child"
    )
    expect(page.locator("main")).to_contain_text("treated as a child until assessed")
    axe.check(page)
    case.refresh_from_db()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    assert not PlacementRequest.objects.filter(case=case, status="open").exists()
    assert ChildrenServicesTask.objects.filter(case=case).exists()
