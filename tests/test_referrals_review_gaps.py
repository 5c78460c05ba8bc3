"""Gaps a review found in the referral journey, playing a first responder: an autosaved "No" to
consent, the organisation referred for, routing an age-disputed person, indicators ticked from
another list, a save racing the submission, and the referral copy's PDF error.

Alice is a first responder at Northmoor Police.
"""

from __future__ import annotations

import html
import re
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.decisions.letters import MissingGlyphs
from opennrm.referrals import copy_pdf, selectors
from opennrm.referrals.models import DraftStatus, DutyToNotifyReport, ReferralDraft, RoutingRule
from opennrm.referrals.routing import competent_authority_for
from opennrm.screening.catalogue import ListKey
from opennrm.screening.selectors import active_catalogue

from . import factories
from . import referral_helpers as r

PDF = b"%PDF-1.7\n" + b"0" * 64 + b"\n%%EOF"


def _step(draft: ReferralDraft, slug: str) -> str:
    return reverse("referrals:step", args=[draft.public_id, slug])


def _with_evidence(client, draft: ReferralDraft) -> None:
    client.post(
        reverse("referrals:evidence", args=[draft.public_id]),
        {"file": SimpleUploadedFile("statement.pdf", PDF)},
    )
    assert draft.evidence.count() == 1


# --- 1. An autosaved "No" to consent deletes nothing; "Save and continue" does -----------------


def test_an_autosaved_tap_on_consent_no_does_not_delete_the_referral(
    alice: User, routing: Organisation
) -> None:
    """At 2 a.m. an officer has written the whole referral and uploaded evidence. Going back to
    the consent page she taps "No" by mistake; the page's script autosaves it (X-Autosave).
    That unconfirmed autosave must not carry out the irreversible purge (it belongs to the
    confirmed "Save and continue", which the page warns about)."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    _with_evidence(client, draft)

    response = client.post(
        _step(draft, "consent"),
        {**r.CONSENTS, "consents_to_referral": "no"},
        HTTP_X_AUTOSAVE="1",
    )

    assert response.status_code == 204
    draft.refresh_from_db()
    assert draft.answers["consent"]["consents_to_referral"] == "no"
    assert draft.answers.get("person", {}).get("given_names") == "Zorica Testova"
    assert draft.answers.get("account", {}).get("persons_account")
    assert draft.answers.get("needs", {}).get("details")
    assert draft.evidence.count() == 1
    # The task list says it is not confirmed; the report's own pages show nothing identifying.
    assert (
        "has not been saved"
        in client.get(reverse("referrals:task_list", args=[draft.public_id])).content.decode()
    )
    person = client.get(_step(draft, "person")).content.decode()
    assert "Zorica" not in person
    # A report page autosaved meanwhile keeps the name: "Yes" again gets everything back.
    client.post(_step(draft, "person"), r.ANONYMOUS_PERSON, HTTP_X_AUTOSAVE="1")
    client.post(_step(draft, "consent"), r.CONSENTS, HTTP_X_AUTOSAVE="1")
    draft.refresh_from_db()
    assert draft.answers["person"]["given_names"] == "Zorica Testova"
    assert draft.evidence.count() == 1


def test_consent_no_saved_with_save_and_continue_still_deletes_everything(
    alice: User, routing: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    _with_evidence(client, draft)

    response = r.answer(client, draft, "consent", r.REFUSES)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert "given_names" not in draft.answers.get("person", {})
    assert "account" not in draft.answers
    assert "needs" not in draft.answers
    assert draft.evidence.count() == 0


def test_a_report_submitted_after_an_autosaved_no_keeps_nothing_identifying(
    alice: User, routing: Organisation
) -> None:
    """The "No" autosaved and never confirmed on the consent page: the report's pages are
    answered and the report submitted; the submission deletes the answers and files left."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    _with_evidence(client, draft)
    client.post(_step(draft, "consent"), r.REFUSES, HTTP_X_AUTOSAVE="1")
    for slug, data in (("person", r.ANONYMOUS_PERSON), ("exploitation", r.ANONYMOUS_EXPLOITATION)):
        client.post(_step(draft, slug), data, HTTP_X_AUTOSAVE="1")
    check = client.get(reverse("referrals:check_answers", args=[draft.public_id]))
    assert "Zorica" not in check.content.decode()

    response = r.submit(client, draft)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == DraftStatus.REPORTED
    assert draft.answers == {}
    assert draft.evidence.count() == 0
    assert DutyToNotifyReport.objects.count() == 1


