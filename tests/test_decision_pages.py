"""The decision pages: who may open them, the forms, and nothing lost when a case changed."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services

from . import case_factories, factories

MONDAY = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Zorica Testova",
    )


@pytest.fixture
def sally(authority: Organisation) -> User:
    return factories.user(
        "sally@example.org",
        organisation=authority,
        role=Role.SENIOR_DECISION_MAKER,
        full_name="Sally Senior",
    )


def decide_url(case: Case, stage: str = "reasonable-grounds") -> str:
    return reverse("decisions:decide", args=[case.reference, stage])


@time_machine.travel(MONDAY, tick=False)
def test_a_decision_maker_records_a_positive_decision_and_the_referrer_sees_it(
    case: Case, dmitri: User, alice: User
) -> None:
    client = factories.signed_in_client(dmitri)
    queue = client.get(reverse("decisions:queue")).content.decode()
    assert case.reference in queue
    page = client.get(decide_url(case)).content.decode()
    assert "reasonable grounds to believe that the person is a victim" in page
    response = client.post(
        decide_url(case),
        {"outcome": "positive", "reasons": "Credible account.", "expected_version": case.version},
    )
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    referrer_view = factories.signed_in_client(alice).get(response["Location"]).content.decode()
    assert "Recovery period: awaiting conclusive grounds decision" in referrer_view
    assert "Recovery period ends" in referrer_view
    assert "1 April 2026" in referrer_view


def test_bad_input_is_named_and_kept(case: Case, dmitri: User) -> None:
    client = factories.signed_in_client(dmitri)
    html = client.post(
        decide_url(case),
        {"outcome": "", "reasons": "My careful reasons", "expected_version": case.version},
    ).content.decode()
    assert "Select the decision" in html
    assert "My careful reasons" in html
    html = client.post(
        decide_url(case), {"outcome": "maybe", "reasons": "", "expected_version": case.version}
    ).content.decode()
    assert "Enter the reasons for the decision" in html


def test_a_case_changed_meanwhile_keeps_what_was_typed(
    case: Case, dmitri: User, sally: User
) -> None:
    client = factories.signed_in_client(dmitri)
    stale_version = case.version
    services.decision_record_reasonable_grounds(
        by=sally, case=case, outcome="positive", reasons="x", expected_version=stale_version
    )
    html = client.post(
        decide_url(case),
        {
            "outcome": "suspended",
            "reasons": "She went missing on Tuesday.",
            "expected_version": stale_version,
        },
    ).content.decode()
    assert "This case changed" in html or "can only be made while the case is awaiting one" in html
    assert "She went missing on Tuesday." in html
    assert Case.objects.get(pk=case.pk).decisions.count() == 1


def test_conclusive_decision_before_the_earliest_date_is_refused_on_the_page(
    case: Case, dmitri: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        services.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="positive", reasons="x", expected_version=1
        )
        case.refresh_from_db()
        html = (
            factories.signed_in_client(dmitri)
            .post(
                decide_url(case, "conclusive-grounds"),
                {
                    "outcome": "recognised_trafficking",
                    "reasons": "Balance met.",
                    "expected_version": case.version,
                },
            )
            .content.decode()
        )
    assert "cannot be made before 1 April 2026" in html
    assert "Balance met." in html


def test_letters_in_english_and_the_persons_language(case: Case, dmitri: User, alice: User) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="positive", reasons="Credible.", expected_version=1
        )
    # The person speaks Albanian (sq), which has a translation.
    page = (
        factories.signed_in_client(alice)
        .get(reverse("decisions:letter", args=[decision.pk]))
        .content.decode()
    )
    assert 'lang="sq"' in page
    assert "Kemi vendosur" in page
    case.person.languages = ["vi"]
    case.person.save()
    page = (
        factories.signed_in_client(alice)
        .get(reverse("decisions:letter", args=[decision.pk]))
        .content.decode()
    )
    assert 'lang="en"' in page
    assert "We have decided that there are reasonable grounds" in page
    pdf = factories.signed_in_client(dmitri).get(
        reverse("decisions:letter_pdf", args=[decision.pk])
    )
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_outsiders_get_404_on_every_decision_page(
    case: Case, dmitri: User, charlie: User, alice: User, bob: User
) -> None:
    decision = services.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="negative", reasons="x", expected_version=1
    )
    other_authority = factories.organisation(
        "Other Authority", kind=factories.OrganisationKind.COMPETENT_AUTHORITY
    )
    other_dm = factories.user(
        "odm@example.org", organisation=other_authority, role=Role.DECISION_MAKER
    )
    for person in (charlie, other_dm, alice):
        client = factories.signed_in_client(person)
        for url in (
            decide_url(case),
            reverse("decisions:approval", args=[decision.pk]),
            reverse("decisions:assign", args=[case.reference]),
        ):
            assert client.get(url).status_code == 404, (person, url)
    # A letter exists only for a decision in effect; and never for an outsider.
    assert (
        factories.signed_in_client(charlie)
        .get(reverse("decisions:letter", args=[decision.pk]))
        .status_code
        == 404
    )
    assert Client().get(reverse("decisions:queue")).status_code == 302


def test_the_referrer_asks_for_reconsideration_in_time(
    case: Case, dmitri: User, sally: User, alice: User, charlie: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="negative", reasons="x", expected_version=1
        )
        services.decision_approve(by=sally, decision=decision, approve=True)
        case.refresh_from_db()
        url = reverse("cases:reconsideration_request", args=[case.reference])
        assert factories.signed_in_client(charlie).get(url).status_code == 404
        client = factories.signed_in_client(alice)
        html = client.post(url, {"grounds": "", "expected_version": case.version}).content.decode()
        assert "Enter why the decision should be reconsidered" in html
        response = client.post(
            url, {"grounds": "A medical report arrived.", "expected_version": case.version}
        )
        assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECONSIDERATION


def test_assigning_a_case(case: Case, dmitri: User, sally: User) -> None:
    client = factories.signed_in_client(sally)
    client.post(
        reverse("decisions:assign", args=[case.reference]),
        {"assignee": str(dmitri.pk), "expected_version": case.version},
    )
    assert Case.objects.get(pk=case.pk).assigned_to == dmitri
    html = client.post(
        reverse("decisions:assign", args=[case.reference]),
        {"assignee": "999999", "expected_version": case.version + 1},
    ).content.decode()
    assert "Select a decision maker from the list" in html
    queue = (
        factories.signed_in_client(dmitri)
        .get(reverse("decisions:queue"), {"assigned": "me"})
        .content.decode()
    )
    assert case.reference in queue


@time_machine.travel(MONDAY, tick=False)
def test_both_decision_forms_show_the_test_as_formatted_text_not_raw_html(
    case: Case, dmitri: User
) -> None:
    """Issue 10 item 17: the inset joined escaped text to plain strings with "~", so autoescape
    escaped the tags too and "<strong>The test:</strong> ... <br>" showed as text."""
    client = factories.signed_in_client(dmitri)
    rg_page = client.get(decide_url(case)).content.decode()
    services.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="positive", reasons="x", expected_version=1
    )
    case.refresh_from_db()
    cg_page = client.get(decide_url(case, "conclusive-grounds")).content.decode()
    for page, test in (
        (rg_page, "reasonable grounds to believe that the person is a victim"),
        (cg_page, "On the balance of probabilities"),
    ):
        assert "&lt;strong&gt;" not in page
        assert "&lt;br&gt;" not in page
        assert "<strong>The test:</strong> " in page
        assert test in page
        assert "<br>Rules applied: " in page
