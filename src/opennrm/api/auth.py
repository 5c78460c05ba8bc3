"""Bearer-token authentication for every API operation.

The API takes no session: a request authenticates with `Authorization: Bearer <token>` alone,
so a signed-in browser's cookies reach nothing here (and no CSRF token is needed, since a
browser never sends the bearer token by itself). The token is checked, then the operation's
entry in `accounts.access.API_OPERATIONS`: the scope the token must carry and the roles its
member must hold in the token's organisation. An operation without an entry is refused.

Every request counts against a rate limit before anything else is decided (`throttling`): a
request with a known token against that token's, any other against its address's.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.security import HttpBearer

from opennrm.accounts import access
from opennrm.accounts.actor import Actor

from . import selectors, services, throttling
from .models import ApiToken


class TokenRejected(AuthenticationError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message)


class TokenAuth(HttpBearer):
    # Named as OpenAPI names the field: ninja copies every openapi_* attribute into the scheme.
    openapi_bearerFormat = "OpenNRM API token"

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        found: ApiToken | None = super().__call__(request)
        if found is None:
            # No bearer token at all: ninja answers 401, but the request still counts.
            throttling.check_address(request)
        return found

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = selectors.api_token_by_secret(token.strip()) if token.strip() else None
        if found is None:
            throttling.check_address(request)
            raise TokenRejected("This API token is not known")
        throttling.check_token(request, found)
        refusal = selectors.api_token_refusal(found)
        if refusal is not None:
            raise TokenRejected(refusal)
        services.api_token_record_use(token=found)
        actor = selectors.token_actor(found)
        _check_operation(request, found, actor)
        # Every selector the operation calls starts from this actor (`actor_of`).
        request.actor = actor  # type: ignore[attr-defined]
        return found


def _check_operation(request: HttpRequest, token: ApiToken, actor: Actor) -> None:
    match = request.resolver_match
    rule = access.api_rule_for(request.method or "", match.view_name if match else "")
    if rule is None:
        raise HttpError(404, "Not found")
    if rule.scope not in token.scopes:
        raise AuthorizationError(
            message=f"This API token does not have the '{rule.scope}' scope this operation needs"
        )
    if not actor.has_any_role(rule.roles):
        raise AuthorizationError(
            message="The member this API token acts for does not hold a role that may use "
            "this operation"
        )


def token_of(request: HttpRequest) -> ApiToken:
    """The token the request was authenticated with (set by TokenAuth before the handler)."""
    token: Any = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):
        raise AuthenticationError()
    return token
