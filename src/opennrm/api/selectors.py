"""Reads about API tokens. The secret itself is the credential: a token is found by its hash."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Role
from opennrm.accounts.selectors import memberships_of

from .models import ApiToken


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_by_secret(secret: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("organisation", "acts_as")
        .filter(secret_hash=hash_secret(secret))
        .first()
    )


def api_token_refusal(token: ApiToken) -> str | None:
    """Why this token may not be used now, in words for the client; None if it may."""
    if token.revoked_at is not None:
        return "This API token has been revoked"
    if token.expires_at <= timezone.now():
        return "This API token has expired"
    if not api_token_roles(token):
        return (
            "The member this API token acts for is no longer active in its organisation, "
            "so the token no longer works"
        )
    return None


def api_token_roles(token: ApiToken) -> set[Role]:
    """Exactly the roles the token's member holds, now, in the token's organisation."""
    return {
        Role(role)
        for role in memberships_of(token.acts_as)
        .filter(organisation=token.organisation_id)
        .values_list("role", flat=True)
    }


def api_tokens_of(organisation: Organisation) -> QuerySet[ApiToken]:
    return organisation.api_tokens.select_related("acts_as").order_by("-created_at")


def api_tokens_with_prefix(prefix: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("organisation", "acts_as").filter(prefix=prefix)
