"""Surge places and beds held for an operation (issue 14, item 3; ADR 0044).

A support provider invited to the operation adds temporary places for it (`SurgePlaces`: new
beds at one of its sites, or at another provider's when outsourced) and holds free beds in
reserve until an expiry (`accommodation.BedHold`). Both keep the beds for the operation's people
alone; matching, the free-bed lists and the capacity figures read that from accommodation
(`accommodation.surge`). The reads start from who asks, like every read of an operation; each
write records exactly one audit event, against the provider.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from opennrm.accommodation import selectors as accommodation
from opennrm.accommodation import surge as beds
from opennrm.accommodation.models import Bed, BedHold, Setting, Site, SiteAges, SiteKind
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import SUPPORT_PROVIDER_STAFF
from opennrm.audit.services import audit_record

from .forecast import MEN, MIXED, WOMEN
from .gap_warning import gap_warn, told_of_shortfall
from .models import Operation, OperationPartner, OperationStatus, PartnerRole, SurgePlaces

# Who acts for an invited provider: its support coordinators and safe-house managers.
SURGE_ROLES = SUPPORT_PROVIDER_STAFF

# How many days a hold may outlast its operation's last day. Someone taken in on the last
# night is received after midnight, their referral made and a request raised the next day, and
# they are placed from the held bed the day after at the latest; past that, the bed is kept
# from everyone else for people who are already placed or will not come (found in review:
# holds could run a year past their operation). The same bound is written into holds made
# before it by operations' migration 0007, which copies this number.
HOLD_DAYS_AFTER_END = 2

# A site's setting as the forecast's kinds count it (as `history.free_places` does).
KIND_OF_SETTING = {Setting.WOMEN_ONLY: WOMEN, Setting.MEN_ONLY: MEN, Setting.MIXED: MIXED}


# --- Reads -------------------------------------------------------------------------------------


def providers_acting_for(actor: Actor, operation: Operation) -> QuerySet[Organisation]:
    """The support providers invited to the operation for which the actor adds and holds
    places (as a coordinator or safe-house manager)."""
    invited = OperationPartner.objects.filter(
        operation=operation, role=PartnerRole.SUPPORT_PROVIDER
    ).values("organisation_id")
    return Organisation.objects.filter(
        id__in=actor.organisations_as(SURGE_ROLES), is_active=True
    ).filter(id__in=invited)


def provider_get_for(actor: Actor, operation: Operation) -> Organisation:
    """The one provider the actor acts for in this operation; 404 if none."""
    provider = providers_acting_for(actor, operation).order_by("pk").first()
    if provider is None:
        raise Http404
    return provider


def operations_invited_to(actor: Actor) -> QuerySet[OperationPartner, int]:
    """The operations a support provider the actor is a member of is invited to: whose surge
    places the actor may see listed at another provider's site (registered with
    `accommodation.surge.register_invited_to`, which may not import this app)."""
    return OperationPartner.objects.filter(
        role=PartnerRole.SUPPORT_PROVIDER,
        organisation_id__in=actor.memberships().values("organisation_id"),
    ).values_list("operation_id", flat=True)


def sites_for_surge(operation: Operation) -> QuerySet[Site]:
    """Sites with beds where surge places can go: those of the support providers invited to the
    operation (the provider's own, or another invited provider's for outsourced places), all
    active. Never an uninvited provider's: the room the places make would tell it of the
    operation, which may be secret (ADR 39)."""
    invited = OperationPartner.objects.filter(
        operation=operation, role=PartnerRole.SUPPORT_PROVIDER
    ).values("organisation_id")
    return (
        Site.objects.filter(is_active=True, provider__in=invited)
        .exclude(kind=SiteKind.OUTREACH)
        .select_related("provider")
        .order_by("provider__name", "name")
    )


def sites_to_hold_at(operation: Operation, provider: Organisation) -> QuerySet[Site]:
    return sites_for_surge(operation).filter(provider=provider)


def surges_of(operation: Operation) -> QuerySet[SurgePlaces]:
    return operation.surges.select_related("provider", "room__site__provider")


def surge_get_for(actor: Actor, operation: Operation, surge_id: int) -> SurgePlaces:
    """Surge places the actor's provider added to this operation; 404 otherwise."""
    surge = (
        surges_of(operation)
        .filter(id=surge_id, provider__in=providers_acting_for(actor, operation))
        .first()
    )
    if surge is None:
        raise Http404
    return surge


def holds_of(operation: Operation, now: datetime | None = None) -> QuerySet[BedHold]:
    """The beds held for the operation now (an expired hold is no longer one)."""
    return (
        beds.live_holds(now or timezone.now())
        .filter(operation_id=operation.pk)
        .select_related("bed__room__site__provider")
    )


