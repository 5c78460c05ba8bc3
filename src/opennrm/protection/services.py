"""Protection checks and planned removals: each records exactly one audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_read, audit_record
from opennrm.cases.services import case_event_record
from opennrm.notifications.services import deliver

from .models import PlannedRemoval
from .rules import Protection, long_date
from .selectors import NOT_FOUND, protection_for_reference

# What an audit event says was shown: the protection answer, nothing else of the person.
FIELDS_SHOWN = ["protection from removal"]


@transaction.atomic
def protection_check(*, by: User, reference: str, on: date | None = None) -> Protection:
    """Whether removal must not proceed for `reference` today (or on `on`), recorded as a read
    of the person's status naming who checked which reference and whether the system knows it.
    """
    finding = protection_for_reference(reference, on or timezone.localdate())
    audit_read(
        by=by,
        person=finding.person,
        fields=FIELDS_SHOWN,
        obj=finding.record,
        context={"protection_check": {"reference": reference, "found": finding is not NOT_FOUND}},
    )
    return finding.protection


@dataclass(frozen=True)
class Recorded:
    planned: PlannedRemoval
    # The answer for the planned day, to show the officer who recorded it.
    protection: Protection


@transaction.atomic
def planned_removal_record(
    *, by: User, organisation: Organisation, reference: str, planned_on: date
) -> Recorded:
    """Record a removal planned for `reference` on `planned_on`. If the person is protected on
    that day, the people the protection's source names (for an NRM case, the competent
    authority's decision makers and the referring first responder) are alerted at once, and the
    case's timeline says so. A part of them left with nobody (a referring organisation with no
    first responder) has its stand-in told instead: that news waits, never the alert."""
    finding = protection_for_reference(reference, planned_on)
    protection = finding.protection
    recipients = list(finding.alert_recipients()) if protection.protected else []
    stand_in = finding.alert_stand_in() if protection.protected else None
    planned = PlannedRemoval.objects.create(
        reference=reference,
        planned_on=planned_on,
        organisation=organisation,
        recorded_by=by,
        protected=protection.protected,
        reason=protection.reason or "",
        protected_until=protection.until,
        source=protection.source,
    )
    told = deliver(
        recipients=recipients,
        kind="protection.planned_removal",
        subject=f"Removal planned for a protected person: {reference}",
        body=(
            f"{organisation.name} has recorded a removal planned for {long_date(planned_on)} "
            f"for {reference}. {protection.answer} Contact them at once."
        ),
        url=finding.url,
        case=finding.case,
    )
    # Told instead of a part of the recipients left with nobody: not alerted, so not counted.
    told_instead = (
        deliver(
            recipients=stand_in.recipients,
            kind=stand_in.kind,
            subject=stand_in.subject,
            body=stand_in.body,
            url=stand_in.url,
        )
        if stand_in is not None
        else []
    )
    if told:
        planned.alerted = len(told)
        planned.save(update_fields=["alerted"])
    if protection.protected and finding.case is not None:
        case_event_record(
            case=finding.case,
            kind="protection.removal_planned",
            description=(
                f"{organisation.name} recorded a removal planned for {long_date(planned_on)} "
                "while the person is protected; told that removal must not proceed"
            ),
            by=by,
            data={"planned_on": planned_on.isoformat(), "reason": str(protection.reason)},
        )
    audit_record(
        by=by,
        action="removal.planned",
        obj=planned,
        organisation=organisation,
        detail={
            "reference": reference,
            "planned_on": planned_on.isoformat(),
            "found": finding is not NOT_FOUND,
            "protected": protection.protected,
            "alerted": sorted(n.recipient_id for n in told),
            "told_instead": sorted(n.recipient_id for n in told_instead),
        },
    )
    return Recorded(planned, protection)
