"""Model fields and file storage that encrypt at rest, transparently to the ORM.

`identity.given_names` reads as text and `PersonIdentity.objects.create(given_names=...)` writes
as before; only the database holds ciphertext (`opennrm.lib.crypto` tokens, in `text` columns).
What the ORM cannot do on ciphertext it refuses, rather than answering wrongly:

- no lookups but `isnull` (`filter(given_names="Ana")` raises FieldError; search through the
  blind indexes instead, `cases.selectors.people_matching`);
- no JSON key transforms on `EncryptedJSONField`;
- ordering by an encrypted column orders by ciphertext, which is meaningless: do not.

Every value is bound to its row as well as its column: a model with an encrypted field has a
`RowUUIDField` (`row_uuid`, random, set before the row is first saved), and the token's
associated data names it, so ciphertext swapped between two rows with SQL fails to decrypt
(`crypto.DecryptionError`) instead of showing one person's details as another's. The primary
key would not do: an automatic id is not known until after the INSERT that stores the value.
Values are encrypted in `pre_save`, where the row is known, and decrypted in `Model.from_db`
(which `RowUUIDField` extends), where the whole row is; `from_db_value` alone sees one column.
So `QuerySet.values()` of an encrypted column gives a `Sealed` value, not plaintext, and
`QuerySet.update()` cannot bind what it writes: it may only write an empty value (erasure does).

The keys come from settings (`ENCRYPTION_KEYS`, `BLIND_INDEX_KEYS`); the keyring is rebuilt
whenever those settings are replaced (as `override_settings` and a restart do).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.deconstruct import deconstructible

from . import crypto
from .labels import stored_label

_keyring: tuple[object, crypto.Keyring] | None = None
_blind_index: tuple[object, crypto.BlindIndex] | None = None


def keyring() -> crypto.Keyring:
    """The keyring built from settings.ENCRYPTION_KEYS, rebuilt when that setting changes."""
    global _keyring
    configured = settings.ENCRYPTION_KEYS
    if _keyring is None or _keyring[0] is not configured:
        _keyring = (configured, crypto.Keyring(configured))
    return _keyring[1]


def blind_index() -> crypto.BlindIndex:
    """The blind index built from settings.BLIND_INDEX_KEYS, rebuilt when it changes."""
    global _blind_index
    configured = settings.BLIND_INDEX_KEYS
    if _blind_index is None or _blind_index[0] is not configured:
        _blind_index = (configured, crypto.BlindIndex(configured))
    return _blind_index[1]


class Sealed:
    """A stored token not yet decrypted: what `from_db_value` gives until `Model.from_db` has
    the row to open it with, and what `pre_save` hands the database. Never shows the token."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<Sealed encrypted value>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    __hash__ = None  # type: ignore[assignment]


class RowUUIDField(models.UUIDField):
    """The random identity every encrypted value of a row is bound to (see the module).

    Unique, set when the model instance is made, never edited. Adding it to a model also makes
    the model's `from_db` decrypt the row's encrypted fields once the row is loaded.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", uuid.uuid4)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("unique", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        for option, value in (("default", uuid.uuid4), ("editable", False), ("unique", True)):
            if kwargs.get(option) == value:
                del kwargs[option]
        return name, path, args, kwargs

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if "from_db" in cls.__dict__:
            raise ImproperlyConfigured(f"{cls.__name__} has a RowUUIDField and its own from_db")
        cls.from_db = classmethod(_from_db)  # type: ignore[method-assign, assignment]


def row_field(model: type[models.Model]) -> RowUUIDField | None:
    found = [f for f in model._meta.concrete_fields if isinstance(f, RowUUIDField)]
    return found[0] if found else None


def _from_db(cls: type[models.Model], *args: Any, **kwargs: Any) -> models.Model:
    instance = models.Model.from_db.__func__(cls, *args, **kwargs)  # type: ignore[attr-defined]
    unseal(instance)
    return instance


def unseal(instance: models.Model) -> None:
    """Decrypt the instance's loaded encrypted values with its row (read from the database if
    it was deferred). A value that is not this row's raises `crypto.DecryptionError`."""
    row: str | None = None
    loaded = instance.__dict__
    for field in encrypted_fields(type(instance)):
        value = loaded.get(field.attname)
        if isinstance(value, Sealed):
            if row is None:
                bound = row_field(type(instance))
                assert bound is not None  # noqa: S101 - only RowUUIDField installs this
                row = str(getattr(instance, bound.attname))
            loaded[field.attname] = field.open(value.token, row)


