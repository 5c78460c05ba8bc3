"""The data-protection officer's pages: find a person's records, answer a subject access
request, erase on request, and see what the retention rules are doing."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, services
from .forms import (
    ApproveErasureForm,
    EraseForm,
    ExportForm,
    FindPersonForm,
    PersonReadsForm,
    RefuseErasureForm,
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_http_methods(["GET", "POST"])
def find(request: HttpRequest) -> HttpResponse:
    """Posted, not asked for in the address: a name and a date of birth in a URL would stay in
    browser histories and the web server's logs."""
    user = _user(request)
    form = FindPersonForm(request.POST if request.method == "POST" else None)
    context: dict[str, object] = {
        "title": "Find a person's records",
        "form": form,
        # Where a second officer finds the requests to approve (ADR 0014, stop 42 addendum).
        "awaiting": selectors.erasure_requests_awaiting(actor_of(request), timezone.localdate()),
    }
    if form.is_bound and form.is_valid():
        found = selectors.people_find(
            actor_of(request),
            reference=form.cleaned_data["reference"],
            name=form.cleaned_data["name"] or None,
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
        # A search by name says whether someone of that name is held: record that it was
        # made (how, and how many were found), never what was typed.
        audit_record(
            by=user,
            action="privacy.people_searched",
            detail={"by": form.searched_by, "found": len(found)},
        )
        context["found"] = found
    return render(request, "privacy/find.html", context)


@require_safe
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    records = selectors.person_get_for_data_protection(actor_of(request), person_id)
    return render(
        request,
        "privacy/person.html",
        {"title": f"Person {records.person.pk}", "records": records},
    )


@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, person_id: int) -> HttpResponse:
    user = _user(request)
    records = selectors.person_get_for_data_protection(actor_of(request), person_id)
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["request_reference"]
        data = services.subject_access_export(
            by=user, person=records.person, request_reference=reference
        )
        if form.cleaned_data["format"] == "json":
            response = HttpResponse(
                json.dumps(data, ensure_ascii=False, indent=2),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="subject-access-person-{records.person.pk}.json"'
            )
            response["Cache-Control"] = "private, no-store"
            return response
        response = render(
            request,
            "privacy/export_document.html",
            {
                "title": f"Everything held about person {records.person.pk}",
                "records": records,
                "data": data,
                "request_reference": reference,
            },
        )
        response["Cache-Control"] = "private, no-store"
        return response
    return render(
        request,
        "privacy/export.html",
        {"title": "Export everything held about this person", "records": records, "form": form},
    )


@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest, person_id: int) -> HttpResponse:
    """One officer records the person's request; another approves it, which erases, or either
    refuses it with a reason (ADR 0014, addendum of stop 42). Which of the three was posted is
    `action`."""
    user = _user(request)
    records = selectors.person_get_for_data_protection(actor_of(request), person_id)
    posted = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "request") if posted is not None else ""
    blocked = bool(records.open_cases or records.held_by)
    request_form = EraseForm(posted if action == "request" else None, confirm=not blocked)
    refuse_form = RefuseErasureForm(posted if action == "refuse" else None)
    # The form posted, whose problems the page's error summary lists.
    form = {"approve": ApproveErasureForm(posted), "refuse": refuse_form}.get(action, request_form)
    valid = form.is_bound and form.is_valid()
    awaiting = records.awaiting_erasure
    try:
        if action == "request" and valid:
            services.erasure_request_record(
                by=user,
                person=records.person,
                request_reference=request_form.cleaned_data["request_reference"],
                request_received_on=request_form.received_on,
            )
            messages.success(
                request, "The request is recorded: another data-protection officer must approve it"
            )
            return redirect("privacy:erase", records.person.pk)
        if action in ("approve", "refuse") and (
            awaiting is None or request.POST.get("erasure_request") != str(awaiting.pk)
        ):
            raise ValidationError("This request has already been decided: see it below")
        if action == "approve":
            services.erasure_request_approve(by=user, erasure_request=awaiting)
            messages.success(request, "The person's identifying details have been erased")
            return redirect("privacy:person", records.person.pk)
        if action == "refuse" and valid:
            services.erasure_request_refuse(
                by=user, erasure_request=awaiting, reason=refuse_form.cleaned_data["reason"]
            )
            messages.success(request, "The request is refused, and the refusal recorded")
            return redirect("privacy:erase", records.person.pk)
    except ValidationError as error:
        show_refusal(form, error)
    return render(
        request,
        "privacy/erase.html",
        {
            "title": "Erase a person's identifying details",
            "records": records,
            "form": form,
            "request_form": request_form,
            "refuse_form": refuse_form,
            "awaiting": awaiting,
            "own_request": awaiting is not None and awaiting.requested_by_id == user.pk,
        },
    )


@require_safe
def retention(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    return render(
        request,
        "privacy/retention.html",
        {
            "title": "Retention",
            "rules": [
                (
                    "A person's identifying details",
                    f"{settings.RETENTION_CLOSED_CASE_YEARS} years after the last of their "
                    "cases is closed, then pseudonymised",
                ),
                (
                    "Referrals never submitted",
                    f"{settings.RETENTION_DRAFT_DAYS} days after they were last changed, "
                    f"then deleted, once their author has been told at least "
                    f"{settings.RETENTION_DRAFT_NOTICE_DAYS} days before",
                ),
                (
                    "Notifications",
                    f"{settings.RETENTION_NOTIFICATION_DAYS} days, then deleted",
                ),
                (
                    "Finished background tasks (e-mails sent)",
                    f"{settings.RETENTION_TASK_RESULT_DAYS} days, then deleted",
                ),
                (
                    "The audit trail",
                    "Kept: it names the details that were seen or changed, never their values",
                ),
            ],
            **selectors.retention_summary(actor_of(request), today),
        },
    )


# As many reads a page as the audit search shows events.
READS_PAGE_SIZE = 50


@require_safe
def person_reads(request: HttpRequest) -> HttpResponse:
    """The data-protection officer looks up a person by case reference and sees who looked at
    their identifying data, when, which fields, and from where. The page shows no identifying
    data itself; each look-up is recorded, so the trail also shows who watched."""
    user: User = request.user  # type: ignore[assignment]
    form = PersonReadsForm(request.GET or None)
    context: dict[str, object] = {"title": "Who looked at a person's data", "form": form}
    if form.is_bound and form.is_valid():
        found = selectors.person_reads_get(actor_of(request), form.cleaned_data["reference"])
        if found is None:
            form.add_error("reference", "No case has this reference: check it and try again")
        else:
            page = Paginator(found.events, READS_PAGE_SIZE).get_page(request.GET.get("page"))
            audit_record(
                by=user,
                action="audit.person_reads_viewed",
                detail={"reference": found.reference, "page": page.number},
            )
            query = request.GET.copy()
            query.pop("page", None)
            context |= {
                "found": found,
                "page": page,
                "reads": found.describe(page),
                "query": query.urlencode(),
            }
    return render(request, "privacy/person_reads.html", context)
