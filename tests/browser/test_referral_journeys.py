"""Referral journeys in Chromium, with axe on every page they pass through."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, PersonIdentity
from opennrm.notifications.models import Notification
from opennrm.referrals.models import DutyToNotifyReport, ReferralDraft
from tests import factories

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def responder(alice: User, routing: Organisation) -> User:
    factories.totp_device(alice)
    return alice


def save(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def choose(page: Page, label: str, option: str) -> None:
    """Pick from a long list (countries, languages) the way people do: type the start of it
    into the accessible autocomplete, then choose the suggestion."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.fill(option[:5])
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def start_referral(page: Page, axe) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", name="Referrals", level=1)).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Refer a potential victim").click()
    expect(page.get_by_role("heading", name="Refer a potential victim")).to_be_visible()
    axe.check(page)


def answer_age(page: Page, axe, choice: str, reason: str | None = None) -> None:
    page.get_by_role("link", name="Adult or child").click()
    axe.check(page)
    page.get_by_role("group", name="Is the person under 18?").get_by_label(
        choice, exact=True
    ).check()
    if reason:
        page.get_by_role("group", name="Is there any reason to believe").get_by_label(
            reason, exact=True
        ).check()
    save(page)


def answer_consent(page: Page, axe, referral: str, support: str) -> None:
    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    axe.check(page)
    page.get_by_role("group", name="Does the person consent to being referred?").get_by_label(
        referral, exact=True
    ).check()
    page.get_by_role("group", name="Does the person consent to receiving support?").get_by_label(
        support, exact=True
    ).check()
    page.get_by_label("Which explanation of the mechanism did you give?").select_option(
        "opennrm-consent-2026-1"
    )
    choose(page, "In which language did you explain it?", "Albanian")
    save(page)


def answer_person(
    page: Page, axe, given: str, *, estimated_age: str = "", future_dob: bool = False
) -> None:
    expect(page.get_by_role("heading", name="About the person")).to_be_visible()
    axe.check(page)
    page.get_by_label("Given names").fill(given)
    if future_dob:
        page.get_by_label("Day", exact=True).fill("1")
        page.get_by_label("Month", exact=True).fill("1")
        page.get_by_label("Year", exact=True).fill("2099")
    page.get_by_label("Estimated age in years").fill(estimated_age)
    page.get_by_role("group", name="Sex").get_by_label("Female", exact=True).check()
    choose(page, "Nationality", "Albania")
    choose(page, "Main language", "Albanian")
    page.get_by_role("group", name="Do they need an interpreter?").get_by_label("Yes").check()
    save(page)


def answer_exploitation(page: Page, axe, under_18_when_began: str | None = "No") -> None:
    """`under_18_when_began` None for a child: the question is not asked of them."""
    expect(page.get_by_role("heading", name="The exploitation")).to_be_visible()
    axe.check(page)
    page.get_by_label("Labour exploitation").check()
    page.get_by_label("In the UK only").check()
    page.get_by_label("Which local authority area is the person in now?").select_option("Testshire")
    page.get_by_role("group", name="Is the person in immigration detention?").get_by_label(
        "No"
    ).check()
    when_began = page.get_by_role(
        "group", name="Was the person under 18 when the exploitation began?"
    )
    if under_18_when_began is None:
        expect(when_began).to_have_count(0)
    else:
        when_began.get_by_label(under_18_when_began, exact=True).check()
    save(page)


def answer_indicators(page: Page, axe, *texts: str) -> None:
    expect(page.get_by_role("heading", name="Indicators observed")).to_be_visible()
    axe.check(page)
    if not texts:
        page.get_by_label("I have not seen any of these").check()
    for text in texts:
        page.get_by_label(text).check()
    save(page)


def answer_account_and_needs(page: Page, axe, needs: str, details: str = "") -> None:
    expect(page.get_by_role("heading", name="What happened")).to_be_visible()
    axe.check(page)
    page.get_by_label("What happened, in the person's own words").fill("They kept my passport.")
    page.get_by_label("What you saw and why you are referring them").fill(
        "Seen during a welfare check."
    )
    save(page)
    expect(page.get_by_role("heading", name="Immediate needs")).to_be_visible()
    axe.check(page)
    page.get_by_label(needs).check()
    if details:
        page.get_by_label("Details (optional)").fill(details)
    save(page)


def check_and_submit(page: Page, axe, button: str) -> str:
    page.get_by_role("button", name="Check answers and submit").click()
    expect(page.get_by_role("heading", name="Check your answers before submitting")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name=button).click()
    panel = page.locator(".govuk-panel")
    expect(panel).to_be_visible()
    axe.check(page)
    return re.search(r"(NRM|DTN)-[0-9A-Z]{4}-[0-9A-Z]{4}", panel.inner_text()).group(0)


