"""Review of a decision maker's week (stop 41): the extension page lost what was typed when the
case moved on, an extension ending today was refused as past, and a case suspended just after
the person came back was never reminded of. The first three tests are the reviewers' own
(tests/_review_decisions/test_decision_week.py and
tests/_review_diffcorrect/test_reminders_back_before_suspension.py), the others what they
imply.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.care import services as care
from opennrm.care.models import MissingEpisode
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import reminders, selectors, services
from opennrm.decisions.models import DecisionKind, Reminder
from opennrm.notifications.models import Notification

from . import case_factories, factories
from .decision_helpers import fresh, positive_rg

RUN_DAY = date(2026, 3, 4)


@pytest.fixture
def outsider_decider(db: None) -> User:
    """A decision maker at another competent authority: nothing of Test's is theirs."""
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


# --- 1. The extension refused because the case moved on keeps what was typed -----------------


def test_extension_refused_because_the_case_moved_on_keeps_what_was_typed(
    case: Case, dmitri: User, sally: User
) -> None:
    """Dmitri, a decision maker, opens "Extend the recovery period" on a case in its recovery
    period and types careful reasons. Meanwhile Sally records the conclusive grounds decision.
    When Dmitri sends the form he should be shown the page again, told why the extension cannot
    be made now, with his reasons kept (as the decision, disqualification and reconsideration
    pages do, ADR 0017 addendum of stop 37: "shown it with what they typed, not a page not
    found"). `views.extend` raised 404 on any case not in the recovery period, so he got
    "Page not found" and his reasons were lost."""
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel("2026-04-10 10:00:00+00:00", tick=False):
        client = factories.signed_in_client(dmitri)
        url = reverse("decisions:extend", args=[case.reference])
        assert client.get(url).status_code == 200
        read_version = case.version
        services.decision_record_conclusive_grounds(
            by=sally,
            case=fresh(case),
            outcome="recognised_trafficking",
            reasons="Consistent account, police evidence.",
            expected_version=read_version,
        )
        response = client.post(
            url,
            {
                "days": "14",
                "reasons": "She is in hospital after a relapse; her therapist asks for time.",
                "expected_version": read_version,
            },
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "She is in hospital after a relapse" in html


def test_the_refusal_is_shown_and_nothing_is_extended_when_the_case_moved_on(
    case: Case, dmitri: User, sally: User, outsider_decider: User
) -> None:
    """The same: Dmitri's form comes back with the reason the extension cannot be made (the
    service's own words, at the top), nothing is extended; opened afresh, the page says why
    instead of the form. A decision maker of another authority still gets "not found"."""
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel("2026-04-10 10:00:00+00:00", tick=False):
        url = reverse("decisions:extend", args=[case.reference])
        read_version = case.version
        services.decision_record_conclusive_grounds(
            by=sally,
            case=fresh(case),
            outcome="recognised_trafficking",
            reasons="Consistent account, police evidence.",
            expected_version=read_version,
        )
        client = factories.signed_in_client(dmitri)
        posted = client.post(
            url,
            {"days": "14", "reasons": "Hospital.", "expected_version": read_version},
        ).content.decode()
        opened = client.get(url).content.decode()
        outsider = factories.signed_in_client(outsider_decider).get(url)
    refusal = "Only a recovery period that is running can be extended"
    assert "There is a problem" in posted
    assert refusal in posted
    assert refusal in opened
    assert "The recovery period cannot be extended now" in opened
    assert 'name="days"' not in opened
    assert not fresh(case).decisions.filter(kind=DecisionKind.RECOVERY_EXTENSION).exists()
    assert outsider.status_code == 404


# --- 2. An extension ending today is not refused as past ------------------------------------


def test_an_extension_ending_today_is_not_refused_as_having_passed(
    case: Case, dmitri: User
) -> None:
    """The recovery period from a positive decision on 2 March 2026 ended on 31 March; no
    conclusive decision has been made. On 10 April Dmitri extends it by 10 days, which ends it
    on 10 April: today, a day the period still runs (and the conclusive decision then cannot
    be made before 11 April). He should have his extension. `recovery_extend` refused any end
    `<= today` and told him "10 more days would end it on 10 April 2026, which has passed": a
    date that is today, not past."""
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        case = positive_rg(case, dmitri)
    assert case.recovery_period_ends == date(2026, 3, 31)
    with time_machine.travel("2026-04-10 10:00:00+00:00", tick=False):
        response = factories.signed_in_client(dmitri).post(
            reverse("decisions:extend", args=[case.reference]),
            {
                "days": "10",
                "reasons": "Trauma therapy starts this week.",
                "expected_version": case.version,
            },
        )
        html = response.content.decode()
        assert "which has passed" not in html
        assert response.status_code == 302
    extended = fresh(case)
    assert extended.recovery_period_ends == date(2026, 4, 10)
    assert extended.decisions.filter(kind=DecisionKind.RECOVERY_EXTENSION).count() == 1


def test_an_extension_ending_yesterday_asks_for_the_days_that_reach_today(
    case: Case, dmitri: User
) -> None:
    """On 10 April Dmitri asks for 9 days on the period that ended on 31 March: it would end on
    9 April, yesterday. Refused, and told the fewest days that would do: 10, to today."""
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        case = positive_rg(case, dmitri)
    with (
        time_machine.travel("2026-04-10 10:00:00+00:00", tick=False),
        pytest.raises(ValidationError, match="Extend it by at least 10 days") as refused,
    ):
        services.recovery_extend(
            by=dmitri, case=case, days=9, reasons="Hospital.", expected_version=case.version
        )
    assert "9 April 2026, which has passed" in " ".join(refused.value.messages)
    assert not fresh(case).decisions.filter(kind=DecisionKind.RECOVERY_EXTENSION).exists()


def test_the_extension_page_says_the_period_ended_and_how_far_an_extension_must_reach(
    case: Case, dmitri: User
) -> None:
    """Dmitri opens the extension page on 10 April for a period that ended on 31 March. The
    page should not say it "ends on 31 March"; it says it ended, and that an extension counted
    from that day must reach today at least, as the service's rule is."""
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel("2026-04-10 10:00:00+00:00", tick=False):
        page = (
            factories.signed_in_client(dmitri)
            .get(reverse("decisions:extend", args=[case.reference]))
            .content.decode()
        )
    assert "The recovery period ended on 31 March 2026" in page
    assert "ends on 31 March" not in page
    assert "at least to today, 10 April 2026" in page


# --- 3. A case suspended just after the person came back is reminded of -----------------------


def _suspended_after_the_return(
    *,
    alice: User,
    police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> Case:
    """Maya reports the person missing on 1 March (the authority is told "a reasonable grounds
    decision still to be made may need to be suspended"); they come back on the morning of 2
    March and Maya records it at 09:00; Dmitri, working from the first message, records the
    suspension at 10:00. Due on 2 March."""
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False):
        case = case_factories.housed(
            alice,
            police,
            authority,
            cora,
            maya,
            provider,
            submitted_at=timezone.now(),
            reasonable_grounds_due=date(2026, 3, 2),
            assigned_to=dmitri,
        )
    case = factories.suspended_while_missing(
        case,
        reported_by=maya,
        decider=dmitri,
        missing_at="2026-03-01 09:00:00+00:00",
        returned_at="2026-03-02 09:00:00+00:00",
        suspended_at="2026-03-02 10:00:00+00:00",
    )
    assert case.status == CaseStatus.RG_SUSPENDED
    assert not MissingEpisode.objects.filter(case=case, returned_on=None).exists()
    return case


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_a_case_suspended_just_after_the_person_came_back_is_still_escalated(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Who: Dmitri (decision maker) and Sally (senior decision maker).
    What: the person was reported missing, came back, and Dmitri (who had not yet seen the
    return) suspended the reasonable grounds decision an hour after Maya recorded it. Nobody is
    missing: no episode is open, and the person sleeps in the safe house again.
    Should: the decision, overdue since 2 March, is escalated on the morning's run like any
    other whose person is here. `back_from_missing` wanted a return recorded at or after the
    suspension, so this case was never reminded of nor escalated, for ever, while the queue
    lists it under "Suspended: the person is missing"."""
    case = _suspended_after_the_return(
        alice=alice,
        police=northmoor_police,
        authority=authority,
        cora=cora,
        maya=maya,
        provider=provider,
        dmitri=dmitri,
    )
    result = reminders.run(RUN_DAY)
    assert Reminder.objects.filter(case=case, kind="rg_overdue").exists()
    assert result.escalations == 1
    for user in (dmitri, sally):
        digest = Notification.objects.get(recipient=user, kind="decision.escalation")
        assert case.reference in digest.body


def test_a_case_suspended_for_another_reason_is_not_back_from_missing(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> None:
    """A suspension with no missing episode reported by then (suspended for another reason;
    the person went missing only afterwards and came back) is not a person back from missing,
    nor is one whose person is missing again after coming back before the suspension."""
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False):
        later = case_factories.housed(
            alice,
            northmoor_police,
            authority,
            cora,
            maya,
            provider,
            submitted_at=timezone.now(),
            reasonable_grounds_due=date(2026, 3, 2),
            assigned_to=dmitri,
        )
        services.decision_record_reasonable_grounds(
            by=dmitri,
            case=fresh(later),
            outcome="suspended",
            reasons="Awaiting an interpreter",
            expected_version=fresh(later).version,
        )
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False):
        episode = care.missing_report(
            by=maya, case=later, went_missing_on=date(2026, 3, 2), last_seen="At the bus stop"
        )
    with time_machine.travel("2026-03-03 09:00:00+00:00", tick=False):
        care.missing_return(by=maya, episode=episode, returned_on=date(2026, 3, 3))
    again = _suspended_after_the_return(
        alice=alice,
        police=northmoor_police,
        authority=authority,
        cora=cora,
        maya=maya,
        provider=provider,
        dmitri=dmitri,
    )
    assert selectors.back_from_missing().filter(pk=again.pk).exists()
    with time_machine.travel("2026-03-03 09:00:00+00:00", tick=False):
        care.missing_report(
            by=maya, case=again, went_missing_on=date(2026, 3, 3), last_seen="Near the park"
        )
    back = selectors.back_from_missing()
    assert fresh(later).status == CaseStatus.RG_SUSPENDED
    assert not back.filter(pk=later.pk).exists()
    assert not back.filter(pk=again.pk).exists()
