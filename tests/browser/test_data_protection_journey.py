"""The data-protection officer at work.

1. Who looked at a person: a decision maker opens a case, and the officer, looking the case up
   by its reference, sees who, when, which details and from where, without ever being shown the
   details themselves.
2. A person's request: the officer finds them by name and date of birth, exports everything
   held (recorded), cannot erase while the case is open, the decision maker closes it, the
   officer records the request and a second officer approves it, which erases the details; the
   case page then shows only the figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.privacy.models import Erasure
from tests import case_factories, factories

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_data_protection_officer_sees_who_looked_at_a_person(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dpo: User,
) -> None:
    for person in (dmitri, dpo):
        factories.totp_device(person)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Vesna Example",
    )

    decider: Page = new_page()
    _sign_in_with_device(decider, dmitri)
    decider.goto(f"/cases/{case.reference}/")
    expect(decider.get_by_role("heading", name=f"Case {case.reference}")).to_be_visible()

    officer: Page = new_page()
    _sign_in_with_device(officer, dpo)
    nav = officer.get_by_role("navigation", name="Menu")
    expect(nav.get_by_role("link")).to_have_text(
        ["Home", "Audit trail", "Data access", "Data requests", "Retention", "Notifications"]
    )
    axe.check(officer)
    nav.get_by_role("link", name="Data access").click()
    expect(officer.get_by_role("heading", name="Who looked at a person's data")).to_be_visible()
    axe.check(officer)
    officer.get_by_role("button", name="Look up").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text("Enter a case reference")
    axe.check(officer)
    officer.get_by_label("Case reference").fill("NRM-NONE-0000")
    officer.get_by_role("button", name="Look up").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text("No case has this reference")
    officer.get_by_label("Case reference").fill(case.reference.lower())
    officer.get_by_role("button", name="Look up").click()
    row = officer.locator("table.govuk-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("dmitri@example.org")
    expect(row).to_contain_text("Viewed the case")
    expect(row).to_contain_text("given names")
    expect(row).to_contain_text("127.0.0.1")
    expect(officer.locator("main")).not_to_contain_text("Vesna Example")
    axe.check(officer)

    # The officer may search the whole audit trail too, but change nothing.
    nav.get_by_role("link", name="Audit trail").click()
    expect(officer.locator("table.govuk-table tbody")).to_contain_text("person.viewed")
    axe.check(officer)

    assert AuditEvent.objects.filter(actor=dpo, action="audit.person_reads_viewed").exists()
    shown = reads.check()
    assert [s.route for s in shown] == ["cases:detail"]
    assert shown[0].user_email == dmitri.email


def test_data_protection_officer_answers_a_request_and_erases_on_request(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    dpo: User,
    second_dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    for person in (dmitri, dpo, second_dpo):
        factories.totp_device(person)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        given_names="Oriella",
        family_name="Testmark",
        date_of_birth=date(1993, 6, 5),
        # Referred long before she asked for erasure (a request cannot come before it).
        submitted_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    )

    officer: Page = new_page()
    _sign_in_with_device(officer, dpo)
    officer.get_by_role("navigation", name="Menu").get_by_role("link", name="Data requests").click()
    expect(officer.get_by_role("heading", name="Find a person's records")).to_be_visible()
    axe.check(officer)
    officer.get_by_role("button", name="Find").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text("Enter a case reference")
    axe.check(officer)
    officer.get_by_label("Whole name").fill("oriella TESTMARK")
    officer.get_by_label("Day").fill("5")
    officer.get_by_label("Month").fill("6")
    officer.get_by_label("Year").fill("1993")
    officer.get_by_role("button", name="Find").click()
    expect(officer.get_by_role("heading", name="1 person found")).to_be_visible()
    expect(officer.locator("main")).not_to_contain_text("Oriella")
    axe.check(officer)
    officer.get_by_role("link", name=f"Person {case.person_id}").click()
    expect(officer.locator("main")).to_contain_text(case.reference)
    axe.check(officer)

    # The export shows the details, so it asks for the request's reference and is recorded.
    officer.get_by_role("link", name="Export everything held about this person").click()
    officer.get_by_role("button", name="Export").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text(
        "Enter your reference for the request"
    )
    axe.check(officer)
    officer.get_by_label("Your reference for the request").fill("DPR-2026-0042")
    officer.get_by_label("A page to read and print").check()
    officer.get_by_role("button", name="Export").click()
    expect(officer.locator("main")).to_contain_text("Oriella")
    expect(officer.locator("main")).to_contain_text("Subject access request DPR-2026-0042")
    axe.check(officer)

    # Not while the case is open; the decision maker closes it.
    officer.goto(f"/privacy/people/{case.person_id}/erase/")
    expect(officer.locator("main")).to_contain_text(f"must close case {case.reference} first")
    axe.check(officer)
    decider: Page = new_page()
    _sign_in_with_device(decider, dmitri)
    decider.goto(f"/cases/{case.reference}/")
    decider.get_by_role("link", name="Close the case").click()
    axe.check(decider)
    decider.get_by_label("Support and move-on support have ended").check()
    decider.get_by_role("button", name="Close the case").click()
    expect(decider.locator(".govuk-notification-banner")).to_contain_text("is closed")

    officer.reload()
    officer.get_by_role("button", name="Record the request for approval").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text(
        "Confirm that the details may be erased"
    )
    axe.check(officer)
    officer.get_by_label("Your reference for the request").fill("DPR-2026-0043")
    officer.get_by_label("Day").fill("20")
    officer.get_by_label("Month").fill("11")
    officer.get_by_label("Year").fill("2026")
    officer.get_by_label("I have checked that the law allows").check()
    officer.get_by_role("button", name="Record the request for approval").click()
    officer.goto(f"/privacy/people/{case.person_id}/erase/")
    # Whoever recorded it cannot approve it: a second officer must.
    expect(officer.locator("main")).to_contain_text("another data-protection officer must approve")
    expect(officer.get_by_role("button", name="Approve and erase the details")).to_have_count(0)
    axe.check(officer)
    assert not Erasure.objects.exists()

    approver: Page = new_page()
    _sign_in_with_device(approver, second_dpo)
    approver.goto(f"/privacy/people/{case.person_id}/erase/")
    expect(approver.locator("main")).to_contain_text("DPR-2026-0043")
    axe.check(approver)
    approver.get_by_role("button", name="Approve and erase the details").click()
    expect(approver.locator(".govuk-notification-banner")).to_contain_text("have been erased")
    expect(approver.locator("main")).to_contain_text("Identifying details removed on")
    axe.check(approver)
    officer.get_by_role("navigation", name="Menu").get_by_role("link", name="Retention").click()
    expect(officer.locator("main")).to_contain_text("1 erased on request")
    axe.check(officer)

    decider.goto(f"/cases/{case.reference}/")
    expect(decider.locator("main")).to_contain_text("were removed on")
    expect(decider.locator("main")).not_to_contain_text("Oriella")
    axe.check(decider)

    assert Erasure.objects.get().request_reference == "DPR-2026-0043"
    shown = reads.check(typed=["Oriella", "Testmark"])
    # The export, and the case page before the erasure (on opening it, and after closing it);
    # after the erasure the case page shows nothing identifying.
    assert [(s.route, s.user_email) for s in shown] == [
        ("privacy:export", dpo.email),
        ("cases:detail", dmitri.email),
        ("cases:detail", dmitri.email),
    ]
