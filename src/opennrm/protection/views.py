"""The immigration enforcement officer's two pages: check a reference, record a planned removal.
Each shows the protection answer and nothing else about the person (ADR 0040)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from opennrm.accounts.actor import actor_of

from . import selectors, services
from .forms import PlannedRemovalForm, ReferenceForm


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.enforcement_organisation(actor)
    form = ReferenceForm(request.POST or None)
    protection = None
    removal_form = None
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["reference"]
        protection = services.protection_check(by=actor.user, reference=reference)
        removal_form = PlannedRemovalForm(initial={"reference": reference})
    return render(
        request,
        "protection/check.html",
        {
            "title": "Check protection from removal",
            "form": form,
            "protection": protection,
            "reference": form.cleaned_data.get("reference") if protection else None,
            "removal_form": removal_form,
        },
    )


@require_http_methods(["GET", "POST"])
def planned_removal(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    organisation = selectors.enforcement_organisation(actor)
    form = PlannedRemovalForm(
        request.POST or None, initial={"reference": request.GET.get("reference", "")}
    )
    recorded = None
    if request.method == "POST" and form.is_valid():
        recorded = services.planned_removal_record(
            by=actor.user,
            organisation=organisation,
            reference=form.cleaned_data["reference"],
            planned_on=form.cleaned_data["planned_on"],
        )
    return render(
        request,
        "protection/planned_removal.html",
        {
            "title": _title(recorded),
            "form": form,
            "recorded": recorded,
        },
    )


def _title(recorded: services.Recorded | None) -> str:
    if recorded is None:
        return "Record a planned removal"
    if recorded.protection.protected:
        return "Removal must not proceed"
    return "Planned removal recorded"
