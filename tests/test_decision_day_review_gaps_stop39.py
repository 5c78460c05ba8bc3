"""Gaps found by a review of a competent authority decision maker's working day (stop 39), and
the tests of their mending: a reconsideration taken in by letter is due from the day it arrived;
an extension (and a disqualification) is offered only where it would be allowed, and its page
says why not; the daily digest names overdue cases apart; and disqualification on public order
or bad faith grounds (NABA 2022 s.63) has a page and an API endpoint."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import selectors, services
from opennrm.decisions.forms import DisqualificationForm
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from tests import api_helpers as a
from tests import case_factories, factories
from tests.decision_helpers import fresh

LONDON = ZoneInfo("Europe/London")


def _refused_rg_on_2_march(case: Case, dmitri: User, sally: User) -> Case:
    """A negative RG approved on Monday 2 March 2026: reconsideration may be asked until 1 April."""
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        refused = case_factories.refused_at_reasonable_grounds(
            fresh(case), decider=dmitri, approver=sally
        )
    assert refused.reconsideration_until == date(2026, 4, 1)
    return refused


# --- 1. A request that reached the authority by letter is due from the day it arrived ---------


def test_a_reconsideration_received_by_letter_is_due_from_the_day_it_arrived_not_the_day_typed_in(
    case: Case, dmitri: User, sally: User
) -> None:
    """Who is hurt: the person refused at reasonable grounds, whose solicitor's letter asking
    for reconsideration reached the competent authority on Wednesday 4 March, in time; and the
    senior decision maker who must see it is late. Nobody typed it in until Friday 20 March.

    What happens now: `reconsideration_take_late` records `late_received_on` = 4 March (and
    judges lateness by it), but `_reconsideration_open` counts the decide-by date from the day
    it is typed in (`clock.reconsideration_decision_due(today, ...)`): 27 March. A request that
    has already waited 16 days, past OpenNRM's 5-working-day target, shows as "not due yet":
    it is in no "overdue" list, no home count and no escalation.

    What should happen: the target runs from the day the request reached the authority, as the
    lateness does: 5 working days after 4 March is 11 March, so on 20 March the reconsideration
    is overdue in the queue (and so on the home page and in the reminders)."""
    _refused_rg_on_2_march(case, dmitri, sally)
    with time_machine.travel(datetime(2026, 3, 20, 10, tzinfo=LONDON), tick=False):
        services.reconsideration_take_late(
            by=sally,
            case=fresh(case),
            asked_by="legal_representative",
            received_on=date(2026, 3, 4),
            grounds="A psychiatric report explains the gaps in her account.",
            circumstances="",
            expected_version=fresh(case).version,
        )
        assert fresh(case).status == CaseStatus.RECONSIDERATION
        assert fresh(case).reconsideration_decide_by == date(2026, 3, 11)
        overdue = selectors.queue_count(
            Actor.of_session(sally),
            "reconsiderations",
            selectors.QueueFilter(overdue_only=True),
        )
        assert overdue == 1


# --- 2. "Extend the recovery period" offered while the service will refuse it -----------------


def test_the_case_page_does_not_offer_an_extension_the_service_will_refuse(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> None:
    """Who is hurt: the decision maker, sent to a form that can only fail.

    A negative conclusive grounds decision is drafted and waits for a second decision maker.
    `recovery_extend` refuses any extension until it is approved or refused
    (`_check_nothing_awaiting_approval`), and the case page rightly stops offering "Make the
    conclusive grounds decision" for that reason (pages.case_page._actions_refused).

    What happens now: templates/cases/detail.html shows "Extend the recovery period" for every
    case in the recovery period, unconditionally; the extend page (decisions.views.extend)
    shows the form too, and only the submitted form says no, after the reasons are typed.

    What should happen: the action is not offered while it would be refused (the page's own
    rule, "A decision that would be refused is not offered"), and the extend page says why
    instead of showing the form."""
    recovering = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=datetime.now(tz=LONDON) - timedelta(days=60),
    )
    drafted = services.decision_record_conclusive_grounds(
        by=dmitri,
        case=fresh(recovering),
        outcome="insufficient_evidence",
        negative_reason="insufficient_information",
        reasons="Not enough evidence.",
        expected_version=fresh(recovering).version,
    )
    assert drafted.state == DecisionState.AWAITING_APPROVAL
    client = factories.signed_in_client(dmitri)
    extend = reverse("decisions:extend", args=[recovering.reference])
    detail = client.get(reverse("cases:detail", args=[recovering.reference])).content.decode()
    assert "Make the conclusive grounds decision" not in detail  # refused, so not offered
    assert extend not in detail


# --- 3. The daily digest does not say which of its cases are overdue --------------------------


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_the_daily_digest_says_which_cases_are_overdue_and_which_are_only_due_soon(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """Who is hurt: the decision maker reading the morning e-mail, and the person whose
    statutory target has already passed.

    What happens now: decisions.reminders._send counts "1 overdue, 1 due within 2 days" in the
    subject, then lists every case in one sentence ("Cases needing a reasonable grounds
    decision: A, B."), overdue and due-soon references run together (each list sorted by
    reference, cut at ten). Nothing says which case is the overdue one, so the reader cannot
    start with it from the message.

    What should happen: the body names the overdue cases apart from those only due soon (a
    line or sentence each), overdue first."""
    from opennrm.decisions import reminders
    from opennrm.notifications.models import Notification

    def made(due: date) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            reasonable_grounds_due=due,
            assigned_to=dmitri,
        )

    overdue, soon = made(date(2026, 3, 2)), made(date(2026, 3, 5))
    assert reminders.run(date(2026, 3, 4)).ran
    body = Notification.objects.get(recipient=dmitri).body
    lines = body.splitlines()
    assert any(overdue.reference in line and soon.reference not in line for line in lines), body


# --- 4. Disqualification (NABA 2022 s.63) exists in the rules and services, but nowhere to act --


def test_a_decision_maker_can_reach_the_public_order_disqualification_from_the_case(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """Who is hurt: the competent authority, which under the rules in force since 30 January
    2023 (profile ew-2023-01-30, `disqualification_available`: true; FACTS 1.4 and the
    Nationality and Borders Act 2022 s.63) may disqualify a person on public order or bad faith
    grounds during the recovery period; and, through the statistics and letters, everyone who
    relies on that decision being recorded as what it is.

    What happens now: `decisions.services.decision_disqualify` exists, with its letter, its
    second approval, its reconsideration route and its case status, but no page and no API
    endpoint calls it (decisions/urls.py, decisions/api.py): the case page of a case in the
    recovery period offers only the conclusive grounds decision and an extension. A decision
    maker who must disqualify has no way to do it, and can only record a negative conclusive
    grounds decision instead, which is not the same decision in law.

    What should happen: where the case's profile has disqualification, the case page in the
    recovery period offers it (a page that calls `decision_disqualify`)."""
    recovering = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=datetime.now(tz=LONDON) - timedelta(days=10),
    )
    html = (
        factories.signed_in_client(dmitri)
        .get(reverse("cases:detail", args=[recovering.reference]))
        .content.decode()
    )
    from django.utils import timezone

    from opennrm.policy.profiles import profile_for

    assert profile_for(recovering.jurisdiction, timezone.localdate()).disqualification_available
    assert "Extend the recovery period" in html  # the recovery period's actions are offered
    assert "disqualif" in html.lower()


# --- The mending, beyond the reviewer's tests ---------------------------------------------------


def _recovering(
    alice: User, northmoor_police: Organisation, authority: Organisation, days_ago: int = 10
) -> Case:
    """A case in the recovery period under the rules of today (disqualification exists),
    referred `days_ago`."""
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        given_names="Zorica Testova",
        submitted_at=datetime.now(tz=LONDON) - timedelta(days=days_ago),
    )


@pytest.fixture
def outsider_decider(db: None) -> User:
    """A decision maker at another competent authority: nothing of Test's is theirs."""
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


