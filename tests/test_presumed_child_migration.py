"""Drafts from an operation's reception made before `ReferralDraft.presumed_child` existed:
the data migration presumes children those taken in as a child or as age disputed, or found a
child at referral since, so none of them can be referred (or deleted) as an adult."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from opennrm.accounts.models import Organisation, User
from opennrm.operations import services as operations
from opennrm.operations.models import AgeGroup, Operation, ReceptionRecord
from opennrm.referrals.models import ReferralDraft

from . import operation_helpers as op

BEFORE_FLAG = [("referrals", "0008_draft_presumed_child")]


def _migrate(targets: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    if targets is None:
        executor.loader.build_graph()
        targets = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def _taken_in(alice: User, operation: Operation, age_group: str) -> ReceptionRecord:
    with time_machine.travel(op.DURING, tick=False):
        return operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description=f"person taken in as {age_group}",
            sex="female",
            age_group=age_group,
            urgent_needs=["bed_tonight"],
        )


@pytest.mark.django_db(transaction=True)
def test_drafts_of_children_taken_in_before_the_flag_are_presumed_children(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    child = _taken_in(alice, operation, AgeGroup.CHILD)
    disputed = _taken_in(alice, operation, AgeGroup.AGE_DISPUTED)
    found = _taken_in(alice, operation, AgeGroup.ADULT)
    adult = _taken_in(alice, operation, AgeGroup.ADULT)
    ReceptionRecord.objects.filter(pk=found.pk).update(
        found_child_at=datetime.fromisoformat(op.DURING)
    )
    drafts = [r.draft_id for r in (child, disputed, found, adult) if r.draft_id is not None]
    assert len(drafts) == 4
    # As they were before the flag existed: no draft carries it.
    ReferralDraft.objects.filter(pk__in=drafts).update(presumed_child=False)

    _migrate(BEFORE_FLAG)
    _migrate()

    presumed = dict(ReferralDraft.objects.filter(pk__in=drafts).values_list("pk", "presumed_child"))
    assert presumed == {
        child.draft_id: True,
        disputed.draft_id: True,
        found.draft_id: True,
        adult.draft_id: False,
    }
