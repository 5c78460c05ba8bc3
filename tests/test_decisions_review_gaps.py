"""Review of the decisions after referral, as a trafficking lawyer and a competent-authority
decision maker would read them. Each test here fails on the code as it stands and names a
defect: see the docstrings for the law and why it matters to the person."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.decisions.models import DecisionState

from . import case_factories
from .decision_helpers import fresh, positive_rg, rg

UTC = timezone.get_fixed_timezone(0)


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


# --- A conclusive decision must not take effect inside an extended recovery period -------------


def test_a_negative_conclusive_decision_cannot_take_effect_inside_a_recovery_period_extended_while_it_waited(
    case: Case, dmitri: User, sally: User
) -> None:
    """`recovery_extend` does not check for a decision waiting for approval (every other
    decision service does, `_check_nothing_awaiting_approval`), and `decision_approve` never
    checks the earliest conclusive date again. So a negative conclusive decision drafted on the
    first possible day, then an extension granted (for hospital treatment, say) while it waits,
    is approved and takes effect in the middle of the recovery period the authority has just
    extended: the person loses the rest of it, their support starts to end (9 working days) and
    their protection from removal hangs on a reconsideration window. FACTS 2.7: a conclusive
    decision is made "no earlier than the end of the minimum recovery period"; CETS 197 Art. 13.
    Either the extension or the approval must be refused."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = positive_rg(case, dmitri)
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        drafted = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="insufficient_evidence",
            negative_reason="insufficient_information",
            reasons="Not on the balance of probabilities.",
            expected_version=case.version,
        )
        assert drafted.state == DecisionState.AWAITING_APPROVAL
        case = fresh(case)
        try:
            services.recovery_extend(
                by=dmitri,
                case=case,
                days=30,
                reasons="Admitted to hospital; needs more time to recover.",
                expected_version=case.version,
            )
        except ValidationError:
            return  # refused while a decision waits: the right answer
        case = fresh(case)
        assert case.conclusive_grounds_from > date(2026, 4, 1)
        with pytest.raises(ValidationError):
            services.decision_approve(by=sally, decision=drafted, approve=True)
    assert fresh(case).status == CaseStatus.RECOVERY_PERIOD


# --- A suspended case can never be decided --------------------------------------------------------


def test_a_person_missing_before_the_reasonable_grounds_decision_can_be_decided_once_found(
    case: Case, dmitri: User
) -> None:
    """An RG decision of "suspended" (the person went missing before a decision, FACTS 2.5)
    moves the case to `rg_suspended`. The state table lets a suspended case go back to awaiting
    a decision, or become withdrawn (`cases/state.py`), but no service makes either move: the
    reasonable grounds service refuses anything but `awaiting_rg`, and a suspended case cannot be
    closed either. So a person found again (the care app records their return) can never get a
    reasonable grounds decision, a recovery period or support on this case, and cannot be
    re-referred cleanly while it stays open. Missing people are exactly the trafficked people
    most at risk of re-trafficking (FACTS 4 item 6)."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        rg(case, dmitri, "suspended", "Reported missing from her accommodation before a decision.")
        assert fresh(case).status == CaseStatus.RG_SUSPENDED
    with time_machine.travel(at(date(2026, 3, 20)), tick=False):
        # She is found and back in touch: the decision maker decides.
        rg(case, dmitri, "positive", "Found; account given and credible.")
    assert fresh(case).status == CaseStatus.RECOVERY_PERIOD


def test_a_suspended_case_can_be_withdrawn_when_the_person_has_left_the_country(
    case: Case, dmitri: User
) -> None:
    """The state table allows `rg_suspended` -> `rg_withdrawn` (a missing person later known
    to have left the UK), but the reasonable grounds service refuses every outcome on a
    suspended case, so the move is unreachable and the case can never be closed."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        rg(case, dmitri, "suspended", "Missing before a decision.")
    with time_machine.travel(at(date(2026, 3, 20)), tick=False):
        rg(case, dmitri, "withdrawn", "Confirmed to have left the UK.")
    assert fresh(case).status == CaseStatus.RG_WITHDRAWN


# --- A presumed child later found an adult loses the adult's support clocks ----------------------


