"""The service navigation: derived from the access table, so a link shows only if it opens."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .access import may_open
from .models import User

ITEMS: list[tuple[str, str]] = [
    ("Home", "pages:home"),
    ("Referrals", "referrals:my_referrals"),
    ("Decisions", "decisions:queue"),
    ("Screening", "screening:start"),
    ("Organisations and users", "accounts:organisation_list"),
    ("Audit trail", "audit:search"),
    ("Notifications", "notifications:list"),
]


def items_for(user: User, current_path: str) -> list[dict[str, Any]]:
    items = []
    for text, route in ITEMS:
        if may_open(user, route):
            href = reverse(route)
            current = current_path == href if href == "/" else current_path.startswith(href)
            items.append({"text": text, "href": href, "active": current, "current": current})
    return items
