"""Pages of safety: change a person's safety profile and dependants from their case; the
dependent children of people referred in a safeguarding lead's area."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.lib.govuk_forms import StaleVersion, show_refusal

from . import selectors, services
from .forms import DependantForm, ProfileEditForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.case_for_profile(actor_of(request), reference)
    profile = selectors.profile_of(case)
    changed_meanwhile = False
    if request.method == "POST":
        form = ProfileEditForm(request.POST)
        if form.is_valid():
            try:
                services.safety_profile_save(
                    by=user,
                    case=case,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.profile_values(),
                )
            except StaleVersion as error:
                # Someone else saved meanwhile: their profile is shown above the form, which
                # keeps what this user typed, so that the two can be reconciled on one page.
                show_refusal(form, error)
                profile = selectors.profile_now(case)
                changed_meanwhile = True
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, "Safety profile saved")
                return redirect("cases:detail", case.reference)
    else:
        form = ProfileEditForm(initial=ProfileEditForm.initial_for(profile))
    shown = selectors.fields_shown(profile)
    if shown:
        audit_read(by=user, person=case.person, obj=profile, fields=shown)
    return render(
        request,
        "safety/profile_edit.html",
        {
            "title": "Risk and safety",
            "case": case,
            "form": form,
            "profile": profile,
            "dependants": selectors.dependants_of(profile),
            "changed_meanwhile": changed_meanwhile,
        },
    )


@require_http_methods(["GET", "POST"])
def dependant_add(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.case_for_profile(actor_of(request), reference)
    profile = selectors.profile_of(case)
    form = DependantForm(
        request.POST or None,
        initial={"expected_version": profile.version if profile else None},
    )
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        try:
            services.dependant_add(
                by=user,
                case=case,
                expected_version=data["expected_version"],
                relationship=data["relationship"],
                sex=data["sex"],
                age_years=data["age_years"],
                born_estimate=data["born_estimate"],
                name=data["name"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Dependant recorded")
            return redirect("safety:edit", case.reference)
    return render(
        request,
        "safety/dependant_add.html",
        {"title": "Add a dependant", "case": case, "form": form},
    )


@require_POST
def dependant_remove(request: HttpRequest, reference: str, dependant_id: int) -> HttpResponse:
    user = _user(request)
    case = selectors.case_for_profile(actor_of(request), reference)
    dependant = selectors.dependant_get_for_user(actor_of(request), case, dependant_id)
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = None
    try:
        services.dependant_remove(by=user, dependant=dependant, expected_version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Dependant removed")
    return redirect("safety:edit", case.reference)


@require_safe
def children_in_area(request: HttpRequest) -> HttpResponse:
    """For a safeguarding lead: the dependent children of people referred in their area, by
    case reference, age and sex; never a name in the list."""
    children = selectors.dependent_children_in_area(actor_of(request))
    # A child's age and sex beside the case they came with: recorded as a read of each.
    for child in children:
        audit_read(
            by=_user(request),
            person=child.profile.case.person,
            obj=child,
            fields=["dependant_age", "dependant_sex"],
        )
    return render(
        request,
        "safety/children_in_area.html",
        {
            "title": "Children with a referred parent",
            "children": children,
            "today": timezone.localdate(),
        },
    )
