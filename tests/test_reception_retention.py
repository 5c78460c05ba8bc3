"""A person taken in during an operation whose draft never became a case (an adult who declined,
or a draft left unsubmitted): no erasure can reach the name written on the reception record
(there is no person record), so the retention run empties it with the draft's period."""

from __future__ import annotations

from datetime import date

import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.operations import services as operations
from opennrm.operations.models import ReceptionRecord
from opennrm.privacy import services as privacy
from opennrm.referrals.models import ReferralDraft
from tests import factories
from tests import operation_helpers as op

NAME = "Wendeloria Quarstenbrook"


def test_retention_leaves_the_name_of_someone_taken_in_whose_draft_it_deleted(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description=NAME,
            sex="female",
            age_group="adult",
            language="ro",
        )
    # Ten years on, the retention run: the unsubmitted draft is deleted as data no longer needed.
    # (Its author is told first; it goes after the notice period.)
    with time_machine.travel("2037-06-01 10:00:00+00:00", tick=False):
        assert privacy.retention_apply(today=date(2037, 6, 1)).drafts_deleted == 0
    with time_machine.travel("2037-06-15 10:00:00+00:00", tick=False):
        result = privacy.retention_apply(today=date(2037, 6, 15))
    assert result.drafts_deleted == 1
    assert not ReferralDraft.objects.exists()
    record = ReceptionRecord.objects.get(pk=record.pk)
    assert record.draft is None
    event = AuditEvent.objects.filter(action="retention.applied").latest("pk")
    assert event.detail["reception_names_emptied"] == 1
    # The rest is kept for the figures.
    assert record.sequence == 1
    assert record.sex == "female"
    assert factories.rows_containing(NAME) == [], (
        "the name given when taken in outlives the retention period: "
        f"{factories.rows_containing(NAME)}"
    )
