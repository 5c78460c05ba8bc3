"""Every write about accounts, organisations and memberships. Each writes its audit event."""

from __future__ import annotations

import base64
import enum
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.audit.models import AuditEvent
from opennrm.audit.services import audit_record
from opennrm.lib.labels import stored_label
from opennrm.lib.text import single_line_problem

from .actor import members_with_role
from .models import Invitation, Membership, Organisation, SignInReset, User
from .roles import Jurisdiction, OrganisationKind, Role, roles_allowed_in
from .selectors import SERVICE_WIDE_ROLES, may_reset


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Organisations ----------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    by: User | None,
    name: str,
    kind: OrganisationKind,
    jurisdiction: Jurisdiction,
    area: str = "",
) -> Organisation:
    # The name is in the subject of every invitation e-mail, which cannot hold a line break.
    if problem := single_line_problem(name, "The organisation's name"):
        raise ValidationError({"name": problem})
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "An organisation with this name already exists"})
    organisation = Organisation.objects.create(
        name=name, kind=kind, jurisdiction=jurisdiction, area=area
    )
    audit_record(
        by=by,
        action="organisation.created",
        obj=organisation,
        organisation=organisation,
        detail={"kind": kind, "jurisdiction": jurisdiction},
    )
    return organisation


# --- Invitations and memberships --------------------------------------------------------------


def _check_role_fits(organisation: Organisation, role: Role) -> None:
    if role not in roles_allowed_in(organisation.kind):
        raise ValidationError(
            {
                "role": f"A {organisation.get_kind_display().lower()} cannot have the role "
                f"{role.label.lower()}"
            }
        )


def administers(user: User, organisation: Organisation) -> bool:
    """Whether `user` is an active administrator of `organisation` itself (not merely a system
    administrator, whose reach over every organisation does not let them give roles alone)."""
    return members_with_role(organisation.pk, {Role.ORGANISATION_ADMIN}).filter(user=user).exists()


def _is_system_admin(user: User) -> bool:
    return members_with_role(None, {Role.SYSTEM_ADMIN}).filter(user=user).exists()


def _refuse_lone_grant(by: User, organisation: Organisation) -> None:
    """A role in an organisation is given by its own administrator; a system administrator who
    is not one invites, and a second administrator approves (`invitation_approve`)."""
    if not administers(by, organisation):
        raise ValidationError(
            {
                "role": f"Only an administrator of {organisation.name} can give a role there. "
                "Invite the person in that role instead: an administrator of the organisation, "
                "or another system administrator, must then approve the invitation"
            }
        )


def _refuse_service_wide(role: str, refused: str) -> None:
    """A role that governs the service (`selectors.SERVICE_WIDE_ROLES`) is given only by an
    invitation that a second system administrator approves: changing a role into it, or giving
    back a removed membership with it, is one person's act, which the two-person rule of threat
    31 does not allow, whoever does it."""
    if role in SERVICE_WIDE_ROLES:
        label = Role(role).label.lower()
        raise ValidationError(
            {
                "role": f"You cannot {refused}: the {label} role reaches every organisation, so "
                "a second system administrator must agree to it. Invite them as "
                f"{label} instead; another system administrator must then approve the invitation"
            }
        )


