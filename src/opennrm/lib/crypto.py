"""Encryption at rest for identifying data: AES-256-GCM under a keyring, and keyed blind indexes.

Pure Python with no Django import, so it is easy to test, benchmark and reuse; configuration
reaches it through `opennrm.settings` (see `load_keys`). The reasons for each choice are in
`docs/adr/0012-field-encryption.md`.

A value is encrypted into a text token that carries the id of the key that encrypted it:

    enc2$<key id>$<base64url(12-byte nonce || ciphertext || 16-byte tag)>

- New values are always encrypted under the keyring's primary key (the first one configured);
  a token is decrypted with whichever configured key its id names, so several keys can be in
  use at once while `rotate_keys` moves everything to the primary.
- The associated data binds the token to its header, to a *context*, the column it belongs
  in (for example `cases.personidentity.given_names`), and to its *row* (the row's random
  `row_uuid`, see `opennrm.lib.fields.RowUUIDField`): a token copied into another column or
  another row, or with its key id edited, fails to decrypt rather than showing the wrong thing.
- `enc1` tokens, written before values were bound to their row, name no row. They are still
  read (`rotate_keys` and a migration rewrite them as `enc2`), and `encrypt` without a row
  still writes them, for the few writers that have no row: a column's default in a migration,
  and `QuerySet.update` to an empty value (see `fields.EncryptedMixin.get_db_prep_value`).
- Plaintext is padded to a multiple of `PAD_TO` bytes before encryption, so the length of a
  token says little about the length of a name.
- Any failure (unknown key, malformed token, tampering, wrong context) raises `DecryptionError`,
  whose message never contains plaintext or key material.

Files use the same cipher with a binary header (`ONRMENC1`, key id) in front of the nonce.

Blind indexes are HMAC-SHA256 under separate keys, over a normalised value (case, accents and
spacing ignored), so an exact-match search can find a row without decrypting the table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_VERSION = "enc2"  # noqa: S105 - a format marker, not a secret: bound to a row
UNBOUND_VERSION = "enc1"  # bound to its column only (written before rows were bound, or rowless)
TOKEN_PREFIX = TOKEN_VERSION + "$"
TOKEN_VERSIONS = (TOKEN_VERSION, UNBOUND_VERSION)
FILE_MAGIC = b"ONRMENC1"
KEY_BYTES = 32  # AES-256; also the size of every blind-index key
NONCE_BYTES = 12  # GCM's standard nonce; random, so at most ~2**32 values per key (see the ADR)
TAG_BYTES = 16
PAD_TO = 32
INDEX_BYTES = 16  # blind-index digests are truncated to 128 bits: 32 hexadecimal characters
KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class DecryptionError(ValueError):
    """A token or file that cannot be decrypted: unknown key, malformed, or tampered with."""


class KeyConfigError(ValueError):
    """Key configuration that cannot be used. The message never includes a secret."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.id):
            raise KeyConfigError(
                f"key id {self.id!r} must be 1 to 32 letters, digits, '.', '_' or '-'"
            )
        if len(self.secret) != KEY_BYTES:
            raise KeyConfigError(
                f"key {self.id!r} must be {KEY_BYTES} random bytes (base64-encoded), "
                f"not {len(self.secret)} bytes"
            )


# --- Configuration ------------------------------------------------------------------------------


def parse_keys(text: str, *, source: str) -> list[Key]:
    """Keys written as `id:base64key`, separated by commas or new lines; `#` starts a comment.

    The first key is the primary. `source` names where the text came from, for messages.
    """
    keys: list[Key] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0]
        for item in line.split(","):
            item = item.strip()
            if not item:
                continue
            key_id, colon, encoded = item.partition(":")
            if not colon:
                raise KeyConfigError(
                    f"{source}, line {number}: each key must be written as id:base64key"
                )
            try:
                secret = base64.b64decode(
                    encoded.strip().replace("-", "+").replace("_", "/"), validate=True
                )
            except (binascii.Error, ValueError):
                raise KeyConfigError(
                    f"{source}, line {number}: key {key_id.strip()!r} is not valid base64"
                ) from None
            try:
                keys.append(Key(key_id.strip(), secret))
            except KeyConfigError as problem:
                raise KeyConfigError(f"{source}, line {number}: {problem}") from None
    return keys


