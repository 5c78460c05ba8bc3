"""Gaps a review found in screening and how it feeds a referral (ADR 0007, ADR 0042).

Alice and Bob are first responders at Northmoor Police; Charlie is at Southvale Police.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

from django.test import TestCase
from django.urls import reverse

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.referrals import services as referral_services
from opennrm.referrals.models import ReferralDraft
from opennrm.screening import services
from opennrm.screening.catalogue import ListKey
from opennrm.screening.rules import Element
from opennrm.screening.selectors import active_catalogue

from . import factories
from . import referral_helpers as r

START = reverse("screening:start")
# Recruitment (deceptive) and exploitative conditions are met; no coercion or abuse of
# vulnerability at destination is recorded.
RECRUITMENT_AND_EXPLOITATION = ["AL-DR-01", "AL-DR-04", "AL-EX-01", "AL-EX-02"]
ADULT_PATTERN = [*RECRUITMENT_AND_EXPLOITATION, "AL-CD-02", "AL-CD-03"]


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def checklist_url(list_key: str = "adult_labour", **extra: str) -> str:
    return f"{reverse('screening:checklist')}?{urlencode({'list': list_key, **extra})}"


def small_catalogue(version: str = "2") -> dict[str, Any]:
    """A valid catalogue a deployment could load: one indicator per list, new codes."""
    return {
        "format": 1,
        "key": "deployment-list",
        "version": version,
        "title": "Deployment list",
        "source": "Licensed official list (test copy)",
        "licence": "Test",
        "lists": {
            key.value: [
                {
                    "code": f"{key.value}-1",
                    "dimension": "deceptive_recruitment",
                    "strength": "strong",
                    "group": "situational",
                    "text": "A sign",
                }
            ]
            for key in ListKey
        },
    }


# --- A person exploited as a child is screened under adult rules -----------------------------


def test_an_adult_exploited_as_a_child_is_screened_without_the_means_element(
    alice: User, routing: Organisation
) -> None:
    """A young adult trafficked at 16 is, in law, a child victim: the means element is not
    needed (Palermo Art. 3(c); CETS 197 Art. 4(c); ADR 0042, which already refuses the
    `no_means` negative reason for "an adult who was a child when the exploitation began").
    Yet the referral's screening applies the adult rule and tells the decision maker, on the
    case page, that "coercion or abuse of vulnerability at destination is not shown": guidance
    that points the competent authority towards exactly the reason ADR 0042 forbids, and harms
    the person's chance of a positive decision."""
    pages = {
        **r.ADULT_REFERRAL,
        "person": {
            **r.PERSON,
            "date_of_birth_day": "1",
            "date_of_birth_month": "1",
            "date_of_birth_year": "2007",
        },
        "exploitation": {
            **r.EXPLOITATION,
            "started_month": "6",
            "started_year": "2023",
            "under_18_when_began": "yes",
        },
        "indicators": r.indicators_seen(*RECRUITMENT_AND_EXPLOITATION),
    }
    draft = r.draft_through_services(alice, alice.memberships.get().organisation, pages)
    with TestCase.captureOnCommitCallbacks(execute=True):
        submitted = referral_services.referral_submit(by=alice, draft=draft)
    case = submitted.case
    assert case is not None
    assert case.exploited_as_child
    result = case.screening.result_object()
    means = next(e for e in result.elements if e.element is Element.MEANS)
    assert not means.required, "the means element is required of a person exploited as a child"
    assert result.indicated


# --- One screening, one person: it starts one referral ----------------------------------------


def test_a_screening_that_has_been_referred_cannot_start_another_referral(
    alice: User, bob: User, routing: Organisation
) -> None:
    """The screening page offers "Start a referral from this screening" only while the screening
    has no case (`screening.views.detail`: `not hasattr(screening, "case")`). But the submitted
    referral records a new screening and never links the one it started from, so the button
    stays for ever: a colleague (Bob) who opens the organisation's recent screenings is invited
    to refer the same person again, with the first person's indicators carried into a second
    referral: a duplicate NRM referral the competent authority has to unpick, or one person's
    answers reaching another person's referral."""
    screening = services.screening_record(
        by=alice,
        organisation=alice.memberships.get().organisation,
        list_key="adult_labour",
        is_child=False,
        observed_codes=ADULT_PATTERN,
    )
    client = factories.signed_in_client(alice)
    refer_url = reverse("referrals:draft_from_screening", args=[screening.pk])
    response = client.post(refer_url)
    assert response.status_code == 302
    draft = ReferralDraft.objects.get()
    pages = {k: v for k, v in r.ADULT_REFERRAL.items() if k not in ("age", "indicators")}
    r.complete(client, draft, pages)
    with TestCase.captureOnCommitCallbacks(execute=True):
        r.submit(client, draft)
    assert Case.objects.count() == 1

    bobs = factories.signed_in_client(bob)
    page = bobs.get(reverse("screening:detail", args=[screening.pk])).content.decode()
    assert f'action="{refer_url}"' not in page, "a referred screening still offers a referral"
    bobs.post(refer_url)
    assert ReferralDraft.objects.count() == 1, "a second referral was started from it"


