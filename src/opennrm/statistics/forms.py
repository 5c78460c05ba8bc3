"""The forms of the statistics pages."""

from __future__ import annotations

from django import forms

from .extract import Period
from .kanonymity import DEFAULT_K

QUARTERS = [("", "The whole year"), ("1", "Q1 (January to March)"), ("2", "Q2 (April to June)")]
QUARTERS += [("3", "Q3 (July to September)"), ("4", "Q4 (October to December)")]


class ExtractPeriodForm(forms.Form):
    """The period of the extract: a year, or one quarter of it (by the referral's date)."""

    year = forms.IntegerField(
        label="Year",
        help_text="The year the referrals were made, for example 2025",
        min_value=2009,
        max_value=2100,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Enter the year of the referrals",
            "invalid": "Enter the year as four digits, like 2025",
            "min_value": "The year must be 2009 or later: the NRM began in 2009",
            "max_value": "Enter the year as four digits, like 2025",
        },
    )
    quarter = forms.ChoiceField(
        label="Quarter",
        choices=QUARTERS,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select a quarter, or the whole year"},
    )

    k = forms.IntegerField(
        label="Smallest group (k)",
        help_text="Every combination of the quasi-identifiers will hold at least this many "
        "referrals. 11 or more; CTDC uses 11",
        min_value=DEFAULT_K,
        max_value=1000,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": "Enter k as a whole number, like 11",
            "min_value": f"k must be {DEFAULT_K} or more",
            "max_value": "k must be 1,000 or less",
        },
    )

    def chosen_k(self) -> int:
        return self.cleaned_data.get("k") or DEFAULT_K

    def period(self) -> Period:
        year, quarter = self.cleaned_data["year"], self.cleaned_data["quarter"]
        return Period.quarter(year, int(quarter)) if quarter else Period.year(year)
