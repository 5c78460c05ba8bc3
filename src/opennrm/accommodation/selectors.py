"""Who may see which site, bed, request and placement; the state of every bed; and the input
to matching. Every read that depends on who is asking starts here, from who is acting (`accounts.actor`).

- Support coordinators (scope: all) see every request, placement, site and bed; a safe
  house's address only with a live `AddressGrant` for that site, approved by its provider (or
  in an emergency by a competent authority's senior decision maker). An operation's surge
  places are listed at a site only to its own provider and the providers invited to the
  operation (`surge.surge_seen_by`, ADR 0044), and free only once under way.
- Safe-house managers see the sites they are assigned to (`SiteAssignment`; with addresses:
  they work there) and their beds; the placements with their organisation.
- Everyone else sees none of these; the referrer learns where things stand from the case page
  (`care.selectors.case_support_summary`), which names the provider and region, never the site
  or address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import Actor, members_with_role
from opennrm.accounts.roles import Role
from opennrm.cases import models as cases
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.selectors import referral_details as referral_details
from opennrm.safety.selectors import constraints_of, single_sex_house_for

from . import matching, surge
from .models import (
    HOLDS_BED,
    AddressGrant,
    Bed,
    BedState,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    Region,
    Service,
    Site,
    SiteAges,
    SiteAssignment,
    SiteKind,
    UnmetNeed,
    Urgency,
)


def is_coordinator(actor: Actor) -> bool:
    return Role.SUPPORT_COORDINATOR in actor.roles


def managed_provider_ids(actor: Actor) -> list[int]:
    """The support providers whose sites the actor runs, as a safe-house manager."""
    return list(actor.organisations_as({Role.SAFE_HOUSE_MANAGER}))


def assigned_site_ids(actor: Actor) -> list[int]:
    """The sites the actor runs: those they are assigned to as a safe-house manager of the
    site's own provider (a token's actor: only through the token's organisation)."""
    managing = actor.memberships().filter(role=Role.SAFE_HOUSE_MANAGER)
    return list(
        SiteAssignment.objects.filter(
            membership__in=managing, site__provider_id=F("membership__organisation_id")
        ).values_list("site_id", flat=True)
    )


def live_address_grants() -> QuerySet[AddressGrant]:
    """Grants that count now: approved, not withdrawn, not expired, on an active coordinator
    membership of an active organisation. Taking the membership away or changing its role
    withdraws its grants (`services._address_grants_ended`), so giving it back brings none
    back; the filters on the membership stay as a second guard."""
    return AddressGrant.objects.filter(
        approved=True,
        revoked_at=None,
        expires_at__gt=timezone.now(),
        membership__is_active=True,
        membership__role=Role.SUPPORT_COORDINATOR,
        membership__organisation__is_active=True,
    )


def has_address_grant(actor: Actor, site: Site) -> bool:
    """A live grant for the site, on one of the memberships the actor acts through."""
    return live_address_grants().filter(membership__in=actor.memberships(), site=site).exists()


def may_see_address(actor: Actor, site: Site) -> bool:
    """A safe house's address: the managers assigned to it, and coordinators holding a live
    grant for it (approved by its provider, or in an emergency by a competent authority)."""
    return site.pk in assigned_site_ids(actor) or has_address_grant(actor, site)


# --- Sites and beds ---------------------------------------------------------------------------


def sites_visible_to(actor: Actor) -> QuerySet[Site]:
    """Coordinators see every site (by code name); a safe-house manager only those assigned."""
    if is_coordinator(actor):
        return Site.objects.all()
    return Site.objects.filter(pk__in=assigned_site_ids(actor))


def site_get_for_user(actor: Actor, site_id: int) -> Site:
    site = sites_visible_to(actor).select_related("provider").filter(pk=site_id).first()
    if site is None:
        raise Http404
    return site


def site_get_for_manager(actor: Actor, site_id: int) -> Site:
    """A site the actor may change: only the managers assigned to it."""
    site = Site.objects.filter(pk=site_id, pk__in=assigned_site_ids(actor)).first()
    if site is None:
        raise Http404
    return site


def _on_hold() -> Exists:
    """Whether a live hold keeps the bed (`OuterRef("pk")`) for an operation."""
    return Exists(surge.live_holds(timezone.now()).filter(bed=OuterRef("pk")))


