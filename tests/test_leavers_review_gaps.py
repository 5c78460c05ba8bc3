"""Gaps found by a review of leavers and role changes, and closed.

A safe-house manager's site assignments outlived their leaving or a role change, so a manager
invited back saw old sites' addresses (ADR 0016, addendum of stop 36; threat model row 11). A
first responder who moved from the force that took a person in to a partner of the same
operation still read the person's name and could hand over that force's draft (ADR 0043,
addendum of stop 36).
"""

from __future__ import annotations

import time_machine

from opennrm.accommodation import selectors
from opennrm.accommodation.models import SiteAssignment
from opennrm.accounts import services as accounts
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.operations import services
from opennrm.operations.models import PartnerRole
from opennrm.referrals.models import ReferralDraft

from . import case_factories, factories
from . import operation_helpers as op
from . import support_factories as s


def test_a_manager_who_left_and_is_invited_back_by_system_administrators_sees_no_old_address(
    provider: Organisation, maya: User, sysadmin: User, operator: Organisation
) -> None:
    """Maya, a safe-house manager of Test Refuge, runs Quietwater House (she added it, so she
    is assigned to it and sees its address). She leaves: Test Refuge's administrator removes
    her access. Months later a system administrator invites her back to Test Refuge as a
    safe-house manager, a second system administrator approves, and she accepts. Nobody at
    Test Refuge decided anything, yet the old `SiteAssignment` row of her membership (reused by
    `_join`) was never ended, so she reads the safe house's address again at once: the threat
    model (row 11) says the address is shown only to managers assigned by an administrator of
    the site's provider, "never by a system administrator's role", and ADR 18's addendum says
    what a membership held ends with it and does not come back. Address grants are ended on
    leaving (`MEMBERSHIP_CHANGED`), site assignments are not.
    Expected: taking the membership away (or changing its role) ends its site assignments, so
    coming back shows no address until the provider assigns the manager again."""
    site = s.site(maya, provider, name="Quietwater House")
    assert selectors.may_see_address(Actor.of_session(maya), site)
    refuge_admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
    membership = Membership.objects.get(user=maya, organisation=provider)
    accounts.membership_set_active(by=refuge_admin, membership=membership, active=False)
    assert not selectors.may_see_address(Actor.of_session(maya), site)
    assert not SiteAssignment.objects.filter(membership=membership).exists()
    event = AuditEvent.objects.filter(action="membership.deactivated").latest("pk")
    assert event.detail["site_assignments_ended"] == 1

    second_sysadmin = factories.user(organisation=operator, role=Role.SYSTEM_ADMIN)
    assert operator.kind == OrganisationKind.SERVICE_OPERATOR
    invitation, token = accounts.invitation_create(
        by=sysadmin, organisation=provider, email=maya.email, role=Role.SAFE_HOUSE_MANAGER
    )
    assert invitation.waiting_for_approval
    assert token == ""
    accounts.invitation_approve(by=second_sysadmin, invitation=invitation)
    invitation.refresh_from_db()
    accounts.invitation_accept_as_existing_user(invitation=invitation, user=maya)

    assert not selectors.may_see_address(Actor.of_session(maya), site), (
        "a manager who left was shown a safe house's address again on rejoining, with no "
        "decision by the site's provider (her old site assignment came back with the membership)"
    )


def test_a_manager_moved_to_coordinator_and_back_gets_no_old_site_back(
    provider: Organisation, maya: User
) -> None:
    """Test Refuge's administrator moves Maya from safe-house manager to support coordinator
    (she no longer runs Quietwater House), and a year later back to safe-house manager to run a
    new house. Her old assignment to Quietwater House, never ended by the role change, comes
    back with the role: she sees its address and runs its beds though nobody assigned her to it
    again. Expected: a role change ends the membership's site assignments, as it ends its
    address grants (ADR 18 addendum)."""
    site = s.site(maya, provider, name="Quietwater House")
    refuge_admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
    membership = Membership.objects.get(user=maya, organisation=provider)
    accounts.membership_change_role(
        by=refuge_admin, membership=membership, role=Role.SUPPORT_COORDINATOR
    )
    membership.refresh_from_db()
    accounts.membership_change_role(
        by=refuge_admin, membership=membership, role=Role.SAFE_HOUSE_MANAGER
    )
    assert site.pk not in selectors.assigned_site_ids(Actor.of_session(maya)), (
        "an assignment to a safe house came back with the role, with nobody assigning her again"
    )


