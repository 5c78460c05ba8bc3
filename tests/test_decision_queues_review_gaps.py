"""The decision queues, found by review: the conclusive grounds queue has no deadline (ADR 30),
so it neither offers "Overdue only" nor tags a case "Overdue"; the workload counts every
overdue decision, reconsiderations too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.selectors import QueueFilter, queue, workload

from . import case_factories, factories


def today(offset: int = 0) -> Any:
    return timezone.localdate() + timedelta(days=offset)


def a_case(alice: User, police: Organisation, authority: Organisation, **fields: Any) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=police, authority=authority, **fields
    )


def in_recovery(alice: User, police: Organisation, authority: Organisation, days: int) -> Case:
    """A case whose conclusive grounds decision may be made from `days` from today."""
    return a_case(
        alice,
        police,
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        conclusive_grounds_from=today(days),
    )


def row_of(page: str, case: Case) -> str:
    return page.split(case.reference, 2)[-1].split("</tr>", 1)[0]


def test_overdue_only_is_not_silently_ignored_in_the_conclusive_grounds_queue(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """`conclusive_grounds_from` is the earliest day the decision may be made, not a deadline.
    The page offered "Overdue only" there and selectors.queue silently dropped it, so a
    decision maker who ticked it was shown cases that cannot be decided for weeks, under a
    ticked "Overdue only". Now the page does not offer it there, a link asking for it opens the
    queue without it, and the selector honours it: nothing in that queue is overdue."""
    not_yet = in_recovery(alice, northmoor_police, authority, 20)
    client = factories.signed_in_client(dmitri)
    response = client.get("/decisions/?queue=conclusive-grounds&overdue=yes")
    assert not_yet.reference not in response.content.decode(), (
        "'Overdue only' lists a case that cannot be decided for 20 days"
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert not_yet.reference in page
    assert "Overdue only" not in page
    assert "Can be decided now" in page
    assert not queue(Actor.of_session(dmitri), "conclusive-grounds", QueueFilter(overdue_only=True))
    # A queue with a deadline still offers it.
    assert "Overdue only" in client.get("/decisions/?queue=reconsiderations").content.decode()


def test_a_case_merely_eligible_for_conclusive_grounds_is_not_tagged_overdue(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """views.queue applied deadline_tag to `conclusive_grounds_from`, the first day a
    conclusive grounds decision may lawfully be made: a case eligible since three days ago was
    tagged "Overdue", one eligible in two days "Due soon", though ADR 30 says this queue has no
    deadline. Now the first says it can be decided now and the second has no tag (its date is
    in the "Eligible from" column)."""
    eligible = in_recovery(alice, northmoor_police, authority, -3)
    soon = in_recovery(alice, northmoor_police, authority, 2)
    page = factories.signed_in_client(dmitri).get("/decisions/?queue=conclusive-grounds")
    html = page.content.decode()
    assert "Overdue" not in row_of(html, eligible), (
        "a case merely eligible for a decision is tagged 'Overdue'"
    )
    assert "Can be decided now" in row_of(html, eligible)
    assert "Due soon" not in row_of(html, soon)
    assert "Can be decided now" not in row_of(html, soon)


def test_the_workload_counts_overdue_reconsiderations(
    dmitri: User, sally: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The workload table gave each decision maker's "Overdue" as their reasonable grounds
    cases past due only: a reconsideration assigned to Dmitri and past its decide-by date (a
    deadline the queue and home page both call overdue) showed Dmitri with 0 overdue. It now
    counts what each queue's "Overdue only" shows; a conclusive grounds case is never overdue."""
    a_case(
        alice,
        northmoor_police,
        authority,
        status=CaseStatus.RECONSIDERATION,
        reconsideration_decide_by=today(-5),
        assigned_to=dmitri,
    )
    a_case(
        alice,
        northmoor_police,
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        conclusive_grounds_from=today(-30),
        assigned_to=dmitri,
    )
    rows = {row["user"].pk: row for row in workload(Actor.of_session(sally))}
    assert rows[dmitri.pk]["open_cases"] == 2
    assert rows[dmitri.pk]["overdue"] == 1, "an overdue reconsideration is not counted overdue"
