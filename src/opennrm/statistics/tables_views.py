"""The analyst's preview of the official tables (issue 13, item 1; ADR 0033): a quarter or a
year and a jurisdiction, and every table of the release as it would be published, with `[c]`
where `disclosure.protect` suppressed a count. Figures only: no identity, no free text. Not a
release: nothing is frozen or published here (releases are item 3).

Above the tables, the period's two headline figures side by side: referrals, and the people
they were about (referrals linked as one person count once, ADR 0052), both as disclosure
control publishes them."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from opennrm.accounts.roles import Jurisdiction

from . import disclosure, layout, tables
from .views import cell

FIRST_YEAR = 2009  # the NRM began on 1 April 2009


class TablesForm(forms.Form):
    year = forms.IntegerField(
        label="Year",
        widget=forms.TextInput,
        error_messages={
            "required": "Enter the year, like 2024",
            "invalid": "Enter the year as four digits, like 2024",
        },
    )
    quarter = forms.ChoiceField(
        label="Quarter",
        choices=[
            ("1", "January to March"),
            ("2", "April to June"),
            ("3", "July to September"),
            ("4", "October to December"),
            ("year", "The whole year"),
        ],
        error_messages={
            "required": "Select a quarter or the whole year",
            "invalid_choice": "Select a quarter or the whole year from the list",
        },
    )
    jurisdiction = forms.ChoiceField(
        label="Jurisdiction",
        choices=[("", "All of the UK"), *Jurisdiction.choices],
        required=False,
        error_messages={"invalid_choice": "Select a jurisdiction from the list"},
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        if year < FIRST_YEAR:
            raise forms.ValidationError(f"The year must be {FIRST_YEAR} or later")
        if year > self.today.year:
            raise forms.ValidationError(f"The year must be {self.today.year} or earlier")
        return year

    def period(self) -> tables.Period:
        year, quarter = self.cleaned_data["year"], self.cleaned_data["quarter"]
        return (
            tables.Period.year(year)
            if quarter == "year"
            else tables.Period.quarter(year, int(quarter))
        )


def last_quarter(today: date) -> tuple[int, int]:
    """The last quarter that has ended."""
    quarter = (today.month - 1) // 3  # the current quarter, less one
    return (today.year, quarter) if quarter else (today.year - 1, 4)


@require_GET
def tables_preview(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    if "year" in request.GET:
        form = TablesForm(request.GET, today=today)
    else:
        year, quarter = last_quarter(today)
        form = TablesForm({"year": str(year), "quarter": str(quarter)}, today=today)
    sections: list[dict[str, Any]] = []
    missing: list[tables.Missing] = []
    period = None
    headline: dict[str, disclosure.Published] = {}
    if form.is_valid():
        period = form.period()
        made = tables.release_tables(period, form.cleaned_data["jurisdiction"] or None)
        protected = tables.protect(made)
        headline = {
            "referrals": protected.published[disclosure.Cell.of("referrals")],
            "people": protected.published[disclosure.Cell.of(tables.PEOPLE)],
        }
        for table in made:
            if isinstance(table, tables.Missing):
                missing.append(table)
                continue
            sections.append(
                {
                    "title": table.title,
                    "counts": table.counts,
                    "notes": table.notes,
                    "tables": [layout.display(t) for t in layout.laid_out(table, protected)],
                }
            )
    return render(
        request,
        "statistics/tables.html",
        {
            "title": "Official tables: preview",
            "form": form,
            "period": period,
            "sections": sections,
            "missing": missing,
            "headline": headline,
            "cell": cell,
        },
    )
