"""Every write of accommodation: the directory (services, sites, rooms, beds), address
permissions, placement requests, matching, and each step of a placement.

No double booking, ever: every write that makes a placement hold a bed (offering it, placing
by hand) first locks the bed's row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite lets one
writer in at a time), checks that no placement holds it, and then writes; and the database's
partial unique constraint `one_live_placement_per_bed` refuses a second holder whatever happens.
Notifications never name the site or its address: only the provider and the region.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor, members_with_role
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.accounts.services import administers
from opennrm.audit.services import audit_record
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.selectors import adult_support_end, referrers_stand_in, referrers_to_tell
from opennrm.cases.services import case_event_record, support_running
from opennrm.lib.govuk_forms import StaleVersion
from opennrm.lib.text import single_line_problem
from opennrm.notifications.services import deliver
from opennrm.safeguarding.models import ChildrenServicesTask
from opennrm.safeguarding.services import (
    children_accommodation_redirect,
    children_accommodation_task_open,
)
from opennrm.safety.models import RiskLevel
from opennrm.safety.selectors import constraints_of, profile_of
from opennrm.safety.services import ProfileChange

from . import matching, selectors, surge
from .models import (
    ADDRESS_GRANT_DAYS,
    EMERGENCY_ADDRESS_GRANT_HOURS,
    AddressGrant,
    Bed,
    BedEvent,
    BedState,
    DeclineReason,
    ExitReason,
    ImmediateNeed,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    Room,
    Service,
    Setting,
    Site,
    SiteAges,
    SiteAssignment,
    SiteKind,
    UnmetNeed,
    Urgency,
)

# A read, kept importable from here, where it was first written (statistics.capacity reads it).
from .selectors import settings_for as settings_for

# --- People told ------------------------------------------------------------------------------


def members_in_roles(organisations: Sequence[int], roles: Iterable[Role]) -> list[User]:
    """The active members with these roles in these organisations, if active: who is told."""
    return [
        m.user
        for m in members_with_role(None, roles)
        .filter(organisation_id__in=organisations)
        .select_related("user")
    ]


def support_coordinators() -> list[User]:
    """Every active support coordinator: who is told of a placement, a missing person."""
    return [
        m.user
        for m in members_with_role(None, {Role.SUPPORT_COORDINATOR})
        .filter(organisation__kind=OrganisationKind.SUPPORT_PROVIDER)
        .select_related("user")
    ]


def _where(site: Site) -> str:
    """How a site is named to anyone told of a placement: provider and region, nothing more."""
    return f"{site.provider.name} in {site.get_region_display()}"


# --- The directory ----------------------------------------------------------------------------


def _check_manager(by: User, provider: Organisation) -> None:
    if provider.pk not in selectors.managed_provider_ids(Actor.of_session(by)):
        raise ValidationError("Only the provider's own safe-house managers can change its sites")


def _check_site_manager(by: User, site: Site) -> None:
    if site.pk not in selectors.assigned_site_ids(Actor.of_session(by)):
        raise ValidationError("Only the safe-house managers assigned to this site can change it")


def _check_location(location: Sequence[float] | None) -> list[float] | None:
    if location is None:
        return None
    latitude, longitude = (float(value) for value in location)
    if not (49.0 <= latitude <= 61.0 and -9.0 <= longitude <= 2.5):
        raise ValidationError({"location": "The location must be in the UK"})
    return [round(latitude, 5), round(longitude, 5)]


def _check_ages(ages: str) -> None:
    if ages not in SiteAges.values:
        raise ValidationError({"ages": "Select whether the site is for adults or for children"})


def _check_code_name(name: str) -> str:
    """The site's code name, stripped. It is in the subject of the e-mails of places offered
    and cancelled there, and a subject cannot hold a line break: one refused here."""
    name = name.strip()
    if problem := single_line_problem(name, "The code name"):
        raise ValidationError({"name": problem})
    return name


@transaction.atomic
def site_create(
    *,
    by: User,
    provider: Organisation,
    name: str,
    kind: str,
    region: str,
    area: str,
    setting: str,
    address: str,
    postcode: str = "",
    ages: str = SiteAges.ADULTS,
    location: Sequence[float] | None = None,
    staff_languages: Sequence[str] = (),
    specialisms: Sequence[str] = (),
    near_school: bool = False,
) -> Site:
    _check_manager(by, provider)
    _check_ages(ages)
    name = _check_code_name(name)
    if Site.objects.filter(provider=provider, name=name).exists():
        raise ValidationError({"name": "Your organisation already has a site with this name"})
    site = Site.objects.create(
        provider=provider,
        name=name,
        kind=kind,
        region=region,
        area=area.strip(),
        setting=setting,
        ages=ages,
        address=address.strip(),
        postcode=postcode.strip().upper(),
        location=_check_location(location),
        staff_languages=sorted(set(staff_languages)),
        specialisms=sorted(set(specialisms)),
        near_school=near_school,
    )
    # The manager who adds a site runs it; the provider's administrator assigns others.
    SiteAssignment.objects.create(
        membership=Membership.objects.get(
            user=by, organisation=provider, role=Role.SAFE_HOUSE_MANAGER
        ),
        site=site,
        assigned_by=by,
        assigned_at=timezone.now(),
    )
    # The event names the site by its code name only: never its address.
    audit_record(by=by, action="site.created", obj=site, organisation=provider)
    return site


# A site's details, as a message refusing a stale change names them.
SITE_FIELDS = {
    "name": "code name",
    "kind": "kind of site",
    "region": "region",
    "area": "local authority area",
    "setting": "who lives there",
    "ages": "who it is for",
    "address": "address",
    "postcode": "postcode",
    "location": "latitude and longitude",
    "staff_languages": "staff languages",
    "specialisms": "specialisms",
    "near_school": "near a school",
    "is_active": "whether it is open",
}


@transaction.atomic
def site_update(
    *, by: User, site: Site, expected_version: int | None = None, **changes: Any
) -> Site:
    """Change a site's details. `expected_version`: the version of the site the page showed
    (every change made from a page gives it). Someone else's change since then refuses the
    save: applying every field the page sent would put theirs back, such as the old address
    of a safe house that moved because it leaked. Left out only by a caller that sets one
    field on purpose rather than sending what a page showed."""
    _check_site_manager(by, site)
    locked = Site.objects.select_for_update().get(pk=site.pk)
    unknown = set(changes) - set(SITE_FIELDS)
    if unknown:
        raise ValueError(f"not fields of a site: {sorted(unknown)}")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(_site_changed_meanwhile(locked, changes), current=locked.version)
    if "location" in changes:
        changes["location"] = _check_location(changes["location"])
    if "ages" in changes:
        _check_ages(changes["ages"])
    if "name" in changes:
        changes["name"] = _check_code_name(changes["name"])
        clash = Site.objects.filter(provider=locked.provider, name=changes["name"])
        if clash.exclude(pk=locked.pk).exists():
            raise ValidationError({"name": "Your organisation already has a site with this name"})
    was = copy.copy(locked)  # the site as it stands, to compare each person's rules with
    changed = _apply_changes(locked, changes)
    if not changed:
        return locked
    if "kind" in changed and locked.kind == SiteKind.OUTREACH:
        _refuse_outreach_with_beds(locked)
    if "is_active" in changed and not locked.is_active:
        _refuse_closing_with_placements(locked)
    _refuse_new_breaks(was, locked)
    locked.version += 1
    locked.save(update_fields=[*changed, "version"])
    # The fields that changed, never their values (an address is a secret).
    audit_record(
        by=by,
        action="site.updated",
        obj=locked,
        organisation=locked.provider,
        detail={"fields": changed},
    )
    return locked


def _site_changed_meanwhile(site: Site, changes: dict[str, Any]) -> str:
    """Why a stale change of the site is refused, naming (never showing) the answers that
    differ from the site as it is now: saving again unchecked would put back what the other
    person changed among them."""

    def same(field: str, answer: Any) -> bool:
        now = getattr(site, field)
        if field in ("staff_languages", "specialisms"):  # sets, in whatever order given
            return sorted(now or []) == sorted(answer or [])
        return bool(now == answer)

    differ = [
        label
        for field, label in SITE_FIELDS.items()
        if field in changes and not same(field, changes[field])
    ]
    message = "Someone else changed this site while you were working on it. Your answers are "
    if not differ:
        return message + "still here: check them, then save again."
    named = differ[0] if len(differ) == 1 else f"{', '.join(differ[:-1])} and {differ[-1]}"
    return (
        f"{message}still here, but these differ from the site as it is now: {named}. Check "
        "them, then save again."
    )


def _refuse_new_breaks(was: Site, site: Site) -> None:
    """Refuse a change to a site that makes someone offered a place there, or living there,
    break a rule of matching they did not break before it. Only a new break is refused: a
    person may already break one for reasons the change has nothing to do with (an adult whose
    age is disputed afterwards stays in the adult house until children's services move them,
    ADR 0025; a place to keep away from learnt after they moved in, ADR 0026), and refusing
    then left the site's manager unable to change anything of it, not even its code name."""
    today = timezone.localdate()
    for held in (
        Placement.objects.holding_a_bed()
        .filter(bed__room__site=site)
        .select_related("request__case", "bed__room")
    ):
        wanted = selectors.matching_request(held.request, today)
        already = _rules_broken(wanted, held.bed, was, today)
        if _rules_broken(wanted, held.bed, site, today) - already:
            # Which rule is not said: it may be a safety condition, never shown to the house.
            raise ValidationError(
                "Someone offered a place here, or living here, could no longer be placed here "
                "after this change. Ask the coordinator to move them (or to cancel the offer) "
                "first."
            )


