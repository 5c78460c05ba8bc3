"""The `Idempotency-Key` request header, as draft-ietf-httpapi-idempotency-key-header has it:
the same key with the same request answers with the first response
(`Idempotent-Replayed: true`); the same key with a different request is refused, 422, naming
the header (`KeyReused`). Every operation that takes the header refuses through `KeyReused`.

What tells a retry from a different request is a fingerprint: a keyed hash (HMAC-SHA-256, keyed
with the site's secret) of the canonical JSON of the request, never the request itself, which
may say things about a person. Keyed, so nobody can test a guess of the words against it.

Where an operation's own records keep nothing to compare (a request for information, an
addition), `keyed` keeps the key and the fingerprint (`api.IdempotencyKey`). The others compare
what their records keep: a referral (`referrals.api_submission`, per organisation), a person
taken in during an operation (`operations.services.reception_take_in`, a fingerprint of its
own, per operation) and a planned removal (`protection.services.planned_removal_record`, its
reference and day).

A key is kept for 24 hours (`KEY_EXPIRY`), as the draft asks a resource to publish: older, it is
forgotten, and a request sent with it is a new request here; the nightly retention run deletes
it (`expired_keys_delete`). The service is given the key's use, not the key alone: `send` is
told when the key was first used (since it was last forgotten), and what the service keeps for
it (`submission_key`, kept for ever) names that use (`referrals.api._submission_key`). So a
forgotten key is forgotten by the service too: the same request, or the key on another case,
is then new there as well. The others keep their keys in records kept for ever, and honour them
as long.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from ninja import Status

from opennrm.accounts.models import User
from opennrm.cases.models import Case

from .models import IdempotencyKey
from .schemas import ErrorsOut, field_errors_out

HEADER = "Idempotency-Key"
# How long a key kept here is honoured, from its first use (docs/api.md, "Idempotency-Key"): long
# enough for any client's retries, short enough that a key is not refused for ever.
KEY_EXPIRY = timedelta(hours=24)


class KeyReused(ValidationError):
    """The key was already used for a different request: 422, naming the header (through
    `api.schemas.refusal`, as any refusal). `used_for` and `use_new_for` say more where the
    operation knows what the key made."""

    def __init__(
        self,
        used_for: str = "for a different request",
        use_new_for: str = "each new request, and send a retry exactly as the first request",
    ) -> None:
        super().__init__(
            {
                HEADER: [
                    f"This {HEADER} was already used {used_for}. Use a new key for {use_new_for}."
                ]
            }
        )


def key_reused(used_for: str, use_new_for: str) -> Status[ErrorsOut]:
    """`KeyReused`'s 422 answer, for an operation that does not answer through
    `api.schemas.refusal` (so need not declare its 409)."""
    return Status(422, field_errors_out(KeyReused(used_for, use_new_for).message_dict))


def fingerprint(request: Mapping[str, Any]) -> str:
    """The keyed hash of a request: its address's parameters and its validated body, as JSON
    with sorted keys (the same request always gives the same text)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return salted_hmac("opennrm.api.idempotency", canonical, algorithm="sha256").hexdigest()


def replayed(response: HttpResponse) -> None:
    """Say that the answer is the first request's."""
    response["Idempotent-Replayed"] = "true"


def _first(
    by: User, operation: str, key: str, sent: str, case: Case | None
) -> tuple[bool, datetime]:
    """Claim the key for this request: True if it is the key's first, False for a retry, and
    when the key was first used (the same for every retry until it is forgotten); `KeyReused` if
    it was used for another request. The unique constraint makes a request sent twice at once
    wait for the first to commit (PostgreSQL), then read its key. A key older than
    `KEY_EXPIRY` is forgotten: deleted here, not waiting for the nightly sweep, and claimed anew
    (a request sent twice at once then waits as above for the one that claimed it)."""
    keys = IdempotencyKey.objects.filter(user=by, operation=operation, key=key)
    keys.filter(created_at__lte=timezone.now() - KEY_EXPIRY).delete()
    earlier = keys.first()
    if earlier is None:
        try:
            with transaction.atomic():
                claimed = IdempotencyKey.objects.create(
                    user=by, operation=operation, key=key, fingerprint=sent, case=case
                )
            return True, claimed.created_at
        except IntegrityError:
            earlier = IdempotencyKey.objects.get(user=by, operation=operation, key=key)
    # An erased person's key has no fingerprint left: nothing can be shown the same.
    if earlier.fingerprint != sent:
        raise KeyReused()
    return False, earlier.created_at


def keyed[T](
    response: HttpResponse,
    key: str | None,
    *,
    by: User,
    operation: str,
    request: Mapping[str, Any],
    send: Callable[[datetime | None], T],
    check: Callable[[], None] | None = None,
    case: Case | None = None,
) -> T:
    """Make what the request asks once per key: `send` calls the service (given the key, so
    that it finds what a first request made) and returns what it made; a retry's response says
    it was replayed (`Idempotent-Replayed`). `send` is given when the key was first used (None without a key): the same for
    every retry within `KEY_EXPIRY`, a new time once the key is forgotten, so that what the
    service keeps for the key is forgotten with it. A key is its member's (`by`) in one
    `operation`; `request` is everything the request says (the address's parameters and the
    validated body), so the same key sent to another case is another request.

    `check` refuses a request (`ValidationError`) for what may change between a request and its
    retry, such as a date that must be today or later: it is run before a first use only, once
    the key is looked up, so a retry is answered with the first response whatever the time
    (sent at 23:58, retried at 00:02). `request` is then the request as sent, before any such
    check, so that the same request always gives the same fingerprint.

    The key is kept with what `send` writes, in one transaction: if `send` or `check` refuses
    (`ValidationError`), nothing is kept, and the key can be sent again with a corrected
    request."""
    if key is None:
        if check is not None:
            check()
        return send(None)
    with transaction.atomic():
        first, first_used = _first(by, operation, key, fingerprint(request), case)
        if first and check is not None:
            check()
        made = send(first_used)
    if not first:
        replayed(response)
    return made


def expired_keys_delete(*, now: datetime) -> int:
    """Delete the keys older than `KEY_EXPIRY`, already forgotten (`_first`); how many. Called
    only by `privacy.services.retention_apply`, each night, whose audit event counts them."""
    return IdempotencyKey.objects.filter(created_at__lte=now - KEY_EXPIRY).delete()[0]
