from __future__ import annotations

from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import access, devices, selectors, services
from .actor import actor_of
from .forms import (
    AcceptInvitationForm,
    CodeForm,
    InviteForm,
    MembershipRoleForm,
    NewPasswordForm,
    OrganisationForm,
    SignInForm,
)
from .middleware import in_use
from .models import User
from .roles import Jurisdiction, OrganisationKind, Role


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def _form_error(form: Any, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form so the page shows it in place."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Signing in -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and access.two_factor_passed(_user(request)):
        return redirect(_next_url(request))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        # A client locked out of this account is told so (below); any other waits its turn.
        locked = AxesProxyHandler.is_locked(request, credentials={"email": email})
        # A browser the owner has signed in from is not held back by strangers' failures.
        wait = 0 if locked or devices.known(request, email) else selectors.sign_in_wait(email)
        if wait:
            # Refused before the password is checked, so a throttled attempt tells nothing.
            services.user_sign_in_failed(email=email, locked_out=False, throttled=True)
            form.add_error(
                None,
                "There have been too many attempts to sign in to this account. "
                f"Wait {wait} second{'s' if wait != 1 else ''}, then try again",
            )
            response = render(
                request,
                "accounts/sign_in.html",
                {"title": "Sign in", "form": form, "next": _next_url(request)},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        user = authenticate(request, email=email, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            services.user_sign_in_failed(email=email, locked_out=True)
            return locked_out(request)
        if user is not None and user.is_demo_account and not settings.DEMO:
            services.user_sign_in_failed(email=email, locked_out=False)
            form.add_error(None, "Demonstration accounts cannot be used on this service")
        elif user is None:
            services.user_sign_in_failed(email=email, locked_out=False)
            devices.failed(request)
            form.add_error(None, "Enter a correct email address and password")
        else:
            services.user_sign_in(request=request, user=user)
            if access.two_factor_passed(user):
                return redirect(_next_url(request))
            # Encoded, so a next address's own query string survives the two-factor step.
            return redirect(f"{_two_factor_route(user)}?{urlencode({'next': _next_url(request)})}")
    return render(
        request,
        "accounts/sign_in.html",
        {"title": "Sign in", "form": form, "next": _next_url(request)},
    )


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Shown (with 429) once an account has too many failed sign-ins; also axes' lockout page."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/locked_out.html",
        {"title": "Your account is locked", "minutes": minutes},
        status=429,
    )


CODE_ERRORS = {
    services.CodeCheck.WRONG: "The security code is not correct or has expired. "
    "Enter the newest code your app shows",
    services.CodeCheck.TOO_SOON: "You have entered a wrong code. Wait a few seconds, "
    "then enter the newest code your app shows",
}


def _two_factor_route(user: User) -> str:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return reverse("accounts:two_factor_verify")
    return reverse("accounts:two_factor_setup")


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if access.two_factor_passed(user):
        return redirect(_next_url(request))
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.two_factor_verify(request=request, token=form.cleaned_data["code"])
        if result is services.CodeCheck.ACCEPTED:
            response = redirect(_next_url(request))
            devices.remember(response, user.email)
            return response
        form.add_error("code", CODE_ERRORS[result])
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"title": "Enter your security code", "form": form, "next": _next_url(request)},
    )


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if access.two_factor_passed(user):
        return redirect("pages:home")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:two_factor_verify")
    device = services.totp_device_pending(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.totp_device_confirm(
            request=request, device=device, token=form.cleaned_data["code"]
        )
        if result is services.CodeCheck.ACCEPTED:
            messages.success(request, "Two-factor authentication is set up for your account")
            response = redirect(_next_url(request))
            devices.remember(response, user.email)
            return response
        form.add_error("code", CODE_ERRORS[result])
    secret = services.totp_secret_base32(device)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "title": "Set up two-factor authentication",
            "form": form,
            "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "next": _next_url(request),
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """A POST with the page's CSRF token: a link or an image on another site cannot sign anyone
    out (nor can a browser prefetching the link)."""
    services.user_sign_out(request=request)
    messages.success(request, "You have signed out")
    return redirect("accounts:sign_in")


@require_http_methods(["GET", "POST"])
def signed_out_idle(request: HttpRequest) -> HttpResponse:
    """A tab's timeout warning POSTs here when its time is up. Tabs share their last activity
    (app.mjs), but if one still asks while the session has been used recently in another, the
    session stays and the tab goes back to its page. GET only explains, and never signs out."""
    if request.method == "POST":
        if request.user.is_authenticated and in_use(request):
            return redirect(_next_url(request))
        services.user_sign_out(request=request, reason="idle")
        return redirect("accounts:signed_out_idle")
    if request.user.is_authenticated:
        return redirect("pages:home")
    return render(request, "accounts/signed_out_idle.html", {"title": "You have been signed out"})


@require_POST
def keep_alive(request: HttpRequest) -> HttpResponse:
    # The session is saved on every request, so reaching here is what extends it.
    return HttpResponse(status=204)


# --- Organisations, members and invitations --------------------------------------------------


@require_safe
def organisation_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(
        request,
        "accounts/organisation_list.html",
        {
            "title": "Organisations and users",
            "organisations": selectors.organisations_administered_by(actor),
            "can_create": Role.SYSTEM_ADMIN in actor.roles,
        },
    )


@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(
                by=_user(request),
                name=form.cleaned_data["name"],
                kind=OrganisationKind(form.cleaned_data["kind"]),
                jurisdiction=Jurisdiction(form.cleaned_data["jurisdiction"]),
                area=form.cleaned_data["area"],
            )
        except ValidationError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"{organisation.name} has been added")
            return redirect("accounts:member_list", organisation.pk)
    return render(
        request, "accounts/organisation_create.html", {"title": "Add an organisation", "form": form}
    )


