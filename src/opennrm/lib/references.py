"""Human-friendly references: short, unambiguous when read aloud or typed, and not guessable."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError

# Crockford's base 32: no I, L, O or U, so nothing is mistaken for 1, 0 or rude words.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str, length: int = 8) -> str:
    """For example NRM-7K3Q-9XPD. 8 characters give 32**8 (about 10**12) possibilities."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    groups = [body[i : i + 4] for i in range(0, length, 4)]
    return "-".join([prefix, *groups])


def unused_reference(model: Any, prefix: str) -> str:
    """A new reference that no row of `model` (a model with a `reference` field) holds yet.
    Five collisions in a row among 10**12 mean a fault, not bad luck: refused."""
    for _ in range(5):
        reference = new_reference(prefix)
        if not model.objects.filter(reference=reference).exists():
            return reference
    raise IntegrityError(f"Could not find a free {prefix} reference")


class ReferenceTaken(Exception):
    """A new row drew a reference another row holds: draw again (in a new transaction)."""


@contextmanager
def reference_kept_unique() -> Iterator[None]:
    """Around the INSERT of a row whose reference was drawn without looking first: the unique
    constraint's refusal becomes `ReferenceTaken`. Looking first costs every insert a query
    to avoid a collision that comes about once in a million inserts with a million rows
    stored; the refusal aborts the transaction, so the caller draws again in a new one."""
    try:
        yield
    except IntegrityError as error:
        # PostgreSQL names the constraint (cases_case_reference_key), SQLite the column.
        if "reference" in str(error):
            raise ReferenceTaken from error
        raise