def test_adult_who_consents_with_an_evidence_file(
    new_page, axe, reads, responder: User, dmitri: User, settings, tmp_path
) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path
    page = new_page()
    _sign_in_with_device(page, responder)
    start_referral(page, axe)
    answer_age(page, axe, "No")
    answer_consent(page, axe, "Yes", "Yes")
    # A mistake on the person page: the message is specific and the other answers stay.
    answer_person(page, axe, "Zorica Testova", future_dob=True)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Date of birth must be in the past"
    )
    expect(page.get_by_label("Given names")).to_have_value("Zorica Testova")
    axe.check(page)
    page.get_by_label("Day", exact=True).fill("")
    page.get_by_label("Month", exact=True).fill("")
    page.get_by_label("Year", exact=True).fill("")
    page.get_by_label("Estimated age in years").fill("26")
    save(page)
    answer_exploitation(page, axe)
    answer_indicators(
        page,
        axe,
        "Was told they would do one kind of work but was made to do different work on arrival",
    )
    answer_account_and_needs(page, axe, "A safe place to stay tonight")
    expect(page.get_by_role("heading", name="Refer a potential victim")).to_be_visible()

    page.get_by_role("link", name="Evidence (optional)").click()
    axe.check(page)
    page.get_by_label("Upload a file").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Upload file").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "statement.pdf has been added"
    )
    axe.check(page)
    page.get_by_role("link", name="Back to the referral").last.click()

    reference = check_and_submit(page, axe, "Submit referral")
    case = Case.objects.get(reference=reference)
    assert case.evidence.count() == 1
    assert case.screening.observed_codes == ["AL-DR-01"]
    assert Notification.objects.filter(recipient=dmitri, case=case).exists()

    page.get_by_role("link", name="View the case").click()
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    axe.check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="statement.pdf").click()
    assert download.value.suggested_filename == "statement.pdf"
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name=f"Referral {reference} submitted")).to_be_visible()
    axe.check(page)

    # Every page that showed the person's details, and the download, left an audit event.
    shown = reads.check(typed=["Zorica Testova"])
    assert {s.route for s in shown} >= {
        "referrals:step",
        "referrals:check_answers",
        "cases:detail",
        "cases:evidence_download",
    }
    draft = ReferralDraft.objects.get(case=case)
    draft_reads = AuditEvent.objects.filter(
        actor=responder, object_type="referrals.referraldraft", object_id=str(draft.pk)
    )
    assert (
        "given_names"
        in draft_reads.get(request_id=_request_of(shown, "referrals:check_answers")).detail[
            "fields"
        ]
    )
    case_view = AuditEvent.objects.get(
        actor=responder, action="person.viewed", person_id=case.person_id
    )
    assert case_view.object_id == str(case.pk)
    assert {"given_names", "persons_account", "evidence_names"} <= set(case_view.detail["fields"])
    download_event = AuditEvent.objects.get(actor=responder, action="evidence.downloaded")
    assert download_event.person_id == case.person_id
    assert download_event.detail["document"] == {
        "type": "referrals.evidencefile",
        "id": case.evidence.get().pk,
    }


def test_child_with_an_age_dispute(new_page, axe, reads, responder: User, lena: User) -> None:
    page = new_page()
    _sign_in_with_device(page, responder)
    start_referral(page, axe)
    answer_age(page, axe, "Not sure: their age is uncertain", reason="Yes")
    # Children need no consent: the journey goes straight to the person.
    answer_person(page, axe, "Minor Example", estimated_age="15")
    answer_exploitation(page, axe, under_18_when_began=None)
    answer_indicators(page, axe)
    answer_account_and_needs(page, axe, "None of these")
    reference = check_and_submit(page, axe, "Submit referral")
    # Told means told: Lena (the council's lead) uses OpenNRM, nobody at the guardian service does.
    expect(page.locator("main")).to_contain_text(
        "the local authority's children's services for Testshire has been told"
    )
    expect(page.locator("main")).to_contain_text(
        "Nobody at the child trafficking guardian service for Testshire uses OpenNRM"
    )
    case = Case.objects.get(reference=reference)
    assert case.age_group == "presumed_child"
    assert Notification.objects.filter(recipient=lena, case=case).exists()
    shown = reads.check(typed=["Minor Example"])
    # Each page was answered once, so only "check your answers" showed the details back.
    assert {s.route for s in shown} == {"referrals:check_answers"}


