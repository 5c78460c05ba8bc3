from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from opennrm.lib.govuk_forms import date_from_parts

from .models import ErasureRefusal

REQUEST_REFERENCE = forms.CharField(
    label="Your reference for the request",
    help_text="The reference your office gave the request, for example DPR-2026-0142. "
    "Not the person's name.",
    max_length=60,
    error_messages={
        "required": "Enter your reference for the request",
        "max_length": "The reference must be 60 characters or fewer",
    },
)


class FindPersonForm(forms.Form):
    """Find a person by a case reference, or by their whole name and/or date of birth."""

    reference = forms.CharField(
        label="Case reference",
        help_text="For example, NRM-7K2P-4D9X",
        max_length=20,
        required=False,
    )
    name = forms.CharField(
        label="Whole name",
        help_text="Given names and family name, exactly as referred. Capitals and accents do not "
        "matter.",
        max_length=400,
        required=False,
    )
    # Entered as three boxes (date_of_birth_day, _month, _year); this field carries their error.
    date_of_birth = forms.CharField(label="Date of birth", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["date_of_birth"] = date_from_parts(self, "date_of_birth", "Date of birth")
        if self.errors:
            return data
        if not (data.get("reference") or data.get("name") or data["date_of_birth"]):
            self.add_error(
                "reference", "Enter a case reference, or a whole name or date of birth to search"
            )
        return data

    @property
    def searched_by(self) -> str:
        data = self.cleaned_data
        if data.get("reference"):
            return "reference"
        return "+".join(part for part in ("name", "date_of_birth") if data.get(part))


class ExportForm(forms.Form):
    request_reference = REQUEST_REFERENCE
    format = forms.ChoiceField(
        label="Format",
        choices=[
            ("html", "A page to read and print"),
            ("json", "A JSON file, for a machine or another system"),
        ],
        error_messages={"required": "Select a format", "invalid_choice": "Select a format"},
    )


class EraseForm(forms.Form):
    request_reference = REQUEST_REFERENCE
    # Entered as three boxes (request_received_on_day, _month, _year).
    request_received_on = forms.CharField(
        label="When the request was received", help_text="For example, 27 3 2026", required=False
    )
    confirm = forms.BooleanField(
        label="I have checked that the law allows these details to be erased, and I understand "
        "that they cannot be brought back",
        error_messages={"required": "Confirm that the details may be erased"},
    )

    def __init__(self, *args: Any, confirm: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # While the law needs the details (a case open), the request is recorded to be refused:
        # there is nothing to confirm.
        if not confirm:
            del self.fields["confirm"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        received = date_from_parts(self, "request_received_on", "When the request was received")
        if received is None and "request_received_on" not in self.errors:
            self.add_error("request_received_on", "Enter the date the request was received")
        elif received is not None and received > timezone.localdate():
            self.add_error(
                "request_received_on", "The date the request was received must be today or earlier"
            )
        data["request_received_on"] = received
        return data

    @property
    def received_on(self) -> date:
        value: date = self.cleaned_data["request_received_on"]
        return value


class ApproveErasureForm(forms.Form):
    """Nothing to fill in: the button. It carries the refusal when the erasure is refused."""


class RefuseErasureForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the request refused?",
        choices=ErasureRefusal.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why the request is refused",
            "invalid_choice": "Select why the request is refused",
        },
    )


class PersonReadsForm(forms.Form):
    reference = forms.CharField(
        label="Case reference",
        help_text="For example, NRM-7K2P-4D9X",
        max_length=20,
        error_messages={"required": "Enter a case reference"},
    )