def _rules_broken(wanted: matching.Request, bed: Bed, site: Site, today: date) -> set[str]:
    """The codes of matching's rules the bed breaks for the request, with its site as `site`."""
    bed.room.site = site
    found = matching.failures(wanted, selectors.matching_bed(bed, today), today=today)
    return {code for code, _ in found}


def _refuse_outreach_with_beds(site: Site) -> None:
    """An outreach office has no beds: a site with beds in service does not become one. Its
    beds would be left where nothing counts or offers them, and anyone placed in one with them.
    A surge place whose surge has ended, and nobody lives in, is no longer a place."""
    today = timezone.localdate()
    lived_in = Placement.objects.holding_a_bed().filter(bed=OuterRef("pk"))
    in_service = (
        Bed.objects.filter(room__site=site, out_of_service_since=None)
        .filter(surge.in_surge_window(today) | Exists(lived_in))
        .count()
    )
    if in_service:
        beds = "1 bed" if in_service == 1 else f"{in_service} beds"
        them = "it" if in_service == 1 else "them"
        raise ValidationError(
            {
                "kind": f"This site has {beds} in service, and an outreach office has no beds. "
                f"Take {them} out of service first, or choose another kind of site"
            }
        )


def _refuse_closing_with_placements(site: Site) -> None:
    """A site is not closed while a placement holds a bed there (offered, accepted or lived
    in): every free-bed list, capacity figure and the HSDS export leave a closed site out, so
    the person would be offered, or live in, a bed nobody counts, and the coordinator would
    never hear that the offer died (found in review). The offers are cancelled, or the stays
    ended, first; `placement_respond` and `placement_arrive` refuse a closed site as well."""
    held = Placement.objects.holding_a_bed().filter(bed__room__site=site).count()
    if held:
        people = "1 person is" if held == 1 else f"{held} people are"
        raise ValidationError(
            {
                "is_active": f"{people} offered a place here or living here, and a closed site's "
                "beds are counted and offered by nobody. Ask the coordinator to cancel the "
                "offers, or end the stays, first"
            }
        )


def _apply_changes(row: Any, changes: dict[str, Any]) -> list[str]:
    """Set the changes on the row; return the names of the fields whose value changed."""
    changed = []
    for field, value in changes.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed.append(field)
    return sorted(changed)


@transaction.atomic
def room_create(
    *,
    by: User,
    site: Site,
    name: str,
    beds: int,
    takes_dependants: int = 0,
    wheelchair_accessible: bool = False,
) -> Room:
    """A room with `beds` beds in it (a family room: one bed that takes children). An outreach
    office has no beds, so no rooms."""
    _check_site_manager(by, site)
    # Locked as `site_update` locks it: a site becoming an outreach office meanwhile would
    # otherwise get the room after its check that it has no beds.
    site = Site.objects.select_for_update().get(pk=site.pk)
    if site.kind == SiteKind.OUTREACH:
        raise ValidationError(
            {"name": "This site is an outreach office: it has no rooms or beds to add"}
        )
    if not 1 <= beds <= 20:
        raise ValidationError({"beds": "A room has between 1 and 20 beds"})
    if Room.objects.filter(site=site, name=name.strip()).exists():
        raise ValidationError({"name": "This site already has a room with this name"})
    room = Room.objects.create(
        site=site,
        name=name.strip(),
        takes_dependants=takes_dependants,
        wheelchair_accessible=wheelchair_accessible,
    )
    now = timezone.now()
    made = Bed.objects.bulk_create(Bed(room=room, label=str(n)) for n in range(1, beds + 1))
    BedEvent.objects.bulk_create(
        BedEvent(bed=bed, at=now, state=BedState.AVAILABLE, by=by, note="Added") for bed in made
    )
    audit_record(
        by=by,
        action="room.created",
        obj=room,
        organisation=site.provider,
        detail={"beds": beds},
    )
    return room


@transaction.atomic
def bed_set_in_service(*, by: User, bed: Bed, in_service: bool, reason: str = "") -> Bed:
    """Take a bed out of service (repairs, a room kept empty for safety) or put it back."""
    locked = (
        Bed.objects.select_for_update(of=("self",))
        .select_related("room__site__provider")
        .get(pk=bed.pk)
    )
    _check_site_manager(by, locked.room.site)
    now = timezone.now()
    if in_service:
        if locked.out_of_service_since is None:
            raise ValidationError("This bed is already in service")
        # Locked as `site_update` locks it: an outreach office has no beds in service.
        if Site.objects.select_for_update().get(pk=locked.room.site_id).kind == SiteKind.OUTREACH:
            raise ValidationError(
                "This bed is at an outreach office, which has no beds in service: change the "
                "kind of site first if it takes people again"
            )
        # A held bed cannot be taken out of service, so one coming back is free.
        locked.out_of_service_since, locked.out_of_service_reason = None, ""
        state = BedState.AVAILABLE
    else:
        if locked.out_of_service_since is not None:
            raise ValidationError("This bed is already out of service")
        if Placement.objects.holding_a_bed().filter(bed=locked).exists():
            raise ValidationError(
                "Someone is placed in this bed or it is offered to someone: end or cancel that "
                "placement first"
            )
        if not reason.strip():
            raise ValidationError({"reason": "Enter why the bed is out of service"})
        locked.out_of_service_since, locked.out_of_service_reason = now, reason.strip()[:200]
        state = BedState.OUT_OF_SERVICE
    locked.save(update_fields=["out_of_service_since", "out_of_service_reason"])
    BedEvent.objects.create(bed=locked, at=now, state=state, by=by, note=reason.strip()[:200])
    audit_record(
        by=by,
        action="bed.in_service" if in_service else "bed.out_of_service",
        obj=locked,
        organisation=locked.room.site.provider,
    )
    return locked


@transaction.atomic
def service_create(
    *,
    by: User,
    provider: Organisation,
    name: str,
    description: str = "",
    eligible_sexes: Sequence[str] = (),
    minimum_age: int | None = None,
    maximum_age: int | None = None,
    exploitation_types: Sequence[str] = (),
    languages: Sequence[str] = (),
    accessibility: str = "",
) -> Service:
    _check_manager(by, provider)
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        raise ValidationError({"maximum_age": "The oldest age must not be below the youngest"})
    service = Service.objects.create(
        provider=provider,
        name=name.strip(),
        description=description.strip(),
        eligible_sexes=list(eligible_sexes),
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        exploitation_types=list(exploitation_types),
        languages=list(languages),
        accessibility=accessibility.strip(),
    )
    audit_record(by=by, action="service.created", obj=service, organisation=provider)
    return service


SERVICE_FIELDS = {
    "name",
    "description",
    "eligible_sexes",
    "minimum_age",
    "maximum_age",
    "exploitation_types",
    "languages",
    "accessibility",
    "is_active",
}