def load_keys(value: str, file: str | None, *, names: tuple[str, str]) -> list[Key]:
    """The keys from an environment variable's value and/or a key file, the variable's first.

    `names` are the variable's and the file variable's names, for messages. A key id given
    twice with the same secret counts once; with different secrets it is refused.
    """
    variable, file_variable = names
    keys = parse_keys(value, source=variable)
    if file:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as problem:
            raise KeyConfigError(
                f"{file_variable}: cannot read {file!r} ({problem.strerror})"
            ) from None
        keys += parse_keys(text, source=f"{file_variable} ({file})")
    unique: dict[str, Key] = {}
    for key in keys:
        seen = unique.setdefault(key.id, key)
        if not hmac.compare_digest(seen.secret, key.secret):
            raise KeyConfigError(f"key id {key.id!r} is given twice with different secrets")
    return list(unique.values())


def demo_key(purpose: str) -> Key:
    """A FIXED, PUBLICLY KNOWN key for demo mode only: anyone can derive it from this source.

    It exists so that `make run` works without generating keys. Data encrypted under it is as
    good as plaintext; settings use it only when OPENNRM_DEMO is on and no key is configured.
    """
    return Key(
        "demo", hashlib.sha256(f"opennrm demo only, never real data: {purpose}".encode()).digest()
    )


def new_key_line(key_id: str) -> str:
    """A freshly generated key, as a line for OPENNRM_ENCRYPTION_KEYS or a key file."""
    key = Key(key_id, secrets.token_bytes(KEY_BYTES))
    return f"{key.id}:{base64.b64encode(key.secret).decode('ascii')}"


# --- Encryption ---------------------------------------------------------------------------------


def _pad(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding: 0x80, then zeros up to a multiple of PAD_TO."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % PAD_TO)


def _unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise DecryptionError("the decrypted value has no valid padding")
    return stripped[:-1]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Keyring:
    """Several keys at once: the first (primary) encrypts; any of them decrypts."""

    def __init__(self, keys: Sequence[Key]) -> None:
        if not keys:
            raise KeyConfigError("a keyring needs at least one key")
        ids = [key.id for key in keys]
        if len(set(ids)) != len(ids):
            raise KeyConfigError("every key in a keyring needs its own id")
        self.keys = tuple(keys)
        self.primary = keys[0]
        self._ciphers = {key.id: AESGCM(key.secret) for key in keys}
        self._primary_cipher = self._ciphers[self.primary.id]
        self._primary_header = f"{TOKEN_PREFIX}{self.primary.id}$"
        self._unbound_header = f"{UNBOUND_VERSION}${self.primary.id}$"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self.keys)

    # Values in database columns.

    def encrypt(self, plaintext: bytes, context: str, row: str | None = None) -> str:
        """A token under the primary key, bound to `context` and, given one, to `row`."""
        header = self._primary_header if row is not None else self._unbound_header
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._primary_cipher.encrypt(
            nonce, _pad(plaintext), _associated(header, context, row)
        )
        return header + _b64encode(nonce + sealed)

    def decrypt(self, token: str, context: str, row: str | None = None) -> bytes:
        """The plaintext of a token read from `context` in `row`. A bound token read without
        its row is refused; an unbound (`enc1`) one ignores the row."""
        version, key_id, body = _split(token)
        if version == TOKEN_VERSION and row is None:
            raise DecryptionError(f"the encrypted value for {context} is bound to a row")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(
                f"no configured key has the id {key_id!r} (was it removed before rotate_keys "
                "finished?)"
            )
        try:
            raw = _b64decode(body)
        except (binascii.Error, ValueError):
            raise DecryptionError("the encrypted value is not valid base64") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("the encrypted value is too short")
        header = f"{version}${key_id}$"
        bound = row if version == TOKEN_VERSION else None
        try:
            padded = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(header, context, bound)
            )
        except InvalidTag:
            where = f"{context} in row {row}" if bound is not None else context
            raise DecryptionError(
                f"the encrypted value for {where} failed authentication: it was altered, "
                "moved from another row or column, or the key with its id is not the one that "
                "encrypted it"
            ) from None
        return _unpad(padded)

    def encrypt_text(self, text: str, context: str, row: str | None = None) -> str:
        return self.encrypt(text.encode("utf-8"), context, row)

    def decrypt_text(self, token: str, context: str, row: str | None = None) -> str:
        return self.decrypt(token, context, row).decode("utf-8")

    def is_current(self, token: str) -> bool:
        """Whether the token is under the primary key and bound to a row (no decryption, no
        check of the tag)."""
        return token.startswith(self._primary_header)

    def rotate(self, token: str, context: str, row: str) -> str:
        """The same value under the primary key and bound to `row`; the token itself if it
        already is."""
        if self.is_current(token):
            return token
        return self.encrypt(self.decrypt(token, context, row), context, row)

    # Files.

    def encrypt_file(self, data: bytes, context: str) -> bytes:
        header = _file_header(self.primary.id)
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._primary_cipher.encrypt(nonce, data, header + context.encode())

    def decrypt_file(self, blob: bytes, context: str) -> bytes:
        key_id, offset = file_key_id(blob)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(f"no configured key has the id {key_id!r}")
        nonce = blob[offset : offset + NONCE_BYTES]
        try:
            return cipher.decrypt(
                nonce, blob[offset + NONCE_BYTES :], blob[:offset] + context.encode()
            )
        except InvalidTag:
            raise DecryptionError(
                f"the encrypted file {context} failed authentication: it was altered, moved or "
                "renamed"
            ) from None


