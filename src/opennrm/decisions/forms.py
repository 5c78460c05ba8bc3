from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from opennrm.cases.models import Case
from opennrm.lib.govuk_forms import MultipleFileField, date_from_parts
from opennrm.policy.negative_reasons import (
    NO_MEANS_EXPLOITED_AS_CHILD,
    NO_MEANS_FOR_A_CHILD,
    REASON_REQUIRED,
    catalogue,
)
from opennrm.policy.profiles import Outcome, OutcomeKind

from .models import LateRequester


class ReasonField(forms.ChoiceField):
    """The reasons offered as choices, and `no_means` also accepted, so that a child's case
    (where it is never offered) is told why it cannot be the reason, not that the choice is
    not one of the list."""

    def valid_value(self, value: Any) -> bool:
        return value == "no_means" or super().valid_value(value)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Decision",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the decision", "invalid_choice": "Select the decision"},
    )
    reasons = forms.CharField(
        label="Reasons",
        help_text="Explain the decision: which indicators and evidence you relied on, and why. "
        "The person will be told these reasons in plain language.",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "Enter the reasons for the decision"},
    )
    negative_reason = ReasonField(
        label="Main reason for the negative decision",
        help_text="The part of the test that was not met, or why it could not be. Means are "
        "not needed for a child, or for a person exploited as a child. The statistics count "
        "negative decisions by this reason; the reasons you write stay the full account.",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": REASON_REQUIRED},
    )
    indicators = forms.MultipleChoiceField(
        label="Indicators relied on (optional)", required=False, widget=forms.CheckboxSelectMultiple
    )
    evidence = forms.MultipleChoiceField(
        label="Evidence relied on (optional)", required=False, widget=forms.CheckboxSelectMultiple
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        outcomes: tuple[Outcome, ...],
        case: Case,
        on: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["outcome"].choices = [(o.code, o.label) for o in outcomes]  # type: ignore[attr-defined]
        self.negative_outcomes = [o.code for o in outcomes if o.kind == OutcomeKind.NEGATIVE]
        # The reasons in force for this case today; never `no_means` for a child, or for a
        # person exploited as a child (ADR 0042).
        self.fields["negative_reason"].choices = [  # type: ignore[attr-defined]
            (r.code, r.label)
            for r in catalogue().choices(
                case.jurisdiction, on or timezone.localdate(), child=case.exploited_as_child
            )
        ]
        indicators: list[tuple[str, str]] = []
        if case.screening is not None:
            listed = case.screening.catalogue.parsed().list(case.screening.list_key)
            for code in case.screening.observed_codes:
                indicator = listed.get(code) if listed else None
                indicators.append((code, indicator.text if indicator else code))
        self.fields["indicators"].choices = indicators  # type: ignore[attr-defined]
        self.fields["evidence"].choices = [  # type: ignore[attr-defined]
            (str(item.pk), item.original_name) for item in case.evidence.all()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outcome = cleaned.get("outcome")
        if outcome is None:
            return cleaned
        if outcome not in self.negative_outcomes:
            # Chosen, then the decision changed to one that is not negative: not recorded.
            cleaned["negative_reason"] = ""
        elif not cleaned.get("negative_reason") and "negative_reason" not in self.errors:
            self.add_error("negative_reason", REASON_REQUIRED)
        elif cleaned.get("negative_reason") == "no_means" and self.case.is_child:
            self.add_error("negative_reason", NO_MEANS_FOR_A_CHILD)
        elif cleaned.get("negative_reason") == "no_means" and self.case.exploited_as_child:
            self.add_error("negative_reason", NO_MEANS_EXPLOITED_AS_CHILD)
        return cleaned


class ApprovalForm(forms.Form):
    approve = forms.ChoiceField(
        label="Do you approve this decision?",
        choices=[
            ("yes", "Yes, approve it: it takes effect now"),
            ("no", "No: a new decision is needed"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you approve the decision"},
    )
    note = forms.CharField(
        label="Your comments",
        help_text="Required if you do not approve",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReconsiderationDecisionForm(forms.Form):
    accept = forms.ChoiceField(
        label="Do you accept the request?",
        choices=[
            ("yes", "Yes: the decision will be made again"),
            ("no", "No: the decision stands"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you accept the request"},
    )
    reasons = forms.CharField(
        label="Reasons",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter the reasons for accepting or refusing"},
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class ReconsiderationRequestForm(forms.Form):
    grounds = forms.CharField(
        label="Why should the decision be reconsidered?",
        help_text="Give the new evidence, or explain how the decision did not follow the guidance",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "Enter why the decision should be reconsidered"},
    )
    evidence = MultipleFileField(
        label="Evidence (optional)",
        help_text="PDF, JPEG or PNG files, each up to 10 MB: a medical report, a statement. "
        "You can select more than one",
        required=False,
        error_messages={"empty": "The selected file is empty"},
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class LateReconsiderationForm(forms.Form):
    """A request for reconsideration that reached the competent authority by letter or e-mail,
    in time or late, taken in by a decision maker (`services.reconsideration_take_late`). The
    exceptional circumstances are asked for only of one that reached it after `until`, the last
    day to ask (or, with no date given yet, once that day has passed)."""

    asked_by = forms.ChoiceField(
        label="Who asked for the reconsideration?",
        choices=LateRequester.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who asked for the reconsideration",
            "invalid_choice": "Select who asked for the reconsideration",
        },
    )
    received_on = forms.CharField(
        label="When did the request reach you?",
        help_text="For example, 27 3 2026",
        required=False,
    )
    grounds = forms.CharField(
        label="Why should the decision be reconsidered?",
        help_text="The new evidence, or how the decision did not follow the guidance, as the "
        "request gives them",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": "Enter why the decision should be reconsidered",
            "max_length": "The grounds must be 20,000 characters or fewer",
        },
    )
    circumstances = forms.CharField(
        label="What exceptional circumstances justify taking it late?",
        help_text="Only if it reached you after the last day to ask. For example, the person "
        "was in hospital, or had no legal advice until the time had passed",
        max_length=5_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "max_length": "The exceptional circumstances must be 5,000 characters or fewer",
        },
    )
    evidence = MultipleFileField(
        label="Evidence sent with it (optional)",
        help_text="PDF, JPEG or PNG files, each up to 10 MB. You can select more than one",
        required=False,
        error_messages={"empty": "The selected file is empty"},
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, until: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.until = until

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        received = data["received_on"] = date_from_parts(
            self, "received_on", "The date the request reached you"
        )
        if received is None and "received_on" not in self.errors:
            self.add_error("received_on", "Enter the date the request reached you")
        # Only a request that reached the authority after the last day to ask is late; with no
        # date yet, one entered after that day is asked for them (the service checks again).
        until = self.until
        late = received > until if received else timezone.localdate() > until
        if (
            late
            and not data.get("circumstances", "").strip()
            and "circumstances" not in self.errors
        ):
            self.add_error(
                "circumstances",
                "Enter the exceptional circumstances for taking the request late"
                + (
                    f": it reached you after {until:%-d %B %Y}, the last day to ask"
                    if received
                    else f", or a date on or before {until:%-d %B %Y} if it reached you in time"
                ),
            )
        return data


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(
        label="Assign to",
        error_messages={"invalid_choice": "Select a decision maker from the list"},
        required=False,
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, deciders: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Nobody (unassigned)"), *deciders]  # type: ignore[attr-defined]


class ExtensionForm(forms.Form):
    days = forms.IntegerField(
        label="Extend by how many days?",
        min_value=1,
        max_value=365,
        error_messages={
            "required": "Enter the number of days",
            "invalid": "Enter the number of days as a whole number, like 14",
            "min_value": "Enter an extension between 1 and 365 days",
            "max_value": "Enter an extension between 1 and 365 days",
        },
    )
    reasons = forms.CharField(
        label="Reasons",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter the reasons for the extension"},
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class DisqualificationForm(forms.Form):
    """Disqualification on a ground of NABA 2022 s.63 (`services.DISQUALIFICATION_GROUNDS`)."""

    ground = forms.ChoiceField(
        label="On which ground?",
        choices=[
            ("public_order", "The person is a threat to public order"),
            ("bad_faith", "The person claimed to be a victim in bad faith"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the ground for disqualification",
            "invalid_choice": "Select the ground for disqualification",
        },
    )
    reasons = forms.CharField(
        label="Reasons",
        help_text="Explain what the decision relies on and why it meets the ground. The person "
        "will be told these reasons.",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": "Enter the reasons for the decision",
            "max_length": "The reasons must be 20,000 characters or fewer",
        },
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
