"""Reads about API tokens, and the records a token reaches. The secret itself is the credential:
a token is found by its hash."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.accounts.selectors import memberships_of
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_visible_to

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
    if token.acts_as.is_demo_account and not settings.DEMO:
        # Demo accounts have a published password: as their sign-in, their tokens work only in
        # demo mode, whoever made them and however the deployment left demo mode.
        return (
            "This API token belongs to a demonstration account, which cannot be used on this "
            "service"
        )
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


def api_token_cases(token: ApiToken) -> QuerySet[Case]:
    """The cases a token reaches: those the case pages would show its member
    (`cases_visible_to`), narrowed to what the member's roles *in the token's organisation*
    open, so that a member's roles elsewhere never come with the token:

    - as a first responder: the cases the organisation referred;
    - as a decision maker: the cases routed to the organisation (a competent authority);
    - as a safeguarding lead of a local authority or guardian service: children's cases in its
      area.
    """
    organisation = token.organisation
    roles = api_token_roles(token)
    condition = Q(pk__in=[])
    if Role.FIRST_RESPONDER in roles:
        condition |= Q(referring_organisation_id=organisation.pk)
    if roles & {Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER}:
        condition |= Q(competent_authority_id=organisation.pk)
    if (
        Role.SAFEGUARDING_LEAD in roles
        and organisation.kind
        in (OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE)
        and organisation.area
    ):
        condition |= Q(
            area=organisation.area, age_group__in=[AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD]
        )
    return cases_visible_to(token.acts_as).filter(condition)
