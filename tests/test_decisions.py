"""Decisions under the policy profile in force: clocks, approvals, reconsideration, refusals."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.services import CaseChanged
from opennrm.decisions import services
from opennrm.decisions.models import DecisionState, ReconsiderationState
from opennrm.notifications.models import Notification

from . import case_factories, factories

MONDAY = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def sally(authority: Organisation) -> User:
    """Senior decision maker at the same competent authority as Dmitri."""
    return factories.user(
        "sally@example.org",
        organisation=authority,
        role=Role.SENIOR_DECISION_MAKER,
        full_name="Sally Senior",
    )


@pytest.fixture
def case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def positive_rg(case: Case, by: User) -> Case:
    services.decision_record_reasonable_grounds(
        by=by,
        case=case,
        outcome="positive",
        reasons="Credible account and indicators.",
        expected_version=case.version,
    )
    return fresh(case)


@time_machine.travel(MONDAY, tick=False)
def test_positive_reasonable_grounds_starts_the_recovery_period(
    case: Case, dmitri: User, alice: User
) -> None:
    decision = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="positive",
        reasons="Credible account.",
        expected_version=1,
        indicators=["AL-DR-01"],
    )
    case = fresh(case)
    assert case.status == CaseStatus.RECOVERY_PERIOD
    assert decision.policy_profile_version == "ew-2023-01-30"
    assert decision.state == DecisionState.IN_EFFECT
    assert case.recovery_period_ends == date(2026, 4, 1)  # 30 days from the day after
    assert case.conclusive_grounds_from == date(2026, 4, 1)
    assert Notification.objects.filter(
        recipient=alice, case=case, kind="case.status_changed"
    ).exists()
    assert case.status_changes.count() == 1


@time_machine.travel("2023-01-29 10:00:00+00:00", tick=False)
def test_before_30_january_2023_the_recovery_period_is_45_days(case: Case, dmitri: User) -> None:
    case = positive_rg(case, dmitri)
    assert case.recovery_period_ends == date(2023, 3, 15)
    assert case.decisions.get().policy_profile_version == "ew-2019-10-01"


def test_a_negative_decision_waits_for_a_second_decision_maker(
    case: Case, dmitri: User, sally: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            reasons="No indicators of exploitation.",
            expected_version=1,
        )
        assert decision.state == DecisionState.AWAITING_APPROVAL
        assert fresh(case).status == CaseStatus.AWAITING_REASONABLE_GROUNDS
        assert Notification.objects.filter(
            recipient=sally, kind="decision.approval_needed"
        ).exists()
        with pytest.raises(ValidationError, match="you made this decision"):
            services.decision_approve(by=dmitri, decision=decision, approve=True)
        with pytest.raises(ValidationError, match="waiting for a second decision maker"):
            services.decision_record_reasonable_grounds(
                by=sally,
                case=fresh(case),
                outcome="positive",
                reasons="x",
                expected_version=fresh(case).version,
            )
        services.decision_approve(by=sally, decision=decision, approve=True)
    case = fresh(case)
    assert case.status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
    assert case.reconsideration_until == date(2026, 4, 1)


def test_refusing_approval_needs_a_reason_and_leaves_the_case(
    case: Case, dmitri: User, sally: User
) -> None:
    decision = services.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="negative", reasons="Weak.", expected_version=1
    )
    with pytest.raises(ValidationError, match="Enter why you do not approve"):
        services.decision_approve(by=sally, decision=decision, approve=False)
    services.decision_approve(
        by=sally, decision=decision, approve=False, note="The account was not considered."
    )
    assert fresh(case).status == CaseStatus.AWAITING_REASONABLE_GROUNDS
    positive_rg(fresh(case), sally)
    assert fresh(case).status == CaseStatus.RECOVERY_PERIOD


def test_conclusive_grounds_is_refused_before_the_earliest_date_and_accepted_after(
    case: Case, dmitri: User
) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        case = positive_rg(case, dmitri)
        traveller.shift(60 * 60 * 24 * 29)  # 31 March: the recovery period's last day is 1 April
        with pytest.raises(ValidationError, match="cannot be made before 1 April 2026"):
            services.decision_record_conclusive_grounds(
                by=dmitri,
                case=case,
                outcome="recognised_trafficking",
                reasons="x",
                expected_version=case.version,
            )
        traveller.shift(60 * 60 * 24)
        decision = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="recognised_trafficking",
            reasons="Balance of probabilities met.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.status == CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
    assert decision.outcome_label.startswith("Recognised")
    assert case.move_on_ends == date(2026, 5, 16)  # 45 calendar days


def test_reconsideration_on_day_30_is_accepted_and_day_31_refused(
    alice: User, dmitri: User, sally: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    cases = [
        case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        for _ in range(2)
    ]
    with time_machine.travel(MONDAY, tick=False) as traveller:
        for case in cases:
            d = services.decision_record_reasonable_grounds(
                by=dmitri, case=case, outcome="negative", reasons="x", expected_version=1
            )
            services.decision_approve(by=sally, decision=d, approve=True)
        traveller.shift(60 * 60 * 24 * 30)  # day 30 after 2 March: 1 April
        on_time = fresh(cases[0])
        request = services.reconsideration_request(
            by=alice,
            case=on_time,
            grounds="New medical evidence.",
            expected_version=on_time.version,
        )
        assert fresh(cases[0]).status == CaseStatus.RECONSIDERATION
        traveller.shift(60 * 60 * 24)  # day 31
        late = fresh(cases[1])
        with pytest.raises(ValidationError, match="could be asked for until 1 April 2026"):
            services.reconsideration_request(
                by=alice, case=late, grounds="Too late.", expected_version=late.version
            )
        assert fresh(cases[1]).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
        # Accepted: the question is open again and a new decision follows.
        services.reconsideration_decide(
            by=dmitri,
            request=request,
            accept=True,
            reasons="Evidence is new.",
            expected_version=fresh(cases[0]).version,
        )
        assert fresh(cases[0]).status == CaseStatus.AWAITING_REASONABLE_GROUNDS
        request.refresh_from_db()
        assert request.state == ReconsiderationState.ACCEPTED
        positive_rg(fresh(cases[0]), dmitri)
    assert fresh(cases[0]).status == CaseStatus.RECOVERY_PERIOD


def test_two_decision_makers_at_once_cannot_both_succeed(
    case: Case, dmitri: User, sally: User
) -> None:
    seen_by_dmitri = fresh(case)
    seen_by_sally = fresh(case)
    services.decision_record_reasonable_grounds(
        by=dmitri,
        case=seen_by_dmitri,
        outcome="positive",
        reasons="x",
        expected_version=seen_by_dmitri.version,
    )
    with pytest.raises(CaseChanged, match="This case changed"):
        services.decision_record_reasonable_grounds(
            by=sally,
            case=seen_by_sally,
            outcome="suspended",
            reasons="y",
            expected_version=seen_by_sally.version,
        )
    assert fresh(case).decisions.count() == 1


def test_disqualification_exists_only_where_the_profile_has_it(
    alice: User, dmitri: User, sally: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    with time_machine.travel("2022-06-01 10:00:00+00:00", tick=False):
        old = positive_rg(
            case_factories.case(
                referred_by=alice, referring_organisation=northmoor_police, authority=authority
            ),
            dmitri,
        )
        with pytest.raises(ValidationError, match="Disqualification does not exist under"):
            services.decision_disqualify(
                by=dmitri, case=old, reasons="x", expected_version=old.version
            )
    with time_machine.travel(MONDAY, tick=False):
        new = positive_rg(
            case_factories.case(
                referred_by=alice, referring_organisation=northmoor_police, authority=authority
            ),
            dmitri,
        )
        decision = services.decision_disqualify(
            by=dmitri, case=new, reasons="Public order grounds.", expected_version=new.version
        )
        services.decision_approve(by=sally, decision=decision, approve=True)
    assert fresh(new).status == CaseStatus.DISQUALIFIED


def test_extending_the_recovery_period_moves_the_earliest_conclusive_date(
    case: Case, dmitri: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        case = positive_rg(case, dmitri)
        services.recovery_extend(
            by=dmitri,
            case=case,
            days=14,
            reasons="Hospital treatment.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.recovery_period_ends == date(2026, 4, 15)
    assert case.conclusive_grounds_from == date(2026, 4, 15)


def test_only_the_authoritys_decision_makers_can_decide(case: Case, alice: User) -> None:
    other_authority = factories.organisation(
        "Other Authority", kind=factories.OrganisationKind.COMPETENT_AUTHORITY
    )
    outsider = factories.user(
        "odm@example.org", organisation=other_authority, role=Role.DECISION_MAKER
    )
    for person in (alice, outsider):
        with pytest.raises(ValidationError, match="Only decision makers of"):
            services.decision_record_reasonable_grounds(
                by=person, case=case, outcome="positive", reasons="x", expected_version=1
            )


def test_an_unknown_outcome_and_missing_reasons_are_named(case: Case, dmitri: User) -> None:
    with pytest.raises(ValidationError, match="Select the reasonable grounds decision"):
        services.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="maybe", reasons="x", expected_version=1
        )
    with pytest.raises(ValidationError, match="Enter the reasons"):
        services.decision_record_reasonable_grounds(
            by=dmitri,
            case=fresh(case),
            outcome="positive",
            reasons="  ",
            expected_version=fresh(case).version,
        )


def test_each_decision_writes_its_audit_event(case: Case, dmitri: User) -> None:
    before = AuditEvent.objects.count()
    positive_rg(case, dmitri)
    assert AuditEvent.objects.filter(action="decision.reasonable_grounds").count() == 1
    # It takes effect at once, so its letter is issued too, with an event of its own.
    assert AuditEvent.objects.filter(action="letter.issued").count() == 1
    assert AuditEvent.objects.count() == before + 2