def with_state(beds: QuerySet[Bed]) -> QuerySet[Bed]:
    """Beds annotated with `state` (a BedState value) and `live_placement_id`, derived from
    their placements, live holds and out-of-service flag in one query."""
    live = Placement.objects.holding_a_bed().filter(bed=OuterRef("pk"))
    return beds.annotate(
        live_status=Subquery(live.values("status")[:1]),
        live_placement_id=Subquery(live.values("pk")[:1]),
        on_hold=_on_hold(),
    )


def state_of(bed: Any) -> BedState:
    """The state of a bed annotated by `with_state`. A bed held for an operation is reserved,
    to everyone: shown available, it told every coordinator it was free, and a hold is made
    before a confidential operation starts, so saying more would tell them of it (ADR 39)."""
    if bed.out_of_service_since is not None:
        return BedState.OUT_OF_SERVICE
    if bed.live_status == PlacementStatus.OCCUPIED:
        return BedState.OCCUPIED
    if bed.live_status in (PlacementStatus.RESERVED, PlacementStatus.ACCEPTED) or bed.on_hold:
        return BedState.RESERVED
    return BedState.AVAILABLE


def free_beds() -> QuerySet[Bed]:
    """Beds a person could be placed in now: in an active site with beds, in service, held by
    no placement, not a surge place whose surge has not begun or has ended. Each is annotated
    with `held_for`, the operation a live hold keeps it for (None: none); a surge place's
    `operation_id` says whose it is (ADR 0044). A surge place is left out before its first
    day, as in the capacity figures: these lists go to every coordinator, and a confidential
    operation is secret until it starts (ADR 39; found in review).

    Matching's pool, held beds included, for the operation's people. What anyone is shown as
    free is `free_beds_unheld` (or, for one request, `free_beds_for`)."""
    now = timezone.now()
    held = Placement.objects.holding_a_bed().filter(bed=OuterRef("pk"))
    return (
        Bed.objects.filter(
            ~Exists(held),
            surge.surge_under_way(timezone.localdate()),
            out_of_service_since=None,
            room__site__is_active=True,
        )
        .exclude(room__site__kind=SiteKind.OUTREACH)
        .annotate(
            held_for=Subquery(
                surge.live_holds(now).filter(bed=OuterRef("pk")).values("operation_id")[:1]
            )
        )
    )


def free_beds_unheld() -> QuerySet[Bed]:
    """Free beds no live hold keeps: the free beds listed and counted for anyone. A held bed is
    free only to its operation's people, and is held before the operation starts: listed, even
    with the reason it cannot take someone, it told every coordinator of a confidential
    operation still secret (ADR 39; found in review)."""
    return free_beds().filter(Q(held_for=None))


def free_beds_open_to_anyone() -> QuerySet[Bed]:
    """Free beds not kept for any operation: the places an ordinary request can have."""
    return free_beds_unheld().filter(operation_id=None)


_NOT_ANNOTATED = object()


def kept_for(bed: Bed) -> int | None:
    """The operation a bed is kept for: its surge's, or a live hold's (None: anyone's)."""
    if bed.operation_id is not None:
        return bed.operation_id
    annotated: Any = getattr(bed, "held_for", _NOT_ANNOTATED)
    if annotated is not _NOT_ANNOTATED:
        return None if annotated is None else int(annotated)
    hold = surge.live_holds(timezone.now()).filter(bed=bed).first()
    return None if hold is None else hold.operation_id


def counted_by_state(beds: QuerySet[Bed], *group_by: str) -> list[dict[str, Any]]:
    """`beds` grouped by the `group_by` fields, each group with how many beds it has and how
    many are free, reserved (offered or accepted, or held for an operation), occupied and out
    of service: counted by the database in one query, with the rules of `state_of` (out of
    service first, then the placement holding the bed, of which the database allows one, then
    a live hold). A held bed is never counted free: these figures go to every coordinator, the
    public export and the capacity pages (ADR 39, 44).

    Whether a live hold keeps a bed is asked once per bed, in `held_unplaced`: the beds held
    are both added to those reserved and taken from those free (two counts filtered on the
    hold asked it twice, a subquery per bed each)."""
    in_service = Q(out_of_service_since=None)
    unplaced = in_service & Q(held__id=None)
    rows = (
        beds.annotate(
            held=FilteredRelation(
                "placements", condition=Q(placements__status__in=[s.value for s in HOLDS_BED])
            )
        )
        .order_by()
        .values(*group_by)
        .annotate(
            beds=Count("id"),
            out_of_service=Count("id", filter=~in_service),
            occupied=Count("id", filter=in_service & Q(held__status=PlacementStatus.OCCUPIED)),
            placed_reserved=Count(
                "id",
                filter=in_service
                & Q(held__status__in=[PlacementStatus.RESERVED, PlacementStatus.ACCEPTED]),
            ),
            unplaced=Count("id", filter=unplaced),
            held_unplaced=Count("id", filter=unplaced & Q(_on_hold())),
        )
    )
    return [
        {field: row[field] for field in group_by}
        | {
            "beds": row["beds"],
            "free": row["unplaced"] - row["held_unplaced"],
            "reserved": row["placed_reserved"] + row["held_unplaced"],
            "occupied": row["occupied"],
            "out_of_service": row["out_of_service"],
        }
        for row in rows
    ]


