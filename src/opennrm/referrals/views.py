from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.cases.selectors import (
    case_get_for_user,
    cases_referred_by_organisations_of,
    next_deadline,
)
from opennrm.lib.files import safe_file_name
from opennrm.screening.forms import IndicatorChecklistForm
from opennrm.screening.presentation import checklist_params
from opennrm.screening.selectors import screening_get_for_user

from . import selectors, services, steps, summary
from .forms import EvidenceForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _raw_answers(form: Any, post: Any) -> dict[str, Any]:
    """The values typed on a page, as typed: list fields as lists, date boxes by part."""
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if getattr(field.widget, "allow_multiple_selected", False):
            data[name] = post.getlist(name)
        elif name in ("date_of_birth", "started"):
            for part in ("day", "month", "year"):
                if f"{name}_{part}" in post:
                    data[f"{name}_{part}"] = post.get(f"{name}_{part}", "")
        elif name in post:
            data[name] = post.get(name, "")
    return data


@require_safe
def my_referrals(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "referrals/my_referrals.html",
        {
            "title": "Referrals",
            "drafts": selectors.drafts_of(actor_of(request)),
            "cases": [
                (case, next_deadline(case))
                for case in cases_referred_by_organisations_of(actor_of(request)).select_related(
                    "competent_authority"
                )[:200]
            ],
            "reports": selectors.reports_of_organisations(actor_of(request))[:50],
        },
    )


@require_POST
def draft_start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    organisation = selectors.referring_organisations(actor_of(request)).first()
    if organisation is None:
        raise Http404
    draft = services.draft_start(by=user, organisation=organisation)
    return redirect("referrals:task_list", draft.public_id)


@require_POST
def draft_from_screening(request: HttpRequest, screening_id: int) -> HttpResponse:
    """Refer the person screened: a draft with the screening's answers carried over."""
    user = _user(request)
    screening = screening_get_for_user(actor_of(request), screening_id)
    organisation = selectors.referring_organisations(actor_of(request)).filter(
        pk=screening.organisation_id
    )
    if not organisation.exists():
        raise Http404
    draft = services.draft_start(by=user, organisation=organisation.get(), screening=screening)
    messages.success(
        request,
        "The screening's answers are filled in: check them, then answer the rest",
    )
    return redirect("referrals:task_list", draft.public_id)


@require_safe
def task_list(request: HttpRequest, public_id: UUID) -> HttpResponse:
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    rows = [
        (step, steps.state_of(step, draft.answers))
        for step in steps.applicable_steps(draft.answers)
    ]
    route = steps.route(draft.answers)
    return render(
        request,
        "referrals/task_list.html",
        {
            "title": _journey(draft),
            "draft": draft,
            "rows": rows,
            "route": route.value,
            "evidence": draft.evidence.all() if route == steps.Route.REFERRAL else [],
            "complete": all(
                state == steps.StepState.COMPLETED or steps.left_out(step, draft.answers)
                for step, state in rows
            )
            and route != steps.Route.UNDECIDED,
        },
    )


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, public_id: UUID, slug: str) -> HttpResponse:
    user = _user(request)
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    current = steps.STEP_BY_SLUG.get(slug)
    if current is None or current not in steps.applicable_steps(draft.answers):
        raise Http404
    if steps.state_of(current, draft.answers) == steps.StepState.CANNOT_START:
        return redirect("referrals:task_list", draft.public_id)
    form = steps.bind(current, draft.answers)
    if request.method == "POST":
        data = _raw_answers(form, request.POST)
        draft = services.draft_save_answers(by=user, draft=draft, step=current, data=data)
        if request.headers.get("X-Autosave"):
            return HttpResponse(status=204)
        form = steps.bind(current, draft.answers)
        if form is not None and form.is_valid():
            return redirect(_next_page(draft, current))
    context: dict[str, Any] = {
        "title": f"{current.title} - {_journey(draft)}",
        "draft": draft,
        "form": form,
        "step": current,
        "route": steps.route(draft.answers).value,
    }
    if isinstance(form, IndicatorChecklistForm):
        context["checklist"] = checklist_params(form)
        context["list_label"] = form.indicator_list.label
    shown = steps.identifying_fields(draft.answers, [current.slug])
    if shown:
        audit_read(by=user, person=None, obj=draft, fields=shown)
    return render(request, f"referrals/steps/{slug}.html", context)


def _journey(draft: Any) -> str:
    """What the pages of this draft are part of, for their titles."""
    if steps.route(draft.answers) == steps.Route.DUTY_TO_NOTIFY:
        return "Duty to notify report"
    return "Refer a potential victim"


