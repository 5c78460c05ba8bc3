"""One form per question page of the referral journey. Forms only clean input; they are bound
to the raw answers saved in the draft, so a page shows exactly what was typed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation.models import ImmediateNeed
from opennrm.accounts.models import Organisation
from opennrm.cases.choices import AgeGroup, ExploitationLocation, ExploitationType, Gender, Sex
from opennrm.lib.govuk_forms import MultipleFileField, date_from_parts
from opennrm.lib.iso import country_choices, language_choices

YES_NO = [("yes", "Yes"), ("no", "No")]
UNDER_18_WHEN_BEGAN = [("yes", "Yes"), ("no", "No"), ("not_known", "Not known")]
OLDEST_PLAUSIBLE_AGE = 120

# The versions of the consent explanation a first responder can have given. A new version is
# added here (and to the printed leaflets) when the wording changes; old referrals keep theirs.
CONSENT_EXPLANATION_VERSIONS = [
    ("opennrm-consent-2026-1", "OpenNRM consent explanation, version 1 (2026)"),
]


Choices = list[tuple[str, str]] | Callable[[], list[tuple[str, str]]]


def _listed(
    first: tuple[str, str], choices: Callable[[], list[tuple[str, str]]]
) -> Callable[[], list[tuple[str, str]]]:
    """A long list (every country, every language) after its first option, given as a function
    so that a form does not copy it: a form copies its fields for each instance, and copying
    four lists of 250 pairs was most of the time taken to build the person step (6 ms of a
    submission's 20)."""

    @cache
    def listed() -> list[tuple[str, str]]:
        return [first, *choices()]

    return listed


class _LongChoiceField(forms.ChoiceField):
    """A choice from a long list given as a function (`_listed`), checked against the set of
    its values, made once: Django walks the list for each answer checked, building it afresh
    each time, which was a millisecond of every submission (four such answers re-checked)."""

    def __init__(self, *, choices: Callable[[], list[tuple[str, str]]], **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)
        self._values = cache(lambda: frozenset(str(value) for value, _ in choices()))

    def valid_value(self, value: Any) -> bool:
        return str(value) in self._values()


def _choice_field(choices: Choices, **kwargs: Any) -> forms.ChoiceField:
    if callable(choices):
        return _LongChoiceField(choices=choices, **kwargs)
    return forms.ChoiceField(choices=choices, **kwargs)


def _choice(
    label: str, choices: Choices, required_message: str, **kwargs: Any
) -> forms.ChoiceField:
    return _choice_field(
        label=label,
        choices=choices,
        error_messages={"required": required_message, "invalid_choice": required_message},
        **kwargs,
    )


def _optional_choice(label: str, choices: Choices, invalid: str) -> forms.ChoiceField:
    blank = ("", "Select")
    return _choice_field(
        label=label,
        choices=_listed(blank, choices) if callable(choices) else [blank, *choices],
        required=False,
        error_messages={"invalid_choice": invalid},
    )


PRESUMED_CHILD_REFUSED = (
    "This person was taken in as a child or as someone whose age is disputed, or their referral "
    "has said so since, and children's services are told. They are treated as a child until an "
    "age assessment says otherwise: change the answer to 'Is the person under 18?' to 'Yes' or "
    "'Not sure'."
)


class StartForm(forms.Form):
    """Which organisation a referral is made for, asked (as the screening's start page asks) only
    of a first responder of more than one: the organisation sees the person and the case, and
    its jurisdiction routes the referral."""

    organisation = forms.ChoiceField(
        label="Which organisation are you referring for?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the organisation you are referring for",
            "invalid_choice": "Select the organisation you are referring for",
        },
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisations = {str(o.pk): o for o in organisations}
        field = cast(forms.ChoiceField, self.fields["organisation"])
        field.choices = [(str(o.pk), o.name) for o in organisations]
        # One organisation: nothing to ask, but one named must still be hers.
        field.required = len(organisations) > 1

    @property
    def asks(self) -> bool:
        return len(self.organisations) > 1

    def clean_organisation(self) -> Organisation:
        value = self.cleaned_data.get("organisation") or ""
        if not value:
            return next(iter(self.organisations.values()))
        return self.organisations[value]


class AgeForm(forms.Form):
    under_18 = _choice(
        "Is the person under 18?",
        [("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure: their age is uncertain")],
        "Select whether the person is under 18",
    )
    reason_to_believe_child = _choice(
        "Is there any reason to believe they may be under 18?",
        YES_NO,
        "Select whether there is reason to believe they may be under 18",
        required=False,
        help_text="For example their appearance, what they say, or documents that may not be genuine",
    )

    def __init__(self, *args: Any, presumed_child: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Taken in as a child or as age disputed (`steps.presumed_child`): never an adult here.
        self.presumed_child = presumed_child

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("under_18") == "not_sure" and not data.get("reason_to_believe_child"):
            self.add_error(
                "reason_to_believe_child",
                "Select whether there is reason to believe they may be under 18",
            )
        adult = data.get("under_18") == "no" or (
            data.get("under_18") == "not_sure" and data.get("reason_to_believe_child") == "no"
        )
        if self.presumed_child and adult:
            self.add_error("under_18", PRESUMED_CHILD_REFUSED)
        return data


class ConsentForm(forms.Form):
    consents_to_referral = _choice(
        "Does the person consent to being referred?",
        YES_NO,
        "Select whether the person consents to being referred",
        help_text="They must understand what a referral means. Give the explanation in a language they understand.",
    )
    consents_to_support = _choice(
        "Does the person consent to receiving support?",
        YES_NO,
        "Select whether the person consents to receiving support",
        required=False,
        help_text="For example a safe place to stay, and help with health, money and legal advice",
    )
    explanation_version = _choice(
        "Which explanation of the mechanism did you give?",
        CONSENT_EXPLANATION_VERSIONS,
        "Select the explanation you gave",
    )
    explanation_language = _choice(
        "In which language did you explain it?",
        _listed(("", "Select a language"), language_choices),
        "Select the language you explained it in",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consents_to_referral") == "yes" and not data.get("consents_to_support"):
            self.add_error(
                "consents_to_support", "Select whether the person consents to receiving support"
            )
        return data


class PersonForm(forms.Form):
    given_names = forms.CharField(
        label="Given names",
        max_length=200,
        error_messages={"required": "Enter the person's given names, or the name they use"},
    )
    family_name = forms.CharField(label="Family name (optional)", max_length=200, required=False)
    # Entered as three boxes (date_of_birth_day, _month, _year); this field carries their error.
    date_of_birth = forms.CharField(
        label="Date of birth (if known)", help_text="For example, 27 3 2007", required=False
    )
    aliases = forms.CharField(
        label="Other names they use or are known by (optional)",
        help_text="One name on each line",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    estimated_age = forms.IntegerField(
        label="Estimated age in years (if you do not know their date of birth)",
        required=False,
        min_value=0,
        max_value=OLDEST_PLAUSIBLE_AGE,
        error_messages={
            "invalid": "Enter the estimated age as a whole number, like 17",
            "min_value": "Estimated age must be 0 or more",
            "max_value": f"Estimated age must be {OLDEST_PLAUSIBLE_AGE} or less",
        },
    )
    sex = _choice("Sex", Sex.choices, "Select the person's sex")
    gender = _optional_choice("Gender (optional)", Gender.choices, "Select a gender from the list")
    nationality_1 = _choice(
        "Nationality",
        _listed(("", "Select a country"), country_choices),
        "Select a nationality from the list",
    )
    nationality_2 = _optional_choice(
        "Second nationality (optional)", country_choices, "Select a nationality from the list"
    )
    language_1 = _choice(
        "Main language",
        _listed(("", "Select a language"), language_choices),
        "Select the person's main language from the list",
    )
    language_2 = _optional_choice(
        "Other language (optional)", language_choices, "Select a language from the list"
    )
    interpreter_needed = _choice(
        "Do they need an interpreter?", YES_NO, "Select whether they need an interpreter"
    )
    safe_contact = forms.CharField(
        label="How can they be contacted safely? (optional)",
        help_text="Only contact details that the people who exploited them do not know or control",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, age_group: AgeGroup | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The answer on the age page: an age here must agree with it.
        self.age_group = age_group

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        born = date_from_parts(self, "date_of_birth", "Date of birth")
        today = timezone.localdate()
        data["date_of_birth"] = None
        if born is not None:
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            if born > today:
                self.add_error("date_of_birth", "Date of birth must be in the past")
            elif age > OLDEST_PLAUSIBLE_AGE:
                self.add_error(
                    "date_of_birth",
                    f"Date of birth must give an age of {OLDEST_PLAUSIBLE_AGE} or less",
                )
            else:
                data["date_of_birth"] = born
                data["age"] = age
        elif "date_of_birth" not in self.errors:
            if data.get("estimated_age") is None and "estimated_age" not in self.errors:
                self.add_error("estimated_age", "Enter their date of birth or an estimated age")
            else:
                data["age"] = data.get("estimated_age")
        self._check_age_agrees(data)
        if data.get("nationality_2") and data.get("nationality_2") == data.get("nationality_1"):
            self.add_error("nationality_2", "Second nationality must be different from the first")
        return data

    def _check_age_agrees(self, data: dict[str, Any]) -> None:
        """An age that contradicts the answer about whether they are under 18 is refused: the
        answer decides whether they are safeguarded as a child."""
        age = data.get("age")
        if age is None or self.age_group not in (AgeGroup.CHILD, AgeGroup.ADULT):
            return  # an age disputed and treated as a child may be any age until assessed
        field = "date_of_birth" if data.get("date_of_birth") else "estimated_age"
        given = "The date of birth gives an age of" if field == "date_of_birth" else "An age of"
        if self.age_group == AgeGroup.CHILD and age >= 18:
            self.add_error(
                field,
                f"{given} {age}, but you said they are under 18. Correct it, or change your "
                "answer about their age",
            )
        elif self.age_group == AgeGroup.ADULT and age < 18:
            self.add_error(
                field,
                f"{given} {age}, but you said they are not under 18. Correct it, or change "
                "your answer about their age: a child is referred as a child",
            )


class AnonymousPersonForm(forms.Form):
    """About the person, for a duty to notify report: nothing that identifies them."""

    sex = PersonForm.base_fields["sex"]
    estimated_age = forms.IntegerField(
        label="Approximate age in years",
        min_value=18,
        max_value=OLDEST_PLAUSIBLE_AGE,
        error_messages={
            "required": "Enter their approximate age",
            "invalid": "Enter the approximate age as a whole number, like 34",
            "min_value": "An adult's age must be 18 or more; if they may be under 18, change your answer about their age",
            "max_value": f"Approximate age must be {OLDEST_PLAUSIBLE_AGE} or less",
        },
    )
    nationality_1 = PersonForm.base_fields["nationality_1"]


class ExploitationForm(forms.Form):
    types = forms.MultipleChoiceField(
        label="What kind of exploitation?",
        help_text="Select all that apply",
        choices=ExploitationType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one kind of exploitation, or 'Not specified or not known'",
            "invalid_choice": "Select kinds of exploitation from the list",
        },
    )
    location = _choice(
        "Where did the exploitation happen?",
        ExploitationLocation.choices,
        "Select where the exploitation happened",
    )
    places = forms.CharField(
        label="Places where it happened (optional)",
        help_text="Towns, addresses or countries, as far as known",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    area = _choice(
        "Which local authority area is the person in now?",
        [],
        "Select the local authority area the person is in now",
        help_text="This decides who safeguards a child and where support is found",
    )
    in_immigration_detention = _choice(
        "Is the person in immigration detention?",
        YES_NO,
        "Select whether the person is in immigration detention",
    )
    started = forms.CharField(
        label="When did it start? (optional)", help_text="For example, 6 2025", required=False
    )
    # Asked of an adult only (ADR 0042): a child or age-disputed person was a child then too.
    under_18_when_began = _choice(
        "Was the person under 18 when the exploitation began?",
        UNDER_18_WHEN_BEGAN,
        "Select whether they were under 18 when the exploitation began",
        help_text="A person exploited as a child is a child in the definition of trafficking",
    )

    def __init__(
        self,
        *args: Any,
        areas: list[str],
        born: date | None = None,
        age_group: AgeGroup | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", "Select an area")] + [(a, a) for a in areas]  # type: ignore[attr-defined]
        # The person's date of birth, if the person page gives one: it cannot start before.
        self.born = born
        if age_group != AgeGroup.ADULT:
            del self.fields["under_18_when_began"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        started = date_from_parts(self, "started", "When it started", require_day=False)
        today = timezone.localdate()
        if started and started > today:
            self.add_error("started", "When it started must be in the past")
            started = None
        elif (
            started
            and self.born
            and (started.year, started.month)
            < (
                self.born.year,
                self.born.month,
            )
        ):
            self.add_error(
                "started",
                f"When it started must be after their date of birth ({self.born:%-d %B %Y})",
            )
            started = None
        elif started and started.year < today.year - OLDEST_PLAUSIBLE_AGE:
            self.add_error(
                "started", f"When it started must be within the last {OLDEST_PLAUSIBLE_AGE} years"
            )
            started = None
        data["started"] = started
        self._check_under_18_agrees(data, started)
        return data

    def _check_under_18_agrees(self, data: dict[str, Any], started: date | None) -> None:
        """An answer about their age when it began that the date of birth and the month it
        started contradict is refused: one of them is a mistake (a month that holds their 18th
        birthday decides nothing). 'Not known' is refused too when they show a child then: a
        person exploited as a child is never left short of being treated as one."""
        answer = data.get("under_18_when_began")
        if started is None or self.born is None or answer not in ("yes", "no", "not_known"):
            return
        last_day = date(started.year + started.month // 12, started.month % 12 + 1, 1)
        last_day = date.fromordinal(last_day.toordinal() - 1)
        if answer in ("no", "not_known") and _age_on(self.born, last_day) < 18:
            self.add_error(
                "under_18_when_began",
                f"Their date of birth ({self.born:%-d %B %Y}) says they were under 18 when it "
                "started: answer Yes, or correct the date of birth or when it started",
            )
        elif answer == "yes" and _age_on(self.born, started) >= 18:
            self.add_error(
                "under_18_when_began",
                f"Their date of birth ({self.born:%-d %B %Y}) says they were 18 or over when it "
                "started: answer No, or correct the date of birth or when it started",
            )

    def clean_types(self) -> list[str]:
        types: list[str] = self.cleaned_data["types"]
        if ExploitationType.UNKNOWN in types and len(types) > 1:
            raise ValidationError(
                "Select 'Not specified or not known' on its own, or only the kinds of "
                "exploitation that apply"
            )
        return types


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class AnonymousExploitationForm(forms.Form):
    types = ExploitationForm.base_fields["types"]
    clean_types = ExploitationForm.clean_types
    location = ExploitationForm.base_fields["location"]
    area = ExploitationForm.base_fields["area"]

    def __init__(self, *args: Any, areas: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", "Select an area")] + [(a, a) for a in areas]  # type: ignore[attr-defined]


PREMISES = [
    ("house_or_flat", "A house or flat"),
    ("hotel", "A hotel or short let"),
    ("car_wash", "A car wash"),
    ("nail_bar", "A nail bar or beauty salon"),
    ("restaurant", "A restaurant or takeaway"),
    ("farm", "A farm or fields"),
    ("factory", "A factory or warehouse"),
    ("construction", "A building site"),
    ("massage_parlour", "A massage parlour or brothel"),
    ("vehicle", "A vehicle or boat"),
    ("other", "Somewhere else"),
]
INTELLIGENCE_ROWS = 3
_REGISTRATION = re.compile(r"^[A-Z0-9 ]+$")
NOTHING_ABOUT_THE_PERSON = (
    "Do not include anything that could identify the person: no names, dates of birth, phone "
    "numbers or addresses of the person."
)


def _short(label: str, limit: int, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=limit,
        error_messages={"max_length": f"{label} must be {limit} characters or fewer"},
        **kwargs,
    )


def _intelligence_fields() -> dict[str, forms.Field]:
    """The intelligence page's fields, in the order it asks them: places, the exploiters,
    vehicles, dates."""
    fields: dict[str, forms.Field] = {}
    for n in range(1, INTELLIGENCE_ROWS + 1):
        fields[f"place_{n}_area"] = _short(
            f"Place {n}: town or area (optional)",
            100,
            help_text="A town, district or street name, never the person's address",
        )
        fields[f"place_{n}_premises"] = forms.ChoiceField(
            label=f"Place {n}: type of premises (optional)",
            choices=[("", "Select"), *PREMISES],
            required=False,
            error_messages={"invalid_choice": "Select the type of premises from the list"},
        )
    fields["exploiters"] = forms.CharField(
        label="Descriptions of the exploiters (optional)",
        help_text="What they look like, how many there are, what others call them, how they "
        "behave. " + NOTHING_ABOUT_THE_PERSON,
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "max_length": "Descriptions of the exploiters must be 3,000 characters or fewer"
        },
    )
    for n in range(1, INTELLIGENCE_ROWS + 1):
        fields[f"vehicle_{n}_make"] = _short(f"Vehicle {n}: make and model (optional)", 60)
        fields[f"vehicle_{n}_colour"] = _short(f"Vehicle {n}: colour (optional)", 30)
        fields[f"vehicle_{n}_registration"] = _short(
            f"Vehicle {n}: registration (optional)", 12, help_text="As much of it as is known"
        )
    fields["dates"] = forms.CharField(
        label="Relevant dates (optional)",
        help_text="When things happened, for example \u2018Fridays in March 2026: a van "
        "collected workers at 5am\u2019. Never the person's date of birth.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "Relevant dates must be 2,000 characters or fewer"},
    )
    return fields


class _Intelligence(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, INTELLIGENCE_ROWS + 1):
            name = f"vehicle_{n}_registration"
            registration = " ".join((data.get(name) or "").upper().split())
            if registration and not _REGISTRATION.match(registration):
                self.add_error(
                    name, f"Vehicle {n}: the registration can only include letters and numbers"
                )
            elif name in data:
                data[name] = registration
        return data


# What a duty to notify report can tell the police about the exploitation without identifying
# the person: all optional, up to three places and three vehicles.
IntelligenceForm: type[forms.Form] = type(
    "IntelligenceForm", (_Intelligence,), {"__module__": __name__, **_intelligence_fields()}
)


def intelligence_places(data: dict[str, Any]) -> list[dict[str, str]]:
    """The places given on the intelligence page (its cleaned data), without empty rows."""
    return [
        {
            "area": (data.get(f"place_{n}_area") or "").strip(),
            "premises": data.get(f"place_{n}_premises") or "",
        }
        for n in range(1, INTELLIGENCE_ROWS + 1)
        if (data.get(f"place_{n}_area") or "").strip() or data.get(f"place_{n}_premises")
    ]


def intelligence_vehicles(data: dict[str, Any]) -> list[dict[str, str]]:
    """The vehicles given on the intelligence page (its cleaned data), without empty rows."""
    parts = ("make", "colour", "registration")
    rows = [
        {part: (data.get(f"vehicle_{n}_{part}") or "").strip() for part in parts}
        for n in range(1, INTELLIGENCE_ROWS + 1)
    ]
    return [row for row in rows if any(row.values())]


INTELLIGENCE_FIELDS = frozenset(IntelligenceForm.base_fields)


class AccountForm(forms.Form):
    persons_account = forms.CharField(
        label="What happened, in the person's own words",
        help_text="Write down what they told you, as they said it. Leave it empty if they did not want to say.",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    responders_account = forms.CharField(
        label="What you saw and why you are referring them",
        help_text="Include the indicators you noticed and any evidence you have",
        max_length=20_000,
        error_messages={"required": "Enter what you saw and why you are referring them"},
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class NeedsForm(forms.Form):
    needs = forms.MultipleChoiceField(
        label="Does the person need any of these now?",
        help_text="Select all that apply",
        choices=[*ImmediateNeed.choices, ("none", "None of these")],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select what the person needs now, or 'None of these'",
            "invalid_choice": "Select needs from the list",
        },
    )
    details = forms.CharField(
        label="Details (optional)",
        help_text="For example a medical condition, or who they need to be kept away from",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_needs(self) -> list[str]:
        needs: list[str] = self.cleaned_data["needs"]
        if "none" in needs and len(needs) > 1:
            raise ValidationError("Select 'None of these' on its own, or only the needs that apply")
        return [] if needs == ["none"] else needs


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text="A PDF, JPEG or PNG, up to 10 MB",
        error_messages={
            "required": "Select a file to upload",
            "empty": "The selected file is empty",
        },
    )


# --- After submission (ADR 28) ------------------------------------------------------------------


# The latest day a request for information may be answered by, from the day it is asked. A
# request is made because a decision waits on it: a reasonable grounds decision within 5 working
# days, a conclusive grounds one from 30 days after it. Three months leaves time to get records
# (from abroad, from a court) while a day further ahead is all but surely a mistyped year (2062
# for 2026, 9999), which would tell the referrer to answer years ahead and sort the question
# last in their list while the person waits. A decision maker who needs longer asks again.
LONGEST_TO_ANSWER = timedelta(days=92)


def answer_by_problem(respond_by: date, today: date) -> str | None:
    """What is wrong with a day to answer a request for information by, if anything."""
    if respond_by < today:
        return "The date to answer by must be today or in the future"
    if respond_by > today + LONGEST_TO_ANSWER:
        latest = today + LONGEST_TO_ANSWER
        return f"The date to answer by must be {latest:%-d %B %Y} or earlier (within 3 months)"
    return None


class InformationRequestForm(forms.Form):
    # A new key each time the page is shown (`initial`), sent back with the request: the same
    # form sent twice asks once (`services.information_request_ask`).
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)
    question = forms.CharField(
        label="What do you need to know?",
        help_text="Ask the referring organisation plainly; they see exactly what you write",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter what you need to know"},
    )
    # Entered as three boxes (respond_by_day, _month, _year); this field carries their error.
    respond_by = forms.CharField(
        label="Answer by", help_text="For example, 27 3 2026", required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        respond_by = date_from_parts(self, "respond_by", "Answer by")
        if respond_by is None and "respond_by" not in self.errors:
            self.add_error("respond_by", "Enter the date to answer by")
        elif respond_by is not None and (
            problem := answer_by_problem(respond_by, timezone.localdate())
        ):
            self.add_error("respond_by", problem)
            respond_by = None
        data["respond_by"] = respond_by
        return data


class AdditionForm(forms.Form):
    # A new key each time the page is shown (`initial`), sent back with the information: the
    # same form sent twice adds it once (`services.referral_addition_add`).
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)
    text = forms.CharField(
        label="What do you want to add?",
        help_text="This is kept beside the referral as submitted; it does not change it",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "Enter the information you are adding"},
    )
    evidence = MultipleFileField(
        label="Evidence (optional)",
        help_text="PDF, JPEG or PNG files, each up to 10 MB. You can select more than one",
        required=False,
        error_messages={"empty": "The selected file is empty"},
    )
