from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.api import services
from opennrm.api.models import TokenScope

# Which option each of the service's complaints is about.
OPTION_FOR = {
    "acts_as": "--email",
    "organisation": "--organisation",
    "name": "--name",
    "scopes": "--scopes",
    "expires_at": "--days",
}


class Command(BaseCommand):
    help = (
        "Create an API token for an organisation, acting for one of its members with exactly "
        "that member's roles. Prints the token once, alone on standard output (everything else "
        "goes to standard error); only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--email", required=True, help="the member the token acts for (their e-mail address)"
        )
        parser.add_argument(
            "--organisation", required=True, help="the organisation's name, as it is shown"
        )
        parser.add_argument(
            "--name", required=True, help="what uses the token, e.g. 'Case management sync'"
        )
        parser.add_argument(
            "--scopes",
            required=True,
            help="comma-separated, from: "
            + "; ".join(f"{scope.value} ({scope.label})" for scope in TokenScope)
            + ". The member's roles still apply: a decision maker's token decides, a first "
            "responder's refers and asks for reconsideration",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=90,
            help=f"how long it works, in days (default 90, at most "
            f"{services.MAX_TOKEN_LIFETIME.days})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip()
        organisation = Organisation.objects.filter(
            name__iexact=options["organisation"].strip()
        ).first()
        if organisation is None:
            raise CommandError(
                f"--organisation: no organisation is called {options['organisation']!r}"
            )
        member = User.objects.filter(email__iexact=email).first()
        if member is None:
            raise CommandError(f"--email: no account has the address {email!r}")
        days = options["days"]
        if not 1 <= days <= services.MAX_TOKEN_LIFETIME.days:
            raise CommandError(
                f"--days: give a number of days from 1 to {services.MAX_TOKEN_LIFETIME.days}"
            )
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        try:
            token, secret = services.api_token_create(
                by=None,
                organisation=organisation,
                acts_as=member,
                name=options["name"],
                scopes=scopes,
                expires_at=timezone.now() + timedelta(days=days),
            )
        except ValidationError as error:
            raise CommandError(
                "\n".join(
                    f"{OPTION_FOR.get(field, field)}: {message}"
                    for field, messages in error.message_dict.items()
                    for message in messages
                )
            ) from None
        expires = timezone.localtime(token.expires_at).strftime("%-d %B %Y %H:%M")
        self.stderr.write(
            f"Created API token {token.name!r} ({token.prefix}...) for {organisation.name}, "
            f"acting for {member.email}, with scopes {', '.join(token.scopes)}, "
            f"working until {expires}.\n"
            "This is the only time the token is shown: put it in the client's secret store now. "
            "Send it as 'Authorization: Bearer <token>'.\n"
            f"To revoke it: manage.py revoke_api_token --prefix {token.prefix}"
        )
        self.stdout.write(secret)
