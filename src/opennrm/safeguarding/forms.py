"""Forms of the children's pathway: they turn input into clean, typed values, and never save."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from opennrm.lib.govuk_forms import date_from_parts

from .models import AgeOutcome, DisputeBasis


class TaskDoneForm(forms.Form):
    outcome = forms.CharField(
        label="What was done",
        help_text="For example where the child is staying and who placed them there. Only those "
        "who may open the child's case can read this.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Enter what was done",
            "max_length": "What was done must be 5,000 characters or fewer",
        },
    )


class AgeAssessmentForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What did the age assessment find?",
        choices=AgeOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select what the assessment found",
            "invalid_choice": "Select what the assessment found",
        },
    )
    assessed_on = forms.CharField(
        label="Date of the assessment",
        help_text="For example, 27 3 2026",
        required=False,
    )
    reasons = forms.CharField(
        label="Reasons",
        help_text="What the assessment found and why, as its report gives them.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Enter the reasons the assessment gave",
            "max_length": "The reasons must be 5,000 characters or fewer",
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, referred_on: date | None = None, **kwargs: Any) -> None:
        """`referred_on`: the local date of the case's referral, the earliest date the
        assessment may have (the service checks it too)."""
        super().__init__(*args, **kwargs)
        self.referred_on = referred_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["assessed_on"] = date_from_parts(self, "assessed_on", "The date of the assessment")
        if data["assessed_on"] is None and "assessed_on" not in self.errors:
            self.add_error("assessed_on", "Enter the date of the assessment")
        elif (
            data["assessed_on"] is not None
            and self.referred_on is not None
            and data["assessed_on"] < self.referred_on
        ):
            self.add_error(
                "assessed_on",
                "The date of the assessment cannot be before the referral "
                f"({self.referred_on:%-d %B %Y})",
            )
        return data


class AgeDisputeForm(forms.Form):
    basis = forms.ChoiceField(
        label="Why may the person be under 18?",
        choices=DisputeBasis.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why the person may be under 18",
            "invalid_choice": "Select why the person may be under 18",
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
