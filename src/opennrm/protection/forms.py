from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from opennrm.lib.govuk_forms import date_from_parts, date_input
from opennrm.lib.references import ALPHABET

# A reference as OpenNRM makes them (lib.references): a prefix of letters, then two groups of
# four characters of Crockford's base 32, for example NRM-7K3Q-9XPD.
REFERENCE = re.compile(rf"^[A-Z]{{2,5}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
# Read aloud or copied by hand, Crockford's letters that look like digits mean those digits.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
EXAMPLE = "NRM-7K3Q-9XPD"
# How far ahead a removal may be planned: a year, as surge places and bed holds
# (`operations.surge_forms.FURTHEST_DAYS`, not imported: operations imports protection). A
# mistyped year (9999) was recorded, and protection judged for that day.
FURTHEST_DAYS = 366


def normalised_reference(raw: str) -> str:
    """Upper case, no spaces, look-alike letters read as digits after the prefix."""
    text = re.sub(r"\s+", "", raw).upper()
    prefix, dash, rest = text.partition("-")
    return prefix + dash + rest.translate(_LOOKALIKES) if dash else text


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label="Reference",
        help_text=f"The NRM reference you were given, for example {EXAMPLE}",
        max_length=40,
        error_messages={
            "required": "Enter the reference",
            "max_length": f"Enter the reference in the form {EXAMPLE}",
        },
    )

    def clean_reference(self) -> str:
        reference = normalised_reference(self.cleaned_data["reference"])
        if not REFERENCE.match(reference):
            raise forms.ValidationError(
                f"Enter the reference in the form {EXAMPLE}: letters, then two groups of "
                "4 letters or numbers, with hyphens between",
                code="format",
            )
        return reference


class PlannedRemovalForm(ReferenceForm):
    planned_on = forms.CharField(
        label="Date of the planned removal",
        help_text="For example, 27 3 2027",
        required=False,
    )
    # New for each empty form, sent back with it (an API request's Idempotency-Key instead):
    # the same form sent twice records the removal once and alerts once
    # (`services.planned_removal_record`).
    submission_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        planned_on = date_from_parts(self, "planned_on", "The date of the planned removal")
        if planned_on is None and "planned_on" not in self.errors:
            self.add_error("planned_on", "Enter the date of the planned removal")
        elif planned_on is not None and planned_on < timezone.localdate():
            self.add_error(
                "planned_on", "The date of the planned removal must be today or in the future"
            )
        elif planned_on is not None:
            latest = timezone.localdate() + timedelta(days=FURTHEST_DAYS)
            if planned_on > latest:
                self.add_error(
                    "planned_on",
                    f"The date of the planned removal must be {latest:%-d %B %Y} or earlier, "
                    "within a year",
                )
        data["planned_on"] = planned_on
        return data

    def removal_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reference": data["reference"],
            "planned_on": data["planned_on"],
            "submission_key": data["submission_key"],
        }

    @staticmethod
    def data_for(reference: str, planned_on: date, submission_key: str = "") -> dict[str, str]:
        """The form's input for a reference and a date (the API checks its body with it)."""
        return {
            "reference": reference,
            **date_input("planned_on", planned_on),
            "submission_key": submission_key,
        }