def _associated(header: str, context: str, row: str | None) -> bytes:
    """The associated data: the token's header, its column and (bound tokens) its row."""
    bound = header + context if row is None else f"{header}{context}\x00{row}"
    return bound.encode("utf-8")


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split("$", 2) if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] not in TOKEN_VERSIONS:
        raise DecryptionError("the stored value is not an encrypted value")
    return parts[0], parts[1], parts[2]


def token_key_id(token: str) -> str:
    """The id of the key a token was encrypted under (read from its header, not verified)."""
    return _split(token)[1]


def is_token(value: object) -> bool:
    """Whether a stored value has the shape of an encrypted value (no decryption)."""
    return (
        isinstance(value, str)
        and value.split("$", 1)[0] in TOKEN_VERSIONS
        and value.count("$") >= 2
    )


def is_bound(token: str) -> bool:
    """Whether a token is bound to its row (read from its header, not verified)."""
    return token.startswith(TOKEN_PREFIX)


def _file_header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return FILE_MAGIC + bytes([len(encoded)]) + encoded


def file_key_id(blob: bytes) -> tuple[str, int]:
    """The key id in an encrypted file's header, and where the nonce starts."""
    if not blob.startswith(FILE_MAGIC) or len(blob) <= len(FILE_MAGIC):
        raise DecryptionError("the stored file is not an encrypted file")
    length = blob[len(FILE_MAGIC)]
    start = len(FILE_MAGIC) + 1
    offset = start + length
    if len(blob) < offset + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("the stored file is too short")
    try:
        return blob[start:offset].decode("ascii"), offset
    except UnicodeDecodeError:
        raise DecryptionError("the stored file has a malformed header") from None


def file_overhead(key_id: str) -> int:
    """How many bytes encryption adds to a file under this key id."""
    return len(_file_header(key_id)) + NONCE_BYTES + TAG_BYTES


# --- Blind indexes ------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """A name as a search compares it: accents stripped, case folded, spaces collapsed.

    "  Zórica   TESTOVA " and "zorica testova" give the same result.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    # Case folding can produce new combining marks (for example from a dotted capital I).
    refolded = unicodedata.normalize("NFKD", folded)
    return " ".join("".join(c for c in refolded if not unicodedata.combining(c)).split())


class BlindIndex:
    """Keyed digests for exact-match search. The first key is current; the others are older keys
    still accepted by searches while `rotate_keys` recomputes every stored digest."""

    def __init__(self, keys: Sequence[Key]) -> None:
        if not keys:
            raise KeyConfigError("a blind index needs at least one key")
        self.keys = tuple(keys)
        self.current = keys[0]

    def _digest(self, secret: bytes, purpose: bytes, value: str) -> str:
        message = purpose + b"\x00" + value.encode("utf-8")
        return hmac.new(secret, message, hashlib.sha256).digest()[:INDEX_BYTES].hex()

    def of_name(self, name: str) -> str:
        """The digest of a whole name under the current key; empty for an empty name."""
        normalised = normalise_name(name)
        return self._digest(self.current.secret, b"name", normalised) if normalised else ""

    def of_date(self, value: date | None) -> str:
        return self._digest(self.current.secret, b"date", value.isoformat()) if value else ""

    def name_candidates(self, name: str) -> list[str]:
        """The digests a stored name could have, under every configured key."""
        normalised = normalise_name(name)
        if not normalised:
            return []
        return [self._digest(key.secret, b"name", normalised) for key in self.keys]

    def date_candidates(self, value: date) -> list[str]:
        return [self._digest(key.secret, b"date", value.isoformat()) for key in self.keys]


def shared_secrets(first: Iterable[Key], second: Iterable[Key]) -> bool:
    """Whether any key appears in both sets (an encryption key must never index, and back)."""
    secrets_in_first = [key.secret for key in first]
    return any(hmac.compare_digest(a, key.secret) for key in second for a in secrets_in_first)


if __name__ == "__main__":
    # python3 -m opennrm.lib.crypto [KEY_ID]: print a new key for the configuration.
    print(new_key_line(sys.argv[1] if len(sys.argv) > 1 else "k1"))
