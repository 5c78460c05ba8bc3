"""Human-friendly references: short, unambiguous when read aloud or typed, and not guessable."""

from __future__ import annotations

import secrets
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