def test_a_referral_from_an_unchanged_screening_records_that_screening(
    alice: User, routing: Organisation
) -> None:
    """The screening a referral was started from is the case's screening when its answers are
    unchanged: one record of what the first responder saw, linked to the case, not two."""
    screening = services.screening_record(
        by=alice,
        organisation=alice.memberships.get().organisation,
        list_key="adult_labour",
        is_child=False,
        observed_codes=ADULT_PATTERN,
    )
    client = factories.signed_in_client(alice)
    client.post(reverse("referrals:draft_from_screening", args=[screening.pk]))
    draft = ReferralDraft.objects.get()
    pages = {k: v for k, v in r.ADULT_REFERRAL.items() if k not in ("age", "indicators")}
    r.complete(client, draft, pages)
    with TestCase.captureOnCommitCallbacks(execute=True):
        r.submit(client, draft)
    assert Case.objects.get().screening == screening


def test_the_one_who_started_a_referral_from_a_screening_is_taken_back_to_it(
    alice: User, routing: Organisation
) -> None:
    """Pressing "Start a referral" again (another tab, the back button) opens the draft already
    started from the screening rather than refusing, or starting a second one."""
    screening = services.screening_record(
        by=alice,
        organisation=alice.memberships.get().organisation,
        list_key="adult_labour",
        is_child=False,
        observed_codes=ADULT_PATTERN,
    )
    client = factories.signed_in_client(alice)
    refer_url = reverse("referrals:draft_from_screening", args=[screening.pk])
    first = client.post(refer_url)
    again = client.post(refer_url)
    assert again["Location"] == first["Location"]
    assert ReferralDraft.objects.count() == 1


# --- A draft answered before a new catalogue version is loaded --------------------------------


def test_a_draft_answered_before_a_new_catalogue_keeps_its_indicators(
    alice: User, routing: Organisation
) -> None:
    """ADR 0007: "every screening keeps a reference to the version it used", and
    `screening_record` exists for "a referral draft started before a new version was loaded".
    But the draft does not record the version its checklist was shown from and submission
    checks the saved ticks against whatever is active: once a deployment loads its licensed
    list, every draft in progress is refused ("Complete 'Indicators observed'"), its page says
    "AL-DR-01 is not an indicator in this list" (codes the first responder never sees), and
    the indicators they ticked with the person in front of them are lost."""
    organisation = alice.memberships.get().organisation
    pages = {**r.ADULT_REFERRAL, "indicators": r.indicators_seen("AL-DR-01", "AL-EX-01")}
    draft = r.draft_through_services(alice, organisation, pages)
    shown_from = active_catalogue()
    services.catalogue_load(by=None, data=small_catalogue())
    with TestCase.captureOnCommitCallbacks(execute=True):
        submitted = referral_services.referral_submit(by=alice, draft=draft)
    case = submitted.case
    assert case is not None
    assert case.screening.catalogue == shown_from
    assert case.screening.observed_codes == ["AL-DR-01", "AL-EX-01"]


def test_a_draft_whose_version_was_not_recorded_is_asked_again_saying_why(
    alice: User, routing: Organisation
) -> None:
    """A draft answered before drafts recorded their catalogue version, once a new list is
    loaded, cannot keep codes the new list does not have: the page asks again and says why, not
    "AL-DR-01 is not an indicator in this list" (ADR 0007)."""
    organisation = alice.memberships.get().organisation
    pages = {**r.ADULT_REFERRAL, "indicators": r.indicators_seen("AL-DR-01", "AL-EX-01")}
    draft = r.draft_through_services(alice, organisation, pages)
    ReferralDraft.objects.filter(pk=draft.pk).update(indicators_catalogue=None)
    services.catalogue_load(by=None, data=small_catalogue())
    client = factories.signed_in_client(alice)
    page = text_of(client.get(reverse("referrals:step", args=[draft.public_id, "indicators"])))
    assert "The list of indicators has changed since this page was answered" in page
    assert "is not an indicator" not in page


# --- Accessibility: error summaries linked to the field ---------------------------------------


def test_the_not_both_error_links_to_the_checklist_and_shows_beside_it(alice: User) -> None:
    """GOV.UK Design System (error summary; WCAG 2.2 3.3.1): every error in the summary links
    to the answer with the problem, and the same message is shown beside that answer. Ticking
    indicators and "I have not seen any of these" together gives an error that is a non-field
    error: the summary shows it with no link, and nothing is shown beside the checklist, so a
    screen-reader or keyboard user cannot get to what must be fixed."""
    page = (
        factories.signed_in_client(alice)
        .post(checklist_url(), {"observed": ["AL-DR-01"], "none_observed": "on"})
        .content.decode()
    )
    page = html.unescape(page)
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "not both" in summary
    linked = r'href="#id_(observed|none_observed)"[^>]*>[^<]*not both'
    assert re.search(linked, summary), "the summary's error does not link to a field"
    beside = r'govuk-error-message">\s*<span[^>]*>[^<]*</span>[^<]*not both'
    assert re.search(beside, page), "no error message is shown beside the checklist"


def test_the_organisation_problem_links_to_the_organisation_question(
    alice: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """Someone screening for two organisations who follows a link without (or with a wrong)
    organisation is told "Select the organisation you are screening for", but the error
    summary's link takes them to the adult-or-child question (`#id_age_group`,
    `screening/start.html`), not to the organisation question it is about (GOV.UK error
    summary: each link goes to the answer with the problem)."""
    Membership.objects.create(user=alice, organisation=council, role=Role.SAFEGUARDING_LEAD)
    page = factories.signed_in_client(alice).get(checklist_url("adult_labour")).content.decode()
    assert "Select the organisation you are screening for" in page
    assert 'id="id_organisation"' in page
    assert 'href="#id_organisation"' in page
