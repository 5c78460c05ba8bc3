"""The support directory as an Open Referral HSDS document: providers as `organization`s, their
services as `service`s with eligibility, languages and bed capacity, and every site as a
`location` of type "redacted" (issue 6, item 10).

The shape follows HSDS 3.0, with three parts of the 3.1 draft: `service.capacities`
(`service_capacity`, counted in the `unit` "Bed") and `location_type: "redacted"`, which says
that a location exists but its whereabouts are withheld. That is what a safe house is: **no
location here ever carries an address, a postcode or coordinates**, whoever asks. The builder is
never given them: what it knows of a site (`SiteEntry`) has no field for them.

HSDS identifiers are UUIDs. Services and sites have their own (`public_id`); everything else is
derived with `uuid5`, so the same thing has the same id in every export: an organisation from
its primary key under OpenNRM's namespace (organisations have no public id; the id is stable for
the life of the database, and no field or migration is needed), taxonomies and their terms from
their codes, and the objects that belong to a service or a site (languages, attributes,
capacity, accessibility, service at location) from that owner's UUID.

The first part is pure: plain values in, a JSON-ready dict out. `directory_export` reads the
database for it, with the same rules as the directory page (active providers, services and
sites), and `download` serves it from that page. The API serves the same document
(`accommodation.api`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from opennrm.cases.choices import ExploitationType, Sex
from opennrm.lib.iso import language_name

from . import selectors, surge
from .models import Bed, BedEvent, BedHold, Region, Room, Setting, Site, SiteKind, Specialism

HSDS_VERSION = "3.0"
# The parts of the HSDS 3.1 draft the document uses beyond 3.0.
DRAFTS_USED = (
    "service.capacities: service_capacity and unit (HSDS 3.1 draft)",
    "location.location_type 'redacted' (HSDS 3.1 draft, feature-redacted-location-type)",
)
# OpenNRM's namespace for derived HSDS identifiers. Never change it: every derived id would.
NAMESPACE = uuid.UUID("5d0518d9-29ab-4043-ac57-98f714636234")
BED_UNIT_ID = uuid.uuid5(NAMESPACE, "unit/bed")
REDACTED_NOTE = (
    "Its address is confidential: it is never published. Refer through a support coordinator."
)


# --- What the builder is given ------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    pk: int
    name: str


@dataclass(frozen=True)
class BedCount:
    """A site's beds by state now, and when one of them last changed state."""

    beds: int = 0
    free: int = 0
    reserved: int = 0
    occupied: int = 0
    out_of_service: int = 0
    updated: datetime | None = None

    def __add__(self, other: BedCount) -> BedCount:
        times = [t for t in (self.updated, other.updated) if t is not None]
        return BedCount(
            self.beds + other.beds,
            self.free + other.free,
            self.reserved + other.reserved,
            self.occupied + other.occupied,
            self.out_of_service + other.out_of_service,
            max(times) if times else None,
        )


@dataclass(frozen=True)
class SiteEntry:
    """What the directory may say of a site: never where it is."""

    public_id: uuid.UUID
    provider_pk: int
    name: str
    kind: str
    region: str
    setting: str
    staff_languages: tuple[str, ...] = ()
    specialisms: tuple[str, ...] = ()
    rooms: int = 0
    wheelchair_rooms: int = 0
    beds: BedCount = field(default_factory=BedCount)


@dataclass(frozen=True)
class ServiceEntry:
    public_id: uuid.UUID
    provider_pk: int
    name: str
    description: str = ""
    eligible_sexes: tuple[str, ...] = ()
    minimum_age: int | None = None
    maximum_age: int | None = None
    exploitation_types: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    accessibility: str = ""
    sites: tuple[uuid.UUID, ...] = ()  # the sites where it is offered


# --- Identifiers and taxonomies -------------------------------------------------------------------


def organisation_id(pk: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"organization/{pk}")


@dataclass(frozen=True)
class Taxonomy:
    key: str
    name: str
    description: str
    terms: Mapping[str, str]  # code: name

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"taxonomy/{self.key}")

    def term_id(self, code: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"taxonomy/{self.key}/term/{code}")


