"""A child, or a person whose age is disputed, is never treated as an adult anywhere in the
referral journey; what a referral asked for a child is on the referrer's copy; a date of birth
typed wrong is a message, never an error page; and a person whose date of birth shows they were
a child when the exploitation began is not recorded as 'not known'."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole
from opennrm.referrals import copy_pdf, steps
from opennrm.referrals import services as referrals
from opennrm.referrals.models import ReferralDraft
from tests import api_helpers as a
from tests import factories
from tests import operation_helpers as op
from tests import referral_helpers as r


def _answer(by: User, draft: ReferralDraft, pages) -> ReferralDraft:
    for slug, data in pages.items():
        draft = referrals.draft_save_answers(
            by=by, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    return draft


@pytest.fixture
def taken_in(alice: User, northmoor_police: Organisation, council: Organisation):
    """A person taken in as age disputed during an operation, with a bed needed tonight."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    with time_machine.travel(op.DURING, tick=False):
        return operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="girl in grey hoodie",
            sex="female",
            age_group="age_disputed",
            urgent_needs=["bed_tonight"],
            interpreter_needed=True,
        )


def test_a_presumed_childs_draft_answered_as_an_adult_who_refuses_keeps_its_answers(
    alice: User, routing: Organisation, taken_in
) -> None:
    """A person taken in as age disputed is treated as a child until an age assessment: their
    draft never becomes an adult's duty to notify report, whose saving deletes the name, the
    account and the needs, whatever the age and consent pages are answered."""
    with time_machine.travel(op.DURING, tick=False):
        draft = _answer(
            alice, taken_in.draft, {"age": r.ADULT, "person": r.PERSON, "account": r.ACCOUNT}
        )
        draft = _answer(alice, draft, {"consent": r.REFUSES})
    draft.refresh_from_db()
    assert draft.presumed_child
    assert steps.age_group(draft.answers) == AgeGroup.PRESUMED_CHILD
    assert steps.route(draft.answers) == steps.Route.REFERRAL
    assert "consent" not in [step.slug for step in steps.applicable_steps(draft.answers)]
    assert draft.answers.get("person", {}).get("given_names") == r.PERSON["given_names"]
    assert draft.answers.get("account") == r.ACCOUNT
    assert draft.answers.get("needs", {}).get("needs") == ["bed_tonight"]


