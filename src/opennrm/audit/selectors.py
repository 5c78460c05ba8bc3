from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    ip_address: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_search(filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Events matching every given filter, newest first. Only system administrators and the
    data-protection officer reach this (the access table says so); there is no per-organisation
    view of the audit trail yet."""
    events = AuditEvent.objects.select_related("actor", "organisation")
    if filters.actor:
        events = events.filter(actor_label__icontains=filters.actor)
    if filters.action:
        events = events.filter(action__icontains=filters.action)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.ip_address:
        events = events.filter(ip_address=filters.ip_address)
    if filters.date_from:
        events = events.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to and filters.date_to < date.max:  # to the last day of all: no end
        events = events.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return events.order_by("-at", "-id")


def audit_object_types() -> list[str]:
    return list(
        AuditEvent.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
