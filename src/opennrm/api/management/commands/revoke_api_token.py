from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.api import selectors, services


class Command(BaseCommand):
    help = "Revoke an API token at once, by the prefix create_api_token printed (onrm_...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", required=True, help="the token's prefix, e.g. onrm_Ab12Cd")
        parser.add_argument(
            "--organisation", help="the token's organisation, if two tokens share the prefix"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = options["prefix"].strip().removesuffix("...")
        tokens = selectors.api_tokens_with_prefix(prefix)
        if options["organisation"]:
            tokens = tokens.filter(organisation__name__iexact=options["organisation"].strip())
        found = list(tokens)
        if not found:
            raise CommandError(f"--prefix: no API token starts with {prefix!r}")
        if len(found) > 1:
            names = "; ".join(f"{t.name} ({t.organisation.name})" for t in found)
            raise CommandError(
                f"--prefix: {len(found)} tokens start with {prefix!r}: {names}. "
                "Add --organisation to say which."
            )
        token = services.api_token_revoke(by=None, token=found[0])
        self.stdout.write(
            f"Revoked API token {token.name!r} ({token.prefix}...) of {token.organisation.name}."
        )
