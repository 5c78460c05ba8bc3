"""Recognise an uploaded file by what it contains, never by its name or declared type."""

from __future__ import annotations

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
