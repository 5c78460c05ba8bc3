"""Recognise an uploaded file by what it contains, never by its name or declared type."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

# The first bytes of each accepted kind of file.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]

EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def sniff_content_type(head: bytes) -> str | None:
    """The content type these leading bytes show, or None if they are not an accepted kind."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


# Other extensions each type may keep, as people name such files.
ALSO_KNOWN_AS = {"image/jpeg": {".jpeg", ".jpe"}}
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def safe_file_name(name: str, content_type: str) -> str:
    """`name`, ending in an extension of the type its content was found to be.

    A PDF uploaded as `statement.html` is named `statement.pdf`: saved from a download and
    opened, it opens as what it is, never as a page or a program. A name that already ends in
    an extension of its type (`.PDF`, `.jpeg`) is kept as it is; another extension is replaced
    (`photo.jpeg.exe` holding a PNG becomes `photo.jpeg.png`); a name without one gains it.
    """
    extension = EXTENSIONS[content_type]
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "evidence"
    found = _EXTENSION.search(base)
    if found is None or found.start() == 0:
        return base + extension
    if found.group().lower() in {extension} | ALSO_KNOWN_AS.get(content_type, set()):
        return base
    return base[: found.start()] + extension


class UploadRefused(ValueError):
    """An upload that cannot be kept, with the sentence that says why to the person."""


def upload_checked(upload: Any, max_bytes: int) -> tuple[str, str, str]:
    """`(content_type, sha256, file_name)` of an uploaded evidence file: not empty, smaller than
    `max_bytes`, and a PDF, JPEG or PNG by its content; `UploadRefused` with the reason if not.
    The name is `safe_file_name` of the uploader's; the upload is left at its start."""
    if upload.size is None or upload.size == 0:
        raise UploadRefused("The selected file is empty")
    if upload.size > max_bytes:
        raise UploadRefused(
            f"The selected file must be smaller than {max_bytes // (1024 * 1024)} MB"
        )
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    if content_type is None:
        raise UploadRefused("The selected file must be a PDF, JPEG or PNG")
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = safe_file_name((upload.name or "evidence")[-200:], content_type)
    return content_type, digest.hexdigest(), name


def stored_files_delete(records: Iterable[Any]) -> None:
    """Delete the stored files of these rows (each with a `file` field), written in a
    transaction that is being rolled back: no copy of a person's evidence is left with no row
    to find it (ADR 0014). A file that cannot be deleted is logged for the operator."""
    for record in records:
        if not record.file.name:
            continue
        try:
            record.file.storage.delete(record.file.name)
        except OSError:
            logger.warning(
                "could not delete a refused evidence file", extra={"file": record.file.name}
            )
