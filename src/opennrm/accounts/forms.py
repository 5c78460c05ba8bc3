"""Forms only clean input. Error messages follow the GOV.UK Design System's wording."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from opennrm.lib.text import single_line

from .models import Organisation, User
from .roles import Jurisdiction, OrganisationKind, roles_allowed_in


class SignInForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.org",
        },
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "Enter your password"},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Security code",
        help_text="The 6-digit code shown in your authenticator app",
        error_messages={"required": "Enter the 6-digit security code"},
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].replace(" ", "")
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise ValidationError("Enter the security code as 6 digits, like 123456")
        return code


class OrganisationForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        validators=[single_line("The organisation's name")],
        error_messages={"required": "Enter the organisation's name"},
    )
    kind = forms.ChoiceField(
        label="Kind of organisation",
        choices=OrganisationKind.choices,
        error_messages={"required": "Select the kind of organisation"},
    )
    jurisdiction = forms.ChoiceField(
        label="Jurisdiction",
        choices=Jurisdiction.choices,
        error_messages={"required": "Select the jurisdiction"},
    )
    area = forms.CharField(
        label="Area (optional)",
        help_text="For example the police force area or council it covers",
        max_length=120,
        required=False,
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if Organisation.objects.filter(name__iexact=name).exists():
            raise ValidationError("An organisation with this name already exists")
        return name


class _RoleChoiceMixin:
    """Offers only the roles that fit the organisation's kind."""

    def _limit_roles(self, organisation: Organisation) -> None:
        field = self.fields["role"]  # type: ignore[attr-defined]
        field.choices = [(role.value, role.label) for role in roles_allowed_in(organisation.kind)]


class InviteForm(_RoleChoiceMixin, forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter the email address of the person to invite",
            "invalid": "Enter an email address in the correct format, like name@example.org",
        },
    )
    role = forms.ChoiceField(
        label="Role",
        error_messages={
            "required": "Select a role",
            "invalid_choice": "Select a role from the list",
        },
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_roles(organisation)


class MembershipRoleForm(_RoleChoiceMixin, forms.Form):
    role = forms.ChoiceField(
        label="Role",
        error_messages={
            "required": "Select a role",
            "invalid_choice": "Select a role from the list",
        },
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_roles(organisation)


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label="Create a password",
        help_text="At least 12 characters. Do not use a password you use anywhere else.",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "Create a password"},
    )
    password_again = forms.CharField(
        label="Enter the password again",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "Enter the password again"},
    )

    def __init__(self, *args: Any, email: str, full_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        self.person_name = full_name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The passwords do not match")
        elif password:
            full_name = data.get("full_name", self.person_name)
            try:
                validate_password(password, User(email=self.email, full_name=full_name))
            except ValidationError as error:
                self.add_error("password", error)
        return data


class AcceptInvitationForm(NewPasswordForm):
    full_name = forms.CharField(
        label="Full name", max_length=200, error_messages={"required": "Enter your full name"}
    )

    field_order = ("full_name", "password", "password_again")
