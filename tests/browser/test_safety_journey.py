"""Risk and safety carried through to the bed (issue 12, the first journey of its acceptance),
in Chromium with axe on every page: the first responder writes the person's safety at
referral, under immediate needs and on the "Risk and safety" page (a women-only house, keep
away from Northmoor where the controller lives, an asthma inhaler, a child of six with her);
the coordinator sees it beside the request with the constraints already carried into it,
confirms them; matching passes over a tempting free bed in Northmoor and a mixed house and
proposes the women-only family room outside Northmoor; the safe house's manager sees the
exploitation, needs, risk, medical needs and the child before accepting, and not who exploited
her nor where.

test_support_journey.py covers the same text written under immediate needs alone and turned
into constraints by hand; this journey covers the profile that carries them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from opennrm.accommodation.models import Placement, PlacementStatus
from opennrm.accounts.models import Organisation, User
from opennrm.safety.models import SafetyProfile
from tests import factories
from tests import support_factories as s

from .test_referral_journeys import (
    answer_account_and_needs,
    answer_age,
    answer_consent,
    answer_exploitation,
    answer_indicators,
    answer_person,
    check_and_submit,
    save,
    start_referral,
)
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAFETY = "women-only house; must be away from Northmoor: the controller lives there; asthma inhaler needed"
REASONS = "The controller lives in Northmoor and is looking for her"
EXPLOITER = "A man called 'the landlord', silver estate car"
MEDICAL = "Asthma inhaler needed"


def answer_risk_and_safety(page: Page, axe) -> None:
    page.get_by_role("link", name="Risk and safety").click()
    expect(page.get_by_role("heading", name="Risk and safety", level=1)).to_be_visible()
    axe.check(page)
    page.get_by_role("group", name="How high is the risk").get_by_label("High", exact=True).check()
    page.get_by_role("group", name="Do they need a women-only").get_by_label(
        "A women-only house"
    ).check()
    page.get_by_label("Places they must keep away from (optional)").fill("Northmoor")
    page.get_by_label("Who exploited them (optional)").fill(EXPLOITER)
    page.get_by_label("Medical needs (optional)").fill(MEDICAL)
    page.get_by_label("Dependant 1: who they are").select_option("child")
    page.get_by_label("Dependant 1: age in years").fill("6")
    page.get_by_label("Dependant 1: sex").select_option("male")
    # Sent without the reasons a high risk needs: said plainly, nothing typed lost.
    save(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the risk is high")
    expect(page.get_by_label("Medical needs (optional)")).to_have_value(MEDICAL)
    axe.check(page)
    page.get_by_label("Why (needed for a high or very high risk)").fill(REASONS)
    save(page)
    expect(page.get_by_role("heading", name="Refer a potential victim")).to_be_visible()


def test_safety_written_at_referral_reaches_the_bed_and_the_safe_house(
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
    # A tempting women-only family room in Northmoor, free tonight; a mixed house; and the
    # women-only family room outside Northmoor that is safe.
    s.beds(maya, s.site(maya, provider, name="Moor House", area="Northmoor"), takes_dependants=1)
    s.beds(maya, s.site(maya, provider, name="Dale Flats", setting="mixed", area="Lowshire"))
    s.beds(maya, s.site(maya, provider, name="Harbour View", area="Lowshire"), takes_dependants=1)

    # The first responder writes what keeps her safe.
    responder: Page = new_page()
    _sign_in_with_device(responder, alice)
    start_referral(responder, axe)
    answer_age(responder, axe, "No")
    answer_consent(responder, axe, "Yes", "Yes")
    answer_person(responder, axe, "Mirela Testdottir", estimated_age="29")
    answer_exploitation(responder, axe)
    answer_indicators(responder, axe)
    answer_account_and_needs(responder, axe, "A safe place to stay tonight", details=SAFETY)
    answer_risk_and_safety(responder, axe)
    reference = check_and_submit(responder, axe, "Submit referral")
    profile = SafetyProfile.objects.get(case__reference=reference)
    assert profile.keep_away == ["Northmoor"]
    assert profile.dependant_count == 1

    # The coordinator sees it beside the request: the text, and the profile it became.
    coordinator: Page = new_page()
    _sign_in_with_device(coordinator, cora)
    coordinator.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Waiting for a place"
    ).click()
    row = coordinator.locator("table.govuk-table tbody tr", has_text=reference)
    expect(row).to_contain_text("Read the referral first")
    axe.check(coordinator)
    row.get_by_role("link", name=reference).click()
    expect(coordinator.locator(".app-referral-details")).to_contain_text(SAFETY)
    profile_box = coordinator.locator(".app-safety-profile")
    expect(profile_box).to_contain_text(f"High: {REASONS}")
    expect(profile_box).to_contain_text("A women-only house")
    expect(profile_box).to_contain_text("Northmoor")
    expect(profile_box).to_contain_text("Their child, 6 years, male")
    axe.check(coordinator)

    # Women only and "not in Northmoor" are already the request's constraints: she checks
    # them against the text and records that she has read it.
    coordinator.get_by_role("button", name="Change needs and constraints").click()
    settings = coordinator.get_by_role("group", name="Which settings can the person be placed in?")
    expect(settings.get_by_label("Women only", exact=True)).to_be_checked()
    expect(settings.get_by_label("Mixed", exact=True)).not_to_be_checked()
    expect(
        coordinator.get_by_label("Local authority areas they must not be placed in (optional)")
    ).to_have_value("Northmoor")
    expect(coordinator.get_by_label("Children coming with them")).to_have_value("1")
    axe.check(coordinator)
    coordinator.get_by_label("I have read what the first responder wrote").check()
    coordinator.get_by_role("button", name="Save").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        "Needs and constraints saved"
    )
    axe.check(coordinator)

    # Matching proposes the women-only family room outside Northmoor.
    coordinator.get_by_role("link", name="Waiting for a place").first.click()
    coordinator.get_by_role("button", name="Find places for everyone waiting").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        "Matching proposed 1 place"
    )
    card = coordinator.locator(".govuk-summary-card", has_text=reference)
    expect(card).to_contain_text("Harbour View")
    expect(card).not_to_contain_text("Moor House")
    axe.check(coordinator)
    card.get_by_role("button", name="Confirm").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        f"Place offered for case {reference}"
    )
    axe.check(coordinator)

    # The safe house's manager sees what she needs to answer, before accepting.
    manager: Page = new_page()
    _sign_in_with_device(manager, maya)
    manager.get_by_role("navigation", name="Menu").get_by_role("link", name="Placements").click()
    axe.check(manager)
    manager.get_by_role("link", name=reference).click()
    main = manager.locator("main")
    expect(main).to_contain_text("Labour exploitation")
    expect(main).to_contain_text("A safe place to stay tonight")
    box = manager.locator(".app-safety-profile")
    expect(box).to_contain_text(f"High: {REASONS}")
    expect(box).to_contain_text(MEDICAL)
    expect(box).to_contain_text("Their child, 6 years, male")
    expect(box).not_to_contain_text(EXPLOITER)
    expect(main).not_to_contain_text("They kept my passport")  # never the narrative
    axe.check(manager)
    manager.get_by_label("Yes, we accept").check()
    manager.get_by_role("button", name="Send answer").click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("Accepted")
    axe.check(manager)

    placement = Placement.objects.get(request__case__reference=reference)
    assert placement.status == PlacementStatus.ACCEPTED
    assert placement.bed.room.site.name == "Harbour View"
    shown = reads.check(typed=["Mirela Testdottir", SAFETY, REASONS, EXPLOITER, MEDICAL])
    assert {"referrals:step", "support:request", "support:request_edit", "support:placement"} <= {
        r.route for r in shown
    }
