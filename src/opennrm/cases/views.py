from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.care.selectors import case_support_summary as support_summary
from opennrm.decisions.models import Letter
from opennrm.lib.iso import country_name, language_name
from opennrm.referrals.views import download

from . import services
from .choices import CaseStatus, CloseReason, ExploitationType
from .forms import CloseCaseForm
from .models import Case
from .selectors import case_get_for_user, clocks_of, may_decide, may_request_reconsideration


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# The identifying fields the case page shows, by the record that holds them. Each view of the
# page is audited with those that had a value (templates/cases/detail.html shows them).
CASE_PAGE_FIELDS = {
    "identity": ("given_names", "family_name", "aliases", "date_of_birth", "safe_contact"),
    "narrative": ("persons_account", "responders_account"),
}


def _fields_shown(case: Case) -> list[str]:
    records = {
        "identity": getattr(case.person, "identity", None),
        "narrative": getattr(case, "narrative", None),
    }
    shown = []
    for relation, names in CASE_PAGE_FIELDS.items():
        record = records[relation]
        shown += [name for name in names if getattr(record, name, None) not in (None, "", [])]
    if case.evidence.exists():
        shown.append("evidence_names")
    if case.decisions.exists():
        # Decision makers' reasons are free text about the person.
        shown.append("decision_reasons")
    return shown


def _actions_refused(user: User, case: Case) -> dict[str, object]:
    """Why each decision action would be refused now, so the page offers only those that would
    succeed and says why the others are not offered."""
    from opennrm.decisions.models import DecisionKind, DecisionState
    from opennrm.decisions.services import approval_refusal, decision_refusal

    if not may_decide(user, case):
        return {}
    if (
        case.status == CaseStatus.RECOVERY_PERIOD
        and case.conclusive_grounds_from
        and timezone.localdate() < case.conclusive_grounds_from
    ):
        early = f"The conclusive grounds decision can be made from {case.conclusive_grounds_from:%-d %B %Y}"
    else:
        early = None
    return {
        "reasonable_grounds": decision_refusal(case=case, stage=DecisionKind.REASONABLE_GROUNDS)
        if case.status == CaseStatus.AWAITING_REASONABLE_GROUNDS
        else None,
        "conclusive_grounds": early
        or decision_refusal(case=case, stage=DecisionKind.CONCLUSIVE_GROUNDS)
        if case.status == CaseStatus.RECOVERY_PERIOD
        else None,
        "approval": {
            d.pk: approval_refusal(by=user, decision=d)
            for d in case.decisions.filter(state=DecisionState.AWAITING_APPROVAL)
        },
    }


def detail(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = case_get_for_user(user, reference)
    audit_read(by=user, person=case.person, obj=case, fields=_fields_shown(case))
    return render(
        request,
        "cases/detail.html",
        {
            "title": f"Case {case.reference}",
            "case": case,
            "identity": getattr(case.person, "identity", None),
            "erasure": getattr(case.person, "erasure", None),
            "nationalities": [country_name(c) for c in case.person.nationalities],
            "exploitation": [
                ExploitationType(t).label if t in ExploitationType.values else t
                for t in case.exploitation_types
            ],
            "languages": [language_name(c) for c in case.person.languages],
            "events": case.events.select_related("actor"),
            "evidence": case.evidence.all(),
            "screening": case.screening,
            "decisions": case.decisions.select_related("decided_by", "approved_by").annotate(
                # A decision in effect has the letter issued then, until the details are erased.
                has_letter=Exists(
                    Letter.objects.filter(decision=OuterRef("pk"), text__isnull=False)
                )
            ),
            "clocks": clocks_of(case),
            "may_decide": may_decide(user, case),
            "may_request_reconsideration": may_request_reconsideration(user, case),
            "may_close": may_close(user, case),
            "refused": _actions_refused(user, case),
            "open_reconsideration": case.reconsiderations.filter(state="requested").last(),
            "notifications_sent": case.notifications.select_related("recipient").order_by(
                "-created_at"
            )[:50]
            if may_decide(user, case)
            else [],
            "screening_result": case.screening.result_object() if case.screening else None,
            # Support in the words anyone who may open the case may read: provider and
            # region, never the site or its address.
            "support": support_summary(case),
        },
    )


@require_http_methods(["GET", "POST"])
def reconsideration_request(request: HttpRequest, reference: str) -> HttpResponse:
    """The referrer asks for a negative decision to be reconsidered."""
    from opennrm.decisions.forms import ReconsiderationRequestForm
    from opennrm.decisions.services import reconsideration_request as request_reconsideration

    user = _user(request)
    case = case_get_for_user(user, reference)
    if not may_request_reconsideration(user, case):
        raise Http404
    form = ReconsiderationRequestForm(
        request.POST if request.method == "POST" else None,
        initial={"expected_version": case.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            request_reconsideration(
                by=user,
                case=case,
                grounds=form.cleaned_data["grounds"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except ValidationError as error:
            form.add_error(
                "grounds" if hasattr(error, "error_dict") else None,
                error.message_dict.get("grounds", error.messages)
                if hasattr(error, "error_dict")
                else error,
            )
        else:
            messages.success(
                request, "Reconsideration requested. The competent authority has been told."
            )
            return redirect("cases:detail", case.reference)
    return render(
        request,
        "cases/reconsideration_request.html",
        {"title": "Ask for reconsideration", "case": case, "form": form},
    )


def evidence_download(request: HttpRequest, reference: str, evidence_id: int) -> FileResponse:
    user = _user(request)
    case = case_get_for_user(user, reference)
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


def may_close(user: User, case: Case) -> bool:
    return may_decide(user, case) and services.close_refusal(case) is None


@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, reference: str) -> HttpResponse:
    """The competent authority closes a case whose process has ended."""
    user = _user(request)
    case = case_get_for_user(user, reference)
    if not may_decide(user, case):
        raise Http404
    running = services.support_running(case, timezone.localdate())
    form = CloseCaseForm(
        request.POST if request.method == "POST" else None,
        initial={"expected_version": case.version},
        support_running=running,
    )
    refusal = services.close_refusal(case)
    if request.method == "POST" and refusal is None and form.is_valid():
        try:
            services.case_close(
                by=user,
                case=case,
                reason=CloseReason(form.cleaned_data["reason"]),
                expected_version=form.cleaned_data["expected_version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Case {case.reference} is closed")
            return redirect("cases:detail", case.reference)
    return render(
        request,
        "cases/close.html",
        {
            "title": "Close the case",
            "case": case,
            "form": form,
            "refusal": refusal,
            "move_on_ends": case.move_on_ends if running else None,
            "retention_years": settings.RETENTION_CLOSED_CASE_YEARS,
        },
    )
