"""Reads that depend on who is asking. Views never query these models directly."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from .models import Invitation, Membership, Organisation, User
from .roles import ROLE_SCOPE, Role, Scope


def memberships_of(user: User) -> QuerySet[Membership]:
    """The user's active memberships in active organisations."""
    if not user.is_authenticated or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(
        user=user, is_active=True, organisation__is_active=True
    ).select_related("organisation")


def roles_of(user: User) -> set[Role]:
    cached: set[Role] | None = getattr(user, "_opennrm_roles", None)
    if cached is None:
        cached = {Role(role) for role in memberships_of(user).values_list("role", flat=True)}
        user._opennrm_roles = cached  # type: ignore[attr-defined]
    return cached


def has_any_role(user: User, roles: Iterable[Role]) -> bool:
    return bool(roles_of(user) & set(roles))


def scope_for(user: User, role: Role) -> Scope | None:
    """The widest scope the user holds through `role`, or None without that role."""
    return ROLE_SCOPE[role] if role in roles_of(user) else None


def organisations_administered_by(user: User) -> QuerySet[Organisation]:
    if Role.SYSTEM_ADMIN in roles_of(user):
        return Organisation.objects.all()
    admin_of = memberships_of(user).filter(role=Role.ORGANISATION_ADMIN)
    return Organisation.objects.filter(pk__in=admin_of.values("organisation_id"))


def organisation_get_for_admin(user: User, organisation_id: int) -> Organisation:
    """One organisation the user administers; 404 otherwise, whether or not it exists."""
    try:
        return organisations_administered_by(user).get(pk=organisation_id)
    except Organisation.DoesNotExist:
        raise Http404 from None


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__full_name", "role")


def membership_get_for_admin(user: User, membership_id: int) -> Membership:
    organisations = organisations_administered_by(user)
    try:
        return Membership.objects.select_related("user", "organisation").get(
            pk=membership_id, organisation__in=organisations
        )
    except Membership.DoesNotExist:
        raise Http404 from None


def pending_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    return organisation.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def invitation_get_by_token_hash(token_hash: str) -> Invitation | None:
    """The open invitation with this token hash, if any (the token itself is the credential)."""
    return (
        Invitation.objects.select_related("organisation")
        .filter(
            Q(needs_approval=False) | Q(approved_at__isnull=False),
            token_hash=token_hash,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def invitation_get_for_admin(user: User, invitation_id: int) -> Invitation:
    try:
        return pending_invitations_for_admin(user).get(pk=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404 from None


def pending_invitations_for_admin(user: User) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organisation__in=organisations_administered_by(user),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    )


def sign_in_wait(email: str) -> int:
    """Seconds before anyone may try a password for this account again (0: now).

    One client that keeps failing is locked out by axes (per account and address). Across every
    address, an account that has failed `AXES_FAILURE_LIMIT` times within the cool-off period is
    throttled rather than blocked: after the n-th failure past the limit the next attempt waits
    2**n seconds (2, 4, 8, ...), at most `SIGN_IN_MAX_DELAY_SECONDS`. A stranger who knows the
    e-mail address can slow its owner down by that much, never keep them out; a password guesser
    gets one try per delay, and a right password still needs the code."""
    from axes.models import AccessAttempt

    now = timezone.now()
    found = AccessAttempt.objects.filter(
        username=email, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
    ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    past_limit = (found["failures"] or 0) - settings.AXES_FAILURE_LIMIT
    if past_limit < 0:
        return 0
    delay = min(2 ** min(past_limit + 1, 30), settings.SIGN_IN_MAX_DELAY_SECONDS)
    remaining = (found["last"] + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))
