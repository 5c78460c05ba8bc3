"""Decisions under the policy profile in force: clocks, approvals, reconsideration, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus, ExploitationAgeGroup
from opennrm.cases.models import Case
from opennrm.cases.services import CaseChanged
from opennrm.decisions import services
from opennrm.decisions.models import DecisionState, ReconsiderationState
from opennrm.notifications.models import Notification
from opennrm.policy.negative_reasons import catalogue

from . import case_factories, factories
from .decision_helpers import fresh, positive_rg

MONDAY = "2026-03-02 10:00:00+00:00"


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
    # 30 days beginning with the day of the decision (2 March is day 1), then the day after.
    assert case.recovery_period_ends == date(2026, 3, 31)
    assert case.conclusive_grounds_from == date(2026, 4, 1)
    assert Notification.objects.filter(
        recipient=alice, case=case, kind="case.status_changed"
    ).exists()
    assert case.status_changes.count() == 1


@time_machine.travel("2022-12-12 10:00:00+00:00", tick=False)
def test_before_13_december_2022_the_recovery_period_is_45_days(case: Case, dmitri: User) -> None:
    case = positive_rg(case, dmitri)
    assert case.recovery_period_ends == date(2023, 1, 26)
    assert case.decisions.get().policy_profile_version == "ew-2019-10-01"


@pytest.mark.parametrize("day", ["2022-12-13", "2023-01-29"])
def test_from_13_december_2022_a_positive_decision_gets_30_days(
    case: Case, dmitri: User, day: str
) -> None:
    """Issue 10 item 11: 30 days "effective immediately" from the written statement of 13 Dec
    2022, counted as the guidance counted them until the Act (day 1 the day after)."""
    decided = date.fromisoformat(day)
    with time_machine.travel(f"{day} 10:00:00+00:00", tick=False):
        case = positive_rg(case, dmitri)
    assert case.decisions.get().policy_profile_version == "ew-2022-12-13"
    assert case.recovery_period_ends == decided + timedelta(days=30)
    assert case.conclusive_grounds_from == decided + timedelta(days=30)


def test_a_negative_decision_waits_for_a_second_decision_maker(
    case: Case, dmitri: User, sally: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
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
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Weak.",
        expected_version=1,
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
                by=dmitri,
                case=case,
                outcome="negative",
                negative_reason="insufficient_information",
                reasons="x",
                expected_version=1,
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
    assert case.recovery_period_ends == date(2026, 4, 14)
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


# Issue 10 item 14: windows from the decision in effect ---------------------------------------

NEXT_MONDAY = "2026-03-09 10:00:00+00:00"


def test_a_negative_decisions_windows_run_from_its_approval_not_its_draft(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        drafted = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="Weak.",
            expected_version=1,
        )
    with time_machine.travel(NEXT_MONDAY, tick=False):
        services.decision_approve(by=sally, decision=drafted, approve=True)
    # In effect on 9 March: the window closes 30 days later, not 30 days after 2 March.
    assert fresh(case).reconsideration_until == date(2026, 4, 8)
    with time_machine.travel("2026-04-05 10:00:00+00:00", tick=False):
        services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="New evidence.",
            expected_version=fresh(case).version,
        )
    assert fresh(case).status == CaseStatus.RECONSIDERATION


def test_negative_move_on_runs_from_the_approval_of_the_conclusive_decision(
    case: Case, dmitri: User, sally: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel("2026-04-01 10:00:00+00:00", tick=False):
        drafted = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="insufficient_evidence",
            negative_reason="insufficient_information",
            reasons="Not on the balance.",
            expected_version=case.version,
        )
    with time_machine.travel("2026-04-15 10:00:00+00:00", tick=False):
        services.decision_approve(by=sally, decision=drafted, approve=True)
    case = fresh(case)
    # 9 working days from Wednesday 15 April (no bank holiday in between): Tuesday 28 April.
    # Counted from the draft, 1 April, they would have ended on 16 April.
    assert case.move_on_ends == date(2026, 4, 28)
    assert case.reconsideration_until == date(2026, 5, 15)


def test_an_accepted_reconsideration_supersedes_the_decision_and_sets_a_new_deadline(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        old = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="Weak.",
            expected_version=1,
        )
        services.decision_approve(by=sally, decision=old, approve=True)
    with time_machine.travel("2026-03-16 10:00:00+00:00", tick=False):
        request = services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="New evidence.",
            expected_version=fresh(case).version,
        )
        # The reconsideration queue's due date: five working days from the request.
        assert fresh(case).reconsideration_decide_by == date(2026, 3, 23)
    with time_machine.travel("2026-03-18 10:00:00+00:00", tick=False):
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="The evidence is new.",
            expected_version=fresh(case).version,
        )
        case = fresh(case)
        assert case.status == CaseStatus.AWAITING_REASONABLE_GROUNDS
        # A new reasonable grounds decision is due as on a referral made that day.
        assert case.reasonable_grounds_due == date(2026, 3, 25)
        assert case.reconsideration_decide_by is None
        assert case.reconsideration_until is None
        old.refresh_from_db()
        assert old.state == DecisionState.SUPERSEDED
        new = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="positive",
            reasons="Credible.",
            expected_version=case.version,
        )
    assert new.replaces == old
    assert new.policy_profile_version == "ew-2023-01-30"


def test_an_accepted_reconsideration_of_a_negative_conclusive_decision_stops_move_on(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel("2026-04-01 10:00:00+00:00", tick=False):
        cg = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="insufficient_evidence",
            negative_reason="insufficient_information",
            reasons="Not on the balance.",
            expected_version=case.version,
        )
        services.decision_approve(by=sally, decision=cg, approve=True)
        assert fresh(case).move_on_ends is not None
        request = services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="Guidance not followed.",
            expected_version=fresh(case).version,
        )
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="Agreed.",
            expected_version=fresh(case).version,
        )
    case = fresh(case)
    assert case.status == CaseStatus.RECOVERY_PERIOD
    assert case.move_on_ends is None
    cg.refresh_from_db()
    assert cg.state == DecisionState.SUPERSEDED


def test_a_case_cannot_be_closed_as_support_ended_while_move_on_runs(
    case: Case, dmitri: User
) -> None:
    from opennrm.cases.choices import CloseReason
    from opennrm.cases.services import case_close

    with time_machine.travel(MONDAY, tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel("2026-04-01 10:00:00+00:00", tick=False):
        services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="recognised_trafficking",
            reasons="Balance met.",
            expected_version=case.version,
        )
        case = fresh(case)
        assert case.move_on_ends == date(2026, 5, 16)
        with pytest.raises(ValidationError, match="Move-on support runs until 16 May 2026"):
            case_close(
                by=dmitri,
                case=case,
                reason=CloseReason.SUPPORT_ENDED,
                expected_version=case.version,
            )
    assert fresh(case).status == CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
    with time_machine.travel("2026-05-17 10:00:00+00:00", tick=False):
        case_close(
            by=dmitri, case=case, reason=CloseReason.SUPPORT_ENDED, expected_version=case.version
        )
    assert fresh(case).status == CaseStatus.CLOSED


# Issue 10 item 13: Scotland's 90 days ---------------------------------------------------------


def test_a_scottish_adult_has_90_days_of_support_or_until_the_conclusive_decision(
    case: Case, dmitri: User, alice: User
) -> None:
    Case.objects.filter(pk=case.pk).update(jurisdiction="scotland")
    with time_machine.travel(MONDAY, tick=False):
        case = positive_rg(fresh(case), dmitri)
    assert case.decisions.get().policy_profile_version == "sct-2023-01-30"
    assert case.support_ends == date(2026, 5, 30)  # 2 March is day 1 of 90
    page = factories.signed_in_client(alice).get(f"/cases/{case.reference}/").content.decode()
    assert "Support under the Scottish Act ends" in page
    assert "30 May 2026" in page
    assert "or until the conclusive grounds decision if that is sooner" in page
    with time_machine.travel("2026-04-10 10:00:00+00:00", tick=False):
        services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="recognised_trafficking",
            reasons="Balance met.",
            expected_version=case.version,
        )
    assert fresh(case).support_ends == date(2026, 4, 10)


def test_a_scottish_child_has_no_s9_support_period(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    from opennrm.cases.choices import AgeGroup

    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    Case.objects.filter(pk=child.pk).update(jurisdiction="scotland")
    with time_machine.travel(MONDAY, tick=False):
        child = positive_rg(fresh(child), dmitri)
    assert child.support_ends is None
    assert child.recovery_period_ends == date(2026, 3, 31)


def negative_rg(case: Case, by: User, negative_reason: str) -> None:
    services.decision_record_reasonable_grounds(
        by=by,
        case=case,
        outcome="negative",
        negative_reason=negative_reason,
        reasons="Weak.",
        expected_version=case.version,
    )


def reason_refusal(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return error.value.message_dict["negative_reason"]


@time_machine.travel(MONDAY, tick=False)
def test_a_negative_decision_records_its_main_reason_and_its_audit_event_names_it(
    case: Case, dmitri: User
) -> None:
    negative_rg(case, dmitri, "not_credible")
    decision = case.decisions.get()
    assert decision.negative_reason == "not_credible"
    assert decision.negative_reason_label == catalogue().label("not_credible")
    event = AuditEvent.objects.get(action="decision.reasonable_grounds")
    assert event.detail["negative_reason"] == "not_credible"


@time_machine.travel(MONDAY, tick=False)
@pytest.mark.parametrize("code", ["", "made_up", "not_recorded"])
def test_a_negative_decision_without_a_reason_in_the_catalogue_is_refused(
    case: Case, dmitri: User, code: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        negative_rg(case, dmitri, code)
    [message] = reason_refusal(refused)
    expected = "Select the main reason" if not code else f'"{code}" is not a reason'
    assert message.startswith(expected)
    assert not case.decisions.exists()


@time_machine.travel(MONDAY, tick=False)
def test_only_a_negative_decision_has_a_main_reason(case: Case, dmitri: User) -> None:
    with pytest.raises(ValidationError) as refused:
        services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="suspended",
            negative_reason="no_action",
            reasons="Missing.",
            expected_version=case.version,
        )
    assert reason_refusal(refused) == ["Record a main reason only for a negative decision"]


@time_machine.travel(MONDAY, tick=False)
@pytest.mark.parametrize("age_group", [AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD])
def test_no_means_is_refused_for_a_child_or_a_person_whose_age_is_disputed(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    age_group: AgeGroup,
) -> None:
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=age_group,
    )
    with pytest.raises(ValidationError) as refused:
        negative_rg(child, dmitri, "no_means")
    assert reason_refusal(refused) == ["Means are not needed for a child: choose another reason"]
    negative_rg(child, dmitri, "no_purpose")
    assert child.decisions.get().negative_reason == "no_purpose"


@time_machine.travel(MONDAY, tick=False)
def test_no_means_is_refused_for_an_adult_exploited_as_a_child(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """An adult now, under 18 when it began: a child in the definition (ADR 0042)."""
    adult = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.ADULT,
        age_group_at_exploitation=ExploitationAgeGroup.CHILD,
    )
    with pytest.raises(ValidationError) as refused:
        negative_rg(adult, dmitri, "no_means")
    assert reason_refusal(refused) == [
        "Means are not needed for a person exploited as a child: choose another reason"
    ]
    assert not adult.decisions.exists()
    negative_rg(adult, dmitri, "no_purpose")
    assert adult.decisions.get().negative_reason == "no_purpose"


@time_machine.travel(MONDAY, tick=False)
@pytest.mark.parametrize("then", [ExploitationAgeGroup.ADULT, ExploitationAgeGroup.NOT_KNOWN])
def test_no_means_stays_a_reason_for_an_adult_not_known_to_be_exploited_as_a_child(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    then: ExploitationAgeGroup,
) -> None:
    adult = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group_at_exploitation=then,
    )
    negative_rg(adult, dmitri, "no_means")
    assert adult.decisions.get().negative_reason == "no_means"


@time_machine.travel(MONDAY, tick=False)
def test_the_forced_labour_reason_is_only_where_the_rules_decide_on_it(
    case: Case, dmitri: User
) -> None:
    """Scotland decides on trafficking alone (FACTS 2.7): the reason about slavery, servitude
    and forced labour is England and Wales's, where it is a conclusive outcome of its own."""
    Case.objects.filter(pk=case.pk).update(jurisdiction="scotland")
    case = fresh(case)
    with pytest.raises(ValidationError) as refused:
        negative_rg(case, dmitri, "forced_labour_elements_not_met")
    assert "is not a reason for a negative decision here" in reason_refusal(refused)[0]
    negative_rg(case, dmitri, "no_means")
    assert case.decisions.get().negative_reason == "no_means"
