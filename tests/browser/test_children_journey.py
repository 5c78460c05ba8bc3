"""A child's need goes to the local authority, in Chromium with axe on every page (issue 12,
item 1): a coordinator asks for a place for someone whose age is disputed; it never reaches the
adult waiting list, and the coordinator is told that the local authority's children's services
arrange it and have been told, with the guardian service. The local authority's safeguarding
lead signs in; the home page links to the caseload, which shows the task and the age assessment
outstanding, by reference; the lead records the age assessment and marks the task done."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.safeguarding.models import AgeAssessment, ChildrenServicesTask, TaskStatus
from tests import case_factories, factories

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASONS = "Two social workers assessed him over two sessions; he is 16 (fictional)."
OUTCOME = "Placed with Testshire foster carers tonight (fictional)."


def test_an_age_disputed_persons_place_is_the_local_authoritys_never_adult_matching(
    new_page,
    axe,
    reads,
    alice: User,
    cora: User,
    lena: User,
    gail: User,
    council: Organisation,
    northmoor_police: Organisation,
    routing: Organisation,
) -> None:
    for person in (cora, lena):
        factories.totp_device(person)
    disputed = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=routing,
        age_group=AgeGroup.PRESUMED_CHILD,
        given_names="Tomas Exampleson",
    )
    reference = disputed.reference

    # The coordinator asks for a place for him.
    coordinator: Page = new_page()
    _sign_in_with_device(coordinator, cora)
    coordinator.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Waiting for a place"
    ).click()
    axe.check(coordinator)
    coordinator.get_by_role("link", name="Ask for a place for someone already referred").click()
    expect(coordinator.locator("main")).to_contain_text("never placed by adult matching")
    axe.check(coordinator)
    coordinator.get_by_label("Case reference").fill(reference)
    coordinator.get_by_label("Emergency: today").check()
    today = timezone.localdate()
    coordinator.get_by_label("Day", exact=True).fill(str(today.day))
    coordinator.get_by_label("Month", exact=True).fill(str(today.month))
    coordinator.get_by_label("Year", exact=True).fill(str(today.year))
    coordinator.get_by_role("button", name="Continue").click()
    # Told where it went; never on the adult waiting list.
    banner = coordinator.locator(".govuk-notification-banner")
    expect(banner).to_contain_text(
        "their accommodation is arranged by Test Council children's services"
    )
    expect(banner).to_contain_text("We have told them and the child trafficking guardian service")
    expect(coordinator.locator("main")).to_contain_text("Nobody is waiting for a place")
    axe.check(coordinator)
    assert not PlacementRequest.objects.exists()

    # The local authority's safeguarding lead: the home page links to the caseload.
    lead: Page = new_page()
    _sign_in_with_device(lead, lena)
    lead.get_by_role("link", name="Children in your area").click()
    expect(lead.get_by_role("heading", name="Children in your area", level=1)).to_be_visible()
    main = lead.locator("main")
    expect(main).to_contain_text("1 child needs action")
    expect(main).to_contain_text("1 task due today")
    expect(main).to_contain_text("1 age assessment outstanding")
    expect(main).not_to_contain_text("Tomas")
    tasks = lead.locator("table", has=lead.get_by_text("Accommodation and immediate needs"))
    expect(tasks.locator("tbody tr", has_text=reference)).to_contain_text("Due today")
    axe.check(lead)
    # On a small phone too, nothing scrolls sideways.
    lead.set_viewport_size({"width": 375, "height": 812})
    assert overflow(lead) <= 0

    # The lead records the age assessment: a child.
    lead.get_by_role("link", name=f"Record the age assessment for case {reference}").click()
    axe.check(lead)
    lead.get_by_role("button", name="Record the assessment").click()
    expect(lead.locator(".govuk-error-summary")).to_contain_text("Select what the assessment found")
    axe.check(lead)
    lead.get_by_label("A child", exact=True).check()
    lead.get_by_label("Day", exact=True).fill(str(today.day))
    lead.get_by_label("Month", exact=True).fill(str(today.month))
    lead.get_by_label("Year", exact=True).fill(str(today.year))
    lead.get_by_label("Reasons").fill(REASONS)
    lead.get_by_role("button", name="Record the assessment").click()
    expect(lead.locator(".govuk-notification-banner")).to_contain_text(
        f"Age assessment recorded for case {reference}"
    )
    expect(lead.locator("main")).to_contain_text("Changed to: Child")
    expect(lead.locator("main")).to_contain_text(REASONS)
    axe.check(lead)

    # And marks the task done with what was arranged.
    lead.get_by_role("link", name="open the task").click()
    axe.check(lead)
    lead.get_by_label("What was done").fill(OUTCOME)
    lead.get_by_role("button", name="Mark as done").click()
    expect(lead.locator(".govuk-notification-banner")).to_contain_text(
        f"Task done for case {reference}"
    )
    expect(lead.locator("main")).to_contain_text("No open tasks.")
    expect(lead.locator("main")).to_contain_text("0 children need action")
    axe.check(lead)

    case = Case.objects.get(reference=reference)
    assert case.age_group == AgeGroup.CHILD
    assert AgeAssessment.objects.get(case=case).outcome == "child"
    assert ChildrenServicesTask.objects.get(case=case).status == TaskStatus.DONE
    shown = reads.check(typed=["Tomas Exampleson", REASONS, OUTCOME])
    assert {r.route for r in shown} <= {"cases:detail", "safeguarding:age_assessment"}