def beds_of_site(actor: Actor, site: Site) -> list[Any]:
    """The site's beds, each with its state, as `actor` may see them: an operation's surge
    places only for the site's own provider and a provider invited to the operation
    (`surge.surge_seen_by`), reserved before their first day and gone after their last unless
    someone is still in them (`free_beds` lists them only while the surge is under way)."""
    seen = surge.surge_seen_by(actor)
    beds = with_state(Bed.objects.filter(seen, room__site=site).select_related("room")).order_by(
        "room__name", "label"
    )
    today = timezone.localdate()
    shown = []
    for bed in map(_with_state_attribute, beds):
        if bed.surge_until is not None and bed.state == BedState.AVAILABLE:
            if bed.surge_until < today:
                continue  # its surge is over and nobody is in it: no bed any more
            if bed.surge_from > today:
                # Kept for the operation, and nobody can be placed in it before its first day.
                bed.state = BedState.RESERVED
        shown.append(bed)
    return shown


def _with_state_attribute(bed: Any) -> Any:
    bed.state = state_of(bed)
    return bed


def bed_get_for_manager(actor: Actor, bed_id: int) -> Bed:
    bed = (
        Bed.objects.select_related("room__site")
        .filter(pk=bed_id, room__site_id__in=assigned_site_ids(actor))
        .first()
    )
    if bed is None:
        raise Http404
    return bed


# --- Requests and placements ------------------------------------------------------------------


def requests_waiting(actor: Actor) -> QuerySet[PlacementRequest]:
    """Open requests, for coordinators: most urgent first, then the place needed soonest (one
    needed since yesterday before one needed next month), then longest waiting."""
    if not is_coordinator(actor):
        return PlacementRequest.objects.none()
    live = Placement.objects.live().filter(request=OuterRef("pk"))
    rank = Case(
        When(urgency=Urgency.EMERGENCY, then=Value(0)),
        When(urgency=Urgency.URGENT, then=Value(1)),
        default=Value(2),
    )
    return (
        PlacementRequest.objects.filter(status=PlacementRequestStatus.OPEN)
        .select_related("case")
        .annotate(
            urgency_rank=rank,
            live_status=Subquery(live.values("status")[:1]),
            live_placement_id=Subquery(live.values("pk")[:1]),
        )
        .order_by("urgency_rank", "needed_from", "created_at", "pk")
    )


