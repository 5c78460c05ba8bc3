"""Anchors: the audit trail's head (how many events, the newest one's id and hash, and when),
appended to a file outside the database at intervals, so that a trail emptied, cut short or
rewritten by someone who can switch the database's triggers off is found out by `verify_audit`.

The hash chain alone cannot show events removed from its end: what is left is a whole chain, only
a shorter one. An anchor can, as long as the file is kept where the database's administrators
cannot write (a mount from another host, a file with the append-only attribute, a log shipped
elsewhere: each anchor is also logged). Every event's hash covers all those before it, so an
anchored event that still has its anchored hash vouches for the whole trail up to it.

The file holds one JSON object a line: {"at", "count", "last_id", "hash"}.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import chain
from .models import AuditEvent

logger = logging.getLogger(__name__)


class AnchorError(Exception):
    """The trail disagrees with an anchor, or the anchors cannot be read or written."""


@dataclass(frozen=True)
class Anchor:
    at: str
    count: int
    last_id: int | None
    hash: str


def configured_path() -> Path | None:
    value = getattr(settings, "AUDIT_ANCHOR_FILE", "")
    return Path(value) if value else None


def _whole(value: object) -> int:
    """A count or an id as the file holds it: a JSON whole number, nothing that `int` would
    merely make one of (2.5, "7", true, or 1e999, read as infinity)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not a whole number")
    return value


def read(path: Path) -> list[Anchor]:
    """Every anchor in the file, oldest first; none if it does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as problem:
        raise AnchorError(f"cannot read the anchor file {path}: {problem}") from None
    except UnicodeDecodeError as problem:
        raise AnchorError(
            f"the anchor file {path} is not text (not UTF-8 at byte {problem.start}): "
            "it cannot be trusted as it is"
        ) from None
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            anchor = Anchor(
                at=str(data["at"]),
                count=_whole(data["count"]),
                last_id=None if data["last_id"] is None else _whole(data["last_id"]),
                hash=str(data["hash"]),
            )
        # RecursionError: a line of arrays nested thousands deep, too deep for the JSON decoder.
        except (ValueError, KeyError, TypeError, RecursionError) as problem:
            raise AnchorError(
                f"the anchor file {path} has something other than an anchor on line {number} "
                f"({problem.__class__.__name__}: {problem}): it cannot be trusted as it is"
            ) from None
        if (anchor.count == 0) != (anchor.last_id is None):
            raise AnchorError(
                f"the anchor file {path} has an impossible anchor on line {number}: "
                f"{anchor.count} events, the newest {anchor.last_id}"
            )
        anchors.append(anchor)
    return anchors


def write(path: Path) -> Anchor:
    """Check the chain, then append its head to the file. A broken chain is not anchored: an
    anchor must only ever vouch for an intact trail."""
    result = chain.verify()
    if result.broken is not None:
        raise AnchorError(
            f"not anchored: the audit trail is broken at event {result.broken.event_id} "
            f"({result.broken.reason}); run manage.py verify_audit"
        )
    anchor = Anchor(
        at=timezone.now().isoformat(timespec="seconds"),
        count=result.count,
        last_id=result.last_id,
        hash=result.last_hash,
    )
    line = json.dumps(asdict(anchor), sort_keys=True) + "\n"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, line.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as problem:
        raise AnchorError(f"cannot append to the anchor file {path}: {problem}") from None
    logger.info("audit trail anchored: %s", line.strip())
    return anchor


def check(result: chain.Verification, anchors: Sequence[Anchor]) -> None:
    """Raise AnchorError if the trail (intact as a chain, as `result` says) is empty, shorter
    than an anchor or disagrees with one."""
    held = [anchor for anchor in anchors if anchor.last_id is not None]
    if not held:
        return
    longest = max(held, key=lambda anchor: anchor.count)
    if result.last_id is None:
        raise AnchorError(
            f"the audit trail is empty, but on {longest.at} it had {longest.count} events, the "
            f"newest {longest.last_id}: it has been emptied"
        )
    for anchor in held:
        if anchor.count > result.count or (anchor.last_id or 0) > result.last_id:
            raise AnchorError(
                f"the audit trail has {result.count} events, the newest {result.last_id}, but on "
                f"{anchor.at} it had {anchor.count}, the newest {anchor.last_id}: events have "
                "been removed from its end"
            )
    ids = sorted({anchor.last_id for anchor in held if anchor.last_id is not None})
    found: dict[int, str] = {}
    for start in range(0, len(ids), 1000):
        found.update(
            AuditEvent.objects.filter(id__in=ids[start : start + 1000]).values_list("id", "hash")
        )
    for anchor in held:
        event_id = anchor.last_id
        if event_id not in found:
            raise AnchorError(
                f"event {event_id}, the newest on {anchor.at}, is no longer in the audit trail: "
                "the trail has been rewritten"
            )
        if found[event_id] != anchor.hash:
            raise AnchorError(
                f"event {event_id} has the hash {found[event_id]}, but on {anchor.at} it had "
                f"{anchor.hash}: the trail up to it has been rewritten"
            )