@transaction.atomic
def service_update(*, by: User, service: Service, **changes: Any) -> Service:
    _check_manager(by, service.provider)
    unknown = set(changes) - SERVICE_FIELDS
    if unknown:
        raise ValueError(f"not fields of a service: {sorted(unknown)}")
    locked = Service.objects.select_for_update().get(pk=service.pk)
    youngest = changes.get("minimum_age", locked.minimum_age)
    oldest = changes.get("maximum_age", locked.maximum_age)
    if youngest is not None and oldest is not None and youngest > oldest:
        raise ValidationError({"maximum_age": "The oldest age must not be below the youngest"})
    changed = _apply_changes(
        locked, {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    )
    if not changed:
        return locked
    locked.save(update_fields=changed)
    audit_record(
        by=by,
        action="service.updated",
        obj=locked,
        organisation=locked.provider,
        detail={"fields": changed},
    )
    return locked


def site_address_shown(*, by: User, site: Site) -> None:
    """Record that `by` is being shown a safe house's address, before it is shown: on a page,
    in a form to change it, or through the API. Whoever may see it is decided by
    `selectors.may_see_address`; this only leaves the trace."""
    audit_record(by=by, action="site.address_viewed", obj=site, organisation=site.provider)


# --- Address grants and site assignments ------------------------------------------------------


@transaction.atomic
def address_grant_request(*, by: User, site: Site, reason: str, emergency: bool) -> AddressGrant:
    """A support coordinator asks to see one site's address, saying why. Nothing is shown until
    the site's provider (or, in an emergency, a competent authority) approves."""
    membership = (
        members_with_role(None, {Role.SUPPORT_COORDINATOR}).filter(user=by).order_by("pk").first()
    )
    if membership is None:
        raise ValidationError("Only a support coordinator can ask to see a safe house's address")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why you need this address"})
    if len(reason) > 500:
        raise ValidationError({"reason": "The reason must be 500 characters or fewer"})
    if (
        AddressGrant.objects.filter(membership=membership, site=site, revoked_at=None)
        .filter(Q(approved=None) | Q(approved=True, expires_at__gt=timezone.now()))
        .exists()
    ):
        raise ValidationError({"site": f"You have already asked to see {site.name}'s address"})
    grant = AddressGrant.objects.create(
        membership=membership,
        site=site,
        reason=reason,
        emergency=emergency,
        requested_at=timezone.now(),
    )
    # The event names the site by its code name only; the reason is not copied into it.
    audit_record(
        by=by,
        action="address_grant.requested",
        obj=site,
        organisation=site.provider,
        detail={"grant": grant.pk, "emergency": emergency},
    )
    return grant


@transaction.atomic
def address_grant_decide(*, by: User, grant: AddressGrant, approve: bool) -> AddressGrant:
    """Approve or refuse a request: an administrator of the site's provider, or for an emergency
    request a competent authority's senior decision maker. Never the coordinator who asked; a
    system administrator's role alone decides nothing. An approval lasts ADDRESS_GRANT_DAYS
    (an emergency one EMERGENCY_ADDRESS_GRANT_HOURS)."""
    locked = (
        AddressGrant.objects.select_for_update().select_related("site__provider").get(pk=grant.pk)
    )
    if locked.approved is not None or locked.revoked_at is not None:
        raise ValidationError("This request has already been decided")
    if locked.membership.user_id == by.pk:
        raise ValidationError("You cannot decide your own request to see an address")
    provider = locked.site.provider
    may_decide = administers(by, provider) or (
        locked.emergency and Role.SENIOR_DECISION_MAKER in Actor.of_session(by).roles
    )
    if not may_decide:
        raise ValidationError(
            f"Only an administrator of {provider.name} can decide this request"
            + (", or a competent authority's senior decision maker" if locked.emergency else "")
        )
    now = timezone.now()
    locked.approved = approve
    locked.decided_by = by
    locked.decided_at = now
    if approve:
        locked.expires_at = now + (
            timedelta(hours=EMERGENCY_ADDRESS_GRANT_HOURS)
            if locked.emergency
            else timedelta(days=ADDRESS_GRANT_DAYS)
        )
    locked.save(update_fields=["approved", "decided_by", "decided_at", "expires_at"])
    audit_record(
        by=by,
        action="address_grant.approved" if approve else "address_grant.refused",
        obj=locked.site,
        organisation=provider,
        detail={
            "grant": locked.pk,
            "coordinator": locked.membership.user.email,
            "emergency": locked.emergency,
        },
    )
    return locked


@transaction.atomic
def address_grant_revoke(*, by: User, grant: AddressGrant) -> None:
    """Withdraw a grant (or a request): the coordinator who holds it, or an administrator of the
    site's provider."""
    locked = (
        AddressGrant.objects.select_for_update().select_related("site__provider").get(pk=grant.pk)
    )
    if locked.revoked_at is not None or locked.approved is False:
        raise ValidationError("This permission has already ended")
    if locked.membership.user_id != by.pk and not administers(by, locked.site.provider):
        raise ValidationError(
            f"Only an administrator of {locked.site.provider.name} can withdraw this"
        )
    locked.revoked_at = timezone.now()
    locked.revoked_by = by
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        by=by,
        action="address_grant.revoked",
        obj=locked.site,
        organisation=locked.site.provider,
        detail={"grant": locked.pk, "coordinator": locked.membership.user.email},
    )


def _address_grants_ended(by: User, membership: Membership) -> dict[str, int]:
    """Registered with `accounts.services.MEMBERSHIP_CHANGED` (`accommodation.apps`): when a
    membership is taken away or changed from the coordinator role, the grants and requests still
    open on it are withdrawn, by whoever made the change. Otherwise giving the access or the role
    back would bring them back without the site's provider deciding anything (ADR 18)."""
    if membership.is_active and membership.role == Role.SUPPORT_COORDINATOR:
        return {}
    now = timezone.now()
    ended = (
        AddressGrant.objects.filter(membership=membership, revoked_at=None)
        .filter(Q(approved=None) | Q(approved=True, expires_at__gt=now))
        .update(revoked_at=now, revoked_by=by)
    )
    return {"address_grants_ended": ended}


def _site_assignments_ended(by: User, membership: Membership) -> dict[str, int]:
    """Registered with `accounts.services.MEMBERSHIP_CHANGED` (`accommodation.apps`): when a
    membership is taken away or changed from the safe-house manager role, its site assignments
    are deleted (as `site_assignment_set` deletes one; the membership's audit event counts
    them). Otherwise giving the access or the role back would show those sites' addresses again
    without the site's provider deciding anything (ADR 18; threat model row 11)."""
    if membership.is_active and membership.role == Role.SAFE_HOUSE_MANAGER:
        return {}
    ended, _by_model = SiteAssignment.objects.filter(membership=membership).delete()
    return {"site_assignments_ended": ended}


@transaction.atomic
def site_assignment_set(*, by: User, membership: Membership, site: Site, assigned: bool) -> None:
    """Assign a safe-house manager to one of their provider's sites, or take them off it: an
    administrator of that provider only, and never to themselves (an assignment shows the
    site's address, so another administrator decides it, as for address grants). Taking
    oneself off a site needs nobody else."""
    if membership.role != Role.SAFE_HOUSE_MANAGER or membership.organisation_id != site.provider_id:
        raise ValidationError("Choose a safe-house manager of the site's own provider")
    if not administers(by, site.provider):
        raise ValidationError(f"Only an administrator of {site.provider.name} can assign managers")
    if assigned and membership.user_id == by.pk:
        raise ValidationError(
            f"You cannot assign yourself to {site.name}: another administrator of "
            f"{site.provider.name} must assign you"
        )
    existing = SiteAssignment.objects.filter(membership=membership, site=site)
    if assigned:
        if existing.exists():
            raise ValidationError(f"{membership.user.full_name} is already assigned to {site.name}")
        SiteAssignment.objects.create(
            membership=membership, site=site, assigned_by=by, assigned_at=timezone.now()
        )
    else:
        if not existing.exists():
            raise ValidationError(f"{membership.user.full_name} is not assigned to {site.name}")
        existing.delete()
    audit_record(
        by=by,
        action="site.manager_assigned" if assigned else "site.manager_unassigned",
        obj=site,
        organisation=site.provider,
        detail={"manager": membership.user.email},
    )


# --- Placement requests -----------------------------------------------------------------------


def request_defaults(case: Case) -> dict[str, Any]:
    """The hard constraints a request starts with, from what the referral says of the person."""
    person = case.person
    defaults: dict[str, Any] = {
        "accepted_settings": settings_for(person.sex, person.gender),
        "languages": list(person.languages),
        "interpreter_needed": person.interpreter_needed,
    }
    # What the case's safety profile says, prefilled for the coordinator to adjust; matching
    # applies it whatever the request says (`selectors.matching_request`; ADR 0026).
    carried = constraints_of(case)
    if carried is not None:
        if carried.settings is not None:
            defaults["accepted_settings"] = [
                s for s in defaults["accepted_settings"] if s in carried.settings
            ] or carried.settings
        defaults["excluded_areas"] = carried.excluded_areas
        defaults["dependants"] = carried.dependants
    return defaults


def _need_labels(needs: Sequence[str]) -> list[str]:
    return [ImmediateNeed(n).label if n in ImmediateNeed.values else n for n in needs]


def _at_high_risk(case: Case) -> bool:
    """Whether the case's safety profile records a high or very high risk to the person."""
    profile = profile_of(case)
    return profile is not None and profile.risk_level in (RiskLevel.HIGH, RiskLevel.VERY_HIGH)


def placement_request_for_referral(
    *, case: Case, needs: Sequence[str], at: datetime, operation_id: int | None = None
) -> PlacementRequest | ChildrenServicesTask | None:
    """The request a referral's immediate needs raise (called inside the referral's service,
    whose audit event covers it, after the safety profile is written). A bed tonight, a risk to
    safety ticked, or a high or very high risk recorded on the "Risk and safety" page is an
    emergency, needed today: read from the needs' tick boxes alone, a woman whose controller
    waited outside the station waited behind people at no risk (found in review).

    None for an adult who did not consent to support (Convention art. 12(7): assistance only
    on a consensual, informed basis; nor is a support plan kept, `care.selectors.
    consent_problem`): her needs, notes and safety profile are not put before support providers
    she said no to, nor a bed matched for her (found in review). A child, or a person whose age
    is disputed and so treated as a child, needs no consent.

    A child's, or an age-disputed person's, needs never become a request for adult matching:
    they go to the local authority of their area as a children's services task (ADR 25).
    `operation_id`: the enforcement operation the person was found in, whose surge places and
    held beds they may then take (ADR 0044)."""
    if not case.is_child and case.consent_to_support is not True:
        return None
    urgent = (
        ImmediateNeed.BED_TONIGHT in needs
        or ImmediateNeed.SAFETY_RISK in needs
        or _at_high_risk(case)
    )
    day = timezone.localdate(at)
    if case.is_child:
        task, _ = children_accommodation_task_open(
            case=case,
            needs=_need_labels(needs),
            due_on=day if urgent else day + timedelta(days=1),
            by=case.referred_by,
            at=at,
        )
        return task
    return PlacementRequest.objects.create(
        case=case,
        needs=list(needs),
        urgency=Urgency.EMERGENCY if urgent else Urgency.URGENT,
        needed_from=day if urgent else day + timedelta(days=3),
        details_to_review=bool(selectors.referral_details(case)),
        operation_id=operation_id,
        **request_defaults(case),
    )


