"""Forms of safety: the profile (also the referral's "Risk and safety" page, with rows for
dependants) and one dependant added from the case page. They clean input; they never save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from opennrm.cases.choices import Sex
from opennrm.lib.govuk_forms import date_from_parts

from .models import Relationship, RiskLevel, SettingRequired

# Dependants the referral's page has rows for; more are added from the case page afterwards.
DEPENDANT_ROWS = 3
MAX_PLACES = 10


def places_from_text(text: str) -> list[str]:
    """One place a line, blank lines dropped, each named once (as first typed)."""
    seen: dict[str, str] = {}
    for line in text.splitlines():
        name = " ".join(line.split())
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())


class SafetyProfileForm(forms.Form):
    risk_level = forms.ChoiceField(
        label="How high is the risk to the person's safety?",
        choices=RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how high the risk to the person's safety is",
            "invalid_choice": "Select a risk level from the list",
        },
    )
    risk_reasons = forms.CharField(
        label="Why (needed for a high or very high risk)",
        help_text="For example, the exploiters know where she was staying",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    setting_required = forms.ChoiceField(
        label="Do they need a women-only or men-only house?",
        choices=[(v or "none", label) for v, label in SettingRequired.choices],
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Select a kind of house from the list"},
    )
    keep_away = forms.CharField(
        label="Places they must keep away from (optional)",
        help_text="One town or local authority area on each line, for example Northmoor. "
        "They will never be offered a bed there.",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    exploiters = forms.CharField(
        label="Who exploited them (optional)",
        help_text="Describe them so that staff can recognise a danger: nicknames, appearance, "
        "vehicles. Shown only on this person's pages, and never searchable.",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    medical_needs = forms.CharField(
        label="Medical needs (optional)",
        help_text="For example, an asthma inhaler, or a medicine taken every day",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_setting_required(self) -> str:
        value: str = self.cleaned_data.get("setting_required") or ""
        return "" if value == "none" else value

    def clean_keep_away(self) -> list[str]:
        places = places_from_text(self.cleaned_data.get("keep_away") or "")
        if len(places) > MAX_PLACES:
            raise ValidationError(f"Give at most {MAX_PLACES} places, one on each line")
        if any(len(place) > 120 for place in places):
            raise ValidationError("Each place must be 120 characters or fewer")
        return places

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("risk_level") in (RiskLevel.HIGH, RiskLevel.VERY_HIGH)
            and not (data.get("risk_reasons") or "").strip()
        ):
            self.add_error("risk_reasons", "Say why the risk is high")
        return data

    def profile_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "risk_level": data["risk_level"],
            "risk_reasons": data["risk_reasons"].strip(),
            "exploiters": data["exploiters"].strip(),
            "keep_away": data["keep_away"],
            "medical_needs": data["medical_needs"].strip(),
            "setting_required": data["setting_required"],
        }

    @staticmethod
    def initial_for(profile: Any) -> dict[str, Any]:
        if profile is None:
            return {
                "risk_level": RiskLevel.STANDARD,
                "setting_required": "none",
                "expected_version": 0,
            }
        return {
            "risk_level": profile.risk_level,
            "risk_reasons": profile.risk_reasons,
            "setting_required": profile.setting_required or "none",
            "keep_away": "\n".join(profile.keep_away),
            "exploiters": profile.exploiters,
            "medical_needs": profile.medical_needs,
            "expected_version": profile.version,
        }


def _relationship_field(label: str, required: bool) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", "Select"), *list(Relationship.choices)],
        required=required,
        error_messages={
            "required": "Select who the dependant is",
            "invalid_choice": "Select who the dependant is from the list",
        },
    )


def _sex_field(label: str, required: bool) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", "Select"), *list(Sex.choices)],
        required=required,
        error_messages={
            "required": "Select the dependant's sex",
            "invalid_choice": "Select a sex from the list",
        },
    )


def _age_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=120,
        error_messages={
            "invalid": "Enter the age as a whole number of years, like 4",
            "min_value": "The age must be 0 or more",
            "max_value": "The age must be 120 or less",
        },
    )


class ReferralSafetyForm(SafetyProfileForm):
    """The referral's "Risk and safety" page: the profile, and up to three dependants."""

    def dependant_rows(self) -> list[tuple[Any, Any, Any, Any]]:
        return [
            (
                self[f"dependant_{n}_relationship"],
                self[f"dependant_{n}_age"],
                self[f"dependant_{n}_sex"],
                self[f"dependant_{n}_name"],
            )
            for n in range(1, DEPENDANT_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        dependants = []
        for n in range(1, DEPENDANT_ROWS + 1):
            relationship = data.get(f"dependant_{n}_relationship")
            age = data.get(f"dependant_{n}_age")
            sex = data.get(f"dependant_{n}_sex")
            name = (data.get(f"dependant_{n}_name") or "").strip()
            if not (relationship or age is not None or sex or name):
                continue
            if f"dependant_{n}_age" in self.errors:
                continue
            if not relationship:
                self.add_error(f"dependant_{n}_relationship", f"Select who dependant {n} is")
            if age is None:
                self.add_error(f"dependant_{n}_age", f"Enter dependant {n}'s age in years")
            if not sex:
                self.add_error(f"dependant_{n}_sex", f"Select dependant {n}'s sex")
            if relationship and age is not None and sex:
                dependants.append(
                    {"relationship": relationship, "age_years": age, "sex": sex, "name": name}
                )
        data["dependants"] = dependants
        return data


# The dependants' rows are fields of the class (not added per form), so that the referral API's
# schema, built from the forms' `base_fields`, takes them too.
for _n in range(1, DEPENDANT_ROWS + 1):
    ReferralSafetyForm.base_fields.update(
        {
            f"dependant_{_n}_relationship": _relationship_field(
                f"Dependant {_n}: who they are", required=False
            ),
            f"dependant_{_n}_age": _age_field(f"Dependant {_n}: age in years"),
            f"dependant_{_n}_sex": _sex_field(f"Dependant {_n}: sex", required=False),
            f"dependant_{_n}_name": forms.CharField(
                label=f"Dependant {_n}: name (optional)", required=False, max_length=200
            ),
        }
    )


class ProfileEditForm(SafetyProfileForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_expected_version(self) -> int:
        """The version the page was opened with; none means it showed no profile (0, which
        versions never are), so that a profile someone recorded meanwhile refuses the save as
        stale rather than being overwritten (`services._claim`)."""
        version: int | None = self.cleaned_data.get("expected_version")
        return version or 0


class DependantForm(forms.Form):
    relationship = forms.ChoiceField(
        label="Who are they?",
        choices=Relationship.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who the dependant is",
            "invalid_choice": "Select who the dependant is from the list",
        },
    )
    age_years = _age_field("Age in years")
    born_estimate = forms.CharField(label="Or their date of birth, if known", required=False)
    sex = forms.ChoiceField(
        label="Sex",
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the dependant's sex",
            "invalid_choice": "Select a sex from the list",
        },
    )
    name = forms.CharField(label="Name (optional)", required=False, max_length=200)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["born_estimate"] = date_from_parts(self, "born_estimate", "Date of birth")
        if (
            data.get("age_years") is None
            and data["born_estimate"] is None
            and "age_years" not in self.errors
            and "born_estimate" not in self.errors
        ):
            self.add_error("age_years", "Enter their age in years, or their date of birth")
        return data
