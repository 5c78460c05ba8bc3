"""Accessibility review (WCAG 2.2 AA, GOV.UK Design System): the pages with two paged lists,
scanned by axe in Chromium at 375 pixels. Synthetic data only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.referrals.models import InformationRequest
from tests import case_factories, factories
from tests import referral_helpers as r

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_referrals_page_with_both_lists_paged_passes_axe_at_375_pixels(
    new_page,
    axe,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Alice, a first responder using a screen reader on her phone, opens "Referrals" with 51
    questions waiting and 51 referrals from her organisation, and an unfinished referral. Both
    lists are paged (my_referrals.html, macro `pager`), each by a <nav aria-label="Pagination">:
    her screen reader's landmark list offers two identical "Pagination" navigations, each with
    a "Next page" link, and nothing says which list each pages (axe: landmark-unique; WCAG
    1.3.1, 2.4.6). GOV.UK's pagination takes a `landmarkLabel` for this: each nav should be
    named after its list ("Questions waiting for your answer: pages")."""
    factories.totp_device(alice)
    for n in range(51):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=timezone.now() - timedelta(hours=n),
        )
        InformationRequest.objects.create(
            case=case,
            asked_by=dmitri,
            asked_at=timezone.now(),
            respond_by=timezone.localdate() + timedelta(days=n),
            question="Which town?",
        )
    r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    page: Page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, alice)
    page.goto("/referrals/")
    expect(page.get_by_role("columnheader", name="Deleted on, unless saved")).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)


def test_the_reasonable_grounds_queue_with_both_tables_paged_passes_axe_at_375_pixels(
    new_page,
    axe,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Dmitri, a decision maker who uses a screen reader, opens the reasonable grounds queue:
    51 cases suspended while the person is missing and 51 waiting. The "Suspended: the person
    is missing" table and the queue are each paged (decisions/queue.html: macro `pager` and
    `paging.links`) by a <nav aria-label="Pagination">: two identical landmarks, each with a
    "Next page" link, and nothing tells which pages the suspended cases (axe: landmark-unique;
    WCAG 1.3.1, 2.4.6). Each nav should carry a `landmarkLabel` naming its list."""
    from tests.decision_helpers import rg

    factories.totp_device(dmitri)
    for n in range(102):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=timezone.now() - timedelta(hours=n),
        )
        if n % 2:
            rg(case, dmitri, "suspended", "Reported missing before a decision.")
    page: Page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, dmitri)
    page.goto("/decisions/?queue=reasonable-grounds")
    expect(page.get_by_role("heading", name="Suspended: the person is missing")).to_be_visible()
    assert overflow(page) <= 0
    axe.check(page)
