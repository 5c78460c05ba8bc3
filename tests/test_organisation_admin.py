"""Administrators manage organisations, invitations and memberships through pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from opennrm.accounts.models import Invitation, Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent

from . import factories


def invite(client: Client, organisation: Organisation, email: str, role: str):
    # Invitation e-mails go out once the transaction commits; run those callbacks here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("accounts:member_invite", args=[organisation.pk]),
            {"email": email, "role": role},
        )


def link_from_last_email() -> str:
    return re.search(r"http://\S+/join/\S+/", mail.outbox[-1].body).group(0)


class TestScope:
    """Another organisation's records are 404 for an organisation administrator."""

    @pytest.mark.page("accounts:organisation_list")
    def test_admin_sees_only_their_organisations(
        self, olivia: User, northmoor_police: Organisation, southvale_police: Organisation
    ) -> None:
        html = (
            factories.signed_in_client(olivia)
            .get(reverse("accounts:organisation_list"))
            .content.decode()
        )
        assert "Northmoor Police" in html
        assert "Southvale Police" not in html

    def test_other_organisations_pages_are_not_found(
        self, olivia: User, oscar: User, charlie: User, southvale_police: Organisation
    ) -> None:
        client = factories.signed_in_client(olivia)
        membership = charlie.memberships.get()
        invitation, _ = __import__("opennrm.accounts.services", fromlist=["x"]).invitation_create(
            by=oscar,
            organisation=southvale_police,
            email="x@example.org",
            role=Role.FIRST_RESPONDER,
        )
        assert (
            client.get(reverse("accounts:member_list", args=[southvale_police.pk])).status_code
            == 404
        )
        assert (
            client.get(reverse("accounts:member_invite", args=[southvale_police.pk])).status_code
            == 404
        )
        assert (
            client.get(reverse("accounts:membership_edit", args=[membership.pk])).status_code == 404
        )
        assert (
            client.post(
                reverse("accounts:membership_edit", args=[membership.pk]), {"action": "deactivate"}
            ).status_code
            == 404
        )
        assert (
            client.post(reverse("accounts:invitation_revoke", args=[invitation.pk])).status_code
            == 404
        )
        membership.refresh_from_db()
        assert membership.is_active
        # A record that does not exist looks exactly the same.
        assert client.get(reverse("accounts:member_list", args=[999999])).status_code == 404

    def test_system_administrator_reaches_every_organisation(
        self, sysadmin: User, southvale_police: Organisation
    ) -> None:
        client = factories.signed_in_client(sysadmin)
        assert (
            client.get(reverse("accounts:member_list", args=[southvale_police.pk])).status_code
            == 200
        )

    def test_first_responder_cannot_administer_their_own_organisation(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        assert (
            client.get(reverse("accounts:member_list", args=[northmoor_police.pk])).status_code
            == 404
        )


class TestInvitations:
    @pytest.mark.page("accounts:member_invite")
    def test_invite_accept_and_sign_in(self, olivia: User, northmoor_police: Organisation) -> None:
        admin = factories.signed_in_client(olivia)
        response = invite(admin, northmoor_police, "New.Person@Example.org", Role.FIRST_RESPONDER)
        assert response.status_code == 302
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["new.person@example.org"]
        assert "Northmoor Police" in mail.outbox[0].body
        assert "&amp;" not in mail.outbox[0].body
        assert "new.person@example.org" in admin.get(response["Location"]).content.decode()

        link = link_from_last_email()
        newcomer = Client()
        page = newcomer.get(link)
        assert "Create your account" in page.content.decode()
        bad = newcomer.post(
            link, {"full_name": "New Person", "password": "short", "password_again": "short"}
        )
        assert "too short" in bad.content.decode()
        assert 'value="New Person"' in bad.content.decode()
        mismatch = newcomer.post(
            link,
            {
                "full_name": "New Person",
                "password": "a-long-enough-passphrase",
                "password_again": "other-passphrase-x",
            },
        )
        assert "The passwords do not match" in mismatch.content.decode()
        done = newcomer.post(
            link,
            {
                "full_name": "New Person",
                "password": "a-long-enough-passphrase",
                "password_again": "a-long-enough-passphrase",
            },
        )
        assert done["Location"] == reverse("accounts:two_factor_setup")
        user = User.objects.get(email="new.person@example.org")
        assert user.check_password("a-long-enough-passphrase")
        assert Membership.objects.get(user=user).role == Role.FIRST_RESPONDER
        # The link works once.
        assert Client().get(link).status_code == 404

    def test_role_must_fit_the_kind_of_organisation(
        self, olivia: User, northmoor_police: Organisation
    ) -> None:
        response = invite(
            factories.signed_in_client(olivia),
            northmoor_police,
            "dm@example.org",
            Role.DECISION_MAKER,
        )
        html = response.content.decode()
        assert "Select a role from the list" in html
        assert 'value="dm@example.org"' in html
        assert not Invitation.objects.exists()

    def test_organisation_admin_cannot_make_a_system_administrator(
        self, olivia: User, northmoor_police: Organisation
    ) -> None:
        invite(
            factories.signed_in_client(olivia),
            northmoor_police,
            "root@example.org",
            Role.SYSTEM_ADMIN,
        )
        assert not Invitation.objects.exists()

    def test_invalid_email_is_explained(self, olivia: User, northmoor_police: Organisation) -> None:
        html = invite(
            factories.signed_in_client(olivia),
            northmoor_police,
            "not an email",
            Role.FIRST_RESPONDER,
        ).content.decode()
        assert "Enter an email address in the correct format" in html

    def test_existing_member_cannot_be_invited_twice(
        self, olivia: User, alice: User, northmoor_police: Organisation
    ) -> None:
        html = invite(
            factories.signed_in_client(olivia), northmoor_police, alice.email, Role.FIRST_RESPONDER
        ).content.decode()
        assert "already has that role" in html

    @pytest.mark.page("accounts:invitation_accept")
    def test_existing_user_accepts_after_signing_in(
        self, oscar: User, alice: User, southvale_police: Organisation
    ) -> None:
        invite(
            factories.signed_in_client(oscar),
            southvale_police,
            alice.email,
            Role.ORGANISATION_ADMIN,
        )
        link = link_from_last_email()
        assert "Sign in to accept" in Client().get(link).content.decode()
        alice_client = factories.signed_in_client(alice)
        assert alice_client.post(link)["Location"] == reverse("pages:home")
        assert Membership.objects.filter(
            user=alice, organisation=southvale_police, role=Role.ORGANISATION_ADMIN
        ).exists()

    @pytest.mark.page("accounts:invitation_revoke")
    def test_withdrawn_invitation_no_longer_works(
        self, olivia: User, northmoor_police: Organisation
    ) -> None:
        client = factories.signed_in_client(olivia)
        invite(client, northmoor_police, "late@example.org", Role.FIRST_RESPONDER)
        invitation = Invitation.objects.get()
        client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
        assert Client().get(link_from_last_email()).status_code == 404

    def test_a_made_up_token_is_not_valid(self, db: None) -> None:
        response = Client().get(reverse("accounts:invitation_accept", args=["made-up"]))
        assert response.status_code == 404
        assert "This invitation link is not valid" in response.content.decode()


class TestMemberships:
    @pytest.mark.page("accounts:membership_edit")
    def test_change_role(self, olivia: User, alice: User) -> None:
        membership = alice.memberships.get()
        client = factories.signed_in_client(olivia)
        response = client.post(
            reverse("accounts:membership_edit", args=[membership.pk]),
            {"action": "role", "role": Role.ORGANISATION_ADMIN},
        )
        assert response.status_code == 302
        membership.refresh_from_db()
        assert membership.role == Role.ORGANISATION_ADMIN

    def test_unknown_role_is_refused_with_a_message(self, olivia: User, alice: User) -> None:
        membership = alice.memberships.get()
        html = (
            factories.signed_in_client(olivia)
            .post(
                reverse("accounts:membership_edit", args=[membership.pk]),
                {"action": "role", "role": "emperor"},
            )
            .content.decode()
        )
        assert "Select a role from the list" in html
        membership.refresh_from_db()
        assert membership.role == Role.FIRST_RESPONDER

    def test_remove_and_restore_access(self, olivia: User, alice: User) -> None:
        membership = alice.memberships.get()
        admin = factories.signed_in_client(olivia)
        alice_client = factories.signed_in_client(alice)
        admin.post(
            reverse("accounts:membership_edit", args=[membership.pk]), {"action": "deactivate"}
        )
        membership.refresh_from_db()
        assert not membership.is_active
        assert "not part of any organisation" in alice_client.get("/").content.decode()
        admin.post(
            reverse("accounts:membership_edit", args=[membership.pk]), {"action": "reactivate"}
        )
        membership.refresh_from_db()
        assert membership.is_active

    def test_administrators_cannot_lock_themselves_out(self, olivia: User) -> None:
        membership = olivia.memberships.get()
        client = factories.signed_in_client(olivia)
        html = client.post(
            reverse("accounts:membership_edit", args=[membership.pk]), {"action": "deactivate"}
        ).content.decode()
        assert "You cannot remove your own access" in html
        html = client.post(
            reverse("accounts:membership_edit", args=[membership.pk]),
            {"action": "role", "role": Role.FIRST_RESPONDER},
        ).content.decode()
        assert "You cannot change your own role" in html
        membership.refresh_from_db()
        assert membership.is_active
        assert membership.role == Role.ORGANISATION_ADMIN


class TestOrganisations:
    @pytest.mark.page("accounts:organisation_create")
    def test_system_administrator_adds_an_organisation(self, sysadmin: User) -> None:
        client = factories.signed_in_client(sysadmin)
        response = client.post(
            reverse("accounts:organisation_create"),
            {
                "name": "Westfield Refuge",
                "kind": OrganisationKind.SUPPORT_PROVIDER,
                "jurisdiction": "scotland",
                "area": "Lothian",
            },
        )
        organisation = Organisation.objects.get(name="Westfield Refuge")
        assert response["Location"] == reverse("accounts:member_list", args=[organisation.pk])
        assert organisation.jurisdiction == "scotland"

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (
                {"name": "", "kind": "support_provider", "jurisdiction": "scotland"},
                "Enter the organisation",
            ),
            (
                {"name": "X", "kind": "", "jurisdiction": "scotland"},
                "Select the kind of organisation",
            ),
            (
                {"name": "X", "kind": "bank", "jurisdiction": "scotland"},
                "Select the kind of organisation from the list",
            ),
            (
                {
                    "name": "northmoor police",
                    "kind": "support_provider",
                    "jurisdiction": "scotland",
                },
                "already exists",
            ),
        ],
    )
    def test_bad_input_is_explained_and_kept(
        self, sysadmin: User, northmoor_police: Organisation, data: dict, message: str
    ) -> None:
        html = (
            factories.signed_in_client(sysadmin)
            .post(reverse("accounts:organisation_create"), data)
            .content.decode()
        )
        assert message in html
        assert "There is a problem" in html
        if data["name"]:
            assert f'value="{data["name"]}"' in html