def test_a_reconsideration_made_through_opennrm_is_still_due_from_the_day_it_is_made(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """The referrer's own request arrives the day it is sent: 5 working days from then."""
    _refused_rg_on_2_march(case, dmitri, sally)
    with time_machine.travel(datetime(2026, 3, 20, 10, tzinfo=LONDON), tick=False):
        services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="New evidence.",
            expected_version=fresh(case).version,
        )
    assert fresh(case).reconsideration_decide_by == date(2026, 3, 27)


def test_the_extension_page_says_why_instead_of_showing_a_form_that_can_only_fail(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    recovering = _recovering(alice, northmoor_police, authority, days_ago=60)
    services.decision_record_conclusive_grounds(
        by=dmitri,
        case=fresh(recovering),
        outcome="insufficient_evidence",
        negative_reason="insufficient_information",
        reasons="Not enough evidence.",
        expected_version=fresh(recovering).version,
    )
    assert services.extension_refusal(fresh(recovering)) == services.AWAITING_APPROVAL_REFUSAL
    page = (
        factories.signed_in_client(dmitri)
        .get(reverse("decisions:extend", args=[recovering.reference]))
        .content.decode()
    )
    assert "The recovery period cannot be extended now" in page
    assert "second decision maker" in page
    assert 'name="days"' not in page
    # The service refuses the same, in the same words.
    with pytest.raises(ValidationError, match="second decision maker"):
        services.recovery_extend(
            by=dmitri,
            case=fresh(recovering),
            days=14,
            reasons="Hospital.",
            expected_version=fresh(recovering).version,
        )


@time_machine.travel("2026-03-20 06:00:00+00:00", tick=False)
def test_each_line_of_the_digest_names_its_oldest_deadline_first_and_counts_the_rest(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    from opennrm.decisions import reminders
    from opennrm.notifications.models import Notification

    overdue = [
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            reasonable_grounds_due=date(2026, 3, 19) - timedelta(days=n),
            assigned_to=dmitri,
        )
        for n in range(reminders.NAMED + 2)
    ]
    assert reminders.run(date(2026, 3, 20)).ran
    body = Notification.objects.get(recipient=dmitri).body
    line = next(line for line in body.splitlines() if "overdue" in line)
    oldest = overdue[-1].reference
    assert line.split(": ", 1)[1].startswith(f"{oldest} (due 8 March)"), line
    assert overdue[0].reference not in line, "the two nearest deadlines are counted, not named"
    assert line.endswith("and 2 more."), line


@pytest.mark.page("decisions:disqualify")
def test_a_decision_maker_disqualifies_on_public_order_grounds_from_the_page(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    outsider_decider: User,
) -> None:
    recovering = _recovering(alice, northmoor_police, authority)
    url = reverse("decisions:disqualify", args=[recovering.reference])
    assert factories.signed_in_client(outsider_decider).get(url).status_code == 404
    client = factories.signed_in_client(dmitri)
    assert client.put(url).status_code == 405
    page = client.get(url).content.decode()
    assert "threat to public order" in page
    assert 'name="reasons"' in page
    # A form sent against a case that changed meanwhile is shown again with what was typed:
    # the reasons, free text about the person, are a read of her data.
    reads = AuditEvent.objects.filter(actor=dmitri, action="person.viewed")
    before = reads.count()
    stale = client.post(
        url,
        {
            "ground": "public_order",
            "reasons": "Convicted of a terrorism offence.",
            "expected_version": 0,
        },
    )
    assert stale.status_code == 200
    assert "Convicted of a terrorism offence." in stale.content.decode()
    assert reads.count() == before + 1
    assert reads.order_by("-pk").first().detail["fields"] == ["decision_reasons"]

    response = client.post(
        url,
        {
            "ground": "public_order",
            "reasons": "Convicted of a terrorism offence.",
            "expected_version": fresh(recovering).version,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[recovering.reference])
    drafted = Decision.objects.get(case=recovering, kind=DecisionKind.DISQUALIFICATION)
    assert (drafted.outcome, drafted.state) == ("public_order", DecisionState.AWAITING_APPROVAL)
    assert drafted.outcome_label == "Disqualified as a threat to public order"
    assert AuditEvent.objects.filter(action="decision.disqualification", actor=dmitri).exists()
    # Waiting for approval, nothing more is offered: neither page shows its form.
    assert "The person cannot be disqualified now" in client.get(url).content.decode()
    services.decision_approve(by=sally, decision=drafted, approve=True)
    assert fresh(recovering).status == CaseStatus.DISQUALIFIED


def test_disqualification_is_not_offered_under_rules_that_do_not_have_it(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    with time_machine.travel("2022-06-01 10:00:00+00:00", tick=False):
        recovering = _recovering(alice, northmoor_police, authority)
        client = factories.signed_in_client(dmitri)
        detail = client.get(reverse("cases:detail", args=[recovering.reference])).content.decode()
        assert "Extend the recovery period" in detail
        assert reverse("decisions:disqualify", args=[recovering.reference]) not in detail
        page = client.get(
            reverse("decisions:disqualify", args=[recovering.reference])
        ).content.decode()
        assert "Disqualification does not exist under" in page
        assert 'name="reasons"' not in page


def test_the_form_offers_exactly_the_grounds_the_service_records() -> None:
    form = DisqualificationForm()
    offered = {code for code, _label in form.fields["ground"].choices}
    assert offered == set(services.DISQUALIFICATION_GROUNDS)


def test_a_client_system_disqualifies_through_the_api(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    outsider_decider: User,
) -> None:
    recovering = _recovering(alice, northmoor_police, authority)
    url = f"/api/v1/cases/{recovering.reference}/disqualification"
    body = {"ground": "bad_faith", "reasons": "The account was invented.", "expected_version": 0}

    def api(user: User) -> Client:
        organisation = user.memberships.get().organisation
        _, secret = a.token(user, organisation, scopes=a.EVERY_SCOPE, days=365)
        return a.client_with(secret)

    assert a.post_json(api(outsider_decider), url, body).status_code == 404
    client = api(dmitri)
    assert a.post_json(client, url, body).status_code == 409
    assert a.post_json(client, url, body | {"ground": "other"}).status_code == 422
    made = a.post_json(client, url, body | {"expected_version": fresh(recovering).version})
    assert made.status_code == 201, made.content
    answer = made.json()
    assert (answer["kind"], answer["outcome"], answer["state"]) == (
        "disqualification",
        "bad_faith",
        "awaiting_approval",
    )
    assert "invented" not in made.content.decode(), "never the reasons"
    # A second, while the first waits for approval: refused with the reason.
    again = a.post_json(client, url, body | {"expected_version": fresh(recovering).version})
    assert again.status_code == 422
    assert "second decision maker" in again.content.decode()