def _send_invitation(invitation: Invitation, by: User | None) -> str:
    """Give the invitation a fresh single-use token and e-mail the link once committed."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.save(update_fields=["token_hash"])
    link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[token])
    body = render_to_string(
        "accounts/email/invitation.txt",
        {"invitation": invitation, "link": link, "inviter": invitation.invited_by or by},
    )
    organisation_name = invitation.organisation.name
    email = invitation.email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You have been invited to OpenNRM by {organisation_name}",
            message=body,
            from_email=None,
            recipient_list=[email],
        )
    )
    return token


@transaction.atomic
def invitation_create(
    *, by: User | None, organisation: Organisation, email: str, role: Role
) -> tuple[Invitation, str]:
    """Invite someone to join `organisation` as `role`; e-mails them a single-use link.

    Returns the invitation and the token (shown nowhere else; only its hash is stored).
    `by=None` is the command line inviting the first system administrator. A system
    administrator who does not administer `organisation` only asks: the invitation waits, with
    no link, for `invitation_approve` by someone else (and the token returned is ""). So does
    an invitation to the inviter's own address, whoever they are: nobody gives a role to
    themselves alone (`invitation_approve` refuses both the one who asked and the invitee). So
    does every invitation to a role that governs the service (`selectors.SERVICE_WIDE_ROLES`),
    whoever asks: only another system administrator approves it.
    """
    email = email.strip().lower()
    _check_role_fits(organisation, role)
    if Membership.objects.filter(
        user__email__iexact=email, organisation=organisation, role=role, is_active=True
    ).exists():
        raise ValidationError({"email": "This person already has that role in this organisation"})
    needs_approval = by is not None and (
        by.email.lower() == email
        or not administers(by, organisation)
        # Administering the service operator is not enough to make a system administrator or
        # a data-protection officer: two such addresses would approve each other's invitations
        # anywhere (threat 31).
        or role in SERVICE_WIDE_ROLES
    )
    invitation = Invitation.objects.create(
        email=email,
        organisation=organisation,
        role=role,
        # Until approved, a hash of a token nobody was given.
        token_hash=hash_token(secrets.token_urlsafe(32)),
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        needs_approval=needs_approval,
    )
    audit_record(
        by=by,
        action="invitation.created",
        obj=invitation,
        organisation=organisation,
        detail={"email": email, "role": role, "needs_approval": needs_approval},
    )
    token = "" if needs_approval else _send_invitation(invitation, by)
    return invitation, token


@transaction.atomic
def invitation_approve(*, by: User, invitation: Invitation) -> str:
    """Approve an invitation that waits: by an administrator of the organisation, or by another
    system administrator; never by the one who asked, nor by the invitee. One to a role that
    governs the service (`selectors.SERVICE_WIDE_ROLES`) only by another system administrator.
    Sends the link and returns its token."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.waiting_for_approval or locked.accepted_at or locked.revoked_at:
        raise ValidationError("This invitation is not waiting for approval")
    if locked.invited_by_id == by.pk:
        raise ValidationError(
            "You asked for this invitation, so someone else must approve it: an administrator "
            f"of {locked.organisation.name} or another system administrator"
        )
    if by.email.lower() == locked.email.lower():
        raise ValidationError("You cannot approve an invitation for yourself")
    if locked.role in SERVICE_WIDE_ROLES and not _is_system_admin(by):
        raise ValidationError(
            f"Only another system administrator can approve an invitation as "
            f"{locked.get_role_display().lower()}: the role reaches every organisation"
        )
    if not (administers(by, locked.organisation) or _is_system_admin(by)):
        raise ValidationError(
            f"Only an administrator of {locked.organisation.name} or a system administrator "
            "can approve this invitation"
        )
    inviter = locked.invited_by
    if inviter is not None and not _may_ask(inviter, locked.organisation):
        # Its acceptance would be refused (`_refuse_unvouched`): approving it would e-mail the
        # invitee a link that cannot work.
        raise ValidationError(
            f"{inviter.full_name}, who asked for this invitation, no longer manages access for "
            f"{locked.organisation.name}, so it can no longer give a role. Withdraw it, and send "
            "a new invitation if the person still needs the role"
        )
    locked.approved_by = by
    locked.approved_at = timezone.now()
    locked.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
    locked.save(update_fields=["approved_by", "approved_at", "expires_at"])
    token = _send_invitation(locked, by)
    audit_record(
        by=by,
        action="invitation.approved",
        obj=locked,
        organisation=locked.organisation,
        detail={"email": locked.email, "role": locked.role},
    )
    return token


@transaction.atomic
def invitation_revoke(*, by: User, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        by=by, action="invitation.revoked", obj=invitation, organisation=invitation.organisation
    )


def _may_ask(user: User, organisation: Organisation) -> bool:
    """The standing with which someone asks for, or approves, an invitation that waits for
    approval: administrator of the organisation, or system administrator (the same rule, in
    SQL, marks the members page's invitations: `selectors.pending_invitations`)."""
    return administers(user, organisation) or _is_system_admin(user)


def _refuse_unvouched(invitation: Invitation) -> None:
    """An invitation gives a role only while those whose word it rests on could still give it:
    its inviter still an administrator of the organisation (`administers`, as when it was sent).
    One that waited for approval rests on two people's word, so both must still hold the standing
    they acted with (administrator there, or system administrator). One to a role that governs
    the service must have waited, and its approver must still be a system administrator (so one
    sent on one person's word before that was asked does not work). The command line's
    invitation of the first system administrator (no inviter) rests on nobody's."""
    inviter, organisation = invitation.invited_by, invitation.organisation
    if inviter is None:
        return
    if invitation.role in SERVICE_WIDE_ROLES:
        approver = invitation.approved_by
        vouched = (
            invitation.needs_approval
            and approver is not None
            and _may_ask(inviter, organisation)
            and _is_system_admin(approver)
        )
    elif invitation.needs_approval:
        approver = invitation.approved_by
        vouched = (
            approver is not None
            and _may_ask(inviter, organisation)
            and _may_ask(approver, organisation)
        )
    else:
        vouched = administers(inviter, organisation)
    if not vouched:
        raise ValidationError(
            "This invitation was sent by someone who no longer manages access for "
            f"{organisation.name}: ask an administrator of {organisation.name} for a new one"
        )