def _terms(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


SEX = Taxonomy(
    "sex",
    "OpenNRM: sex",
    "The sexes a service is for, as OpenNRM records a person's sex",
    _terms((value, label) for value, label in Sex.choices if value != Sex.UNKNOWN),
)
EXPLOITATION = Taxonomy(
    "exploitation-type",
    "OpenNRM: type of exploitation",
    "The types of exploitation a service supports survivors of (the UK's statistical "
    "categories, each mapped to an HTCDS code in OpenNRM)",
    _terms(ExploitationType.choices),
)
SETTING = Taxonomy(
    "setting",
    "OpenNRM: setting",
    "Who lives at a site: women only, men only, or mixed",
    _terms(Setting.choices),
)
SITE_KIND = Taxonomy(
    "site-kind", "OpenNRM: kind of site", "What a site is", _terms(SiteKind.choices)
)
REGION = Taxonomy(
    "region",
    "OpenNRM: region",
    "The UK's statistical regions and nations: the most precise place given of a site",
    _terms(Region.choices),
)
SPECIALISM = Taxonomy(
    "specialism",
    "OpenNRM: specialism",
    "Specialist support given at a site",
    _terms(Specialism.choices),
)


def _attribute(
    taxonomy: Taxonomy, code: str, *, link_id: uuid.UUID, entity: str, link_type: str
) -> dict[str, Any]:
    """An HSDS `attribute` linking a service or location to one term of an OpenNRM taxonomy."""
    term_id = taxonomy.term_id(code)
    name = taxonomy.terms.get(code, code)
    return {
        "id": str(uuid.uuid5(link_id, f"attribute/{taxonomy.key}/{code}")),
        "link_id": str(link_id),
        "link_type": link_type,
        "link_entity": entity,
        "taxonomy_term_id": str(term_id),
        "taxonomy_term": {
            "id": str(term_id),
            "code": code,
            "name": name,
            "description": f"{taxonomy.name}: {name}",
            "taxonomy": taxonomy.name,
            "taxonomy_id": str(taxonomy.id),
            "taxonomy_detail": {
                "id": str(taxonomy.id),
                "name": taxonomy.name,
                "description": taxonomy.description,
            },
        },
    }


def _languages(codes: Iterable[str], *, owner: uuid.UUID, owner_field: str) -> list[dict[str, str]]:
    return [
        {
            "id": str(uuid.uuid5(owner, f"language/{code}")),
            owner_field: str(owner),
            "name": language_name(code),
            "code": code,
        }
        for code in codes
    ]


def _timestamp(moment: datetime) -> str:
    """RFC 3339 with milliseconds, in UTC, as HSDS asks for its date-times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


# --- The objects ----------------------------------------------------------------------------------


def eligibility_description(service: ServiceEntry) -> str:
    """The service's eligibility in words, from the same fields the structured ones come from."""
    parts = []
    if service.eligible_sexes:
        sexes = [SEX.terms.get(code, code).lower() for code in service.eligible_sexes]
        parts.append("Sex: " + " or ".join(sexes) + ".")
    low, high = service.minimum_age, service.maximum_age
    if low is not None and high is not None:
        parts.append(f"Ages {low} to {high}.")
    elif low is not None:
        parts.append(f"Ages {low} and over.")
    elif high is not None:
        parts.append(f"Ages up to {high}.")
    if service.exploitation_types:
        kinds = [EXPLOITATION.terms.get(c, c).lower() for c in service.exploitation_types]
        parts.append("Survivors of " + " or ".join(kinds) + ".")
    return " ".join(parts) or "Anyone referred as a potential victim of trafficking."


def location(site: SiteEntry, services: Sequence[ServiceEntry]) -> dict[str, Any]:
    """A site as an HSDS `location` of type "redacted": its code name, what it offers and in
    which region, never where it is. `services` are those offered there, for their
    accessibility statements."""
    sid = site.public_id
    accessibility = []
    if site.wheelchair_rooms:
        accessibility.append(
            {
                "id": str(uuid.uuid5(sid, "accessibility/wheelchair")),
                "location_id": str(sid),
                "description": "Wheelchair-accessible rooms",
                "details": f"{site.wheelchair_rooms} of {site.rooms} rooms",
            }
        )
    for service in services:
        if service.accessibility:
            accessibility.append(
                {
                    "id": str(uuid.uuid5(sid, f"accessibility/service/{service.public_id}")),
                    "location_id": str(sid),
                    "description": service.accessibility,
                    "details": f"As its provider describes access to {service.name}",
                }
            )
    kind = SITE_KIND.terms.get(site.kind, site.kind)
    setting = SETTING.terms.get(site.setting, site.setting).lower()
    attributes = [
        _attribute(SITE_KIND, site.kind, link_id=sid, entity="location", link_type="kind"),
        _attribute(SETTING, site.setting, link_id=sid, entity="location", link_type="setting"),
        _attribute(REGION, site.region, link_id=sid, entity="location", link_type="region"),
        *(
            _attribute(SPECIALISM, code, link_id=sid, entity="location", link_type="specialism")
            for code in site.specialisms
        ),
    ]
    return {
        "id": str(sid),
        "location_type": "redacted",
        "organization_id": str(organisation_id(site.provider_pk)),
        "name": site.name,
        "description": (
            f"{kind}, {setting}, in {REGION.terms.get(site.region, site.region)}. {REDACTED_NOTE}"
        ),
        "languages": _languages(site.staff_languages, owner=sid, owner_field="location_id"),
        "accessibility": accessibility,
        "attributes": attributes,
    }


def capacity(service: ServiceEntry, beds: BedCount) -> dict[str, Any]:
    """The service's beds as an HSDS 3.1 `service_capacity`: `available` the beds free now at
    its sites, `maximum` all their beds (out of service ones too: they come back), `updated`
    the day one of them last changed state.

    Only free and total: not how many are reserved or occupied, and the day, not the moment,
    of the last change. A referrer told "a place is offered with this provider" could
    otherwise match the time to a site and learn where the person is."""
    changed = beds.updated or datetime.now(UTC)
    day = changed.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "id": str(uuid.uuid5(service.public_id, "capacity/bed")),
        "service_id": str(service.public_id),
        "unit_id": str(BED_UNIT_ID),
        "unit": {"id": str(BED_UNIT_ID), "name": "Bed"},
        "available": beds.free,
        "maximum": beds.beds,
        "description": "Beds free now at the sites where this service is offered",
        "updated": _timestamp(day),
    }


