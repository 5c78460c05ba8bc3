"""The case state machine: only moves in the table happen, each leaves a history row, and two
people acting on the same case at once cannot both succeed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from opennrm.accounts.models import Organisation, User
from opennrm.cases import state
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case, CaseStatusChange
from opennrm.cases.services import CaseChanged, case_transition

from . import case_factories


@pytest.fixture
def open_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(state.TRANSITIONS) == set(CaseStatus)


def test_closed_is_reachable_from_every_status() -> None:
    reachable = {CaseStatus.CLOSED}
    changed = True
    while changed:
        changed = False
        for here, nexts in state.TRANSITIONS.items():
            if here not in reachable and nexts & reachable:
                reachable.add(here)
                changed = True
    assert reachable == set(CaseStatus)


def test_an_illegal_move_is_refused_with_a_reason(open_case: Case, dmitri: User) -> None:
    with pytest.raises(ValidationError, match="cannot become recognised as a victim"):
        case_transition(
            by=dmitri,
            case=open_case,
            to=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
            reason="x",
            expected_version=open_case.version,
        )
    open_case.refresh_from_db()
    assert open_case.status == CaseStatus.AWAITING_REASONABLE_GROUNDS
    assert not CaseStatusChange.objects.exists()


def test_the_second_of_two_simultaneous_changes_is_refused(open_case: Case, dmitri: User) -> None:
    first_view = Case.objects.get(pk=open_case.pk)
    second_view = Case.objects.get(pk=open_case.pk)
    case_transition(
        by=dmitri,
        case=first_view,
        to=CaseStatus.RECOVERY_PERIOD,
        reason="Positive",
        expected_version=1,
    )
    with pytest.raises(CaseChanged, match="This case changed"):
        case_transition(
            by=dmitri,
            case=second_view,
            to=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
            reason="Negative",
            expected_version=1,
        )
    assert Case.objects.get(pk=open_case.pk).status == CaseStatus.RECOVERY_PERIOD
    assert CaseStatusChange.objects.count() == 1


@pytest.mark.django_db
def test_random_sequences_never_reach_an_illegal_state(open_case: Case, dmitri: User) -> None:
    class CaseMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.case = Case.objects.get(pk=open_case.pk)
            Case.objects.filter(pk=self.case.pk).update(
                status=CaseStatus.AWAITING_REASONABLE_GROUNDS
            )
            self.case.refresh_from_db()
            self.history = [self.case.status]
            self.changes_before = CaseStatusChange.objects.filter(case=self.case).count()

        @rule(to=st.sampled_from(list(CaseStatus)))
        def move(self, to: CaseStatus) -> None:
            before = self.case.status
            allowed = to in state.TRANSITIONS[CaseStatus(before)]
            try:
                self.case = case_transition(
                    by=dmitri,
                    case=self.case,
                    to=to,
                    reason="random",
                    expected_version=self.case.version,
                )
            except ValidationError:
                assert not allowed
                assert Case.objects.get(pk=self.case.pk).status == before
            else:
                assert allowed
                self.history.append(to)

        @rule()
        def stale_write(self) -> None:
            nexts = state.TRANSITIONS[CaseStatus(self.case.status)]
            if nexts:
                with pytest.raises(CaseChanged):
                    case_transition(
                        by=dmitri,
                        case=self.case,
                        to=sorted(nexts)[0],
                        reason="stale",
                        expected_version=self.case.version - 1,
                    )

        @invariant()
        def every_change_has_a_history_row_and_every_step_was_legal(self) -> None:
            rows = CaseStatusChange.objects.filter(case=self.case).count() - self.changes_before
            assert rows == len(self.history) - 1
            for here, there in zip(self.history, self.history[1:], strict=False):
                assert there in state.TRANSITIONS[CaseStatus(here)]
            assert Case.objects.get(pk=self.case.pk).status == self.history[-1]

    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )
