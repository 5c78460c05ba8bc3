"""Reads about API tokens. The secret itself is the credential: a token is found by its hash.
The records a token reaches are those its actor reaches (`token_actor`), through the pages'
selectors."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation

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
    # Asked first: a member's tokens are revoked when their membership is taken away
    # (`services._tokens_revoked_with_membership`), and the client is better told why.
    if not token_actor(token).roles:
        return (
            "The member this API token acts for is no longer active in its organisation "
            "(their access, their account or the organisation itself was switched off), so "
            "the token no longer works"
        )
    if token.revoked_at is not None:
        return "This API token has been revoked"
    if token.expires_at <= timezone.now():
        return "This API token has expired"
    if token.acts_as.is_demo_account and not settings.DEMO:
        # Demo accounts have a published password: as their sign-in, their tokens work only in
        # demo mode, whoever made them and however the deployment left demo mode.
        return (
            "This API token belongs to a demonstration account, which cannot be used on this "
            "service"
        )
    return None


def token_actor(token: ApiToken) -> Actor:
    """Who acts through this token: its member, through their memberships in the token's
    organisation only."""
    return Actor(token.acts_as, token_organisation_id=token.organisation_id)


def api_tokens_of(organisation: Organisation) -> QuerySet[ApiToken]:
    return organisation.api_tokens.select_related("acts_as").order_by("-created_at")


def api_tokens_with_prefix(prefix: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("organisation", "acts_as").filter(prefix=prefix)
