"""The support API: the coordinator's waiting list, matching, proposals and placing by hand; the
provider's answers to offers, arrivals and exits; sites and beds with their states; and the
directory as an HSDS document (the capacity figures are `statistics.api`'s). The same
selectors, forms and services as the support pages, so every rule is the pages' own.

A token reaches what the pages' selectors give its actor: its member's roles *in the token's
organisation* only (`accounts.actor`): as a support coordinator, every request, placement, site
and bed; as a safe-house manager, only the sites they are assigned to in the token's
organisation and the placements in its sites. Anything
else is 404, exactly as for a record that does not exist.

**Addresses.** A site's address, postcode and location are returned only where the site pages
show them (the site and the placement), only to those `selectors.may_see_address` allows (the
managers assigned to it, coordinators with a live `AddressGrant` for it), and each time it is returned the
view is recorded (`site.address_viewed`), as on the pages. For everyone else `address` is null;
lists never carry it. Nothing here says who a person is: a case reference, age group, sex,
languages and needs, never names, dates of birth or the places they must keep away from.

**Safety.** One placement (`GET /support/placements/{id}`) carries what its page shows of the
person's safety, so that a provider answering offers from its own system does not accept blind:
the risk level and its reasons, medical needs, the house needed, how many dependants come, and
what the first responder wrote under immediate needs. Never who exploited them, the places to
keep away from or a dependant's name, as on the page; each time it is returned, the read is
recorded (`person.viewed`, naming the fields), as on the page. Lists never carry it.

**No double booking.** Offering a bed that another placement holds is refused with 409 (the
services lock the bed and the database refuses a second holder); every other refusal is 422.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from opennrm.accounts.actor import Actor, actor_of
from opennrm.api.schemas import (
    AUTH_ERRORS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    ErrorsOut,
    error_out,
    field_errors_out,
    page_slice,
    refusal,
)
from opennrm.audit.services import audit_read
from opennrm.lib.govuk_forms import date_input
from opennrm.safety import selectors as safety
from opennrm.safety.models import RiskLevel, SettingRequired

from . import hsds, selectors, services
from .forms import ArrivedForm, EndForm, RespondForm
from .matching import constraint_label
from .models import (
    HOLDS_BED,
    DeclineReason,
    ExitReason,
    Placement,
    PlacementRequest,
    PlacementStatus,
    Region,
    Setting,
    Site,
    UnmetNeed,
)

router = Router(tags=["Support and accommodation"])
directory_router = Router(tags=["Directory"])

MAX_CHILDREN = 20
# Filters whose values are the models' choices (as query parameters' defaults, made once).
REGION_FILTER = Query(None, description="Only beds in this region")
SETTING_FILTER = Query(None, description="Only beds in this setting")
STATUS_FILTER = Query(
    None, description="Only placements in this state, e.g. reserved: offers to answer"
)


# Every error response a write can give, besides 401, 403 and 429 (404 also when the server has
# no rule for an operation, as for every operation).
WRITE_ERRORS: dict[int, type[Schema]] = {404: ErrorsOut, 422: ErrorsOut}


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


# --- What a token reaches: what the pages' selectors give its actor --------------------------


def _site(actor: Actor, site_id: int) -> Site:
    found = selectors.sites_visible_to(actor).select_related("provider").filter(pk=site_id).first()
    if found is None:
        raise Http404
    return found


def _placement(actor: Actor, placement_id: int) -> Placement:
    found = (
        selectors.placements_visible_to(actor)
        .select_related("request__case__person", "bed__room__site__provider")
        .filter(pk=placement_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _placement_to_answer(actor: Actor, placement_id: int) -> Placement:
    """A placement the token's organisation runs the house of, to answer for: a coordinator's
    token sees every placement, but only the provider's own staff answer, arrive or exit, and a
    token acts through its own organisation's roles alone (the service checks the person's
    roles in all their organisations, as a page does)."""
    found = _placement(actor, placement_id)
    if found.bed.room.site.provider_id not in selectors.managed_provider_ids(actor):
        raise Http404
    return found


# --- Sites and beds -----------------------------------------------------------------------------


class SiteRefOut(Schema):
    """A site as every list names it: a code name that says nothing about where it is."""

    id: int
    public_id: UUID = Field(description="Its id in the HSDS directory export")
    name: str = Field(description="A code name")
    kind: str = Field(description="safe_house, dispersed or outreach")
    kind_label: str
    provider: str
    region: str
    region_label: str
    setting: str = Field(description="women_only, men_only or mixed")
    setting_label: str
    ages: str = Field(
        description="adults or children: a child, or someone whose age is disputed, is only "
        "ever placed in a setting for children, and an adult never is"
    )
    is_active: bool


class SiteAddressOut(Schema):
    lines: str = Field(description="The address")
    postcode: str
    latitude: float | None
    longitude: float | None


ADDRESS_DESCRIPTION = (
    "Only for the site's own staff and for coordinators holding the permission to see "
    "safe-house addresses; every time it is returned, that is recorded in the audit trail. "
    "Null for everyone else."
)


class SiteWhereOut(SiteRefOut):
    area: str = Field(description="The local authority area")
    address: SiteAddressOut | None = Field(description=ADDRESS_DESCRIPTION)


BedStateCode = Literal["available", "reserved", "occupied", "out_of_service"]


class BedOut(Schema):
    id: int
    label: str
    room: str
    takes_dependants: int = Field(description="Children who can stay with their parent; 0: none")
    wheelchair_accessible: bool
    state: BedStateCode = Field(description="Derived from its placements, never typed in")
    state_label: str
    out_of_service_reason: str | None
    placement: int | None = Field(description="The placement holding it, if any")


class SiteOut(SiteWhereOut):
    staff_languages: list[str] = Field(
        description="ISO 639-1 codes, or ISO 639-3 codes for languages ISO 639-1 has none for"
    )
    specialisms: list[str]
    near_school: bool
    beds: list[BedOut]


class BedCountsOut(Schema):
    beds: int
    free: int
    reserved: int = Field(description="Offered or accepted: held for someone not yet arrived")
    occupied: int
    out_of_service: int


class SiteSummaryOut(SiteRefOut):
    counts: BedCountsOut


class SitePageOut(Schema):
    items: list[SiteSummaryOut]
    count: int


def site_ref_out(site: Site) -> SiteRefOut:
    return SiteRefOut(**_site_fields(site))


def _site_fields(site: Site) -> dict[str, Any]:
    return {
        "id": site.pk,
        "public_id": site.public_id,
        "name": site.name,
        "kind": site.kind,
        "kind_label": site.get_kind_display(),
        "provider": site.provider.name,
        "region": site.region,
        "region_label": site.get_region_display(),
        "setting": site.setting,
        "setting_label": site.get_setting_display(),
        "ages": site.ages,
        "is_active": site.is_active,
    }


def _where_fields(actor: Actor, site: Site) -> dict[str, Any]:
    """The site with its area, and its address if the actor may see it (recorded)."""
    address = None
    if selectors.may_see_address(actor, site):
        location = site.location or [None, None]
        address = SiteAddressOut(
            lines=site.address, postcode=site.postcode, latitude=location[0], longitude=location[1]
        )
        services.site_address_shown(by=actor.user, site=site)
    return {**_site_fields(site), "area": site.area, "address": address}


def _bed_out(bed: Any) -> BedOut:
    return BedOut(
        id=bed.pk,
        label=bed.label,
        room=bed.room.name,
        takes_dependants=bed.room.takes_dependants,
        wheelchair_accessible=bed.room.wheelchair_accessible,
        state=bed.state.value,
        state_label=bed.state.label,
        out_of_service_reason=bed.out_of_service_reason or None,
        placement=bed.live_placement_id,
    )


@router.get(
    "/support/sites",
    url_name="support_sites",
    operation_id="support_site_list",
    summary="Sites and their beds counted by state",
    response={200: SitePageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def site_list(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> SitePageOut:
    """The sites the token's member may see, as on the sites page: a coordinator's, every
    site; a safe-house manager's, their organisation's. Never an address."""
    summaries = selectors.site_summaries(actor_of(request))
    return SitePageOut(
        items=[
            SiteSummaryOut(
                **_site_fields(s.site),
                counts=BedCountsOut(
                    beds=s.beds,
                    free=s.free,
                    reserved=s.reserved,
                    occupied=s.occupied,
                    out_of_service=s.out_of_service,
                ),
            )
            for s in summaries[page_slice(limit, offset)]
        ],
        count=len(summaries),
    )


@router.get(
    "/support/sites/{site_id}",
    url_name="support_site",
    operation_id="support_site_get",
    summary="One site and each of its beds with its state",
    response={200: SiteOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def site_get(request: HttpRequest, site_id: int) -> SiteOut:
    """The site page: what the site offers, and every bed with its state (available, reserved,
    occupied or out of service, derived from its placements). The address only for the site's
    staff and permitted coordinators (recorded each time). 404 alike for a site that does not
    exist and one the token may not reach."""
    actor = actor_of(request)
    site = _site(actor, site_id)
    return SiteOut(
        **_where_fields(actor, site),
        staff_languages=list(site.staff_languages),
        specialisms=list(site.specialisms),
        near_school=site.near_school,
        beds=[_bed_out(bed) for bed in selectors.beds_of_site(actor, site)],
    )


class FreeBedOut(Schema):
    id: int
    label: str
    room: str
    takes_dependants: int
    wheelchair_accessible: bool
    site: SiteRefOut


class FreeBedPageOut(Schema):
    items: list[FreeBedOut]
    count: int


@router.get(
    "/support/beds/free",
    url_name="support_free_beds",
    operation_id="support_free_beds",
    summary="Beds free now",
    response={200: FreeBedPageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def free_bed_list(
    request: HttpRequest,
    region: Region | None = REGION_FILTER,
    setting: Setting | None = SETTING_FILTER,
    children: int | None = Query(
        None,
        ge=0,
        le=MAX_CHILDREN,
        description="Only beds in rooms where a parent can stay with at least this many children",
    ),
    wheelchair: bool = Query(False, description="Only wheelchair-accessible beds"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> FreeBedPageOut:
    """Every bed a person could be placed in now (in service, in an open site, held by no
    placement and not held for an operation), by site name. To place someone in one, `POST
    /api/v1/support/requests/{placement_request_id}/placement`: the same checks as matching
    decide whether it may take them."""
    beds = selectors.free_beds_unheld().select_related("room__site__provider")
    if region is not None:
        beds = beds.filter(room__site__region=region)
    if setting is not None:
        beds = beds.filter(room__site__setting=setting)
    if children:
        beds = beds.filter(room__takes_dependants__gte=children)
    if wheelchair:
        beds = beds.filter(room__wheelchair_accessible=True)
    beds = beds.order_by("room__site__name", "room__name", "label", "pk")
    return FreeBedPageOut(
        items=[
            FreeBedOut(
                id=bed.pk,
                label=bed.label,
                room=bed.room.name,
                takes_dependants=bed.room.takes_dependants,
                wheelchair_accessible=bed.room.wheelchair_accessible,
                site=site_ref_out(bed.room.site),
            )
            for bed in beds[page_slice(limit, offset)]
        ],
        count=beds.count(),
    )


# --- Placement requests -------------------------------------------------------------------------


class LivePlacementOut(Schema):
    id: int
    status: str


class PlacementRequestOut(Schema):
    id: int
    case_reference: str
    age_group: str = Field(description="adult, child, or presumed_child (age disputed)")
    sex: str = Field(description="female, male, other or unknown")
    status: str = Field(description="open, placed, unmet or withdrawn")
    status_label: str
    urgency: str = Field(description="emergency, urgent or routine")
    urgency_label: str
    needs: list[str] = Field(description="bed_tonight, medical, interpreter, safety_risk")
    needed_from: date
    created_at: datetime
    days_waiting: int
    version: int
    accepted_settings: list[str]
    dependants: int
    needs_wheelchair: bool
    languages: list[str] = Field(description="ISO 639-1 codes")
    interpreter_needed: bool
    required_specialisms: list[str]
    preferred_regions: list[str]
    near_school: bool
    wanted_specialisms: list[str]
    safety_constraints: int = Field(
        description="How many places and areas the person must be kept away from. The places "
        "themselves are never returned."
    )
    placement: LivePlacementOut | None = Field(
        description="The proposal, offer or stay answering the request, if any"
    )
    details_to_review: bool = Field(
        description="The referral wrote details of the person's immediate needs and safety that "
        "no coordinator has yet turned into constraints: the request is neither matched nor "
        "placed until one has, on the request's page (the text is never returned here)"
    )


class PlacementRequestPageOut(Schema):
    items: list[PlacementRequestOut]
    count: int


def _request_out(item: Any, today: date) -> PlacementRequestOut:
    live = getattr(item, "live_placement_id", None)
    return PlacementRequestOut(
        id=item.pk,
        case_reference=item.case.reference,
        age_group=item.case.age_group,
        sex=item.person_sex,
        status=item.status,
        status_label=item.get_status_display(),
        urgency=item.urgency,
        urgency_label=item.get_urgency_display(),
        needs=list(item.needs),
        needed_from=item.needed_from,
        created_at=item.created_at,
        days_waiting=(today - timezone.localdate(item.created_at)).days,
        version=item.version,
        accepted_settings=list(item.accepted_settings),
        dependants=item.dependants,
        needs_wheelchair=item.needs_wheelchair,
        languages=list(item.languages),
        interpreter_needed=item.interpreter_needed,
        required_specialisms=list(item.required_specialisms),
        preferred_regions=list(item.preferred_regions),
        near_school=item.near_school,
        wanted_specialisms=list(item.wanted_specialisms),
        safety_constraints=len(item.keep_away or []) + len(item.excluded_areas or []),
        placement=LivePlacementOut(id=live, status=item.live_status) if live else None,
        details_to_review=item.details_to_review,
    )


@router.get(
    "/support/requests",
    url_name="support_requests",
    operation_id="support_request_list",
    summary="The waiting list: placement requests waiting for a place",
    response={200: PlacementRequestPageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def request_list(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> PlacementRequestPageOut:
    """Open requests, as on the coordinator's waiting list: the most urgent first, then the
    longest waiting, each with how long it has waited and the hard constraints matching keeps."""
    waiting = selectors.requests_waiting(actor_of(request)).annotate(
        person_sex=F("case__person__sex")
    )
    today = timezone.localdate()
    return PlacementRequestPageOut(
        items=[_request_out(item, today) for item in waiting[page_slice(limit, offset)]],
        count=waiting.count(),
    )


# --- Placements ---------------------------------------------------------------------------------


class PlacementOut(Schema):
    id: int
    status: str = Field(
        description="proposed, reserved (offered), accepted, occupied, declined, cancelled or ended"
    )
    status_label: str
    request: int = Field(description="The placement request it answers")
    case_reference: str
    age_group: str
    urgency: str
    site: SiteRefOut
    room: str
    bed: int
    bed_label: str
    why: str = Field(description="Why this bed: matching's reasons, or placed by hand")
    proposed_at: datetime
    reserved_at: datetime | None
    responded_at: datetime | None
    decline_reason: str | None = Field(
        description="needs_not_met, safety, bed_not_ready or other, once declined"
    )
    arrived_on: date | None
    ended_on: date | None
    exit_reason: str | None


class PersonOut(Schema):
    """What the placement page says of the person: never who they are."""

    age_group: str
    sex: str
    languages: list[str]
    interpreter_needed: bool
    dependants: int
    needs_wheelchair: bool


class SafetyOut(Schema):
    """What the placement page says of the person's safety, for the provider deciding on the
    offer: the risk and its reasons, medical needs, the house needed, how many dependants come
    and what the first responder wrote under immediate needs. Never who exploited them nor the
    places they must keep away from (the coordinator has kept the person away from those), nor
    a dependant's name. Each time it is returned, the read is recorded, naming these fields."""

    risk_level: RiskLevel | None = Field(
        description="standard, high or very_high; null when no safety profile is recorded"
    )
    risk_level_label: str | None
    risk_reasons: str = Field(description="Why the risk is what it is; empty if none given")
    medical_needs: str = Field(description="Empty if none recorded")
    setting_required: SettingRequired = Field(
        description="women_only or men_only: the only house the person may be placed in; empty "
        "for no requirement"
    )
    setting_required_label: str
    dependants: int = Field(
        description="How many dependants come with the person, children and adults alike (the "
        "request's or the safety profile's, whichever is more): the room must take them all, "
        "and an adult of the other sex rules out a single-sex house"
    )
    immediate_needs_details: str = Field(
        description="What the first responder wrote under immediate needs and safety at "
        "referral; empty if nothing was written"
    )


