"""The checks of contact details and references, one place for the forms and the services
(which check again, so that nothing gets round them): each gives the message to show, or None.

Phone numbers are checked simply (`phonenumbers` is not a dependency): digits with the usual
separators, a leading + for an international number, 10 to 15 digits in all (a UK number has
10 or 11; ITU-T E.164 allows 15). References are free in form, since every force and the Home
Office write their own, but bounded and limited to the characters references use.
"""

from __future__ import annotations

import re

PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-.]+$")
REFERENCE_CHARACTERS = re.compile(r"^[A-Za-z0-9 /\-.:_]+$")
PHONE_EXAMPLE = "like 01632 960 001, 07700 900 982 or +44 7700 900 982"


def phone_problem(value: str, label: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not PHONE_CHARACTERS.match(value):
        return f"{label} must be a phone number, {PHONE_EXAMPLE}"
    digits = sum(character.isdigit() for character in value)
    if digits < 10:
        return f"{label} is too short: enter the whole number with its area code, {PHONE_EXAMPLE}"
    if digits > 15:
        return f"{label} is too long: a phone number has at most 15 digits"
    return None


def reference_problem(value: str, label: str, limit: int) -> str | None:
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        return f"{label} must be {limit} characters or fewer"
    if not REFERENCE_CHARACTERS.match(value):
        return f"{label} can only include letters, numbers, spaces and the characters / - . : _"
    return None


def address_refusal(location_type: str) -> str:
    """Why an address is not kept for a person staying in this kind of place (or none)."""
    from .models import LocationType

    if not location_type:
        return (
            "Select where the person is staying before giving an address: an address is kept "
            "only for family or friends, detention, hospital or somewhere else"
        )
    return (
        f"Do not record an address for \u2018{LocationType(location_type).label}\u2019: an "
        "address is kept only for family or friends, detention, hospital or somewhere else. "
        "Remove it, or change where they are staying"
    )