def _check_needed_from(case: Case, needed_from: date) -> None:
    """A place is never needed from before the person was referred (the local date of the
    case's `submitted_at`): a mistyped year (1 January 1901) made a request that read as
    overdue by a century, first on the waiting list, and wrong in the figures of waiting."""
    referred_on = timezone.localdate(case.submitted_at)
    if needed_from < referred_on:
        raise ValidationError(
            {
                "needed_from": "The date the place is needed from cannot be before the "
                f"referral ({referred_on:%-d %B %Y})"
            }
        )


@transaction.atomic
def placement_request_raise(
    *,
    by: User,
    case: Case,
    urgency: str,
    needed_from: date,
    needs: Sequence[str] = (),
    operation_id: int | None = None,
) -> PlacementRequest | ChildrenServicesTask:
    """A coordinator raises a request for someone already referred. For a child, or a person
    whose age is disputed, no request is made: their need goes to the local authority as a
    children's services task instead (returned), with the guardian service told (ADR 25).
    `operation_id`: the enforcement operation the person was found in; by default the one their
    referral came from (`selectors.operation_of`), as a request the referral raises carries it
    (ADR 44)."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can raise a placement request")
    if hasattr(case.person, "erasure"):
        raise ValidationError("This person's details have been erased")
    _check_needed_from(case, needed_from)
    if case.is_child:
        return children_accommodation_redirect(
            by=by,
            case=case,
            needs=_need_labels(needs),
            due_on=timezone.localdate() if urgency == Urgency.EMERGENCY else needed_from,
        )
    if case.status == CaseStatus.CLOSED:
        # Nobody acts on a closed case any more, and it cannot be reopened (a child's need is
        # refused so by `children_accommodation_task_open`, naming the council to contact).
        raise ValidationError(
            {
                "case": f"Case {case.reference} is closed, so no place can be sought through "
                "it. If the person needs support again, refer them again: that opens a new case"
            }
        )
    if case.consent_to_support is False:
        # An adult who said no to support at referral (Convention art. 12(7)). Not one never
        # asked (None): a person referred as a child or age disputed, found to be an adult,
        # whom children's services no longer house and coordinators are asked to find a place
        # for (`safeguarding.services`; ADR 25); OpenNRM cannot yet record consent given later.
        raise ValidationError(
            {
                "case": "No place can be sought for this person: they are an adult, and at "
                "referral they did not consent to support. Support is given only with an "
                "adult's informed consent. If they now consent, ask the first responder who "
                "referred them to record it"
            }
        )
    if PlacementRequest.objects.filter(case=case, status=PlacementRequestStatus.OPEN).exists():
        raise ValidationError({"case": "This case already has a request waiting for a place"})
    request = PlacementRequest.objects.create(
        case=case,
        needs=list(needs),
        urgency=urgency,
        needed_from=needed_from,
        raised_by=by,
        details_to_review=bool(selectors.referral_details(case)),
        operation_id=operation_id if operation_id is not None else selectors.operation_of(case),
        **request_defaults(case),
    )
    case_event_record(
        case=case,
        kind="support.placement_requested",
        description="Placement request raised by a coordinator",
        by=by,
    )
    audit_record(by=by, action="placement_request.raised", obj=request)
    return request


CONSTRAINT_FIELDS = (
    "urgency",
    "needed_from",
    "accepted_settings",
    "dependants",
    "needs_wheelchair",
    "languages",
    "interpreter_needed",
    "required_specialisms",
    "keep_away",
    "excluded_areas",
    "preferred_regions",
    "near_school",
    "wanted_specialisms",
)


@transaction.atomic
def placement_request_update(
    *,
    by: User,
    request: PlacementRequest,
    expected_version: int,
    details_reviewed: bool = False,
    **changes: Any,
) -> PlacementRequest:
    """A coordinator sets the request's needs, safety constraints and preferences.

    `details_reviewed`: the coordinator has read what the first responder wrote under
    immediate needs and turned it into these constraints; until then the request is neither
    matched nor placed."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can change a placement request")
    unknown = set(changes) - set(CONSTRAINT_FIELDS)
    if unknown:
        raise ValueError(f"not constraints of a request: {sorted(unknown)}")
    if not changes.get("accepted_settings", ["x"]):
        raise ValidationError({"accepted_settings": "Select at least one kind of setting"})
    locked = PlacementRequest.objects.select_for_update().get(pk=request.pk)
    if locked.version != expected_version:
        raise StaleVersion(
            "Someone else changed this request while you were working on it. Your answers are "
            "still here: check the request, then save again.",
            current=locked.version,
        )
    if locked.status != PlacementRequestStatus.OPEN:
        raise ValidationError("This request is closed: it can no longer be changed")
    if "needed_from" in changes:
        _check_needed_from(locked.case, changes["needed_from"])
    if "accepted_settings" in changes:
        _check_settings_allowed(locked.case, changes["accepted_settings"])
    for field, value in changes.items():
        setattr(locked, field, value)
    _check_matchable(locked)
    _check_held_bed_still_allowed(locked)
    locked.version += 1
    saved = [*changes, "version"]
    detail: dict[str, Any] = {"fields": sorted(changes)}
    if details_reviewed and locked.details_to_review:
        locked.details_to_review = False
        locked.details_reviewed_at, locked.details_reviewed_by = timezone.now(), by
        saved += ["details_to_review", "details_reviewed_at", "details_reviewed_by"]
        detail["details_reviewed"] = True
    locked.save(update_fields=saved)
    # Names the fields changed, never their values (places to keep away from are sensitive).
    audit_record(by=by, action="placement_request.updated", obj=locked, detail=detail)
    return locked


def _check_settings_allowed(case: Case, settings: Sequence[str]) -> None:
    """A coordinator narrows the settings the person may be placed in (`selectors.
    settings_allowed`: from their sex and gender, and their safety profile), never widens them:
    a woman ticked into "Men only" was offered, and could be placed in, a men-only safe house
    (found in review). Matching reads a request saved before this without them."""
    allowed = selectors.settings_allowed(case)
    wider = [s for s in settings if s not in allowed]
    if wider:

        def named(settings: Sequence[str]) -> str:
            return " or ".join(
                Setting(s).label.lower() if s in Setting.values else s for s in settings
            )

        raise ValidationError(
            {
                "accepted_settings": f"This person cannot be placed in a {named(wider)} house: "
                "from their recorded sex and gender (and their safety profile) they may be "
                f"placed only in a {named(allowed)} one. Uncheck it"
            }
        )


# Where a refusal of matching's own checks points in the constraints form.
_MATCHING_FIELDS = (
    ("distance to keep away", "keep_away_km_1"),
    ("place to keep away", "keep_away_place_1"),
    ("keep_away", "keep_away_place_1"),
    ("area", "excluded_area_names"),
    ("accepted setting", "accepted_settings"),
    ("dependants", "dependants"),
    ("needed_from", "needed_from"),
)


def _check_matchable(request: PlacementRequest) -> None:
    """The request as matching will read it: a value matching cannot use (a place with no
    position, an infinite distance, a blank area) is refused now, naming the field, rather
    than failing later inside a matching run."""
    try:
        selectors.matching_request(request, timezone.localdate())
    except (ValueError, TypeError, KeyError) as problem:
        message = str(problem)
        field = next((f for word, f in _MATCHING_FIELDS if word in message), None)
        text = f"This cannot be matched: {message}"
        raise ValidationError({field: text} if field else text) from None


def _check_held_bed_still_allowed(request: PlacementRequest) -> None:
    """A place already offered (or accepted) must still meet the request as now set: a new
    safety condition cannot be added under a bed that breaks it."""
    held = (
        Placement.objects.holding_a_bed()
        .filter(request=request)
        .select_related("bed__room__site")
        .first()
    )
    if held is None:
        return
    today = timezone.localdate()
    reasons = matching.check(
        selectors.matching_request(request, today),
        selectors.matching_bed(held.bed, today),
        today=today,
    )
    if reasons:
        raise ValidationError(
            "The place already offered would break these needs or safety conditions. Cancel "
            "the offer first, then change the request and find another place."
        )


