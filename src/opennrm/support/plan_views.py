"""Pages of a person's support plan: the Convention's Art. 12(1) measures with their statuses,
one measure to change, and the services delivered log.

For support coordinators (every case with a placement request) and the safe-house managers of
the provider where the person is placed; anyone else gets 404 (`selectors.support_case_get`).
Notes, outside services' names and what was delivered are shown only after `audit_read`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.cases.models import Case
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, services
from .models import Measure, MeasureStatus, PlacementStatus
from .plan_forms import DeliveryForm, MeasureForm

# GOV.UK task list tags for each status.
TAGS = {
    MeasureStatus.NOT_ASSESSED: "govuk-tag--blue",
    MeasureStatus.NEEDED: "govuk-tag--red",
    MeasureStatus.ARRANGED: "govuk-tag--yellow",
    MeasureStatus.BEING_PROVIDED: "govuk-tag--light-blue",
    MeasureStatus.PROVIDED: "govuk-tag--green",
    MeasureStatus.DECLINED: "govuk-tag--grey",
    MeasureStatus.NOT_NEEDED: "govuk-tag--grey",
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def back_link(user: User, case: Case) -> dict[str, str]:
    """Back to the person's placement (for its staff and coordinators), or to the
    coordinator's request."""
    live = selectors.live_placement_of(case)
    if live is not None and selectors.placements_visible_to(user).filter(pk=live.pk).exists():
        return {"text": "The placement", "href": reverse("support:placement", args=[live.pk])}
    request = case.placement_requests.order_by("-created_at").first()
    if request is not None and selectors.is_coordinator(user):
        return {
            "text": "The placement request",
            "href": reverse("support:request", args=[request.pk]),
        }
    return {"text": "Placements", "href": reverse("support:placements")}


def _erased(case: Case) -> bool:
    return hasattr(case.person, "erasure")


def plan(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(user, reference)
    consent_problem = selectors.consent_problem(case)
    rows = [] if consent_problem else selectors.plan_rows(case)
    deliveries = [] if consent_problem else list(selectors.deliveries_of(case))
    shown = []
    if deliveries:
        shown.append("services_delivered")
    if any(row.outside_provider for row in rows) or any(d.outside_provider for d in deliveries):
        shown.append("support_outside_providers")
    if shown:
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "support/plan.html",
        {
            "title": f"Support plan for case {case.reference}",
            "case": case,
            "consent_problem": consent_problem,
            "erased": _erased(case),
            "rows": rows,
            "tags": TAGS,
            "deliveries": deliveries,
            "back": back_link(user, case),
            "missing": selectors.open_missing_episode(case),
        },
    )


def _row_or_404(case: Case, measure: str) -> selectors.PlanRow:
    """The plan's row for this measure (education only for a child), or 404."""
    row = next((r for r in selectors.plan_rows(case) if r.measure.value == measure), None)
    if row is None:
        raise Http404
    return row


@require_http_methods(["GET", "POST"])
def plan_measure(request: HttpRequest, reference: str, measure: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(user, reference)
    if selectors.consent_problem(case) or _erased(case):
        return redirect("support:plan", case.reference)
    row = _row_or_404(case, measure)
    chosen = Measure(row.measure)
    notes_only = row.from_placement and selectors.live_placement_of(case) is not None
    if request.method == "POST":
        form = MeasureForm(request.POST, notes_only=notes_only)
        if form.is_valid():
            try:
                services.support_measure_update(
                    by=user,
                    case=case,
                    measure=chosen,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.values(),
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, f"{chosen.label}: saved")
                return redirect("support:plan", case.reference)
    else:
        saved = MeasureForm.data_for(row.row)
        form = MeasureForm(initial=saved, notes_only=notes_only)
        form.data = saved  # the date boxes read the form's data
        if row.row is not None and (row.row.notes or row.row.outside_provider):
            fields = ["support_notes"] if row.row.notes else []
            if row.row.outside_provider:
                fields.append("support_outside_providers")
            audit_read(by=user, person=case.person, obj=row.row, fields=fields)
    return render(
        request,
        "support/plan_measure.html",
        {
            "title": f"{chosen.label} - support plan for case {case.reference}",
            "case": case,
            "measure": chosen,
            "row": row,
            "form": form,
            "notes_only": notes_only,
            "placement_status": PlacementStatus,
        },
    )


@require_http_methods(["GET", "POST"])
def plan_delivery(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(user, reference)
    if selectors.consent_problem(case) or _erased(case):
        return redirect("support:plan", case.reference)
    measures = [row.measure for row in selectors.plan_rows(case)]
    form = DeliveryForm(request.POST or None, measures=measures)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_delivery_record(
                by=user,
                case=case,
                measure=form.cleaned_data["measure"],
                delivered_on=form.cleaned_data["delivered_on"],
                description=form.cleaned_data["description"],
                provider=form.provider_organisation(),
                outside_provider=form.cleaned_data["outside_provider"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Service delivered recorded")
            return redirect("support:plan", case.reference)
    return render(
        request,
        "support/plan_delivery.html",
        {"title": "Record a service delivered", "case": case, "form": form},
    )