def _open_invitations_locked(membership: Membership) -> list[Invitation]:
    """Every invitation still open for the member to the membership's organisation, whatever
    its role, locked. Matched by address as invitations are (ignoring case)."""
    return list(
        Invitation.objects.select_for_update().filter(
            email__iexact=membership.user.email,
            organisation=membership.organisation,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        )
    )


def _join(invitation: Invitation, user: User) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user,
        organisation=invitation.organisation,
        role=invitation.role,
        defaults={"is_active": True},
    )
    if not created and not membership.is_active:
        # An invitation sent before the access was taken away does not give it back (those still
        # open are withdrawn then, `membership_set_active`); only one sent since may.
        if AuditEvent.objects.filter(
            action="membership.deactivated",
            object_type=stored_label(membership),
            object_id=str(membership.pk),
            at__gte=invitation.created_at,
        ).exists():
            raise ValidationError(
                "This invitation was withdrawn when your access was removed: ask an "
                f"administrator of {invitation.organisation.name} for a new invitation"
            )
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _sync_admin_site_access(user)
    return membership


# What other apps end when a membership is taken away or changes role, registered from their own
# AppConfig.ready (accounts imports none of them; ADR 20): accommodation ends the address grants
# held through it (ADR 18) and a safe-house manager's site assignments (ADR 16); the API revokes
# the member's tokens in the organisation (threat 15), so that giving the access or the role
# back does not bring them back.
# Each is given the acting user and the membership as now saved (inside the service's
# transaction) and says how many of what it ended, for the service's audit event. A list rather
# than a function to register with: that would be taken for one of this app's services.
MembershipChanged = Callable[[User, Membership], dict[str, int]]

MEMBERSHIP_CHANGED: list[MembershipChanged] = []


def _ended_with(by: User, membership: Membership) -> dict[str, int]:
    """Run every registered ender on a membership just taken away or given another role."""
    ended: dict[str, int] = {}
    for ender in MEMBERSHIP_CHANGED:
        for what, number in ender(by, membership).items():
            if number:
                ended[what] = ended.get(what, 0) + number
    return ended


def _sync_admin_site_access(user: User) -> None:
    """Django's admin site needs is_staff; only an active system administrator has it.

    Derived from memberships every time one changes, so it can never drift from the role.
    """
    is_system_admin = _is_system_admin(user)
    if user.is_staff != is_system_admin or user.is_superuser != is_system_admin:
        user.is_staff = user.is_superuser = is_system_admin
        user.save(update_fields=["is_staff", "is_superuser"])


@transaction.atomic
def invitation_accept_as_new_user(*, invitation: Invitation, full_name: str, password: str) -> User:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at or locked.revoked_at:
        raise ValidationError("This invitation has already been used")
    _refuse_unvouched(locked)
    if User.objects.filter(email__iexact=locked.email).exists():
        raise ValidationError("An account with this e-mail address exists: sign in to accept")
    user = User.objects.create_user(email=locked.email, password=password, full_name=full_name)
    membership = _join(locked, user)
    audit_record(
        by=user,
        action="invitation.accepted",
        obj=membership,
        organisation=locked.organisation,
        detail={"role": locked.role, "new_account": True},
    )
    return user


@transaction.atomic
def invitation_accept_as_existing_user(*, invitation: Invitation, user: User) -> Membership:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at or locked.revoked_at:
        raise ValidationError("This invitation has already been used")
    if locked.email.lower() != user.email.lower():
        raise ValidationError("This invitation was sent to a different e-mail address")
    _refuse_unvouched(locked)
    membership = _join(locked, user)
    audit_record(
        by=user,
        action="invitation.accepted",
        obj=membership,
        organisation=locked.organisation,
        detail={"role": locked.role, "new_account": False},
    )
    return membership


