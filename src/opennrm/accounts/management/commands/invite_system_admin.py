from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from opennrm.accounts import services
from opennrm.accounts.models import Invitation, Organisation
from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role
from opennrm.lib.text import single_line_problem


class Command(BaseCommand):
    help = (
        "Invite the first system administrator of a new deployment. Creates the operating "
        "organisation if needed and prints a single-use link where they set a password and "
        "two-factor authentication; no password ever passes through this command."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="the administrator's email address")
        parser.add_argument(
            "--organisation",
            required=True,
            help="the organisation that operates this deployment, e.g. 'Example NRM Service Desk'",
        )
        parser.add_argument(
            "--jurisdiction",
            default=Jurisdiction.ENGLAND_AND_WALES.value,
            choices=[j.value for j in Jurisdiction],
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        name = options["organisation"].strip()
        # Checked before anything is written: the database cannot hold a NUL byte, nor more
        # than each field's length.
        for option, value, field in (
            ("--email", email, Invitation._meta.get_field("email")),
            ("--organisation", name, Organisation._meta.get_field("name")),
        ):
            if "\x00" in value:
                raise CommandError(f"{option}: must not contain a NUL byte")
            if field.max_length is not None and len(value) > field.max_length:
                raise CommandError(f"{option}: at most {field.max_length} characters")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--email: {email!r} is not an email address") from None
        if not name:
            raise CommandError("--organisation: give the operating organisation's name")
        # The name is in the invitation e-mail's subject, sent once the records are committed: a
        # line break there would fail after they were written, the link never shown.
        if problem := single_line_problem(name, "the organisation's name"):
            raise CommandError(f"--organisation: {problem}")
        with transaction.atomic():
            organisation = Organisation.objects.filter(name__iexact=name).first()
            if organisation is None:
                organisation = services.organisation_create(
                    by=None,
                    name=name,
                    kind=OrganisationKind.SERVICE_OPERATOR,
                    jurisdiction=Jurisdiction(options["jurisdiction"]),
                )
            elif organisation.kind != OrganisationKind.SERVICE_OPERATOR:
                raise CommandError(
                    f"{organisation.name} is a {organisation.get_kind_display().lower()}; "
                    "system administrators belong to a service operator organisation"
                )
            try:
                _invitation, token = services.invitation_create(
                    by=None, organisation=organisation, email=email, role=Role.SYSTEM_ADMIN
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[token])
        self.stdout.write(f"Invitation for {email} as system administrator of {organisation.name}.")
        self.stdout.write("It was emailed to them; the link, which works once, is:\n")
        self.stdout.write(f"    {link}\n")
