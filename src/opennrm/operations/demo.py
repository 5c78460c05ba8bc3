"""Fictional operations for the demo, led by the demo police force, made through the real
services:

- Operation Harbour Lights: confidential while it was planned, a week long, 167 people expected
  (mostly women; sexual and labour exploitation; some children), with the demo's safe-house
  provider, local authority and competent authority invited. It is planned here as under way
  until today; `pages.demo_operation` then takes its 167 people in and follows what happened to
  them, and dates its end three days ago.
- Operation Quiet Tide: confidential and planned, starting in five days, whose bed forecast
  shows the gap between the people expected and the places free in the region.

Idempotent: an operation of either name already led by the force is left as it is.

Every name and number here is invented; the total echoes the 167 people Operation Pentameter 2
found in 2007, which is the story OpenNRM started from.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, User

from . import services
from .models import Operation

NAME = "Operation Harbour Lights (fictional)"
# Harbour Lights ran from nine days ago to three days ago (`pages.demo_operation` ends it).
STARTED_DAYS_AGO = 9
ENDED_DAYS_AGO = 3
# The region of the demo's women's safe house (`accommodation.demo.SAFE_HOUSE`), whose free
# beds the forecasts count.
REGION = "north_west"

# (sex, age group, exploitation type) -> people expected: 167 in all, 127 of them women or
# girls, 16 children or age disputed.
EXPECTED: dict[tuple[str, str, str], int] = {
    ("female", "adult", "sexual"): 88,
    ("female", "adult", "labour"): 22,
    ("female", "adult", "domestic_servitude"): 6,
    ("female", "child", "sexual"): 6,
    ("female", "age_disputed", "sexual"): 4,
    ("female", "child", "labour"): 1,
    ("male", "adult", "labour"): 28,
    ("male", "adult", "criminal"): 5,
    ("male", "child", "criminal"): 3,
    ("male", "age_disputed", "labour"): 2,
    ("unknown", "adult", "sexual"): 2,
}
LANGUAGES = ["ro", "sq", "vi", "zh", "pl"]
PARTNERS = [
    ("Lanternhouse Refuge Trust", "support_provider"),
    ("Riverside Borough Council", "local_authority"),
    ("Eastgate Competent Authority", "competent_authority"),
]

UPCOMING = "Operation Quiet Tide (fictional)"
UPCOMING_EXPECTED: dict[tuple[str, str, str], int] = {
    ("female", "adult", "sexual"): 34,
    ("female", "adult", "domestic_servitude"): 4,
    ("female", "age_disputed", "sexual"): 2,
    ("male", "adult", "labour"): 9,
    ("male", "child", "criminal"): 1,
}
UPCOMING_PARTNERS = [*PARTNERS, ("Riverside Child Guardian Service", "child_guardian_service")]


@transaction.atomic
def seed() -> None:
    responder = User.objects.get(email="responder@demo.opennrm.test")
    police = Organisation.objects.get(name="Northmoor Constabulary")
    today = timezone.localdate()
    if not Operation.objects.filter(name=NAME, lead_organisation=police).exists():
        _plan(
            responder,
            police,
            NAME,
            # Under way until today, so that its people can be taken in and its surge places
            # added through the services; `pages.demo_operation` then dates its end back.
            starts_on=today - timedelta(days=STARTED_DAYS_AGO),
            ends_on=today,
            expected=EXPECTED,
            partners=PARTNERS,
        )
    if not Operation.objects.filter(name=UPCOMING, lead_organisation=police).exists():
        _plan(
            responder,
            police,
            UPCOMING,
            starts_on=today + timedelta(days=5),
            ends_on=today + timedelta(days=8),
            expected=UPCOMING_EXPECTED,
            partners=UPCOMING_PARTNERS,
        )


def _plan(
    responder: User,
    police: Organisation,
    name: str,
    *,
    starts_on: date,
    ends_on: date,
    expected: dict[tuple[str, str, str], int],
    partners: list[tuple[str, str]],
) -> None:
    operation = services.operation_plan(
        by=responder,
        lead_organisation=police,
        name=name,
        confidential=True,
        starts_on=starts_on,
        ends_on=ends_on,
        region=REGION,
        expected=expected,
        languages=LANGUAGES,
    )
    for partner, role in partners:
        services.operation_partner_invite(
            by=responder,
            operation=operation,
            organisation=Organisation.objects.get(name=partner),
            role=role,
        )
