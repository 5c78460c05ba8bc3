from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.accounts.roles import OrganisationKind
from opennrm.audit.services import audit_read
from opennrm.cases.choices import ExploitationType
from opennrm.cases.selectors import (
    case_get_for_user,
    cases_referred_by_organisations_of,
    is_referrer,
    may_decide,
    next_deadline,
)
from opennrm.decisions.letters import MissingGlyphs
from opennrm.lib.files import safe_file_name
from opennrm.lib.govuk_forms import show_refusal
from opennrm.lib.iso import country_name
from opennrm.lib.paging import page_number, page_of
from opennrm.screening.forms import IndicatorChecklistForm
from opennrm.screening.presentation import checklist_params
from opennrm.screening.selectors import screening_get_for_user

from . import copy_pdf, selectors, services, steps, summary
from .forms import PREMISES, AdditionForm, EvidenceForm, InformationRequestForm, StartForm
from .models import DraftStatus, InformationRequestStatus

# Rows a page of a list shows (`lib.paging.page_of`): the lists grow with the country (rule 14).
PAGE_SIZE = 50

# How the confirmation page names the child's area's children's services, told or not.
CHILDRENS_SERVICE_NAMES: dict[str, str] = {
    OrganisationKind.LOCAL_AUTHORITY: "the local authority's children's services",
    OrganisationKind.CHILD_GUARDIAN_SERVICE: "the child trafficking guardian service",
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _query_without(request: HttpRequest, key: str) -> str:
    """The page's query string without the page number `key`: what its paging links add to."""
    query = request.GET.copy()
    query.pop(key, None)
    return query.urlencode()


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
    today = timezone.localdate()
    actor = actor_of(request)
    # Two lists, each paged by its own number: the referrals by `page`, the questions by
    # `questions_page` (the home page's count of questions links to that list).
    cases = page_of(
        cases_referred_by_organisations_of(actor)
        .select_related("competent_authority")
        .order_by("-submitted_at", "-pk"),
        page_number(request.GET.get("page")),
        PAGE_SIZE,
    )
    return render(
        request,
        "referrals/my_referrals.html",
        {
            "title": "Referrals",
            "drafts": [
                (draft, selectors.draft_deleted_on(draft, today))
                for draft in selectors.drafts_of(actor)
            ],
            "draft_days": settings.RETENTION_DRAFT_DAYS,
            "soon": today + timedelta(days=settings.RETENTION_DRAFT_NOTICE_DAYS),
            "cases_page": cases,
            "cases": [(case, next_deadline(case)) for case in cases],
            "cases_query": _query_without(request, "page"),
            "reports": selectors.reports_of_organisations(actor)[:50],
            "start_form": StartForm(organisations=list(selectors.referring_organisations(actor))),
            # References and dates only: the question itself is read on the case page.
            "questions": page_of(
                selectors.information_requests_open(actor),
                page_number(request.GET.get("questions_page")),
                PAGE_SIZE,
            ),
            "questions_query": _query_without(request, "questions_page"),
            "today": today,
        },
    )


@require_safe
def additions_unseen(request: HttpRequest) -> HttpResponse:
    """For decision makers: information referrers added that nobody at the authority has marked
    read yet. References and dates only; the text is read on the case page."""
    return render(
        request,
        "referrals/additions_unseen.html",
        {
            "title": "Information added to referrals, not yet read",
            "additions": page_of(
                selectors.additions_unseen(actor_of(request)),
                page_number(request.GET.get("page")),
                PAGE_SIZE,
            ),
            "query": _query_without(request, "page"),
        },
    )


@require_POST
def draft_start(request: HttpRequest) -> HttpResponse:
    """Start a draft for the organisation chosen: asked of a first responder of more than one,
    never taken for her (that organisation sees the person and the case)."""
    user = _user(request)
    organisations = list(selectors.referring_organisations(actor_of(request)))
    if not organisations:
        raise Http404
    form = StartForm(request.POST, organisations=organisations)
    if not form.is_valid():
        return render(
            request,
            "referrals/start.html",
            {"title": "Which organisation are you referring for?", "form": form},
        )
    draft = services.draft_start(by=user, organisation=form.cleaned_data["organisation"])
    return redirect("referrals:task_list", draft.public_id)


@require_POST
def draft_from_screening(request: HttpRequest, screening_id: int) -> HttpResponse:
    """Refer the person screened: a draft with the screening's answers carried over. A screening
    already referred goes back to its page with why (or, to its own draft, the one who started
    it)."""
    user = _user(request)
    screening = screening_get_for_user(actor_of(request), screening_id)
    organisation = selectors.referring_organisations(actor_of(request)).filter(
        pk=screening.organisation_id
    )
    if not organisation.exists():
        raise Http404
    try:
        draft = services.draft_start(by=user, organisation=organisation.get(), screening=screening)
    except services.ScreeningReferred as referred:
        started = referred.draft
        if (
            started is not None
            and started.created_by_id == user.pk
            and started.status == DraftStatus.DRAFT
        ):
            messages.info(request, "You have already started a referral from this screening")
            return redirect("referrals:task_list", started.public_id)
        messages.error(request, " ".join(referred.messages))
        return redirect("screening:detail", screening.pk)
    messages.success(
        request,
        "The screening's answers are filled in: check them, then answer the rest"
        + (
            ". The screening said they may be under 18, so the age page says their age is "
            "uncertain and they are treated as a child: if you know they are under 18, change it"
            if screening.is_child
            else ""
        ),
    )
    return redirect("referrals:task_list", draft.public_id)


@require_safe
def task_list(request: HttpRequest, public_id: UUID) -> HttpResponse:
    draft = selectors.draft_get_for_user(actor_of(request), public_id)
    catalogue = draft.indicators_catalogue
    rows = [
        (step, steps.state_of(step, draft.answers, catalogue=catalogue))
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
            "complete": steps.ready(draft.answers, catalogue=catalogue),
            "nothing_to_submit": services.NOTHING_TO_SUBMIT
            if route == steps.Route.NOTHING_TO_SUBMIT
            else "",
            # An autosaved "No" to consent, not confirmed: nothing deleted yet.
            "unconfirmed": steps.refused(draft.answers)
            and (steps.shown_answers(draft.answers) != draft.answers or draft.evidence.exists()),
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
    # The indicators from the version they were answered from, whatever is loaded since.
    catalogue = draft.indicators_catalogue
    form = steps.bind(current, draft.answers, catalogue=catalogue)
    ask_again = False
    not_in_list: list[tuple[str, str]] = []
    if request.method == "POST":
        saved = _save(request, draft, current, form)
        if isinstance(saved, HttpResponse):
            return saved
        draft = saved
        catalogue = draft.indicators_catalogue
        form = steps.bind(current, draft.answers, catalogue=catalogue)
        if form is not None and form.is_valid():
            return redirect(_next_page(draft, current, catalogue))
    elif current.slug == "indicators":
        form, ask_again, not_in_list = _indicators(draft, current, catalogue, form)
    context: dict[str, Any] = {
        "title": f"{current.title} - {_journey(draft)}",
        "draft": draft,
        "form": form,
        "step": current,
        "route": steps.route(draft.answers).value,
        # The consent page's warning: what a "No" leads to.
        "carries_duty_to_notify": steps.carries_duty_to_notify(
            draft.organisation.kind, draft.organisation.jurisdiction
        ),
        "ask_again": ask_again,
        "not_in_list": not_in_list,
    }
    if isinstance(form, IndicatorChecklistForm):
        context["checklist"] = checklist_params(form)
        context["list_label"] = form.indicator_list.label
    read = steps.identifying_fields(steps.shown_answers(draft.answers), [current.slug])
    if read:
        audit_read(by=user, person=None, obj=draft, fields=read)
    return render(request, f"referrals/steps/{slug}.html", context)


def _save(request: HttpRequest, draft: Any, current: steps.Step, form: Any) -> Any | HttpResponse:
    """Save the page's answers: the draft saved, or the response to give (an autosave's)."""
    autosave = bool(request.headers.get("X-Autosave"))
    try:
        draft = services.draft_save_answers(
            by=_user(request),
            draft=draft,
            step=current,
            data=_raw_answers(form, request.POST),
            autosave=autosave,
        )
    except services.AlreadySubmitted as submitted:
        # Submitted in another tab while this page was open.
        if autosave:
            return HttpResponse(
                "This referral has already been submitted: this answer was not saved.",
                status=409,
                content_type="text/plain",
            )
        messages.error(
            request,
            "This referral had already been submitted, so this page was not saved. To tell "
            "the competent authority more, add information from the case page.",
        )
        return redirect("referrals:confirmation", submitted.draft.public_id)
    return HttpResponse(status=204) if autosave else draft


def _indicators(
    draft: Any, current: steps.Step, catalogue: Any, form: Any
) -> tuple[Any, bool, list[tuple[str, str]]]:
    """The indicators page's form, whether it asks again, and the saved ticks it leaves off."""
    unknown = steps.indicators_not_in_list(draft.answers, catalogue)
    if not unknown:
        return form, False, []
    if draft.indicators_catalogue_id is None:
        # Answered before drafts recorded their version, from one since replaced: the codes it
        # saved mean nothing in this list, so ask again, saying why (not "AL-DR-01 is not an
        # indicator in this list", codes the first responder never sees).
        unanswered = {slug: v for slug, v in draft.answers.items() if slug != current.slug}
        return steps.bind(current, unanswered, catalogue=catalogue), True, []
    # Ticked from another list: the age or the kind of exploitation changed since (or the
    # screening the draft started from used another). Named, each by what it says, and left off
    # the page, which removes them when saved (not "AL-DR-01 is not an indicator in this list",
    # naming the first only, a tick she could neither see nor untick).
    saved = draft.answers.get(current.slug) or {}
    kept = [code for code in saved.get("observed") or [] if code not in unknown]
    shown = {slug: v for slug, v in draft.answers.items() if slug != current.slug}
    if kept or saved.get("none_observed"):
        shown[current.slug] = {**saved, "observed": kept}
    named = [(code, steps.indicator_text(code, catalogue)) for code in unknown]
    return steps.bind(current, shown, catalogue=catalogue), False, named


def _journey(draft: Any) -> str:
    """What the pages of this draft are part of, for their titles."""
    if steps.route(draft.answers) == steps.Route.DUTY_TO_NOTIFY:
        return "Duty to notify report"
    return "Refer a potential victim"


def _next_page(draft: Any, current: steps.Step, catalogue: Any) -> str:
    following = steps.applicable_steps(draft.answers)
    slugs = [s.slug for s in following]
    index = slugs.index(current.slug) if current.slug in slugs else len(slugs)
    for candidate in following[index + 1 :]:
        if steps.left_out(candidate, draft.answers) and not candidate.asked_in_turn:
            continue
        if steps.state_of(candidate, draft.answers, catalogue=catalogue) != (
            steps.StepState.COMPLETED
        ):
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
        steps.shown_answers(draft.answers),
        [step.slug for step in steps.applicable_steps(draft.answers)],
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
    told, untold = (
        selectors.childrens_services_reached(draft.case) if draft.case is not None else ([], [])
    )
    return render(
        request,
        "referrals/confirmation.html",
        {
            "title": "Referral submitted",
            "draft": draft,
            "told": [CHILDRENS_SERVICE_NAMES[kind] for kind in told],
            "untold": [CHILDRENS_SERVICE_NAMES[kind] for kind in untold],
        },
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
    try:
        services.draft_delete(by=user, draft=draft)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("referrals:task_list", draft.public_id)
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


# --- After submission: requests for information, additions, the referrer's copy (ADR 28) -------
# Their routes are case routes, under `cases:` (pages/case_urls.py).


@require_http_methods(["GET", "POST"])
def information_request_ask(request: HttpRequest, reference: str) -> HttpResponse:
    """A decision maker asks the referring organisation for more information."""
    user = _user(request)
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    if not may_decide(actor, case):
        raise Http404
    form = InformationRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        sent_at = timezone.now()
        try:
            asked = services.information_request_ask(
                by=user,
                case=case,
                question=form.cleaned_data["question"],
                respond_by=form.cleaned_data["respond_by"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                "This request had already been sent: it is not sent twice"
                if asked.asked_at < sent_at
                else "Your request has been sent to the referring organisation",
            )
            return redirect("cases:detail", case.reference)
    if form.is_bound and form.data.get("question"):
        # The question typed, shown again after a refusal: free text about the person.
        audit_read(by=user, person=case.person, obj=case, fields=["information_request"])
    return render(
        request,
        "referrals/information_request.html",
        {"title": "Ask the referrer for more information", "case": case, "form": form},
    )


@require_POST
def information_request_withdraw(
    request: HttpRequest, reference: str, request_id: int
) -> HttpResponse:
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    item = selectors.information_request_for_decider(actor, case, request_id)
    try:
        services.information_request_withdraw(by=_user(request), request=item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The request for information has been withdrawn")
    return redirect("cases:detail", case.reference)


def _addition(request: HttpRequest, reference: str, request_id: int | None) -> HttpResponse:
    user = _user(request)
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    if not is_referrer(actor, case):
        raise Http404
    asked = (
        selectors.information_request_for_referrer(actor, case, request_id)
        if request_id is not None
        else None
    )
    # A request no longer open is not answered again. But the form sent again with its one-time
    # key goes on to the service: if the first send answered it, the service knows the answer as
    # hers and says it was already added; anything else it refuses as answered or withdrawn.
    sent_with_key = request.method == "POST" and bool(request.POST.get("submission_key"))
    if asked is not None and asked.status != InformationRequestStatus.OPEN and not sent_with_key:
        messages.error(request, "This request has already been answered or withdrawn")
        return redirect("cases:detail", case.reference)
    form = AdditionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        sent_at = timezone.now()
        try:
            added = services.referral_addition_add(
                by=user,
                case=case,
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["evidence"],
                answers=asked,
                max_bytes=settings.EVIDENCE_MAX_BYTES,
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                "This information had already been added: it is not added twice"
                if added.added_at < sent_at
                else "Your information has been added. The competent authority has been told.",
            )
            return redirect("cases:detail", case.reference)
    if form.errors.get("evidence"):
        # A file was refused: the browser cannot keep a chosen file, so say to choose it again.
        refused = form.errors.pop("evidence")
        form.add_error(
            "evidence",
            f"{' '.join(str(e) for e in refused)}. Your text has been kept: select the files again",
        )
    shown = []
    if asked is not None:
        shown.append("information_request")
    if form.is_bound and form.data.get("text"):
        shown.append("additions")
    if shown:
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "referrals/addition.html",
        {
            "title": "Answer the request for information" if asked else "Add information",
            "case": case,
            "form": form,
            "asked": asked,
        },
    )


@require_http_methods(["GET", "POST"])
def addition_add(request: HttpRequest, reference: str) -> HttpResponse:
    """The referring organisation adds information, and evidence, of its own accord."""
    return _addition(request, reference, None)


@require_http_methods(["GET", "POST"])
def information_request_answer(
    request: HttpRequest, reference: str, request_id: int
) -> HttpResponse:
    """The referring organisation answers a request for information."""
    return _addition(request, reference, request_id)


@require_POST
def addition_seen(request: HttpRequest, reference: str, addition_id: int) -> HttpResponse:
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    item = selectors.addition_for_decider(actor, case, addition_id)
    services.referral_addition_mark_seen(by=_user(request), addition=item)
    messages.success(request, "Marked as read")
    return redirect("cases:detail", case.reference)


@require_safe
def referral_copy(request: HttpRequest, reference: str) -> HttpResponse:
    """The referral as submitted, and what was added after it, as a PDF for the referrer."""
    user = _user(request)
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    if not is_referrer(actor, case):
        raise Http404
    try:
        content = copy_pdf.pdf(case, printed_at=timezone.now())
    except MissingGlyphs as missing:
        # Nothing was sent, so nothing is recorded as exported; the case page says why.
        messages.error(request, _unprintable(missing))
        return redirect("cases:detail", case.reference)
    audit_read(
        by=user,
        person=case.person,
        action="person.exported",
        obj=case,
        # The document given out: the referral as submitted (its draft record, if it was
        # made through the referral pages; the case otherwise).
        document=getattr(case, "draft", None) or case,
        fields=copy_pdf.COPY_FIELDS,
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="referral-{case.reference}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _unprintable(missing: MissingGlyphs) -> str:
    """Why the referral copy cannot be printed: its own words, not the letters' ("The letter's
    fonts cannot print...") that `MissingGlyphs` carries."""
    named = ", ".join(
        f"{c} (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in missing.characters
    )
    return f"The copy's fonts cannot print {named}. The copy cannot be printed as a PDF."


@require_safe
def report(request: HttpRequest, reference: str) -> HttpResponse:
    """A duty to notify report, and the intelligence it carries for the police: for the
    reporting organisation's first responders and those the intelligence was sent to. Its
    showing is recorded; the report itself identifies nobody."""
    user = _user(request)
    found = selectors.report_get_for(actor_of(request), reference)
    intelligence = getattr(found, "intelligence", None)
    if intelligence is not None:
        shown = [
            name
            for name, value in (
                ("intelligence_places", intelligence.places),
                ("intelligence_exploiters", intelligence.exploiters),
                ("intelligence_vehicles", intelligence.vehicles),
                ("intelligence_dates", intelligence.dates),
            )
            if value
        ]
        audit_read(by=user, person=None, obj=found, fields=shown)
    return render(
        request,
        "referrals/report.html",
        {
            "title": f"Duty to notify report {found.reference}",
            "report": found,
            "intelligence": intelligence,
            "premises": dict(PREMISES),
            "exploitation": [
                ExploitationType(t).label if t in ExploitationType.values else t
                for t in found.exploitation_types
            ],
            "nationalities": [country_name(code) for code in found.nationalities],
            "routed_to": list(intelligence.routed_to.all()) if intelligence else [],
        },
    )
