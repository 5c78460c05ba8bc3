"""The audit trail's hash chain: each event's hash covers its own fields and the hash of the
event before it, so editing or deleting any event breaks every link after it.

The canonical form is version 1 and must never change: events already written were hashed with
it (migration 0003 hashed the events that existed before the chain, with a frozen copy of this
code). A new form would need a new version, recorded in the form itself.

What the chain does not show: events removed from the end (the chain is still whole, only
shorter). `verify_audit` prints the newest event's hash so that it can be kept somewhere else
and compared later.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from typing import Any

from .models import AuditEvent

VERSION = 1
# The hash the first event follows.
GENESIS = ""
# Every field of an event that the hash covers, in the order they are read back from the table.
HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "organisation_id",
    "ip_address",
    "request_id",
    "detail",
)


_SCALARS = (str, int, bool, type(None))


def _plain(value: Any) -> Any:
    """JSON as the database gives it back: whole-number floats as integers (PostgreSQL's jsonb
    stores 1e20 as a number with no exponent), everything else as it is."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@lru_cache(maxsize=4096)
def _address(value: str | None) -> str | None:
    # One spelling per address, whatever the database prints (PostgreSQL's inet and Python
    # disagree on some IPv6 forms).
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).exploded
    except ValueError:
        return value


def _moment(value: datetime) -> str:
    # The same as strftime("%Y-%m-%dT%H:%M:%S.%fZ") in UTC, several times faster.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _canonical_row(row: tuple[Any, ...], previous_hash: str) -> bytes:
    """`canonical` for the fields as a tuple in HASHED_FIELDS order (the walk's fast path)."""
    form = dict(zip(HASHED_FIELDS, row, strict=True))
    form["v"] = VERSION
    form["previous_hash"] = previous_hash
    form["at"] = _moment(form["at"])
    form["ip_address"] = _address(form["ip_address"])
    form["detail"] = _plain(form["detail"])
    return _encode(form).encode()


def canonical(values: Mapping[str, Any], previous_hash: str) -> bytes:
    """The bytes an event's hash is taken over: its fields and the previous hash, as JSON with
    sorted keys and no spaces."""
    return _canonical_row(tuple(values[name] for name in HASHED_FIELDS), previous_hash)


def hash_of(values: Mapping[str, Any], previous_hash: str) -> str:
    return hashlib.sha256(canonical(values, previous_hash)).hexdigest()


def event_values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


@dataclass(frozen=True)
class Break:
    event_id: int
    reason: str


@dataclass(frozen=True)
class Verification:
    count: int
    last_id: int | None
    last_hash: str
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _rows(batch_size: int) -> Iterator[tuple[Any, ...]]:
    """Every event in the order it was chained (by id), a batch at a time, each batch one query
    on the primary key: memory stays flat however long the trail."""
    # From the lowest id there is, not from 1: a row forged with id 0 or below is walked too.
    events = AuditEvent.objects.all()
    columns = ("id", "previous_hash", "hash", *HASHED_FIELDS)
    while True:
        batch = list(events.order_by("id").values_list(*columns)[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        events = AuditEvent.objects.filter(id__gt=batch[-1][0])


def verify(*, batch_size: int = 5000) -> Verification:
    """Walk the chain from the first event to the last and stop at the first broken link."""
    count, last_id, last_hash = 0, None, GENESIS
    for event_id, previous_hash, stored_hash, *fields in _rows(batch_size):
        if previous_hash != last_hash:
            reason = (
                f"event {event_id} does not follow event {last_id}: an event between them was "
                "deleted, or one of them was changed or inserted"
                if last_id is not None
                else f"event {event_id} is the first, but follows another: the events before it "
                "were deleted"
            )
            return Verification(count, last_id, last_hash, Break(event_id, reason))
        if sha256(_canonical_row(tuple(fields), previous_hash)).hexdigest() != stored_hash:
            reason = f"event {event_id} has been changed since it was written"
            return Verification(count, last_id, last_hash, Break(event_id, reason))
        count, last_id, last_hash = count + 1, event_id, stored_hash
    return Verification(count, last_id, last_hash, None)
