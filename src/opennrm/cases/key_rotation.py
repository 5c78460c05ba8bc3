"""Key rotation: re-encrypt every encrypted value and file under the primary key, and recompute
every blind index under the current blind-index key (`manage.py rotate_keys`).

This is the write service for rotation. It lives apart from `services.py` because it is not an
action on a case: it walks every table that has an encrypted field (found from the models, so
a new encrypted field is rotated without change here) and every encrypted file storage.

1. For each target (a table, or a table's files), in a fixed order, find its progress row in
   `KeyRotation` for the current pair of keys; a finished one is skipped, an unfinished one
   continues after its `last_pk`.
2. Take the next batch of rows by primary key, locked (`SELECT ... FOR UPDATE`, so nobody's edit
   in between is lost), with their stored tokens read raw.
3. A token already under the primary key and bound to its row is kept as it is; any other
   (under an older key, or an `enc1` token bound to its column only) is decrypted and
   encrypted again, bound to the row's `row_uuid`. Blind indexes are recomputed from the
   decrypted values. Only rows that change are
   written (raw, so the fields do not encrypt the ciphertext a second time).
4. The batch and its progress commit together; an interrupted run loses at most one batch of
   work and never leaves a row half done. Running again after the end changes nothing.
5. Files are rewritten one by one, each atomically (a new file renamed over the old one).
6. Digests other apps keep under the blind-index key (`KEYED_DIGESTS`: linkage's blocking keys
   and pair fingerprints, ADR 48) are recomputed under the current one, batch by batch, with
   their progress kept the same way.
7. When every target is finished, one audit event records the counts; progress rows for other
   keys are removed, and every key but the primary (and the current blind-index key) is no
   longer needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from opennrm.audit.services import audit_record
from opennrm.lib import crypto, fields
from opennrm.lib.labels import stored_label

from .models import KeyRotation, PersonIdentity, identity_indexes

BATCH_SIZE = 1000


@dataclass
class Tally:
    checked: int = 0
    rewritten: int = 0
    missing: int = 0  # files whose row exists but whose file does not
    already_done: bool = False


Report = Callable[[str, Tally], None]


class RotationFailed(Exception):
    """A value could not be decrypted with the configured keys; the message names where."""


def _value_models() -> list[type[models.Model]]:
    found = [m for m in apps.get_models() if fields.encrypted_fields(m)]
    return sorted(found, key=stored_label)


def _file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    found = [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
        and isinstance(field.storage, fields.EncryptedFileSystemStorage)
    ]
    return sorted(found, key=lambda pair: f"{stored_label(pair[0])}.{pair[1].name}")


# One batch of keyed digests recomputed: the last primary key it covered, the rows it checked
# and the rows it rewrote.
DigestBatch = tuple[int, int, int]


@dataclass(frozen=True)
class KeyedDigests:
    """Digests another app keeps under the blind-index key, which rotation recomputes under the
    current key as it does the blind indexes: otherwise they stay under the old key, which then
    cannot be removed without breaking what looks them up. Registered in `KEYED_DIGESTS` from
    that app's AppConfig.ready: cases imports none of the apps built on it (ADR 20)."""

    target: str  # its progress row's target, `<app>.<model>` as stored
    # Given (after, size): recompute the digests of the next `size` rows after primary key
    # `after`, inside the rotation's transaction, writing only those that change; None once no
    # row is left.
    rekey: Callable[[int, int], DigestBatch | None]


# A list rather than a function to register with, as `accounts.services.MEMBERSHIP_CHANGED`.
KEYED_DIGESTS: list[KeyedDigests] = []


def targets() -> list[str]:
    """Every target rotation covers, in the order it covers them."""
    return (
        [stored_label(m) for m in _value_models()]
        + [f"{stored_label(m)}.{f.name}:files" for m, f in _file_fields()]
        + [digests.target for digests in KEYED_DIGESTS]
    )


def _progress(
    target: str, ring: crypto.Keyring, index: crypto.BlindIndex, restart: bool
) -> KeyRotation:
    progress, created = KeyRotation.objects.get_or_create(
        target=target,
        key_id=ring.primary.id,
        index_key_id=index.current.id,
        defaults={"started_at": timezone.now()},
    )
    if restart and not created:
        progress.last_pk = progress.checked = progress.rewritten = progress.missing = 0
        progress.started_at, progress.finished_at = timezone.now(), None
        progress.save()
    return progress