def test_adult_who_refuses_gives_an_anonymous_report(new_page, axe, reads, responder: User) -> None:
    page = new_page()
    _sign_in_with_device(page, responder)
    start_referral(page, axe)
    answer_age(page, axe, "No")
    answer_consent(page, axe, "No", "No")
    expect(page.get_by_role("heading", name="About the person")).to_be_visible()
    expect(page.get_by_label("Given names")).to_have_count(0)
    axe.check(page)
    page.get_by_role("group", name="Sex").get_by_label("Male", exact=True).check()
    page.get_by_label("Approximate age in years").fill("41")
    choose(page, "Nationality", "Vietnam")
    save(page)
    expect(page.get_by_role("heading", name="The exploitation")).to_be_visible()
    axe.check(page)
    page.get_by_label("Labour exploitation").check()
    page.get_by_label("Both in the UK and overseas").check()
    page.get_by_label("Which local authority area is the person in now?").select_option("Testshire")
    save(page)
    # Intelligence for the police, about the exploitation and never the person (optional).
    expect(page.get_by_role("heading", name="Intelligence for the police")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Do not include anything that could identify the person"
    )
    axe.check(page)
    page.get_by_label("Place 1: town or area").fill("Testshire docks")
    page.get_by_label("Place 1: type of premises").select_option("A car wash")
    page.get_by_label("Descriptions of the exploiters").fill("A tall man with a wolf tattoo")
    page.get_by_label("Vehicle 1: registration").fill("ab12 cde")
    save(page)
    reference = check_and_submit(page, axe, "Submit report")
    assert reference.startswith("DTN-")
    report = DutyToNotifyReport.objects.get(reference=reference)
    assert report.intelligence.vehicles[0]["registration"] == "AB12 CDE"
    assert not Case.objects.exists()
    assert not PersonIdentity.objects.exists()
    # Nothing identifying the person was asked, so none of it was shown or read; the
    # intelligence was shown back once, on "check your answers", and that read recorded.
    shown = reads.check(typed=["A tall man with a wolf tattoo"])
    assert {s.route for s in shown} == {"referrals:check_answers"}
    for read in AuditEvent.objects.filter(action="person.viewed"):
        assert read.person_id is None
        assert all(field.startswith("intelligence_") for field in read.detail["fields"])


def test_a_draft_abandoned_and_resumed_after_signing_out(
    new_page, axe, reads, responder: User
) -> None:
    page = new_page()
    _sign_in_with_device(page, responder)
    start_referral(page, axe)
    answer_age(page, axe, "No")
    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    # Typed but never submitted with the button: the page saves each answer as it is given.
    page.get_by_role("group", name="Does the person consent to being referred?").get_by_label(
        "Yes", exact=True
    ).check()
    page.wait_for_function(
        "() => document.querySelector('[data-autosave]').dataset.saved === 'true'"
    )
    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_role("heading", name="Sign in to OpenNRM")).to_be_visible()

    later = new_page()
    device = responder.totpdevice_set.get()
    device.last_t = -1
    device.save()
    _sign_in_with_device(later, responder)
    later.get_by_role("navigation", name="Menu").get_by_role("link", name="Referrals").click()
    later.get_by_role("link", name=re.compile("^Continue")).click()
    expect(later.get_by_role("heading", name="Refer a potential victim")).to_be_visible()
    axe.check(later)
    later.get_by_role("link", name="Consent").click()
    expect(
        later.get_by_role("group", name="Does the person consent to being referred?").get_by_label(
            "Yes", exact=True
        )
    ).to_be_checked()
    assert ReferralDraft.objects.get().answers["consent"]["consents_to_referral"] == "yes"
    assert reads.check() == []


def test_an_account_typed_in_one_box_for_longer_than_the_idle_time_is_kept(
    new_page, axe, settings, responder: User
) -> None:
    """An officer writes the person's account in one box, never leaving it, for longer than the
    idle time. A box saved only when left made no request all that while: the tab warned, then
    signed out, and the account was lost. Typing now saves as they pause, which keeps the
    session; once they stop, what they typed is kept when the tab signs out."""
    page = new_page()
    _sign_in_with_device(page, responder)
    start_referral(page, axe)
    answer_age(page, axe, "No")
    answer_consent(page, axe, "Yes", "Yes")
    answer_person(page, axe, "Mira", estimated_age="30")
    answer_exploitation(page, axe)
    answer_indicators(page, axe)
    expect(page.get_by_role("heading", name="What happened")).to_be_visible()
    # A short idle time from here on (the page tells its script the time when it loads).
    settings.SESSION_IDLE_SECONDS = 16
    settings.SESSION_WARNING_SECONDS = 6
    page.reload()
    box = page.get_by_label("What happened, in the person's own words")
    box.click()
    account = "They took my passport and said I owed them for the journey"
    for word in account.split(" "):  # about 25 seconds of typing, longer than the idle time
        page.keyboard.type(word + " ", delay=60)
        page.wait_for_timeout(2_000)
        assert page.evaluate("document.getElementById('session-timeout').open") is False
    page.keyboard.type("END", delay=60)
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible(
        timeout=30_000
    )
    saved = ReferralDraft.objects.get().answers["account"]["persons_account"]
    assert saved == account + " END"


def _request_of(shown, route: str) -> str:
    """The request id of the last response to `route` that showed identifying data."""
    return [s.request_id for s in shown if s.route == route][-1]
