"""The case's own pages: closing it. The case page itself shows several apps' records and is
composed above them (pages/case_page.py), as are the pages of other apps' actions on a case
(decisions.views.reconsideration_request, referrals.views.evidence_download); all keep their
`cases:` route names (pages/case_urls.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import User

from . import services
from .choices import CloseReason
from .forms import CloseCaseForm
from .models import Case
from .selectors import case_get_for_user, may_decide


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def may_close(actor: Actor, case: Case) -> bool:
    return may_decide(actor, case) and services.close_refusal(case) is None


@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, reference: str) -> HttpResponse:
    """The competent authority closes a case whose process has ended."""
    user = _user(request)
    case = case_get_for_user(actor_of(request), reference)
    if not may_decide(actor_of(request), case):
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
