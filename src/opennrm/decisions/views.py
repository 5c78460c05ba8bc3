from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_read
from opennrm.cases.models import Case
from opennrm.cases.selectors import (
    case_get_for_user,
    cases_visible_to,
    is_referrer,
    may_request_reconsideration,
)
from opennrm.lib.files import safe_file_name
from opennrm.lib.govuk_forms import show_refusal
from opennrm.lib.paging import Page, page_number, page_of
from opennrm.linkage.selectors import cases_with_open_pairs
from opennrm.policy.profiles import NoProfileError, profile_for

from . import letters, selectors, services
from .forms import (
    ApprovalForm,
    AssignForm,
    DecisionForm,
    DisqualificationForm,
    ExtensionForm,
    LateReconsiderationForm,
    ReconsiderationDecisionForm,
    ReconsiderationRequestForm,
)
from .models import DecisionKind, Letter, ReconsiderationEvidence

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("queue", "reasonable-grounds")
    if name not in selectors.QUEUES and name != "approvals":
        raise Http404
    if request.GET.get("overdue") and name not in selectors.DEADLINE_QUEUES:
        # "Overdue only" means nothing in a queue without a deadline, and its page does not
        # offer it: a link asking for it opens the queue without it, not under a filter the
        # page does not show.
        query = request.GET.copy()
        query.pop("overdue")
        return redirect(f"{request.path}?{query.urlencode()}")
    filters = selectors.QueueFilter(
        assigned=request.GET.get("assigned", "all")
        if request.GET.get("assigned") in ("me", "unassigned")
        else "all",
        age_group=request.GET.get("age_group", "")
        if request.GET.get("age_group") in ("adult", "child")
        else "",
        overdue_only=request.GET.get("overdue") == "yes",
        due_today=request.GET.get("due") == "today",
    )
    context: dict[str, Any] = {
        "title": "Decisions",
        "queue_name": name,
        "has_deadline": name in selectors.DEADLINE_QUEUES,
        "queues": [(key, title) for key, (title, *_rest) in selectors.QUEUES.items()],
        "filters": filters,
        "approvals_count": selectors.approvals_pending(actor_of(request)).count(),
        "today": timezone.localdate(),
    }
    if name == "approvals":
        context["approvals"] = selectors.approvals_pending(actor_of(request))
    else:
        actor = actor_of(request)
        page = page_of(
            selectors.queue(actor, name, filters), page_number(request.GET.get("page")), PAGE_SIZE
        )
        context["page"], context["rows"] = page, _rows(actor, name, page, context["today"])
        context["query"] = _query_without(request, "page")
        if name in selectors.HELD_APART:
            # The cases it lists apart (suspended while the person was missing): their own table.
            apart = page_of(
                selectors.queue(actor, name, filters, apart=True),
                page_number(request.GET.get("apart_page")),
                PAGE_SIZE,
            )
            context["apart"] = apart
            context["apart_rows"] = _rows(actor, name, apart, context["today"])
            context["apart_query"] = _query_without(request, "apart_page")
    context["workload"] = selectors.workload(actor_of(request))
    return render(request, "decisions/queue.html", context)


def _query_without(request: HttpRequest, key: str) -> str:
    """The page's query string without the page number `key`: what its paging links add to."""
    query = request.GET.copy()
    query.pop(key, None)
    return query.urlencode()


def _rows(actor: Actor, name: str, page: Page[Case], today: date) -> list[dict[str, Any]]:
    """A page of queue `name`'s cases as the table shows them, with their tags."""
    ids = [case.pk for case in page]
    if not ids:
        return []
    # Cases in a pair waiting for the authority's answer (ADR 0049): flagged in the queue.
    earlier = cases_with_open_pairs(actor, ids)
    # A decision made and waiting for approval: no other can be made until it is decided.
    waiting = selectors.cases_awaiting_approval(ids)
    gone = selectors.cases_with_assignee_gone(ids)
    return [
        {
            "case": case,
            "due": _due(case, name),
            "tag": selectors.queue_tag(
                name, _due(case, name), today=today, awaiting_approval=case.pk in waiting
            ),
            "possible_earlier_referral": case.pk in earlier,
            "awaiting_approval": case.pk in waiting,
            "assignee_gone": case.pk in gone,
        }
        for case in page
    ]


