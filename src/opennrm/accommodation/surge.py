"""Beds kept for an enforcement operation: surge places and beds held in reserve (ADR 0044).

`accommodation` knows an operation only by its number (`Bed.operation_id`,
`BedHold.operation_id`, `PlacementRequest.operation_id`); the `operations` app decides who may
add or hold places and records the audit event, calling these writes inside its own
transaction. What keeps a bed for an operation is read here too, so that matching, the free-bed
lists and the capacity figures all apply one rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User

from .models import Bed, BedEvent, BedHold, BedState, Placement, Room, Site


def live_holds(now: datetime) -> QuerySet[BedHold]:
    """The holds that count at `now`: not released and not expired. An expired hold frees its
    bed by itself, with no job to run."""
    return BedHold.objects.filter(released_at=None, expires_at__gt=now)


def in_surge_window(today: date) -> Q:
    """Beds that are not surge places, or whose surge has not ended by `today`."""
    return Q(surge_until=None) | Q(surge_until__gte=today)


def surge_under_way(today: date) -> Q:
    """Beds that are not surge places, or whose surge has begun and not ended by `today`: a
    confidential operation's surge places must not show in anyone's figures before they start
    (operations are secret until they start, ADR 39)."""
    return Q(surge_until=None) | Q(surge_from__lte=today, surge_until__gte=today)


# Who may see an operation's surge places listed: the staff of the site's own provider, and the
# members of a support provider invited to the operation (ADR 44). Only `operations` knows who is
# invited, and `accommodation` may not import it: it registers, from its `AppConfig.ready()`,
# the operations an actor's providers are invited to, as a subquery of their ids.
InvitedTo = Callable[[Actor], "QuerySet[Any]"]

_INVITED_TO: list[InvitedTo] = []


def register_invited_to(source: InvitedTo) -> None:
    """Add a source of the operations an actor's organisations are invited to (once)."""
    if source not in _INVITED_TO:
        _INVITED_TO.append(source)


def surge_seen_by(actor: Actor) -> Q:
    """The beds the actor may see listed at a site: every bed that is not a surge place; a surge
    place only by the staff of its site's provider and the members of a provider invited to its
    operation. Anyone else learnt of an operation, secret until it starts, from its places; the
    free-bed lists show a surge place only once under way (`surge_under_way`). With no source
    registered, none but the site's staff see them."""
    seen = Q(operation_id=None) | Q(
        room__site__provider_id__in=actor.memberships().values("organisation_id")
    )
    for source in _INVITED_TO:
        seen |= Q(operation_id__in=source(actor))
    return seen


def add_surge_beds(
    site: Site,
    *,
    room_name: str,
    places: int,
    operation_id: int,
    starts_on: date,
    ends_on: date,
    by: User,
) -> Room:
    """A room of `places` new beds at `site`, kept for the operation from `starts_on` to
    `ends_on`."""
    if places < 1:
        raise ValidationError({"places": "Enter how many places, 1 or more"})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "The last day must be the same as or after the first"})
    room = Room.objects.create(site=site, name=room_name)
    made = Bed.objects.bulk_create(
        Bed(
            room=room,
            label=f"S{n}",
            operation_id=operation_id,
            surge_from=starts_on,
            surge_until=ends_on,
        )
        for n in range(1, places + 1)
    )
    # Each bed's history starts as every bed's does (`services.room_create`).
    now = timezone.now()
    BedEvent.objects.bulk_create(
        BedEvent(bed=bed, at=now, state=BedState.AVAILABLE, by=by, note="Added: surge place")
        for bed in made
    )
    return room


def end_surge_beds(room: Room, today: date) -> int:
    """End the surge places of `room` now: from today they leave matching and the capacity
    figures; a bed someone is placed in stays theirs until the placement ends. Returns how
    many beds were still in their surge."""
    yesterday = today - timedelta(days=1)
    return (
        Bed.objects.filter(room=room).filter(in_surge_window(today)).update(surge_until=yesterday)
    )


def bed_hold(
    beds: list[Bed],
    *,
    operation_id: int,
    expires_at: datetime,
    by: User,
    now: datetime,
    submission_key: UUID | None = None,
) -> list[BedHold]:
    """Hold each of `beds` for the operation until `expires_at`. Under each bed's row lock, a
    bed is refused if a placement holds it, it is out of service, another hold on it is live,
    or it is kept for another operation, so a hold is never a double booking; an expired hold
    on it is closed first (the partial unique constraint allows one open hold a bed). Each hold
    keeps `submission_key`, the page's one-time key: `operations.surge.beds_hold` finds by it
    the holds a page sent twice already made."""
    if expires_at <= now:
        raise ValidationError({"expires_at": "The hold must end in the future"})
    if not beds:
        raise ValidationError({"beds": "Select the beds to hold"})
    holds = []
    with transaction.atomic():
        locked = list(
            Bed.objects.select_for_update(of=("self",))
            .filter(pk__in=[bed.pk for bed in beds])
            .order_by("pk")
        )
        for bed in locked:
            if Placement.objects.holding_a_bed().filter(bed=bed).exists():
                raise ValidationError(
                    {"beds": f"Bed {bed.label} is taken: someone is placed in it"}
                )
            if bed.out_of_service_since is not None:
                raise ValidationError({"beds": f"Bed {bed.label} is out of service"})
            if bed.operation_id is not None and bed.operation_id != operation_id:
                raise ValidationError({"beds": f"Bed {bed.label} is kept for another operation"})
            if live_holds(now).filter(bed=bed).exists():
                raise ValidationError({"beds": f"Bed {bed.label} is already held"})
            BedHold.objects.filter(bed=bed, released_at=None).update(released_at=now)
            holds.append(
                BedHold.objects.create(
                    bed=bed,
                    operation_id=operation_id,
                    held_at=now,
                    held_by=by,
                    expires_at=expires_at,
                    submission_key=submission_key,
                )
            )
    return holds


def holds_end_by(operation_id: int, latest: datetime, *, now: datetime) -> int:
    """Bring the operation's live holds that run past `latest` forward to it (its end moved
    earlier: a hold ends with its operation). One made at or after `latest` cannot end before
    it was made, and is released now. Returns how many were shortened or released."""
    running_past = live_holds(now).filter(operation_id=operation_id, expires_at__gt=latest)
    released = running_past.filter(held_at__gte=latest).update(released_at=now)
    return released + running_past.filter(held_at__lt=latest).update(expires_at=latest)


def bed_hold_release(hold: BedHold, *, by: User, now: datetime) -> None:
    """Release a hold before its expiry: the bed is open to anyone again."""
    with transaction.atomic():
        locked = BedHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            return
        locked.released_at = now
        locked.released_by = by
        locked.save(update_fields=["released_at", "released_by"])