def hold_get_for(actor: Actor, operation: Operation, hold_id: int) -> BedHold:
    hold = (
        holds_of(operation)
        .filter(id=hold_id, bed__room__site__provider__in=providers_acting_for(actor, operation))
        .first()
    )
    if hold is None:
        raise Http404
    return hold


def hold_last_day(operation: Operation) -> date:
    """The last day a bed may be held for the operation: `HOLD_DAYS_AFTER_END` after its own
    (at most the day before the calendar's last, for one saved before operations' dates were
    bounded, in year 9999: its midnight after must exist)."""
    room = date.max - operation.ends_on - timedelta(days=1)
    return operation.ends_on + min(timedelta(days=HOLD_DAYS_AFTER_END), room)


def end_of_day(day: date) -> datetime:
    """When a hold "until the end of" `day` ends: the midnight after it, local time (the hold
    form's answer, `surge_forms.HoldForm`, and the bound below)."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time(0)))


def hold_ends_by(operation: Operation) -> datetime:
    """The latest a hold for the operation may end: the end of `hold_last_day`."""
    return end_of_day(hold_last_day(operation))


@dataclass(frozen=True)
class HoldsCut:
    """One provider's holds for an operation that its end moved earlier cuts: `shortened` end
    at the new bound, `released` (held after it) end now."""

    provider: Organisation
    shortened: int
    released: int


def holds_running_past(operation: Operation, latest: datetime, now: datetime) -> list[HoldsCut]:
    """The live holds for the operation that run past `latest`, per provider holding the beds
    (`accommodation.surge.holds_end_by` brings them to it): read before they are."""
    counts: dict[int, list[int]] = {}
    running_past = (
        holds_of(operation, now)
        .filter(expires_at__gt=latest)
        .values_list("bed__room__site__provider_id", "held_at")
    )
    for provider_id, held_at in running_past:
        # made at or after the new bound, a hold cannot end before it began: it is released
        counts.setdefault(provider_id, [0, 0])[1 if held_at >= latest else 0] += 1
    providers = Organisation.objects.in_bulk(list(counts))
    return [
        HoldsCut(providers[pk], shortened, released)
        for pk, (shortened, released) in sorted(counts.items())
    ]


def surge_by_kind(operation: Operation, today: date | None = None) -> dict[str, int]:
    """The places agreed for the operation, per forecast kind: surge places not yet ended
    that overlap the operation's days, and beds held now, at adults' sites, by their site's
    setting. Places outside its days (saved before `surge_add` refused them) keep no bed for
    its people while they are found."""
    today = today or timezone.localdate()
    counts = {WOMEN: 0, MEN: 0, MIXED: 0}
    kept = Bed.objects.filter(
        Q(
            operation_id=operation.pk,
            surge_until__gte=max(today, operation.starts_on),
            surge_from__lte=operation.ends_on,
        )
        | Q(pk__in=holds_of(operation).filter(bed__operation_id=None).values("bed_id")),
        room__site__ages=SiteAges.ADULTS,
        room__site__is_active=True,
        out_of_service_since=None,
    )
    for setting in kept.values_list("room__site__setting", flat=True):
        counts[KIND_OF_SETTING[Setting(setting)]] += 1
    return counts


# --- Writes ------------------------------------------------------------------------------------


def _refuse_unless_acting(by: User, operation: Operation, provider_id: int) -> None:
    """Only a coordinator or safe-house manager of a support provider invited to the operation
    adds, holds, ends or releases places for it, and only its own."""
    if not providers_acting_for(Actor.of_session(by), operation).filter(id=provider_id).exists():
        raise ValidationError(
            "Only a coordinator or safe-house manager of a support provider invited to this "
            "operation can do this"
        )


def _refuse_unless_open(operation: Operation) -> None:
    if operation.status_on(timezone.localdate()) in (
        OperationStatus.ENDED,
        OperationStatus.CANCELLED,
    ):
        raise ValidationError("The operation has ended or been cancelled: no places can be added")


# What a surge's room is called: nothing in it names the operation. "Surge <operation>-<n>" told
# anyone shown the room (free-bed lists, site pages) the operation's number, and that it had
# places agreed before it started, which for a confidential one is secret (ADR 39, found in
# review). Rooms named so before are not renamed.
SURGE_ROOM = "Extra places"


# A surge room's mark: four characters drawn at random, never a count. "Extra places 2", shown
# once under way, told every coordinator that an "Extra places 1" they could not see was at the
# site, agreed for another operation perhaps still secret (found in review).
_ROOM_MARK_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _surge_room_name(site: Site) -> str:
    """ "Extra places K7QX": a mark no room of the site has, so the name says neither the
    operation, how many places it has, nor how many other surges the site has had.
    `surge_add` has locked the site's row, so two providers adding places there at once cannot
    both take the same name (a 500 on the room's unique name, found in review)."""
    taken = set(site.rooms.values_list("name", flat=True))
    while True:
        mark = "".join(secrets.choice(_ROOM_MARK_LETTERS) for _ in range(4))
        if f"{SURGE_ROOM} {mark}" not in taken:
            return f"{SURGE_ROOM} {mark}"


def _added_already(
    by: User, operation: Operation, sent: tuple[object, ...], submission_key: UUID
) -> tuple[SurgePlaces | None, UUID | None]:
    """The surge places this page already added (sent twice), or None; and the key to keep,
    None if other places hold it. `sent` is the site, places, dates and funding note. Places
    added with the key, or added by the same person since with the same answers (the page
    changed after going Back, then sent twice: the second send carried the key of the first,
    whose places differ), are a repeat, as `referrals.services._added_already` reads an
    addition (found in review: the changed places were added twice)."""
    earlier = (
        SurgePlaces.objects.filter(operation=operation, added_by=by, submission_key=submission_key)
        .select_related("room")
        .first()
    )
    if earlier is None:
        return None, submission_key
    since = (
        SurgePlaces.objects.filter(operation=operation, added_by=by, pk__gte=earlier.pk)
        .select_related("room")
        .order_by("id")
    )
    for made in since:
        answers = (made.room.site_id, made.places, made.starts_on, made.ends_on, made.funding_note)
        if answers == sent:
            return made, None
    return None, None


@transaction.atomic
def surge_add(
    *,
    by: User,
    operation: Operation,
    provider: Organisation,
    site: Site,
    places: int,
    starts_on: date,
    ends_on: date,
    funding_note: str = "",
    submission_key: UUID | None = None,
) -> SurgePlaces:
    """Add `places` surge places at `site` for the operation, from `starts_on` to `ends_on`.

    The same page sent twice (`submission_key`, its one-time key: a second click, a resend
    after a slow response) adds them once: the second time, the places the first added are
    returned, marked `sent_before`, and nothing is written or recorded again. Sent again with
    other answers (changed after going Back), they are other places: added, without the key;
    and that changed page sent twice adds them once too (`_added_already`)."""
    _refuse_unless_acting(by, operation, provider.pk)
    # Locked, as `services.operation_change` and `site_update` lock them, so that the dates
    # checked here are the operation's, the site's kind is not changing to an outreach office
    # meanwhile, and two providers adding places at one site name their rooms in turn. The
    # operation's lock also makes a second click sent at once wait for the first to commit.
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if submission_key is not None:
        sent = (site.pk, places, starts_on, ends_on, funding_note)
        earlier, submission_key = _added_already(by, operation, sent, submission_key)
        if earlier is not None:
            earlier.sent_before = True
            return earlier
    Site.objects.select_for_update().get(pk=site.pk)
    _refuse_unless_open(operation)
    if ends_on < timezone.localdate():
        raise ValidationError({"ends_on": "The last day must be today or later"})
    if starts_on < operation.starts_on:
        # Nobody found in the operation can arrive before it starts, and places free earlier
        # would show in every coordinator's free beds and figures: a confidential operation
        # would be given away before it begins (ADR 39, 44).
        raise ValidationError(
            {
                "starts_on": "The first day must be the operation's first day, "
                f"{operation.starts_on.day} {operation.starts_on:%B %Y}, or later"
            }
        )
    if starts_on > operation.ends_on:
        # Places that begin after the operation has ended keep no bed for its people: counted
        # as agreed, they hid its shortfall while not one of them existed (found in review).
        raise ValidationError(
            {
                "starts_on": "The first day must be the operation's last day, "
                f"{operation.ends_on.day} {operation.ends_on:%B %Y}, or earlier"
            }
        )
    if not sites_for_surge(operation).filter(pk=site.pk).exists():
        raise ValidationError(
            {"site": "Choose a site with beds of a support provider invited to the operation"}
        )
    room = beds.add_surge_beds(
        site,
        room_name=_surge_room_name(site),
        places=places,
        operation_id=operation.pk,
        starts_on=starts_on,
        ends_on=ends_on,
        by=by,
    )
    surge = SurgePlaces.objects.create(
        operation=operation,
        provider=provider,
        room=room,
        places=places,
        starts_on=starts_on,
        ends_on=ends_on,
        funding_note=funding_note,
        added_by=by,
        submission_key=submission_key,
    )
    audit_record(
        by=by,
        action="operation.surge_added",
        obj=surge,
        organisation=provider,
        detail={
            "operation": operation.pk,
            "places": places,
            "site": site.pk,
            "outsourced": site.provider_id != provider.pk,
        }
        | told_of_shortfall(gap_warn(operation)),
    )
    return surge


@transaction.atomic
def surge_end(*, by: User, surge: SurgePlaces) -> SurgePlaces:
    """End surge places now: they leave matching and capacity today; anyone placed in one
    keeps it until their placement ends."""
    locked = (
        SurgePlaces.objects.select_for_update(of=("self",))
        .select_related("room", "operation")
        .get(pk=surge.pk)
    )
    _refuse_unless_acting(by, locked.operation, locked.provider_id)
    if locked.ended_at is not None:
        raise ValidationError("These surge places have already ended")
    today = timezone.localdate()
    still = beds.end_surge_beds(locked.room, today)
    locked.ended_at = timezone.now()
    locked.ended_by = by
    locked.save(update_fields=["ended_at", "ended_by"])
    audit_record(
        by=by,
        action="operation.surge_ended",
        obj=locked,
        organisation=locked.provider,
        detail={"operation": locked.operation_id, "places_withdrawn": still}
        | told_of_shortfall(gap_warn(locked.operation)),
    )
    return locked


@transaction.atomic
def beds_hold(
    *,
    by: User,
    operation: Operation,
    provider: Organisation,
    site: Site,
    count: int,
    expires_at: datetime,
    submission_key: UUID | None = None,
) -> list[BedHold]:
    """Hold `count` of the free beds open to anyone at one of the provider's sites for the
    operation until `expires_at`: at the latest `hold_ends_by`, soon after the operation.

    The same page sent twice (`submission_key`, its one-time key) holds them once: the second
    time, the holds the first made are returned (even if released since), and nothing is
    written or recorded again. Sent again with other answers (changed after going Back), other
    beds are held, without the key."""
    _refuse_unless_acting(by, operation, provider.pk)
    # Locked, as `services.operation_change` locks it: an end moved earlier meanwhile would
    # otherwise leave this hold past the new bound, which that change brings the others to.
    # It also makes a second click sent at once wait for the first to commit.
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if submission_key is not None:
        earlier = list(
            BedHold.objects.filter(
                operation_id=operation.pk, held_by=by, submission_key=submission_key
            )
            .select_related("bed__room")
            .order_by("pk")
        )
        if earlier:
            sent = (site.pk, count)
            made = (earlier[0].bed.room.site_id, len(earlier))
            # (an end moved earlier since may have brought their expiry forward to its bound,
            # `holds_end_by`: the first page's holds all the same)
            ends = {expires_at, hold_ends_by(operation)}
            if sent == made and all(h.expires_at in ends for h in earlier):
                return earlier
            submission_key = None
    _refuse_unless_open(operation)
    if expires_at > hold_ends_by(operation):
        raise ValidationError(
            {
                "expires_at": f"The last day held must be {hold_last_day(operation):%-d %B %Y} "
                f"or earlier: a hold ends at most {HOLD_DAYS_AFTER_END} days after the "
                f"operation's last day, {operation.ends_on:%-d %B %Y}"
            }
        )
    if site.provider_id != provider.pk:
        raise ValidationError({"site": "Choose one of your own sites"})
    if count < 1:
        raise ValidationError({"count": "Enter how many beds to hold, 1 or more"})
    free = list(
        accommodation.free_beds_open_to_anyone().filter(room__site=site).order_by("pk")[:count]
    )
    if len(free) < count:
        raise ValidationError(
            {
                "count": f"{site.name} has {len(free)} free beds open to anyone; enter {len(free)} or fewer"
            }
        )
    holds = beds.bed_hold(
        free,
        operation_id=operation.pk,
        expires_at=expires_at,
        by=by,
        now=timezone.now(),
        submission_key=submission_key,
    )
    audit_record(
        by=by,
        action="operation.beds_held",
        obj=operation,
        organisation=provider,
        detail={"beds": [h.bed_id for h in holds], "expires_at": expires_at.isoformat()}
        | told_of_shortfall(gap_warn(operation)),
    )
    return holds


@transaction.atomic
def hold_release(*, by: User, hold: BedHold, provider: Organisation) -> None:
    """Release a held bed before its expiry."""
    if hold.bed.room.site.provider_id != provider.pk:
        raise ValidationError("Only the provider holding a bed can release it")
    operation = Operation.objects.get(pk=hold.operation_id)
    _refuse_unless_acting(by, operation, provider.pk)
    beds.bed_hold_release(hold, by=by, now=timezone.now())
    audit_record(
        by=by,
        action="operation.bed_released",
        obj=hold,
        organisation=provider,
        detail={"operation": hold.operation_id, "bed": hold.bed_id}
        | told_of_shortfall(gap_warn(operation)),
    )
