"""Forms of the operations pages: clean input into typed values, never save."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet

from opennrm.accommodation.models import ImmediateNeed, Region
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import ExploitationType, Sex
from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.iso import language_choices
from opennrm.lib.text import single_line

from .models import AgeGroup, Operation, PartnerRole

# The sexes the plan counts by: "other" is folded into "not known" for a plan made before
# anyone is met.
PLANNED_SEXES: list[tuple[str, str]] = [
    (Sex.FEMALE.value, "Female"),
    (Sex.MALE.value, "Male"),
    (Sex.UNKNOWN.value, "Sex not known"),
]
AGE_LABELS = {
    AgeGroup.ADULT.value: "adults",
    AgeGroup.CHILD.value: "children",
    AgeGroup.AGE_DISPUTED.value: "age disputed",
}
EXPLOITATION_SHORT = {
    ExploitationType.SEXUAL.value: "Sexual",
    ExploitationType.LABOUR.value: "Labour",
    ExploitationType.CRIMINAL.value: "Criminal",
    ExploitationType.DOMESTIC_SERVITUDE.value: "Domestic servitude",
    ExploitationType.ORGAN_HARVESTING.value: "Organ harvesting",
    ExploitationType.FORCED_MARRIAGE.value: "Forced marriage",
    ExploitationType.UNKNOWN.value: "Not known",
}
LANGUAGE_BOXES = 4
MOST_IN_A_GROUP = 1_000  # and at most `services.MOST_EXPECTED` in all


def number_field_name(sex: str, age: str, kind: str) -> str:
    return f"n_{sex}_{age}_{kind}"


def group_label(sex: str, age: str) -> str:
    return f"{dict(PLANNED_SEXES)[sex]}, {AGE_LABELS[age]}"


YES_NO = [("yes", "Yes"), ("no", "No")]
# The answers of a plan, as a refusal for a page out of date names them (`answers_unlike`).
ANSWERS_CHECKED = {
    "name": "the name",
    "confidential": "whether it is confidential",
    "starts_on": "the start date",
    "ends_on": "the end date",
    "region": "the region",
    "expected": "the numbers of people expected",
    "languages": "the languages",
}


class OperationForm(forms.Form):
    lead_organisation = forms.ModelChoiceField(
        label="Which organisation leads it?",
        queryset=Organisation.objects.none(),
        empty_label="Select the organisation",
    )
    name = forms.CharField(
        label="Name of the operation",
        max_length=120,
        help_text="The name your organisation uses for it, for example Operation Larkspur",
        # It heads the subject of every e-mail about the operation, which must be one line.
        validators=[single_line("The operation's name")],
    )
    confidential = forms.ChoiceField(
        label="Is the operation confidential?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text=(
            "Until it starts, nothing about a confidential operation appears anywhere but its "
            "own pages, for your organisation and the organisations you invite"
        ),
    )
    starts_on = forms.CharField(
        label="Start date", required=False, help_text="For example 27 3 2027"
    )
    ends_on = forms.CharField(label="End date", required=False, help_text="For example 3 4 2027")
    region = forms.ChoiceField(label="Region", choices=[("", "Select the region"), *Region.choices])
    # Changing a plan: the version the page shows, sent back with it (`services.operation_change`
    # refuses a plan saved from a page opened before another planner's change).
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    only_lead: Organisation | None = None

    def __init__(
        self,
        *args: Any,
        lead_choices: QuerySet[Organisation] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if lead_choices is None:
            # Changing a plan: the lead stays.
            del self.fields["lead_organisation"]
        else:
            del self.fields["expected_version"]  # a new plan has no version yet
            lead_field: Any = self.fields["lead_organisation"]
            lead_field.queryset = lead_choices
            if lead_choices.count() == 1:
                # The planner's one organisation leads: nothing to ask.
                self.only_lead = lead_choices.get()
                lead_field.required = False
        for sex, _ in PLANNED_SEXES:
            for age in AgeGroup.values:
                for kind in ExploitationType.values:
                    self.fields[number_field_name(sex, age, kind)] = forms.IntegerField(
                        label=f"{group_label(sex, age)}: {EXPLOITATION_SHORT[kind].lower()}",
                        required=False,
                        min_value=0,
                        max_value=MOST_IN_A_GROUP,
                    )
        for n in range(1, LANGUAGE_BOXES + 1):
            self.fields[f"language_{n}"] = forms.ChoiceField(
                label="Language expected" if n == 1 else "Another language",
                required=False,
                choices=[("", "Select a language"), *language_choices()],
            )

    @property
    def shows_lead_choice(self) -> bool:
        field: Any = self.fields.get("lead_organisation")
        return field is not None and field.queryset.count() > 1

    def rows(self) -> list[dict[str, Any]]:
        """The table of expected numbers: one row per sex and age group."""
        return [
            {
                "label": group_label(sex, age),
                "cells": [
                    self[number_field_name(sex, age, kind)] for kind in ExploitationType.values
                ],
            }
            for sex, _ in PLANNED_SEXES
            for age in AgeGroup.values
        ]

    def language_fields(self) -> list[Any]:
        return [self[f"language_{n}"] for n in range(1, LANGUAGE_BOXES + 1)]

    @staticmethod
    def columns() -> list[str]:
        return [EXPLOITATION_SHORT[kind] for kind in ExploitationType.values]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.only_lead is not None and not data.get("lead_organisation"):
            data["lead_organisation"] = self.only_lead
        self._clean_dates(data)
        expected = self._expected_numbers(data)
        data["expected"] = expected
        data["languages"] = list(
            dict.fromkeys(
                data[f"language_{n}"]
                for n in range(1, LANGUAGE_BOXES + 1)
                if data.get(f"language_{n}")
            )
        )
        data["confidential"] = data.get("confidential") == "yes"
        return data

    def _clean_dates(self, data: dict[str, Any]) -> None:
        # Kept in locals: `add_error` removes its field from `data` (a missing start date was
        # a KeyError, and a 500 that lost the plan: found in review, stop 38).
        starts_on = data["starts_on"] = date_from_parts(self, "starts_on", "Start date")
        ends_on = data["ends_on"] = date_from_parts(self, "ends_on", "End date")
        for name, label, value in (
            ("starts_on", "start date", starts_on),
            ("ends_on", "end date", ends_on),
        ):
            if value is None and name not in self.errors:
                self.add_error(name, f"Enter the {label}")
        if starts_on and ends_on and ends_on < starts_on and "ends_on" not in self.errors:
            self.add_error("ends_on", "The end date must be on or after the start date")

    def _expected_numbers(self, data: dict[str, Any]) -> dict[tuple[str, str, str], int]:
        expected = {}
        number_errors = False
        for sex, _ in PLANNED_SEXES:
            for age in AgeGroup.values:
                for kind in ExploitationType.values:
                    name = number_field_name(sex, age, kind)
                    if name in self.errors:
                        number_errors = True
                    elif data.get(name):
                        expected[(sex, age, kind)] = data[name]
        if not number_errors and not expected:
            self.add_error(None, "Enter how many people you expect to find in at least one group")
        return expected

    def plan_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "confidential": data["confidential"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "region": data["region"],
            "expected": data["expected"],
            "languages": data["languages"],
        }

    def change_values(self) -> dict[str, Any]:
        """The plan as changed, with the version of it the page showed (a page that sent none,
        the first: every page of this form sends one)."""
        return self.plan_values() | {"expected_version": self.cleaned_data["expected_version"] or 1}

    def answers_unlike(self, operation: Operation) -> str:
        """What this page answers otherwise than the plan as it is now ("" if nothing): for a
        planner whose page was out of date, what to check before saving again (someone may
        have made the operation confidential meanwhile)."""
        now = {
            "name": operation.name,
            "confidential": operation.confidential,
            "starts_on": operation.starts_on,
            "ends_on": operation.ends_on,
            "region": operation.region,
            "expected": {
                (g.sex, g.age_group, g.exploitation_type): g.number
                for g in operation.expected.all()
            },
            "languages": operation.languages,
        }
        answered = self.plan_values()
        unlike = [what for name, what in ANSWERS_CHECKED.items() if answered[name] != now[name]]
        if not unlike:
            return ""
        listed = unlike[0] if len(unlike) == 1 else f"{', '.join(unlike[:-1])} and {unlike[-1]}"
        return f"Your answers differ from the plan as it is now in {listed}"

    @staticmethod
    def data_for(operation: Operation) -> dict[str, str]:
        """The operation as the form's input, to change it."""
        data = {
            "name": operation.name,
            "confidential": "yes" if operation.confidential else "no",
            "region": operation.region,
            "expected_version": str(operation.version),
        }
        for prefix, day in (("starts_on", operation.starts_on), ("ends_on", operation.ends_on)):
            data |= {
                f"{prefix}_day": str(day.day),
                f"{prefix}_month": str(day.month),
                f"{prefix}_year": str(day.year),
            }
        for group in operation.expected.all():
            name = number_field_name(group.sex, group.age_group, group.exploitation_type)
            data[name] = str(group.number)
        for n, code in enumerate(operation.languages[:LANGUAGE_BOXES], start=1):
            data[f"language_{n}"] = code
        return data


class InvitePartnerForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        empty_label="Select the organisation",
    )
    role = forms.ChoiceField(
        label="Its role in the operation",
        choices=PartnerRole.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, choices: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["organisation"]
        field.queryset = choices


class HandOverForm(forms.Form):
    """Whom to hand a reception draft to: a first responder of the organisation that took the
    person in (`selectors.draft_receivers`)."""

    to = forms.ModelChoiceField(
        label="Who will complete the referral",
        queryset=User.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who will complete the referral",
            "invalid_choice": "Select one of the first responders listed",
        },
    )

    def __init__(self, *args: Any, choices: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["to"]
        field.queryset = choices
        field.label_from_instance = lambda user: user.full_name or user.email


class ReceptionForm(forms.Form):
    """One person taken in: only what a responder can see or ask in a minute (ADR 0043)."""

    name_or_description = forms.CharField(
        label="Name, or a description",
        help_text="The name they give, or how to recognise them, for example 'woman in red coat, "
        "room 3'",
        max_length=500,
        error_messages={"required": "Enter their name, or describe them"},
    )
    # Declared in the order the page asks them: the error summary lists errors in this order.
    age_group = forms.ChoiceField(
        label="Adult or child?",
        help_text="If you are not sure they are an adult, select 'Age disputed': they are "
        "treated as a child",
        choices=[
            (AgeGroup.ADULT.value, "Adult"),
            (AgeGroup.CHILD.value, "Child"),
            (AgeGroup.AGE_DISPUTED.value, "Age disputed"),
        ],
        error_messages={
            "required": "Select whether they are an adult or a child",
            "invalid_choice": "Select whether they are an adult or a child",
        },
    )
    sex = forms.ChoiceField(
        label="Sex",
        choices=PLANNED_SEXES,
        error_messages={"required": "Select their sex", "invalid_choice": "Select their sex"},
    )
    language = forms.ChoiceField(
        label="Language (optional)",
        choices=[("", "Select a language"), *language_choices()],
        required=False,
        error_messages={"invalid_choice": "Select their language from the list"},
    )
    interpreter_needed = forms.ChoiceField(
        label="Do they need an interpreter?",
        choices=YES_NO,
        error_messages={
            "required": "Select whether they need an interpreter",
            "invalid_choice": "Select whether they need an interpreter",
        },
    )
    urgent_needs = forms.MultipleChoiceField(
        label="Do they need any of these now? (optional)",
        choices=ImmediateNeed.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Select urgent needs from the list"},
    )

    # New for each empty form, sent back with it: the same form sent twice (a double tap, a
    # retry on a poor connection) takes the person in once (services.reception_take_in).
    submission_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex

    def take_in_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "submission_key": data["submission_key"],
            "name_or_description": data["name_or_description"],
            "sex": data["sex"],
            "age_group": data["age_group"],
            "language": data["language"],
            "urgent_needs": data["urgent_needs"],
            "interpreter_needed": data["interpreter_needed"] == "yes",
        }
