from __future__ import annotations

from typing import Any

from django import forms

from opennrm.cases.choices import ExploitationType, Sex
from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.iso import language_choices
from opennrm.lib.text import single_line

from .models import (
    DeclineReason,
    ExitReason,
    Region,
    Setting,
    SiteAges,
    SiteKind,
    Specialism,
    Urgency,
)
from .places import PLACES

PLACE_CHOICES = [("", "Select a town or city"), *((name, name) for name in sorted(PLACES))]
KEEP_AWAY_ROWS = 3


def _multiple(label: str, choices: Any, help_text: str = "", required: bool = False) -> Any:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=required,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Select from the list",
            "required": "Select at least one",
        },
    )


class RequestConstraintsForm(forms.Form):
    """What a person needs from a place, what keeps them safe, and what they would like."""

    urgency = forms.ChoiceField(
        label="How urgent is it?",
        choices=Urgency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how urgent it is"},
    )
    needed_from = forms.CharField(label="Needed from", required=False)
    accepted_settings = _multiple(
        "Which settings can the person be placed in?",
        Setting.choices,
        "Uncheck a setting the person must not be placed in, for example a mixed house",
        required=True,
    )
    dependants = forms.IntegerField(
        label="Children coming with them",
        min_value=0,
        max_value=10,
        error_messages={
            "required": "Enter how many children come with them (0 if none)",
            "invalid": "Enter the number of children as a whole number, like 2",
            "min_value": "The number of children must be 0 or more",
            "max_value": "The number of children must be 10 or fewer",
        },
    )
    needs_wheelchair = forms.BooleanField(label="Needs wheelchair access", required=False)
    interpreter_needed = forms.BooleanField(
        label="Can be supported through an interpreter",
        help_text="If not, staff must speak one of the person's languages",
        required=False,
    )
    required_specialisms = _multiple("Support they must have", Specialism.choices)
    excluded_regions = _multiple("Regions they must not be placed in", Region.choices)
    excluded_area_names = forms.CharField(
        label="Local authority areas they must not be placed in (optional)",
        help_text="One on each line, for example Testshire",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    preferred_regions = _multiple("Regions they would prefer", Region.choices)
    near_school = forms.BooleanField(label="Would like to be near a school", required=False)
    wanted_specialisms = _multiple("Support they would like", Specialism.choices)
    details_reviewed = forms.BooleanField(
        label="I have read what the first responder wrote, and turned it into the needs and "
        "constraints on this page",
        help_text="Until then the person is not matched or placed",
        required=False,
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, KEEP_AWAY_ROWS + 1):
            self.fields[f"keep_away_place_{n}"] = forms.ChoiceField(
                label=f"Place {n} to keep away from",
                choices=PLACE_CHOICES,
                required=False,
                error_messages={"invalid_choice": "Select a town or city from the list"},
            )
            self.fields[f"keep_away_km_{n}"] = forms.IntegerField(
                label=f"At least how many kilometres from place {n}",
                required=False,
                min_value=1,
                max_value=1000,
                error_messages={
                    "invalid": "Enter the distance in whole kilometres, like 50",
                    "min_value": "The distance must be at least 1 km",
                    "max_value": "The distance must be 1,000 km or less",
                },
            )

    def keep_away_rows(self) -> list[tuple[Any, Any]]:
        return [
            (self[f"keep_away_place_{n}"], self[f"keep_away_km_{n}"])
            for n in range(1, KEEP_AWAY_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["needed_from"] = date_from_parts(self, "needed_from", "Needed from")
        if data["needed_from"] is None and "needed_from" not in self.errors:
            self.add_error("needed_from", "Enter the date the place is needed from")
        zones = []
        for n in range(1, KEEP_AWAY_ROWS + 1):
            place, km = data.get(f"keep_away_place_{n}"), data.get(f"keep_away_km_{n}")
            if place and not km:
                self.add_error(f"keep_away_km_{n}", f"Enter how far from {place} to keep away")
            elif km and not place:
                self.add_error(f"keep_away_place_{n}", "Select the place to keep away from")
            elif place and km:
                _region, lat, lon = PLACES[place]
                zones.append({"label": place, "place": place, "lat": lat, "lon": lon, "km": km})
        data["keep_away"] = zones
        areas = [
            line.strip()
            for line in (data.get("excluded_area_names") or "").splitlines()
            if line.strip()
        ]
        data["excluded_areas"] = sorted(set(data.get("excluded_regions") or []) | set(areas))
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "urgency": data["urgency"],
            "needed_from": data["needed_from"],
            "accepted_settings": list(data["accepted_settings"]),
            "dependants": data["dependants"],
            "needs_wheelchair": data["needs_wheelchair"],
            "interpreter_needed": data["interpreter_needed"],
            "required_specialisms": list(data["required_specialisms"]),
            "keep_away": data["keep_away"],
            "excluded_areas": data["excluded_areas"],
            "preferred_regions": list(data["preferred_regions"]),
            "near_school": data["near_school"],
            "wanted_specialisms": list(data["wanted_specialisms"]),
        }

    @classmethod
    def initial_for(cls, request: Any) -> dict[str, Any]:
        regions = set(Region.values)
        initial: dict[str, Any] = {
            "urgency": request.urgency,
            "accepted_settings": request.accepted_settings,
            "dependants": request.dependants,
            "needs_wheelchair": request.needs_wheelchair,
            "interpreter_needed": request.interpreter_needed,
            "required_specialisms": request.required_specialisms,
            "excluded_regions": [a for a in request.excluded_areas if a in regions],
            "excluded_area_names": "\n".join(a for a in request.excluded_areas if a not in regions),
            "preferred_regions": request.preferred_regions,
            "near_school": request.near_school,
            "wanted_specialisms": request.wanted_specialisms,
            "expected_version": request.version,
        }
        for n, zone in enumerate(request.keep_away[:KEEP_AWAY_ROWS], start=1):
            initial[f"keep_away_place_{n}"] = zone.get("place", "")
            initial[f"keep_away_km_{n}"] = zone.get("km")
        return initial

    @staticmethod
    def date_data(request: Any) -> dict[str, str]:
        day = request.needed_from
        return {
            "needed_from_day": str(day.day),
            "needed_from_month": str(day.month),
            "needed_from_year": str(day.year),
        }


class RaiseRequestForm(forms.Form):
    reference = forms.CharField(
        label="Case reference",
        help_text="For example, NRM-7K2P-4D9X",
        max_length=20,
        error_messages={"required": "Enter the case reference"},
    )
    urgency = forms.ChoiceField(
        label="How urgent is it?",
        choices=Urgency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how urgent it is"},
    )
    needed_from = forms.CharField(label="Needed from", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["needed_from"] = date_from_parts(self, "needed_from", "Needed from")
        if data["needed_from"] is None and "needed_from" not in self.errors:
            self.add_error("needed_from", "Enter the date the place is needed from")
        return data


class CloseRequestForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Why is the request closed?",
        choices=[
            ("withdrawn", "The person no longer needs a place"),
            ("unmet", "No suitable place can be found"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the request is closed"},
    )


class PlaceByHandForm(forms.Form):
    bed = forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": "Select a bed"})


class RespondForm(forms.Form):
    answer = forms.ChoiceField(
        label="Can you take this person?",
        choices=[("accept", "Yes, we accept"), ("decline", "No, we must decline")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you can take this person"},
    )
    reason = forms.ChoiceField(
        label="Why not?",
        choices=[("", "Select a reason"), *DeclineReason.choices],
        required=False,
        error_messages={"invalid_choice": "Select a reason from the list"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("answer") == "decline" and not data.get("reason"):
            self.add_error("reason", "Select why you cannot take this person")
        return data


class ArrivedForm(forms.Form):
    arrived_on = forms.CharField(label="The day they arrived", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["arrived_on"] = date_from_parts(self, "arrived_on", "The day they arrived")
        if data["arrived_on"] is None and "arrived_on" not in self.errors:
            self.add_error("arrived_on", "Enter the day they arrived")
        return data


class EndForm(forms.Form):
    ended_on = forms.CharField(label="The day they left", required=False)
    reason = forms.ChoiceField(
        label="Why did they leave?",
        choices=ExitReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why they left"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["ended_on"] = date_from_parts(self, "ended_on", "The day they left")
        if data["ended_on"] is None and "ended_on" not in self.errors:
            self.add_error("ended_on", "Enter the day they left")
        return data


class SiteForm(forms.Form):
    name = forms.CharField(
        label="Code name",
        help_text="A name that says nothing about where the site is, for example North House 2. "
        "It is the only name others see.",
        max_length=100,
        error_messages={"required": "Enter a code name for the site"},
        # It is in the subject of e-mails about places there, which must be one line.
        validators=[single_line("The code name")],
    )
    kind = forms.ChoiceField(
        label="Kind of site",
        choices=SiteKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of site"},
    )
    setting = forms.ChoiceField(
        label="Who lives there",
        choices=Setting.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who lives there"},
    )
    ages = forms.ChoiceField(
        label="Who it is for",
        help_text="A child, or someone whose age is disputed, is only ever placed in a setting "
        "for children, and an adult never is",
        choices=SiteAges.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the site is for adults or for children"},
    )
    region = forms.ChoiceField(
        label="Region",
        choices=[("", "Select a region"), *Region.choices],
        error_messages={"required": "Select the region", "invalid_choice": "Select a region"},
    )
    area = forms.CharField(
        label="Local authority area",
        max_length=120,
        error_messages={"required": "Enter the local authority area"},
    )
    address = forms.CharField(
        label="Address",
        help_text="Seen only by your organisation's staff and coordinators given permission",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter the address"},
    )
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    latitude = forms.DecimalField(
        label="Latitude",
        help_text="For example 53.4808. Used to keep people away from places of danger.",
        max_digits=8,
        decimal_places=5,
        required=False,
        error_messages={"invalid": "Enter the latitude as a number, like 53.4808"},
    )
    longitude = forms.DecimalField(
        label="Longitude",
        help_text="For example -2.2426",
        max_digits=8,
        decimal_places=5,
        required=False,
        error_messages={"invalid": "Enter the longitude as a number, like -2.2426"},
    )
    staff_languages = forms.MultipleChoiceField(
        label="Languages the staff speak",
        choices=language_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"invalid_choice": "Select languages from the list"},
    )
    specialisms = _multiple("What the site specialises in", Specialism.choices)
    near_school = forms.BooleanField(label="Near a school", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        latitude, longitude = data.get("latitude"), data.get("longitude")
        # Said at once with any other problem; not when one of the two is itself invalid.
        coordinates_valid = "latitude" not in self.errors and "longitude" not in self.errors
        if (latitude is None) != (longitude is None) and coordinates_valid:
            self.add_error(
                "latitude" if latitude is None else "longitude",
                "Enter both the latitude and the longitude, or neither",
            )
        data["location"] = (
            [float(latitude), float(longitude)]
            if latitude is not None and longitude is not None
            else None
        )
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "setting": data["setting"],
            "ages": data["ages"],
            "region": data["region"],
            "area": data["area"],
            "address": data["address"],
            "postcode": data["postcode"],
            "location": data["location"],
            "staff_languages": list(data["staff_languages"]),
            "specialisms": list(data["specialisms"]),
            "near_school": data["near_school"],
        }


OUT_OF_DATE_PAGE = "This page is out of date: open the site again, then make your change"


class SiteChangeForm(SiteForm):
    """The site's details as its page showed them, with the version it showed: a save from a
    page opened before someone else's change is refused (`services.site_update`)."""

    # Required: a save that does not say which version it was made from cannot be checked.
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": OUT_OF_DATE_PAGE,
            "invalid": OUT_OF_DATE_PAGE,
        },
    )

    @classmethod
    def initial_for(cls, site: Any) -> dict[str, Any]:
        latitude, longitude = site.location or (None, None)
        return {
            "name": site.name,
            "kind": site.kind,
            "setting": site.setting,
            "ages": site.ages,
            "region": site.region,
            "area": site.area,
            "address": site.address,
            "postcode": site.postcode,
            "latitude": latitude,
            "longitude": longitude,
            "staff_languages": site.staff_languages,
            "specialisms": site.specialisms,
            "near_school": site.near_school,
            "expected_version": site.version,
        }


class RoomForm(forms.Form):
    name = forms.CharField(
        label="Room name", max_length=50, error_messages={"required": "Enter the room's name"}
    )
    beds = forms.IntegerField(
        label="Beds in the room",
        min_value=1,
        max_value=20,
        error_messages={
            "required": "Enter how many beds the room has",
            "invalid": "Enter the number of beds as a whole number, like 2",
            "min_value": "A room has at least 1 bed",
            "max_value": "A room has 20 beds or fewer",
        },
    )
    takes_dependants = forms.IntegerField(
        label="Children who can stay with a parent here",
        min_value=0,
        max_value=10,
        initial=0,
        error_messages={
            "required": "Enter how many children can stay (0 if none)",
            "invalid": "Enter the number of children as a whole number, like 2",
            "min_value": "The number of children must be 0 or more",
            "max_value": "The number of children must be 10 or fewer",
        },
    )
    wheelchair_accessible = forms.BooleanField(label="Wheelchair accessible", required=False)


class OutOfServiceForm(forms.Form):
    reason = forms.CharField(
        label="Why is the bed out of service?",
        max_length=200,
        error_messages={"required": "Enter why the bed is out of service"},
    )


class ServiceForm(forms.Form):
    """A service as the Human Services Data Specification describes one: what it is, and who
    it is for (empty eligibility means anyone)."""

    name = forms.CharField(
        label="Name of the service",
        max_length=200,
        error_messages={"required": "Enter the name of the service"},
    )
    description = forms.CharField(
        label="What it offers (optional)",
        help_text="Everyone signed in can read this, and it is published in the open directory: "
        "never say where a safe house is",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    eligible_sexes = _multiple(
        "Who it is for", Sex.choices, "Leave all unticked if it is for anyone"
    )
    minimum_age = forms.IntegerField(
        label="Youngest age (optional)",
        min_value=0,
        max_value=120,
        required=False,
        error_messages={
            "invalid": "Enter the youngest age as a whole number, like 18",
            "min_value": "The youngest age must be 0 or more",
            "max_value": "The youngest age must be 120 or less",
        },
    )
    maximum_age = forms.IntegerField(
        label="Oldest age (optional)",
        min_value=0,
        max_value=120,
        required=False,
        error_messages={
            "invalid": "Enter the oldest age as a whole number, like 25",
            "min_value": "The oldest age must be 0 or more",
            "max_value": "The oldest age must be 120 or less",
        },
    )
    exploitation_types = _multiple(
        "Kinds of exploitation it supports",
        ExploitationType.choices,
        "Leave all unticked if it supports anyone",
    )
    languages = forms.MultipleChoiceField(
        label="Languages it is offered in",
        choices=language_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"invalid_choice": "Select languages from the list"},
    )
    accessibility = forms.CharField(
        label="Accessibility (optional)",
        help_text="For example: step-free entrance, hearing loop",
        max_length=300,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        youngest, oldest = data.get("minimum_age"), data.get("maximum_age")
        if youngest is not None and oldest is not None and youngest > oldest:
            self.add_error("maximum_age", "The oldest age must not be below the youngest")
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "eligible_sexes": list(data["eligible_sexes"]),
            "minimum_age": data["minimum_age"],
            "maximum_age": data["maximum_age"],
            "exploitation_types": list(data["exploitation_types"]),
            "languages": list(data["languages"]),
            "accessibility": data["accessibility"],
        }


class AddressGrantRequestForm(forms.Form):
    """A coordinator asks to see one site's address (`services.address_grant_request`)."""

    site = forms.ChoiceField(
        label="Site",
        error_messages={
            "required": "Select the site whose address you need",
            "invalid_choice": "Select a site from the list",
        },
    )
    reason = forms.CharField(
        label="Why do you need its address?",
        help_text="For example, to arrange a person's journey there. Do not write their name.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say why you need this address",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )
    emergency = forms.BooleanField(
        label="Emergency: the provider cannot be reached in time",
        required=False,
        help_text="A competent authority's senior decision maker may then approve it, for 24 hours",
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [  # type: ignore[attr-defined]
            ("", "Select a site"),
            *((str(site.pk), f"{site.name} ({site.provider.name})") for site in sites),
        ]
