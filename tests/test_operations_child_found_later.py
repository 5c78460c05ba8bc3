"""A person taken in during an operation as looking adult, who then tells the first responder
they are 16 (the referral's age page answered "under 18: yes"). From then they are a child:
their draft cannot be "declined" and deleted (a child does not consent to a referral), they keep
protection from removal, and they never wait for an adult's bed. Found in review: only the
reception record's first impression (`ReceptionRecord.age_group`,
`ReferralDraft.presumed_child`) was looked at."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Organisation, User
from opennrm.operations import selectors as op_selectors
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole, ReceptionRecord
from opennrm.protection.selectors import protection_for_reference
from opennrm.referrals import services as referrals
from opennrm.referrals import steps

from . import operation_helpers as op


@pytest.fixture
def child_found_later(alice: User, northmoor_police: Organisation, council: Organisation):
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="young man in red",
            sex="male",
            age_group="adult",
            urgent_needs=["bed_tonight"],
        )
        # Asked properly, he says he is 16: the first responder records it on the age page.
        referrals.draft_save_answers(
            by=alice,
            draft=record.draft,
            step=steps.STEP_BY_SLUG["age"],
            data={"under_18": "yes"},
        )
    return record


def test_a_child_found_at_referral_cannot_have_the_draft_deleted_as_declined(
    alice: User, child_found_later: ReceptionRecord
) -> None:
    draft = child_found_later.draft
    draft.refresh_from_db()
    assert steps.age_group(draft.answers) == "child"
    with time_machine.travel(op.DURING, tick=False), pytest.raises(ValidationError):
        referrals.draft_delete(by=alice, draft=draft)


def test_a_child_found_at_referral_keeps_protection_and_is_not_counted_as_declined(
    child_found_later: ReceptionRecord,
) -> None:
    record = ReceptionRecord.objects.get(pk=child_found_later.pk)
    with time_machine.travel(op.DURING, tick=False):
        finding = protection_for_reference(record.reference, record.taken_in_at.date())
    assert finding.protection.protected
    assert op_selectors.standing_of(record) == op_selectors.Standing.DRAFT


def test_a_child_found_at_referral_is_not_shown_waiting_for_an_adult_bed(
    child_found_later: ReceptionRecord,
) -> None:
    record = ReceptionRecord.objects.get(pk=child_found_later.pk)
    assert op_selectors.standing_of(record) != op_selectors.Standing.WAITING_FOR_BED