# --- 2. A first responder of two organisations chooses which one she refers for ---------------


@pytest.fixture
def charity(alice: User) -> Organisation:
    """Alice also volunteers as a first responder at a charity, first by name."""
    charity = factories.organisation(
        "A Safe Place Charity", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    Membership.objects.create(user=alice, organisation=charity, role=Role.FIRST_RESPONDER)
    return charity


def test_a_referral_is_started_for_the_organisation_chosen(
    alice: User, northmoor_police: Organisation, charity: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    page = client.get(reverse("referrals:my_referrals")).content.decode()
    assert "Which organisation are you referring for?" in page
    assert "A Safe Place Charity" in page
    assert "Northmoor Police" in page

    response = client.post(
        reverse("referrals:draft_start"), {"organisation": str(northmoor_police.pk)}
    )

    assert response.status_code == 302
    draft = ReferralDraft.objects.get()
    assert draft.organisation == northmoor_police


def test_without_a_choice_or_with_an_organisation_not_hers_no_draft_is_started(
    alice: User, northmoor_police: Organisation, charity: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    elsewhere = factories.organisation(
        "Southvale Police", OrganisationKind.STATUTORY_FIRST_RESPONDER
    )
    for data in ({}, {"organisation": str(elsewhere.pk)}, {"organisation": "x"}):
        response = client.post(reverse("referrals:draft_start"), data)
        assert response.status_code == 200
        assert "Select the organisation you are referring for" in response.content.decode()
    assert not ReferralDraft.objects.exists()


def test_one_organisation_is_not_asked_about_and_cannot_be_swapped(
    alice: User, northmoor_police: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    page = client.get(reverse("referrals:my_referrals")).content.decode()
    assert "Which organisation are you referring for?" not in page
    elsewhere = factories.organisation(
        "Southvale Police", OrganisationKind.STATUTORY_FIRST_RESPONDER
    )
    refused = client.post(reverse("referrals:draft_start"), {"organisation": str(elsewhere.pk)})
    assert refused.status_code == 200
    assert not ReferralDraft.objects.exists()
    assert r.start(client).organisation == northmoor_police


# --- 3. A routing rule for children takes an age-disputed person -------------------------------


@pytest.mark.django_db
def test_a_routing_rule_for_children_also_takes_age_disputed_people(
    authority: Organisation,
) -> None:
    """A person whose age is disputed must be treated as a child until assessed: a rule for
    children (before the default one) routes them, not the adult default."""
    childrens = factories.organisation(
        "Children's Decisions Unit", OrganisationKind.COMPETENT_AUTHORITY
    )
    RoutingRule.objects.create(
        priority=10, description="Children", age_group=AgeGroup.CHILD, competent_authority=childrens
    )
    RoutingRule.objects.create(priority=100, description="Default", competent_authority=authority)

    def routed(group: str) -> Organisation:
        return competent_authority_for(
            jurisdiction=authority.jurisdiction, in_immigration_detention=False, age_group=group
        )

    assert routed(AgeGroup.PRESUMED_CHILD) == childrens
    assert routed(AgeGroup.CHILD) == childrens
    assert routed(AgeGroup.ADULT) == authority


@pytest.mark.django_db
def test_a_rule_for_age_disputed_people_does_not_take_children(authority: Organisation) -> None:
    disputed = factories.organisation("Age Dispute Unit", OrganisationKind.COMPETENT_AUTHORITY)
    RoutingRule.objects.create(
        priority=10,
        description="Age disputed",
        age_group=AgeGroup.PRESUMED_CHILD,
        competent_authority=disputed,
    )
    RoutingRule.objects.create(priority=100, description="Default", competent_authority=authority)
    assert (
        competent_authority_for(
            jurisdiction=authority.jurisdiction,
            in_immigration_detention=False,
            age_group=AgeGroup.CHILD,
        )
        == authority
    )


# --- 4. Indicators ticked from another list are named and removed, never shown as codes -------


def test_changing_the_exploitation_after_the_indicators_does_not_show_codes(
    alice: User, routing: Organisation
) -> None:
    """The officer ticks two indicators from the adult labour list, then corrects the kind of
    exploitation to sexual. The indicators page names both (by what they say, not as "AL-DR-01
    is not an indicator in this list"), shows none of them ticked, and saving it removes them."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    labour = ListKey.of(is_child=False, exploitation="labour")
    indicators = active_catalogue().parsed().list(labour).indicators[:2]
    codes = [i.code for i in indicators]
    r.complete(client, draft, {**r.ADULT_REFERRAL, "indicators": r.indicators_seen(*codes)})
    r.answer(client, draft, "exploitation", {**r.EXPLOITATION, "types": ["sexual"]})

    page = client.get(_step(draft, "indicators"))
    text = html.unescape(page.content.decode())

    assert page.status_code == 200
    for code, indicator in zip(codes, indicators, strict=True):
        assert not re.search(rf"{code} is not an indicator", text), code
        assert indicator.text in text
    assert "These indicators you ticked are not in the list" in text
    # Nothing lost before she saves the page; saving it keeps only this list's.
    draft.refresh_from_db()
    assert draft.answers["indicators"]["observed"] == codes
    assert r.answer(client, draft, "indicators", r.NO_INDICATORS).status_code == 302
    draft.refresh_from_db()
    assert not draft.answers["indicators"].get("observed")


# --- 5. A save racing the submission --------------------------------------------------------


def _submitted_while_open(client, draft: ReferralDraft) -> ReferralDraft:
    r.complete(client, draft, r.ADULT_REFERRAL)
    read_before = ReferralDraft.objects.get(pk=draft.pk)
    r.submit(client, draft)
    client.raise_request_exception = False
    return read_before


def test_a_save_racing_the_submission_goes_to_the_referral_submitted(
    alice: User, routing: Organisation
) -> None:
    """She submits in one tab while she presses "Save and continue" on a page in another: the
    page read the draft as a draft; the save finds it submitted. Not a 500: the confirmation,
    saying her page was not saved."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    read_before = _submitted_while_open(client, draft)
    with mock.patch.object(selectors, "draft_get_for_user", return_value=read_before):
        response = client.post(_step(draft, "needs"), r.NEEDS)
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:confirmation", args=[draft.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "already been submitted" in html.unescape(page)


def test_an_autosave_racing_the_submission_is_refused_with_a_409(
    alice: User, routing: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    read_before = _submitted_while_open(client, draft)
    with mock.patch.object(selectors, "draft_get_for_user", return_value=read_before):
        response = client.post(_step(draft, "needs"), r.NEEDS, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 409
    assert "already been submitted" in response.content.decode()


# --- The referral copy's PDF error speaks of the copy, not a letter ---------------------------


def test_the_copy_that_cannot_be_printed_says_the_copy(alice: User, routing: Organisation) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    r.submit(client, draft)
    draft.refresh_from_db()
    url = reverse("cases:referral_copy", args=[draft.case.reference])
    with mock.patch.object(copy_pdf, "pdf", side_effect=MissingGlyphs(["\U00010000"])):
        response = client.get(url, follow=True)
    text = html.unescape(response.content.decode())
    assert "The copy's fonts cannot print \U00010000 (U+10000" in text
    assert "letter" not in text.split("fonts cannot print")[0][-40:]
