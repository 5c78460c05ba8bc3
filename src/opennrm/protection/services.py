"""Protection checks and planned removals: a check records one read of the person, a planned
removal that read (for a reference the system knows) and one audit event of its own. An answer
given through a referral of another person, confirmed linked to the one checked, is a read of
each person."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_read, audit_record
from opennrm.cases.services import case_event_record
from opennrm.notifications.models import Notification
from opennrm.notifications.services import StandIn, deliver

from .models import PlannedRemoval
from .rules import Protection, long_date
from .selectors import NOT_FOUND, Finding, protection_for_reference

# What an audit event says was shown: the protection answer, nothing else of the person.
FIELDS_SHOWN = ["protection from removal"]


@transaction.atomic
def protection_check(*, by: User, reference: str, on: date | None = None) -> Protection:
    """Whether removal must not proceed for `reference` today (or on `on`), recorded as a read
    of the person's status naming who checked which reference and whether the system knows it.
    An answer taken from a referral of another person (confirmed linked to the one checked,
    `linkage.protection.linked_source`) is a read of both people's status: one event for the
    person of the referral checked, one for the person of the referral that answered, so that
    each one's page for the data-protection officer lists the check (threat model 35).
    """
    finding = protection_for_reference(reference, on or timezone.localdate())
    _record_reads(by, reference, finding)
    return finding.protection


def _record_reads(by: User, reference: str, finding: Finding) -> None:
    """Record the protection answer given for `reference` as a read of the person's status (of
    both people's when it was answered through a referral confirmed linked to the one checked),
    so that the data-protection officer's page for each lists it (threat model 35)."""
    read = [finding]
    checked = finding.checked
    if checked is not None and _person_id(checked) != _person_id(finding):
        read.insert(0, checked)
    for each in read:
        audit_read(
            by=by,
            person=each.person,
            fields=FIELDS_SHOWN,
            obj=each.record,
            context={
                "protection_check": {"reference": reference, "found": finding is not NOT_FOUND}
            },
        )


def _person_id(finding: Finding) -> int | None:
    return finding.person.pk if finding.person is not None else None


@dataclass(frozen=True)
class Recorded:
    planned: PlannedRemoval
    # The answer for the planned day, to show the officer who recorded it.
    protection: Protection
    # The same form (or API request) sent again: `planned` is what the first send recorded,
    # and nothing was recorded or alerted again.
    repeat: bool = False


class KeyUsed(ValidationError):
    """A form's one-time key (or an API `Idempotency-Key`) this officer already used to record
    a removal for another reference or day: `planned` is that removal. Refused rather than
    taken as a repeat (another removal would go unrecorded) or recorded at once (a form changed
    after Back and sent twice would record it twice): sent again under a new key, it is
    recorded."""

    def __init__(self, planned: PlannedRemoval) -> None:
        super().__init__(
            f"This form was already used to record the removal planned for "
            f"{long_date(planned.planned_on)} for {planned.reference}. If this is another "
            "removal, send it again: it is now a new form"
        )
        self.planned = planned


