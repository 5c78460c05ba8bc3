"""Two states added to the journeys, in Chromium with axe on every page they pass through: a
charity whose adult client will not consent is told at once there is nothing to submit (it does
not carry the duty to notify), and a referrer whose window for asking for reconsideration closed
while she wrote is told why her request is refused, with her grounds kept in the box.

All people, places and organisations are synthetic."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import DUTY_TO_NOTIFY_KINDS, OrganisationKind, Role
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.models import ReconsiderationRequest
from opennrm.referrals import services, steps
from opennrm.referrals.models import DutyToNotifyReport, ReferralDraft
from tests import case_factories, factories

from .test_referral_journeys import answer_age, answer_consent, start_referral
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
GROUNDS = "A psychiatric report dated 30 March explains the gaps in her account."


@pytest.fixture
def caseworker(routing: Organisation) -> User:
    """A caseworker at a charity that is a first responder but not a public authority: it does
    not carry the duty to notify (Modern Slavery Act 2015 s.52)."""
    charity = factories.organisation(
        "Harbour Outreach", kind=OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    assert charity.kind not in DUTY_TO_NOTIFY_KINDS
    user = factories.user("caseworker@example.org", organisation=charity, role=Role.FIRST_RESPONDER)
    factories.totp_device(user)
    return user


def test_a_charitys_client_who_refuses_leaves_nothing_to_submit_until_she_consents(
    new_page, axe, reads, caseworker: User
) -> None:
    page: Page = new_page()
    _sign_in_with_device(page, caseworker)
    start_referral(page, axe)
    answer_age(page, axe, "No")

    # Before she saves "No": warned that nothing will be submitted instead.
    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    warning = page.locator(".govuk-warning-text")
    expect(warning).to_contain_text(
        "If they do not consent, no referral is made, and there is nothing to submit instead: "
        "Harbour Outreach does not carry the duty to notify, so it makes no anonymous report."
    )
    expect(warning).not_to_contain_text("you will submit an anonymous report instead")
    answer_consent(page, axe, "No", "No")  # checks the consent page with axe first

    # The task list says so at once, and offers no submit button and no report page.
    expect(page.get_by_role("heading", name="Refer a potential victim", level=1)).to_be_visible()
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "An adult who does not consent cannot be referred, and your organisation does not "
        "carry the duty to notify (Modern Slavery Act 2015 section 52: public authorities in "
        "England and Wales only), so there is nothing to submit."
    )
    expect(page.locator(".govuk-warning-text")).to_contain_text(services.NOTHING_TO_SUBMIT)
    expect(page.get_by_role("heading", name="Duty to notify report")).to_have_count(0)
    expect(page.get_by_role("button", name="Check answers and submit")).to_have_count(0)
    expect(page.get_by_text("Check answers and submit")).to_have_count(0)
    expect(page.locator(".govuk-task-list").get_by_role("link")).to_have_text(
        ["Adult or child", "Consent"]
    )
    for report_page in ("About the person", "The exploitation", "Intelligence for the police"):
        expect(page.get_by_role("link", name=re.compile(f"^{report_page}"))).to_have_count(0)
    axe.check(page)

    draft = ReferralDraft.objects.get(created_by=caseworker)
    assert steps.route(draft.answers) == steps.Route.NOTHING_TO_SUBMIT
    assert not Case.objects.exists()
    assert not DutyToNotifyReport.objects.exists()

    # She changes consent to "Yes": the referral's pages come back.
    page.get_by_role("link", name="change the consent page").click()
    answer_consent(page, axe, "Yes", "Yes")
    expect(page.get_by_role("heading", name="About the person")).to_be_visible()
    expect(page.get_by_label("Given names")).to_be_visible()
    axe.check(page)
    draft.refresh_from_db()
    assert steps.route(draft.answers) == steps.Route.REFERRAL
    assert not Case.objects.exists()
    assert not DutyToNotifyReport.objects.exists()
    assert reads.check() == []


def test_a_referrer_whose_window_closes_while_she_writes_is_told_why_and_keeps_her_grounds(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    # A negative reasonable-grounds decision approved on 2 March 2026: reconsideration may be
    # asked until 1 April.
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        opened = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            given_names="Ardita Testova",
        )
        refused = case_factories.refused_at_reasonable_grounds(
            opened, decider=dmitri, approver=sally
        )
    assert refused.reconsideration_until is not None
    assert f"{refused.reconsideration_until:%-d %B %Y}" == "1 April 2026"
    factories.totp_device(alice)

    # She opens the form late on the last day, while it is still offered...
    with time_machine.travel(datetime(2026, 4, 1, 23, 45, tzinfo=LONDON), tick=True) as clock:
        page: Page = new_page()
        _sign_in_with_device(page, alice)
        page.goto(f"/cases/{refused.reference}/")
        expect(
            page.get_by_role("heading", name=f"Case {refused.reference}", level=1)
        ).to_be_visible()
        axe.check(page)
        page.get_by_role("button", name="Ask for reconsideration").click()
        expect(page.get_by_role("heading", name="Ask for reconsideration", level=1)).to_be_visible()
        expect(page.locator("main")).to_contain_text("You can ask until 1 April 2026")
        axe.check(page)
        box = page.get_by_label("Why should the decision be reconsidered?")
        box.fill(GROUNDS)

        # ...and sends it just after midnight, when the window has closed.
        clock.move_to(datetime(2026, 4, 2, 0, 5, tzinfo=LONDON))
        page.get_by_role("button", name="Ask for reconsideration").click()
        expect(page).to_have_title(re.compile(r"^Error: "))
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text(
            "Reconsideration could be asked for until 1 April 2026, and that time has passed."
        )
        expect(summary).to_contain_text(
            "The competent authority takes a late request only in exceptional circumstances: "
            "write to Test Competent Authority directly, giving them."
        )
        expect(page.locator("main")).to_contain_text("You could ask until 1 April 2026")
        expect(page.get_by_label("Why should the decision be reconsidered?")).to_have_value(GROUNDS)
        axe.check(page)

    assert not ReconsiderationRequest.objects.exists()
    assert Case.objects.get(pk=refused.pk).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
    # The grounds shown back are free text about the person: that showing is audited as a read.
    shown = reads.check(typed=[GROUNDS])
    assert "cases:reconsideration_request" in {s.route for s in shown}
