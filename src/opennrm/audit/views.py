from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from opennrm.lib.paging import page_number, page_of

from .forms import AuditSearchForm
from .selectors import AuditFilter, audit_events_search, audit_object_types
from .services import audit_trail_searched

PAGE_SIZE = 50


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None, object_types=audit_object_types())
    filters = form.to_filter() if form.is_bound and form.is_valid() else AuditFilter()
    if form.is_bound and not form.is_valid():
        events = audit_events_search(filters).none()
    else:
        events = audit_events_search(filters)
    # The trail grows with every read recorded: never counted whole (ADR 0055).
    page = page_of(events, page_number(request.GET.get("page")), PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    # A search (any filter given) is recorded: it can show who looked at one case. Browsing the
    # whole trail is not, or every refresh and page turn would add an event on top of it and
    # shift the pages being read.
    # Only the form's own filters: anything else in the URL (a name typed into it) is not kept
    # in a trail that nothing erases.
    searched = {key: str(value) for key in form.fields if (value := query.get(key))}
    if searched and form.is_bound and form.is_valid():
        audit_trail_searched(
            by=request.user,  # type: ignore[arg-type]  # the access table lets only staff in
            filters=searched | {"page": str(page.number)},
        )
    return render(
        request,
        "audit/search.html",
        {"title": "Audit trail", "form": form, "page": page, "query": query.urlencode()},
    )
