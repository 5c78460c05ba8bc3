"""Every page issue 12 and issue 13 added that no journey walks, opened in Chromium on a
375-pixel screen: each passes the accessibility scan, none is wider than the screen, and each
showing of a person's details is recorded as a read (`reads.check()`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accounts.models import User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.casework import services as casework
from opennrm.referrals import services as referrals
from tests import factories

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(new_page, user: User) -> Page:
    factories.totp_device(user)
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _sign_in_with_device(page, user)
    return page


def _check(page: Page, axe, path: str, heading: str) -> None:
    assert page.goto(path).status == 200, path
    expect(page.locator("h1")).to_contain_text(heading)
    axe.check(page)
    assert overflow(page) <= 0, path


def test_the_caseworkers_new_pages_are_accessible_on_a_small_screen(
    new_page, axe, reads, alice: User, dmitri: User, case: Case
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    casework.case_note_add(
        by=alice, case=case, text="Rang the safe contact.", visibility="own_organisation"
    )
    casework.case_task_add(
        by=alice, case=case, title="Book an interpreter", owner=alice, due_on=tomorrow
    )
    asked = referrals.information_request_ask(
        by=dmitri, case=case, question="Where was she kept?", respond_by=tomorrow
    )
    referrals.referral_addition_add(
        by=alice, case=case, text="Above the car wash.", answers=None, max_bytes=0
    )

    page = _signed_in(new_page, alice)
    _check(page, axe, reverse("cases:search"), "Find a case")
    page.get_by_label("Case reference").fill(case.reference)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("main")).to_contain_text(case.reference)
    axe.check(page)
    assert overflow(page) <= 0
    ref = case.reference
    _check(page, axe, reverse("cases:notes", args=[ref]), "Notes")
    _check(page, axe, reverse("cases:note_add", args=[ref]), "note")
    _check(page, axe, reverse("cases:task_add", args=[ref]), "task")
    _check(page, axe, reverse("casework:my_tasks"), "tasks")
    _check(page, axe, reverse("cases:addition_add", args=[ref]), "information")
    _check(page, axe, reverse("cases:information_request_answer", args=[ref, asked.pk]), "request")
    _check(page, axe, reverse("safety:edit", args=[ref]), "Risk and safety")
    _check(page, axe, reverse("safety:dependant_add", args=[ref]), "Add a dependant")

    decider = _signed_in(new_page, dmitri)
    _check(decider, axe, reverse("cases:information_request_ask", args=[ref]), "information")
    _check(decider, axe, reverse("referrals:additions_unseen"), "not yet read")
    reads.check()


def test_the_analysts_new_pages_are_accessible_on_a_small_screen(
    new_page, axe, reads, people_in_every_role: dict[Role, User]
) -> None:
    page = _signed_in(new_page, people_in_every_role[Role.ANALYST])
    _check(page, axe, reverse("statistics:tables"), "Official tables")
    _check(page, axe, reverse("statistics:extract"), "De-identified extract")
    _check(page, axe, reverse("statistics:dp_query"), "differentially private count")
    reads.check()
