"""The case's own pages: finding cases, and closing one. The case page itself shows several apps' records and is
composed above them (pages/case_page.py), as are the pages of other apps' actions on a case
(decisions.views.reconsideration_request, referrals.views.evidence_download); all keep their
`cases:` route names (pages/case_urls.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read, audit_record
from opennrm.lib.govuk_forms import show_refusal

from . import services
from .choices import AgeGroup, CloseReason
from .forms import CaseSearchForm, CloseCaseForm
from .models import Case
from .selectors import (
    SEARCH_PAGE_SIZE,
    case_get_for_user,
    cases_search_page,
    may_decide,
    next_deadline,
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def may_close(actor: Actor, case: Case) -> bool:
    return may_decide(actor, case) and services.close_refusal(case) is None


# The identifying fields a search result may show, when the search names a person.
SEARCH_RESULT_FIELDS = ("given_names", "family_name", "date_of_birth")


@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Find cases the user may open. Posted, not asked for in the address: a name and a date of
    birth in a URL would stay in browser histories and the web server's logs.

    Results show names and dates of birth only when the search names a person (by reference,
    name or date of birth), each result's read recorded naming the person and the fields; a
    search by nationality or status lists references, statuses and dates only, as listings do
    (ADR 29). A search by name or date of birth is recorded without the values searched for."""
    user = _user(request)
    form = CaseSearchForm(request.POST if request.method == "POST" else None)
    context: dict[str, object] = {"title": "Find a case", "form": form}
    if form.is_bound and form.is_valid():
        wanted = form.search
        page = form.page_number
        cases, more = cases_search_page(actor_of(request), wanted, page)
        rows = []
        with transaction.atomic():
            if wanted.name or wanted.date_of_birth:
                # Whether someone of that name is among the user's cases: record that the
                # search was made (how, and how many were found), never what was typed.
                audit_record(
                    by=user,
                    action="case.searched",
                    detail={"by": wanted.criteria, "found": len(cases), "page": page},
                )
            for case in cases:
                identity = getattr(case.person, "identity", None) if wanted.names_a_person else None
                shown = [
                    name
                    for name in SEARCH_RESULT_FIELDS
                    if getattr(identity, name, None) not in (None, "")
                ]
                if shown:
                    audit_read(by=user, person=case.person, obj=case, fields=shown)
                rows.append(
                    {
                        "case": case,
                        "identity": identity if shown else None,
                        "deadline": next_deadline(case),
                    }
                )
        context |= {
            "rows": rows,
            "page": page,
            "page_size": SEARCH_PAGE_SIZE,
            "more": more,
            "names_shown": wanted.names_a_person,
            "age_groups": dict(AgeGroup.choices),
        }
    return render(request, "cases/search.html", context)


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
            show_refusal(form, error)
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