@pytest.mark.parametrize(
    "age", [r.ADULT, {"under_18": "not_sure", "reason_to_believe_child": "no"}]
)
def test_the_age_page_of_a_presumed_child_refuses_an_adults_answer_saying_why(
    alice: User, routing: Organisation, taken_in, age
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        page = r.answer(client, taken_in.draft, "age", age)
        task_list = client.get(reverse("referrals:task_list", args=[taken_in.draft.public_id]))
    assert page.status_code == 200
    assert "treated as a child until an age assessment says otherwise" in (
        page.content.decode().replace("&#x27;", "'")
    )
    assert task_list.status_code == 200
    taken_in.draft.refresh_from_db()
    assert taken_in.draft.answers["age"]["under_18"] == age["under_18"]  # kept, to correct
    assert "consent" not in [s.slug for s in steps.applicable_steps(taken_in.draft.answers)]


def test_an_adults_draft_is_still_asked_for_consent_and_may_become_a_report(
    alice: User, council: Organisation
) -> None:
    draft = r.draft_through_services(alice, council, {"age": r.ADULT, "consent": r.REFUSES})
    assert not draft.presumed_child
    assert steps.route(draft.answers) == steps.Route.DUTY_TO_NOTIFY


def test_the_copy_of_a_childs_referral_lists_the_immediate_needs_it_was_submitted_with(
    alice: User, northmoor_police: Organisation, council: Organisation, routing: Organisation
) -> None:
    """A child's needs go to children's services as a task, never to an adult placement
    request: the referrer's copy lists them from that task."""
    draft = r.draft_through_services(
        alice, northmoor_police, {**r.CHILD_REFERRAL, "needs": r.NEEDS}
    )
    case = referrals.referral_submit(by=alice, draft=draft).case
    assert case is not None
    assert case.is_child
    needs = dict(
        next(s for s in copy_pdf.as_submitted(case) if s.heading == "Immediate needs").rows
    )
    assert "A safe place to stay tonight" in needs["Needs"]


def test_the_copy_of_an_adults_referral_still_lists_its_immediate_needs(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    draft = r.draft_through_services(
        alice, northmoor_police, {**r.ADULT_REFERRAL, "needs": r.NEEDS}
    )
    case = referrals.referral_submit(by=alice, draft=draft).case
    assert case is not None
    assert not case.is_child
    needs = dict(
        next(s for s in copy_pdf.as_submitted(case) if s.heading == "Immediate needs").rows
    )
    assert "A safe place to stay tonight" in needs["Needs"]


def test_a_date_of_birth_of_twenty_digits_is_a_message_on_the_task_list_not_an_error_page(
    alice: User, council: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    client.raise_request_exception = False
    draft = r.start(client)
    r.complete(
        client,
        draft,
        {"age": r.ADULT, "consent": r.CONSENTS, "person": r.PERSON, "exploitation": r.EXPLOITATION},
    )
    # A slip of the keyboard on the person page, once the exploitation page is answered.
    page = r.answer(client, draft, "person", {**r.PERSON, "date_of_birth_day": "9" * 25})
    assert page.status_code == 200  # the person page itself says "must be a real date"
    assert client.get(reverse("referrals:task_list", args=[draft.public_id])).status_code == 200
    assert client.get(reverse("referrals:check_answers", args=[draft.public_id])).status_code == 200


@pytest.mark.parametrize("part", ["date_of_birth_day", "date_of_birth_month", "date_of_birth_year"])
def test_a_date_of_birth_of_twenty_digits_is_no_date(part: str) -> None:
    assert steps.date_of_birth({"person": {**r.PERSON, part: "9" * 25}}) is None


def test_the_api_refuses_a_date_of_birth_of_twenty_digits_naming_the_field(
    alice: User, northmoor_police: Organisation, council: Organisation, routing: Organisation
) -> None:
    _, secret = a.token(alice, northmoor_police)
    api = a.client_with(secret, raise_request_exception=False)
    body = {**r.ADULT_REFERRAL, "person": {**r.PERSON, "date_of_birth_day": "9" * 25}}
    response = a.post_referral(api, body)
    assert response.status_code == 422, response.status_code
    assert any(e["field"] == "date_of_birth" for e in response.json()["errors"])


def test_not_known_is_refused_when_the_date_of_birth_shows_a_child_when_it_began(
    alice: User, council: Organisation, routing: Organisation
) -> None:
    """Born March 1999, exploited from June 2010: 11 years old when it began. 'Not known'
    would leave the case short of being treated as exploited as a child, so it is refused with
    the same message as 'No'."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS, "person": r.PERSON})
    page = r.answer(
        client,
        draft,
        "exploitation",
        {
            **r.EXPLOITATION,
            "started_month": "6",
            "started_year": "2010",
            "under_18_when_began": "not_known",
        },
    )
    assert page.status_code == 200
    assert "says they were under 18 when it started: answer Yes" in page.content.decode()
    r.answer(
        client,
        draft,
        "exploitation",
        {
            **r.EXPLOITATION,
            "started_month": "6",
            "started_year": "2010",
            "under_18_when_began": "yes",
        },
    )
    r.complete(
        client, draft, {"indicators": r.NO_INDICATORS, "account": r.ACCOUNT, "needs": r.NEEDS}
    )
    r.submit(client, draft)
    draft.refresh_from_db()
    assert draft.case is not None
    assert draft.case.exploited_as_child, draft.case.age_group_at_exploitation
