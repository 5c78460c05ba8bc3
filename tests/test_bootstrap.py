"""A new deployment's first system administrator, and admin-site access following the role."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client, TestCase

from opennrm.accounts import services
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role

from . import factories


def test_first_system_administrator_is_invited_from_the_command_line(db: None) -> None:
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command(
            "invite_system_admin",
            "--email",
            "Root@Example.org",
            "--organisation",
            "Example Service Desk",
            stdout=out,
        )
    organisation = Organisation.objects.get(name="Example Service Desk")
    assert organisation.kind == OrganisationKind.SERVICE_OPERATOR
    link = next(line.strip() for line in out.getvalue().splitlines() if "/join/" in line)
    assert mail.outbox[0].to == ["root@example.org"]
    assert "The OpenNRM service desk has invited you" in mail.outbox[0].body

    client = Client()
    client.post(
        link,
        {
            "full_name": "Rita Root",
            "password": "a-long-enough-passphrase",
            "password_again": "a-long-enough-passphrase",
        },
    )
    root = User.objects.get(email="root@example.org")
    assert Membership.objects.get(user=root).role == Role.SYSTEM_ADMIN
    assert root.is_staff
    assert root.is_superuser
    # Running it again for the same person is refused, with the reason.
    with pytest.raises(CommandError, match="already has that role"):
        call_command(
            "invite_system_admin",
            "--email",
            "root@example.org",
            "--organisation",
            "Example Service Desk",
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--organisation", "X"], "not an email address"),
        (["--email", "a@example.org", "--organisation", "  "], "operating organisation"),
    ],
)
def test_bad_arguments_are_explained(db: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("invite_system_admin", *args)
    assert not Organisation.objects.exists()


def test_an_existing_organisation_of_another_kind_is_refused(
    northmoor_police: Organisation,
) -> None:
    with pytest.raises(CommandError, match="service operator"):
        call_command(
            "invite_system_admin", "--email", "a@example.org", "--organisation", "Northmoor Police"
        )


def test_admin_site_access_follows_the_system_administrator_role(
    sysadmin: User, operator: Organisation
) -> None:
    other_admin = factories.user(
        "second@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    # A role is given by the organisation's own administrator, never a system administrator alone.
    operator_admin = factories.user(
        "operator-admin@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    # A role that governs the whole service also needs a second system administrator.
    invitation, _ = services.invitation_create(
        by=operator_admin, organisation=operator, email=other_admin.email, role=Role.SYSTEM_ADMIN
    )
    services.invitation_approve(by=sysadmin, invitation=invitation)
    membership = services.invitation_accept_as_existing_user(
        invitation=invitation, user=other_admin
    )
    other_admin.refresh_from_db()
    assert other_admin.is_staff
    assert other_admin.is_superuser
    assert factories.signed_in_client(other_admin).get("/django-admin/").status_code == 200
    services.membership_set_active(by=sysadmin, membership=membership, active=False)
    other_admin.refresh_from_db()
    assert not other_admin.is_staff
    assert not other_admin.is_superuser
    assert factories.signed_in_client(other_admin).get("/django-admin/").status_code == 404


def test_migrations_match_the_models(db: None) -> None:
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