def request_get_for_coordinator(actor: Actor, request_id: int) -> PlacementRequest:
    if not is_coordinator(actor):
        raise Http404
    found = (
        PlacementRequest.objects.select_related("case__person", "case__referring_organisation")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _never_offered() -> Q:
    """Placements the provider was never asked about: a matching proposal (the coordinator's
    to weigh, ADR 16), and a proposal turned down or set aside, which was cancelled before it
    was ever reserved (`reserved_at` is set only when a bed is offered, `services._hold`)."""
    return Q(status=PlacementStatus.PROPOSED) | Q(
        status=PlacementStatus.CANCELLED, reserved_at=None
    )


def placements_visible_to(actor: Actor) -> QuerySet[Placement]:
    """Every placement for a coordinator; for a safe-house manager, those offered to their
    provider, and nothing matching only proposed: a proposal told the provider of a person
    nobody had asked them to take, with the first responder's words (found in review). The
    placement page, the API's list and its detail all read through this. The case comes
    with each placement: the placements page's lists say of each row "Adult or child"
    (`Case.is_child`) without a query per row."""
    placements = Placement.objects.select_related(
        "bed__room__site__provider", "request__case"
    ).order_by("-proposed_at", "-pk")
    if is_coordinator(actor):
        return placements
    offered = placements.exclude(_never_offered())
    return offered.filter(bed__room__site__provider_id__in=managed_provider_ids(actor))


def placement_get_for_user(actor: Actor, placement_id: int) -> Placement:
    found = placements_visible_to(actor).filter(pk=placement_id).first()
    if found is None:
        raise Http404
    return found


def adult_move_on_ends(case: cases.Case) -> date | None:
    """The day the person's adult move-on support ends, which a stay in a house runs to; None
    for a person treated as a child (or while their age is disputed): their support is the
    local authority's and does not end with an adult's move-on period (ADR 25). The case page
    hides the same clock (`cases.selectors.ADULT_SUPPORT_CLOCKS`). Kept on the case, not
    cleared: an age assessment that finds an adult brings it back.

    None too while a reconsideration of the negative conclusive decision waits for its
    answer: support runs on whatever the date (`cases.services.support_running`, ADR 15), and
    a refused reconsideration brings the end back."""
    if case.is_child or case.status == CaseStatus.RECONSIDERATION:
        return None
    return case.move_on_ends


def offers_unanswered(actor: Actor) -> QuerySet[Placement]:
    """Places offered to a provider and not yet answered: the placements page's first table
    (a coordinator's are every provider's; a safe-house manager's, their own provider's)."""
    return placements_visible_to(actor).filter(status=PlacementStatus.RESERVED)


def arrivals_expected(actor: Actor) -> QuerySet[Placement]:
    """Places accepted, the person not yet arrived: the placements page's second table."""
    return placements_visible_to(actor).filter(status=PlacementStatus.ACCEPTED)


def offers_for_provider(actor: Actor) -> QuerySet[Placement]:
    """Places offered to the actor's organisation, waiting for its answer, and people expected."""
    return placements_visible_to(actor).filter(
        bed__room__site__provider_id__in=managed_provider_ids(actor),
        status__in=[PlacementStatus.RESERVED, PlacementStatus.ACCEPTED],
    )


def proposals(actor: Actor) -> QuerySet[Placement]:
    if not is_coordinator(actor):
        return Placement.objects.none()
    return placements_visible_to(actor).filter(status=PlacementStatus.PROPOSED)


# --- Matching's input -------------------------------------------------------------------------


def settings_for(sex: str, gender: str) -> list[str]:
    """The settings a person can be placed in, from their gender (or, without one, their sex):
    a woman in a women-only or a mixed house, a man in a men-only or a mixed one, anyone else
    in a mixed one (`safety.selectors.single_sex_house_for`, the one reading of who each house
    is for). A coordinator can narrow it (a woman who needs a women-only house)."""
    own = single_sex_house_for(sex, gender)
    return [own, "mixed"] if own else ["mixed"]


def settings_allowed(case: cases.Case) -> list[str]:
    """The settings the person may ever be placed in: those of their sex and gender
    (`settings_for`), and the one their safety profile requires, if any (a house the first
    responder or caseworker recorded they need, ADR 0026). A coordinator narrows a request
    within these, never widens it: a woman is never placed in a men-only house because a box
    was ticked on the request (found in review)."""
    allowed = settings_for(case.person.sex, case.person.gender)
    carried = constraints_of(case)
    if carried is not None and carried.settings is not None:
        allowed += [s for s in carried.settings if s not in allowed]
    return allowed


def matching_request(request: PlacementRequest, today: date) -> matching.Request:
    """A placement request as `accommodation.matching` sees it.

    The request's settings are only those the person may be in (`settings_allowed`): a request
    saved before that was checked, with the other sex's houses ticked, is read without them.
    The case's safety profile is a floor under the request's own constraints, whenever either
    changed (ADR 0026): a women-only or men-only requirement allows only that setting, each place
    to keep away from is an area never placed in, every dependant needs room with them,
    and each dependant comes along as a `matching.Companion`, so that an adult of the other sex
    rules out a single-sex house (each, adult or child, takes a place of the room's
    `takes_dependants`)."""
    allowed = settings_allowed(request.case)
    settings = [s for s in request.accepted_settings or ["mixed"] if s in allowed] or allowed
    excluded = list(request.excluded_areas or [])
    dependants = request.dependants
    companions: tuple[matching.Companion, ...] = ()
    carried = constraints_of(request.case, today)
    if carried is not None:
        if carried.settings is not None:
            settings = [s for s in settings if s in carried.settings] or carried.settings
        excluded += carried.excluded_areas
        dependants = max(dependants, carried.dependants)
        companions = tuple(matching.Companion(sex, adult) for sex, adult in carried.companions)
    return matching.Request(
        id=request.pk,
        accepted_settings=frozenset(matching.Setting(s) for s in settings),
        needed_from=request.needed_from,
        waiting_since=request.created_at.date(),
        urgency=matching.Urgency(request.urgency),
        # Fail closed: anyone not recorded as an adult (a child, or someone whose age is
        # disputed) is placed only in a setting for children.
        child=request.case.age_group != AgeGroup.ADULT,
        dependants=dependants,
        companions=companions,
        needs_wheelchair=request.needs_wheelchair,
        languages=frozenset(request.languages),
        interpreter_needed=request.interpreter_needed,
        required_specialisms=frozenset(request.required_specialisms),
        keep_away=tuple(
            # As stored: `KeepAway` refuses, saying why, a value it cannot use.
            matching.KeepAway(
                location=(zone.get("lat"), zone.get("lon")),
                km=zone.get("km"),
                label=_zone_label(n, len(request.keep_away)),
            )
            for n, zone in enumerate(request.keep_away or [], start=1)
        ),
        excluded_areas=frozenset(excluded_key(area) for area in excluded),
        preferred_regions=frozenset(request.preferred_regions),
        near_school=request.near_school,
        wanted_specialisms=frozenset(request.wanted_specialisms),
        operation_id=request.operation_id,
    )


# Apostrophes are dropped ("King's Lynn" is "Kings Lynn"); "&" is "and".
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
# Anything else not a letter or digit separates words: spaces, hyphens (and dashes), full
# stops, commas, underscores.
_SEPARATORS = re.compile(r"[\W_]+")


def area_key(name: str) -> str:
    """An area's name as matching compares it: its words in lower case, joined by single
    spaces, so that case, spacing and punctuation do not matter, whoever typed it (a first
    responder recording a place to keep away from, a coordinator excluding it, a manager
    recording a site): "Stoke-on-Trent", "Stoke on Trent" and "STOKE ON  TRENT" are one area,
    as are "St. Helens" and "St Helens", "Brighton & Hove" and "Brighton and Hove". A hyphen
    kept in one spelling and not the other let a bed in the place a person must keep away from
    be offered to them. Spaces, not hyphens, join the words: the key is shown to coordinators
    ("the bed is in north tyneside"), and the operations history compares it with the case's
    area normalised the same way in SQL (`operations.history._area_key`)."""
    words = _APOSTROPHES.sub("", name.replace("&", " and ")).casefold()
    key = " ".join(word for word in _SEPARATORS.split(words) if word)
    # A name of punctuation alone ("-") stays itself: a blank key would be refused by
    # matching as a blank area (`matching.Request`) and stop every run.
    return key or " ".join(name.split()).casefold()


# Each region or nation, by the `area_key` of its name and of its code, to its code: "North
# West", "north-west" and "north_west" are one region.
_REGION_CODES = {
    area_key(spelling): code for code, name in Region.choices for spelling in (name, code)
}


def excluded_key(name: str) -> str:
    """A place to keep away from as matching compares it with a bed's region and area: a
    region or nation named in words (a safety profile's "North West") becomes its code
    (`north_west`), as a site records its region; any other name is its `area_key`, as a
    site's area is (`_site_as_matched`)."""
    key = area_key(name)
    return _REGION_CODES.get(key, key)


def regions_of_areas() -> dict[str, str]:
    """The region of each local authority area that a site records (by `area_key`): where
    someone in that area is, for the unmet-need figures. Areas with no site are not known."""
    return {
        area_key(area): region
        for area, region in Site.objects.order_by("pk").values_list("area", "region")
    }


def unknown_areas(names: list[str]) -> list[str]:
    """The names among these that are neither a region nor the area of any site."""
    known = {area_key(area) for area in Site.objects.values_list("area", flat=True)}
    known |= set(Region.values)
    return [name for name in names if excluded_key(name) not in known]


ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _zone_label(n: int, count: int) -> str:
    """How matching's explanations name a place to keep away from: by its number, never by
    name, because the explanations are kept with placements and shown to the provider, and the
    place says where the person was exploited."""
    if count == 1:
        return "the place to keep away from"
    ordinal = ORDINALS[n - 1] if n <= len(ORDINALS) else f"number {n}"
    return f"the {ordinal} place to keep away from"


def _site_as_matched(site: Site) -> dict[str, Any]:
    """What matching knows of a bed from its site (the same for every bed there)."""
    return {
        "site_id": site.pk,
        "provider_id": site.provider_id,
        "region": site.region,
        "area": area_key(site.area),
        "setting": matching.Setting(site.setting),
        "location": tuple(site.location) if site.location else None,
        "for_children": site.ages == SiteAges.CHILDREN,
        "languages": frozenset(site.staff_languages),
        "specialisms": frozenset(site.specialisms),
        "near_school": site.near_school,
    }


def matching_bed(bed: Bed, today: date) -> matching.Bed:
    """A bed as `accommodation.matching` sees it."""
    return matching.Bed(
        id=bed.pk,
        takes_dependants=bed.room.takes_dependants,
        wheelchair_accessible=bed.room.wheelchair_accessible,
        available_from=max(today, bed.surge_from or today),
        operation_id=kept_for(bed),
        **_site_as_matched(bed.room.site),
    )


def matching_instance(today: date) -> tuple[list[matching.Request], list[matching.Bed]]:
    """Every open request with no live placement, and every free bed, for `matching.match`."""
    live = Placement.objects.live().filter(request=OuterRef("pk"))
    requests = [
        matching_request(request, today)
        for request in PlacementRequest.objects.filter(
            ~Exists(live), status=PlacementRequestStatus.OPEN, details_to_review=False
        )
        .select_related("case__person", "case__safety_profile")
        # Who comes with each person (`constraints_of`): one query for every request.
        .prefetch_related("case__safety_profile__dependants")
        .order_by("created_at", "pk")
    ]
    # As `matching_bed` sees each bed, read as plain rows, and each site once, without its
    # address: joined to every bed as models, a site's encrypted fields were decrypted once per
    # bed (30,000 decryptions for 10,000 beds) and 20,000 models made, most of the time.
    free = list(
        free_beds()  # type: ignore[misc]  # the stubs do not see free_beds's `held_for`
        .order_by("pk")
        .values_list(
            "pk",
            "room__site_id",
            "room__takes_dependants",
            "room__wheelchair_accessible",
            "surge_from",
            "operation_id",
            "held_for",
        )
    )
    sites = {
        site.pk: _site_as_matched(site)
        for site in Site.objects.defer("address", "postcode").filter(
            pk__in={row[1] for row in free}
        )
    }
    # The first bed of each site is made (and checked) whole; the others take its site's facts.
    first_at: dict[int, matching.Bed] = {}
    beds = []
    for pk, site_id, dependants, wheelchair, surge_from, operation_id, held_for in free:
        own = {
            "id": pk,
            "takes_dependants": dependants,
            "wheelchair_accessible": wheelchair,
            "available_from": max(today, surge_from or today),
            # As `kept_for`: the bed's surge, else a live hold's operation.
            "operation_id": operation_id if operation_id is not None else held_for,
        }
        first = first_at.get(site_id)
        if first is None:
            first = first_at[site_id] = matching.Bed(**own, **sites[site_id])
            beds.append(first)
        else:
            beds.append(first.another_at_site(**own))
    return requests, beds


def free_beds_for(request: PlacementRequest, today: date) -> list[tuple[Bed, list[str]]]:
    """Every free bed with the reasons it may not take this request (empty: allowed), allowed
    first: the coordinator's list for placing by hand. A bed held for an operation is listed
    only for that operation's people (`free_beds_unheld`)."""
    wanted = matching_request(request, today)
    beds = free_beds().filter(Q(held_for=None) | Q(held_for=request.operation_id))
    rows = []
    for bed in beds.select_related("room__site__provider").order_by("room__site__name"):
        rows.append((bed, matching.check(wanted, matching_bed(bed, today), today=today)))
    rows.sort(key=lambda row: (bool(row[1]), row[0].room.site.name, row[0].room.name))
    return rows


def requests_held_for_review() -> QuerySet[PlacementRequest]:
    """Open requests matching leaves out until a coordinator has read what the referral wrote
    of the person's immediate needs and safety, and turned it into constraints."""
    return PlacementRequest.objects.filter(
        status=PlacementRequestStatus.OPEN, details_to_review=True
    ).select_related("case")


def operation_of(case: cases.Case) -> int | None:
    """The enforcement operation the person was taken in during, as the referral draft the case
    came from records it (ADR 43); None for any other case. Any request for the person carries
    it, however raised, so the operation's surge places and held beds can take them (ADR 44)."""
    try:
        operation_id: int | None = case.draft.operation_id
    except ObjectDoesNotExist:
        return None
    return operation_id


def requests_with_unmet_need(since: date) -> QuerySet[PlacementRequest]:
    return PlacementRequest.objects.filter(unmet_needs__on__gte=since).distinct()


def open_request_count() -> int:
    return PlacementRequest.objects.filter(status=PlacementRequestStatus.OPEN).count()


def address_grants_to_decide(actor: Actor) -> QuerySet[AddressGrant]:
    """Requests waiting for this actor's decision: those for sites of providers they administer
    themselves, and, for a competent authority's senior decision maker, emergency ones. Never
    their own."""
    where = Q(site__provider_id__in=actor.organisations_as({Role.ORGANISATION_ADMIN}))
    if Role.SENIOR_DECISION_MAKER in actor.roles:
        where |= Q(emergency=True)
    return (
        AddressGrant.objects.filter(where, approved=None, revoked_at=None)
        .exclude(membership__user=actor.user)
        .select_related("membership__user", "membership__organisation", "site__provider")
    )


def address_grants_of_providers(actor: Actor) -> QuerySet[AddressGrant]:
    """Live grants to the sites of providers this actor administers (to withdraw)."""
    return (
        live_address_grants()
        .filter(site__provider_id__in=actor.organisations_as({Role.ORGANISATION_ADMIN}))
        .select_related("membership__user", "membership__organisation", "site__provider")
    )


def address_grants_asked_by(actor: Actor) -> QuerySet[AddressGrant]:
    return AddressGrant.objects.filter(membership__user=actor.user).select_related(
        "site__provider", "decided_by"
    )


def address_grants_revocable_by(actor: Actor) -> QuerySet[AddressGrant]:
    """Live grants to the sites of providers this actor administers, and the actor's own live
    grants and waiting requests (a coordinator may give theirs up)."""
    return AddressGrant.objects.filter(
        Q(pk__in=address_grants_of_providers(actor).values("pk"))
        | Q(membership__user=actor.user, revoked_at=None, approved=None)
        | Q(pk__in=live_address_grants().filter(membership__user=actor.user).values("pk"))
    ).select_related("site__provider", "membership__user")


def sites_of_administered_providers(actor: Actor) -> QuerySet[Site]:
    return Site.objects.filter(
        provider_id__in=actor.organisations_as({Role.ORGANISATION_ADMIN})
    ).select_related("provider")


def managers_of_administered_providers(actor: Actor) -> QuerySet[Any]:
    return (
        members_with_role(None, {Role.SAFE_HOUSE_MANAGER})
        .filter(organisation_id__in=actor.organisations_as({Role.ORGANISATION_ADMIN}))
        .select_related("user", "organisation")
    )


def site_assignments_of_administered_providers(actor: Actor) -> QuerySet[SiteAssignment]:
    return SiteAssignment.objects.filter(
        site__in=sites_of_administered_providers(actor)
    ).select_related("membership__user", "site")


def may_manage_addresses(actor: Actor) -> bool:
    """Whether the address-access page has anything for this actor."""
    return (
        is_coordinator(actor)
        or Role.SENIOR_DECISION_MAKER in actor.roles
        or sites_of_administered_providers(actor).exists()
        or managers_of_administered_providers(actor).exists()
    )


def bed_get_for_placing(actor: Actor, bed_id: int) -> Bed | None:
    """A bed a coordinator may offer by hand, page and API alike: any bed of a site they see.
    Whether it is free, in service and allowed for the person, the service checks with the bed
    locked (`services.placement_make`), so that the answer cannot change before it is used."""
    if not is_coordinator(actor):
        return None
    # A surge place not under way is answered for as a bed that does not exist, to anyone not
    # briefed: "not available" told a coordinator trying ids that places were agreed there
    # for an operation still secret (found in review).
    return (
        Bed.objects.select_related("room__site__provider")
        .filter(
            surge.surge_seen_by(actor) | surge.surge_under_way(timezone.localdate()),
            pk=bed_id,
            room__site__in=sites_visible_to(actor),
        )
        .first()
    )


def case_for_coordinator(actor: Actor, reference: str) -> cases.Case | None:
    """A case a coordinator raises a request for. Coordinators place people referred anywhere,
    so any case; nothing of it is shown but its reference."""
    if not is_coordinator(actor):
        raise Http404
    return cases.Case.objects.filter(reference=reference.strip().upper()).first()


def unmet_today(actor: Actor, today: date) -> QuerySet[UnmetNeed]:
    if not is_coordinator(actor):
        return UnmetNeed.objects.none()
    # A request placed since (proposed by a later run, offered by hand) is no longer unmet.
    live = Placement.objects.live().filter(request=OuterRef("request_id"))
    return (
        UnmetNeed.objects.filter(
            ~Exists(live), on=today, request__status=PlacementRequestStatus.OPEN
        )
        .select_related("request__case")
        .order_by("request__needed_from", "request_id")
    )


@dataclass(frozen=True)
class SiteSummary:
    site: Site
    beds: int
    free: int
    reserved: int
    occupied: int
    out_of_service: int


def site_summaries(actor: Actor) -> list[SiteSummary]:
    """Each site the actor may see, with its beds counted by state. Free is what
    `free_beds_unheld` lists, so the two cannot disagree: counted here by their own rule, the
    beds of a closed site and surge places whose surge had ended (or whose operation was
    cancelled) were "free" to every coordinator though no one could be offered them (found in
    review). A surge place whose surge has ended leaves the counts, as it leaves the capacity
    figures (`statistics.capacity.counted_beds`), unless someone is still placed in it."""
    visible = sites_visible_to(actor).select_related("provider").order_by("provider__name", "name")
    # Counted as `beds_of_site` lists them: another operation's surge places are not told.
    held = Placement.objects.holding_a_bed().filter(bed=OuterRef("pk"))
    beds = Bed.objects.filter(surge.surge_seen_by(actor), room__site__in=visible).filter(
        surge.in_surge_window(timezone.localdate()) | Exists(held)
    )
    counts = {row["room__site_id"]: row for row in counted_by_state(beds, "room__site_id")}
    free = dict(
        Bed.objects.filter(pk__in=beds.values("pk"))
        .filter(pk__in=free_beds_unheld().values("pk"))
        .order_by()
        .values("room__site_id")
        .annotate(free=Count("id"))
        .values_list("room__site_id", "free")
    )
    empty = {"beds": 0, "free": 0, "reserved": 0, "occupied": 0, "out_of_service": 0}
    return [
        SiteSummary(
            site=site,
            beds=row["beds"],
            free=free.get(site.pk, 0),
            reserved=row["reserved"],
            occupied=row["occupied"],
            out_of_service=row["out_of_service"],
        )
        for site, row in ((site, counts.get(site.pk, empty)) for site in visible)
    ]


@dataclass(frozen=True)
class DirectoryEntry:
    provider: Any
    services: list[Service]
    sites: list[Site]


def directory() -> list[DirectoryEntry]:
    """Every active provider with its services and sites (code names, regions and settings
    only: the directory never shows an address)."""
    from opennrm.accounts.models import Organisation
    from opennrm.accounts.roles import OrganisationKind

    providers = Organisation.objects.filter(
        kind=OrganisationKind.SUPPORT_PROVIDER, is_active=True
    ).order_by("name")
    services = list(Service.objects.filter(is_active=True).order_by("name"))
    sites = list(Site.objects.filter(is_active=True).order_by("name"))
    return [
        DirectoryEntry(
            provider=provider,
            services=[s for s in services if s.provider_id == provider.pk],
            sites=[s for s in sites if s.provider_id == provider.pk],
        )
        for provider in providers
    ]


def services_managed_by(actor: Actor) -> QuerySet[Service]:
    return Service.objects.filter(provider_id__in=managed_provider_ids(actor)).order_by("name")


def service_get_for_manager(actor: Actor, service_id: int) -> Service:
    found = services_managed_by(actor).filter(pk=service_id).first()
    if found is None:
        raise Http404
    return found


def safety_conditions_broken(placement: Placement, today: date | None = None) -> bool:
    """Whether the bed of a live placement fails a condition the person's request now sets
    (a place to keep away from learnt since, a setting): the rules of matching, but for the bed
    being free, which says nothing of their safety (it is theirs)."""
    today = today or timezone.localdate()
    return any(
        code != matching.Constraint.AVAILABLE
        for code, _ in matching.failures(
            matching_request(placement.request, today),
            matching_bed(placement.bed, today),
            today=today,
        )
    )
