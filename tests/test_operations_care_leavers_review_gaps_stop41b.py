"""Two gaps found in the review of stop 41's changes, each by the person it failed.

An operation's board, report and public account read every case whose reasonable grounds
decision is suspended as "Missing" (`operations.selectors.standing_of`), though since stop 41 a
suspended case whose person came back and whose return was recorded is "back"
(`decisions.selectors.back_from_missing`, the one rule the daily reminders read too). Now the
board says where such a person stands (placed, waiting, referred), and "missing now" counts
only those not back; a person missing again is missing again.

A care leaver's open children's services task stays the council's to finish (ADR 0025, stop
41), but a risk that rose after the 18th birthday was told to nobody arranging where they stay
(`safeguarding.services._child_safety_changed_told` told nobody once the case was an adult's).
Now the local authority's safeguarding leads of the task's area hear of it, with a link to the
task they still open; the guardian service, a child's, stays out.

All people, places and organisations are synthetic.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.care import services as care
from opennrm.care.models import MissingEpisode
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.selectors import back_from_missing
from opennrm.notifications.models import Notification
from opennrm.operations import selectors
from opennrm.operations.models import Operation, ReceptionRecord
from opennrm.operations.report import operation_report
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import TaskStatus
from opennrm.safety import services as safety

from . import case_factories, factories
from . import operation_helpers as op

pytestmark = pytest.mark.django_db


def _suspended_then_back(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> tuple[Operation, ReceptionRecord, Case, MissingEpisode]:
    """Person 1 of an operation, referred and placed with Test Refuge, went missing on 14 March
    2027; the reasonable grounds decision was suspended on the 15th; they came back to the safe
    house on the 16th and Maya recorded the return."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = op.taken_in_as_adult(
            alice, operation, "woman in a blue coat", sex="female", urgent_needs=["bed_tonight"]
        )
    with time_machine.travel("2027-03-13 10:00:00+00:00", tick=False):
        case = case_factories.housed(
            alice,
            northmoor_police,
            authority,
            cora,
            maya,
            provider,
            submitted_at=timezone.now(),
            reasonable_grounds_due=date(2027, 3, 20),
            assigned_to=dmitri,
        )
        op.submitted_as(record, case)
    case = factories.suspended_while_missing(
        case,
        reported_by=maya,
        decider=dmitri,
        missing_at="2027-03-14 10:00:00+00:00",
        suspended_at="2027-03-15 10:00:00+00:00",
        returned_at="2027-03-16 10:00:00+00:00",
    )
    return operation, record, case, MissingEpisode.objects.get(case=case)


def test_a_person_back_from_missing_is_not_missing_on_the_operation_board(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> None:
    """Who: Alice, whose force leads the operation, reads its board and report.
    What: person 1, placed with Test Refuge, went missing; Dmitri suspended the reasonable
    grounds decision; they came back to the safe house and Maya recorded the return (the
    reminders count the case as back).
    Should: the board says where they stand now (placed, living there again), and the report
    counts nobody missing now (the public account reads the same standing)."""
    operation, record, case, _ = _suspended_then_back(
        alice, northmoor_police, authority, cora, maya, provider, dmitri
    )
    assert case.status == CaseStatus.RG_SUSPENDED
    assert back_from_missing().filter(pk=case.pk).exists()

    with time_machine.travel("2027-03-17 10:00:00+00:00", tick=False):
        record = selectors.reception_of(operation).get(pk=record.pk)
        assert selectors.standing_of(record) == selectors.Standing.PLACED
        report = operation_report(operation)
        assert report.missing_now == 0
        assert report.standings[selectors.Standing.PLACED] == 1
        board = factories.signed_in_client(alice).get(
            reverse("operations:board", args=[operation.pk])
        )
    rows = board.content.decode().split("<tbody", 1)[1]
    assert "Placed" in rows
    assert "Missing" not in rows


def test_a_person_missing_again_is_missing_and_the_board_asks_nothing_per_row(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> None:
    """Who: Alice, reading the operation's board.
    What: person 1, back from missing after the suspension, goes missing again on 18 March.
    Should: from the rows the board reads, their standing is worked out with no query per row:
    placed while back, "Missing" again (and counted missing now) once they are gone again."""
    operation, record, case, _ = _suspended_then_back(
        alice, northmoor_police, authority, cora, maya, provider, dmitri
    )
    rows = list(selectors.reception_of(operation))
    with CaptureQueriesContext(connection) as queries:
        standings = [selectors.standing_of(row) for row in rows]
    assert standings == [selectors.Standing.PLACED]
    assert len(queries) == 0

    with time_machine.travel("2027-03-18 10:00:00+00:00", tick=False):
        care.missing_report(
            by=maya, case=case, went_missing_on=date(2027, 3, 18), last_seen="The bus station"
        )
        record = selectors.reception_of(operation).get(pk=record.pk)
        assert selectors.standing_of(record) == selectors.Standing.MISSING
        assert operation_report(operation).missing_now == 1


def test_the_council_holding_a_care_leavers_open_task_hears_that_the_risk_rose(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
    gail: User,
) -> None:
    """Who: Lena, Testshire council's safeguarding lead; Gail, Testshire's guardian service.
    What: a child referred at 17 with an accommodation task open turns 18 today; the task stays
    open and Lena's to finish (she is still arranging where they stay). Then Alice, the
    referrer, records that the risk is now very high (the exploiters were seen near them).
    Should: Lena is told, with a link to the task she still opens (as she would have been the
    day before): she is the one placing them. Gail, whose service works with children only, is
    not told of an adult."""
    today = timezone.localdate()
    child = case_factories.turning_18_today(alice, northmoor_police, authority)
    task, _ = safeguarding.children_accommodation_task_open(
        case=child, needs=["A bed tonight"], due_on=today, by=alice
    )
    assert coming_of_age.run(today).turned_18 == 1
    child.refresh_from_db()
    task.refresh_from_db()
    assert child.age_group == AgeGroup.ADULT
    assert task.status == TaskStatus.OPEN
    Notification.objects.all().delete()

    safety.safety_profile_save(
        by=alice,
        case=child,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The men who exploited her were seen outside her foster home",
    )

    told = Notification.objects.filter(recipient=lena, case=child)
    assert told.exists(), "the council arranging her place was not told the risk rose"
    notice = told.get()
    assert notice.url == reverse("safeguarding:task", args=[task.pk])
    assert factories.signed_in_client(lena).get(notice.url).status_code == 200
    assert "is now very high" in notice.subject
    assert child.reference in notice.subject
    assert not Notification.objects.filter(recipient=gail).exists()
