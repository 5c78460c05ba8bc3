"""The immigration enforcement officer's two pages: check a reference, record a planned removal.
Each shows the protection answer and nothing else about the person (ADR 0040)."""

from __future__ import annotations

import uuid

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from opennrm.accounts.actor import actor_of
from opennrm.api.throttling import page_refusal
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, services
from .forms import PlannedRemovalForm, ReferenceForm


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.enforcement_organisation(actor)
    form = ReferenceForm(request.POST or None)
    protection = None
    removal_form = None
    too_many = _too_many(request, form)
    if request.method == "POST" and not too_many and form.is_valid():
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
        status=429 if too_many else 200,
    )


@require_http_methods(["GET", "POST"])
def planned_removal(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    organisation = selectors.enforcement_organisation(actor)
    form = PlannedRemovalForm(
        request.POST or None, initial={"reference": request.GET.get("reference", "")}
    )
    recorded = None
    too_many = _too_many(request, form)
    if request.method == "POST" and not too_many and form.is_valid():
        try:
            recorded = services.planned_removal_record(
                by=actor.user, organisation=organisation, **form.removal_values()
            )
        except services.KeyUsed as used:
            # A used form changed (after Back) for another removal: what was typed is kept,
            # under a new key, so that sending it again records it.
            data = request.POST.copy()
            data["submission_key"] = uuid.uuid4().hex
            form = PlannedRemovalForm(data)
            form.is_valid()
            show_refusal(form, used)
    return render(
        request,
        "protection/planned_removal.html",
        {
            "title": _title(recorded),
            "form": form,
            "recorded": recorded,
        },
        status=429 if too_many else 200,
    )


def _too_many(request: HttpRequest, form: forms.Form) -> bool:
    """A check or a planned removal past the API's per-token limit for this officer (both pages
    count together): refused before anything is looked up or recorded, the form kept."""
    if request.method != "POST":
        return False
    refusal = page_refusal(request, "protection", actor_of(request).user.pk)
    if refusal is None:
        return False
    form.is_valid()  # so that what was typed is shown again, with the refusal on top
    form.add_error(None, refusal)
    return True


def _title(recorded: services.Recorded | None) -> str:
    if recorded is None:
        return "Record a planned removal"
    if recorded.protection.protected:
        return "Removal must not proceed"
    return "Planned removal recorded"