def service(
    entry: ServiceEntry,
    sites: Mapping[uuid.UUID, SiteEntry],
    locations: Mapping[uuid.UUID, dict[str, Any]],
) -> dict[str, Any]:
    sid = entry.public_id
    offered_at = [sites[site_id] for site_id in entry.sites if site_id in sites]
    beds = sum((site.beds for site in offered_at), BedCount())
    out: dict[str, Any] = {
        "id": str(sid),
        "organization_id": str(organisation_id(entry.provider_pk)),
        "name": entry.name,
        "status": "active",
        "eligibility_description": eligibility_description(entry),
    }
    if entry.description:
        out["description"] = entry.description
    if entry.minimum_age is not None:
        out["minimum_age"] = entry.minimum_age
    if entry.maximum_age is not None:
        out["maximum_age"] = entry.maximum_age
    out["languages"] = _languages(entry.languages, owner=sid, owner_field="service_id")
    out["attributes"] = [
        *(
            _attribute(SEX, code, link_id=sid, entity="service", link_type="eligibility")
            for code in entry.eligible_sexes
        ),
        *(
            _attribute(EXPLOITATION, code, link_id=sid, entity="service", link_type="eligibility")
            for code in entry.exploitation_types
        ),
    ]
    out["capacities"] = [capacity(entry, beds)] if beds.beds else []
    out["service_at_locations"] = [
        {
            "id": str(uuid.uuid5(sid, f"service_at_location/{site.public_id}")),
            "service_id": str(sid),
            "location_id": str(site.public_id),
            "location": locations[site.public_id],
        }
        for site in offered_at
    ]
    return out


def document(
    providers: Sequence[Provider],
    services: Sequence[ServiceEntry],
    sites: Sequence[SiteEntry],
    generated_at: datetime,
) -> dict[str, Any]:
    """The whole directory: each provider with its sites as redacted locations, and each
    service with its eligibility, languages, capacity and where it is offered."""
    by_id = {site.public_id: site for site in sites}
    locations = {
        site.public_id: location(site, [s for s in services if site.public_id in s.sites])
        for site in sites
    }
    return {
        "hsds_version": HSDS_VERSION,
        "hsds_drafts_used": list(DRAFTS_USED),
        "generated_at": _timestamp(generated_at),
        "organizations": [
            {
                "id": str(organisation_id(provider.pk)),
                "name": provider.name,
                "description": (
                    f"{provider.name} supports people referred as potential victims of "
                    "trafficking. Its sites' addresses are confidential."
                ),
                "locations": [
                    locations[site.public_id] for site in sites if site.provider_pk == provider.pk
                ],
            }
            for provider in providers
        ],
        "services": [service(entry, by_id, locations) for entry in services],
    }


# --- Read from the database -----------------------------------------------------------------------


