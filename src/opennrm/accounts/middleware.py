from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from . import access
from .actor import actor_of

# When the session last made a request (seconds since the epoch), from any tab: a page, an
# autosave, a keep-alive. The idle sign-out itself is not activity.
LAST_ACTIVITY = "opennrm_last_activity"
NOT_ACTIVITY = frozenset({"accounts:signed_out_idle"})


def in_use(request: HttpRequest) -> bool:
    """Whether this session made a request recently enough that it cannot be idle: within the
    idle time less the warning, the latest a tab still counting down could have missed."""
    last = request.session.get(LAST_ACTIVITY)
    if not isinstance(last, int | float):
        return False
    quiet = timezone.now().timestamp() - last
    return quiet < settings.SESSION_IDLE_SECONDS - settings.SESSION_WARNING_SECONDS


class AccessMiddleware:
    """Applies the access table to every resolved route, before the view runs.

    Anonymous users are sent to sign in; signed-in users who have not passed two-factor are sent
    to it; a signed-in user without a role the route needs gets 404, exactly like a page that
    does not exist, so nothing is learnt by probing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if request.user.is_authenticated and (match is None or match.view_name not in NOT_ACTIVITY):
            request.session[LAST_ACTIVITY] = int(timezone.now().timestamp())
        rule = access.rule_for(match) if match else None
        if rule is None:
            raise Http404("No access rule for this route")
        if rule.public:
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not rule.before_two_factor and not access.two_factor_passed(user):
            return redirect("accounts:two_factor_verify")
        if not access.may_use(actor_of(request), rule):
            raise Http404("Not found")
        return None
