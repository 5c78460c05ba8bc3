from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from . import access, navigation
from .actor import actor_of


def navigation_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    actor = actor_of(request)
    signed_in = user.is_authenticated and access.two_factor_passed(user)
    return {
        "demo_mode": settings.DEMO,
        "nav_user": user if signed_in else None,
        "nav_items": navigation.items_for(actor, request.path) if signed_in else [],
        "nav_memberships": list(actor.memberships()) if signed_in else [],
        "session_idle_seconds": settings.SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
