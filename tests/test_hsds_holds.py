"""Review (penetration test) of the public support directory's HSDS export against a
confidential operation's secrecy (ADR 39, 44; threat model row 11).

The export publishes, per service, the beds free now (`available`), all its beds (`maximum`)
and the day one of them last changed state (`updated`). Every real change of a bed's state (a
placement reserving it, taking it out of service, adding beds) writes a `BedEvent`, so a change
of `available` comes with `updated` moving to that day. Holding beds for an operation writes no
`BedEvent` (`accommodation.surge.bed_hold`), yet `selectors.counted_by_state` takes held beds
from the free ones: the public sees `available` fall with `updated` unchanged, a change no bed
explains. Only a hold does that, so anyone polling the public export learns that a provider is
holding beds for an operation that has not started, and how many (its scale).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from opennrm.accommodation import hsds
from opennrm.accommodation import services as accommodation_services
from opennrm.accounts.models import Organisation, User
from opennrm.operations.models import Operation

from . import operation_helpers, surge_helpers
from . import support_factories as s

pytestmark = pytest.mark.django_db

LONG_BEFORE = "2027-02-20 10:00:00+00:00"  # the provider's beds are older than the hold


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    made = surge_helpers.invited_operation(alice, northmoor_police, provider)
    assert made.confidential
    return made


def _capacity(service_public_id: str) -> dict[str, Any]:
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        exported = json.loads(json.dumps(hsds.directory_export()))
    (entry,) = [s for s in exported["services"] if s["id"] == service_public_id]
    (capacity,) = entry["capacities"]
    return {key: capacity[key] for key in ("available", "maximum", "updated")}


def test_a_hold_for_a_confidential_operation_not_yet_started_is_not_told_by_the_public_export(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Before the operation starts, holding two of a house's three beds must not show in the
    public export as a change no bed's history explains: either nothing changes, or it looks
    like any other change of a bed (dated the day it happened)."""
    with time_machine.travel(LONG_BEFORE, tick=False):
        house = s.site(maya, provider, name="North House")
        service = accommodation_services.service_create(
            by=maya, provider=provider, name="Safe accommodation"
        )
        house.services.add(service)
        s.beds(maya, house, 3)
    before = _capacity(str(service.public_id))
    assert before["available"] == 3
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        surge_helpers.hold(
            maya,
            planned,
            house,
            expires_at=timezone.make_aware(datetime.combine(date(2027, 3, 17), time(12))),
            count=2,
        )
    after = _capacity(str(service.public_id))
    figures_moved = after["available"] != before["available"]
    dated_today = after["updated"] != before["updated"]
    assert not figures_moved or dated_today, (
        f"the public export went from {before} to {after}: two beds fewer free, with no bed "
        "changing state that day; only a hold for an operation does that"
    )
