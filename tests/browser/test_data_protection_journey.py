"""The data-protection officer finds out who looked at a person: a decision maker opens a case,
and the officer, looking the case up by its reference, sees who, when, which details and from
where, without ever being shown the details themselves."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
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
    operator: Organisation,
) -> None:
    dpo = factories.user(
        "dpo@example.org",
        organisation=operator,
        role=Role.DATA_PROTECTION_OFFICER,
        full_name="Dee Protector",
    )
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
        ["Home", "Audit trail", "Data access", "Notifications"]
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
