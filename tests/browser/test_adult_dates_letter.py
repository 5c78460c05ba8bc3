"""A letter of the support dates as an adult, in the browser: a decision maker opens it from
the case page on a small phone; the page fits 375 pixels, passes axe, and its read (it names
the person) is audited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.decisions import letters
from opennrm.decisions.models import Letter, LetterOccasion
from tests import factories
from tests.test_letters_review_gaps_stop39 import ASSESSED, _assessed_adult, _disputed_and_refused

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_decision_maker_opens_the_letter_of_adult_dates_on_a_small_phone(
    new_page,
    axe,
    reads,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
) -> None:
    refused = _disputed_and_refused(alice, northmoor_police, authority, dmitri, sally)
    adult = _assessed_adult(refused, lena, ASSESSED)
    letter = Letter.objects.get(case=adult, occasion=LetterOccasion.ADULT_DATES)
    factories.totp_device(dmitri)
    page: Page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, dmitri)

    page.goto(f"/cases/{adult.reference}/")
    page.get_by_role("link", name="Letter of the support dates as an adult").click()
    expect(page).to_have_url(re.compile(rf"/decisions/letters/{letter.pk}/$"))
    expect(page.locator("main")).to_contain_text(letters.written_date(adult.move_on_ends))
    assert overflow(page) <= 0
    axe.check(page)
    shown = {served.route for served in reads.check()}
    assert "decisions:adult_dates_letter" in shown
