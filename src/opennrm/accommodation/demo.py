"""Fictional support providers, services, sites, rooms and beds, made through the real services.

Idempotent: a site or room that exists is left as it is. The first demo referral's request for a bed
tonight stays on the waiting list, so the coordinator has someone to find a place for.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role

from . import services
from .models import AddressGrant, Service, Site

SECOND_PROVIDER = "Cedar Path Housing Association"

# The women's safe house of the demo's operation story (`pages.demo_operation`): 35 beds.
SAFE_HOUSE = "Lantern House A"
SAFE_HOUSE_BEDS = 35

# (provider, site, rooms: (name, beds, children, wheelchair))
SITES: list[tuple[str, dict[str, Any], list[tuple[str, int, int, bool]]]] = [
    (
        "Lanternhouse Refuge Trust",
        {
            "name": SAFE_HOUSE,
            "kind": "safe_house",
            "region": "north_west",
            "area": "Northmoor",
            "setting": "women_only",
            "address": "1 Example Row, Demo Town (fictional)",
            "postcode": "ZZ1 1AA",
            "location": [53.55, -2.3],
            "staff_languages": ["en", "ro", "sq"],
            "specialisms": ["sexual_exploitation", "mental_health"],
            "near_school": True,
        },
        [
            ("Room 1", 2, 0, False),
            ("Room 2", 2, 0, False),
            ("Family room", 1, 2, False),
            # Rooms 3 to 17, two beds each: 35 beds in all.
            *[(f"Room {n}", 2, 0, n == 3) for n in range(3, 18)],
        ],
    ),
    (
        "Lanternhouse Refuge Trust",
        {
            "name": "Lantern Flats B",
            "kind": "dispersed",
            "region": "yorkshire",
            "area": "Eastvale",
            "setting": "mixed",
            "address": "Flats 3 and 4, 20 Sample Street, Demo City (fictional)",
            "postcode": "ZZ2 2BB",
            "location": [53.85, -1.6],
            "staff_languages": ["en", "ar"],
            "specialisms": ["labour_exploitation"],
            "near_school": False,
        },
        [("Flat 3", 1, 1, True), ("Flat 4", 1, 0, False)],
    ),
    (
        SECOND_PROVIDER,
        {
            "name": "Cedar House",
            "kind": "safe_house",
            "region": "west_midlands",
            "area": "Westbrook",
            "setting": "men_only",
            "address": "Cedar House, 5 Placeholder Lane, Demo Borough (fictional)",
            "postcode": "ZZ3 3CC",
            "location": [52.45, -1.95],
            "staff_languages": ["en", "vi", "pl"],
            "specialisms": ["labour_exploitation"],
            "near_school": False,
        },
        [("Room 1", 2, 0, False), ("Room 2", 2, 0, True), ("Room 3", 2, 0, False)],
    ),
    (
        # A setting for children: the only kind a child, or someone whose age is disputed, is
        # ever placed in (and never an adult).
        SECOND_PROVIDER,
        {
            "name": "Willow Lodge",
            "kind": "safe_house",
            "region": "west_midlands",
            "area": "Westbrook",
            "setting": "mixed",
            "ages": "children",
            "address": "Willow Lodge, 9 Placeholder Lane, Demo Borough (fictional)",
            "postcode": "ZZ3 3CD",
            "location": [52.47, -1.9],
            "staff_languages": ["en", "vi"],
            "specialisms": ["young_adults"],
            "near_school": True,
        },
        [("Room 1", 1, 0, False), ("Room 2", 1, 0, True)],
    ),
]

SERVICES: list[tuple[str, dict[str, Any]]] = [
    (
        "Lanternhouse Refuge Trust",
        {
            "name": "Safe-house accommodation and support for women",
            "description": "A safe place to stay, a key worker, and help with health, money, "
            "legal advice and interpreters (fictional demo service).",
            "eligible_sexes": ["female"],
            "minimum_age": 18,
            "exploitation_types": ["sexual", "labour", "domestic_servitude", "criminal"],
            "languages": ["en", "ro", "sq", "ar"],
            "accessibility": "One wheelchair-accessible flat",
        },
    ),
    (
        SECOND_PROVIDER,
        {
            "name": "Safe-house accommodation for men",
            "description": "Shared safe housing with a support worker (fictional demo service).",
            "eligible_sexes": ["male"],
            "minimum_age": 18,
            "exploitation_types": ["labour", "criminal", "domestic_servitude"],
            "languages": ["en", "vi", "pl"],
            "accessibility": "Step-free ground floor",
        },
    ),
]


def _manager_of(provider: Organisation) -> User:
    """A safe-house manager of the provider, to act for it; the second provider gets a
    fictional one with no usable password (it is not a demo login)."""
    membership = Membership.objects.filter(
        organisation=provider, role=Role.SAFE_HOUSE_MANAGER, is_active=True
    ).first()
    if membership is not None:
        return membership.user
    user, _ = User.objects.get_or_create(
        email="cedar.manager@demo.opennrm.test",
        defaults={"full_name": "Cedar Demo Manager", "is_demo_account": True},
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, organisation=provider, role=Role.SAFE_HOUSE_MANAGER)
    return user


@transaction.atomic
def seed() -> None:
    Organisation.objects.get_or_create(
        name=SECOND_PROVIDER,
        defaults={
            "kind": OrganisationKind.SUPPORT_PROVIDER,
            "jurisdiction": Jurisdiction.ENGLAND_AND_WALES,
            "area": "West Midlands",
        },
    )
    for provider_name, values in SERVICES:
        provider = Organisation.objects.get(name=provider_name)
        if not Service.objects.filter(provider=provider, name=values["name"]).exists():
            services.service_create(by=_manager_of(provider), provider=provider, **values)
    for provider_name, values, rooms in SITES:
        provider = Organisation.objects.get(name=provider_name)
        manager = _manager_of(provider)
        site = Site.objects.filter(provider=provider, name=values["name"]).first()
        if site is None:
            site = services.site_create(by=manager, provider=provider, **values)
            site.services.set(Service.objects.filter(provider=provider))
        # A room missing from a site made by an earlier version of the demo is added too.
        made = set(site.rooms.values_list("name", flat=True))
        for name, beds, children, wheelchair in rooms:
            if name in made:
                continue
            services.room_create(
                by=manager,
                site=site,
                name=name,
                beds=beds,
                takes_dependants=children,
                wheelchair_accessible=wheelchair,
            )
    _seed_address_request()


def _seed_address_request() -> None:
    """The demo coordinator has asked to see the address of one of the second provider's
    sites: waiting for that provider's administrator (or, as an emergency, a competent
    authority's senior decision maker) to decide."""
    coordinator = (
        Membership.objects.filter(role=Role.SUPPORT_COORDINATOR, is_active=True)
        .select_related("user")
        .first()
    )
    site = Site.objects.filter(provider__name=SECOND_PROVIDER).order_by("name").first()
    if coordinator is None or site is None or AddressGrant.objects.exists():
        return
    services.address_grant_request(
        by=coordinator.user,
        site=site,
        reason="To arrange a person's journey there tomorrow (fictional demo request).",
        emergency=True,
    )
