from __future__ import annotations

from django import forms

from .choices import CloseReason


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