def test_a_first_responder_who_moved_to_a_partner_force_cannot_still_hand_over_the_draft(
    alice: User,
    bob: User,
    olivia: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
) -> None:
    """Northmoor Police leads Operation Larkspur with Southvale Police invited as a partner.
    Alice (Northmoor) takes a person in: the referral draft is hers. Alice then moves to
    Southvale: Olivia removes her Northmoor membership and she joins Southvale as a first
    responder. She no longer works for the organisation that took the person in, yet she can
    still open person 1's hand-over page (through Southvale's place in the operation) and hand
    Northmoor's draft to a Northmoor responder of her choosing, recorded as her act:
    `operations.selectors.may_hand_over` lets "the draft's holder" do it whatever they now are,
    and `reception_draft_hand_over` checks nothing more. Expected: only a holder who still takes
    people in for the organisation that took the person in (or its safeguarding lead) may hand
    the draft over; a leaver gets 404 as any other outsider, and the draft stays unmoved."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=southvale_police, role=PartnerRole.POLICE
        )
    with time_machine.travel(op.DURING, tick=False):
        record = services.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="Woman, about 30",
            sex="female",
            age_group="adult",
            urgent_needs=["bed_tonight"],
        )
        assert record.draft is not None
        assert record.draft.created_by == alice
        case_factories.leaves(alice, northmoor_police, by=olivia)
        Membership.objects.create(
            user=alice, organisation=southvale_police, role=Role.FIRST_RESPONDER
        )
        url = f"/operations/{operation.pk}/reception/{record.sequence}/hand-over/"
        client = factories.signed_in_client(alice)
        page = client.get(url)
        posted = client.post(url, {"to": bob.pk})
    draft = ReferralDraft.objects.get(pk=record.draft.pk)
    assert (page.status_code, draft.created_by_id) == (404, alice.pk), (
        f"a first responder who left Northmoor opened its hand-over page ({page.status_code}) "
        f"and moved its draft ({posted.status_code}) to {draft.created_by}"
    )


def test_a_first_responder_who_moved_to_a_partner_force_no_longer_sees_who_she_took_in(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
) -> None:
    """Same move: Alice took "Mirela Popescu" in for Northmoor Police during its operation, then
    moved to Southvale Police, a partner of the operation. The board shows a person's name "only
    to the responder who took them in and to the lead's first responders"
    (`operations.selectors.may_see_name`), and it compares only the user: Alice, no longer at
    Northmoor, still reads the name of the person Northmoor took in (and may record them missing
    or found). Every other Southvale reader sees a number and a standing. Expected: the taker's
    sight of the name lasts only while they still act for the organisation that took the person
    in; after leaving, Alice sees what any other partner sees."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=southvale_police, role=PartnerRole.POLICE
        )
    with time_machine.travel(op.DURING, tick=False):
        services.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="Mirela Popescu",
            sex="female",
            age_group="adult",
            urgent_needs=["bed_tonight"],
        )
        case_factories.leaves(alice, northmoor_police, by=olivia)
        Membership.objects.create(
            user=alice, organisation=southvale_police, role=Role.FIRST_RESPONDER
        )
        page = factories.signed_in_client(alice).get(f"/operations/{operation.pk}/board/")
    assert page.status_code == 200
    assert "Mirela Popescu" not in page.content.decode(), (
        "a first responder who left the force that took a person in still reads their name on "
        "the operation's board"
    )
