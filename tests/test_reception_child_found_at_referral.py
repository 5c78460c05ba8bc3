"""A person taken in during an operation as looking adult, who then tells the first responder
they are 16: the draft's age page says "under 18: yes", children's services are told and the
reception record carries `found_child_at`. From then they are a child everywhere. Several
places still read only the first impression (`ReceptionRecord.is_child`, i.e. the age group
ticked on the night)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.operations import selectors as op_selectors
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole, ReceptionRecord
from opennrm.operations.report import operation_report
from opennrm.protection.selectors import protection_for_reference
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.referrals.models import ReferralDraft

from . import factories
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
        referrals.draft_save_answers(
            by=alice,
            draft=record.draft,
            step=steps.STEP_BY_SLUG["age"],
            data={"under_18": "yes"},
        )
    record = ReceptionRecord.objects.get(pk=record.pk)
    assert record.found_child_at is not None
    return record


def _draft_gone(record: ReceptionRecord) -> ReceptionRecord:
    """The draft left unsubmitted until retention deleted it (the only way a child's draft
    goes: `drafts_unsubmitted_delete` does not look at age)."""
    assert record.draft_id is not None
    ReferralDraft.objects.filter(pk=record.draft_id).delete()
    return ReceptionRecord.objects.get(pk=record.pk)


def test_a_child_found_at_referral_whose_draft_retention_deleted_is_not_shown_declined(
    child_found_later: ReceptionRecord,
) -> None:
    """The board (and the report's standings) would say "Declined: draft deleted", as for an
    adult who refused a referral; a child cannot decline. selectors.standing_of looks at
    `record.is_child` only when the draft is gone, not at `found_child_at`."""
    record = _draft_gone(child_found_later)
    assert op_selectors.standing_of(record) == op_selectors.Standing.NOT_REFERRED


def test_a_child_found_at_referral_whose_draft_retention_deleted_stays_protected(
    child_found_later: ReceptionRecord,
) -> None:
    """A Home Office protection check on the night's reference would answer "not protected"
    for a child (protection.reception_source: `not record.is_child` -> None), while a child
    taken in as a child in the same position stays protected."""
    record = _draft_gone(child_found_later)
    with time_machine.travel(op.DURING, tick=False):
        finding = protection_for_reference(record.reference, record.taken_in_at.date())
    assert finding.protection.protected


def test_the_report_does_not_count_a_child_found_at_referral_as_an_adult_waiting_for_a_bed(
    child_found_later: ReceptionRecord,
) -> None:
    """The board says "Draft referral" (a child never waits for an adult's bed), yet the
    operation report counts them among "Adults of the operation waiting for a place" and in the
    men's places needed each day (report._waiting_before_a_case / _need_per_day read only
    `record.is_child`)."""
    with time_machine.travel(op.DURING, tick=False):
        report = operation_report(child_found_later.operation, op.STARTS.replace(day=12))
    assert report.standings[op_selectors.Standing.WAITING_FOR_BED] == 0
    assert all(day.waiting == 0 for day in report.days), [d.waiting for d in report.days]


def test_the_board_marks_a_child_found_at_referral_as_a_child(
    child_found_later: ReceptionRecord, lena: User
) -> None:
    """The council's safeguarding lead, told this person is a child, opens the board: person 1
    has no "Child" tag, exactly like the adults (board.html reads `record.is_child` only)."""
    url = reverse("operations:board", args=[child_found_later.operation_id])
    with time_machine.travel(op.DURING, tick=False):
        page = factories.signed_in_client(lena).get(url).content.decode()
    row = re.search(r'<tr class="govuk-table__row" id="person-1">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "Child" in row.group(1)
