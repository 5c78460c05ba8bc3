"""Pages of surge places and held beds (ADR 0044): add surge places, hold beds, end them,
release a bed. The operation comes through `selectors.operation_get_for` (ADR 0039); only the
coordinators and safe-house managers of a support provider invited to it act (everyone else
gets 404)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, surge
from .surge_forms import HoldForm, SurgeForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_http_methods(["GET", "POST"])
def surge_add(request: HttpRequest, operation_id: int) -> HttpResponse:
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    provider = surge.provider_get_for(actor, operation)
    form = SurgeForm(request.POST or None, sites=surge.sites_for_surge(operation))
    if request.method == "POST" and form.is_valid():
        try:
            added = surge.surge_add(
                by=_user(request),
                operation=operation,
                provider=provider,
                site=form.cleaned_data["site"],
                places=form.cleaned_data["places"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                funding_note=form.cleaned_data["funding_note"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                f"{added.places} surge places added once: this page was sent twice, and they "
                "were already added, so nothing was added again"
                if added.sent_before
                else f"{added.places} surge places added",
            )
            return redirect("operations:detail", operation.id)
    return render(
        request,
        "operations/surge_add.html",
        {"title": "Add surge places", "operation": operation, "provider": provider, "form": form},
    )


@require_http_methods(["GET", "POST"])
def beds_hold(request: HttpRequest, operation_id: int) -> HttpResponse:
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    provider = surge.provider_get_for(actor, operation)
    form = HoldForm(
        request.POST or None,
        provider=provider,
        sites=surge.sites_to_hold_at(operation, provider),
        last_day=surge.hold_last_day(operation),
    )
    if request.method == "POST" and form.is_valid():
        try:
            held = surge.beds_hold(
                by=_user(request),
                operation=operation,
                provider=provider,
                site=form.cleaned_data["site"],
                count=form.cleaned_data["count"],
                expires_at=form.cleaned_data["expires_at"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            show_refusal(form, error, renames={"expires_at": "until"})
        else:
            messages.success(request, f"{len(held)} beds held")
            return redirect("operations:detail", operation.id)
    return render(
        request,
        "operations/surge_hold.html",
        {"title": "Hold beds", "operation": operation, "provider": provider, "form": form},
    )


@require_POST
def surge_end(request: HttpRequest, operation_id: int, surge_id: int) -> HttpResponse:
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    ending = surge.surge_get_for(actor, operation, surge_id)
    try:
        surge.surge_end(by=_user(request), surge=ending)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Surge places ended: anyone placed in one keeps it")
    return redirect("operations:detail", operation.id)


@require_POST
def hold_release(request: HttpRequest, operation_id: int, hold_id: int) -> HttpResponse:
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    hold = surge.hold_get_for(actor, operation, hold_id)
    # The provider holding the bed: the actor may act for more than one invited provider.
    surge.hold_release(by=_user(request), hold=hold, provider=hold.bed.room.site.provider)
    messages.success(request, f"Bed {hold.bed.label} at {hold.bed.room.site.name} released")
    return redirect("operations:detail", operation.id)