class PlacementDetailOut(PlacementOut):
    site: SiteWhereOut
    person: PersonOut
    safety: SafetyOut = Field(
        description="The person's safety, as the placement page shows it (the read is recorded)"
    )
    move_on_ends: date | None = Field(
        description="When move-on support ends, once a conclusive grounds decision set it; "
        "null for a person treated as a child (their support is the local authority's), and "
        "while a reconsideration of the negative conclusive grounds decision waits for its "
        "answer (support runs on whatever the date; a refused reconsideration brings it back)"
    )


class PlacementPageOut(Schema):
    items: list[PlacementOut]
    count: int


def _placement_fields(placement: Placement) -> dict[str, Any]:
    request = placement.request
    return {
        "id": placement.pk,
        "status": placement.status,
        "status_label": placement.get_status_display(),
        "request": placement.request_id,
        "case_reference": request.case.reference,
        "age_group": request.case.age_group,
        "urgency": request.urgency,
        "room": placement.bed.room.name,
        "bed": placement.bed_id,
        "bed_label": placement.bed.label,
        "why": placement.why,
        "proposed_at": placement.proposed_at,
        "reserved_at": placement.reserved_at,
        "responded_at": placement.responded_at,
        "decline_reason": placement.decline_reason or None,
        "arrived_on": placement.arrived_on,
        "ended_on": placement.ended_on,
        "exit_reason": placement.exit_reason or None,
    }


