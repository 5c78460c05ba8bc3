"""Pages of operations: the list, plan one, its page, invite a partner, change the plan, cancel.
Every operation is fetched through `selectors.operations_visible_to` (ADR 0039)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import ExploitationType, Sex
from opennrm.lib.govuk_forms import StaleVersion, show_refusal
from opennrm.lib.iso import language_name
from opennrm.referrals.models import DraftStatus

from . import selectors, services, surge
from .forecast import NoStays
from .forms import (
    EXPLOITATION_SHORT,
    HandOverForm,
    InvitePartnerForm,
    OperationForm,
    ReceptionForm,
    group_label,
)
from .models import AgeGroup, Operation, OperationStatus
from .report import hours_text, operation_report


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_safe
def operation_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    today = timezone.localdate()
    my_organisations = set(actor.organisations_as(selectors.READER_ROLES))
    operations = list(selectors.operations_visible_to(actor))
    rows = [
        {
            "operation": operation,
            "status": operation.status_on(today),
            "mine": operation.lead_organisation_id in my_organisations,
        }
        for operation in operations
    ]
    return render(
        request,
        "operations/list.html",
        {
            "title": "Operations",
            "led": [row for row in rows if row["mine"]],
            "invited": [row for row in rows if not row["mine"]],
            "may_plan": selectors.organisations_planning_for(actor).exists(),
        },
    )


def _plan_context(form: OperationForm) -> dict[str, Any]:
    return {"form": form, "columns": form.columns(), "rows": form.rows()}


@require_http_methods(["GET", "POST"])
def operation_plan(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    leads = selectors.organisations_planning_for(actor)
    if not leads.exists():
        # A first responder of a charity or a council: their organisation cannot lead one.
        raise Http404
    form = OperationForm(request.POST or None, lead_choices=leads)
    if request.method == "POST" and form.is_valid():
        try:
            operation = services.operation_plan(
                by=_user(request),
                lead_organisation=form.cleaned_data["lead_organisation"],
                **form.plan_values(),
            )
        except ValidationError as error:
            show_refusal(form, error, renames={"expected": "__all__"})
        else:
            messages.success(request, "Operation planned")
            return redirect("operations:detail", operation.id)
    return render(
        request, "operations/plan.html", {"title": "Plan an operation", **_plan_context(form)}
    )


def _expected_table(operation: Operation) -> dict[str, Any]:
    """The expected numbers as rows (sex and age group) by exploitation type, with totals;
    only the rows and columns with someone in them."""
    groups = list(selectors.expected_of(operation))
    kinds = [k for k in ExploitationType.values if any(g.exploitation_type == k for g in groups)]
    keys = list(dict.fromkeys((g.sex, g.age_group) for g in groups))
    order = {age: n for n, age in enumerate(AgeGroup.values)}
    sexes = ["female", "male", "other", "unknown"]
    keys.sort(key=lambda key: (sexes.index(key[0]), order[key[1]]))
    numbers = {(g.sex, g.age_group, g.exploitation_type): g.number for g in groups}
    rows = [
        {
            "label": group_label(sex if sex != "other" else "unknown", age),
            "cells": [numbers.get((sex, age, kind), 0) for kind in kinds],
            "total": sum(numbers.get((sex, age, kind), 0) for kind in kinds),
        }
        for sex, age in keys
    ]
    return {
        "columns": [EXPLOITATION_SHORT[kind] for kind in kinds],
        "rows": rows,
        "column_totals": [sum(numbers.get((*key, kind), 0) for key in keys) for kind in kinds],
        "total": sum(numbers.values()),
        "children": sum(
            g.number for g in groups if g.age_group in (AgeGroup.CHILD, AgeGroup.AGE_DISPUTED)
        ),
    }


KIND_LABELS = {
    "women": "Women's places",
    "men": "Men's places",
    "mixed": "Places in a mixed setting",
    "children": "Children's placements (local authority)",
}


@require_safe
def operation_detail(request: HttpRequest, operation_id: int) -> HttpResponse:
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    today = timezone.localdate()
    status = operation.status_on(today)
    beds, no_forecast = None, ""
    if status in (OperationStatus.PLANNED, OperationStatus.UNDER_WAY):
        try:
            beds = selectors.operation_bed_forecast(operation)
        except NoStays as why:
            no_forecast = str(why)
    return render(
        request,
        "operations/detail.html",
        {
            "title": operation.name,
            "operation": operation,
            "status": status,
            "beds": beds,
            "no_forecast": no_forecast,
            "kind_labels": KIND_LABELS,
            "secret": selectors.operation_is_secret(operation, today),
            "partners": list(selectors.partners_of(operation)),
            "expected": _expected_table(operation),
            "languages": [language_name(code) for code in operation.languages],
            "is_lead": selectors.is_lead(actor, operation),
            # Once anyone is taken in it cannot be cancelled, only ended early (ADR 43).
            "anyone_taken_in": operation.reception.exists(),
            "children_untold": selectors.children_untold(operation),
            "may_take_in": selectors.reception_organisation(actor, operation) is not None,
            # Surge places and held beds (ADR 0044), and whether the reader adds them.
            "surges": list(surge.surges_of(operation)),
            "holds": list(surge.holds_of(operation)),
            "surge_acting": set(
                surge.providers_acting_for(actor, operation).values_list("id", flat=True)
            ),
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
def operation_edit(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = selectors.operation_get_for_lead(actor_of(request), operation_id)
    if request.method == "POST":
        form = OperationForm(request.POST)
        if form.is_valid():
            try:
                services.operation_change(
                    by=_user(request), operation=operation, **form.change_values()
                )
            except StaleVersion as stale:
                show_refusal(form, stale)
                operation.refresh_from_db()
                if unlike := form.answers_unlike(operation):
                    form.add_error(None, unlike)
            except ValidationError as error:
                show_refusal(form, error, renames={"expected": "__all__"})
            else:
                messages.success(request, "Plan changed")
                return redirect("operations:detail", operation.id)
    else:
        current = OperationForm.data_for(operation)
        form = OperationForm(initial=current)
        # The date boxes read what was entered (form.data); an unbound form shows no errors.
        form.data = current
    return render(
        request,
        "operations/plan.html",
        {"title": "Change the plan", "operation": operation, **_plan_context(form)},
    )


@require_http_methods(["GET", "POST"])
def partner_invite(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = selectors.operation_get_for_lead(actor_of(request), operation_id)
    form = InvitePartnerForm(
        request.POST or None, choices=selectors.organisations_to_invite(operation)
    )
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.operation_partner_invite(
                by=_user(request),
                operation=operation,
                organisation=form.cleaned_data["organisation"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"{partner.organisation.name} invited")
            return redirect("operations:detail", operation.id)
    return render(
        request,
        "operations/partner_invite.html",
        {"title": "Invite an organisation", "operation": operation, "form": form},
    )


@require_http_methods(["GET", "POST"])
def operation_cancel(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = selectors.operation_get_for_lead(actor_of(request), operation_id)
    problem = None
    if request.method == "POST":
        try:
            services.operation_cancel(by=_user(request), operation=operation)
        except ValidationError as error:
            problem = " ".join(error.messages)
        else:
            messages.success(request, "Operation cancelled")
            return redirect("operations:detail", operation.id)
    return render(
        request,
        "operations/cancel.html",
        {
            "title": "Cancel the operation",
            "operation": operation,
            "problem": problem,
            # People taken in: refused (services.operation_cancel); the page says to end it.
            "anyone_taken_in": operation.reception.exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def reception(request: HttpRequest, operation_id: int) -> HttpResponse:
    """Take people in, one short record per submission; after each, an empty form for the next
    (ADR 0043)."""
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    if selectors.reception_organisation(actor, operation) is None:
        raise Http404
    form = ReceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.reception_take_in(
                by=_user(request), operation=operation, **form.take_in_values()
            )
        except services.AlreadyTakenIn as sent:
            if sent.same:
                messages.success(request, selectors.taken_in_message(operation, sent.record))
                return redirect("operations:reception", operation.id)
            # Someone else typed into a form already used: keep what was typed, under a new key.
            data = request.POST.copy()
            data["submission_key"] = uuid.uuid4().hex
            form = ReceptionForm(data)
            form.is_valid()
            show_refusal(form, sent)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, selectors.taken_in_message(operation, record))
            return redirect("operations:reception", operation.id)
    return render(
        request,
        "operations/reception.html",
        {
            "title": "Take a person in",
            "operation": operation,
            "form": form,
            "under_way": operation.status_on(timezone.localdate()) == OperationStatus.UNDER_WAY,
        },
    )


@require_safe
def board(request: HttpRequest, operation_id: int) -> HttpResponse:
    """Everyone taken in and where each stands; names only to those who may see them, each
    showing recorded before it is."""
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    lead_responder = selectors.is_lead_responder(actor, operation)
    records = list(selectors.reception_of(operation))
    named = {r.sequence for r in records if selectors.may_see_name(actor, r, lead_responder)}
    safeguarding_lead_of = set(actor.organisations_as([Role.SAFEGUARDING_LEAD]))
    rows = [
        {
            "record": record,
            "standing": selectors.standing_of(record),
            "name_shown": record.sequence in named,
            # Who may see who they are may record them missing, until a case exists.
            "may_mark_missing": record.sequence in named
            and (record.draft is None or record.draft.case_id is None),
            # The draft's holder, or a safeguarding lead of the organisation that took them in,
            # may hand the unfinished draft to a first responder.
            "may_hand_over": record.draft is not None
            and record.draft.status == DraftStatus.DRAFT
            and selectors.may_hand_over(actor, record, record.draft, safeguarding_lead_of),
        }
        for record in records
    ]
    services.reception_names_shown(by=_user(request), operation=operation, sequences=named)
    counts = Counter(row["standing"] for row in rows)
    return render(
        request,
        "operations/board.html",
        {
            "title": "Board",
            "operation": operation,
            "rows": rows,
            "counts": [(standing, counts[standing]) for standing in selectors.Standing],
            "updated_at": timezone.localtime(),
            "any_markable": any(row["may_mark_missing"] or row["may_hand_over"] for row in rows),
            "may_take_in": selectors.reception_organisation(actor, operation) is not None,
        },
    )


@require_POST
def reception_missing(request: HttpRequest, operation_id: int, sequence: int) -> HttpResponse:
    """Record a person taken in as gone missing before their referral was submitted, or found
    again (`missing` is "yes" or "no"). Anyone who may not record it gets 404."""
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    record = operation.reception.select_related("draft").filter(sequence=sequence).first()
    if record is None:
        raise Http404
    missing = request.POST.get("missing") == "yes"
    try:
        services.reception_missing(by=_user(request), record=record, missing=missing)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as refused:
        messages.error(request, f"Person {sequence}: {' '.join(refused.messages)}")
    else:
        done = "recorded as missing" if missing else "recorded as found again"
        messages.success(request, f"Person {sequence} {done}")
    return redirect("operations:board", operation.id)


@require_http_methods(["GET", "POST"])
def reception_hand_over(request: HttpRequest, operation_id: int, sequence: int) -> HttpResponse:
    """Hand the referral draft of a person taken in to another first responder of the
    organisation that took them in (ADR 0043). Anyone who may not gets 404."""
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    record = operation.reception.select_related("draft").filter(sequence=sequence).first()
    if record is None or record.draft is None:
        raise Http404
    if not selectors.may_hand_over(actor, record, record.draft):
        raise Http404
    receivers = selectors.draft_receivers(record.draft).exclude(pk=record.draft.created_by_id)
    # Bound on any POST: an empty one (nothing chosen) must show its error.
    form = HandOverForm(request.POST if request.method == "POST" else None, choices=receivers)
    if request.method == "POST" and form.is_valid():
        to = form.cleaned_data["to"]
        try:
            services.reception_draft_hand_over(by=_user(request), record=record, to=to)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"Person {sequence}: the referral draft is now {to}'s")
            return redirect("operations:board", operation.id)
    return render(
        request,
        "operations/hand_over.html",
        {
            "title": f"Hand over person {sequence}'s referral",
            "operation": operation,
            "record": record,
            "form": form,
            "submitted": record.draft.status != DraftStatus.DRAFT,
        },
    )


@require_safe
def report(request: HttpRequest, operation_id: int) -> HttpResponse:
    """The account of the operation (ADR 0045): counts only, nobody named, so no read of a
    person to record."""
    operation = selectors.operation_get_for(actor_of(request), operation_id)
    today = timezone.localdate()
    made = operation_report(operation, today)
    return render(
        request,
        "operations/report.html",
        {
            "title": "Report",
            "operation": operation,
            "status": operation.status_on(today),
            "report": made,
            "sexes": Sex.choices,
            "age_groups": AgeGroup.choices,
            "standings": list(selectors.Standing),
            "hours": hours_text,
            "kind_labels": KIND_LABELS,
        },
    )
