from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .selectors import AuditFilter


class AuditSearchForm(forms.Form):
    actor = forms.CharField(
        label="User's email address (or part of it)", required=False, max_length=254
    )
    action = forms.CharField(
        label="Action (or part of it)",
        help_text="For example membership, or auth.sign_in_failed",
        required=False,
        max_length=80,
    )
    object_type = forms.ChoiceField(label="Kind of record", required=False)
    object_id = forms.CharField(label="Record number", required=False, max_length=64)
    ip_address = forms.GenericIPAddressField(
        label="Network address",
        required=False,
        error_messages={"invalid": "Enter a network address like 192.0.2.10 or 2001:db8::1"},
    )
    date_from = forms.DateField(
        label="From (date)",
        help_text="For example, 27 3 2026 or 2026-03-27",
        required=False,
        input_formats=["%Y-%m-%d", "%d %m %Y", "%d/%m/%Y"],
        error_messages={"invalid": "Enter the start date as a real date, like 27 3 2026"},
    )
    date_to = forms.DateField(
        label="To (date)",
        required=False,
        input_formats=["%Y-%m-%d", "%d %m %Y", "%d/%m/%Y"],
        error_messages={"invalid": "Enter the end date as a real date, like 28 3 2026"},
    )

    def __init__(self, *args: Any, object_types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "Any")] + [(t, t) for t in object_types]  # type: ignore[attr-defined]

    def clean_date_to(self) -> date | None:
        # The search runs to the start of the day after the end date: there is none after the
        # last day of the calendar.
        end: date | None = self.cleaned_data.get("date_to")
        if end is not None and end >= date.max:
            raise ValidationError("Enter an end date before 31 12 9999")
        return end

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError(
                {"date_to": "The end date must be the same as or after the start date"}
            )
        return data

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            actor=data.get("actor", "").strip(),
            action=data.get("action", "").strip(),
            object_type=data.get("object_type", ""),
            object_id=data.get("object_id", "").strip(),
            ip_address=data.get("ip_address") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
