"""Forms of a case's contacts and of consent to share: they turn input into clean, typed values,
with a message naming each field that is not right, and never save."""

from __future__ import annotations

from typing import Any

from django import forms

from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.text import LinesField

from .checks import address_refusal, phone_problem, reference_problem
from .models import ADDRESS_ALLOWED, AgencyKind, CaseContacts, LocationType, police_forces
from .selectors import CHILD_ONLY_FIELDS

PHONE_HINT = "For example 01632 960 001 or +44 7700 900 982"


def _text(
    label: str, limit: int, *, hint: str = "", lines: bool = False, **kwargs: Any
) -> forms.CharField:
    return (LinesField if lines else forms.CharField)(
        label=label,
        help_text=hint,
        required=False,
        max_length=limit,
        error_messages={
            "max_length": f"{label.removesuffix(' (optional)')} must be {limit} characters or fewer"
        },
        **kwargs,
    )


class ContactsForm(forms.Form):
    referrer_phone = _text("Referrer's phone number (optional)", 40, hint=PHONE_HINT)
    referrer_out_of_hours = _text(
        "Out-of-hours contact (optional)",
        200,
        hint="Who to call outside office hours, and how: for example a force control room",
    )
    police_force = forms.ChoiceField(
        label="Police force (optional)",
        required=False,
        error_messages={"invalid_choice": "Select the police force from the list"},
    )
    crime_reference = _text(
        "Crime reference (optional)", 40, hint="As the force wrote it, for example 13/45678/26"
    )
    home_office_reference = _text("Home Office reference (optional)", 40)
    social_worker_name = _text("Social worker's name (optional)", 200)
    social_worker_local_authority = _text("Social worker's local authority (optional)", 200)
    social_worker_phone = _text("Social worker's phone number (optional)", 40, hint=PHONE_HINT)
    social_worker_email = forms.EmailField(
        label="Social worker's email address (optional)",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter the social worker's email address in the right format, like "
            "name@example.gov.uk",
            "max_length": "The social worker's email address must be 254 characters or fewer",
        },
    )
    guardian_name = _text("Guardian's name (optional)", 200)
    guardian_service = _text(
        "Guardian's service (optional)",
        200,
        hint="The independent child trafficking guardian service they work for",
    )
    guardian_phone = _text("Guardian's phone number (optional)", 40, hint=PHONE_HINT)
    location_type = forms.ChoiceField(
        label="Where is the person staying now?",
        required=False,
        choices=LocationType.choices,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Select where the person is staying now from the list",
        },
    )
    location_address = _text(
        "Address (optional)",
        500,
        hint="Only if they are with family or friends, in detention, in hospital or somewhere "
        "else, and someone may need to find them there. Never a safe house's address. Anyone "
        "who may open the case can see it, and every time it is shown is recorded.",
        widget=forms.Textarea(attrs={"rows": 3}),
        lines=True,
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, child: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        self.fields["police_force"].choices = [  # type: ignore[attr-defined]
            ("", "Not known or none yet"),
            *police_forces().items(),
        ]
        if not child:
            for name in CHILD_ONLY_FIELDS:
                del self.fields[name]

    @staticmethod
    def data_for(contacts: CaseContacts | None) -> dict[str, Any]:
        """The form's data from what is stored, to show it for changing."""
        if contacts is None:
            return {"expected_version": 1}  # the version the first save makes
        data = {
            name: getattr(contacts, name)
            for name in ContactsForm.base_fields
            if name != "expected_version"
        }
        data["expected_version"] = contacts.version
        return data

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, label in (
            ("referrer_phone", "The referrer's phone number"),
            ("social_worker_phone", "The social worker's phone number"),
            ("guardian_phone", "The guardian's phone number"),
        ):
            if name in self.fields and name not in self.errors:
                problem = phone_problem(data.get(name) or "", label)
                if problem:
                    self.add_error(name, problem)
        for name, label in (
            ("crime_reference", "The crime reference"),
            ("home_office_reference", "The Home Office reference"),
        ):
            if name not in self.errors:
                problem = reference_problem(data.get(name) or "", label, 40)
                if problem:
                    self.add_error(name, problem)
        location = data.get("location_type") or ""
        if (data.get("location_address") or "").strip() and location not in ADDRESS_ALLOWED:
            self.add_error("location_address", address_refusal(location))
        return data

    def values(self) -> dict[str, Any]:
        """The values for `services.case_contacts_update`: only the fields this form asks."""
        return {
            name: self.cleaned_data.get(name) or ""
            for name in self.fields
            if name != "expected_version"
        }


class ConsentForm(forms.Form):
    agency_kind = forms.ChoiceField(
        label="What kind of agency?",
        choices=AgencyKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the kind of agency",
            "invalid_choice": "Select the kind of agency",
        },
    )
    agency_name = forms.CharField(
        label="Name of the agency",
        help_text="For example Northmoor Constabulary, or the person's GP surgery",
        max_length=200,
        error_messages={
            "required": "Enter the name of the agency",
            "max_length": "The agency's name must be 200 characters or fewer",
        },
    )
    consent_given = forms.ChoiceField(
        label="Does the person agree to their details being shared with this agency?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select whether the person agrees to their details being shared",
            "invalid_choice": "Select whether the person agrees to their details being shared",
        },
    )
    given_on = forms.CharField(
        label="When did they answer?", help_text="For example, 27 3 2026", required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["given_on"] = date_from_parts(self, "given_on", "The date they answered")
        if data["given_on"] is None and "given_on" not in self.errors:
            self.add_error("given_on", "Enter the date they answered")
        return data