@require_safe
def member_list(request: HttpRequest, organisation_id: int) -> HttpResponse:
    actor = actor_of(request)
    organisation = selectors.organisation_get_for_admin(actor, organisation_id)
    return render(
        request,
        "accounts/member_list.html",
        {
            "title": organisation.name,
            "organisation": organisation,
            "members": selectors.members_of(organisation),
            "invitations": selectors.pending_invitations(organisation),
            # Only a system administrator approves an invitation to these: the Approve button
            # is not offered to anyone else (`services.invitation_approve` refuses them).
            "system_admins_approve": selectors.SERVICE_WIDE_ROLES,
            "is_system_admin": Role.SYSTEM_ADMIN in actor.roles,
        },
    )


@require_http_methods(["GET", "POST"])
def member_invite(request: HttpRequest, organisation_id: int) -> HttpResponse:
    user = _user(request)
    organisation = selectors.organisation_get_for_admin(actor_of(request), organisation_id)
    form = InviteForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                by=user,
                organisation=organisation,
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
            )
        except ValidationError as error:
            _form_error(form, error)
        else:
            if invitation.waiting_for_approval:
                approvers = (
                    "another system administrator"
                    if invitation.role in selectors.SERVICE_WIDE_ROLES
                    else f"an administrator of {organisation.name} or another system administrator"
                )
                messages.success(
                    request,
                    f"The invitation to {invitation.email} waits for approval by {approvers}",
                )
            else:
                messages.success(request, f"An invitation has been sent to {invitation.email}")
            return redirect("accounts:member_list", organisation.pk)
    return render(
        request,
        "accounts/member_invite.html",
        {"title": "Invite a user", "form": form, "organisation": organisation},
    )


@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    user = _user(request)
    invitation = selectors.invitation_get_for_admin(actor_of(request), invitation_id)
    services.invitation_revoke(by=user, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} has been withdrawn")
    return redirect("accounts:member_list", invitation.organisation_id)


@require_POST
def invitation_approve(request: HttpRequest, invitation_id: int) -> HttpResponse:
    user = _user(request)
    invitation = selectors.invitation_get_for_admin(actor_of(request), invitation_id)
    try:
        services.invitation_approve(by=user, invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"An invitation has been sent to {invitation.email}")
    return redirect("accounts:member_list", invitation.organisation_id)


