from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from . import access, navigation
from .selectors import memberships_of


def navigation_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    signed_in = user.is_authenticated and access.two_factor_passed(user)
    return {
        "demo_mode": settings.DEMO,
        "nav_user": user if signed_in else None,
        "nav_items": navigation.items_for(user, request.path) if signed_in else [],  # type: ignore[arg-type]
        "nav_memberships": list(memberships_of(user)) if signed_in else [],  # type: ignore[arg-type]
        "session_idle_seconds": settings.SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
