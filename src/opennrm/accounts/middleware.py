from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from . import access


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
        if not access.may_use(user, rule):
            raise Http404("Not found")
        return None
