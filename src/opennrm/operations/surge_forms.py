"""Forms of the surge pages (ADR 0044): add surge places, hold beds. Clean input, never save."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from opennrm.accommodation.models import Site
from opennrm.accounts.models import Organisation
from opennrm.lib.govuk_forms import date_from_parts

from .surge import end_of_day

MOST_PLACES = 500

# How far ahead places may be added or beds held. A day at the edge of what `date` holds
# (31 December 9999) overflowed when the hold's end was worked out, a 500; places and holds
# are for an operation that is about to happen, not years away.
FURTHEST_DAYS = 366


def _within_a_year(form: forms.Form, name: str, label: str, day: date | None) -> None:
    """Refuse `day` (already read, or None) if it is more than a year from today either way."""
    if day is None or name in form.errors:
        return
    today = timezone.localdate()
    earliest, latest = today - timedelta(days=FURTHEST_DAYS), today + timedelta(days=FURTHEST_DAYS)
    if day > latest:
        form.add_error(name, f"{label} must be {latest:%-d %B %Y} or earlier, within a year")
    elif day < earliest:
        form.add_error(name, f"{label} must be {earliest:%-d %B %Y} or later, within a year")


class SiteChoiceField(forms.ModelChoiceField[Site]):
    """A site by its code name and provider (never its address)."""

    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} ({obj.provider.name}, {obj.get_setting_display().lower()})"


class SurgeForm(forms.Form):
    # The page's one-time key (new each time it is shown): the same page sent twice (a second
    # click, a resend after a slow response) adds its places once (`surge.surge_add`).
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)
    site = SiteChoiceField(
        label="Where are the places?",
        queryset=Site.objects.none(),
        empty_label="Select the site",
        help_text="One of your sites, or another provider's if you have outsourced the places",
    )
    places = forms.IntegerField(
        label="How many places?",
        min_value=1,
        max_value=MOST_PLACES,
        error_messages={
            "required": "Enter how many places",
            "invalid": "Enter how many places as a whole number, like 10",
            "min_value": "Enter 1 place or more",
            "max_value": f"Enter {MOST_PLACES} places or fewer",
        },
    )
    starts_on = forms.CharField(
        label="First day", required=False, help_text="For example 10 3 2027"
    )
    ends_on = forms.CharField(label="Last day", required=False, help_text="For example 20 3 2027")
    funding_note = forms.CharField(
        label="Funding (optional)",
        max_length=300,
        required=False,
        help_text="Who pays for the places, for example the operation's budget for 10 days",
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["site"]
        field.queryset = sites

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["starts_on"] = date_from_parts(self, "starts_on", "First day")
        data["ends_on"] = date_from_parts(self, "ends_on", "Last day")
        for name, label in (("starts_on", "first day"), ("ends_on", "last day")):
            if data[name] is None and name not in self.errors:
                self.add_error(name, f"Enter the {label}")
            else:
                _within_a_year(self, name, f"The {label}", data[name])
        # (`add_error` takes a refused day out of the data)
        if (
            data.get("starts_on")
            and data.get("ends_on")
            and data["ends_on"] < data["starts_on"]
            and "ends_on" not in self.errors
        ):
            self.add_error("ends_on", "The last day must be the same as or after the first")
        return data


class HoldForm(forms.Form):
    # As `SurgeForm.submission_key`: the same page sent twice holds its beds once.
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)
    site = SiteChoiceField(
        label="Which site?", queryset=Site.objects.none(), empty_label="Select the site"
    )
    count = forms.IntegerField(
        label="How many beds?",
        min_value=1,
        max_value=MOST_PLACES,
        error_messages={
            "required": "Enter how many beds to hold",
            "invalid": "Enter how many beds as a whole number, like 3",
            "min_value": "Enter 1 bed or more",
            "max_value": f"Enter {MOST_PLACES} beds or fewer",
        },
    )
    until = forms.CharField(
        label="Hold them until the end of",
        required=False,
        help_text="After this day they are free for anyone again. For example 12 3 2027",
    )

    def __init__(
        self,
        *args: Any,
        provider: Organisation,
        sites: QuerySet[Site],
        last_day: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["site"]
        field.queryset = sites
        if last_day is not None:
            # The bound `surge.beds_hold` applies, said before it refuses.
            self.fields["until"].help_text = (
                f"{last_day:%-d %B %Y} at the latest, soon after the operation ends. After this "
                "day they are free for anyone again. For example 12 3 2027"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        until = date_from_parts(self, "until", "The last day held")
        if until is None and "until" not in self.errors:
            self.add_error("until", "Enter the last day to hold the beds")
        elif until is not None and until < timezone.localdate():
            self.add_error("until", "The last day held must be today or later")
        else:
            _within_a_year(self, "until", "The last day held", until)
        if until is not None and "until" not in self.errors:
            data["expires_at"] = end_of_day(until)
        return data
