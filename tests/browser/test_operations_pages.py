"""The pages issue 14 has added so far (an operation's plan and partners; protection from
removal), opened in Chromium on a 375-pixel screen: each passes the accessibility scan and none
is wider than the screen. An immigration enforcement officer checks a reference in the recovery
period and is told that removal must not proceed, then records a planned removal; the referrer
is told."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import CaseStatus
from opennrm.notifications.models import Notification
from opennrm.operations import services as operations
from tests import case_factories, factories, operation_helpers

from .test_casework_pages import _check, _signed_in
from .test_narrow_screen import overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operations_pages_are_accessible_on_a_small_screen(
    new_page, axe, alice: User, northmoor_police: Organisation, provider: Organisation
) -> None:
    planned = operation_helpers.operation(alice, northmoor_police)
    operations.operation_partner_invite(
        by=alice, operation=planned, organisation=provider, role="support_provider"
    )
    page = _signed_in(new_page, alice)
    _check(page, axe, reverse("operations:list"), "Operations")
    expect(page.locator("main")).to_contain_text(planned.name)
    _check(page, axe, reverse("operations:plan"), "Plan an operation")
    _check(page, axe, reverse("operations:detail", args=[planned.pk]), planned.name)
    expect(page.locator("main")).to_contain_text(provider.name)
    _check(page, axe, reverse("operations:edit", args=[planned.pk]), "Change the plan")
    _check(page, axe, reverse("operations:partner_invite", args=[planned.pk]), "Invite")
    _check(page, axe, reverse("operations:cancel", args=[planned.pk]), "Cancel")


def test_an_immigration_officer_is_told_removal_must_not_proceed_and_the_referrer_is_told(
    new_page,
    axe,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        given_names="Mirela Testova",
    )
    officer = factories.user(
        "officer@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Owen Officer",
    )
    page = _signed_in(new_page, officer)
    _check(page, axe, reverse("protection:check"), "protection")
    page.get_by_label("Reference").fill(case.reference)
    page.get_by_role("button", name="Check").click()
    answer = page.locator("#protection-answer")
    expect(answer).to_contain_text("protected")
    expect(answer).to_contain_text("Removal must not proceed")
    expect(page.locator("main")).not_to_contain_text("Mirela")
    axe.check(page)
    assert overflow(page) <= 0

    planned_on = case.recovery_period_ends
    assert planned_on is not None
    page.get_by_label("Day").first.fill(str(planned_on.day))
    page.get_by_label("Month").first.fill(str(planned_on.month))
    page.get_by_label("Year").first.fill(str(planned_on.year))
    page.get_by_role("button", name="Record planned removal").click()
    expect(page.locator("main")).to_contain_text("Removal must not proceed")
    axe.check(page)
    assert overflow(page) <= 0
    assert Notification.objects.filter(recipient=alice, kind="protection.planned_removal").exists()


def test_an_invited_provider_adds_surge_places_and_holds_beds_on_a_small_screen(
    new_page, axe, alice: User, maya: User, northmoor_police: Organisation, provider: Organisation
) -> None:
    """Issue 14, item 3 (ADR 0044): the provider's manager adds surge places and holds a bed
    from the operation's page, on a 375-pixel screen, and sees both listed there."""
    from tests import support_factories as s

    planned = operation_helpers.operation(alice, northmoor_police)
    operations.operation_partner_invite(
        by=alice, operation=planned, organisation=provider, role="support_provider"
    )
    house = s.site(maya, provider, name="Rowan House")
    s.beds(maya, house, 2)
    page = _signed_in(new_page, maya)
    _check(page, axe, reverse("operations:detail", args=[planned.pk]), planned.name)
    page.get_by_role("link", name="Add surge places").click()
    axe.check(page)
    assert overflow(page) <= 0
    page.get_by_label("Where are the places?").select_option(
        label=f"Rowan House ({provider.name}, women only)"
    )
    page.get_by_label("How many places?").fill("10")
    for group, day in (("First day", "10"), ("Last day", "20")):
        fieldset = page.get_by_role("group", name=group)
        fieldset.get_by_label("Day").fill(day)
        fieldset.get_by_label("Month").fill("3")
        fieldset.get_by_label("Year").fill("2027")
    page.get_by_label("Funding (optional)").fill("Operation budget")
    page.get_by_role("button", name="Add surge places").click()
    expect(page.locator("main")).to_contain_text("Operation budget")
    axe.check(page)
    assert overflow(page) <= 0
    page.get_by_role("link", name="Hold beds").click()
    axe.check(page)
    assert overflow(page) <= 0
    page.get_by_label("Which site?").select_option(
        label=f"Rowan House ({provider.name}, women only)"
    )
    page.get_by_label("How many beds?").fill("1")
    until = page.get_by_role("group", name="Hold them until the end of")
    until.get_by_label("Day").fill("12")
    until.get_by_label("Month").fill("3")
    until.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Hold beds").click()
    expect(page.locator("main")).to_contain_text("Rowan House, bed")
    axe.check(page)
    assert overflow(page) <= 0