def _held_places_still_allowed(case: Case) -> None:
    """A change to the case's safety profile (a place to keep away from, a women-only need, a
    dependant) that a place already offered or accepted would break is refused: registered
    with `safety.services.PROFILE_CHANGE_CHECKS` (`accommodation.apps`), run inside its
    service, after the change and before its event."""
    for request in PlacementRequest.objects.filter(case=case, status=PlacementRequestStatus.OPEN):
        try:
            _check_held_bed_still_allowed(request)
        except ValidationError:
            raise ValidationError(
                "A place already offered to this person would break this change. Ask a "
                "support coordinator to cancel the offer first, then save again."
            ) from None


def _site_managers(site: Site) -> list[User]:
    """The safe-house managers assigned to the site (of its own provider); if none is, the
    provider's safe-house managers, so that someone who runs the house is told."""
    assigned = [
        m.user
        for m in members_with_role(site.provider_id, {Role.SAFE_HOUSE_MANAGER})
        .filter(site_assignments__site=site)
        .select_related("user")
    ]
    return assigned or members_in_roles([site.provider_id], {Role.SAFE_HOUSE_MANAGER})


def _lived_in_places_told(change: ProfileChange, told: set[int]) -> dict[str, int]:
    """The house the person lives in hears of a change to their safety profile that bears on
    keeping them safe there; how many were told. Registered with
    `safety.services.PROFILE_CHANGE_TELLERS`; `told` holds who was already told of this change,
    and gains those told here.

    - A change that the place breaks (a place to keep away from learnt after they moved in) is
      kept, not refused: the fact must be recorded. The provider's safe-house managers and the
      support coordinators are told at once and the timeline says so.
    - A risk that rose, or whose reasons changed, is told to the safe-house managers assigned to
      the site and the provider's support coordinators, and the timeline says so; so is a house
      holding a place offered to or accepted for them (`_held_places_told_of_risk`).

    One message per person for one change; it names neither a place nor anyone who exploited
    them, and links to the placement page, where those allowed read the risk and its reasons
    (ADR 26)."""
    case = change.case
    today = timezone.localdate()
    lived_in = Placement.objects.filter(
        request__case=case, status=PlacementStatus.OCCUPIED
    ).select_related("request", "bed__room__site__provider")
    count = 0
    for placement in lived_in:
        broken = selectors.safety_conditions_broken(placement, today)
        if not broken and not change.risk_news:
            continue
        site = placement.bed.room.site
        # The support coordinators are told nationally (any of them may find another place),
        # and first, so that the provider's own coordinators hear it as coordinators; the
        # provider's staff are told as its staff, so that the news is e-mailed to them only
        # while they still work there (ADR 0008).
        coordinators = support_coordinators() if broken else []
        staff: list[User] = []
        if broken:
            staff += members_in_roles([site.provider_id], {Role.SAFE_HOUSE_MANAGER})
        if change.risk_news:
            staff += _site_managers(site)
            staff += members_in_roles([site.provider_id], {Role.SUPPORT_COORDINATOR})
        level = RiskLevel(change.risk_level).label.lower()
        risk = (
            f"The risk recorded for them is now {level}."
            if change.risk_raised
            else "The reasons given for the risk to them have changed."
        )
        if broken:
            kind = "placement.safety_broken"
            subject = f"Case {case.reference}: where they live no longer meets a safety condition"
            body = (
                "A safety condition recorded for this person is not met by the place they live "
                "in now."
                + (f" {risk}" if change.risk_news else "")
                + " Open the placement today: they may need to move."
            )
            description = (
                "The place lived in no longer meets a safety condition: its provider and the "
                "support coordinators were told"
            )
        else:
            kind = "placement.risk_changed"
            subject = (
                f"Case {case.reference}: the risk to the person you house is now {level}"
                if change.risk_raised
                else f"Case {case.reference}: the reasons for the risk to them have changed"
            )
            body = f"{risk} Open the placement today to read why, and keep them safe."
            description = (
                "The risk recorded changed: the house lived in and its provider's support "
                "coordinators were told"
            )
        audiences: list[tuple[list[User], Organisation | None]] = [
            (coordinators, None),
            (staff, site.provider),
        ]
        for recipients, organisation in audiences:
            sent = deliver(
                recipients=[user for user in recipients if user.pk not in told],
                kind=kind,
                case=case,
                url=reverse("support:placement", args=[placement.pk]),
                subject=subject,
                body=body,
                organisation=organisation,
            )
            told.update(notification.recipient_id for notification in sent)
            count += len(sent)
        case_event_record(
            case=case,
            kind="support.place_breaks_safety" if broken else "support.house_told_of_risk",
            description=description,
            by=None,
        )
    if change.risk_news:
        count += _held_places_told_of_risk(change, told)
    return {"house": count}


def _held_places_told_of_risk(change: ProfileChange, told: set[int]) -> int:
    """A house holding a place offered to or accepted for the person, who has not arrived,
    hears of a risk that rose or whose reasons changed as the house they live in does: the
    safe-house managers assigned to the site (the provider's, if none is) and the provider's
    support coordinators, one message each, naming neither a place nor anyone who exploited
    them, linking to the placement page; the timeline says so. A change the place would break
    is refused before this (`_held_places_still_allowed`); how many were told."""
    case = change.case
    held = Placement.objects.filter(
        request__case=case, status__in=[PlacementStatus.RESERVED, PlacementStatus.ACCEPTED]
    ).select_related("bed__room__site__provider")
    level = RiskLevel(change.risk_level).label.lower()
    count = 0
    for placement in held:
        site = placement.bed.room.site
        recipients = _site_managers(site)
        recipients += members_in_roles([site.provider_id], {Role.SUPPORT_COORDINATOR})
        risk = (
            f"The risk recorded for them is now {level}."
            if change.risk_raised
            else "The reasons given for the risk to them have changed."
        )
        sent = deliver(
            recipients=[user for user in recipients if user.pk not in told],
            kind="placement.risk_changed",
            case=case,
            url=reverse("support:placement", args=[placement.pk]),
            subject=(
                f"Case {case.reference}: the risk to the person you are to house is now {level}"
                if change.risk_raised
                else f"Case {case.reference}: the reasons for the risk to them have changed"
            ),
            body=f"{risk} Open the placement today to read why, and keep them safe when they "
            "arrive.",
            # Told as the provider's staff: e-mailed only while they still work there.
            organisation=site.provider,
        )
        told.update(notification.recipient_id for notification in sent)
        count += len(sent)
        case_event_record(
            case=case,
            kind="support.house_told_of_risk",
            description=(
                "The risk recorded changed: the house holding a place for them and its "
                "provider's support coordinators were told"
            ),
            by=None,
        )
    return count


def adult_places_withdrawn(*, case: Case, by: User) -> dict[str, int]:
    """A person referred as an adult is now treated as a child (their age disputed, ADR 0025).
    Every place offered and not yet lived in is cancelled and its bed freed, every open request
    withdrawn (a child's place is for children's services to arrange), and the provider of an
    adult house the person lives in, and the support coordinators, are told at once. Called
    inside `safeguarding.services.age_dispute_raise` (registered there by `accommodation.apps`),
    whose audit event holds the counts returned."""
    requests = list(
        PlacementRequest.objects.select_for_update().filter(
            case=case, status=PlacementRequestStatus.OPEN
        )
    )
    offers = list(
        Placement.objects.select_for_update(of=("self",))
        .filter(
            request__case=case,
            status__in=[
                PlacementStatus.PROPOSED,
                PlacementStatus.RESERVED,
                PlacementStatus.ACCEPTED,
            ],
        )
        .select_related("bed__room__site__provider")
    )
    for placement in offers:
        held = placement.status != PlacementStatus.PROPOSED
        placement.status = PlacementStatus.CANCELLED
        placement.save(update_fields=["status"])
        if held:
            _release(placement, by, "Cancelled: the person's age is disputed")
            deliver(
                recipients=members_in_roles(
                    [placement.bed.room.site.provider_id], {Role.SAFE_HOUSE_MANAGER}
                ),
                kind="placement.cancelled",
                case=None,
                url=reverse("support:placement", args=[placement.pk]),
                subject=f"The place for case {case.reference} is cancelled",
                body="The person's age is disputed: they are treated as a child, and a house "
                "for adults cannot take them. Do not expect them.",
                organisation=placement.bed.room.site.provider,
            )
    now = timezone.now()
    for request in requests:
        request.status, request.closed_at = PlacementRequestStatus.WITHDRAWN, now
        request.save(update_fields=["status", "closed_at"])
    lived_in = list(
        Placement.objects.filter(
            request__case=case,
            status=PlacementStatus.OCCUPIED,
            bed__room__site__ages=SiteAges.ADULTS,
        ).select_related("bed__room__site__provider")
    )
    for placement in lived_in:
        provider = placement.bed.room.site.provider
        coordinators = support_coordinators()
        # The coordinators nationally; the house's managers as its provider's staff (e-mailed
        # only while they still work there), those told already as coordinators left out.
        audiences: list[tuple[list[User], Organisation | None]] = [
            (coordinators, None),
            (
                [
                    user
                    for user in members_in_roles([provider.pk], {Role.SAFE_HOUSE_MANAGER})
                    if user not in coordinators
                ],
                provider,
            ),
        ]
        for recipients, organisation in audiences:
            deliver(
                recipients=recipients,
                kind="placement.child_in_adult_house",
                case=case,
                # The placement page: managers and coordinators cannot open the case page.
                url=reverse("support:placement", args=[placement.pk]),
                subject=f"Case {case.reference}: now treated as a child, living in a house for "
                "adults",
                body="The person's age is disputed: they are treated as a child until assessed, "
                "and children's services are arranging a place. Read the case today.",
                organisation=organisation,
            )
    if offers or requests or lived_in:
        case_event_record(
            case=case,
            kind="support.adult_places_withdrawn",
            description="Age disputed: adult places offered cancelled, requests withdrawn"
            + (", the adult house they live in told" if lived_in else ""),
            by=by,
        )
    return {
        "offers_cancelled": len(offers),
        "requests_withdrawn": len(requests),
        "adult_houses_lived_in": len(lived_in),
    }


