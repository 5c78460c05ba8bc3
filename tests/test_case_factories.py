"""The test factories build cases as the services would have left them: a case in a status has
the decisions and the dates that status implies, so a test of a later step starts from a state
the service could really have reached."""

from __future__ import annotations

import pytest

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.decisions.models import DecisionKind, DecisionState

from . import case_factories


@pytest.mark.parametrize(
    ("status", "decisions"),
    [
        (CaseStatus.AWAITING_REASONABLE_GROUNDS, []),
        (CaseStatus.NEGATIVE_REASONABLE_GROUNDS, [("reasonable_grounds", "negative")]),
        (CaseStatus.RECOVERY_PERIOD, [("reasonable_grounds", "positive")]),
        (
            CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
            [("reasonable_grounds", "positive"), ("conclusive_grounds", "positive")],
        ),
        (
            CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
            [("reasonable_grounds", "positive"), ("conclusive_grounds", "negative")],
        ),
    ],
)
def test_a_case_has_the_decisions_its_status_implies(
    status: CaseStatus,
    decisions: list[tuple[str, str]],
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    made = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=status,
    )
    rows = list(made.decisions.order_by("id"))
    assert [(d.kind, d.outcome_kind) for d in rows] == decisions
    for decision in rows:
        assert decision.state == DecisionState.IN_EFFECT
        # Made by a decision maker of the case's own authority, when it has one.
        assert decision.decided_by == dmitri
        assert decision.decided_at == made.submitted_at
        assert decision.reasons
        # A negative decision names its main reason, as the services insist; no other does.
        assert bool(decision.negative_reason) == (decision.outcome_kind == "negative")


def test_a_negative_decision_from_before_reasons_were_coded_can_be_built(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    made = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
        negative_reason="",
    )
    decision = made.decisions.get()
    assert decision.negative_reason == ""
    assert decision.negative_reason_label == "Not recorded (decided before reasons were coded)"


def test_a_case_in_its_recovery_period_has_its_decision_and_its_clocks(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    made = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
    )
    decision = made.decisions.get()
    assert decision.kind == DecisionKind.REASONABLE_GROUNDS
    # No decision maker in the authority: the decision names a user who is told nothing.
    assert not decision.decided_by.memberships.exists()
    assert made.recovery_period_ends is not None
    assert made.conclusive_grounds_from is not None
    assert made.recovery_period_ends > made.submitted_at.date()