@transaction.atomic
def membership_change_role(*, by: User, membership: Membership, role: Role) -> Membership:
    # Whatever the role is now or becomes: changing one's own role is giving oneself a role.
    if membership.user_id == by.pk:
        raise ValidationError(
            {"role": "You cannot change your own role: another administrator must change it"}
        )
    _refuse_lone_grant(by, membership.organisation)
    _check_role_fits(membership.organisation, role)
    if role == membership.role:
        # Nothing to change: recording a change, or withdrawing the invitations still open for
        # them (a promotion not yet accepted), would act on a button pressed with the role as
        # it was, or a stale page.
        raise ValidationError({"role": "They already have this role"})
    _refuse_service_wide(role, f"make someone {Role(role).label.lower()} by changing their role")
    if (
        Membership.objects.filter(
            user=membership.user, organisation=membership.organisation, role=role
        )
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError({"role": "This person already has that role in this organisation"})
    # Locked before the audit event, withdrawn after (as in `membership_set_active`): a second
    # link for the old role, or any other, would otherwise undo the change.
    left_open = _open_invitations_locked(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _sync_admin_site_access(membership.user)
    # What the old role held ends here: changing the role back does not bring it back.
    ended = _ended_with(by, membership)
    audit_record(
        by=by,
        action="membership.role_changed",
        obj=membership,
        organisation=membership.organisation,
        detail={"from": previous, "to": role, "user": membership.user.email, **ended},
    )
    for invitation in left_open:
        invitation_revoke(by=by, invitation=invitation)
    return membership


@transaction.atomic
def membership_set_active(*, by: User, membership: Membership, active: bool) -> Membership:
    """Give a membership back or take it away. Taking it away also withdraws the invitations
    still open for that person to that organisation, in any role, so none of them brings it (or
    another role) back, and ends what other apps hold through the membership
    (`MEMBERSHIP_CHANGED`: address grants, a safe-house manager's site assignments, the
    member's API tokens there). A membership in a role that governs the service
    (`selectors.SERVICE_WIDE_ROLES`) is given back only by an invitation that another system
    administrator approves."""
    if membership.user_id == by.pk and not active:
        raise ValidationError("You cannot remove your own access")
    if membership.user_id == by.pk and active:
        raise ValidationError(
            "You cannot give your own access back: another administrator must give it back"
        )
    if active:
        # Giving access back is giving a role; taking it away never needs a second person.
        _refuse_lone_grant(by, membership.organisation)
        _refuse_service_wide(membership.role, "give this access back yourself")
    # Locked before any audit event is written (see `audit_record`), withdrawn after.
    left_open = [] if active else _open_invitations_locked(membership)
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    if not active:
        # A reset link sent before is withdrawn for good: giving the access back, perhaps the
        # same day, does not bring back a link that may have been taken from the mailbox.
        SignInReset.objects.filter(
            user=membership.user, used_at__isnull=True, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now())
    _sync_admin_site_access(membership.user)
    # What the membership held ends with it (address grants): giving the access back does not
    # bring it back. Ended before the audit event is written (see `audit_record`).
    ended = {} if active else _ended_with(by, membership)
    audit_record(
        by=by,
        action="membership.reactivated" if active else "membership.deactivated",
        obj=membership,
        organisation=membership.organisation,
        detail={"user": membership.user.email, "role": membership.role, **ended},
    )
    for invitation in left_open:
        invitation_revoke(by=by, invitation=invitation)
    return membership


# --- Signing in and two-factor ----------------------------------------------------------------


@transaction.atomic
def user_sign_in(*, request: HttpRequest, user: User) -> None:
    """Password accepted: start the session. Two-factor comes next (AccessMiddleware sends them)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    audit_record(by=user, action="auth.password_accepted", obj=user)


def user_sign_in_failed(*, email: str, locked_out: bool, throttled: bool = False) -> None:
    """A refused sign-in: a wrong password, a client locked out of the account, or an attempt
    refused unchecked while the account is throttled (`selectors.sign_in_wait`)."""
    if throttled:
        action = "auth.sign_in_throttled"
    else:
        action = "auth.locked_out" if locked_out else "auth.sign_in_failed"
    audit_record(
        by=None,
        action=action,
        detail={"email": email[:254]},
    )


@transaction.atomic
def user_sign_out(*, request: HttpRequest, reason: str = "requested") -> None:
    user = request.user
    if user.is_authenticated:
        audit_record(by=user, action="auth.signed_out", obj=user, detail={"reason": reason})
    logout(request)


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up for this user (made once, reused on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    # django-otp doubles the wait after each wrong code; a code entered too soon is not checked.
    TOO_SOON = "too_soon"


def _check(device: TOTPDevice, token: str) -> CodeCheck:
    allowed, _detail = device.verify_is_allowed()
    if not allowed:
        return CodeCheck.TOO_SOON
    return CodeCheck.ACCEPTED if device.verify_token(token) else CodeCheck.WRONG


def _passed_two_factor(request: HttpRequest, device: TOTPDevice) -> None:
    """Mark the session as past two-factor, under a new session key: a key someone learnt before
    the second factor (fixed in the browser, or seen on the way) opens nothing after it."""
    otp_login(request, device)
    request.session.cycle_key()


@transaction.atomic
def totp_device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> CodeCheck:
    """Check the first code from a new authenticator; on success it becomes the user's device."""
    result = _check(device, token)
    if result is not CodeCheck.ACCEPTED:
        return result
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _passed_two_factor(request, device)
    audit_record(by=device.user, action="auth.two_factor_enrolled", obj=device.user)
    return result


@transaction.atomic
def two_factor_verify(*, request: HttpRequest, token: str) -> CodeCheck:
    user = request.user
    assert isinstance(user, User), "two-factor comes after the password"  # noqa: S101
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    result = _check(device, token) if device else CodeCheck.WRONG
    if result is CodeCheck.ACCEPTED:
        _passed_two_factor(request, device)
        audit_record(by=user, action="auth.two_factor_passed", obj=user)
    else:
        audit_record(
            by=user, action="auth.two_factor_failed", obj=user, detail={"reason": result.value}
        )
    return result


def totp_secret_base32(device: TOTPDevice) -> str:
    """The key as the letters a person types into an authenticator app when they cannot scan."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


# --- A lost password or authenticator ---------------------------------------------------------

# Long enough to be read the next working morning, short enough that a forgotten e-mail is not a
# standing way in.
SIGN_IN_RESET_VALID = timedelta(hours=24)


@transaction.atomic
def sign_in_reset_send(*, by: User, membership: Membership) -> SignInReset:
    """E-mail the person a single-use link to choose a new password and set up two-factor again.

    For whoever has lost their password or the phone with their authenticator app. Sent by a
    system administrator, or by an organisation administrator whose organisations hold every
    role the person has (`selectors.may_reset`), never for oneself; the link goes only to the person's own address, so the sender never holds it.
    Their password and authenticator keep working until the link is used; an earlier unused
    link stops working."""
    person = membership.user
    if person.pk == by.pk:
        raise ValidationError(
            "You cannot reset your own sign-in: ask another administrator to send you a link"
        )
    if not membership.is_active:
        raise ValidationError(
            f"{person.full_name} no longer has access as "
            f"{membership.get_role_display().lower()}: give the access back first"
        )
    if not may_reset(by, person):
        raise ValidationError(
            f"{person.full_name} also has a role outside the organisations you administer: a "
            "system administrator must send them a link"
            if administers(by, membership.organisation)
            else f"Only an administrator of {membership.organisation.name} can reset sign-in there"
        )
    now = timezone.now()
    withdrawn = SignInReset.objects.filter(
        user=person, used_at__isnull=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
    token = secrets.token_urlsafe(32)
    reset = SignInReset.objects.create(
        user=person, token_hash=hash_token(token), sent_by=by, expires_at=now + SIGN_IN_RESET_VALID
    )
    link = settings.SITE_URL + reverse("accounts:sign_in_reset", args=[token])
    body = render_to_string(
        "accounts/email/sign_in_reset.txt",
        {"person": person, "sender": by, "organisation": membership.organisation, "link": link},
    )
    email = person.email
    transaction.on_commit(
        lambda: send_mail(
            subject="Reset how you sign in to OpenNRM",
            message=body,
            from_email=None,
            recipient_list=[email],
        )
    )
    audit_record(
        by=by,
        action="auth.sign_in_reset_sent",
        obj=person,
        organisation=membership.organisation,
        detail={"user": email, "earlier_links_withdrawn": withdrawn},
    )
    return reset


@transaction.atomic
def sign_in_reset_use(*, reset: SignInReset, password: str) -> User:
    """Set the new password and remove the person's authenticators, so that their next sign-in
    sets one up again. Changing the password ends every session the account had; the failed
    sign-ins recorded against the account (perhaps the person's own, trying old passwords) are
    cleared, so the lockout does not refuse the new password."""
    locked = SignInReset.objects.select_for_update().get(pk=reset.pk)
    if (
        locked.used_at
        or locked.withdrawn_at
        or locked.expires_at <= timezone.now()
        or not may_reset(locked.sent_by, locked.user)
    ):
        raise ValidationError(
            "This link has been used, replaced by a newer one or has expired: ask your "
            "organisation's administrator for a new one"
        )
    person = locked.user
    person.set_password(password)
    person.save(update_fields=["password"])
    removed, _ = TOTPDevice.objects.filter(user=person).delete()
    locked.used_at = timezone.now()
    locked.save(update_fields=["used_at"])
    AccessAttempt.objects.filter(username__iexact=person.email).delete()
    audit_record(
        by=person,
        action="auth.sign_in_reset_used",
        obj=person,
        detail={"authenticators_removed": removed},
    )
    return person
