"""The service navigation: derived from the access table, so a link shows only if it opens."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .access import may_open
from .actor import Actor

ITEMS: list[tuple[str, str]] = [
    ("Home", "pages:home"),
    ("Find a case", "cases:search"),
    ("Referrals", "referrals:my_referrals"),
    ("Decisions", "decisions:queue"),
    ("Earlier referrals", "linkage:pairs"),
    ("Waiting for a place", "support:requests"),
    ("Placements", "support:placements"),
    ("Sites and beds", "support:sites"),
    ("Capacity", "support:capacity"),
    ("Official tables", "statistics:tables"),
    ("Releases", "statistics:releases"),
    ("Private counts", "statistics:dp_query"),
    ("Screening", "screening:start"),
    ("Operations", "operations:list"),
    ("Protection checks", "protection:check"),
    ("Organisations and users", "accounts:organisation_list"),
    ("Audit trail", "audit:search"),
    ("Data access", "privacy:person_reads"),
    ("Data requests", "privacy:find"),
    ("Retention", "privacy:retention"),
    ("Notifications", "notifications:list"),
]


def items_for(actor: Actor, current_path: str) -> list[dict[str, Any]]:
    links = [(text, reverse(route)) for text, route in ITEMS if may_open(actor, route)]
    # The current item is the one whose address is the longest start of the page's address, so
    # /privacy/reads/ marks "Data access", not "Data requests" (/privacy/) as well.
    matching = [
        href
        for _, href in links
        if (current_path == href if href == "/" else current_path.startswith(href))
    ]
    active = max(matching, key=len, default=None)
    return [
        {"text": text, "href": href, "active": href == active, "current": href == active}
        for text, href in links
    ]
