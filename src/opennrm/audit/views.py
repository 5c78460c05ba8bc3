from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User

from .forms import AuditSearchForm, PersonReadsForm
from .selectors import AuditFilter, audit_events_search, audit_object_types, person_reads_get
from .services import audit_record

PAGE_SIZE = 50


def search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None, object_types=audit_object_types())
    filters = form.to_filter() if form.is_bound and form.is_valid() else AuditFilter()
    if form.is_bound and not form.is_valid():
        events = audit_events_search(filters).none()
    else:
        events = audit_events_search(filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {"title": "Audit trail", "form": form, "page": page, "query": query.urlencode()},
    )


def person_reads(request: HttpRequest) -> HttpResponse:
    """The data-protection officer looks up a person by case reference and sees who looked at
    their identifying data, when, which fields, and from where. The page shows no identifying
    data itself; each look-up is recorded, so the trail also shows who watched."""
    user: User = request.user  # type: ignore[assignment]
    form = PersonReadsForm(request.GET or None)
    context: dict[str, object] = {"title": "Who looked at a person's data", "form": form}
    if form.is_bound and form.is_valid():
        found = person_reads_get(actor_of(request), form.cleaned_data["reference"])
        if found is None:
            form.add_error("reference", "No case has this reference: check it and try again")
        else:
            page = Paginator(found.events, PAGE_SIZE).get_page(request.GET.get("page"))
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
    return render(request, "audit/person_reads.html", context)