def _next_page(draft: Any, current: steps.Step) -> str:
    following = steps.applicable_steps(draft.answers)
    slugs = [s.slug for s in following]
    index = slugs.index(current.slug) if current.slug in slugs else len(slugs)
    for candidate in following[index + 1 :]:
        if steps.left_out(candidate, draft.answers):
            continue
        if steps.state_of(candidate, draft.answers) != steps.StepState.COMPLETED:
            return str(_step_url(draft, candidate.slug))
    return str(_task_list_url(draft))


def _step_url(draft: Any, slug: str) -> str:
    return reverse("referrals:step", args=[draft.public_id, slug])


def _task_list_url(draft: Any) -> str:
    return reverse("referrals:task_list", args=[draft.public_id])


@require_http_methods(["GET", "POST"])
def evidence(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    if steps.route(draft.answers) != steps.Route.REFERRAL:
        raise Http404
    form = EvidenceForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.evidence_add(
                by=user,
                draft=draft,
                upload=form.cleaned_data["file"],
                max_bytes=settings.EVIDENCE_MAX_BYTES,
            )
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
        else:
            messages.success(request, f"{added.original_name} has been added")
            return redirect("referrals:evidence", draft.public_id)
    files = list(draft.evidence.all())
    if files:
        # Files are listed by the names they were uploaded with, which can name the person.
        audit_read(by=user, person=None, obj=draft, fields=["evidence_names"])
    return render(
        request,
        "referrals/evidence.html",
        {
            "title": "Evidence - Refer a potential victim",
            "draft": draft,
            "form": form,
            "files": files,
        },
    )


@require_POST
def evidence_remove(request: HttpRequest, public_id: UUID, evidence_id: int) -> HttpResponse:
    user = _user(request)
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    item = selectors.evidence_get_for_draft(draft, evidence_id)
    services.evidence_remove(by=user, evidence=item)
    messages.success(request, f"{item.original_name} has been removed")
    return redirect("referrals:evidence", draft.public_id)


@require_safe
def evidence_download(request: HttpRequest, public_id: UUID, evidence_id: int) -> FileResponse:
    user = _user(request)
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    item = selectors.evidence_get_for_draft(draft, evidence_id)
    audit_read(
        by=user, person=None, action="evidence.downloaded", obj=draft, document=item, fields=[]
    )
    return download(item)


def download(item: Any) -> FileResponse:
    """Serve a stored file as an attachment, with the type found from its content."""
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=safe_file_name(item.original_name, item.content_type),
    )
    response["Content-Type"] = item.content_type
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def check_answers(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    try:
        draft = selectors.draft_get_for_user(actor_of(request), public_id)
    except Http404:
        # A second click on "Submit" after the first went through: show what it made.
        submitted = selectors.draft_get_for_user(actor_of(request), public_id, submitted=True)
        return redirect("referrals:confirmation", submitted.public_id)
    error = None
    if request.method == "POST":
        try:
            services.referral_submit(by=user, draft=draft)
        except services.IncompleteReferral as incomplete:
            return redirect(_step_url(draft, incomplete.step.slug))
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            return redirect("referrals:confirmation", draft.public_id)
    shown = steps.identifying_fields(
        draft.answers, [step.slug for step in steps.applicable_steps(draft.answers)]
    )
    if shown:
        audit_read(by=user, person=None, obj=draft, fields=shown)
    return render(
        request,
        "referrals/check_answers.html",
        {
            "title": "Check your answers before submitting",
            "draft": draft,
            "sections": summary.sections(draft),
            "route": steps.route(draft.answers).value,
            "submit_error": error,
        },
    )


@require_safe
def confirmation(request: HttpRequest, public_id: UUID) -> HttpResponse:
    draft = selectors.draft_get_for_user(actor_of(request), public_id, submitted=True)
    return render(
        request, "referrals/confirmation.html", {"title": "Referral submitted", "draft": draft}
    )


@require_http_methods(["GET", "POST"])
def draft_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Ask first, then delete: a draft deleted cannot be brought back."""
    user = _user(request)
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    if request.method == "GET":
        return render(
            request,
            "referrals/draft_delete.html",
            {"title": "Are you sure you want to delete this draft?", "draft": draft},
        )
    services.draft_delete(by=user, draft=draft)
    messages.success(request, "The draft referral has been deleted")
    return redirect("referrals:my_referrals")


@require_safe
def case_evidence_download(request: HttpRequest, reference: str, evidence_id: int) -> FileResponse:
    """A submitted referral's evidence file, from the case page (its route is
    `cases:evidence_download`, pages/case_urls.py)."""
    user = _user(request)
    case = case_get_for_user(actor_of(request), reference)
    item = case.evidence.filter(pk=evidence_id).first()
    if item is None:
        raise Http404
    audit_read(
        by=user,
        person=case.person,
        action="evidence.downloaded",
        obj=case,
        document=item,
        fields=[],
    )
    return download(item)
