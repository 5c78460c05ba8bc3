"""Forms of casework: they turn input into clean, typed values, and never save."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from opennrm.accounts.models import User
from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.text import LinesField, single_line

from .services import MAX_NOTE, MAX_TITLE


class NoteForm(forms.Form):
    # A new key each time the page is shown (`initial`), sent back with the note.
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)
    text = LinesField(
        label="Note",
        help_text="A note cannot be changed once added. To correct one, add a new note that "
        "says what it corrects.",
        max_length=MAX_NOTE,
        strip=True,
        widget=forms.Textarea,
        error_messages={
            "required": "Enter the note",
            "max_length": f"The note must be {MAX_NOTE:,} characters or fewer",
        },
    )
    visibility = forms.ChoiceField(
        label="Who may read it",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who may read the note",
            "invalid_choice": "Select who may read the note",
        },
    )

    def __init__(self, *args: Any, visibility: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = visibility  # type: ignore[attr-defined]


class TaskOwnerForm(forms.Form):
    """Who owns a task: one of the people of its organisation who can open the case."""

    owner = forms.ChoiceField(
        label="Who owns it",
        error_messages={
            "required": "Choose who owns the task",
            "invalid_choice": "Choose who owns the task from the list",
        },
    )

    def __init__(
        self, *args: Any, owners: list[User], organisation_name: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].error_messages["invalid_choice"] = (
            f"Choose someone in {organisation_name} who can open this case to own the task"
        )
        self.owners = {str(user.pk): user for user in owners}
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", "Choose someone"),
            *((pk, user.full_name or user.email) for pk, user in self.owners.items()),
        ]

    def chosen_owner(self) -> User:
        return self.owners[self.cleaned_data["owner"]]


class TaskForm(TaskOwnerForm):
    field_order = ["title", "owner", "due_on"]

    title = forms.CharField(
        label="What needs doing",
        help_text="Say what, not who: leave the person's name out. For example: "
        "'Ask the GP surgery for the medical report'.",
        max_length=MAX_TITLE,
        strip=True,
        error_messages={
            "required": "Enter what needs doing",
            "max_length": f"What needs doing must be {MAX_TITLE} characters or fewer",
        },
        validators=[single_line("What needs doing")],
    )
    due_on = forms.CharField(label="Due date", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["due_on"] = date_from_parts(self, "due_on", "Due date")
        if data["due_on"] is None and "due_on" not in self.errors:
            self.add_error("due_on", "Enter the due date")
        return data


class TaskDoneForm(forms.Form):
    """Nothing to fill in: the button is the answer."""
