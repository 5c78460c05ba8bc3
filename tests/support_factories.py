"""Sites, rooms, beds and placement requests, built through the support services."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.support import services
from opennrm.support.models import Bed, PlacementRequest, Site

ADDRESS = "12 Quietwater Close, Hollowmere"
POSTCODE = "HX9 4QT"
_names = itertools.count(1)


def site(by: User, provider: Organisation, **values: Any) -> Site:
    defaults: dict[str, Any] = {
        "name": f"Test House {next(_names)}",
        "kind": "safe_house",
        "region": "north_west",
        "area": "Testshire",
        "setting": "women_only",
        "address": ADDRESS,
        "postcode": POSTCODE,
        "location": [53.48, -2.24],
        "staff_languages": ["en", "sq"],
        "specialisms": [],
    }
    return services.site_create(by=by, provider=provider, **(defaults | values))


def beds(by: User, site: Site, count: int = 1, **room: Any) -> list[Bed]:
    made = services.room_create(by=by, site=site, name=f"Room {next(_names)}", beds=count, **room)
    return list(made.beds.order_by("label"))


def request(case: Case, **values: Any) -> PlacementRequest:
    """An open request for a case, with the constraints the case implies."""
    fields: dict[str, Any] = {
        "needs": ["bed_tonight"],
        "urgency": "emergency",
        "needed_from": timezone.localdate(),
        **services.request_defaults(case),
    }
    return PlacementRequest.objects.create(case=case, **(fields | values))


def day(offset: int = 0) -> date:
    return timezone.localdate() + timezone.timedelta(days=offset)
