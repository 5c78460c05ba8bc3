from __future__ import annotations

from typing import Any

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

    def __init__(self, *args: Any, support_running: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if support_running:
            # Not offered while move-on support runs: closing for it would be refused.
            self.fields["reason"].choices = [  # type: ignore[attr-defined]
                (value, label)
                for value, label in CloseReason.choices
                if value != CloseReason.SUPPORT_ENDED
            ]
