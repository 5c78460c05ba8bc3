"""Retention warns a draft's author before deleting it (ADR 0021, addendum of stop 36). Drafts
started at an operation's reception by a safeguarding lead, or handed over (ADR 0043), are held
by someone `drafts_deletion_warn` does not expect."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.notifications.models import Notification
from opennrm.operations import services
from opennrm.operations.models import Operation, PartnerRole
from opennrm.privacy import services as privacy
from opennrm.referrals.models import ReferralDraft

from . import factories
from . import operation_helpers as op

TAKEN_IN = date(2027, 3, 12)  # op.DURING
WARNED = TAKEN_IN + timedelta(days=77)  # 28 May 2027: 14 days before the 90 days end
DELETION = TAKEN_IN + timedelta(days=91)  # 11 June 2027


def _run(day: date) -> int:
    with time_machine.travel(f"{day.isoformat()} 10:00:00+00:00", tick=False):
        return privacy.retention_apply(today=day).drafts_deleted


def _operation(alice: User, northmoor_police: Organisation, council: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    return operation


def _child_taken_in_by(user: User, operation: Operation) -> ReferralDraft:
    with time_machine.travel(op.DURING, tick=False):
        record = services.reception_take_in(
            by=user,
            operation=operation,
            name_or_description="Girl, about 15",
            sex="female",
            age_group="child",
            urgent_needs=["bed_tonight"],
        )
    assert record.draft is not None
    return record.draft


def test_a_safeguarding_lead_who_took_a_child_in_is_told_before_the_draft_goes(
    alice: User,
    lena: User,
    northmoor_police: Organisation,
    council: Organisation,
) -> None:
    """Lena, the council's safeguarding lead, takes a girl in at an operation the council is
    invited to: the draft is hers (`created_by`), to complete through a first responder by
    handing it over (`reception_draft_hand_over`). Nobody touches it for 77 days. The retention
    run's warning (`referrals.services.drafts_deletion_warn`) looks only for the author among
    the organisation's *first responders*; Lena never was one, so it takes her for someone who
    "no longer refers for it" and tells the council's administrators to "give them the first
    responder role again", while Lena, the one person who holds the child's draft and can hand
    it over, hears nothing, and the draft is deleted 14 days later. Expected: Lena is told
    (the draft is hers; she can hand it over), and no administrator is told she left."""
    admin = factories.user("ada@example.org", organisation=council, role=Role.ORGANISATION_ADMIN)
    draft = _child_taken_in_by(lena, _operation(alice, northmoor_police, council))
    assert draft.created_by == lena

    _run(WARNED)

    told = list(Notification.objects.filter(kind__startswith="referrals.draft_deletion"))
    assert [n.recipient for n in told if n.recipient == lena], (
        "the safeguarding lead holding the child's draft is not told; told instead: "
        + "; ".join(f"{n.recipient.email}: {n.body}" for n in told)
    )
    assert not [n for n in told if n.recipient == admin and "can no longer complete it" in n.body]


def test_a_draft_handed_over_after_the_warning_is_not_deleted_before_its_new_holder_is_told(
    alice: User,
    lena: User,
    northmoor_police: Organisation,
    council: Organisation,
) -> None:
    """Alice took a girl in; the draft lay untouched and Alice was warned on 28 May 2027 that it
    goes on 11 June. On 7 June Alice hands it to Bob, a colleague, to finish
    (`operations.services.reception_draft_hand_over`: `save(update_fields=["created_by"])`, so
    neither `updated_at` nor `deletion_warned_at` changes). Bob is told only that a draft was
    handed to him; the retention run deletes the child's draft four days later, its new holder
    never told when. ADR 0021 (stop 36): a draft is deleted only once its author was told at
    least the notice period before. Expected: the draft handed over is kept until its new
    holder has had the notice period (or the hand-over starts the count again)."""
    bob = factories.user(
        "bob2@example.org", organisation=northmoor_police, role=Role.FIRST_RESPONDER
    )
    operation = _operation(alice, northmoor_police, council)
    draft = _child_taken_in_by(alice, operation)
    _run(WARNED)
    assert Notification.objects.filter(recipient=alice, kind="referrals.draft_deletion").exists()

    record = operation.reception.get(draft=draft)
    with time_machine.travel(f"{(WARNED + timedelta(days=10)).isoformat()} 10:00:00+00:00"):
        services.reception_draft_hand_over(by=alice, record=record, to=bob)

    assert _run(DELETION) == 0, (
        "the child's draft was deleted 4 days after it was handed to Bob, who was never told"
    )
    assert ReferralDraft.objects.filter(pk=draft.pk, created_by=bob).exists()


def test_a_lead_with_no_first_responder_to_hand_to_is_told_and_so_are_the_administrators(
    alice: User, lena: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """The hand-over page would list nobody: the lead hears why, and the council's
    administrators that a first responder is needed before the day."""
    admin = factories.user("ada@example.org", organisation=council, role=Role.ORGANISATION_ADMIN)
    _child_taken_in_by(lena, _operation(alice, northmoor_police, council))
    _run(WARNED)
    [to_lena] = Notification.objects.filter(recipient=lena, kind="referrals.draft_deletion")
    assert "Test Council has no first responder now" in to_lena.body
    [to_admin] = Notification.objects.filter(
        recipient=admin, kind="referrals.draft_deletion_no_first_responder"
    )
    assert "Lena Lowe holds a referral" in to_admin.body
    assert "11 June 2027" in to_admin.body


def test_a_lead_whose_organisation_has_a_first_responder_is_told_to_hand_it_over(
    alice: User, lena: User, northmoor_police: Organisation, council: Organisation
) -> None:
    admin = factories.user("ada@example.org", organisation=council, role=Role.ORGANISATION_ADMIN)
    factories.user("fred@example.org", organisation=council, role=Role.FIRST_RESPONDER)
    operation = _operation(alice, northmoor_police, council)
    _child_taken_in_by(lena, operation)
    _run(WARNED)
    [to_lena] = Notification.objects.filter(recipient=lena, kind="referrals.draft_deletion")
    assert "unless you hand it over to a first responder who completes it." in to_lena.body
    assert to_lena.url == f"/operations/{operation.pk}/reception/1/hand-over/"
    assert not Notification.objects.filter(recipient=admin).exists()