def placement_out(placement: Placement) -> PlacementOut:
    return PlacementOut(**_placement_fields(placement), site=site_ref_out(placement.bed.room.site))


def _placement_now(placement: Placement) -> PlacementOut:
    return placement_out(
        Placement.objects.select_related("request__case", "bed__room__site__provider").get(
            pk=placement.pk
        )
    )


@router.get(
    "/support/placements",
    url_name="support_placements",
    operation_id="support_placement_list",
    summary="Placements: offers, people expected, people living there",
    response={200: PlacementPageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def placement_list(
    request: HttpRequest,
    status: PlacementStatus | None = STATUS_FILTER,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> PlacementPageOut:
    """The placements the token's member may see, newest first: a safe-house manager's, those
    in their organisation's sites; a coordinator's, all. Never an address."""
    placements = selectors.placements_visible_to(actor_of(request))
    if status is not None:
        placements = placements.filter(status=status)
    return PlacementPageOut(
        items=[placement_out(p) for p in placements[page_slice(limit, offset)]],
        count=placements.count(),
    )


@router.get(
    "/support/placements/{placement_id}",
    url_name="support_placement",
    operation_id="support_placement_get",
    summary="One placement",
    response={200: PlacementDetailOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def placement_get(request: HttpRequest, placement_id: int) -> PlacementDetailOut:
    """The placement page: where (the site's address only for its staff and permitted
    coordinators, recorded each time), what the person needs, their safety as the page shows it
    (recorded each time), and each step so far. 404 alike for a placement that does not exist
    and one the token may not reach."""
    actor = actor_of(request)
    placement = _placement(actor, placement_id)
    case = placement.request.case
    return PlacementDetailOut(
        **_placement_fields(placement),
        site=SiteWhereOut(**_where_fields(actor, placement.bed.room.site)),
        person=PersonOut(
            age_group=case.age_group,
            sex=case.person.sex,
            languages=list(placement.request.languages),
            interpreter_needed=placement.request.interpreter_needed,
            dependants=placement.request.dependants,
            needs_wheelchair=placement.request.needs_wheelchair,
        ),
        safety=_safety_out(actor, placement),
        move_on_ends=selectors.adult_move_on_ends(case),
    )


def _safety_out(actor: Actor, placement: Placement) -> SafetyOut:
    """The person's safety as the placement page shows it, with the read recorded as the page
    records it: the profile's fields shown (not the exploiters, the places to keep away from
    nor the dependants' names) and what the first responder wrote."""
    case = placement.request.case
    # Only while the placement is live, as on its page.
    profile = safety.profile_of(case) if placement.status in HOLDS_BED else None
    details = selectors.referral_details(case)
    fields = [
        *(
            f"safety_{name}"
            for name in safety.fields_shown(profile, with_exploiters=False)
            if name not in ("keep_away", "dependant_names")
        ),
        *(["immediate_needs_details"] if details else []),
    ]
    if fields:
        audit_read(by=actor.user, person=case.person, obj=placement, fields=fields)
    setting = SettingRequired(profile.setting_required if profile else SettingRequired.NONE)
    return SafetyOut(
        risk_level=RiskLevel(profile.risk_level) if profile else None,
        risk_level_label=profile.get_risk_level_display() if profile else None,
        risk_reasons=profile.risk_reasons if profile else "",
        medical_needs=profile.medical_needs if profile else "",
        setting_required=setting,
        setting_required_label=setting.label,
        dependants=max(placement.request.dependants, profile.dependant_count if profile else 0),
        immediate_needs_details=details,
    )


# --- The coordinator: matching, proposals, placing by hand --------------------------------------


class UnmetOut(Schema):
    request: int
    case_reference: str
    constraint: str = Field(
        description="What ruled out every bed: setting, dependants, wheelchair, language, "
        "specialism, operation (kept for an operation the person was not found in), available, "
        "excluded_area, distance; taken (suitable beds all went to "
        "others) or no_beds"
    )
    constraint_label: str


class ProposalsOut(Schema):
    proposals: list[PlacementOut] = Field(description="Waiting for the coordinator to confirm")
    unmet: list[UnmetOut] = Field(description="Open requests matching could not place today")


def _proposals_out(actor: Actor) -> ProposalsOut:
    unmet: QuerySet[UnmetNeed] = selectors.unmet_today(actor, timezone.localdate())
    return ProposalsOut(
        proposals=[placement_out(p) for p in selectors.proposals(actor)],
        unmet=[
            UnmetOut(
                request=row.request_id,
                case_reference=row.request.case.reference,
                constraint=row.constraint,
                constraint_label=constraint_label(row.constraint),
            )
            # Never the reason's text: it is worded from the places to keep away from.
            for row in unmet.defer("reason")
        ],
    )


@router.get(
    "/support/proposals",
    url_name="support_proposals",
    operation_id="support_proposal_list",
    summary="Proposed places, and who could not be placed",
    response={200: ProposalsOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def proposal_list(request: HttpRequest) -> ProposalsOut:
    """The proposals of the last matching run that nobody has confirmed or turned down, each
    saying why this bed; and the open requests it could not place, with the constraint that
    ruled out every bed."""
    return _proposals_out(actor_of(request))


class MatchingOut(ProposalsOut):
    proposed: int
    unplaced: int
    held_for_review: int = Field(
        description="Open requests left out: their referral's details of immediate needs and "
        "safety are not yet turned into constraints"
    )


@router.post(
    "/support/matching",
    url_name="support_matching",
    operation_id="support_matching_run",
    summary="Run matching",
    response={200: MatchingOut, **AUTH_ERRORS, **WRITE_ERRORS, 409: ErrorsOut},
)
def matching_run(request: HttpRequest) -> Status[Any]:
    """Propose the best bed for every open request (the same optimiser as the page). Earlier
    proposals nobody confirmed are withdrawn first. A proposal holds nothing: confirm each at
    `POST /api/v1/support/proposals/{placement_id}/decision`."""
    actor = actor_of(request)
    try:
        outcome = services.matching_run(by=actor.user)
    except ValidationError as error:
        return refusal(error)
    proposals = _proposals_out(actor)
    return Status(
        200,
        MatchingOut(
            proposed=outcome.proposed,
            unplaced=outcome.unplaced,
            held_for_review=outcome.held_for_review,
            proposals=proposals.proposals,
            unmet=proposals.unmet,
        ),
    )


class ProposalDecisionIn(_In):
    confirm: bool = Field(
        description="true: reserve the bed and ask the provider; false: turn the proposal down "
        "(the person waits for the next run)"
    )


def _refused(error: ValidationError, fields: dict[str, str] | None = None) -> Status[ErrorsOut]:
    """A service's refusal: 409 when the bed is held by another placement, else as `refusal`."""
    if isinstance(error, services.BedTaken):
        return Status(409, error_out(" ".join(error.messages)))
    return refusal(error, fields)


@router.post(
    "/support/proposals/{placement_id}/decision",
    url_name="support_proposal_decision",
    operation_id="support_proposal_decide",
    summary="Confirm or turn down a proposal",
    response={200: PlacementOut, **AUTH_ERRORS, **WRITE_ERRORS, 409: ErrorsOut},
)
def proposal_decide(
    request: HttpRequest, placement_id: int, body: ProposalDecisionIn
) -> Status[Any]:
    """Confirming checks the bed again (free, in service, every requirement and safety
    condition met), reserves it and asks the provider to accept: the placement becomes
    `reserved`. 409 if another placement took the bed meanwhile; 422 if the proposal is no
    longer open or the bed may no longer take the person."""
    actor = actor_of(request)
    placement = _placement(actor, placement_id)
    try:
        if body.confirm:
            services.placement_confirm(by=actor.user, placement=placement)
        else:
            services.placement_reject(by=actor.user, placement=placement)
    except ValidationError as error:
        return _refused(error)
    return Status(200, _placement_now(placement))


class PlaceIn(_In):
    bed_id: int = Field(description="A free bed (`GET /api/v1/support/beds/free`)")


@router.post(
    "/support/requests/{placement_request_id}/placement",
    url_name="support_request_placement",
    operation_id="support_request_place",
    summary="Place by hand in a named bed",
    response={201: PlacementOut, **AUTH_ERRORS, **WRITE_ERRORS, 409: ErrorsOut},
)
def request_place(request: HttpRequest, placement_request_id: int, body: PlaceIn) -> Status[Any]:
    """Offer the person a named bed, through the same checks as matching: the bed must be free
    and in service, and meet every requirement and safety condition of the request. The bed is
    reserved and the provider asked to accept (201, the placement `reserved`). 409 if another
    placement holds the bed; 422, saying why, for any other refusal."""
    actor = actor_of(request)
    item: PlacementRequest = selectors.request_get_for_coordinator(actor, placement_request_id)
    bed = selectors.bed_get_for_placing(actor, body.bed_id)
    if bed is None:
        return Status(
            422, field_errors_out({"bed_id": ["No bed has this id: choose one of the free beds"]})
        )
    try:
        placement = services.placement_make(by=actor.user, request=item, bed=bed)
    except ValidationError as error:
        return _refused(error)
    return Status(201, _placement_now(placement))


# --- The provider: answer, arrival, exit --------------------------------------------------------


class ResponseIn(_In):
    accept: bool = Field(description="true: we take the person; false: we must decline")
    reason: DeclineReason | None = Field(
        None, description="Why not: required when declining (ignored when accepting)"
    )


def _form_refusal(form: Any, fields: dict[str, str]) -> Status[ErrorsOut]:
    return Status(422, field_errors_out(form.errors, fields))


@router.post(
    "/support/placements/{placement_id}/response",
    url_name="support_placement_response",
    operation_id="support_placement_respond",
    summary="Accept or decline a place offered",
    response={200: PlacementOut, **AUTH_ERRORS, **WRITE_ERRORS, 409: ErrorsOut},
)
def placement_respond(request: HttpRequest, placement_id: int, body: ResponseIn) -> Status[Any]:
    """The provider's safe-house manager answers an offer (a `reserved` placement): accepted, the
    person is expected; declined, with a reason, the bed is free again and the request goes
    back to the waiting list. 422 if the placement is not waiting for an answer."""
    actor = actor_of(request)
    placement = _placement_to_answer(actor, placement_id)
    form = RespondForm(
        {
            "answer": "accept" if body.accept else "decline",
            "reason": body.reason.value if body.reason else "",
        }
    )
    if not form.is_valid():
        return _form_refusal(form, {"answer": "accept"})
    try:
        services.placement_respond(
            by=actor.user,
            placement=placement,
            accept=body.accept,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        return _refused(error)
    return Status(200, _placement_now(placement))


class ArrivalIn(_In):
    arrived_on: date = Field(description="The day the person arrived: today or earlier")


@router.post(
    "/support/placements/{placement_id}/arrival",
    url_name="support_placement_arrival",
    operation_id="support_placement_arrive",
    summary="Record that the person has arrived",
    response={200: PlacementOut, **AUTH_ERRORS, **WRITE_ERRORS, 409: ErrorsOut},
)
def placement_arrive(request: HttpRequest, placement_id: int, body: ArrivalIn) -> Status[Any]:
    """The person has arrived at an `accepted` placement: it becomes `occupied`, the bed
    occupied and the request met. 422 for a day in the future or a placement not expecting
    anyone."""
    actor = actor_of(request)
    placement = _placement_to_answer(actor, placement_id)
    form = ArrivedForm(date_input("arrived_on", body.arrived_on))
    if not form.is_valid():
        return _form_refusal(form, {})
    try:
        services.placement_arrive(
            by=actor.user, placement=placement, on=form.cleaned_data["arrived_on"]
        )
    except ValidationError as error:
        return _refused(error, {"on": "arrived_on"})
    return Status(200, _placement_now(placement))


class ExitIn(_In):
    ended_on: date = Field(description="The day the person left: today or earlier")
    reason: ExitReason = Field(description="Why they left")


@router.post(
    "/support/placements/{placement_id}/exit",
    url_name="support_placement_exit",
    operation_id="support_placement_exit",
    summary="Record that the person has left",
    response={200: PlacementOut, **AUTH_ERRORS, **WRITE_ERRORS, 409: ErrorsOut},
)
def placement_exit(request: HttpRequest, placement_id: int, body: ExitIn) -> Status[Any]:
    """The person has left an `occupied` placement: the stay ends and the bed is free again.
    422 for a day in the future or before they arrived, or a placement nobody lives in."""
    actor = actor_of(request)
    placement = _placement_to_answer(actor, placement_id)
    form = EndForm({**date_input("ended_on", body.ended_on), "reason": body.reason.value})
    if not form.is_valid():
        return _form_refusal(form, {})
    try:
        services.placement_end(
            by=actor.user,
            placement=placement,
            on=form.cleaned_data["ended_on"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        return _refused(error, {"on": "ended_on"})
    return Status(200, _placement_now(placement))


# --- The directory, as HSDS ---------------------------------------------------------------------


class HsdsDocumentOut(Schema):
    """An Open Referral HSDS 3.0 document, with the 3.1 draft's `service_capacity` and
    redacted locations. Each object follows its HSDS schema."""

    hsds_version: str = Field(description="3.0")
    hsds_drafts_used: list[str] = Field(description="Parts of the HSDS 3.1 draft used")
    generated_at: str = Field(description="RFC 3339 date-time")
    organizations: list[dict[str, Any]] = Field(
        description="HSDS `organization`s: the support providers, each with its sites as "
        "`locations` of `location_type` 'redacted': never an address, postcode or coordinates"
    )
    services: list[dict[str, Any]] = Field(
        description="HSDS `service`s with `eligibility_description`, `minimum_age`, "
        "`maximum_age`, `languages`, `attributes` (OpenNRM taxonomies of sex and type of "
        "exploitation), `capacities` (HSDS 3.1 `service_capacity` in the unit 'Bed') and "
        "`service_at_locations` (each with its redacted location)"
    )


@directory_router.get(
    "/directory/hsds",
    url_name="directory_hsds",
    operation_id="directory_hsds",
    summary="The support directory as an HSDS document",
    response={200: HsdsDocumentOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def directory_hsds(request: HttpRequest) -> dict[str, Any]:
    """Every active support provider, service and site, as on the support directory page (which
    offers the same document as a download), with each service's beds free now. Sites are
    HSDS locations of type 'redacted': no address, postcode or coordinates, whoever asks."""
    return hsds.directory_export()