class EncryptedMixin(models.Field):
    """Stores `encode(value)` encrypted as text; reads it back with `decode`.

    The context bound into every token is `<app>.<model>.<field>` (`labels.stored_label`), so a
    token moved to another column or table does not decrypt, and the row is the model's
    `RowUUIDField`, so one moved to another row does not either. Renaming a model or field
    therefore needs a migration that re-encrypts the column (moving a model to another app does
    not: it keeps its `stored_app_label`). A model without a `RowUUIDField` (only the historical
    models of migrations written before rows were bound) reads and writes unbound `enc1` tokens.
    """

    encryption_context = ""

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.encryption_context = f"{stored_label(cls)}.{name}"

    def check(self, **kwargs: Any) -> list[Any]:
        from django.core import checks

        problems = super().check(**kwargs)
        model = getattr(self, "model", None)
        if model is not None and not model._meta.abstract and row_field(model) is None:
            problems.append(
                checks.Error(
                    f"{model._meta.label} has an encrypted field but no RowUUIDField to bind "
                    "its values to their row",
                    hint="Add row_uuid = RowUUIDField() and a migration that fills it "
                    "(see the migrations named *_bind_encrypted_values_to_rows).",
                    obj=self,
                    id="opennrm.E001",
                )
            )
        return problems

    def _bound(self) -> bool:
        cached = self.__dict__.get("_bound_to_rows")
        if cached is None:
            cached = self.__dict__["_bound_to_rows"] = row_field(self.model) is not None
        return bool(cached)

    def open(self, token: str, row: str | None) -> Any:
        """The value of a stored token read from `row` of this column."""
        return self.decode(keyring().decrypt_text(token, self.encryption_context, row))

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> Any:
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def encode(self, value: Any) -> str:
        raise NotImplementedError

    def decode(self, text: str) -> Any:
        raise NotImplementedError

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if self._bound():
            return Sealed(value)  # opened by Model.from_db, which has the row
        return self.open(value, None)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)
        bound = row_field(type(model_instance))
        if value is None or isinstance(value, Sealed) or bound is None:
            return value
        row = getattr(model_instance, bound.attname)
        if row is None:
            row = uuid.uuid4()
            setattr(model_instance, bound.attname, row)
        return Sealed(self.seal(value, row=str(row)) or "")

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if isinstance(value, Sealed):
            return value.token
        if not prepared:
            value = self.get_prep_value(value)
        if value is not None and self._bound() and value not in ("", [], {}):
            # No row to bind to: QuerySet.update(), bulk_update() or a lookup value.
            raise FieldError(
                f"{self.encryption_context} is encrypted and bound to its row: write it by "
                "saving the model instance, not with QuerySet.update() or bulk_update()"
            )
        return self.seal(value)

    def seal(self, value: Any, row: str | None = None) -> str | None:
        """The value as stored: encrypted under the primary key and bound to `row` (None stays
        NULL). For writers that bypass the ORM, such as PostgreSQL COPY."""
        if value is None:
            return None
        return keyring().encrypt_text(self.encode(value), self.encryption_context, row)