@require_http_methods(["GET", "POST"])
def membership_edit(request: HttpRequest, membership_id: int) -> HttpResponse:
    user = _user(request)
    membership = selectors.membership_get_for_admin(actor_of(request), membership_id)
    action = request.POST.get("action")
    # Bound on every POST (with the current role for the access buttons), so a refusal from the
    # service can be shown in the page's error summary.
    form = MembershipRoleForm(
        (request.POST if action == "role" else {"role": membership.role})
        if request.method == "POST"
        else None,
        organisation=membership.organisation,
        initial={"role": membership.role},
    )
    if request.method == "POST":
        try:
            if action == "role" and form.is_valid():
                services.membership_change_role(
                    by=user, membership=membership, role=Role(form.cleaned_data["role"])
                )
                messages.success(request, f"{membership.user.full_name}'s role has been changed")
                return redirect("accounts:member_list", membership.organisation_id)
            if action in ("deactivate", "reactivate"):
                services.membership_set_active(
                    by=user, membership=membership, active=action == "reactivate"
                )
                messages.success(
                    request,
                    f"{membership.user.full_name} can "
                    f"{'now' if action == 'reactivate' else 'no longer'} use OpenNRM "
                    f"as {membership.get_role_display().lower()} of {membership.organisation.name}",
                )
                return redirect("accounts:member_list", membership.organisation_id)
            if action == "reset_sign_in":
                services.sign_in_reset_send(by=user, membership=membership)
                messages.success(
                    request,
                    f"A link to choose a new password and set up an authenticator app again has "
                    f"been sent to {membership.user.email}. It works once, for 24 hours",
                )
                return redirect("accounts:member_list", membership.organisation_id)
        except ValidationError as error:
            _form_error(form, error)
    return render(
        request,
        "accounts/membership_edit.html",
        {
            "title": f"Change {membership.user.full_name}'s access",
            "form": form,
            "membership": membership,
            # Given back only by an invitation another system administrator approves
            # (`services.membership_set_active`): no button that would be refused.
            "given_back_by_invitation": membership.role in selectors.SERVICE_WIDE_ROLES,
        },
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_get_by_token_hash(services.hash_token(token))
    if invitation is None:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"title": "This invitation link is not valid"},
            status=404,
        )
    context: dict[str, Any] = {"title": "Accept your invitation", "invitation": invitation}
    if selectors.account_exists(invitation.email):
        user = _user(request)
        signed_in_as_invitee = (
            user.is_authenticated
            and access.two_factor_passed(user)
            and user.email.lower() == invitation.email.lower()
        )
        if request.method == "POST" and signed_in_as_invitee:
            try:
                services.invitation_accept_as_existing_user(invitation=invitation, user=user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return render(
                    request,
                    "accounts/invitation_invalid.html",
                    {"title": "This invitation link is not valid"},
                    status=409,
                )
            messages.success(request, f"You have joined {invitation.organisation.name}")
            return redirect("pages:home")
        context["signed_in_as_invitee"] = signed_in_as_invitee
        return render(request, "accounts/invitation_existing.html", context)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            new_user = services.invitation_accept_as_new_user(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            _form_error(form, error)
        else:
            services.user_sign_in(request=request, user=new_user)
            return redirect("accounts:two_factor_setup")
    context["form"] = form
    return render(request, "accounts/invitation_accept.html", context)


@require_http_methods(["GET", "POST"])
def sign_in_reset(request: HttpRequest, token: str) -> HttpResponse:
    """A lost password or authenticator: choose a new password, then sign in and set up
    two-factor again (`services.sign_in_reset_use`)."""
    reset = selectors.sign_in_reset_by_token_hash(services.hash_token(token))
    if reset is None:
        return render(
            request,
            "accounts/sign_in_reset_invalid.html",
            {"title": "This link is not valid"},
            status=404,
        )
    form = NewPasswordForm(
        request.POST or None, email=reset.user.email, full_name=reset.user.full_name
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_in_reset_use(reset=reset, password=form.cleaned_data["password"])
        except ValidationError as error:
            _form_error(form, error)
        else:
            # Whoever was signed in on this browser (the person or not) signs in afresh.
            services.user_sign_out(request=request, reason="sign_in_reset")
            messages.success(
                request,
                "Your new password is saved. Sign in with it, then set up your authenticator "
                "app again",
            )
            return redirect("accounts:sign_in")
    return render(
        request,
        "accounts/sign_in_reset.html",
        {"title": "Choose a new password", "form": form, "person": reset.user},
    )
