"""Forms of support plans, the services delivered log and missing episodes: they turn input
into clean, typed values, and never save. Their text areas are `LinesField`s: a line break counts
once, as its author counts it."""

from __future__ import annotations

import re
import uuid
from datetime import time
from typing import Any

from django import forms

from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.text import LinesField

from .models import Measure, MeasureStatus
from .selectors import organisations_providing

NO_ORGANISATION = ("", "Not an organisation in OpenNRM")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def _organisation_choices() -> list[tuple[str, str]]:
    return [
        NO_ORGANISATION,
        *((str(pk), name) for pk, name in organisations_providing().values_list("pk", "name")),
    ]


def _time_problem(label: str) -> str:
    return f"{label}: enter hours and minutes on the 24-hour clock, like 21:30"


def _clean_time(form: forms.Form, name: str, label: str) -> time | None:
    raw = (form.data.get(name) or "").strip()
    if not raw or name in form.errors:
        # Nothing given, or already refused (too long): one message for one mistake.
        return None
    match = _TIME.match(raw)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        form.add_error(name, _time_problem(label))
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _date(
    form: forms.Form, data: dict[str, Any], name: str, label: str, *, required: str = ""
) -> None:
    data[name] = date_from_parts(form, name, label)
    if required and data[name] is None and name not in form.errors:
        form.add_error(name, required)


class _WhoProvides(forms.Form):
    provider = forms.ChoiceField(
        label="Organisation",
        required=False,
        error_messages={"invalid_choice": "Choose an organisation from the list"},
    )
    outside_provider = forms.CharField(
        label="Or the name of an outside service",
        help_text="For example a GP surgery, a law firm or a counselling service",
        max_length=200,
        required=False,
        error_messages={"max_length": "The outside service's name must be 200 characters or fewer"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = _organisation_choices()  # type: ignore[attr-defined]

    def provider_organisation(self) -> Any:
        chosen = self.cleaned_data.get("provider")
        if not chosen:
            return None
        return organisations_providing().filter(pk=chosen).first()


class MeasureForm(_WhoProvides):
    """One measure of the plan. With `notes_only` (the accommodation while a placement holds
    a bed, which follows the placement) only the notes can be changed."""

    status = forms.ChoiceField(
        label="Status",
        choices=[(s.value, s.label) for s in MeasureStatus if s != MeasureStatus.NOT_ASSESSED],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the status of this measure",
            "invalid_choice": "Select the status of this measure",
        },
    )
    starts_on = forms.CharField(label="Started, or starts", required=False)
    ends_on = forms.CharField(label="Ended, or ends", required=False)
    notes = LinesField(
        label="Notes (optional)",
        help_text="What the person needs and what has been agreed with them. Only support "
        "coordinators and the staff of the provider where they are placed can read this.",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "Notes must be 5,000 characters or fewer"},
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, notes_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes_only = notes_only
        if notes_only:
            for name in ("status", "starts_on", "ends_on", "provider", "outside_provider"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.notes_only:
            _date(self, data, "starts_on", "The start date")
            _date(self, data, "ends_on", "The end date")
            if data.get("provider") and (data.get("outside_provider") or "").strip():
                self.add_error(
                    "outside_provider",
                    "Choose an organisation or name an outside service, not both",
                )
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.notes_only:
            return {"notes": data["notes"]}
        return {
            "status": data["status"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "provider": self.provider_organisation(),
            "outside_provider": data["outside_provider"],
            "notes": data["notes"],
        }

    @staticmethod
    def data_for(row: Any) -> dict[str, str]:
        """The form's boxes as saved, for showing a measure to change it."""
        data: dict[str, str] = {"expected_version": str(row.version if row else 1)}
        if row is None:
            return data
        data |= {
            "status": "" if row.status == MeasureStatus.NOT_ASSESSED else row.status,
            "provider": str(row.provider_id or ""),
            "outside_provider": row.outside_provider,
            "notes": row.notes,
        }
        for name in ("starts_on", "ends_on"):
            day = getattr(row, name)
            if day:
                data |= {
                    f"{name}_day": str(day.day),
                    f"{name}_month": str(day.month),
                    f"{name}_year": str(day.year),
                }
        return data


class DeliveryForm(_WhoProvides):
    # A new key each time the page is shown (`initial`), sent back with the delivery.
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)
    measure = forms.ChoiceField(
        label="Under which measure?",
        error_messages={
            "required": "Select the measure it was delivered under",
            "invalid_choice": "Select the measure it was delivered under",
        },
    )
    delivered_on = forms.CharField(label="The day it was delivered", required=False)
    description = LinesField(
        label="What was delivered",
        help_text="For example: two hours of counselling in Albanian; a GP registration; a "
        "phone and credit",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter what was delivered",
            "max_length": "What was delivered must be 2,000 characters or fewer",
        },
    )

    def __init__(self, *args: Any, measures: list[Measure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = [  # type: ignore[attr-defined]
            ("", "Select a measure"),
            *((m.value, m.label) for m in measures),
        ]
        self.fields["provider"].label = "Delivered by an organisation"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _date(
            self,
            data,
            "delivered_on",
            "The day it was delivered",
            required="Enter the day it was delivered",
        )
        if data.get("provider") and (data.get("outside_provider") or "").strip():
            self.add_error(
                "outside_provider", "Choose an organisation or name an outside service, not both"
            )
        return data


class MissingForm(forms.Form):
    went_missing_on = forms.CharField(label="The day they went missing", required=False)
    went_missing_time = forms.CharField(
        label="The time they went missing, if known (optional)",
        help_text="On the 24-hour clock, for example 21:30",
        required=False,
        max_length=5,
        error_messages={"max_length": _time_problem("The time they went missing")},
    )
    last_seen = LinesField(
        label="When and where were they last seen?",
        help_text="Who saw them, where, what they were wearing, anyone they were with. Only "
        "support staff can read this; the police and others told are asked to contact you.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Enter what is known of when and where they were last seen",
            "max_length": "What is known must be 2,000 characters or fewer",
        },
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _date(
            self,
            data,
            "went_missing_on",
            "The day they went missing",
            required="Enter the day they went missing",
        )
        data["went_missing_time"] = _clean_time(
            self, "went_missing_time", "The time they went missing"
        )
        return data


class ReturnedForm(forms.Form):
    returned_on = forms.CharField(label="The day they came back", required=False)
    returned_time = forms.CharField(
        label="The time they came back, if known (optional)",
        help_text="On the 24-hour clock, for example 08:15",
        required=False,
        max_length=5,
        error_messages={"max_length": _time_problem("The time they came back")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _date(
            self,
            data,
            "returned_on",
            "The day they came back",
            required="Enter the day they came back",
        )
        data["returned_time"] = _clean_time(self, "returned_time", "The time they came back")
        return data