class EncryptedTextField(EncryptedMixin, models.TextField):
    def encode(self, value: Any) -> str:
        return str(value)

    def decode(self, text: str) -> str:
        return text


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A CharField whose `max_length` limits the plaintext; the column itself is `text`."""

    def encode(self, value: Any) -> str:
        return str(value)

    def decode(self, text: str) -> str:
        return text


class EncryptedDateField(EncryptedMixin, models.DateField):  # type: ignore[misc]
    def encode(self, value: Any) -> str:
        return value.isoformat()

    def decode(self, text: str) -> date:
        return date.fromisoformat(text)


class EncryptedJSONField(EncryptedMixin, models.JSONField):
    def encode(self, value: Any) -> str:
        return json.dumps(value, cls=self.encoder, ensure_ascii=False, separators=(",", ":"))

    def decode(self, text: str) -> Any:
        return json.loads(text, cls=self.decoder)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedMixin]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]


@deconstructible(path="opennrm.lib.fields.EncryptedFileSystemStorage")
class EncryptedFileSystemStorage(FileSystemStorage):
    """Files encrypted with the keyring, in a folder under settings.PRIVATE_FILES_DIR.

    The folder is read from settings on every use (so tests and deployments can move it), files
    are never served by URL, and each file is bound to its stored name: a file renamed or
    swapped with another on disk fails to decrypt. A file is encrypted whole, in memory, which
    suits the evidence size limit (OPENNRM_EVIDENCE_MAX_MB); much larger files would need a
    streaming format.
    """

    def __init__(self, folder: str) -> None:
        super().__init__(location=None, base_url=None)
        self.folder = folder

    @property
    def base_location(self) -> str:
        return str(Path(settings.PRIVATE_FILES_DIR) / self.folder)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def context_for(self, name: str) -> str:
        return f"file:{self.folder}/{name}"

    def url(self, name: str | None) -> str:
        raise ValueError("Encrypted files are never served by URL, only by access-checked views")

    def _save(self, name: str, content: File) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        sealed = ContentFile(keyring().encrypt_file(data, self.context_for(name)))
        saved: str = super()._save(name, sealed)  # type: ignore[misc]
        if saved != name:
            # Another file took the name between the check and the write: this file is bound
            # to the name it was encrypted for, so it cannot stay under another.
            self.delete(saved)
            raise FileExistsError(f"{name} already exists")
        return saved

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written only through save()")
        with open(self.path(name), "rb") as stored:
            blob = stored.read()
        return File(io.BytesIO(keyring().decrypt_file(blob, self.context_for(name))), name=name)

    def size(self, name: str) -> int:
        """The size of the plaintext, from the file's size and its header."""
        with open(self.path(name), "rb") as stored:
            head = stored.read(
                len(crypto.FILE_MAGIC) + 1 + 255 + crypto.NONCE_BYTES + crypto.TAG_BYTES
            )
        key_id, _ = crypto.file_key_id(head)
        return os.path.getsize(self.path(name)) - crypto.file_overhead(key_id)

    def key_id(self, name: str) -> str:
        with open(self.path(name), "rb") as stored:
            head = stored.read(
                len(crypto.FILE_MAGIC) + 1 + 255 + crypto.NONCE_BYTES + crypto.TAG_BYTES
            )
        return crypto.file_key_id(head)[0]

    def rotate(self, name: str) -> bool:
        """Re-encrypt the file under the primary key if it is not already; True if rewritten.

        The new file replaces the old one atomically (write beside it, then rename), so a reader
        sees one or the other, never half of each.
        """
        ring = keyring()
        if self.key_id(name) == ring.primary.id:
            return False
        path = Path(self.path(name))
        plain = ring.decrypt_file(path.read_bytes(), self.context_for(name))
        sealed = ring.encrypt_file(plain, self.context_for(name))
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".rotating-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(sealed)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, path.stat().st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True


# --- Migrations ---------------------------------------------------------------------------------


def bind_to_rows(app_label: str, model_names: tuple[str, ...]) -> Any:
    """A migration operation that gives each row of these models a `row_uuid` and rewrites its
    encrypted values bound to it (`enc1` to `enc2`); reversed, it unbinds them again.

    Runs between adding `row_uuid` as a nullable `UUIDField` and making it a `RowUUIDField`.
    Reads and writes the columns raw, in batches by primary key; values already bound are kept,
    so running it again changes nothing. Needs the keys that encrypted the values.
    """
    from django.db import migrations

    def run(apps: Any, schema_editor: Any, *, bind: bool) -> None:
        ring = keyring()
        connection = schema_editor.connection
        quote = connection.ops.quote_name
        for name in model_names:
            model = apps.get_model(app_label, name)
            columns = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
            row_column = model._meta.get_field("row_uuid")
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
            names = [quote(f.column) for f in columns]
            select = (
                f"SELECT {pk}, {quote(row_column.column)}, {', '.join(names)} "  # noqa: S608
                f"FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT 1000"
            )
            update = (
                f"UPDATE {table} SET {quote(row_column.column)} = %s, "  # noqa: S608
                + ", ".join(f"{n} = %s" for n in names)
                + f" WHERE {pk} = %s"
            )
            last = 0
            while True:
                with connection.cursor() as cursor:
                    cursor.execute(select, [last])
                    rows = cursor.fetchall()
                if not rows:
                    break
                changes = []
                for key, stored_row, *tokens in rows:
                    row = uuid.UUID(str(stored_row)) if stored_row else uuid.uuid4()
                    new = []
                    for field, token in zip(columns, tokens, strict=True):
                        context = field.encryption_context
                        if token is None or crypto.is_bound(token) == bind:
                            new.append(token)
                            continue
                        plain = ring.decrypt(token, context, str(row))
                        new.append(ring.encrypt(plain, context, str(row) if bind else None))
                    stored = row_column.get_db_prep_value(row, connection)
                    changes.append([stored, *new, key])
                with connection.cursor() as cursor:
                    cursor.executemany(update, changes)
                last = rows[-1][0]

    def forward(apps: Any, schema_editor: Any) -> None:
        run(apps, schema_editor, bind=True)

    def backward(apps: Any, schema_editor: Any) -> None:
        run(apps, schema_editor, bind=False)

    return migrations.RunPython(forward, backward)
