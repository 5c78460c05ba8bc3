"""The capacity dashboard (issue 6, item 7): "how many more can we take?", the beds now, and
occupancy, the waiting list, unmet need and length of stay over time, each chart with its table
beside it and every table downloadable as CSV.

For support coordinators, safe-house managers and analysts alike (the access table): figures
only, never a person's details, a site's name or its address. The figures come from
`statistics.capacity`, the charts from `statistics.charts`.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from opennrm.accommodation.models import Region, Specialism
from opennrm.lib.govuk_forms import date_from_parts
from opennrm.lib.iso import language_choices

from . import capacity, charts
from .capacity import Table
from .spreadsheets import csv_cell

NEEDED_BY_PARTS = ("needed_by_day", "needed_by_month", "needed_by_year")


class QuestionForm(forms.Form):
    """ "How many more can we take?": who is coming, and what a bed must offer them."""

    who = forms.ChoiceField(
        label="Who needs a place?",
        choices=[(key, who.label) for key, who in capacity.WHO.items()],
        widget=forms.RadioSelect,
        help_text="A woman can be placed in a women-only or a mixed setting, a man in a "
        "men-only or a mixed one",
        error_messages={
            "required": "Select who needs a place",
            "invalid_choice": "Select who needs a place from the list",
        },
    )
    children = forms.IntegerField(
        label="How many children are coming with them?",
        help_text="Enter 0 if none",
        min_value=0,
        max_value=10,
        # GOV.UK asks for whole numbers in a text box with a numeric keyboard, not type=number.
        widget=forms.TextInput,
        error_messages={
            "required": "Enter how many children are coming with them (0 if none)",
            "invalid": "Enter the number of children as a whole number, like 2",
            "min_value": "The number of children must be 0 or more",
            "max_value": "The number of children must be 10 or fewer",
        },
    )
    wheelchair = forms.BooleanField(label="They need wheelchair access", required=False)
    region = forms.ChoiceField(
        label="Region (optional)",
        choices=[("", "Anywhere in the country"), *Region.choices],
        required=False,
        error_messages={"invalid_choice": "Select a region from the list"},
    )
    specialism = forms.ChoiceField(
        label="Specialist support they need (optional)",
        choices=[("", "None needed"), *Specialism.choices],
        required=False,
        error_messages={"invalid_choice": "Select the support they need from the list"},
    )
    language = forms.ChoiceField(
        label="A language the staff must speak (optional)",
        help_text="Leave it as it is if they can be supported through an interpreter",
        choices=[("", "Any: an interpreter can be used")],
        required=False,
        error_messages={"invalid_choice": "Select a language from the list"},
    )
    needed_by = forms.CharField(
        label="Needed by",
        help_text="For example, 27 3 2026. Only beds free now are counted: when others will be "
        "free is not known.",
        required=False,
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            ("", "Any: an interpreter can be used"),
            *language_choices(),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(part in self.data for part in NEEDED_BY_PARTS):
            data["needed_by"] = self.today  # a link without the date: today
            return data
        needed_by = date_from_parts(self, "needed_by", "The date needed by")
        if needed_by is None:
            if "needed_by" not in self.errors:
                self.add_error("needed_by", "Enter the date the place is needed by")
        elif needed_by < self.today:
            self.add_error("needed_by", "The date needed by must be today or in the future")
        elif needed_by > self.today + timedelta(days=365):
            self.add_error("needed_by", "The date needed by must be within a year from today")
        else:
            data["needed_by"] = needed_by
        return data

    def question(self) -> capacity.Question:
        data = self.cleaned_data
        return capacity.Question(
            who=data["who"],
            needed_by=data["needed_by"],
            children=data["children"],
            wheelchair=data["wheelchair"],
            region=data["region"],
            specialism=data["specialism"],
            language=data["language"],
        )

    @staticmethod
    def asked(query: Any) -> bool:
        """Whether the address carries a question (the form was sent)."""
        return any(name in query for name in (*QuestionForm.base_fields, *NEEDED_BY_PARTS))


class PeriodForm(forms.Form):
    period = forms.TypedChoiceField(
        label="Show the last",
        choices=[(str(days), f"{days} days") for days in capacity.PERIODS],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how many days to show",
            "invalid_choice": "Select 30, 90 or 365 days",
        },
    )


def cell(value: Any) -> str:
    """A table cell as the page shows it."""
    if isinstance(value, date):
        return capacity.day_text(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _period(query: Any) -> tuple[PeriodForm, int]:
    if "period" not in query:
        return PeriodForm(initial={"period": capacity.DEFAULT_PERIOD}), capacity.DEFAULT_PERIOD
    form = PeriodForm(query)
    return form, form.cleaned_data["period"] if form.is_valid() else capacity.DEFAULT_PERIOD


def _question_form(query: Any, today: date) -> QuestionForm:
    """The question asked in the address, or (first visit) the form with today filled in."""
    today_parts = {
        "needed_by_day": str(today.day),
        "needed_by_month": str(today.month),
        "needed_by_year": str(today.year),
    }
    if QuestionForm.asked(query):
        if not any(part in query for part in NEEDED_BY_PARTS):
            query = query.copy()  # a link without the date asks for today: show it
            query.update(today_parts)
        return QuestionForm(query, today=today)
    form = QuestionForm(initial={"children": 0}, today=today)
    form.data = today_parts
    return form


# --- Pages ------------------------------------------------------------------------------------


@require_GET
def capacity_now(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = _question_form(request.GET, today)
    answer = None
    if form.is_bound and form.is_valid():
        answer = capacity.how_many_more(form.question(), today)
    now = capacity.beds_now()
    total = now.total
    return render(
        request,
        "support/capacity.html",
        {
            "title": "Capacity",
            "form": form,
            "answer": answer,
            "answer_csv": _csv_url("how-many-more", request.GET.urlencode()),
            "now": now,
            "tables": {
                "region": now.region_table(),
                "provider": now.provider_table(),
                "attribute": now.attribute_table(),
            },
            "region_chart": charts.bar_chart(
                ident="chart-free-by-region",
                title="Free beds now, by region",
                summary=f"{total.free:,} of {total.beds:,} beds are free now. "
                "The table beside the chart has the figures.",
                bars=[(capacity.region_label(r), c.free) for r, c in now.by_region],
            ),
            "attribute_chart": charts.bar_chart(
                ident="chart-free-by-attribute",
                title="Free beds now, by what they offer",
                summary="Free beds in each setting, family rooms, wheelchair-accessible "
                "beds and beds with each specialism. The table beside the chart has the "
                "figures.",
                bars=[(label, free) for label, free, _ in now.by_attribute],
            ),
            "csv": {slug: _csv_url(slug) for slug in NOW_TABLES},
            "cell": cell,
        },
    )


@require_GET
def capacity_over_time(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form, days = _period(request.GET)
    first, last = capacity.period(today, days)
    beds = capacity.bed_history(first, last)
    waiting = capacity.waiting_history(first, last, beds)
    unmet = capacity.unmet_history(first, last)
    stays = capacity.length_of_stay(first, last)
    span = f"from {capacity.day_text(first)} to {capacity.day_text(last)}"
    labels = [capacity.short_day(d.day) for d in beds]
    end, open_now = beds[-1].counts, waiting[-1]
    median = (
        f"The median stay was {_days_text(stays.median_days)}."
        if stays.median_days is not None
        else "No stay ended in the period."
    )
    query = f"period={days}"
    return render(
        request,
        "support/capacity_over_time.html",
        {
            "title": "Capacity over time",
            "form": form,
            "days": days,
            "span": span,
            "median": median,
            "stays": stays,
            "unmet": unmet,
            "tables": {
                "occupancy": capacity.occupancy_table(beds),
                "waiting": capacity.waiting_table(waiting),
                "unmet_week": unmet.week_table(),
                "unmet_reason": unmet.constraint_table(),
                "unmet_place": unmet.place_table(),
                "stays": stays.table(),
            },
            "csv": {slug: _csv_url(slug, query) for slug in OVER_TIME_TABLES},
            "occupancy_chart": charts.line_chart(
                ident="chart-occupancy",
                title="Beds in service and beds occupied, each day",
                summary=f"At the end of each day {span}. On the last day {end.in_service:,} "
                f"beds were in service and {end.occupied:,} occupied.",
                labels=labels,
                series=[
                    charts.Series("Beds in service", [d.counts.in_service for d in beds]),
                    charts.Series("Occupied", [d.counts.occupied for d in beds]),
                ],
            ),
            "waiting_chart": charts.line_chart(
                ident="chart-waiting",
                title="The waiting list, each day",
                summary=f"Placement requests open at the end of each day {span}. On the "
                f"last day {open_now.open:,} were open, {open_now.without_place:,} of them "
                "without a place offered.",
                labels=labels,
                series=[
                    charts.Series("All open requests", [d.open for d in waiting]),
                    charts.Series("Without a place offered", [d.without_place for d in waiting]),
                ],
            ),
            "unmet_chart": charts.column_chart(
                ident="chart-unmet-weeks",
                title="People who could not be placed, each week",
                summary=f"Weeks {span}: {unmet.people:,} people could not be placed at least once.",
                columns=[(capacity.short_day(w.week), w.people) for w in unmet.weeks],
            ),
            "unmet_reason_chart": charts.bar_chart(
                ident="chart-unmet-reasons",
                title="What kept people out of a place",
                summary=f"People who could not be placed {span}, by the constraint that "
                "ruled out every free bed.",
                bars=[(capacity.constraint_label(c), n) for c, n in unmet.by_constraint],
            ),
            "stays_chart": charts.bar_chart(
                ident="chart-length-of-stay",
                title="Length of stay",
                summary=f"{stays.count:,} stays ended {span}. {median}",
                bars=stays.buckets,
            ),
            "cell": cell,
        },
    )


def _days_text(days: float) -> str:
    whole = "1 day" if days == 1 else f"{days:,.1f} days".replace(".0 ", " ")
    if days >= 14:
        whole += f" (about {round(days / 7)} weeks)"
    return whole


# --- CSV downloads ----------------------------------------------------------------------------

NOW_TABLES = ("beds-by-region", "beds-by-provider", "free-beds-by-attribute")
OVER_TIME_TABLES = (
    "occupancy",
    "waiting-list",
    "unmet-need-by-week",
    "unmet-need-by-reason",
    "unmet-need-by-place",
    "length-of-stay",
)


def _csv_url(slug: str, query: str = "") -> str:
    url = reverse("support:capacity_csv", args=[slug])
    return f"{url}?{query}" if query else url


def _over_time_table(slug: str, first: date, last: date) -> Table:
    if slug in ("occupancy", "waiting-list"):
        beds = capacity.bed_history(first, last)
        if slug == "occupancy":
            return capacity.occupancy_table(beds)
        return capacity.waiting_table(capacity.waiting_history(first, last, beds))
    if slug == "length-of-stay":
        return capacity.length_of_stay(first, last).table()
    unmet = capacity.unmet_history(first, last)
    return {
        "unmet-need-by-week": unmet.week_table,
        "unmet-need-by-reason": unmet.constraint_table,
        "unmet-need-by-place": unmet.place_table,
    }[slug]()


@require_GET
def capacity_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard as CSV: the same rows as the page, dates as ISO 8601."""
    today = timezone.localdate()
    if table == "how-many-more":
        form = QuestionForm(request.GET, today=today)
        if not form.is_valid():
            return HttpResponseBadRequest(
                "This download needs a valid question: ask it on the capacity page first.",
                content_type="text/plain; charset=utf-8",
            )
        made = capacity.how_many_more(form.question(), today).table
    elif table in NOW_TABLES:
        now = capacity.beds_now()
        made = {
            "beds-by-region": now.region_table,
            "beds-by-provider": now.provider_table,
            "free-beds-by-attribute": now.attribute_table,
        }[table]()
    elif table in OVER_TIME_TABLES:
        period, days = _period(request.GET)
        if period.is_bound and not period.is_valid():
            return HttpResponseBadRequest(
                "Choose a period of 30, 90 or 365 days.", content_type="text/plain; charset=utf-8"
            )
        made = _over_time_table(table, *capacity.period(today, days))
    else:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="capacity-{made.slug}-{today.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(made.headers)
    for row in [*made.rows, *([made.footer] if made.footer else [])]:
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _csv_cell(value: Any) -> str:
    """A capacity table's cell in a download: a date as ISO 8601, nothing as an empty cell, the
    rest as every CSV download writes it (`spreadsheets.csv_cell`: a provider's name is typed
    by people, and one beginning with "=" must not run as a formula)."""
    if value is None:
        return ""
    return csv_cell(value.isoformat() if isinstance(value, date) else value)
