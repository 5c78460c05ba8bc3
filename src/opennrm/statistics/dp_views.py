"""The analyst's page of differentially private counts (`statistics:dp_query`; ADR 0035): a
question (period, one to three ways to split, epsilon) answered with noisy counts and their
95% intervals, charged to the analyst's privacy budget for the month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from opennrm.accounts.actor import actor_of
from opennrm.lib.govuk_forms import date_from_parts, show_refusal

from . import dp, selectors, services


class DpQueryForm(forms.Form):
    start = forms.CharField(
        label="Referred from", help_text="For example, 1 1 2026", required=False
    )
    end = forms.CharField(label="Referred to", help_text="For example, 31 3 2026", required=False)
    dimensions = forms.MultipleChoiceField(
        label="Split the count by",
        help_text=f"Select {dp.MIN_DIMENSIONS} to {dp.MAX_DIMENSIONS}",
        choices=[(key, dimension.label) for key, dimension in dp.DIMENSIONS.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one way to split the count",
            "invalid_choice": "Select the ways to split the count from the list",
        },
    )
    epsilon = forms.DecimalField(
        label="Epsilon to spend on this question",
        help_text=f"Between {dp.EPSILON_MIN} and {dp.EPSILON_MAX}. A larger epsilon gives "
        "counts closer to the truth and spends more of your budget",
        min_value=dp.EPSILON_MIN,
        max_value=dp.EPSILON_MAX,
        decimal_places=2,
        widget=forms.TextInput,
        error_messages={
            "required": "Enter the epsilon to spend on this question, like 0.1",
            "invalid": "Enter epsilon as a number, like 0.1",
            "min_value": f"Epsilon must be between {dp.EPSILON_MIN} and {dp.EPSILON_MAX}",
            "max_value": f"Epsilon must be between {dp.EPSILON_MIN} and {dp.EPSILON_MAX}",
            "max_decimal_places": "Enter epsilon with no more than 2 decimal places, like 0.05",
            "max_digits": "Enter epsilon with no more than 2 decimal places, like 0.05",
        },
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("start", "end"):
            when = date_from_parts(self, name, f"The {name} of the period")
            if when is None and name not in self.errors:
                self.add_error(name, f"Enter the {name} of the period")
            data[name] = when
        if data.get("start") and data.get("end"):
            # The question's own checks (the period's order and length), said beside the rest.
            asked = dp.Query(
                start=data["start"],
                end=data["end"],
                dimensions=tuple(data.get("dimensions") or ("sex",)),
                epsilon=data.get("epsilon") or dp.EPSILON_MIN,
            )
            for name, problem in asked.problems().items():
                if name in ("start", "end") and name not in self.errors:
                    self.add_error(name, problem)
        return data

    def query(self) -> dp.Query:
        data = self.cleaned_data
        return dp.Query(
            start=data["start"],
            end=data["end"],
            dimensions=tuple(data["dimensions"]),
            epsilon=Decimal(data["epsilon"]),
        )


def _first_form(today: date) -> DpQueryForm:
    """The form on a first visit: this year's quarter so far, split by two common ways."""
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    form = DpQueryForm(initial={"dimensions": ["sex", "age_group"], "epsilon": "0.1"})
    form.data = {
        "start_day": str(start.day),
        "start_month": str(start.month),
        "start_year": str(start.year),
        "end_day": str(today.day),
        "end_month": str(today.month),
        "end_year": str(today.year),
    }
    return form


@require_http_methods(["GET", "POST"])
def dp_query(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.analyst_organisation(actor)  # 404 for anyone who is not an analyst
    today = timezone.localdate()
    result = None
    if request.method == "POST":
        form = DpQueryForm(request.POST)
        if form.is_valid():
            try:
                result = services.dp_query_answer(by=actor, query=form.query())
            except ValidationError as refusal:
                show_refusal(form, refusal)
    else:
        form = _first_form(today)
    budget = result.budget if result else selectors.budget_of(actor.user, today)
    return render(
        request,
        "statistics/dp_query.html",
        {
            "title": "Ask a differentially private count",
            "form": form,
            "result": result,
            "budget": budget,
            "ledger": selectors.ledger_of(actor.user, today),
            "epsilon_text": selectors.epsilon_text,
            "alpha_percent": round((1 - dp.ALPHA) * 100),
        },
    )
