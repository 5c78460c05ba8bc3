from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.iso import country_choices

from .choices import CaseStatus, CloseReason
from .selectors import CaseSearch


class CloseCaseForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the case being closed?",
        choices=CloseReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why the case is being closed",
            "invalid_choice": "Select why the case is being closed",
        },
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, support_running: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if support_running:
            # Not offered while move-on support runs: closing for it would be refused.
            self.fields["reason"].choices = [  # type: ignore[attr-defined]
                (value, label)
                for value, label in CloseReason.choices
                if value != CloseReason.SUPPORT_ENDED
            ]


class CaseSearchForm(forms.Form):
    """Find cases by reference, whole name, date of birth, nationality and status, combined.
    Every value is kept as typed when another is refused."""

    reference = forms.CharField(
        label="Case reference",
        help_text="For example, NRM-7K2P-4D9X",
        max_length=20,
        required=False,
        error_messages={"max_length": "A case reference is 20 characters or fewer"},
    )
    name = forms.CharField(
        label="Whole name",
        help_text="Given names and family name, exactly as they were referred. Capitals, accents "
        "and spaces do not matter; spelling does.",
        max_length=400,
        required=False,
    )
    # Entered as three boxes (date_of_birth_day, _month, _year); this field carries their error.
    date_of_birth = forms.CharField(
        label="Date of birth", help_text="For example, 27 3 2007", required=False
    )
    nationality = forms.ChoiceField(
        label="Nationality",
        choices=[("", "Any nationality"), *country_choices()],
        required=False,
        error_messages={"invalid_choice": "Select a nationality from the list"},
    )
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Any status"), *CaseStatus.choices],
        required=False,
        error_messages={"invalid_choice": "Select a status from the list"},
    )

    def clean_reference(self) -> str:
        return "".join(str(self.cleaned_data.get("reference") or "").split()).upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        born = date_from_parts(self, "date_of_birth", "Date of birth")
        if born is not None and born > timezone.localdate():
            self.add_error("date_of_birth", "Date of birth must be today or in the past")
            born = None
        data["date_of_birth"] = born
        if self.errors:
            return data
        if not any(data.get(name) for name in ("reference", "name", "nationality", "status")) and (
            born is None
        ):
            self.add_error(
                None,
                "Enter a case reference, a whole name or a date of birth, or choose a "
                "nationality or a status",
            )
        return data

    @property
    def search(self) -> CaseSearch:
        data = self.cleaned_data
        return CaseSearch(
            reference=data["reference"],
            name=data["name"].strip(),
            date_of_birth=data["date_of_birth"],
            nationality=data["nationality"],
            status=data["status"],
        )

    @property
    def page_number(self) -> int:
        """The page of results asked for (the pagination's buttons send it); 1 unless it is a
        whole number from 1 to 10,000."""
        raw = str(self.data.get("page") or "")
        # ASCII digits only, and few: "²" is a digit to `isdigit` but not to `int`, and
        # `int` refuses more than 4,300 digits.
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 5):
            return 1
        return int(raw) if 1 <= int(raw) <= 10_000 else 1
