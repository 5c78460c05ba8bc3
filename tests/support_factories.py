"""Sites, rooms, beds and placement requests, built through the support services."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accommodation.models import AddressGrant, Bed, PlacementRequest, Site
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.safety import services as safety

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


def grant_address(coordinator: User, site: Site, *, by: User | None = None) -> AddressGrant:
    """The coordinator asks to see the site's address and an administrator of its provider
    (`by`, or one found or made) approves."""
    from opennrm.accounts.roles import Role

    from . import factories

    approver = by or (
        User.objects.filter(
            memberships__organisation=site.provider,
            memberships__role=Role.ORGANISATION_ADMIN,
            memberships__is_active=True,
        ).first()
        or factories.user(
            f"admin-of-{site.provider_id}@example.org",
            organisation=site.provider,
            role=Role.ORGANISATION_ADMIN,
        )
    )
    grant = services.address_grant_request(
        by=coordinator, site=site, reason="To arrange a journey there", emergency=False
    )
    return services.address_grant_decide(by=approver, grant=grant, approve=True)


# A woman at very high risk, with a child: what the placement pages and the provider's API must
# carry to whoever places her (and never the exploiters, the places or the child's name).
RISK = "Exploiters have tracked her to two previous addresses"
EXPLOITERS = "A man called Uncle Vane, blue transit van"
DETAILS = "Never a house with male staff on nights"
CHILD = "Mirela"


def at_risk_with_a_child(by: User, case: Case, *, keep_away: str, medical_needs: str) -> None:
    """Record a very high risk safety profile for `case` (women only, one place to keep away
    from) and her five-year-old daughter."""
    safety.safety_profile_save(
        by=by,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons=RISK,
        exploiters=EXPLOITERS,
        keep_away=[keep_away],
        medical_needs=medical_needs,
        setting_required="women_only",
    )
    safety.dependant_add(
        by=by,
        case=case,
        expected_version=None,
        relationship="child",
        sex="female",
        age_years=5,
        name=CHILD,
    )
