"""Pages of the children's pathway: the caseload of the children in the local authority's area,
a task (marked done with what was done), recording an age assessment, and recording that a
person referred as an adult may be a child."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.lib.govuk_forms import show_refusal
from opennrm.lib.paging import count_up_to, page_number, page_of
from opennrm.safety import selectors as safety
from opennrm.safety.selectors import dependent_children_in_area

from . import selectors, services
from .forms import AgeAssessmentForm, AgeDisputeForm, TaskDoneForm
from .models import AgeOutcome

OUTSTANDING_PAGE_SIZE = 50

# What other apps add to the caseload, registered from their own AppConfig.ready (safeguarding
# imports none of them): the children of the area missing now (`care.views.caseload_extras`).
CASELOAD_EXTRAS: list[Callable[[Actor], dict[str, Any]]] = []


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_safe
def caseload(request: HttpRequest) -> HttpResponse:
    """References, never names: what needs doing today for the children of the area."""
    actor = actor_of(request)
    today = timezone.localdate()
    tasks = list(selectors.open_tasks(actor))
    # Paged, oldest first: an area may have thousands waiting (ADR 0055).
    outstanding = page_of(
        selectors.assessments_outstanding(actor).only("reference", "submitted_at"),
        page_number(request.GET.get("page")),
        OUTSTANDING_PAGE_SIZE,
    )
    new = list(selectors.newly_referred(actor).only("reference", "submitted_at", "age_group"))
    return render(
        request,
        "safeguarding/caseload.html",
        {
            "title": "Children in your area",
            "areas": selectors.lead_areas(actor),
            "today": today,
            "tasks": tasks,
            "overdue": sum(task.due_on < today for task in tasks),
            "due_today": sum(task.due_on == today for task in tasks),
            "outstanding": outstanding,
            "newly_referred": new,
            "newly_referred_days": selectors.NEWLY_REFERRED_DAYS,
            "children": count_up_to(selectors.children_of(actor)),
            "needing_action": selectors.children_needing_action_count(actor),
            # Children who came with an adult referred here: known to the local authority too.
            "dependent_children": len(dependent_children_in_area(actor)),
            **{key: value for extra in CASELOAD_EXTRAS for key, value in extra(actor).items()},
        },
    )


@require_http_methods(["GET", "POST"])
def task(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_of(request)
    item = selectors.task_get(actor, task_id)
    may_act = selectors.may_finish(actor, item)
    # Nobody in OpenNRM answers for the council: the guardian service or the decision maker
    # records what it arranged (ADR 0025, addendum of stop 40).
    instead = (
        selectors.records_instead(actor, item)
        if may_act and not selectors.may_act_on(actor, item)
        else None
    )
    # A decision maker has no caseload of children: back to the case.
    leads = bool(selectors.lead_areas(actor))
    form = TaskDoneForm(request.POST or None)
    if request.method == "POST":
        if not may_act:
            form.add_error(
                None,
                "Only a safeguarding lead of the local authority for the child's area can mark "
                "an open task done",
            )
        elif form.is_valid():
            try:
                services.children_services_task_done(
                    by=actor.user, task=item, outcome=form.cleaned_data["outcome"]
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, f"Task done for case {item.case.reference}")
                if not leads:
                    return redirect("cases:detail", item.case.reference)
                return redirect("safeguarding:caseload")
    # What the first responder wrote of the child's immediate needs and safety, and the case's
    # safety profile: the local authority arranges the place knowing them, as the coordinator
    # and the provider do for an adult (ADR 0026). The outcome is free text about the child too.
    details = selectors.referral_details(item.case)
    profile = safety.profile_of(item.case)
    fields = [
        *(["task_outcome"] if item.outcome else []),
        *(["immediate_needs_details"] if details else []),
        *(f"safety_{name}" for name in safety.fields_shown(profile)),
    ]
    if fields:
        audit_read(by=actor.user, person=item.case.person, obj=item, fields=fields)
    return render(
        request,
        "safeguarding/task.html",
        {
            "title": f"{item.get_kind_display()} for case {item.case.reference}",
            "item": item,
            "form": form,
            "may_act": may_act,
            "instead": instead,
            "leads": leads,
            # A person who turned 18 with the task open: the council still finishes it, but
            # their case page no longer opens for it, so the page does not link there.
            "came_of_age": not item.case.is_child,
            "case_opens": selectors.may_open_case(actor, item.case),
            "today": timezone.localdate(),
            "details": details,
            "safety_profile": profile,
            "safety_dependants": safety.dependants_of(profile),
        },
    )


@require_http_methods(["GET", "POST"])
def age_assessment(request: HttpRequest, reference: str) -> HttpResponse:
    actor = actor_of(request)
    case = selectors.case_to_assess(actor, reference)
    form = AgeAssessmentForm(
        request.POST or None,
        initial={"version": case.version},
        referred_on=timezone.localdate(case.submitted_at),
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.age_assessment_record(
                by=actor.user,
                case=case,
                outcome=form.cleaned_data["outcome"],
                assessed_on=form.cleaned_data["assessed_on"],
                reasons=form.cleaned_data["reasons"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            if assessment.outcome == AgeOutcome.ADULT:
                messages.success(
                    request,
                    f"Age assessment recorded: case {case.reference} now follows the adult "
                    "pathway. The decision maker, the referrer and the guardian service have "
                    "been told.",
                )
                # An adult's case is no longer the local authority's to open.
                return redirect("safeguarding:caseload")
            messages.success(request, f"Age assessment recorded for case {case.reference}")
            return redirect("cases:detail", case.reference)
    return render(
        request,
        "safeguarding/age_assessment.html",
        {"title": "Record an age assessment", "case": case, "form": form},
    )


@require_http_methods(["GET", "POST"])
def age_dispute(request: HttpRequest, reference: str) -> HttpResponse:
    """A person referred as an adult may be a child: from now they are treated as one. Shows
    the case's reference and age group only (no read to record)."""
    actor = actor_of(request)
    case = selectors.case_to_dispute(actor, reference)
    form = AgeDisputeForm(request.POST or None, initial={"version": case.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.age_dispute_raise(
                by=actor.user,
                case=case,
                basis=form.cleaned_data["basis"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            # Who was told, as the timeline records it (told means told, ADR 0015).
            messages.success(
                request,
                f"Case {case.reference}: the person is now treated as a child, and any adult "
                f"place offered or requested was withdrawn. {selectors.age_dispute_told(case)}",
            )
            return redirect("cases:detail", case.reference)
    return render(
        request,
        "safeguarding/age_dispute.html",
        {"title": "Record that the person may be under 18", "case": case, "form": form},
    )
