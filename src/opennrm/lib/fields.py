"""Model fields and file storage that encrypt at rest, transparently to the ORM.

`identity.given_names` reads as text and `PersonIdentity.objects.create(given_names=...)` writes
as before; only the database holds ciphertext (`opennrm.lib.crypto` tokens, in `text` columns).
What the ORM cannot do on ciphertext it refuses, rather than answering wrongly:

- no lookups but `isnull` (`filter(given_names="Ana")` raises FieldError; search through the
  blind indexes instead, `cases.selectors.people_matching`);
- no JSON key transforms on `EncryptedJSONField`;
- ordering by an encrypted column orders by ciphertext, which is meaningless: do not.

The keys come from settings (`ENCRYPTION_KEYS`, `BLIND_INDEX_KEYS`); the keyring is rebuilt
whenever those settings are replaced (as `override_settings` and a restart do).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.deconstruct import deconstructible

from . import crypto

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


class EncryptedMixin(models.Field):
    """Stores `encode(value)` encrypted as text; reads it back with `decode`.

    The context bound into every token is `<app>.<model>.<field>`, so a token moved to another
    column or table does not decrypt. Renaming a model or field therefore needs a migration that
    re-encrypts the column.
    """

    encryption_context = ""

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.encryption_context = f"{cls._meta.label_lower}.{name}"

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
        return self.decode(keyring().decrypt_text(value, self.encryption_context))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        return self.seal(value)

    def seal(self, value: Any) -> str | None:
        """The value as stored: encrypted under the primary key (None stays NULL). For writers
        that bypass the ORM, such as PostgreSQL COPY."""
        if value is None:
            return None
        return keyring().encrypt_text(self.encode(value), self.encryption_context)


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
