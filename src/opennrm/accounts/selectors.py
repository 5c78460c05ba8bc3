"""Reads that depend on who is asking. Views never query these models directly."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from .actor import Actor, members_with_role
from .models import Invitation, Membership, Organisation, SignInReset, User
from .roles import Role

# The roles that govern the service itself: a system administrator reaches every organisation
# (approves invitations into any of them, holds Django's admin site) and the data-protection
# officer sees who looked at anyone's data. Such a role rests on two people's word (threat 31):
# it is given only by an invitation that a second system administrator approves
# (`services.invitation_create`, `services.invitation_approve`), never by changing a role or
# giving a removed membership back. The other roles whose scope is every record (`ROLE_SCOPE`:
# a support coordinator, an analyst, an immigration enforcement officer) do their own
# organisation's work, and its administrator gives them as any other role.
SERVICE_WIDE_ROLES: frozenset[Role] = frozenset({Role.SYSTEM_ADMIN, Role.DATA_PROTECTION_OFFICER})


def organisations_administered_by(actor: Actor) -> QuerySet[Organisation]:
    if Role.SYSTEM_ADMIN in actor.roles:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=actor.organisations_as({Role.ORGANISATION_ADMIN}))


def organisation_get_for_admin(actor: Actor, organisation_id: int) -> Organisation:
    """One organisation the actor administers; 404 otherwise, whether or not it exists."""
    try:
        return organisations_administered_by(actor).get(pk=organisation_id)
    except Organisation.DoesNotExist:
        raise Http404 from None


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__full_name", "role")


def membership_get_for_admin(actor: Actor, membership_id: int) -> Membership:
    organisations = organisations_administered_by(actor)
    try:
        return Membership.objects.select_related("user", "organisation").get(
            pk=membership_id, organisation__in=organisations
        )
    except Membership.DoesNotExist:
        raise Http404 from None


def _holds(roles: set[Role], who: str, *, there: bool = True) -> Exists:
    """Whether the invitation's `who` (its inviter or approver) holds one of `roles` in force:
    in the invitation's organisation, or (`there=False`) anywhere."""
    found = members_with_role(None, roles).filter(user=OuterRef(who))
    if there:
        found = found.filter(organisation=OuterRef("organisation"))
    return Exists(found)


def _still_vouched() -> Q:
    """Whether an open invitation can still give its role: those whose word it rests on still
    hold the standing they acted with, as `services._refuse_unvouched` requires at acceptance
    (one rule, here in SQL). Its inviter still an administrator of the organisation; for one
    that waits for approval, its asker (and, once approved, its approver) still an administrator
    there or a system administrator; for a role that governs the service
    (`SERVICE_WIDE_ROLES`), only one that waited, and its approver a system administrator. The
    command line's (no inviter) always can."""

    def may_ask(who: str) -> Q:
        return Q(_holds({Role.ORGANISATION_ADMIN}, who)) | Q(system_admin(who))

    def system_admin(who: str) -> Q:
        return Q(_holds({Role.SYSTEM_ADMIN}, who, there=False))

    service_wide = Q(role__in=SERVICE_WIDE_ROLES)
    return (
        Q(invited_by__isnull=True)
        | ~service_wide
        & Q(needs_approval=False)
        & Q(_holds({Role.ORGANISATION_ADMIN}, "invited_by"))
        | ~service_wide
        & Q(needs_approval=True)
        & may_ask("invited_by")
        & (Q(approved_by__isnull=True) | may_ask("approved_by"))
        # A role that governs the service: only one that waited, approved (once it is) by a
        # system administrator still in force.
        | service_wide
        & Q(needs_approval=True)
        & may_ask("invited_by")
        & (Q(approved_by__isnull=True) | system_admin("approved_by"))
    )


def pending_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    """The organisation's open invitations, each with `still_works`: false once whoever it
    rests on has left or lost the standing they acted with, so its link can no longer give a
    role (`services._refuse_unvouched`) and a current administrator should send another."""
    return (
        organisation.invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .annotate(still_works=_still_vouched())
        .select_related("invited_by")
    )


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


def may_reset(by: User, person: User) -> bool:
    """Whether `by` may give `person` a new sign-in (ADR 57): a system administrator may; an
    organisation administrator only someone whose every role in force is in organisations they
    administer, since a reset hands over the whole account, with the roles it holds anywhere."""
    if members_with_role(None, {Role.SYSTEM_ADMIN}).filter(user=by).exists():
        return True
    held = set(person.memberships.filter(is_active=True).values_list("organisation", flat=True))
    run = set(
        members_with_role(None, {Role.ORGANISATION_ADMIN})
        .filter(user=by)
        .values_list("organisation", flat=True)
    )
    return bool(held) and held <= run


def sign_in_reset_by_token_hash(token_hash: str) -> SignInReset | None:
    """The open sign-in reset with this token hash (the token itself is the credential), while
    whoever sent it may still send it: not once they are removed, nor once the person holds a
    role beyond theirs, nor once the person has no access at all."""
    reset = (
        SignInReset.objects.select_related("user", "sent_by")
        .filter(
            token_hash=token_hash,
            used_at__isnull=True,
            withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    return reset if reset is not None and may_reset(reset.sent_by, reset.user) else None


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def invitation_get_for_admin(actor: Actor, invitation_id: int) -> Invitation:
    try:
        return pending_invitations_for_admin(actor).get(pk=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404 from None


def pending_invitations_for_admin(actor: Actor) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organisation__in=organisations_administered_by(actor),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    )


def sign_in_wait(email: str) -> int:
    """Seconds before anyone may try a password for this account again (0: now).

    One client that keeps failing is locked out by axes (per account and address). Across every
    address, an account that has failed `AXES_FAILURE_LIMIT` times within the cool-off period is
    throttled rather than blocked: after the n-th failure past the limit the next attempt waits
    2**n seconds (2, 4, 8, ...), at most `SIGN_IN_MAX_DELAY_SECONDS`. A stranger who knows the
    e-mail address and fails once per delay could keep everyone waiting: a browser the owner has
    signed in from is exempt (`devices.known`), so only a new browser waits. A password guesser
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
