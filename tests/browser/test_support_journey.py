"""A bed tonight, in Chromium with axe on every page: a first responder refers a woman who needs
a safe place to stay tonight; the coordinator finds her on the waiting list, matching proposes a
bed, the coordinator confirms it; the safe house's manager accepts; the free count drops by one;
and the first responder sees where things stand, without the address.

And the safeguards of issue 10: what the first responder writes under immediate needs reaches
the coordinator beside the request, becomes constraints before matching, and the safe house's
manager sees it with the offer; someone whose age is disputed is never proposed a bed in a
house for adults, and the pages say why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from opennrm.accommodation.models import Placement, PlacementStatus
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from tests import case_factories, factories
from tests import support_factories as s

from .test_referral_journeys import (
    answer_account_and_needs,
    answer_age,
    answer_consent,
    answer_exploitation,
    answer_indicators,
    answer_person,
    check_and_submit,
    start_referral,
)
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def how_many_women_we_can_take(page: Page, axe) -> str:
    """The capacity dashboard's answer to "how many more can we take?" for a woman."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Capacity").click()
    page.get_by_label("A woman", exact=True).check()
    page.get_by_role("button", name="Count the beds").click()
    answer = page.locator("#answer")
    expect(answer).to_be_visible()
    axe.check(page)
    return answer.inner_text()


def test_a_bed_tonight_from_referral_to_an_accepted_place(
    new_page,
    axe,
    reads,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    routing: Organisation,
) -> None:
    for person in (alice, cora, maya):
        factories.totp_device(person)
    site = s.site(maya, provider, name="Harbour View", staff_languages=["sq", "en"])
    s.beds(maya, site, 2)

    # The first responder refers a woman who needs a safe place to stay tonight.
    responder: Page = new_page()
    _sign_in_with_device(responder, alice)
    start_referral(responder, axe)
    answer_age(responder, axe, "No")
    answer_consent(responder, axe, "Yes", "Yes")
    answer_person(responder, axe, "Mirela Testdottir", estimated_age="29")
    answer_exploitation(responder, axe)
    answer_indicators(responder, axe)
    answer_account_and_needs(responder, axe, "A safe place to stay tonight")
    reference = check_and_submit(responder, axe, "Submit referral")

    # The coordinator finds her on the waiting list and runs matching.
    coordinator: Page = new_page()
    _sign_in_with_device(coordinator, cora)
    assert how_many_women_we_can_take(coordinator, axe).startswith("2 free beds can take a woman")
    coordinator.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Waiting for a place"
    ).click()
    row = coordinator.locator("table.govuk-table tbody tr", has_text=reference)
    expect(row).to_contain_text("Emergency")
    axe.check(coordinator)
    row.get_by_role("link", name=reference).click()
    expect(coordinator.locator("main")).to_contain_text("Women only, Mixed")
    expect(coordinator.locator("main")).not_to_contain_text("Mirela")
    axe.check(coordinator)
    coordinator.get_by_role("link", name="Waiting for a place").first.click()
    coordinator.get_by_role("button", name="Find places for everyone waiting").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        "Matching proposed 1 place"
    )
    card = coordinator.locator(".govuk-summary-card", has_text=reference)
    expect(card).to_contain_text("Harbour View")
    expect(card).to_contain_text("Meets every requirement and safety condition")
    axe.check(coordinator)
    card.get_by_role("button", name="Confirm").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        f"Place offered for case {reference}"
    )
    axe.check(coordinator)
    assert how_many_women_we_can_take(coordinator, axe).startswith("1 free bed can take a woman")

    # The safe house's manager accepts, and sees the address: she works there.
    manager: Page = new_page()
    _sign_in_with_device(manager, maya)
    manager.get_by_role("navigation", name="Menu").get_by_role("link", name="Placements").click()
    axe.check(manager)
    manager.get_by_role("link", name=reference).click()
    expect(manager.locator("main")).to_contain_text(s.ADDRESS)
    axe.check(manager)
    manager.get_by_role("button", name="Send answer").click()
    expect(manager.locator(".govuk-error-summary")).to_contain_text(
        "Select whether you can take this person"
    )
    axe.check(manager)
    manager.get_by_label("Yes, we accept").check()
    manager.get_by_role("button", name="Send answer").click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("Accepted")
    axe.check(manager)

    # The first responder sees where things stand: provider and region, never the address.
    responder.goto(f"/cases/{reference}/")
    support = responder.locator("main")
    expect(support).to_contain_text(
        "accepted: waiting for the person to arrive, with Test Refuge in North West"
    )
    expect(support).not_to_contain_text(s.ADDRESS)
    expect(support).not_to_contain_text("Harbour View")
    axe.check(responder)
    responder.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Notifications"
    ).click()
    expect(responder.locator("main")).to_contain_text("the place to stay is accepted")
    expect(responder.locator("main")).not_to_contain_text(s.ADDRESS)
    axe.check(responder)

    case = Case.objects.get(reference=reference)
    placement = Placement.objects.get(request__case=case)
    assert placement.status == PlacementStatus.ACCEPTED
    shown = reads.check(typed=["Mirela Testdottir"])
    assert {r.route for r in shown} <= {"referrals:step", "referrals:check_answers", "cases:detail"}


