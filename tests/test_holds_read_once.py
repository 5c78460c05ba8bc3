"""A bed's hold for an operation is read once where one read answers: counting beds by state
asks the database once per bed whether a live hold keeps it, and placing by hand reads the
bed's hold once for both of its checks (ADR 0044)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opennrm.accommodation import selectors
from opennrm.accommodation import services as accommodation
from opennrm.accommodation import surge as accommodation_surge
from opennrm.accommodation.models import Bed, BedHold
from opennrm.accounts.models import Organisation, User
from opennrm.operations.models import Operation

from . import support_factories as s
from . import surge_helpers

pytestmark = pytest.mark.django_db

DAY = date(2027, 3, 11)  # the operation (10 to 16 March 2027) is under way
NOON = timezone.make_aware(datetime.combine(DAY, time(12)))


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    return surge_helpers.invited_operation(alice, northmoor_police, provider)


def test_counting_beds_by_state_asks_once_whether_a_bed_is_held(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    house = s.site(maya, provider)
    held, _free, out = s.beds(maya, house, 3)
    with time_machine.travel(NOON, tick=False):
        surge_helpers.hold(maya, planned, house, expires_at=NOON + timedelta(hours=6))
        accommodation.bed_set_in_service(by=maya, bed=out, in_service=False, reason="Broken")
        with CaptureQueriesContext(connection) as queries:
            (row,) = selectors.counted_by_state(Bed.objects.all(), "room__site_id")
    assert BedHold.objects.get().bed == held
    assert {k: row[k] for k in ("beds", "free", "reserved", "occupied", "out_of_service")} == {
        "beds": 3,
        "free": 1,
        "reserved": 1,
        "occupied": 0,
        "out_of_service": 1,
    }
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert sql.count(BedHold._meta.db_table) == 1, sql


def test_placing_by_hand_reads_the_beds_hold_once(
    planned: Operation,
    alice: User,
    maya: User,
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    house = s.site(maya, provider)
    (bed,) = s.beds(maya, house, 1)
    reads = []
    live_holds = accommodation_surge.live_holds

    def counted(now: datetime) -> Any:
        reads.append(now)
        return live_holds(now)

    with time_machine.travel(NOON, tick=False):
        surge_helpers.hold(maya, planned, house, expires_at=NOON + timedelta(hours=6))
        person = surge_helpers.person_maker(alice, northmoor_police, authority)()
        request = s.request(person, operation_id=planned.pk)
        monkeypatch.setattr(accommodation_surge, "live_holds", counted)
        locked = accommodation._lock_free_bed(bed.pk, request, DAY)
    assert locked == bed
    assert len(reads) == 1
