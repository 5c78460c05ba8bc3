"""A leaver review: the holder of a reception draft changes role and is told to do what that
role cannot."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.accounts.services import membership_change_role
from opennrm.notifications.models import Notification
from opennrm.operations import services
from opennrm.operations.models import Operation, PartnerRole
from opennrm.privacy import services as privacy

from . import factories
from . import operation_helpers as op

TAKEN_IN = date(2027, 3, 12)  # op.DURING
WARNED = TAKEN_IN + timedelta(days=77)


def _operation(alice: User, northmoor_police: Organisation, council: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    return operation


def test_a_lead_moved_to_administrator_is_not_told_to_hand_over_a_draft_through_a_page_she_cannot_open(
    alice: User, lena: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """Lena, the council's safeguarding lead, takes a girl in at Northmoor's operation: the
    child's referral draft is hers, to hand to a council first responder (Fred). The council's
    other administrator then moves Lena from safeguarding lead to organisation administrator.
    When retention warns (`referrals.services.drafts_deletion_warn`), `_draft_holder_can` sees
    she still holds *a* role at the council and says "hand over": Lena alone is told to "hand it
    over to a first responder", with a link to the hand-over page. That page is for first
    responders and safeguarding leads only (`operations:reception_hand_over`, RECEPTIONISTS), so
    the link is refused to her; nobody else (no safeguarding lead, no administrator) is told,
    and the child's draft is deleted 14 days later. Expected: whoever is told to hand the draft
    over can open the page that does it (or, if the holder no longer may, those who can act are
    told, as when the holder has left)."""
    admin = factories.user("ada@example.org", organisation=council, role=Role.ORGANISATION_ADMIN)
    factories.user("fred@example.org", organisation=council, role=Role.FIRST_RESPONDER)
    operation = _operation(alice, northmoor_police, council)
    with time_machine.travel(op.DURING, tick=False):
        record = services.reception_take_in(
            by=lena,
            operation=operation,
            name_or_description="Girl, about 15",
            sex="female",
            age_group="child",
            urgent_needs=["bed_tonight"],
        )
    assert record.draft is not None
    assert record.draft.created_by == lena
    membership_change_role(
        by=admin,
        membership=Membership.objects.get(user=lena, organisation=council),
        role=Role.ORGANISATION_ADMIN,
    )

    with time_machine.travel(f"{WARNED.isoformat()} 10:00:00+00:00", tick=False):
        privacy.retention_apply(today=WARNED)
        told = list(Notification.objects.filter(kind__startswith="referrals.draft_deletion"))
        assert told, "nobody at all was told the child's draft will be deleted"
        opened = {
            n.recipient.email: factories.signed_in_client(n.recipient).get(n.url).status_code
            for n in told
        }
    assert any(status == 200 for status in opened.values()), (
        "everyone told of the child's draft's deletion is sent to a page they cannot open: "
        f"{opened}; bodies: " + " | ".join(n.body for n in told)
    )


def test_when_the_holder_of_a_reception_draft_left_the_safeguarding_leads_can_hand_it_over(
    alice: User, lena: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """A council first responder took a child in and left the council: its safeguarding lead,
    who may hand a reception draft over (ADR 0043), is told, with a page that opens for her."""
    factories.user("fred@example.org", organisation=council, role=Role.FIRST_RESPONDER)
    frank = factories.user("frank@example.org", organisation=council, role=Role.FIRST_RESPONDER)
    operation = _operation(alice, northmoor_police, council)
    with time_machine.travel(op.DURING, tick=False):
        services.reception_take_in(
            by=frank,
            operation=operation,
            name_or_description="Boy, about 14",
            sex="male",
            age_group="child",
        )
    Membership.objects.filter(user=frank).delete()
    with time_machine.travel(f"{WARNED.isoformat()} 10:00:00+00:00", tick=False):
        privacy.retention_apply(today=WARNED)
        [told] = Notification.objects.filter(
            recipient=lena, kind="referrals.draft_deletion_holder_gone"
        )
        assert factories.signed_in_client(lena).get(told.url).status_code == 200
    assert "you can hand it to a first responder" in told.body