SAFETY = (
    "Women only; must be away from Northmoor: the controller lives there; asthma inhaler needed"
)
WHY_NOT_ADULTS = (
    "a child, or someone whose age is disputed (treated as a child until assessed), is never "
    "placed in a setting for adults"
)


def test_safety_written_at_referral_becomes_constraints_and_no_child_gets_an_adult_bed(
    new_page,
    axe,
    reads,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    routing: Organisation,
    northmoor_police: Organisation,
) -> None:
    for person in (alice, cora, maya):
        factories.totp_device(person)
    s.beds(maya, s.site(maya, provider, name="Moor House", area="Northmoor"))
    s.beds(maya, s.site(maya, provider, name="Dale Flats", setting="mixed", area="Lowshire"))
    s.beds(maya, s.site(maya, provider, name="Harbour View", area="Lowshire"))
    # Someone whose age is disputed is already waiting: every free bed is in a house for adults.
    disputed = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=routing,
        age_group=AgeGroup.PRESUMED_CHILD,
    )
    s.request(disputed)

    # The first responder writes what keeps her safe under immediate needs.
    responder: Page = new_page()
    _sign_in_with_device(responder, alice)
    start_referral(responder, axe)
    answer_age(responder, axe, "No")
    answer_consent(responder, axe, "Yes", "Yes")
    answer_person(responder, axe, "Mirela Testdottir", estimated_age="29")
    answer_exploitation(responder, axe)
    answer_indicators(responder, axe)
    answer_account_and_needs(responder, axe, "A safe place to stay tonight", details=SAFETY)
    reference = check_and_submit(responder, axe, "Submit referral")

    # The coordinator sees it beside the request, before anything is matched.
    coordinator: Page = new_page()
    _sign_in_with_device(coordinator, cora)
    coordinator.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Waiting for a place"
    ).click()
    row = coordinator.locator("table.govuk-table tbody tr", has_text=reference)
    expect(row).to_contain_text("Read the referral first")
    expect(coordinator.locator("main")).not_to_contain_text("controller")
    axe.check(coordinator)
    row.get_by_role("link", name=reference).click()
    expect(coordinator.locator(".app-referral-details")).to_contain_text(SAFETY)
    axe.check(coordinator)

    # She turns it into constraints: women only, not in Northmoor.
    coordinator.get_by_role("button", name="Change needs and constraints").click()
    expect(coordinator.locator(".app-referral-details")).to_contain_text(SAFETY)
    axe.check(coordinator)
    settings = coordinator.get_by_role("group", name="Which settings can the person be placed in?")
    settings.get_by_label("Mixed", exact=True).uncheck()
    coordinator.get_by_label("Local authority areas they must not be placed in (optional)").fill(
        "Northmoor"
    )
    coordinator.get_by_label("I have read what the first responder wrote").check()
    coordinator.get_by_role("button", name="Save").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        "Needs and constraints saved"
    )
    expect(coordinator.locator("main")).to_contain_text("Northmoor")
    axe.check(coordinator)

    # Matching proposes the women-only house outside Northmoor, with her details beside it,
    # and nothing for the person whose age is disputed: every bed is for adults.
    coordinator.get_by_role("link", name="Waiting for a place").first.click()
    coordinator.get_by_role("button", name="Find places for everyone waiting").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        "Matching proposed 1 place; 1 person could not be placed"
    )
    card = coordinator.locator(".govuk-summary-card", has_text=reference)
    expect(card).to_contain_text("Harbour View")
    expect(card).to_contain_text(SAFETY)
    expect(coordinator.locator(".govuk-summary-card")).to_have_count(1)
    unmet = coordinator.locator("main li", has_text=disputed.reference)
    expect(unmet).to_contain_text(
        "No bed for their age group (a child is never placed with adults)"
    )
    axe.check(coordinator)
    card.get_by_role("button", name="Confirm").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        f"Place offered for case {reference}"
    )
    axe.check(coordinator)

    # The page of the person whose age is disputed says why, and so does placing by hand.
    unmet.get_by_role("link").click()
    expect(coordinator.locator("main")).to_contain_text(
        f"no bed in a setting for children is free: {WHY_NOT_ADULTS}"
    )
    axe.check(coordinator)
    coordinator.get_by_role("link", name="Choose a bed by hand").click()
    expect(coordinator.locator("main")).to_contain_text(
        f"the bed is in a setting for adults; {WHY_NOT_ADULTS}"
    )
    axe.check(coordinator)

    # The safe house's manager sees the details with the offer.
    manager: Page = new_page()
    _sign_in_with_device(manager, maya)
    manager.get_by_role("navigation", name="Menu").get_by_role("link", name="Placements").click()
    manager.get_by_role("link", name=reference).click()
    expect(manager.locator(".app-referral-details")).to_contain_text(SAFETY)
    axe.check(manager)

    placement = Placement.objects.get(request__case__reference=reference)
    assert placement.bed.room.site.name == "Harbour View"
    assert not Placement.objects.filter(request__case=disputed).exists()
    shown = reads.check(typed=["Mirela Testdottir", SAFETY])
    assert {
        "support:request",
        "support:request_edit",
        "support:proposals",
        "support:placement",
    } <= {r.route for r in shown}
