from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from . import access, navigation
from .actor import actor_of


def navigation_context(request: HttpRequest) -> dict[str, Any]:
    # A request refused before the authentication middleware ran (a Host not allowed, refused
    # with the 400 page) has no user: its page is shown as to someone signed out.
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated and access.two_factor_passed(user)
    actor = actor_of(request) if signed_in else None
    return {
        "demo_mode": settings.DEMO,
        "nav_user": user if signed_in else None,
        "nav_items": navigation.items_for(actor, request.path) if actor else [],
        "nav_memberships": list(actor.memberships()) if actor else [],
        "session_idle_seconds": settings.SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