@transaction.atomic
def planned_removal_record(
    *,
    by: User,
    organisation: Organisation,
    reference: str,
    planned_on: date,
    submission_key: str = "",
) -> Recorded:
    """Record a removal planned for `reference` on `planned_on`. If the person is protected on
    that day, the people the protection's source names (for an NRM case, the competent
    authority's decision makers and the referring first responder, and for a child or an
    age-disputed person the safeguarding leads of their area's local authority and guardian
    service) are alerted at once, and the case's timeline says so. A part of them left with nobody (a referring organisation with no
    first responder) has its stand-in told instead: that news waits, never the alert.

    The answer it gives is the check's, so a reference the system knows is recorded as a read
    of the person too (of both people's, answered through a link), as `protection_check`
    records it: the data-protection officer's page lists it. An unknown one names nobody: the
    event alone records it.

    A planned removal is counted in the operation's report and public account, and alerts
    people: the same form sent twice (`submission_key`, the form's one-time key or an API
    `Idempotency-Key`) records it once. Sent again, the removal the first send recorded is
    returned (`Recorded.repeat`) with the answer for its day, read again (so a read is
    recorded), and nothing else is written, nobody alerted; `KeyUsed` if the key recorded
    another reference or day."""
    earlier = _sent_before(by, submission_key, reference, planned_on)
    finding = protection_for_reference(reference, planned_on)
    protection = finding.protection
    if finding is not NOT_FOUND:
        _record_reads(by, reference, finding)
    if earlier is not None:
        return Recorded(earlier, protection, repeat=True)
    try:
        with transaction.atomic():
            planned = PlannedRemoval.objects.create(
                reference=reference,
                planned_on=planned_on,
                organisation=organisation,
                recorded_by=by,
                protected=protection.protected,
                reason=protection.reason or "",
                protected_until=protection.until,
                source=protection.source,
                submission_key=submission_key,
            )
    except IntegrityError:
        # The same form sent at the same moment: the other send held the key until it
        # committed, and its removal is the answer (it alerted; this one alerts nobody).
        earlier = _sent_before(by, submission_key, reference, planned_on)
        if earlier is None:
            raise
        return Recorded(earlier, protection, repeat=True)
    told, told_instead = (
        _alert(finding, organisation, reference, planned_on) if protection.protected else ([], [])
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
            "told_instead": told_instead,
        },
    )
    return Recorded(planned, protection)


def _sent_before(
    by: User, submission_key: str, reference: str, planned_on: date
) -> PlannedRemoval | None:
    """The removal `by` recorded with this key if it was for `reference` on `planned_on` (the
    same form sent again); `KeyUsed` if it was for another; None if the key was never used."""
    if not submission_key:
        return None
    earlier = PlannedRemoval.objects.filter(recorded_by=by, submission_key=submission_key).first()
    if earlier is not None and (earlier.reference, earlier.planned_on) != (reference, planned_on):
        raise KeyUsed(earlier)
    return earlier


def _alert(
    finding: Finding, organisation: Organisation, reference: str, planned_on: date
) -> tuple[list[Notification], list[int]]:
    """Alert those the protection's source names that a removal is planned while protected.
    Returns the alert's notifications, and the ids (sorted) of those told instead of a part
    left with nobody: not alerted, so not counted as alerted.

    The alert names the case those told hold: protection found through another referral of the
    person (ADR 0040) must not give them a reference of a referral they may not open."""
    reference = finding.case.reference if finding.case is not None else reference

    def alert(
        recipients: Iterable[User], stand_in: Callable[[], StandIn] | None
    ) -> list[Notification]:
        return deliver(
            recipients=recipients,
            kind="protection.planned_removal",
            subject=f"Removal planned for a protected person: {reference}",
            body=(
                f"{organisation.name} has recorded a removal planned for {long_date(planned_on)} "
                f"for {reference}. {finding.protection.answer} Contact them at once."
            ),
            url=finding.url,
            case=finding.case,
            stand_in=stand_in,
        )

    told_instead: list[User] = []
    make_stand_in = finding.alert_stand_in
    stand_in = None if make_stand_in is None else partial(_noted, make_stand_in, told_instead)
    referrers = list(finding.alert_referrers())
    # Someone on both sides is told once, as they were when everyone was one delivery: on the
    # referring side, which they leave with somebody in it (so no stand-in).
    referring = {user.pk for user in referrers}
    told = alert([u for u in finding.alert_recipients() if u.pk not in referring], None)
    told += alert(referrers, stand_in)
    # As `deliver` tells a stand-in's recipients: the active ones, once each.
    return told, sorted({user.pk for user in told_instead if user.is_active})


def _noted(make: Callable[[], StandIn], into: list[User]) -> StandIn:
    """The stand-in `make` returns (`deliver` asks for it only when it is needed), its
    recipients added to `into`, for the audit event to name."""
    notice = make()
    recipients = list(notice.recipients)
    into.extend(recipients)
    return replace(notice, recipients=recipients)
