"""Forms only clean input. Error messages follow the GOV.UK Design System's wording.

`IndicatorChecklistForm` is the reusable part: give it an indicator list and it cleans the
codes ticked from that list. The referral journey uses it with the list that fits the draft.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms

from opennrm.accounts.models import Organisation

from .catalogue import IndicatorList, ListKey


class StartForm(forms.Form):
    age_group = forms.ChoiceField(
        label="Is the person an adult or a child?",
        help_text="If there is any reason to believe they may be under 18, choose child: "
        "they are treated as a child until their age is assessed.",
        choices=[("adult", "Adult (18 or over)"), ("child", "Child (under 18)")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select whether the person is an adult or a child",
            "invalid_choice": "Select whether the person is an adult or a child",
        },
    )
    exploitation = forms.ChoiceField(
        label="What kind of exploitation do you suspect?",
        help_text="If you suspect both, choose the main one. You can screen again for the other.",
        choices=[("labour", "Labour exploitation"), ("sexual", "Sexual exploitation")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the kind of exploitation you suspect",
            "invalid_choice": "Select the kind of exploitation you suspect",
        },
    )
    organisation = forms.ChoiceField(
        label="Which organisation are you screening for?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the organisation you are screening for",
            "invalid_choice": "Select the organisation you are screening for",
        },
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Asked only of people who screen for more than one organisation.
        if len(organisations) > 1:
            field = cast(forms.ChoiceField, self.fields["organisation"])
            field.choices = [(str(o.pk), o.name) for o in organisations]
        else:
            del self.fields["organisation"]

    @property
    def list_key(self) -> ListKey:
        return ListKey.of(
            is_child=self.cleaned_data["age_group"] == "child",
            exploitation=self.cleaned_data["exploitation"],
        )


class IndicatorChecklistForm(forms.Form):
    observed = forms.MultipleChoiceField(
        label="Indicators you have seen",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "%(value)s is not an indicator in this list. Select only "
            "indicators shown on this page",
        },
    )
    none_observed = forms.BooleanField(label="I have not seen any of these", required=False)

    def __init__(self, *args: Any, indicator_list: IndicatorList, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.indicator_list = indicator_list
        observed = cast(forms.MultipleChoiceField, self.fields["observed"])
        observed.choices = [(i.code, i.text) for i in indicator_list.indicators]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.has_error("observed"):
            return cleaned
        observed = cleaned.get("observed") or []
        if not observed and not cleaned.get("none_observed"):
            self.add_error(
                "observed",
                "Select the indicators you have seen, or select "
                "\u2018I have not seen any of these\u2019",
            )
        elif observed and cleaned.get("none_observed"):
            # On the checklist, not the whole form: the error summary then links to it and the
            # message shows beside it (GOV.UK error summary; WCAG 3.3.1).
            self.add_error(
                "observed",
                "Select the indicators you have seen, or \u2018I have not seen any of these\u2019,"
                " not both",
            )
        return cleaned
