"""Nobody gives a role to themselves alone, a removed membership stays removed, and the bootstrap
command refuses what the database cannot hold."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts import services
from opennrm.accounts.models import Invitation, Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent

from . import factories


def _invite(client: Client, organisation: Organisation, email: str, role: str):
    # Invitation e-mails go out once the transaction commits; run those callbacks here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("accounts:member_invite", args=[organisation.pk]),
            {"email": email, "role": role},
        )


def _last_link() -> str:
    return re.search(r"http://\S+/join/\S+/", mail.outbox[-1].body).group(0)


# --- A role is never given to oneself alone ----------------------------------------------------


def test_an_organisation_admin_inviting_themselves_waits_for_another_administrator(
    olivia: User, northmoor_police: Organisation
) -> None:
    """Olivia administers Northmoor Police (no case access). An invitation to her own address as
    a first responder sends no link: it waits for another administrator, and she cannot approve
    it herself."""
    client = factories.signed_in_client(olivia)
    _invite(client, northmoor_police, olivia.email.upper(), Role.FIRST_RESPONDER)
    assert mail.outbox == []
    invitation = Invitation.objects.get(email=olivia.email, organisation=northmoor_police)
    assert invitation.waiting_for_approval
    with pytest.raises(ValidationError, match="someone else must approve it"):
        services.invitation_approve(by=olivia, invitation=invitation)
    assert not Membership.objects.filter(
        user=olivia, organisation=northmoor_police, role=Role.FIRST_RESPONDER
    ).exists()
    # A second administrator may approve it; only then is the link sent.
    second_admin = factories.user(
        "second.admin@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.invitation_approve(by=second_admin, invitation=invitation)
    assert [message.to for message in mail.outbox] == [[olivia.email]]


def test_a_service_operators_admin_cannot_make_themselves_system_administrator(
    operator: Organisation,
) -> None:
    admin = factories.user(
        "opadmin@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    client = factories.signed_in_client(admin)
    _invite(client, operator, admin.email, Role.SYSTEM_ADMIN)
    if mail.outbox:
        client.post(_last_link())
    admin.refresh_from_db()
    assert not Membership.objects.filter(user=admin, role=Role.SYSTEM_ADMIN).exists()
    assert not admin.is_superuser


def test_a_member_cannot_change_their_own_membership_into_system_administrator(
    operator: Organisation,
) -> None:
    """Changing one's own role is refused whatever the role is now: someone who administers the
    operator and is also its data-protection officer cannot turn that officer membership into
    system administrator."""
    admin = factories.user(
        "opadmin@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    officer = Membership.objects.create(
        user=admin, organisation=operator, role=Role.DATA_PROTECTION_OFFICER
    )
    response = factories.signed_in_client(admin).post(
        reverse("accounts:membership_edit", args=[officer.pk]),
        {"action": "role", "role": Role.SYSTEM_ADMIN},
    )
    assert "You cannot change your own role" in response.content.decode()
    officer.refresh_from_db()
    admin.refresh_from_db()
    assert officer.role == Role.DATA_PROTECTION_OFFICER
    assert not admin.is_superuser


def test_an_administrator_cannot_restore_their_own_removed_membership(
    olivia: User, northmoor_police: Organisation
) -> None:
    """Another administrator took Olivia's first responder role away; giving access back is
    giving a role, so she cannot give it back to herself."""
    second_admin = factories.user(
        "second.admin@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    hers = Membership.objects.create(
        user=olivia, organisation=northmoor_police, role=Role.FIRST_RESPONDER
    )
    path = reverse("accounts:membership_edit", args=[hers.pk])
    response = factories.signed_in_client(second_admin).post(path, {"action": "deactivate"})
    assert response.status_code == 302
    hers.refresh_from_db()
    assert not hers.is_active
    response = factories.signed_in_client(olivia).post(path, {"action": "reactivate"})
    assert "You cannot give your own access back" in response.content.decode()
    hers.refresh_from_db()
    assert not hers.is_active
    # Another administrator may give it back.
    factories.signed_in_client(second_admin).post(path, {"action": "reactivate"})
    hers.refresh_from_db()
    assert hers.is_active


# --- A removed membership stays removed --------------------------------------------------------


def test_a_removed_membership_is_not_restored_by_an_invitation_left_open(
    oscar: User, alice: User, southvale_police: Organisation
) -> None:
    """Removing someone's access withdraws the invitations still open for that role, so a second
    link sent earlier cannot bring it back."""
    admin = factories.signed_in_client(oscar)
    # The invitation was sent twice (the first e-mail went astray); both links are live.
    _invite(admin, southvale_police, alice.email, Role.FIRST_RESPONDER)
    first = _last_link()
    _invite(admin, southvale_police, alice.email, Role.FIRST_RESPONDER)
    second = _last_link()
    alice_client = factories.signed_in_client(alice)
    alice_client.post(first)
    membership = Membership.objects.get(user=alice, organisation=southvale_police)
    assert membership.is_active
    # Oscar removes her access; the other invitation is withdrawn, with its audit event.
    admin.post(reverse("accounts:membership_edit", args=[membership.pk]), {"action": "deactivate"})
    membership.refresh_from_db()
    assert not membership.is_active
    left_open = Invitation.objects.get(accepted_at__isnull=True, email=alice.email)
    assert left_open.revoked_at is not None
    assert AuditEvent.objects.filter(
        action="invitation.revoked", object_id=str(left_open.pk), actor=oscar
    ).exists()
    # She follows the other link: her removed access does not come back.
    alice_client.post(second)
    membership.refresh_from_db()
    assert not membership.is_active
    # A new invitation, sent after the removal, gives it back.
    _invite(admin, southvale_police, alice.email, Role.FIRST_RESPONDER)
    alice_client.post(_last_link())
    membership.refresh_from_db()
    assert membership.is_active


def test_an_invitation_sent_before_a_removal_does_not_restore_it(
    oscar: User, alice: User, southvale_police: Organisation
) -> None:
    """Even an invitation that was not withdrawn (one left open before withdrawal on removal
    existed) cannot give back access removed after it was sent."""
    membership = Membership.objects.create(
        user=alice, organisation=southvale_police, role=Role.FIRST_RESPONDER
    )
    invitation = Invitation.objects.create(
        email=alice.email,
        organisation=southvale_police,
        role=Role.FIRST_RESPONDER,
        token_hash=services.hash_token("left-open"),
        invited_by=oscar,
        expires_at=timezone.now() + timedelta(days=7),
    )
    services.membership_set_active(by=oscar, membership=membership, active=False)
    # As if it had been left open.
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=None)
    invitation.refresh_from_db()
    with pytest.raises(ValidationError, match="withdrawn when your access was removed"):
        services.invitation_accept_as_existing_user(invitation=invitation, user=alice)
    response = factories.signed_in_client(alice).post(
        reverse("accounts:invitation_accept", args=["left-open"])
    )
    assert response.status_code == 409
    assert "withdrawn when your access was removed" in response.content.decode()
    membership.refresh_from_db()
    assert not membership.is_active


# --- Bad input to the bootstrap command --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--email", "root@example.org", "--organisation", "O" * 250], "--organisation"),
        (["--email", "root@example.org", "--organisation", "Operator\x00Desk"], "--organisation"),
        (["--email", "root\x00@example.org", "--organisation", "Desk"], "--email"),
        (["--email", ("a" * 60 + ".") * 4 + "x@example.org", "--organisation", "Desk"], "--email"),
    ],
    ids=["organisation-too-long", "organisation-nul", "email-nul", "email-too-long"],
)
def test_invite_system_admin_refuses_values_the_database_cannot_hold(
    db: None, args: list[str], option: str
) -> None:
    with pytest.raises(CommandError, match=option):
        call_command("invite_system_admin", *args)
    assert not Organisation.objects.exists()
    assert not Invitation.objects.exists()