class TestSystemAdministratorsDoNotGrantAlone:
    """A system administrator reaches every organisation, but a role in one is given by its own
    administrator; a system administrator's invitation waits for that administrator or a second
    system administrator, never the one who asked (issue 10, item 6)."""

    def test_an_invitation_by_a_system_administrator_waits_for_someone_else(
        self, sysadmin: User, olivia: User, alice: User, northmoor_police: Organisation
    ) -> None:
        asker = factories.signed_in_client(sysadmin)
        # Inviting themselves into a police force sends nothing yet.
        response = invite(asker, northmoor_police, sysadmin.email, Role.FIRST_RESPONDER)
        assert response.status_code == 302
        assert mail.outbox == []
        invitation = Invitation.objects.get(email=sysadmin.email)
        assert invitation.waiting_for_approval
        listing = asker.get(response["Location"]).content.decode()
        assert "waits for approval by an administrator of Northmoor Police" in listing
        assert "Waiting for approval" in listing
        assert "Approve<span" not in listing
        approve = reverse("accounts:invitation_approve", args=[invitation.pk])
        # Not by the one who asked, nor by anyone outside the organisation's administrators.
        refused = asker.post(approve, follow=True).content.decode()
        assert "someone else must approve it" in refused
        assert factories.signed_in_client(alice).post(approve).status_code == 404
        invitation.refresh_from_db()
        assert invitation.waiting_for_approval
        assert mail.outbox == []
        # Northmoor's administrator approves: only now is the link sent.
        olivia_client = factories.signed_in_client(olivia)
        assert "Approve<span" in olivia_client.get(response["Location"]).content.decode()
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert olivia_client.post(approve).status_code == 302
        assert mail.outbox[0].to == [sysadmin.email]
        invitation.refresh_from_db()
        assert invitation.approved_by == olivia
        assert AuditEvent.objects.filter(action="invitation.approved", actor=olivia).count() == 1

    @pytest.mark.page("accounts:invitation_approve")
    def test_a_second_system_administrator_may_approve(
        self, sysadmin: User, operator: Organisation, southvale_police: Organisation
    ) -> None:
        second = factories.user("second@example.org", organisation=operator, role=Role.SYSTEM_ADMIN)
        invite(
            factories.signed_in_client(sysadmin),
            southvale_police,
            "x@example.org",
            "first_responder",
        )
        invitation = Invitation.objects.get(email="x@example.org")
        with TestCase.captureOnCommitCallbacks(execute=True):
            factories.signed_in_client(second).post(
                reverse("accounts:invitation_approve", args=[invitation.pk])
            )
        assert len(mail.outbox) == 1
        link = link_from_last_email()
        assert "Create your account" in Client().get(link).content.decode()

    def test_an_unapproved_invitation_has_no_link_that_works(
        self, sysadmin: User, northmoor_police: Organisation
    ) -> None:
        from opennrm.accounts import selectors, services

        invitation, token = services.invitation_create(
            by=sysadmin,
            organisation=northmoor_police,
            email="y@example.org",
            role=Role.FIRST_RESPONDER,
        )
        assert token == ""
        assert selectors.invitation_get_by_token_hash(invitation.token_hash) is None

    def test_a_system_administrator_cannot_change_or_restore_a_role_alone(
        self, sysadmin: User, alice: User, olivia: User
    ) -> None:
        membership = alice.memberships.get()
        client = factories.signed_in_client(sysadmin)
        path = reverse("accounts:membership_edit", args=[membership.pk])
        page = client.post(
            path, {"action": "role", "role": Role.ORGANISATION_ADMIN}
        ).content.decode()
        assert "Only an administrator of Northmoor Police can give a role there" in page
        membership.refresh_from_db()
        assert membership.role == Role.FIRST_RESPONDER
        # Taking access away is allowed; giving it back is a grant.
        assert client.post(path, {"action": "deactivate"}).status_code == 302
        page = client.post(path, {"action": "reactivate"}).content.decode()
        assert "Only an administrator of Northmoor Police can give a role there" in page
        membership.refresh_from_db()
        assert not membership.is_active
        factories.signed_in_client(olivia).post(path, {"action": "reactivate"})
        membership.refresh_from_db()
        assert membership.is_active


def test_django_admin_never_shows_an_authenticator_secret(sysadmin: User, alice: User) -> None:
    device = factories.totp_device(alice)
    # As the role gives them (accounts.services._sync_admin_site_access).
    User.objects.filter(pk=sysadmin.pk).update(is_staff=True, is_superuser=True)
    client = factories.signed_in_client(sysadmin)
    index = client.get("/django-admin/")
    assert index.status_code == 200
    assert "otp_totp" not in index.content.decode()
    for path in (
        "/django-admin/otp_totp/totpdevice/",
        f"/django-admin/otp_totp/totpdevice/{device.pk}/change/",
        f"/django-admin/otp_totp/totpdevice/{device.pk}/config/",
        "/django-admin/auth/group/",
        "/django-admin/django_tasks_database/dbtaskresult/",
    ):
        response = client.get(path)
        assert response.status_code in (302, 404), path
        assert device.key not in response.content.decode(), path
