"""The only writers of audit events.

Every service that changes something calls `audit_record`; every view that displays or exports a
person's identifying data calls `audit_read` before it does. Both append to one hash chain
(`audit.chain`), one writer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction

from opennrm.lib.labels import stored_label

from . import chain, context
from .models import AuditEvent

if TYPE_CHECKING:
    from opennrm.accounts.models import Organisation, User
    from opennrm.cases.models import Person

# The key of the PostgreSQL advisory lock that serialises writers of the chain: any constant
# that no other lock in the database uses (b"OpenNRMa" read as a big-endian 64-bit integer).
CHAIN_LOCK_KEY = int.from_bytes(b"OpenNRMa", "big", signed=True)

# What `audit_read` may record as having been done with the data.
READ_ACTIONS = frozenset({"person.viewed", "person.exported", "evidence.downloaded"})


def _chain_head() -> str:
    """Become the only writer of the chain until the surrounding transaction ends, so that no
    two events follow the same one (the chain never forks), and read the hash of its last
    event.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback, so the next
    writer reads the last hash only once this event is committed or gone; taken and followed by
    the read in one call of `audit_chain_head` (migration 0005), whose read sees what was
    committed before the lock was granted. (This needs READ COMMITTED, PostgreSQL's default and
    Django's.) SQLite lets one connection write at a time; a no-op write takes that lock now,
    before the last hash is read, so a second writer waits here instead of failing on its stale
    read.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT audit_chain_head(%s)", [CHAIN_LOCK_KEY])
            return cursor.fetchone()[0] or chain.GENESIS
        if connection.vendor == "sqlite":
            cursor.execute("UPDATE audit_auditevent SET id = id WHERE 0")
    return (
        AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or chain.GENESIS
    )


def _append(
    *,
    by: User | None,
    action: str,
    obj: models.Model | None,
    organisation: Organisation | None,
    person_id: int | None,
    detail: dict[str, Any],
) -> AuditEvent:
    request = context.current()
    # Inside a service's transaction no savepoint of its own: the event commits or rolls back
    # with the change it records (an audited write never commits without its event), and the
    # two statements a savepoint costs are not spent while every other writer waits.
    with transaction.atomic(savepoint=False):
        previous = _chain_head()
        event = AuditEvent(
            actor=by,
            actor_label=by.email if by is not None else "",
            action=action,
            object_type=stored_label(obj) if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            organisation=organisation,
            person_id=person_id,
            ip_address=request.ip_address if request else None,
            request_id=request.request_id if request else "",
            detail=detail,
            previous_hash=previous,
        )
        event.hash = chain.hash_of(chain.event_values(event), previous)
        event.save(force_insert=True)
    return event


def audit_record(
    *,
    by: User | None,
    action: str,
    obj: models.Model | None = None,
    organisation: Organisation | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `by=None` means the system itself (a command or a scheduled task).

    Call it last in the service, after any row locks the service takes: from here until the
    service's transaction ends, other writers of the audit trail wait.
    """
    return _append(
        by=by,
        action=action,
        obj=obj,
        organisation=organisation,
        person_id=None,
        detail=detail or {},
    )


def audit_read(
    *,
    by: User,
    person: Person | None,
    fields: Sequence[str],
    action: str = "person.viewed",
    obj: models.Model | None = None,
    document: models.Model | None = None,
    purpose: str = "",
    organisation: Organisation | None = None,
    context: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `by` was shown (or sent) a person's identifying data, before it is.

    `person` is the person the data is about; a draft referral has no person yet, and its reads
    are recorded against the draft (`obj`). `fields` names the identifying fields shown (not
    their values: the trail must hold no identifying data itself); `document` is a file given
    out, such as an evidence file. `purpose` is the reason the user gave, where one is asked.
    `context` adds what the read was of beyond the record: a protection check names the
    reference checked and whether it was found (protection.services).
    """
    if action not in READ_ACTIONS:
        raise ValueError(f"not a read action: {action}")
    detail: dict[str, Any] = {"fields": list(fields)}
    if document is not None:
        detail["document"] = {"type": stored_label(document), "id": document.pk}
    if purpose:
        detail["purpose"] = purpose
    if context:
        detail.update(context)
    return _append(
        by=by,
        action=action,
        obj=obj,
        organisation=organisation,
        person_id=person.pk if person is not None else None,
        detail=detail,
    )


def audit_trail_searched(*, by: User, filters: dict[str, str]) -> AuditEvent:
    """A search of the audit trail, recorded: the trail shows who looked at whom, when and from
    where, so looking at it is itself a look the officer must be able to see (threat model row
    6), as the person's reads page records each of its own look-ups."""
    return audit_record(by=by, action="audit.searched", detail={"filters": filters})
