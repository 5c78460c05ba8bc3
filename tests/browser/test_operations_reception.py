"""Reception on the night of an operation (issue 14, item 4), in Chromium on a 375-pixel
screen: two responders take people in, each in their own browser; a child is taken in as a
child; the board shows everyone by number and where each stands; every page passes the
accessibility scan and none is wider than the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.notifications.models import Notification
from opennrm.operations import services as operations
from opennrm.operations.models import ReceptionRecord
from tests import operation_helpers

from .test_casework_pages import _check, _signed_in
from .test_narrow_screen import overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _take_in(page: Page, name: str, age: str, *, needs: tuple[str, ...] = ()) -> None:
    page.get_by_label("Name, or a description").fill(name)
    page.get_by_role("group", name="Adult or child?").get_by_label(age, exact=True).check()
    page.get_by_role("group", name="Sex").get_by_label("Female").check()
    page.get_by_label("Language (optional)").select_option("ro")
    page.get_by_role("group", name="Do they need an interpreter?").get_by_label("Yes").check()
    for need in needs:
        page.get_by_label(need).check()
    page.get_by_role("button", name="Take in").click()


def test_two_responders_take_people_in_and_the_board_shows_where_each_stands(
    new_page,
    axe,
    alice: User,
    bob: User,
    northmoor_police: Organisation,
    council: Organisation,
    lena: User,
) -> None:
    today = timezone.localdate()
    larkspur = operation_helpers.operation(
        alice, northmoor_police, starts_on=today, ends_on=today + timedelta(days=2)
    )
    operations.operation_partner_invite(
        by=alice, operation=larkspur, organisation=council, role="local_authority"
    )
    reception = reverse("operations:reception", args=[larkspur.pk])
    board = reverse("operations:board", args=[larkspur.pk])
    alices = _signed_in(new_page, alice)
    bobs = _signed_in(new_page, bob)

    _check(alices, axe, reception, "Take a person in")
    _check(bobs, axe, reception, "Take a person in")
    # A mistake: nothing chosen but the name. The errors show, the name is kept.
    alices.get_by_label("Name, or a description").fill("Ana Testova")
    alices.get_by_role("button", name="Take in").click()
    expect(alices.locator(".govuk-error-summary")).to_contain_text(
        "Select whether they are an adult or a child"
    )
    expect(alices.get_by_label("Name, or a description")).to_have_value("Ana Testova")
    axe.check(alices)
    assert overflow(alices) <= 0

    _take_in(alices, "Ana Testova", "Adult", needs=("A safe place to stay tonight",))
    _take_in(bobs, "girl in green coat", "Child")
    _take_in(alices, "Bianca Testova", "Adult")
    expect(bobs.locator(".govuk-notification-banner")).to_contain_text(
        "Person 2 taken in and treated as a child"
    )
    expect(alices.locator(".govuk-notification-banner")).to_contain_text("Person 3 taken in")
    expect(alices.get_by_label("Name, or a description")).to_have_value("")
    axe.check(alices)
    assert overflow(alices) <= 0
    assert ReceptionRecord.objects.filter(operation=larkspur).count() == 3
    # The child was routed as a child: the council's safeguarding lead told at once.
    assert Notification.objects.filter(kind="operations.child_taken_in", recipient=lena).exists()

    _check(alices, axe, board, "People taken in")
    rows = alices.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Ana Testova")
    expect(rows.nth(0)).to_contain_text("Waiting for a bed")
    expect(rows.nth(1)).to_contain_text("Child")
    expect(rows.nth(1)).to_contain_text("Draft referral")
    # The board updates: Bob takes another in, Alice refreshes.
    _take_in(bobs, "Dana Testova", "Age disputed")
    alices.get_by_role("link", name="Refresh the board").click()
    expect(alices.locator("tbody tr")).to_have_count(4)
    axe.check(alices)
    assert overflow(alices) <= 0