@transaction.atomic
def placement_request_close(
    *, by: User, request: PlacementRequest, status: PlacementRequestStatus, reason: str = ""
) -> PlacementRequest:
    """Close a request without a place: withdrawn (no longer needed), or unmet."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can close a placement request")
    if status not in (PlacementRequestStatus.WITHDRAWN, PlacementRequestStatus.UNMET):
        raise ValueError("a request is closed as withdrawn or unmet")
    locked = PlacementRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != PlacementRequestStatus.OPEN:
        raise ValidationError("This request is already closed")
    if Placement.objects.holding_a_bed().filter(request=locked).exists():
        raise ValidationError("A place is offered or taken for this request: cancel it first")
    Placement.objects.filter(request=locked, status=PlacementStatus.PROPOSED).update(
        status=PlacementStatus.CANCELLED
    )
    now = timezone.now()
    locked.status, locked.closed_at = status, now
    locked.save(update_fields=["status", "closed_at"])
    if status == PlacementRequestStatus.UNMET:
        UnmetNeed.objects.update_or_create(
            request=locked,
            on=timezone.localdate(now),
            defaults={
                "constraint": "closed",
                "reason": reason.strip() or "Closed by a coordinator: no suitable place",
                "area": locked.case.area,
                "region": selectors.regions_of_areas().get(
                    selectors.area_key(locked.case.area), ""
                ),
            },
        )
    case_event_record(
        case=locked.case,
        kind="support.request_closed",
        description=f"Placement request {status.label.lower()}",
        by=by,
    )
    audit_record(
        by=by, action=f"placement_request.{status.value}", obj=locked, detail={"status": status}
    )
    return locked


# --- Matching ---------------------------------------------------------------------------------


# The key of the PostgreSQL advisory lock that lets one matching run at a time (b"OpenNRMm").
MATCHING_LOCK_KEY = int.from_bytes(b"OpenNRMm", "big", signed=True)


def _one_matching_run_at_a_time() -> None:
    """Two coordinators running matching at once would propose the same beds twice: the second
    waits here for the first to commit, then starts from what it left. (SQLite lets one writer
    in at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MATCHING_LOCK_KEY])


# Why a request is neither matched nor placed yet.
DETAILS_TO_REVIEW = (
    "The first responder wrote details of this person's immediate needs and safety at "
    "referral. Read them and turn them into needs and constraints (Change needs and "
    "constraints) before the person is placed."
)


@dataclass(frozen=True)
class MatchingOutcome:
    proposed: int
    unplaced: int
    result: matching.MatchResult
    held_for_review: int = 0  # open requests not matched: their referral's details unread


@transaction.atomic
def matching_run(*, by: User, today: date | None = None) -> MatchingOutcome:
    """Propose the best placements for every open request, and record the unmet need.

    Proposals from an earlier run that nobody confirmed are withdrawn first, so every run
    starts from what is free now. A proposal holds nothing: the coordinator confirms each
    (`placement_confirm`), which checks again and only then reserves the bed.
    """
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can run matching")
    _one_matching_run_at_a_time()
    today = today or timezone.localdate()
    Placement.objects.filter(status=PlacementStatus.PROPOSED).update(
        status=PlacementStatus.CANCELLED, responded_at=timezone.now()
    )
    requests, beds = selectors.matching_instance(today)
    # A bed kept for an operation none of these people was found in can be proposed to nobody.
    # Left in, it only made the others' unmet-need reasons say "kept for an operation", which
    # every coordinator reads: for a bed held before a confidential operation starts, that
    # told them of the operation (ADR 39; found in review).
    operations = {request.operation_id for request in requests}
    beds = [bed for bed in beds if bed.operation_id is None or bed.operation_id in operations]
    held = selectors.requests_held_for_review().count()
    result = matching.match(requests, beds, today)
    now = timezone.now()
    Placement.objects.bulk_create(
        Placement(
            request_id=proposal.request_id,
            bed_id=proposal.bed_id,
            status=PlacementStatus.PROPOSED,
            why=proposal.why,
            proposed_at=now,
            proposed_by=by,
        )
        for proposal in result.proposals
    )
    areas = dict(
        PlacementRequest.objects.filter(pk__in=[u.request_id for u in result.unplaced]).values_list(
            "pk", "case__area"
        )
    )
    regions = selectors.regions_of_areas()
    for unplaced in result.unplaced:
        area = areas.get(unplaced.request_id, "")
        UnmetNeed.objects.update_or_create(
            request_id=unplaced.request_id,
            on=today,
            defaults={
                "constraint": unplaced.code,
                "reason": unplaced.reason,
                "area": area,
                "region": regions.get(selectors.area_key(area), ""),
            },
        )
    audit_record(
        by=by,
        action="matching.run",
        detail={
            "requests": len(requests),
            "free_beds": len(beds),
            "proposed": len(result.proposals),
            "unplaced": len(result.unplaced),
            "held_for_review": held,
        },
    )
    return MatchingOutcome(
        proposed=len(result.proposals),
        unplaced=len(result.unplaced),
        result=result,
        held_for_review=held,
    )


# --- Placements -------------------------------------------------------------------------------


class BedNotFree(ValidationError):
    """The bed cannot be offered now: out of service, its site closed or an outreach office, a
    surge place whose surge is not under way, held for an operation the person was not found
    in, or held by another placement (`BedTaken`, which the API answers with 409)."""


# Why a bed kept for an operation cannot be offered, to whoever asks: a surge place before its
# surge, or a bed held for another operation. Any more ("a surge place", "kept for the people
# of an operation") told a coordinator of a confidential operation before it started (ADR 39;
# found in review); the operation's own providers see their places on its page.
NOT_AVAILABLE = "This bed is not available. Choose another bed."


class BedTaken(BedNotFree):
    def __init__(self) -> None:
        super().__init__(
            "This bed was taken a moment ago by another placement. Choose another bed, or run "
            "matching again."
        )


SAFETY_CONSTRAINTS = {matching.Constraint.EXCLUDED_AREA.value, matching.Constraint.DISTANCE.value}


def refusal_without_places(failures: Sequence[tuple[str, str]]) -> str:
    """Why a bed cannot take a person, in words fit for a banner or an API error: the safety
    reasons are not spelled out, because they name the areas the person must keep away from
    (the request's list of free beds, whose showing is recorded, says which)."""
    reasons = [reason for constraint, reason in failures if constraint not in SAFETY_CONSTRAINTS]
    if any(constraint in SAFETY_CONSTRAINTS for constraint, _ in failures):
        reasons.append(
            "it breaks a safety condition of the request (its list of free beds says which)"
        )
    return "; ".join(reasons)


def _lock_free_bed(bed_id: int, request: PlacementRequest, today: date) -> Bed:
    """Lock the bed's row, then check it is free and allowed for the request: the beds
    `selectors.free_beds` lists (in service, at an active site with beds, a surge place only
    while its surge is under way, a held bed only for its operation's people) and the same
    rules as matching (`matching.check`), so a manual placement cannot break a constraint
    either."""
    bed = (
        Bed.objects.select_for_update(of=("self",))
        .select_related("room__site__provider")
        .get(pk=bed_id)
    )
    if bed.out_of_service_since is not None:
        raise BedNotFree("This bed is out of service")
    if not bed.room.site.is_active:
        raise BedNotFree("This bed's site is closed")
    if bed.room.site.kind == SiteKind.OUTREACH:
        raise BedNotFree("This bed is at an outreach office, which has no beds")
    if not Bed.objects.filter(surge.surge_under_way(today), pk=bed.pk).exists():
        raise BedNotFree(NOT_AVAILABLE)
    if Placement.objects.holding_a_bed().filter(bed=bed).exists():
        raise BedTaken
    hold = surge.live_holds(timezone.now()).filter(bed=bed).first()
    if hold is not None and hold.operation_id != request.operation_id:
        raise BedNotFree(NOT_AVAILABLE)
    # What `free_beds` annotates: `selectors.kept_for` reads it rather than the hold again.
    bed.held_for = None if hold is None else hold.operation_id  # type: ignore[attr-defined]
    refusal = refusal_without_places(
        matching.failures(
            selectors.matching_request(request, today),
            selectors.matching_bed(bed, today),
            today=today,
        )
    )
    if refusal:
        raise ValidationError(f"This bed cannot take this person: {refusal}")
    return bed


