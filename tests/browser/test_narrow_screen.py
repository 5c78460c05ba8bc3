"""On a 375-pixel screen (a small phone) no page scrolls sideways: tables scroll in their own
box and long unbroken text wraps."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.privacy.services import retention_apply
from opennrm.referrals import services
from tests import factories
from tests import referral_helpers as r

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNBROKEN = "Wolfeschlegelsteinhausenbergerdorff" * 4
URL = "https://example.org/" + "a-very-long-path-" * 8


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0 when it fits)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def test_tables_and_long_text_fit_a_375_pixel_screen(
    new_page, axe, alice: User, routing: Organisation, northmoor_police: Organisation
) -> None:
    factories.totp_device(alice)
    submitted = r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    services.referral_submit(by=alice, draft=submitted)
    draft = r.draft_through_services(
        alice,
        northmoor_police,
        {
            **r.ADULT_REFERRAL,
            "person": {**r.PERSON, "given_names": UNBROKEN, "aliases": UNBROKEN},
            "account": {**r.ACCOUNT, "persons_account": URL},
        },
    )
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/cookies-and-privacy/")
    expect(page.locator("table.govuk-table").first).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)
    _sign_in_with_device(page, alice)

    page.goto("/referrals/")
    expect(page.get_by_role("heading", name="Referrals", level=1)).to_be_visible()
    expect(page.locator("table.govuk-table").first).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)

    page.goto(f"/referrals/{draft.public_id}/check/")
    expect(page.get_by_role("heading", name="Check your answers before submitting")).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)

    page.goto(f"/referrals/{draft.public_id}/person/")
    expect(page.get_by_label("Given names")).to_have_value(UNBROKEN)
    assert overflow(page) <= 0


def test_a_table_of_five_columns_scrolls_in_its_own_box(new_page, axe, dpo: User) -> None:
    factories.totp_device(dpo)
    retention_apply(today=timezone.localdate())
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, dpo)
    page.goto("/privacy/retention/")
    table = page.get_by_role("table", name="The latest runs of the retention task")
    expect(table).to_be_visible()
    assert overflow(page) <= 0
    box = page.get_by_role("region", name="The latest runs of the retention task")
    expect(box).to_be_visible()
    axe.check(page)
