"""Every write of the API's own: its tokens. What an operation writes is written by the
services of the app the operation belongs to."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.selectors import organisations_administered_by
from opennrm.audit.services import audit_record

from .models import ApiToken, TokenScope
from .selectors import hash_secret

# Tokens expire: a forgotten token stops working by itself. Renewing means creating a new one.
MAX_TOKEN_LIFETIME = timedelta(days=365)
TOKEN_PREFIX = "onrm_"  # noqa: S105 (marks an OpenNRM token, e.g. for secret scanners)
# How often a token's last use is written down: often enough to tell a live token from a
# dead one, rarely enough that busy clients do not write on every request.
LAST_USED_PRECISION = timedelta(minutes=1)
NAME_MAX_LENGTH = 100


def _check_new_token(
    *,
    by: User | None,
    organisation: Organisation,
    acts_as: User,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
) -> list[str]:
    problems: dict[str, str] = {}
    if (
        by is not None
        and not organisations_administered_by(Actor.of_session(by))
        .filter(pk=organisation.pk)
        .exists()
    ):
        problems["organisation"] = "You can create tokens only for organisations you administer"
    if not Actor.of_session(acts_as).memberships().filter(organisation=organisation).exists():
        problems["acts_as"] = (
            f"{acts_as.email} is not an active member of {organisation.name}: a token acts for "
            "one member of its organisation"
        )
    if not name.strip():
        problems["name"] = "Give the token a name that says what uses it"
    elif len(name.strip()) > NAME_MAX_LENGTH:
        problems["name"] = f"The token's name must be {NAME_MAX_LENGTH} characters or fewer"
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if unknown:
        problems["scopes"] = (
            f"Unknown scope {', '.join(unknown)}: choose from {', '.join(TokenScope.values)}"
        )
    elif not scopes:
        problems["scopes"] = f"Give at least one scope: {', '.join(TokenScope.values)}"
    now = timezone.now()
    if expires_at <= now:
        problems["expires_at"] = "The expiry must be in the future"
    elif expires_at > now + MAX_TOKEN_LIFETIME:
        problems["expires_at"] = (
            f"A token can last at most {MAX_TOKEN_LIFETIME.days} days; create a new one to renew"
        )
    if problems:
        raise ValidationError(problems)
    return sorted(set(scopes))


@transaction.atomic
def api_token_create(
    *,
    by: User | None,
    organisation: Organisation,
    acts_as: User,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and stored nowhere.

    `by=None` is the command line (an operator with shell access); a user must administer the
    organisation. The token acts for `acts_as`, who must be an active member of it.
    """
    clean_scopes = _check_new_token(
        by=by,
        organisation=organisation,
        acts_as=acts_as,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
    )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organisation=organisation,
        acts_as=acts_as,
        name=name.strip(),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        secret_hash=hash_secret(secret),
        scopes=clean_scopes,
        created_by=by,
        expires_at=expires_at,
    )
    audit_record(
        by=by,
        action="api_token.created",
        obj=token,
        organisation=organisation,
        detail={
            "name": token.name,
            "prefix": token.prefix,
            "acts_as": acts_as.email,
            "scopes": clean_scopes,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, by: User | None, token: ApiToken) -> ApiToken:
    """Stop a token working at once. Revoking a revoked token changes nothing but is recorded."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if (
        by is not None
        and not organisations_administered_by(Actor.of_session(by))
        .filter(pk=locked.organisation_id)
        .exists()
    ):
        raise ValidationError("You can revoke tokens only of organisations you administer")
    already = locked.revoked_at is not None
    if not already:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    audit_record(
        by=by,
        action="api_token.revoked",
        obj=locked,
        organisation=locked.organisation,
        detail={"prefix": locked.prefix, "already_revoked": already},
    )
    return locked


def _tokens_revoked_with_membership(by: User, membership: Membership) -> dict[str, int]:
    """Registered with `accounts.services.MEMBERSHIP_CHANGED` (`api.apps`): when one of a
    member's memberships is taken away or given another role, the tokens still working that act
    for them in its organisation are revoked, counted in the membership's audit event. A token
    is refused while its member holds no role there (`selectors.api_token_refusal`), but giving
    the access back would otherwise revive a secret that may have left with them (on a laptop,
    in a script). And a token acts with its member's roles there (`selectors.token_actor`):
    after a role change it would do what nobody chose when its scopes were chosen (a decision
    maker's token approving once they are a senior decision maker). An administrator makes a
    new token for the new role."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(
        acts_as_id=membership.user_id,
        organisation_id=membership.organisation_id,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).update(revoked_at=now)
    return {"api_tokens_revoked": revoked}


def api_token_record_use(*, token: ApiToken) -> None:
    """Note when a token was last used, at most once a minute.

    Writes no audit event, deliberately: it runs on every request, and what the request does is
    audited by the service it calls, with the token's member as the actor.
    """
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