def _hold(placement: Placement, bed: Bed, by: User) -> None:
    """Save the placement as reserved; the database refuses a second holder of the bed."""
    now = timezone.now()
    placement.status = PlacementStatus.RESERVED
    placement.reserved_at = now
    try:
        with transaction.atomic():
            placement.save()
    except IntegrityError:
        raise BedTaken from None
    BedEvent.objects.create(bed=bed, at=now, state=BedState.RESERVED, placement=placement, by=by)
    site = bed.room.site
    request = placement.request
    deliver(
        recipients=members_in_roles([site.provider_id], {Role.SAFE_HOUSE_MANAGER}),
        kind="placement.offered",
        case=None,
        url=reverse("support:placement", args=[placement.pk]),
        subject=f"A place at {site.name} is offered for case {request.case.reference}",
        body=f"A {request.get_urgency_display().lower()} placement is offered to you. Accept "
        "or decline it.",
        # Told as the provider's staff: e-mailed only while they still work there (ADR 0008).
        organisation=site.provider,
    )
    deliver(
        recipients=referrers_to_tell(request.case),
        kind="placement.offered",
        case=request.case,
        url=reverse("cases:detail", args=[request.case.reference]),
        subject=f"Case {request.case.reference}: a place to stay is offered",
        body=f"A place has been offered with {_where(site)}. You will hear when it is accepted.",
        # A referring organisation with no first responder left: its administrators are told
        # that news waits, never the news (so with no provider or case), as for every placement
        # step below.
        stand_in=lambda: referrers_stand_in(request.case),
    )
    case_event_record(
        case=request.case,
        kind="support.place_offered",
        description=f"Place offered with {_where(site)}",
        by=by,
    )


@transaction.atomic
def placement_confirm(*, by: User, placement: Placement, today: date | None = None) -> Placement:
    """The coordinator confirms a proposal: the bed is reserved and the provider asked."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can confirm a proposal")
    # The request first, as every service that changes a request's placements locks it: two
    # services then never wait on each other's rows in opposite orders.
    request = PlacementRequest.objects.select_for_update().get(pk=placement.request_id)
    if request.status != PlacementRequestStatus.OPEN:
        raise ValidationError("This request is closed: it no longer needs a place")
    locked = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("request__case__person")
        .get(pk=placement.pk)
    )
    if locked.status != PlacementStatus.PROPOSED:
        raise ValidationError("This proposal is no longer open: run matching again")
    bed = _lock_free_bed(locked.bed_id, locked.request, today or timezone.localdate())
    _hold(locked, bed, by)
    audit_record(
        by=by, action="placement.confirmed", obj=locked, organisation=bed.room.site.provider
    )
    return locked


@transaction.atomic
def placement_reject(*, by: User, placement: Placement) -> Placement:
    """The coordinator turns a proposal down; the request waits for the next run."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can turn down a proposal")
    updated = Placement.objects.filter(pk=placement.pk, status=PlacementStatus.PROPOSED).update(
        status=PlacementStatus.CANCELLED, responded_at=timezone.now(), responded_by=by
    )
    if not updated:
        raise ValidationError("This proposal is no longer open")
    audit_record(by=by, action="placement.proposal_rejected", obj=placement)
    placement.refresh_from_db()
    return placement


