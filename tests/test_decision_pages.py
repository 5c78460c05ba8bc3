"""The decision pages: who may open them, the forms, and nothing lost when a case changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import AgeGroup, CaseStatus, ExploitationAgeGroup
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.policy.negative_reasons import catalogue

from . import case_factories, factories

MONDAY = "2026-03-02 10:00:00+00:00"


def decide_url(case: Case, stage: str = "reasonable-grounds") -> str:
    return reverse("decisions:decide", args=[case.reference, stage])


@pytest.mark.page("decisions:decide")
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


@pytest.mark.page("decisions:letter")
def test_letters_in_english_and_the_persons_language(
    case: Case, dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
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
    # Vietnamese has no translation yet: the letter is in English.
    other = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    other.person.languages = ["vi"]
    other.person.save()
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri, case=other, outcome="positive", reasons="Credible.", expected_version=1
        )
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
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="x",
        expected_version=1,
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


@pytest.mark.page("cases:reconsideration_request")
def test_the_referrer_asks_for_reconsideration_in_time(
    case: Case, dmitri: User, sally: User, alice: User, charlie: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="x",
            expected_version=1,
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


@pytest.mark.page("decisions:assign")
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


# Issue 10 item 20: actions that would be refused are not offered -------------------------------

MAKE_CG = "Make the conclusive grounds decision"
MAKE_RG = "Make the reasonable grounds decision"
APPROVE = "Approve or refuse this decision"


def test_the_conclusive_decision_is_offered_only_from_its_earliest_date(
    case: Case, dmitri: User
) -> None:
    detail = reverse("cases:detail", args=[case.reference])
    with time_machine.travel(MONDAY, tick=False):
        services.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="positive", reasons="x", expected_version=1
        )
    with time_machine.travel("2026-03-31 10:00:00+00:00", tick=False):
        client = factories.signed_in_client(dmitri)
        page = client.get(detail).content.decode()
        assert MAKE_CG not in page
        assert "The conclusive grounds decision can be made from 1 April 2026" in page
        form = client.get(decide_url(case, "conclusive-grounds")).content.decode()
        assert "Record the decision" not in form
        assert "This decision cannot be made now" in form
        assert "cannot be made before 1 April 2026" in form
    with time_machine.travel("2026-04-01 10:00:00+00:00", tick=False):
        client = factories.signed_in_client(dmitri)
        assert MAKE_CG in client.get(detail).content.decode()
        assert (
            "Record the decision"
            in client.get(decide_url(case, "conclusive-grounds")).content.decode()
        )


@pytest.mark.page("decisions:approval")
def test_no_decision_is_offered_while_one_awaits_approval_and_nobody_approves_their_own(
    case: Case, dmitri: User, sally: User
) -> None:
    detail = reverse("cases:detail", args=[case.reference])
    decision = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Weak.",
        expected_version=1,
    )
    own = factories.signed_in_client(dmitri)
    page = own.get(detail).content.decode()
    assert MAKE_RG not in page
    assert "waiting for a second decision maker" in page
    assert APPROVE not in page
    assert "you made this decision" in page
    approval = own.get(reverse("decisions:approval", args=[decision.pk])).content.decode()
    assert "Do you approve this decision?" not in approval
    assert "you made this decision" in approval
    queue = own.get(reverse("decisions:queue"), {"queue": "approvals"}).content.decode()
    assert reverse("decisions:approval", args=[decision.pk]) not in queue
    assert "another decision maker must approve it" in queue
    other = factories.signed_in_client(sally)
    assert APPROVE in other.get(detail).content.decode()
    assert (
        "Do you approve this decision?"
        in other.get(reverse("decisions:approval", args=[decision.pk])).content.decode()
    )
    assert (
        reverse("decisions:approval", args=[decision.pk])
        in other.get(reverse("decisions:queue"), {"queue": "approvals"}).content.decode()
    )


def test_reconsideration_is_not_offered_once_its_window_has_closed(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="x",
            expected_version=1,
        )
        services.decision_approve(by=sally, decision=decision, approve=True)
    detail = reverse("cases:detail", args=[case.reference])
    with time_machine.travel("2026-04-01 10:00:00+00:00", tick=False):
        page = factories.signed_in_client(alice).get(detail).content.decode()
        assert "Ask for reconsideration" in page
    with time_machine.travel("2026-04-02 10:00:00+00:00", tick=False):
        page = factories.signed_in_client(alice).get(detail).content.decode()
        assert "Ask for reconsideration" not in page


@pytest.mark.page("decisions:queue")
def test_the_reconsideration_queue_shows_when_each_is_due(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="x",
            expected_version=1,
        )
        services.decision_approve(by=sally, decision=decision, approve=True)
        case.refresh_from_db()
        services.reconsideration_request(
            by=alice, case=case, grounds="New evidence.", expected_version=case.version
        )
        queue = (
            factories.signed_in_client(dmitri)
            .get(reverse("decisions:queue"), {"queue": "reconsiderations"})
            .content.decode()
        )
    assert case.reference in queue
    assert "Decide by" in queue
    assert "9 Mar 2026" in queue


def test_the_referral_list_shows_the_clock_the_case_is_running(
    case: Case, dmitri: User, alice: User
) -> None:
    """Issue 10 item 20: the list showed the reasonable grounds target whatever the status."""
    from datetime import date

    Case.objects.filter(pk=case.pk).update(reasonable_grounds_due=date(2026, 3, 9))
    client = factories.signed_in_client(alice)
    listing = reverse("referrals:my_referrals")
    with time_machine.travel(MONDAY, tick=False):
        assert (
            "Reasonable grounds decision due: 9 March 2026" in client.get(listing).content.decode()
        )
        services.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="positive", reasons="x", expected_version=1
        )
        html = client.get(listing).content.decode()
        page = client.get(reverse("cases:detail", args=[case.reference])).content.decode()
    assert "Reasonable grounds decision due" not in html
    assert "Recovery period ends: 31 March 2026" in html
    assert "Recovery period ends" in page
    assert "31 March 2026" in page


@pytest.mark.page("decisions:decide")
@time_machine.travel(MONDAY, tick=False)
def test_a_negative_decision_names_its_main_reason_and_the_approver_sees_it(
    case: Case, dmitri: User, sally: User
) -> None:
    client = factories.signed_in_client(dmitri)
    page = client.get(decide_url(case)).content.decode()
    # Asked only after a negative outcome (app.mjs), offering the catalogue in force.
    assert 'data-app-show-when="outcome" data-app-show-value="negative"' in page
    assert "Main reason for the negative decision" in page
    for reason in catalogue().choices(case.jurisdiction, date(2026, 3, 2), child=False):
        assert f'value="{reason.code}"' in page
    typed = {"outcome": "negative", "reasons": "My careful reasons", "expected_version": 1}
    html = client.post(decide_url(case), typed).content.decode()
    assert "Select the main reason for the negative decision" in html
    assert 'href="#id_negative_reason"' in html
    assert "My careful reasons" in html
    assert not case.decisions.exists()
    response = client.post(decide_url(case), typed | {"negative_reason": "no_purpose"})
    assert response.status_code == 302
    decision = case.decisions.get()
    assert decision.negative_reason == "no_purpose"
    approval = (
        factories.signed_in_client(sally)
        .get(reverse("decisions:approval", args=[decision.pk]))
        .content.decode()
    )
    assert "Main reason" in approval
    assert escape(catalogue().label("no_purpose")) in approval
    # The case page's decision card says it too, beside the written reasons.
    detail = client.get(reverse("cases:detail", args=[case.reference])).content.decode()
    assert escape(catalogue().label("no_purpose")) in detail


@time_machine.travel(MONDAY, tick=False)
def test_means_are_neither_offered_nor_accepted_for_a_child(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    client = factories.signed_in_client(dmitri)
    page = client.get(decide_url(child)).content.decode()
    assert 'value="no_action"' in page
    assert 'value="no_means"' not in page
    html = client.post(
        decide_url(child),
        {
            "outcome": "negative",
            "negative_reason": "no_means",
            "reasons": "No means shown.",
            "expected_version": child.version,
        },
    ).content.decode()
    assert "Means are not needed for a child: choose another reason" in html
    assert "No means shown." in html
    assert not child.decisions.exists()


@time_machine.travel(MONDAY, tick=False)
def test_an_adult_exploited_as_a_child_is_shown_so_and_means_are_not_accepted(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    adult = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group_at_exploitation=ExploitationAgeGroup.CHILD,
    )
    client = factories.signed_in_client(dmitri)
    page = client.get(decide_url(adult)).content.decode()
    assert "Child at the time of exploitation" in page
    assert "under 18 when the exploitation began" in page
    assert 'value="no_action"' in page
    assert 'value="no_means"' not in page
    html = client.post(
        decide_url(adult),
        {
            "outcome": "negative",
            "negative_reason": "no_means",
            "reasons": "No means shown.",
            "expected_version": adult.version,
        },
    ).content.decode()
    assert "Means are not needed for a person exploited as a child: choose another reason" in html
    assert "No means shown." in html
    assert not adult.decisions.exists()
    # The case page says how old they were when it began.
    detail = client.get(reverse("cases:detail", args=[adult.reference])).content.decode()
    assert "Age group when it began" in detail


@time_machine.travel(MONDAY, tick=False)
def test_an_adult_not_known_to_be_exploited_as_a_child_is_offered_means(
    case: Case, dmitri: User
) -> None:
    page = factories.signed_in_client(dmitri).get(decide_url(case)).content.decode()
    assert "Child at the time of exploitation" not in page
    assert 'value="no_means"' in page


@time_machine.travel(MONDAY, tick=False)
def test_a_reason_left_chosen_is_not_recorded_for_a_positive_decision(
    case: Case, dmitri: User
) -> None:
    """Chosen, then the outcome changed to positive (the question is hidden, not cleared)."""
    factories.signed_in_client(dmitri).post(
        decide_url(case),
        {
            "outcome": "positive",
            "negative_reason": "not_credible",
            "reasons": "Credible account.",
            "expected_version": case.version,
        },
    )
    assert case.decisions.get().negative_reason == ""


@time_machine.travel(MONDAY, tick=False)
def test_a_conclusive_decision_offers_the_reasons_after_its_negative_outcome(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    waiting = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=timezone.now() - timedelta(days=60),
    )
    client = factories.signed_in_client(dmitri)
    page = client.get(decide_url(waiting, "conclusive-grounds")).content.decode()
    assert 'data-app-show-value="insufficient_evidence"' in page
    response = client.post(
        decide_url(waiting, "conclusive-grounds"),
        {
            "outcome": "insufficient_evidence",
            "negative_reason": "forced_labour_elements_not_met",
            "reasons": "Work was offered voluntarily and could be left.",
            "expected_version": waiting.version,
        },
    )
    assert response.status_code == 302
    decision = waiting.decisions.get(kind="conclusive_grounds")
    assert decision.negative_reason == "forced_labour_elements_not_met"


@pytest.mark.page("decisions:queue")
def test_the_queue_pages_without_counting_past_its_cap(
    monkeypatch: pytest.MonkeyPatch,
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Issue 10 item 23: the count of the whole queue was nearly all of its page's time at a
    million cases (ADR 0055). Pages now read one row more than they show, and the count stops
    at a cap."""
    from opennrm.decisions import views
    from opennrm.lib import paging

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    start = timezone.now() - timedelta(days=10)
    cases = [
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=start + timedelta(hours=n),
        )
        for n in range(5)
    ]
    client = factories.signed_in_client(dmitri)

    def page(number: object, **query: str) -> str:
        return client.get(reverse("decisions:queue"), {"page": number, **query}).content.decode()

    first, third, past = page(1), page(3), page(4)
    assert "More than 4 cases, oldest deadline first. Showing 1 to 2." in first
    assert [c.reference in first for c in cases] == [True, True, False, False, False]
    assert 'rel="next"' in first
    assert "page=2" in first
    assert 'rel="prev"' not in first
    assert [c.reference in third for c in cases] == [False, False, False, False, True]
    assert "Showing 5 to 5." in third
    assert 'rel="next"' not in third
    assert 'rel="prev"' in third
    assert "There are no cases on page 4." in past
    assert not any(c.reference in past for c in cases)
    # Nonsense page numbers are the first page; under the cap the count is exact.
    assert cases[0].reference in page("x")
    assert cases[0].reference in page(-3)
    # A page number past any database integer is a page past the end, not an error.
    assert "There are no cases on page 1000000." in page("9" * 30)
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    assert "5 cases, oldest deadline first." in page(1)
    # The filters stay in the page links, encoded.
    assert "queue=reasonable-grounds&amp;assigned=unassigned&amp;page=2" in page(
        1, queue="reasonable-grounds", assigned="unassigned"
    )