def test_a_presumed_child_found_an_adult_after_a_positive_conclusive_decision_gets_adult_move_on(
    alice: User,
    dmitri: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A positive conclusive decision for a presumed child (age disputed) rightly starts no
    adult move-on period (ADR 25). But when the local authority's age assessment then finds the
    person an adult, nothing computes the move-on end the decision would have given an adult:
    `move_on_ends` stays empty for good. An adult recognised as a victim is entitled to at
    least 45 days of move-on support under the victim care contract (FACTS 2.8); with no date,
    no move-on reminder is sent (`care.reminders`), the case page shows no move-on clock and the
    case can be closed as "support ended" at once (`cases.services.support_running`). ADR 25
    handles the opposite direction (an adult's date is kept, not cleared) but not this one."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=AgeGroup.PRESUMED_CHILD,
        )
        case = positive_rg(case, dmitri)
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="recognised_trafficking",
            reasons="Balance of probabilities met.",
            expected_version=case.version,
        )
        assert fresh(case).move_on_ends is None  # right for a presumed child
    from opennrm.safeguarding import services as safeguarding

    with time_machine.travel(at(date(2026, 4, 10)), tick=False):
        case = fresh(case)
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="adult",
            assessed_on=date(2026, 4, 9),
            reasons="Merton-compliant assessment: 24 years old.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.age_group == AgeGroup.ADULT
    # 45 calendar days after the positive conclusive decision of 1 April 2026.
    assert case.move_on_ends == date(2026, 5, 16)


def test_a_scottish_presumed_child_found_an_adult_during_the_recovery_period_gets_s9_support(
    alice: User,
    dmitri: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Scotland's 2015 Act s.9 gives an adult 90 days of support from the positive reasonable
    grounds decision (FACTS 2.8). A presumed child gets none (right: children's services look
    after them). When an age assessment finds the person an adult while the recovery period
    still runs, `support_ends` is never computed, so the adult has no s.9 period on record: the
    case page shows none and the support reminders never warn of its end."""
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=AgeGroup.PRESUMED_CHILD,
        )
        Case.objects.filter(pk=case.pk).update(jurisdiction="scotland")
        case = positive_rg(fresh(case), dmitri)
        assert case.support_ends is None  # right for a presumed child
    from opennrm.safeguarding import services as safeguarding

    with time_machine.travel(at(date(2026, 3, 10)), tick=False):
        case = fresh(case)
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="adult",
            assessed_on=date(2026, 3, 9),
            reasons="Merton-compliant assessment: 22 years old.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.age_group == AgeGroup.ADULT
    assert case.status == CaseStatus.RECOVERY_PERIOD
    # 2 March 2026 is day 1 of 90.
    assert case.support_ends == date(2026, 5, 30)


def test_a_scottish_adults_s9_support_is_not_left_ended_when_the_negative_conclusive_decision_is_reopened(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    """Scotland's s.9 support lasts 90 days from the positive reasonable grounds decision "or
    until the conclusive grounds decision if that is sooner" (FACTS 2.8). A negative conclusive
    decision cuts `support_ends` to its own day. When a reconsideration of it is accepted, the
    decision no longer stands (it is superseded) and the person is back in the recovery
    period awaiting a conclusive decision; the service clears the move-on end for that reason
    (`reconsideration_decide`), but leaves `support_ends` at the superseded decision's day. The
    case page then shows the Scottish support as ended, the support reminders treat it as over,
    while the 90 days (to 30 May 2026) have not run out and no conclusive decision stands."""
    Case.objects.filter(pk=case.pk).update(jurisdiction="scotland")
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        case = positive_rg(fresh(case), dmitri)
        assert case.support_ends == date(2026, 5, 30)
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        drafted = services.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome="insufficient_evidence",
            negative_reason="insufficient_information",
            reasons="Not on the balance of probabilities.",
            expected_version=case.version,
        )
        services.decision_approve(by=sally, decision=drafted, approve=True)
        assert fresh(case).support_ends == date(2026, 4, 1)
    with time_machine.travel(at(date(2026, 4, 6)), tick=False):
        request = services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="Medical evidence the decision did not consider.",
            expected_version=fresh(case).version,
        )
        services.reconsideration_decide(
            by=sally,
            request=request,
            accept=True,
            reasons="The evidence is new and material.",
            expected_version=fresh(case).version,
        )
    case = fresh(case)
    assert case.status == CaseStatus.RECOVERY_PERIOD
    assert case.support_ends == date(2026, 5, 30)


def test_a_suspended_case_is_not_suspended_again_and_an_extension_waits_for_approvals(
    case: Case, dmitri: User
) -> None:
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        rg(case, dmitri, "suspended", "Missing before a decision.")
        with pytest.raises(ValidationError, match="already suspended"):
            services.decision_record_reasonable_grounds(
                by=dmitri,
                case=fresh(case),
                outcome="suspended",
                reasons="Still missing.",
                expected_version=fresh(case).version,
            )
        assert (
            services.decision_refusal(
                case=fresh(case), stage=services.DecisionKind.REASONABLE_GROUNDS
            )
            is None
        )
