"""Gaps a review found in accounts: invitation links that gave back a role taken away, or gave one
nobody entitled to give it any longer, and a next address that lost its query string on the way
through two-factor."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, TestCase
from django.urls import reverse

from opennrm.accounts import services
from opennrm.accounts.models import Invitation, Membership, Organisation, User
from opennrm.accounts.roles import Role

from . import factories


def invite(client: Client, organisation: Organisation, email: str, role: str) -> str:
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("accounts:member_invite", args=[organisation.pk]),
            {"email": email, "role": role},
        )
    assert response.status_code == 302
    return re.search(r"http://\S+/join/\S+/", mail.outbox[-1].body).group(0)


def test_a_role_taken_away_by_a_role_change_is_not_given_back_by_a_second_link(
    olivia: User, northmoor_police: Organisation
) -> None:
    """An administrator invites Dana as organisation administrator, and sends the invitation again
    when Dana says the first e-mail never came (two links, both open). Dana joins with one. Later
    the administrator demotes Dana to first responder on the membership page. Today Dana opens the
    other link and is an organisation administrator again, with nobody's approval: changing a
    role leaves the open invitations for the old role in place (`membership_change_role`), unlike
    removing access (`membership_set_active` withdraws them). The demotion should stick: the
    link left open should be withdrawn (or refused) once the role was taken away."""
    admin = factories.signed_in_client(olivia)
    first = invite(admin, northmoor_police, "dana@example.org", Role.ORGANISATION_ADMIN)
    second = invite(admin, northmoor_police, "dana@example.org", Role.ORGANISATION_ADMIN)
    response = Client().post(
        first,
        {
            "full_name": "Dana Dent",
            "password": "a-long-enough-passphrase-42",
            "password_again": "a-long-enough-passphrase-42",
        },
    )
    assert response.status_code == 302
    dana = User.objects.get(email="dana@example.org")
    membership = Membership.objects.get(user=dana)
    assert membership.role == Role.ORGANISATION_ADMIN

    response = admin.post(
        reverse("accounts:membership_edit", args=[membership.pk]),
        {"action": "role", "role": Role.FIRST_RESPONDER},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.FIRST_RESPONDER

    factories.signed_in_client(dana).post(second)
    assert not Membership.objects.filter(
        user=dana,
        organisation=northmoor_police,
        role=Role.ORGANISATION_ADMIN,
        is_active=True,
    ).exists(), "the demoted administrator gave themselves the role back with the second link"


def test_an_invitation_from_an_administrator_since_removed_gives_no_role(
    olivia: User, northmoor_police: Organisation
) -> None:
    """Olivia, an organisation administrator, invites a new organisation administrator, then is
    removed (her access taken away by the other administrator, say because she was misusing it).
    Today her link still works: the invitee becomes an organisation administrator on the word of
    someone who no longer administers the organisation. A role is given only by the
    organisation's own administrator (threat model 31): an invitation whose inviter has lost that
    standing should be withdrawn, or wait for approval like a system administrator's."""
    other_admin = factories.user(
        "otto@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    link = invite(
        factories.signed_in_client(olivia),
        northmoor_police,
        "accomplice@example.org",
        Role.ORGANISATION_ADMIN,
    )
    response = factories.signed_in_client(other_admin).post(
        reverse("accounts:membership_edit", args=[olivia.memberships.get().pk]),
        {"action": "deactivate"},
    )
    assert response.status_code == 302
    assert not olivia.memberships.get().is_active

    Client().post(
        link,
        {
            "full_name": "Ace Complice",
            "password": "a-long-enough-passphrase-42",
            "password_again": "a-long-enough-passphrase-42",
        },
    )
    assert not Membership.objects.filter(
        user__email="accomplice@example.org",
        role=Role.ORGANISATION_ADMIN,
        is_active=True,
    ).exists(), "a removed administrator's invitation still made an administrator"


def test_removing_someones_access_also_withdraws_their_open_invitation_to_another_role(
    olivia: User, alice: User, northmoor_police: Organisation
) -> None:
    """Alice, a first responder, has been invited to become Northmoor's organisation
    administrator and has not yet accepted. She then leaves, and the administrator removes her
    access. `membership_set_active` withdraws only open invitations for the removed membership's
    own role (first responder), so the promotion link still works: Alice, just removed, signs in
    and becomes Northmoor's administrator. Removing a person's access should withdraw every
    invitation still open for them in that organisation."""
    admin = factories.signed_in_client(olivia)
    link = invite(admin, northmoor_police, alice.email, Role.ORGANISATION_ADMIN)
    response = admin.post(
        reverse("accounts:membership_edit", args=[alice.memberships.get().pk]),
        {"action": "deactivate"},
    )
    assert response.status_code == 302
    factories.signed_in_client(alice).post(link)
    assert not Membership.objects.filter(
        user=alice, organisation=northmoor_police, is_active=True
    ).exists(), "a person whose access was just removed joined again as administrator"


