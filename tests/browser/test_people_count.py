"""The analyst's preview of the official tables shows referrals and people side by side (ADR
0052): accessible, readable on a 375-pixel screen, its explanation opening, and the count of
people one lower once a decision maker has confirmed two referrals are one person."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.linkage.models import CandidatePair, PairStatus
from opennrm.linkage.services import candidate_pair_review
from tests import case_factories, factories

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")


def test_the_analyst_sees_referrals_and_people_on_a_small_screen(
    new_page, axe, monitoring: Organisation
) -> None:
    police = factories.organisation("People Police", Kind.STATUTORY_FIRST_RESPONDER)
    charity = factories.organisation("People Charity", Kind.NON_STATUTORY_FIRST_RESPONDER)
    authority = factories.organisation("People Authority", Kind.COMPETENT_AUTHORITY)
    decider = factories.user(organisation=authority, role=Role.DECISION_MAKER)
    cases = [
        case_factories.case(
            referred_by=factories.user(organisation=organisation),
            referring_organisation=organisation,
            authority=authority,
            submitted_at=datetime(2024, 5, 1 + n, 12, tzinfo=LONDON),
        )
        for n, organisation in enumerate([police, charity] * 5)
    ]
    analyst = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ana Lyst")
    factories.totp_device(analyst)
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, analyst)

    page.goto("/statistics/tables/?year=2024&quarter=2&jurisdiction=")
    expect(page.locator("#referral-count")).to_have_text("10")
    expect(page.locator("#people-count")).to_have_text("10")
    page.get_by_text("What the count of people means").click()
    expect(page.get_by_text("can be too high but not too low")).to_be_visible()
    axe.check(page)
    assert overflow(page) <= 0

    first, second = sorted(cases[:2], key=lambda case: case.pk)
    pair = CandidatePair.objects.create(
        case_a=first,
        case_b=second,
        match_weight=12.0,
        match_probability=0.99,
        fingerprint="0" * 64,
        fingerprint_key="k1",
        created_at=first.submitted_at,
    )
    candidate_pair_review(by=Actor(decider), pair_id=pair.pk, status=PairStatus.CONFIRMED)

    page.reload()
    expect(page.locator("#referral-count")).to_have_text("10")
    expect(page.locator("#people-count")).to_have_text("9")