def _due(case: Any, queue_name: str) -> Any:
    return getattr(case, selectors.QUEUES[queue_name][2])


STAGES = {
    "reasonable-grounds": (
        "Reasonable grounds decision",
        services.decision_record_reasonable_grounds,
        DecisionKind.REASONABLE_GROUNDS,
    ),
    "conclusive-grounds": (
        "Conclusive grounds decision",
        services.decision_record_conclusive_grounds,
        DecisionKind.CONCLUSIVE_GROUNDS,
    ),
}


@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, reference: str, stage: str) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_decider(actor_of(request), reference)
    if stage not in STAGES:
        raise Http404
    title, record, kind = STAGES[stage]
    try:
        profile = profile_for(case.jurisdiction, timezone.localdate())
    except NoProfileError as missing:
        raise Http404 from missing
    outcomes = (
        profile.reasonable_grounds_outcomes
        if stage == "reasonable-grounds"
        else profile.conclusive_grounds_outcomes
    )
    form = DecisionForm(
        request.POST if request.method == "POST" else None,
        outcomes=outcomes,
        case=case,
        initial={"expected_version": case.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            decision = record(
                by=user,
                case=case,
                outcome=form.cleaned_data["outcome"],
                reasons=form.cleaned_data["reasons"],
                negative_reason=form.cleaned_data["negative_reason"],
                expected_version=form.cleaned_data["expected_version"],
                indicators=form.cleaned_data["indicators"],
                evidence=[int(pk) for pk in form.cleaned_data["evidence"]],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            if decision.state == "awaiting_approval":
                messages.success(
                    request,
                    "Decision recorded. It takes effect when a second decision maker approves it.",
                )
            else:
                messages.success(request, f"Decision recorded: {decision.outcome_label}")
            return redirect("cases:detail", case.reference)
    # A decision that would be refused is not offered: the page says why instead of showing a
    # form (after a refused submission the form stays, with what was typed).
    refusal = None if form.is_bound else services.decision_refusal(case=case, stage=kind)
    shown = []
    if refusal is None and form.fields["evidence"].choices:  # type: ignore[attr-defined]
        # The evidence to rely on is listed by file name, which can name the person.
        shown.append("evidence_names")
    if form.is_bound and form.data.get("reasons", "").strip():
        # Reasons typed and shown again after a refusal: free text about the person.
        shown.append("decision_reasons")
    if shown:
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "decisions/decide.html",
        {
            "title": title,
            "case": case,
            "form": form,
            "profile": profile,
            "stage": stage,
            "refusal": refusal,
            "test": profile.reasonable_grounds_test
            if stage == "reasonable-grounds"
            else profile.conclusive_grounds_standard,
        },
    )


@require_http_methods(["GET", "POST"])
def approval(request: HttpRequest, decision_id: int) -> HttpResponse:
    user = _user(request)
    decision = selectors.decision_get_for_decider(actor_of(request), decision_id)
    form = ApprovalForm(request.POST if request.method == "POST" else None)
    refusal = services.approval_refusal(by=user, decision=decision)
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_approve(
                by=user,
                decision=decision,
                approve=form.cleaned_data["approve"] == "yes",
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                "Approved: the decision is in effect"
                if form.cleaned_data["approve"] == "yes"
                else "Not approved: a new decision is needed",
            )
            return redirect("cases:detail", decision.case.reference)
    # What the referrer added after the draft was written: the draft never weighed it, and the
    # second decision maker must see it before putting a refusal in effect (review of stop 39).
    added_since = list(
        decision.case.additions.filter(added_at__gt=decision.decided_at)
        .select_related("added_by", "answers")
        .prefetch_related("evidence")
    )
    # The decision maker's reasons are free text about the person; so are the additions, and
    # the names of their files may name them (as on the case page).
    shown = ["decision_reasons", *(["additions"] if added_since else [])]
    if any(item.evidence.all() for item in added_since):
        shown.append("evidence_names")
    audit_read(by=user, person=decision.case.person, obj=decision, fields=shown)
    return render(
        request,
        "decisions/approval.html",
        {
            "title": "Approve a decision",
            "decision": decision,
            "form": form,
            "refusal": refusal,
            "added_since": added_since,
        },
    )


@require_http_methods(["GET", "POST"])
def reconsideration(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    item = selectors.reconsideration_get_for_decider(actor_of(request), request_id)
    form = ReconsiderationDecisionForm(
        request.POST if request.method == "POST" else None,
        initial={"expected_version": item.case.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reconsideration_decide(
                by=user,
                request=item,
                accept=form.cleaned_data["accept"] == "yes",
                reasons=form.cleaned_data["reasons"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Reconsideration decided")
            return redirect("cases:detail", item.case.reference)
    # The referrer's grounds are free text about the person.
    evidence = list(item.evidence.all())
    # The referrer's grounds are free text about the person; the files' names may name them.
    audit_read(
        by=user,
        person=item.case.person,
        obj=item,
        fields=[
            "reconsideration_grounds",
            *(["evidence_names"] if evidence else []),
            *(["late_circumstances"] if item.late else []),
        ],
    )
    return render(
        request,
        "decisions/reconsideration.html",
        {"title": "Decide a reconsideration", "item": item, "form": form, "evidence": evidence},
    )


@require_http_methods(["GET", "POST"])
def assign(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.case_get_for_decider(actor_of(request), reference)
    deciders = list(selectors.deciders_of(case))
    form = AssignForm(
        request.POST if request.method == "POST" else None,
        deciders=[(str(d.pk), d.full_name) for d in deciders],
        initial={"expected_version": case.version, "assignee": case.assigned_to_id or ""},
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["assignee"]
        assignee = next((d for d in deciders if str(d.pk) == chosen), None)
        try:
            services.case_assign(
                by=user,
                case=case,
                assignee=assignee,
                expected_version=form.cleaned_data["expected_version"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request, f"Assigned to {assignee.full_name}" if assignee else "Case unassigned"
            )
            return redirect("cases:detail", case.reference)
    return render(
        request, "decisions/assign.html", {"title": "Assign the case", "case": case, "form": form}
    )


@require_http_methods(["GET", "POST"])
def extend(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    # "Not found" only to those who may not reach the case: a case that moved on while the form
    # was open is refused on the form, with what was typed (ADR 0017, addenda of stops 37, 41).
    case = selectors.case_get_for_decider(actor_of(request), reference)
    form = ExtensionForm(
        request.POST if request.method == "POST" else None,
        initial={"expected_version": case.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.recovery_extend(
                by=user,
                case=case,
                days=form.cleaned_data["days"],
                reasons=form.cleaned_data["reasons"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "The recovery period has been extended")
            return redirect("cases:detail", case.reference)
    if form.is_bound and form.data.get("reasons", "").strip():
        # Reasons typed and shown again after a refusal: free text about the person.
        audit_read(by=user, person=case.person, obj=case, fields=["decision_reasons"])
    # An extension that would be refused is not offered: the page says why instead of the form
    # (after a refused submission the form stays, with what was typed, and the dates of a period
    # that can no longer be extended are not stated as if it could).
    refusal = services.extension_refusal(case)
    return render(
        request,
        "decisions/extend.html",
        {
            "title": "Extend the recovery period",
            "case": case,
            "form": form,
            "refusal": None if form.is_bound else refusal,
            "extendable": refusal is None,
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def disqualify(request: HttpRequest, reference: str) -> HttpResponse:
    """Disqualify the person on public order or bad faith grounds (NABA 2022 s.63), during the
    recovery period where the rules in force have it. A negative decision: where the rules say
    so it takes effect only when a second decision maker approves it."""
    user = _user(request)
    case = selectors.case_get_for_decider(actor_of(request), reference)
    form = DisqualificationForm(
        request.POST if request.method == "POST" else None,
        initial={"expected_version": case.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            decision = services.decision_disqualify(
                by=user,
                case=case,
                ground=form.cleaned_data["ground"],
                reasons=form.cleaned_data["reasons"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                "Decision recorded. It takes effect when a second decision maker approves it."
                if decision.state == "awaiting_approval"
                else f"Decision recorded: {decision.outcome_label}",
            )
            return redirect("cases:detail", case.reference)
    if form.is_bound and form.data.get("reasons", "").strip():
        # Reasons typed and shown again after a refusal: free text about the person.
        audit_read(by=user, person=case.person, obj=case, fields=["decision_reasons"])
    # Not offered where it would be refused: the page says why instead of showing the form.
    refusal = None if form.is_bound else services.disqualification_refusal(case)
    try:
        profile = profile_for(case.jurisdiction, timezone.localdate())
    except NoProfileError:
        profile = None  # the refusal says so
    return render(
        request,
        "decisions/disqualify.html",
        {
            "title": "Disqualify on public order or bad faith grounds",
            "case": case,
            "form": form,
            "refusal": refusal,
            "profile": profile,
        },
    )


# The identifying fields a letter shows: it greets the person by name and quotes the reasons.
LETTER_FIELDS = ["given_names", "decision_reasons"]


@require_http_methods(["GET"])
def letter(request: HttpRequest, decision_id: int) -> HttpResponse:
    """The letter as it was issued (the stored record), not as the case stands today."""
    record = selectors.letter_get_for_reader(actor_of(request), decision_id)
    return _letter_page(
        request,
        record,
        document=record.decision,
        pdf=reverse("decisions:letter_pdf", args=[decision_id]),
    )


@require_http_methods(["GET"])
def letter_pdf(request: HttpRequest, decision_id: int) -> HttpResponse:
    record = selectors.letter_get_for_reader(actor_of(request), decision_id)
    return _letter_pdf(
        request,
        record,
        document=record.decision,
        page=reverse("decisions:letter", args=[decision_id]),
        filename=f"decision-{record.case.reference}-{record.decision_id}.pdf",
    )


@require_http_methods(["GET"])
def adult_dates_letter(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The letter stating the adult dates a change of age group gave the case, as issued."""
    record = selectors.adult_dates_letter_get_for_reader(actor_of(request), letter_id)
    return _letter_page(
        request,
        record,
        document=record,
        pdf=reverse("decisions:adult_dates_letter_pdf", args=[letter_id]),
    )


@require_http_methods(["GET"])
def adult_dates_letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    record = selectors.adult_dates_letter_get_for_reader(actor_of(request), letter_id)
    return _letter_pdf(
        request,
        record,
        document=record,
        page=reverse("decisions:adult_dates_letter", args=[letter_id]),
        filename=f"adult-dates-{record.case.reference}-{letter_id}.pdf",
    )


@require_http_methods(["GET"])
def reconsideration_letter(request: HttpRequest, request_id: int) -> HttpResponse:
    """The letter telling the person how a reconsideration was decided, as it was issued."""
    record = selectors.reconsideration_letter_get_for_reader(actor_of(request), request_id)
    return _letter_page(
        request,
        record,
        document=record.reconsideration,
        pdf=reverse("decisions:reconsideration_letter_pdf", args=[request_id]),
    )


@require_http_methods(["GET"])
def reconsideration_letter_pdf(request: HttpRequest, request_id: int) -> HttpResponse:
    record = selectors.reconsideration_letter_get_for_reader(actor_of(request), request_id)
    return _letter_pdf(
        request,
        record,
        document=record.reconsideration,
        page=reverse("decisions:reconsideration_letter", args=[request_id]),
        filename=f"reconsideration-{record.case.reference}-{request_id}.pdf",
    )


def _letter_page(
    request: HttpRequest, record: Letter, *, document: Model | None, pdf: str
) -> HttpResponse:
    words = letters.LetterText.from_json(record.text)
    audit_read(
        by=_user(request),
        person=record.case.person,
        obj=record.case,
        document=document,
        fields=LETTER_FIELDS,
    )
    # The support provider that asked for a reconsideration reads its letter from the support
    # plan, not the case page, which it cannot open.
    back = (
        ("Back to the case", reverse("cases:detail", args=[record.case.reference]))
        if cases_visible_to(actor_of(request)).filter(pk=record.case_id).exists()
        else ("Back to the support plan", reverse("support:plan", args=[record.case.reference]))
    )
    return render(
        request,
        "decisions/letter.html",
        {
            "title": words.title,
            "letter": words,
            "record": record,
            "decision": record.decision,
            "pdf": pdf,
            "back": {"text": back[0], "href": back[1]},
        },
    )


def _letter_pdf(
    request: HttpRequest, record: Letter, *, document: Model | None, page: str, filename: str
) -> HttpResponse:
    try:
        content = letters.pdf(letters.LetterText.from_json(record.text), issued_at=record.issued_at)
    except letters.MissingGlyphs as missing:
        # Nothing was sent, so nothing is recorded as exported; the page says why.
        messages.error(request, f"{missing}. Print the letter from this page instead.")
        return redirect(page)
    audit_read(
        by=_user(request),
        person=record.case.person,
        action="person.exported",
        obj=record.case,
        document=document,
        fields=LETTER_FIELDS,
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def reconsideration_request(request: HttpRequest, reference: str) -> HttpResponse:
    """The referrer asks for a negative decision to be reconsidered. The form is offered while
    they may ask (`may_request_reconsideration`); a request the referrer sends is decided by
    the service, which says why it refuses one (the window closed as they wrote, say) and the
    form is shown again with what they typed. Anyone else: not found."""
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    may_send = request.method == "POST" and is_referrer(actor, case)
    if not (may_send or may_request_reconsideration(actor, case)):
        raise Http404
    return reconsideration_request_page(
        request, case, back=reverse("cases:detail", args=[case.reference])
    )


def reconsideration_request_page(
    request: HttpRequest,
    case: Case,
    *,
    back: str,
    support_provider: Organisation | None = None,
    refusal: str | None = None,
) -> HttpResponse:
    """The form asking for a reconsideration, for the referrer (from the case page) or for the
    support provider supporting the person (from the support plan, `care.views`); `back` is
    the page asked from, where a request sent returns. With `refusal`, a request sent is not
    made: the form is shown again with it and with what was typed."""
    user = _user(request)
    form = ReconsiderationRequestForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"expected_version": case.version},
    )
    if request.method == "POST" and form.is_valid() and refusal:
        form.add_error(None, refusal)
    elif request.method == "POST" and form.is_valid():
        try:
            services.reconsideration_request(
                by=user,
                case=case,
                grounds=form.cleaned_data["grounds"],
                expected_version=form.cleaned_data["expected_version"],
                uploads=form.cleaned_data["evidence"],
                max_bytes=settings.EVIDENCE_MAX_BYTES,
                support_provider=support_provider,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request, "Reconsideration requested. The competent authority has been told."
            )
            return redirect(back)
    if form.errors.get("evidence"):
        # A file was refused: the browser cannot keep a chosen file, so say to choose it again.
        refused = form.errors.pop("evidence")
        form.add_error(
            "evidence",
            f"{' '.join(str(e) for e in refused)}. Your grounds have been kept: select the files again",
        )
    if form.is_bound and form.data.get("grounds"):
        # The grounds typed, shown again after a refusal: free text about the person.
        audit_read(by=user, person=case.person, obj=case, fields=["reconsideration_grounds"])
    return render(
        request,
        "decisions/reconsideration_request.html",
        {
            "title": "Ask for reconsideration",
            "case": case,
            "form": form,
            "back": back,
            "window_passed": selectors.reconsideration_late_refusal(case) is not None,
        },
    )


@require_http_methods(["GET", "POST"])
def reconsideration_take_late(request: HttpRequest, reference: str) -> HttpResponse:
    """A decision maker takes in a request for reconsideration that reached the competent
    authority by letter or e-mail: in time, or late because of exceptional circumstances."""
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    if not selectors.may_take_in_reconsideration(actor, case) or case.reconsideration_until is None:
        raise Http404
    user = _user(request)
    posted = request.method == "POST"
    form = LateReconsiderationForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial={"expected_version": case.version},
        until=case.reconsideration_until,
    )
    if posted and form.is_valid():
        try:
            taken = services.reconsideration_take_late(
                by=user,
                case=case,
                asked_by=form.cleaned_data["asked_by"],
                received_on=form.cleaned_data["received_on"],
                grounds=form.cleaned_data["grounds"],
                circumstances=form.cleaned_data["circumstances"],
                expected_version=form.cleaned_data["expected_version"],
                uploads=form.cleaned_data["evidence"],
                max_bytes=settings.EVIDENCE_MAX_BYTES,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                f"The {'late ' if taken.late else ''}request was taken in: the case is now "
                "awaiting a reconsideration decision.",
            )
            return redirect("cases:detail", case.reference)
    if form.errors.get("evidence"):
        # A file was refused: the browser cannot keep a chosen file, so say to choose it again.
        refused = form.errors.pop("evidence")
        form.add_error(
            "evidence",
            f"{' '.join(str(e) for e in refused)}. What you typed has been kept: select the "
            "files again",
        )
    # What was typed, shown again after a refusal: free text about the person, each field named
    # as the decide page names it (the exceptional circumstances are `late_circumstances`).
    shown_again = [
        field
        for typed, field in (
            ("grounds", "reconsideration_grounds"),
            ("circumstances", "late_circumstances"),
        )
        if form.is_bound and form.data.get(typed)
    ]
    if shown_again:
        audit_read(by=user, person=case.person, obj=case, fields=shown_again)
    window_passed = selectors.reconsideration_late_refusal(case) is not None
    return render(
        request,
        "decisions/reconsideration_late.html",
        {
            "title": "Take in a late request for reconsideration"
            if window_passed
            else "Take in a request for reconsideration",
            "case": case,
            "form": form,
            "window_passed": window_passed,
        },
    )


@require_safe
def reconsideration_evidence(
    request: HttpRequest, reference: str, evidence_id: int
) -> FileResponse:
    """A file sent with a reconsideration request, for the competent authority's deciders
    and the referring organisation that sent it (its route is `cases:` ..., pages/case_urls.py)."""
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    item = selectors.reconsideration_evidence_get(actor, case, evidence_id)
    return reconsideration_evidence_file(_user(request), case, item)


def reconsideration_evidence_file(
    user: User, case: Case, item: ReconsiderationEvidence
) -> FileResponse:
    """The file, its download recorded as a read of the person's data: for the deciders and
    the referrer here, for the support provider that sent it in `care.views`."""
    audit_read(
        by=user,
        person=case.person,
        action="evidence.downloaded",
        obj=case,
        document=item,
        fields=[],
    )
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=safe_file_name(item.original_name, item.content_type),
    )
    response["Content-Type"] = item.content_type
    response["Cache-Control"] = "private, no-store"
    return response