def _beds_by_site(site_ids: Sequence[int]) -> dict[int, BedCount]:
    """Each site's beds by state (`selectors.counted_by_state`, as the site pages), and the
    last time one of them changed state. An operation's surge places count only while their
    surge is under way: the export is public, and a confidential operation is secret until it
    starts (ADR 39, 44)."""
    beds = Bed.objects.filter(
        surge.surge_under_way(timezone.localdate()), room__site_id__in=site_ids
    )
    counts = {
        row["room__site_id"]: row for row in selectors.counted_by_state(beds, "room__site_id")
    }
    updated = dict(
        # The same beds: the day hidden surge places were added would date a change no figure
        # shows (found in review).
        BedEvent.objects.filter(bed__in=beds)
        .order_by()
        .values("bed__room__site_id")
        .annotate(last=Max("at"))
        .values_list("bed__room__site_id", "last")
    )
    # A bed held for an operation counts as reserved, but holding writes no bed event: a figure
    # that moved on an unmoved date would tell a watcher of this public export that beds are
    # held for an operation (and how many) before a confidential one starts. A hold made,
    # released or run out dates the change as any other does.
    now = timezone.now()
    holds = BedHold.objects.filter(bed__in=beds).values_list(
        "bed__room__site_id", "held_at", "released_at", "expires_at"
    )
    for site_id, held_at, released_at, expires_at in holds:
        # A hold's expiry dates a change only if the hold ran out then: one released earlier
        # changed nothing when its old expiry passed (and would give away when it was to end).
        ran_out = released_at is None and expires_at <= now
        moments = [held_at, released_at, expires_at if ran_out else None]
        last = updated.get(site_id)
        updated[site_id] = max([m for m in [*moments, last] if m is not None])
    return {
        site_id: BedCount(
            beds=row["beds"],
            free=row["free"],
            reserved=row["reserved"],
            occupied=row["occupied"],
            out_of_service=row["out_of_service"],
            updated=updated.get(site_id),
        )
        for site_id, row in counts.items()
    }


def directory_export(generated_at: datetime | None = None) -> dict[str, Any]:
    """The directory page's providers, services and sites (`selectors.directory`) as an HSDS
    document. An outreach office has no beds to count; a site's beds count toward every
    service offered there."""
    entries = selectors.directory()
    sites = [site for entry in entries for site in entry.sites]
    site_pks = [site.pk for site in sites]
    # Rooms with a bed that counts (`_beds_by_site`): a surge room before its surge would add a
    # room to a site's count, telling the public that places were agreed there (found in review).
    counted = Bed.objects.filter(surge.surge_under_way(timezone.localdate()), room=OuterRef("pk"))
    rooms: dict[int, tuple[int, int]] = {
        row["site_id"]: (row["rooms"], row["wheelchair"])
        for row in Room.objects.filter(Exists(counted), site_id__in=site_pks)
        .order_by()
        .values("site_id")
        .annotate(rooms=Count("id"), wheelchair=Count("id", filter=Q(wheelchair_accessible=True)))
    }
    beds = _beds_by_site([s.pk for s in sites if s.kind != SiteKind.OUTREACH])
    offered: dict[int, list[uuid.UUID]] = {}
    for service_pk, site_public_id in (
        Site.services.through.objects.filter(site_id__in=site_pks)
        .order_by("site__name")
        .values_list("service_id", "site__public_id")
    ):
        offered.setdefault(service_pk, []).append(site_public_id)
    return document(
        providers=[Provider(entry.provider.pk, entry.provider.name) for entry in entries],
        services=[
            ServiceEntry(
                public_id=s.public_id,
                provider_pk=s.provider_id,
                name=s.name,
                description=s.description,
                eligible_sexes=tuple(s.eligible_sexes),
                minimum_age=s.minimum_age,
                maximum_age=s.maximum_age,
                exploitation_types=tuple(s.exploitation_types),
                languages=tuple(s.languages),
                accessibility=s.accessibility,
                sites=tuple(offered.get(s.pk, ())),
            )
            for entry in entries
            for s in entry.services
        ],
        sites=[
            SiteEntry(
                public_id=s.public_id,
                provider_pk=s.provider_id,
                name=s.name,
                kind=s.kind,
                region=s.region,
                setting=s.setting,
                staff_languages=tuple(s.staff_languages),
                specialisms=tuple(s.specialisms),
                rooms=rooms.get(s.pk, (0, 0))[0],
                wheelchair_rooms=rooms.get(s.pk, (0, 0))[1],
                beds=beds.get(s.pk, BedCount()),
            )
            for s in sites
        ],
        generated_at=generated_at or timezone.now(),
    )


@require_safe
def download(request: HttpRequest) -> JsonResponse:
    """The directory page's download: the same document as `GET /api/v1/directory/hsds`."""
    response = JsonResponse(directory_export(), json_dumps_params={"indent": 2})
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="opennrm-directory-hsds-{day}.json"'
    return response