def _advance(
    progress: KeyRotation, last_pk: int, checked: int, rewritten: int, missing: int = 0
) -> None:
    KeyRotation.objects.filter(pk=progress.pk).update(
        last_pk=last_pk,
        checked=F("checked") + checked,
        rewritten=F("rewritten") + rewritten,
        missing=F("missing") + missing,
    )
    progress.last_pk = last_pk


def _finish(progress: KeyRotation) -> Tally:
    """Mark the target done (if it was not already); the totals of its rotation to these keys."""
    already_done = progress.finished_at is not None
    progress.refresh_from_db()
    if not already_done:
        progress.finished_at = timezone.now()
        progress.save(update_fields=["finished_at"])
        # Progress towards other keys is obsolete: if those keys come back, start afresh.
        KeyRotation.objects.filter(target=progress.target).exclude(pk=progress.pk).delete()
    return Tally(progress.checked, progress.rewritten, progress.missing, already_done)


def _identity_indexes(plain: dict[str, str]) -> list[str]:
    born = plain["date_of_birth"]
    values = identity_indexes(
        given_names=plain["given_names"],
        family_name=plain["family_name"],
        date_of_birth=date.fromisoformat(born) if born else None,
    )
    return [values["name_index"], values["dob_index"]]


@dataclass(frozen=True)
class BlindIndexes:
    columns: list[str]  # the index columns, in the order `compute` returns them
    sources: set[str]  # the encrypted fields they are computed from (decrypted; None as "")
    compute: Callable[[dict[str, str]], list[str]]


# Tables with blind indexes, and how to compute them from decrypted values.
BLIND_INDEXES: dict[type[models.Model], BlindIndexes] = {
    PersonIdentity: BlindIndexes(
        ["name_index", "dob_index"],
        {"given_names", "family_name", "date_of_birth"},
        _identity_indexes,
    ),
}


class _Batch:
    """One table's rotation: how to read its tokens raw and write them back raw."""

    def __init__(self, model: type[models.Model], ring: crypto.Keyring) -> None:
        self.model = model
        self.ring = ring
        self.fields = fields.encrypted_fields(model)
        bound = fields.row_field(model)
        assert bound is not None  # noqa: S101 - the system check opennrm.E001 requires one
        self.row_field = bound
        self.indexes = BLIND_INDEXES.get(model)
        self.index_columns = self.indexes.columns if self.indexes else []
        self.raw = {f"raw_{f.attname}": Cast(f.attname, TextField()) for f in self.fields}
        quote = connection.ops.quote_name
        self.table, self.pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))
        self.columns = [quote(str(f.column)) for f in self.fields] + [
            quote(c) for c in self.index_columns
        ]

    def write(self, changes: list[list[Any]]) -> None:
        """Store the changed rows' new values, raw. Names come from the model's metadata,
        quoted; every value is a parameter."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement per batch: far fewer round trips than a statement per row.
                row = "(" + ", ".join(["%s::text"] * len(self.columns) + ["%s::bigint"]) + ")"
                cursor.execute(
                    f"UPDATE {self.table} AS t SET "  # noqa: S608
                    + ", ".join(f"{c} = v.{c}" for c in self.columns)
                    + f" FROM (VALUES {', '.join([row] * len(changes))})"
                    + f" AS v({', '.join(self.columns)}, rotated_pk)"
                    + f" WHERE t.{self.pk} = v.rotated_pk",
                    [value for change in changes for value in change],
                )
            else:
                cursor.executemany(
                    f"UPDATE {self.table} SET "  # noqa: S608
                    + ", ".join(f"{c} = %s" for c in self.columns)
                    + f" WHERE {self.pk} = %s",
                    changes,
                )

    def rows(self, after: int, size: int) -> list[tuple[Any, ...]]:
        query = (
            self.model._default_manager.select_for_update()
            .filter(pk__gt=after)
            .order_by("pk")
            .annotate(**self.raw)
            .values_list("pk", self.row_field.attname, *self.raw, *self.index_columns)
        )
        return list(query[:size])

    def rotated(self, row: tuple[Any, ...]) -> list[Any] | None:
        """The row's new stored values, or None if it is already as rotation would leave it."""
        pk, bound, tokens = row[0], str(row[1]), list(row[2 : 2 + len(self.fields)])
        stored_indexes = list(row[2 + len(self.fields) :])
        sources = self.indexes.sources if self.indexes else set()
        new: list[str | None] = []
        plain: dict[str, str] = {}
        try:
            for field, token in zip(self.fields, tokens, strict=True):
                context = field.encryption_context
                if token is None or (self.ring.is_current(token) and field.name not in sources):
                    new.append(token)
                    continue
                value = self.ring.decrypt(token, context, bound)
                if field.name in sources:
                    plain[field.name] = value.decode("utf-8")
                current = self.ring.is_current(token)
                new.append(token if current else self.ring.encrypt(value, context, bound))
        except crypto.DecryptionError as problem:
            raise RotationFailed(f"{stored_label(self.model)} row {pk}: {problem}") from None
        indexes: list[str] = []
        if self.indexes is not None:
            indexes = self.indexes.compute({name: plain.get(name, "") for name in sources})
        if new == tokens and indexes == stored_indexes:
            return None
        return [*new, *indexes, pk]