@transaction.atomic
def placement_make(
    *, by: User, request: PlacementRequest, bed: Bed, today: date | None = None
) -> Placement:
    """A coordinator places by hand: the same checks as matching, then the bed is reserved."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can place someone")
    locked_request = PlacementRequest.objects.select_for_update().get(pk=request.pk)
    if locked_request.status != PlacementRequestStatus.OPEN:
        raise ValidationError("This request is closed")
    if locked_request.details_to_review:
        raise ValidationError(DETAILS_TO_REVIEW)
    Placement.objects.filter(request=locked_request, status=PlacementStatus.PROPOSED).update(
        status=PlacementStatus.CANCELLED, responded_at=timezone.now()
    )
    if Placement.objects.holding_a_bed().filter(request=locked_request).exists():
        raise ValidationError("A place is already offered or taken for this request")
    locked_bed = _lock_free_bed(bed.pk, locked_request, today or timezone.localdate())
    placement = Placement(
        request=locked_request,
        bed=locked_bed,
        why="Placed by hand by a coordinator; every requirement and safety condition checked.",
        proposed_at=timezone.now(),
        proposed_by=by,
    )
    _hold(placement, locked_bed, by)
    audit_record(
        by=by, action="placement.made", obj=placement, organisation=locked_bed.room.site.provider
    )
    return placement


def _lock_for_provider(by: User, placement: Placement, states: Sequence[str]) -> Placement:
    # The request, then the placement alone: the order every placement service locks in.
    PlacementRequest.objects.select_for_update().get(pk=placement.request_id)
    locked = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("request__case", "bed__room__site__provider")
        .get(pk=placement.pk)
    )
    if locked.bed.room.site.provider_id not in selectors.managed_provider_ids(Actor.of_session(by)):
        raise ValidationError("Only the provider's own staff can answer for this place")
    if locked.status not in states:
        raise ValidationError(
            f"This placement is {locked.get_status_display().lower()}: that cannot be done now"
        )
    return locked


def _release(placement: Placement, by: User, note: str) -> None:
    BedEvent.objects.create(
        bed=placement.bed,
        at=timezone.now(),
        state=BedState.AVAILABLE,
        placement=placement,
        by=by,
        note=note,
    )


@transaction.atomic
def placement_respond(
    *, by: User, placement: Placement, accept: bool, reason: str = ""
) -> Placement:
    """The provider accepts the place offered, or declines it with a reason (the bed is free
    again and the request goes back to the waiting list)."""
    locked = _lock_for_provider(by, placement, [PlacementStatus.RESERVED])
    if not accept and reason not in DeclineReason.values:
        raise ValidationError({"reason": "Select why you cannot take this person"})
    if accept and not locked.bed.room.site.is_active:
        raise ValidationError(
            "This place cannot be accepted: its site is closed. Decline it, so that the "
            "coordinator can find another place."
        )
    if accept:
        # The same rules again: an offer made before a rule existed, or under an age group
        # since changed, must never be accepted into a bed that cannot take the person (a
        # child in a house for adults above all). Declining stays possible.
        today = timezone.localdate()
        refusal = refusal_without_places(
            matching.failures(
                selectors.matching_request(locked.request, today),
                selectors.matching_bed(locked.bed, today),
                today=today,
            )
        )
        if refusal:
            raise ValidationError(
                f"This place cannot be accepted: {refusal}. Decline it, so that the coordinator "
                "can find a suitable place."
            )
    locked.status = PlacementStatus.ACCEPTED if accept else PlacementStatus.DECLINED
    locked.responded_at, locked.responded_by = timezone.now(), by
    locked.decline_reason = "" if accept else reason
    locked.save(update_fields=["status", "responded_at", "responded_by", "decline_reason"])
    site = locked.bed.room.site
    case = locked.request.case
    if accept:
        told = referrers_to_tell(case)
        subject = f"Case {case.reference}: the place to stay is accepted"
        body = f"{_where(site)} has accepted the person. They will tell you when they arrive."
        case_event_record(
            case=case,
            kind="support.place_accepted",
            description=f"Place accepted by {_where(site)}",
            by=by,
        )
    else:
        _release(locked, by, "Declined")
        told = referrers_to_tell(case)
        subject = f"Case {case.reference}: the place offered was declined"
        body = (
            f"{_where(site)} could not take the person. The request is back on the waiting "
            "list: you will hear when another place is offered."
        )
        case_event_record(
            case=case,
            kind="support.place_declined",
            description=f"Place declined by {site.provider.name}",
            by=by,
        )
    kind = "placement.accepted" if accept else "placement.declined"
    deliver(
        recipients=told,
        kind=kind,
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=subject,
        body=body,
        stand_in=lambda: referrers_stand_in(case),
    )
    # Coordinators cannot open the case page: theirs is the placement's.
    deliver(
        recipients=support_coordinators(),
        kind=kind,
        case=case,
        url=reverse("support:placement", args=[locked.pk]),
        subject=subject,
        body=body,
    )
    audit_record(
        by=by,
        action="placement.accepted" if accept else "placement.declined",
        obj=locked,
        organisation=site.provider,
        detail={} if accept else {"reason": reason},
    )
    return locked


def _refuse_second_home(placement: Placement, on: date) -> None:
    """A person lives in one place at a time. A move is legitimate (a new request and a place
    offered while they still live in the first), but their arrival at the new place is
    recorded only once the first stay has ended: two stays open at once counted both beds
    occupied, and whatever reads the one place they live in (a missing report, the support
    plan, `care.selectors.live_placement_of`) picked either. (Two arrivals at once would need
    two of the person's requests open at once, which `placement_request_raise` refuses.)

    Nor may the arrival be dated before the day their last stay ended: a stay ended on day 8
    and an arrival recorded for day 6 put them in both beds from day 6 to 8, in the bed history
    and the stays (found in review). Arriving on the day they left is a move."""
    other = (
        Placement.objects.filter(
            request__case_id=placement.request.case_id, status=PlacementStatus.OCCUPIED
        )
        .exclude(pk=placement.pk)
        .select_related("bed__room__site__provider")
        .first()
    )
    if other is not None:
        raise ValidationError(
            "This person is still recorded as living at a place with "
            f"{_where(other.bed.room.site)}. That stay must be ended first, by its staff (why "
            "they left: transferred to another place); then record their arrival here"
        )
    left_on = (
        Placement.objects.filter(
            request__case_id=placement.request.case_id, status=PlacementStatus.ENDED
        )
        .exclude(pk=placement.pk)
        .aggregate(last=Max("ended_on"))["last"]
    )
    if left_on is not None and on < left_on:
        raise ValidationError(
            {
                "on": "The day they arrived cannot be before the day they left their last place "
                f"({left_on:%-d %B %Y})"
            }
        )


@transaction.atomic
def placement_arrive(*, by: User, placement: Placement, on: date) -> Placement:
    """The person has arrived: the bed is occupied and the request met."""
    locked = _lock_for_provider(by, placement, [PlacementStatus.ACCEPTED])
    if not locked.bed.room.site.is_active:
        raise ValidationError(
            "No arrival can be recorded here: this place's site is closed, and nothing counts "
            "or lists its beds. Open the site again, or ask the coordinator to cancel the "
            "placement and find another place."
        )
    if on > timezone.localdate():
        raise ValidationError({"on": "The day they arrived must be today or earlier"})
    offered_on = timezone.localdate(locked.reserved_at or locked.proposed_at)
    if on < offered_on:
        raise ValidationError(
            {
                "on": f"The day they arrived cannot be before the place was offered ({offered_on:%-d %B %Y})"
            }
        )
    _refuse_second_home(locked, on)
    locked.status, locked.arrived_on = PlacementStatus.OCCUPIED, on
    locked.save(update_fields=["status", "arrived_on"])
    PlacementRequest.objects.filter(pk=locked.request_id).update(
        status=PlacementRequestStatus.PLACED, closed_at=timezone.now(), version=F("version") + 1
    )
    BedEvent.objects.create(
        bed=locked.bed, at=timezone.now(), state=BedState.OCCUPIED, placement=locked, by=by
    )
    case = locked.request.case
    site = locked.bed.room.site
    deliver(
        recipients=referrers_to_tell(case),
        kind="placement.arrived",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=f"Case {case.reference}: the person has a safe place to stay",
        body=f"The person arrived at their place with {_where(site)}.",
        stand_in=lambda: referrers_stand_in(case),
    )
    case_event_record(
        case=case,
        kind="support.arrived",
        description=f"Arrived at a place with {_where(site)}",
        by=by,
    )
    audit_record(by=by, action="placement.arrived", obj=locked, organisation=site.provider)
    return locked


@transaction.atomic
def placement_cancel(*, by: User, placement: Placement) -> Placement:
    """A coordinator withdraws an offer not yet taken up; the request waits again."""
    if not selectors.is_coordinator(Actor.of_session(by)):
        raise ValidationError("Only a support coordinator can cancel a placement")
    PlacementRequest.objects.select_for_update().get(pk=placement.request_id)
    locked = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("request__case", "bed__room__site__provider")
        .get(pk=placement.pk)
    )
    if locked.status not in (PlacementStatus.RESERVED, PlacementStatus.ACCEPTED):
        raise ValidationError(
            "Only a place offered or accepted, not yet taken up, can be cancelled"
        )
    locked.status = PlacementStatus.CANCELLED
    locked.save(update_fields=["status"])
    _release(locked, by, "Cancelled")
    site = locked.bed.room.site
    case = locked.request.case
    # The provider was expecting the person, and the referrer may have been told it was
    # accepted: both hear that it is off (provider and region only, as ever).
    deliver(
        recipients=members_in_roles([site.provider_id], {Role.SAFE_HOUSE_MANAGER}),
        kind="placement.cancelled",
        case=None,
        url=reverse("support:placement", args=[locked.pk]),
        subject=f"The place at {site.name} for case {case.reference} is cancelled",
        body="The coordinator has cancelled this placement: do not expect the person.",
        organisation=site.provider,
    )
    deliver(
        recipients=referrers_to_tell(case),
        kind="placement.cancelled",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=f"Case {case.reference}: the place offered is cancelled",
        body=f"The place with {_where(site)} is cancelled. The person is waiting for another.",
        stand_in=lambda: referrers_stand_in(case),
    )
    case_event_record(
        case=case, kind="support.place_cancelled", description="Place offered was cancelled", by=by
    )
    audit_record(
        by=by,
        action="placement.cancelled",
        obj=locked,
        organisation=locked.bed.room.site.provider,
    )
    return locked


def _check_move_on_ended(case: Case, on: date) -> None:
    """The exit reason "move-on support ended", only for a stay that ended once it had (the exit
    follows the move-on end): the record is what the exit figures and the referrer are told,
    and said of a person whose support was still running, or who never had a move-on period,
    it says their entitlement ran out when it had not. Leaving on the last day of support is
    leaving as it ends (the exit form offers that day), so it is refused only while support
    still runs the day after (`cases.services.support_running`). While a reconsideration of the
    negative decision waits, support runs on whatever its end date says, and the refusal says so
    rather than give that date, perhaps already past, as the day support runs to. Northern
    Ireland's profiles set no move-on: there the support that ends after a positive conclusive
    decision is s.18's (`cases.selectors.adult_support_end`), and the exit is judged by it."""
    if case.is_child:
        # An adult's move-on end kept from before their age was disputed does not run (ADR 25).
        raise ValidationError(
            {
                "reason": "This person is treated as a child: no adult move-on support applies "
                "to them, so it cannot have ended. Select another reason"
            }
        )
    running = adult_support_end(case)
    if running is None:
        raise ValidationError(
            {
                "reason": "This person has no move-on support period (it starts with a "
                "conclusive grounds decision, and only if the decision's rules set one), so it "
                "cannot have ended. Select another reason"
            }
        )
    if support_running(case, on + timedelta(days=1)):
        ends, what = running
        runs = (
            "runs on while the reconsideration of the negative conclusive grounds decision "
            "waits for its answer"
            if case.status == CaseStatus.RECONSIDERATION
            else f"runs until {ends:%-d %B %Y}"
        )
        raise ValidationError(
            {
                "reason": f"{what[0].upper()}{what[1:]} {runs}: it had not ended on "
                f"{on:%-d %B %Y}. Select another reason"
            }
        )


@transaction.atomic
def placement_end(*, by: User, placement: Placement, on: date, reason: str) -> Placement:
    """The person leaves: the stay ends and the bed is free again."""
    locked = _lock_for_provider(by, placement, [PlacementStatus.OCCUPIED])
    if reason not in ExitReason.values:
        raise ValidationError({"reason": "Select why the person left"})
    if locked.arrived_on and on < locked.arrived_on:
        raise ValidationError({"on": "The day they left cannot be before the day they arrived"})
    if on > timezone.localdate():
        raise ValidationError({"on": "The day they left must be today or earlier"})
    if reason == ExitReason.MOVE_ON_ENDED:
        _check_move_on_ended(locked.request.case, on)
    locked.status, locked.ended_on, locked.exit_reason = PlacementStatus.ENDED, on, reason
    locked.save(update_fields=["status", "ended_on", "exit_reason"])
    _release(locked, by, "Left")
    case = locked.request.case
    subject = f"Case {case.reference}: the person has left their place"
    body = f"Reason: {ExitReason(reason).label.lower()}."
    deliver(
        recipients=referrers_to_tell(case),
        kind="placement.ended",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=subject,
        body=body,
        stand_in=lambda: referrers_stand_in(case),
    )
    # Coordinators cannot open the case page: theirs is the placement's.
    deliver(
        recipients=support_coordinators(),
        kind="placement.ended",
        case=case,
        url=reverse("support:placement", args=[locked.pk]),
        subject=subject,
        body=body,
    )
    case_event_record(
        case=case,
        kind="support.left",
        description=f"Left their place: {ExitReason(reason).label.lower()}",
        by=by,
    )
    audit_record(
        by=by,
        action="placement.ended",
        obj=locked,
        organisation=locked.bed.room.site.provider,
        detail={"reason": reason},
    )
    return locked


# --- Erasure ------------------------------------------------------------------------------------


def accommodation_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty the accommodation records' text that could identify the person: the places they
    must keep away from and the reasons worded from them. Dates, statuses and constraints stay,
    for the figures. Called only by `care.services.support_records_pseudonymise`, inside
    `privacy.services._remove_identifying_records`, whose audit event covers it."""
    return {
        "places_to_keep_away_from": PlacementRequest.objects.filter(case_id__in=case_ids).update(
            keep_away=[], excluded_areas=[]
        ),
        "unmet_need_reasons": UnmetNeed.objects.filter(request__case_id__in=case_ids).update(
            reason=""
        ),
        # Matching's explanations speak of the places to keep away from.
        "placement_explanations": Placement.objects.filter(request__case_id__in=case_ids).update(
            why=""
        ),
    }
