"""Defects found by a review of the first responder's referral journey, role-playing a council
worker referring an age-disputed 16-year-old, and a charity caseworker (a non-statutory first
responder) whose client will not consent.

Alice is a first responder at Northmoor Police; the test council covers Testshire.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.referrals import steps
from opennrm.referrals.models import DutyToNotifyReport, ReferralDraft
from opennrm.screening import services as screening_services

from . import factories
from . import referral_helpers as r


@pytest.fixture
def caseworker(db: None) -> User:
    """A caseworker at a charity that is a first responder but not a public authority: it does
    not carry the duty to notify (Modern Slavery Act 2015 s.52)."""
    charity = factories.organisation(
        "Harbour Outreach", kind=OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    return factories.user("caseworker@example.org", organisation=charity, role=Role.FIRST_RESPONDER)


def test_a_charity_is_told_at_once_that_a_refusal_leaves_nothing_to_submit(
    caseworker: User, routing: Organisation
) -> None:
    """A charity caseworker's client will not consent. She saves "No" on the consent page; the
    journey then titles itself "Duty to notify report" and walks her through the report's
    pages (about the person, the exploitation, intelligence for the police), and only when she
    presses submit is she told that her organisation does not carry the duty to notify, so there
    was never anything to submit: her time is wasted, and the intelligence she typed about the
    exploiters is lost with the draft.

    Cause: `referrals.steps` routes every adult without consent to `Route.DUTY_TO_NOTIFY`
    whatever the draft's organisation; only `referrals.services._report` checks
    `DUTY_TO_NOTIFY_KINDS`, at submission. The task list (and the page after consent) should say
    so at once, for an organisation without the duty."""
    client = factories.signed_in_client(caseworker)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.REFUSES})

    task_list = client.get(reverse("referrals:task_list", args=[draft.public_id]))
    html = task_list.content.decode()
    assert "does not carry the duty to notify" in html
    assert "Intelligence for the police" not in html


def test_the_charitys_consent_page_says_a_refusal_leaves_nothing_to_submit(
    caseworker: User, alice: User
) -> None:
    """Before she saves "No": the charity is told that nothing will be submitted; a police
    officer, that an anonymous report will be."""
    charity = factories.signed_in_client(caseworker)
    draft = r.start(charity)
    r.answer(charity, draft, "age", r.ADULT)
    page = charity.get(reverse("referrals:step", args=[draft.public_id, "consent"]))
    html = page.content.decode()
    assert "there is nothing to submit instead" in html
    assert "Harbour Outreach does not carry the duty to notify" in html

    police = factories.signed_in_client(alice)
    draft = r.start(police)
    r.answer(police, draft, "age", r.ADULT)
    page = police.get(reverse("referrals:step", args=[draft.public_id, "consent"]))
    assert "Northmoor Police carries the duty to notify" in page.content.decode()


def test_a_charitys_refusal_offers_no_report_page_and_submits_nothing(
    caseworker: User, routing: Organisation
) -> None:
    """The report's pages are not offered (nor reachable), the identifying answers are deleted
    as for a report, and a submission says why there is nothing to submit."""
    client = factories.signed_in_client(caseworker)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS, "person": r.PERSON})
    response = r.answer(client, draft, "consent", r.REFUSES)
    assert response["Location"] == reverse("referrals:task_list", args=[draft.public_id])

    draft.refresh_from_db()
    assert steps.route(draft.answers) == steps.Route.NOTHING_TO_SUBMIT
    assert "Zorica" not in str(draft.answers)
    html = client.get(reverse("referrals:task_list", args=[draft.public_id])).content.decode()
    assert "Duty to notify report" not in html
    assert "About the person" not in html
    assert "Check answers and submit" not in html
    for slug in ("person", "exploitation", "intelligence"):
        page = client.get(reverse("referrals:step", args=[draft.public_id, slug]))
        assert page.status_code == 404, slug

    assert "does not carry the duty to notify" in r.submit(client, draft).content.decode()
    assert not DutyToNotifyReport.objects.exists()

    # She changes her mind: the referral's pages are back.
    r.answer(client, draft, "consent", r.CONSENTS)
    draft.refresh_from_db()
    assert steps.route(draft.answers) == steps.Route.REFERRAL


def test_a_police_officers_refusal_is_still_a_duty_to_notify_report(
    alice: User, routing: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.REFUSES})
    html = client.get(reverse("referrals:task_list", args=[draft.public_id])).content.decode()
    assert "Duty to notify report" in html
    assert "does not carry the duty to notify" not in html
    draft.refresh_from_db()
    assert steps.NO_DUTY_TO_NOTIFY not in draft.answers


def test_an_age_disputed_person_screened_as_a_child_is_not_referred_as_a_certain_child(
    alice: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """The screening's start page tells the first responder: "If there is any reason to believe
    they may be under 18, choose child: they are treated as a child until their age is
    assessed." A 16-year-old whose age is disputed is therefore screened as a child; "Refer this
    person" then fills the referral's age page with "Is the person under 18? Yes", marked
    Completed, so the case is recorded as a certain child, not age disputed. The local
    authority's caseload never lists an age assessment as outstanding for them (it lists only
    age-disputed people), and the dispute the screening was told about is lost.

    Cause: `referrals.services._answers_from` turns `screening.is_child` into
    `{"under_18": "yes"}`; the screening cannot tell a child from an age-disputed person, so the
    age page should be left for the referrer to answer (or the screening should ask)."""
    screening = screening_services.screening_record(
        by=alice,
        organisation=northmoor_police,
        list_key="child_labour",
        is_child=True,
        observed_codes=[],
    )
    client = factories.signed_in_client(alice)
    client.post(reverse("referrals:draft_from_screening", args=[screening.pk]))
    draft = ReferralDraft.objects.get(created_by=alice)

    age = steps.STEP_BY_SLUG["age"]
    recorded = steps.answered_age_group(draft.answers)
    assert not (
        recorded == AgeGroup.CHILD
        and steps.state_of(age, draft.answers) == steps.StepState.COMPLETED
    )
    # Still treated as a child: no consent asked, never a duty to notify report.
    assert recorded == AgeGroup.PRESUMED_CHILD
    assert steps.route(draft.answers) == steps.Route.REFERRAL
    assert "consent" not in [step.slug for step in steps.applicable_steps(draft.answers)]
