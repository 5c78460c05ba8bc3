"""Issue 14, item 6's public version in Chromium (ADR 0046): an analyst prepares the account of
an operation that has ended (the page, its error and the prepared version pass the accessibility
scan on a 375-pixel screen), a second analyst approves it, and a signed-out visitor finds it on
the public page, naming nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.operations import services as operations
from opennrm.operations.models import Operation
from opennrm.statistics.models import ReleaseVersion, VersionState
from tests import factories, operation_helpers

from .test_casework_pages import _signed_in
from .test_narrow_screen import overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Operation Larkspur: the account"


def test_two_analysts_publish_the_account_of_an_ended_operation(
    new_page, axe, alice: User, northmoor_police: Organisation, monitoring: Organisation
) -> None:
    today = timezone.localdate()
    larkspur = operation_helpers.operation(
        alice, northmoor_police, starts_on=today, ends_on=today + timedelta(days=2)
    )
    for n in range(12):
        operations.reception_take_in(
            by=alice,
            operation=larkspur,
            name_or_description=f"Woman {n} Testova",
            sex="female",
            age_group="adult",
        )
    # It ran last week (history: the services date everything today).
    Operation.objects.filter(pk=larkspur.pk).update(
        starts_on=today - timedelta(days=9), ends_on=today - timedelta(days=3)
    )
    ada = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada Preparer")
    ben = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ben Approver")

    page = _signed_in(new_page, ada)
    page.goto("/statistics/releases/prepare/operation/")
    expect(page.locator("h1")).to_have_text("Publish the account of an operation")
    axe.check(page)
    assert overflow(page) <= 0
    # Nothing chosen: the errors name the fields, nothing is written.
    page.get_by_role("button", name="Prepare the release").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe.check(page)
    assert overflow(page) <= 0
    assert not ReleaseVersion.objects.exists()
    page.get_by_role("group", name="Which operation?").get_by_label(
        "Operation Larkspur", exact=False
    ).check()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Prepare the release").click()
    expect(page.locator("#four-eyes")).to_contain_text("another analyst must approve it")
    axe.check(page)
    assert overflow(page) <= 0
    version = ReleaseVersion.objects.get()
    assert version.state == VersionState.AWAITING_APPROVAL

    approver = _signed_in(new_page, ben)
    approver.goto(f"/statistics/releases/{version.release_id}/1/")
    axe.check(approver)
    approver.get_by_role("button", name="Approve and publish").click()
    expect(approver.get_by_role("link", name="See it on the public page")).to_be_visible()

    visitor = new_page()
    visitor.set_viewport_size({"width": 375, "height": 812})
    visitor.goto("/official-statistics/")
    visitor.get_by_role("link", name=TITLE).click()
    expect(visitor.locator("h1")).to_have_text(TITLE)
    expect(visitor.locator("main")).to_contain_text("Operation Larkspur")
    expect(visitor.locator("main")).not_to_contain_text("Testova")
    axe.check(visitor)
    assert overflow(visitor) <= 0
