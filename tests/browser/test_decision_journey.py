"""A decision maker takes the oldest referral from the queue and decides it; the referrer sees
it; a conclusive decision is refused before the earliest date and accepted after the clock moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.models import Decision, DecisionKind
from tests import case_factories, factories

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, user: User) -> None:
    TOTPDevice.objects.filter(user=user).update(last_t=-1)
    _sign_in_with_device(page, user)


def test_decision_maker_decides_from_the_queue(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    factories.totp_device(alice)
    factories.totp_device(dmitri)
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=True) as traveller:
        newer = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            reasonable_grounds_due="2026-03-09",
        )
        oldest = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            reasonable_grounds_due="2026-02-27",
        )
        page = new_page()
        sign_in(page, dmitri)
        page.get_by_role("navigation", name="Menu").get_by_role("link", name="Decisions").click()
        expect(page.get_by_role("heading", name="Decisions", level=1)).to_be_visible()
        rows = page.locator("table.govuk-table").first.locator("tbody tr")
        expect(rows.first).to_contain_text(oldest.reference)
        expect(rows.first).to_contain_text("Overdue")
        expect(rows.nth(1)).to_contain_text(newer.reference)
        axe.check(page)

        rows.first.get_by_role("link", name=oldest.reference).click()
        expect(page.get_by_role("heading", name=f"Case {oldest.reference}")).to_be_visible()
        axe.check(page)
        page.get_by_role("button", name="Make the reasonable grounds decision").click()
        expect(page.get_by_role("heading", name="Reasonable grounds decision")).to_be_visible()
        axe.check(page)
        page.get_by_label("Positive: there are reasonable grounds").check()
        page.get_by_label("Reasons").fill(
            "A consistent account, supported by the indicators observed."
        )
        page.get_by_role("button", name="Record the decision").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Decision recorded")
        expect(page.get_by_text("Recovery period ends")).to_be_visible()
        axe.check(page)
        page.get_by_role("link", name="Letter").first.click()
        expect(page.get_by_role("heading", name="Vendim për çështjen tuaj")).to_be_visible()
        axe.check(page)
        with page.expect_download() as letter_pdf:
            page.get_by_role("link", name="Download the letter as a PDF").click()
        assert letter_pdf.value.suggested_filename.endswith(".pdf")

        referrer = new_page()
        sign_in(referrer, alice)
        referrer.get_by_role("navigation", name="Menu").get_by_role(
            "link", name="Notifications"
        ).click()
        expect(
            referrer.get_by_role(
                "heading",
                name=f"Case {oldest.reference}: recovery period: awaiting conclusive grounds decision",
            )
        ).to_be_visible()
        axe.check(referrer)
        referrer.get_by_role("navigation", name="Menu").get_by_role(
            "link", name="Referrals"
        ).click()
        expect(referrer.locator("main")).to_contain_text(
            "Recovery period: awaiting conclusive grounds decision"
        )
        referrer.get_by_role("link", name=oldest.reference).click()
        expect(referrer.get_by_role("heading", name=f"Case {oldest.reference}")).to_be_visible()
        axe.check(referrer)

        # Too early for a conclusive decision: not offered, and the page says from when.
        page.goto(f"/cases/{oldest.reference}/")
        expect(page.get_by_role("heading", name=f"Case {oldest.reference}")).to_be_visible()
        expect(
            page.get_by_role("button", name="Make the conclusive grounds decision")
        ).to_have_count(0)
        expect(page.locator("main")).to_contain_text(
            "The conclusive grounds decision can be made from 1 April 2026"
        )
        page.goto(f"/decisions/cases/{oldest.reference}/conclusive-grounds/")
        expect(page.locator("main")).to_contain_text("cannot be made before 1 April 2026")
        expect(page.get_by_role("button", name="Record the decision")).to_have_count(0)
        axe.check(page)

        traveller.move_to("2026-04-01 09:00:00+00:00")
        later = new_page()
        sign_in(later, dmitri)
        later.goto(f"/decisions/cases/{oldest.reference}/conclusive-grounds/")
        later.get_by_label("Recognised as a victim of modern slavery (human trafficking)").check()
        later.get_by_label("Reasons").fill("The balance of probabilities is met.")
        later.get_by_role("button", name="Record the decision").click()
        expect(later.locator(".govuk-notification-banner")).to_contain_text(
            "Recognised as a victim"
        )
        axe.check(later)
    assert Case.objects.get(pk=oldest.pk).status == "positive_cg"

    # Every page that showed the person's details, and the PDF, left an audit event; the queue,
    # the notifications and the referrals list showed no details at all.
    shown = reads.check()
    # The decide pages showed nothing about the person: no evidence to list, no reasons typed
    # again (a conclusive decision is not offered before its date, so nothing was refused).
    assert {s.route for s in shown} == {
        "cases:detail",
        "decisions:letter",
        "decisions:letter_pdf",
    }
    person_reads = AuditEvent.objects.filter(person_id=oldest.person_id)
    assert person_reads.filter(actor=dmitri, action="person.viewed", object_id=str(oldest.pk))
    assert person_reads.filter(actor=alice, action="person.viewed", object_id=str(oldest.pk))
    letter = person_reads.get(
        actor=dmitri, action="person.viewed", detail__document__type="decisions.decision"
    )
    assert letter.detail["fields"] == ["given_names", "decision_reasons"]
    assert person_reads.filter(actor=dmitri, action="person.exported").count() == 1
    assert not AuditEvent.objects.filter(person_id=newer.person_id).exists()


def test_a_decision_maker_disqualifies_on_public_order_grounds_pending_a_second(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Under the rules since 30 January 2023 (NABA 2022 s.63), from the case page in the
    recovery period: the page asks for the ground and the reasons, refuses an empty answer with
    its error summary, and the decision waits for a second decision maker."""
    factories.totp_device(dmitri)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=timezone.now() - timedelta(days=10),
    )
    page = new_page()
    sign_in(page, dmitri)
    page.goto(f"/cases/{case.reference}/")
    page.get_by_role("link", name="Disqualify on public order or bad faith grounds").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("isqualif")
    axe.check(page)
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe.check(page)
    page.locator("input[name=ground]").first.check()
    page.get_by_label("Reasons", exact=False).fill(
        "A conviction for a serious offence since the referral (fictional)."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("second decision maker")
    axe.check(page)
    decision = Decision.objects.get(case=case, kind=DecisionKind.DISQUALIFICATION)
    assert decision.state == "awaiting_approval"
    assert decision.decided_by == dmitri
    # The case page named the person, and each time it did, the read was recorded.
    assert "cases:detail" in {served.route for served in reads.check()}
