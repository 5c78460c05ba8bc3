from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from opennrm.accounts.models import User
from opennrm.lib.paging import page_number, page_of

from . import selectors, services

PAGE_SIZE = 100


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    """Every notification the user may still read, newest first, a page at a time; `?show=<news>`
    only the unread ones of one kind that a home page counts (`selectors.UNREAD_NEWS`)."""
    user = _user(request)
    show = request.GET.get("show", "")
    if show in selectors.UNREAD_NEWS:
        shown = selectors.unread_news(user, show)
        heading = selectors.UNREAD_NEWS[show][1]
    else:
        shown, heading = selectors.notifications_for(user), ""
    # Letters, 0 or a negative number are the first page; one past the end is empty and says
    # so, as the other paged lists (ADR 0055).
    page = page_of(shown, page_number(request.GET.get("page")), PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/list.html",
        {
            "title": "Notifications",
            "page": page,
            "query": query.urlencode(),
            "showing": heading,
        },
    )


@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    user = _user(request)
    notification = selectors.notification_get_for_user(user, notification_id)
    services.notification_mark_read(by=user, notification=notification)
    # Its own link, or where news kept for the reader opens now (`selectors.where_it_opens`).
    target = selectors.where_it_opens(notification)
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect("notifications:list")
    return redirect(target)