def _rotate_values(
    model: type[models.Model],
    progress: KeyRotation,
    ring: crypto.Keyring,
    size: int,
    report: Report | None,
) -> None:
    batch = _Batch(model, ring)
    while True:
        with transaction.atomic():
            rows = batch.rows(progress.last_pk, size)
            if not rows:
                return
            changes = [change for change in map(batch.rotated, rows) if change is not None]
            if changes:
                batch.write(changes)
            _advance(progress, rows[-1][0], len(rows), len(changes))
        if report is not None:
            report(progress.target, Tally(len(rows), len(changes)))


def _rotate_files(
    model: type[models.Model],
    field: models.FileField,
    progress: KeyRotation,
    size: int,
    report: Report | None,
) -> None:
    storage = field.storage
    assert isinstance(storage, fields.EncryptedFileSystemStorage)  # noqa: S101 - _file_fields
    while True:
        rows = list(
            model._default_manager.filter(pk__gt=progress.last_pk)
            .order_by("pk")
            .values_list("pk", field.attname)[:size]
        )
        if not rows:
            return
        rewritten = missing = 0
        for pk, name in rows:
            if not name:
                continue
            try:
                rewritten += storage.rotate(name)
            except FileNotFoundError:
                missing += 1
            except crypto.DecryptionError as problem:
                raise RotationFailed(f"{progress.target} row {pk}: {problem}") from None
        _advance(progress, rows[-1][0], len(rows), rewritten, missing)
        if report is not None:
            report(progress.target, Tally(len(rows), rewritten, missing))


def _rotate_digests(
    digests: KeyedDigests, progress: KeyRotation, size: int, report: Report | None
) -> None:
    while True:
        with transaction.atomic():
            batch = digests.rekey(progress.last_pk, size)
            if batch is None:
                return
            last_pk, checked, rewritten = batch
            _advance(progress, last_pk, checked, rewritten)
        if report is not None:
            report(progress.target, Tally(checked, rewritten))


def keys_rotate(
    *, batch_size: int = BATCH_SIZE, restart: bool = False, report: Report | None = None
) -> dict[str, Tally]:
    """Bring every encrypted value, file, blind index and keyed digest to the current keys;
    resumable and idempotent. Returns, per target, the rows checked and rewritten by the whole
    rotation to these keys, earlier interrupted runs included. `report` is told after every
    batch."""
    ring, index = fields.keyring(), fields.blind_index()
    summary: dict[str, Tally] = {}
    for model in _value_models():
        progress = _progress(stored_label(model), ring, index, restart)
        if progress.finished_at is None:
            _rotate_values(model, progress, ring, batch_size, report)
        summary[progress.target] = _finish(progress)
    for model, field in _file_fields():
        progress = _progress(f"{stored_label(model)}.{field.name}:files", ring, index, restart)
        if progress.finished_at is None:
            _rotate_files(model, field, progress, batch_size, report)
        summary[progress.target] = _finish(progress)
    # After the values: the digests are computed from them, decrypted.
    for digests in KEYED_DIGESTS:
        progress = _progress(digests.target, ring, index, restart)
        if progress.finished_at is None:
            _rotate_digests(digests, progress, batch_size, report)
        summary[progress.target] = _finish(progress)
    audit_record(
        by=None,
        action="encryption.keys_rotated",
        detail={
            "key_id": ring.primary.id,
            "index_key_id": index.current.id,
            "targets": {target: asdict(tally) for target, tally in summary.items()},
        },
    )
    return summary
