"""Human-friendly references: short, unambiguous when read aloud or typed, and not guessable."""

from __future__ import annotations

import secrets

# Crockford's base 32: no I, L, O or U, so nothing is mistaken for 1, 0 or rude words.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str, length: int = 8) -> str:
    """For example NRM-7K3Q-9XPD. 8 characters give 32**8 (about 10**12) possibilities."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    groups = [body[i : i + 4] for i in range(0, length, 4)]
    return "-".join([prefix, *groups])