def test_a_page_address_with_several_query_parameters_survives_the_two_factor_step(
    alice: User,
) -> None:
    """A first responder whose session timed out on a filtered list (say `/?q=smith&page=2`)
    signs in again. The sign-in page keeps the whole address, but `views.sign_in` puts it
    unencoded into the two-factor redirect (`?next=/?q=smith&page=2`), so everything after the
    first `&` becomes a parameter of the two-factor page and is lost: after the code they land
    on `/?q=smith`, not the page they were on. The address should be URL-encoded."""
    factories.totp_device(alice)
    target = "/?q=smith&page=2"
    client = Client()
    response = client.post(
        reverse("accounts:sign_in") + "?" + urlencode({"next": target}),
        {"email": alice.email, "password": factories.PASSWORD, "next": target},
    )
    assert response.status_code == 302
    verify_page = client.get(response["Location"])
    assert verify_page.status_code == 200
    page = verify_page.content.decode()
    kept = re.search(r'name="next" value="([^"]*)"', page)
    assert kept is not None, "the two-factor page carries no next field"
    assert html.unescape(kept.group(1)) == target


def test_changing_a_role_withdraws_every_open_invitation_whatever_its_role_or_case(
    olivia: User, alice: User, northmoor_police: Organisation
) -> None:
    """Open invitations are matched by address ignoring case, as on acceptance; a role change
    withdraws them all (any role), each with its own audit event, and a later one still works."""
    other_admin = factories.user(
        "otto@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    promotion, _ = services.invitation_create(
        by=olivia,
        organisation=northmoor_police,
        email=alice.email.upper(),
        role=Role.ORGANISATION_ADMIN,
    )
    Invitation.objects.filter(pk=promotion.pk).update(email=alice.email.upper())
    services.membership_change_role(
        by=other_admin, membership=alice.memberships.get(), role=Role.ORGANISATION_ADMIN
    )
    promotion.refresh_from_db()
    assert promotion.revoked_at is not None
    assert promotion.accepted_at is None
    # A later invitation is not touched by the change made before it.
    later, _ = services.invitation_create(
        by=olivia, organisation=northmoor_police, email=alice.email, role=Role.FIRST_RESPONDER
    )
    services.invitation_accept_as_existing_user(invitation=later, user=alice)
    assert Membership.objects.filter(
        user=alice, organisation=northmoor_police, role=Role.FIRST_RESPONDER, is_active=True
    ).exists()


def test_a_refused_invitation_says_why_and_stays_unused(
    olivia: User, alice: User, northmoor_police: Organisation
) -> None:
    """Olivia invites Alice (already a member) to a second role, then is demoted: the link is
    refused with a reason, and the invitation is neither used nor withdrawn (a new administrator
    can see it and send another)."""
    other_admin = factories.user(
        "otto@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    invitation, _ = services.invitation_create(
        by=olivia, organisation=northmoor_police, email=alice.email, role=Role.ORGANISATION_ADMIN
    )
    services.membership_change_role(
        by=other_admin, membership=olivia.memberships.get(), role=Role.FIRST_RESPONDER
    )
    with pytest.raises(ValidationError, match="no longer manages access for Northmoor"):
        services.invitation_accept_as_existing_user(invitation=invitation, user=alice)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert invitation.revoked_at is None


def test_an_approved_invitation_stands_while_both_who_gave_it_keep_their_standing(
    sysadmin: User, olivia: User, northmoor_police: Organisation
) -> None:
    """A system administrator's invitation rests on two people's word: the one who asked and the
    administrator who approved. It works while both keep that standing, and is refused once the
    approver has lost theirs."""
    other_admin = factories.user(
        "otto@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    kept, _ = services.invitation_create(
        by=sysadmin,
        organisation=northmoor_police,
        email="kept@example.org",
        role=Role.FIRST_RESPONDER,
    )
    lost, _ = services.invitation_create(
        by=sysadmin,
        organisation=northmoor_police,
        email="lost@example.org",
        role=Role.FIRST_RESPONDER,
    )
    assert kept.waiting_for_approval
    assert lost.waiting_for_approval
    services.invitation_approve(by=olivia, invitation=kept)
    services.invitation_approve(by=olivia, invitation=lost)
    services.invitation_accept_as_new_user(
        invitation=kept, full_name="Kept", password="a-long-enough-passphrase-42"
    )
    assert Membership.objects.filter(user__email="kept@example.org", is_active=True).exists()

    services.membership_set_active(
        by=other_admin, membership=olivia.memberships.get(), active=False
    )
    with pytest.raises(ValidationError, match="no longer manages access"):
        services.invitation_accept_as_new_user(
            invitation=lost, full_name="Lost", password="a-long-enough-passphrase-42"
        )
    assert not User.objects.filter(email="lost@example.org").exists()
