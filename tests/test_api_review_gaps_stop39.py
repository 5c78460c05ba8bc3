"""Gaps in the API found in review (stop 39): a queue row that names a decision maker who no
longer decides (reviewer: apidev); ISO dates before the year 1000 refused as a year "not of 4
digits" the caller never sent (found alongside: the operations API already sent four)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import Bed, PlacementStatus
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role

from . import api_helpers as a
from . import case_factories, factories
from . import support_factories as s


def test_a_queue_row_does_not_name_an_assignee_who_no_longer_decides(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Who is hurt: a person waiting for a reasonable grounds decision whose case was assigned
    to a decision maker who has since left the competent authority (or moved role).

    Now: the queue page says "Nobody: Sally ... no longer decides here", and the
    `assigned=unassigned` filter (API and page) lists the case among those nobody will decide.
    But the API's row, in that very `assigned=unassigned` answer, gives
    `"assigned_to": "<the departed decision maker>"` with nothing to say they are gone: a
    workflow system that treats a named assignee as "someone is on it" leaves the case
    undecided while the statutory clock runs.

    Should: the row says nobody decides the case (null `assigned_to`, or a flag that the
    assignee no longer decides), as the page does."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    case.assigned_to = sally
    case.save(update_fields=["assigned_to"])
    Membership.objects.filter(user=sally, organisation=authority).update(is_active=False)
    _, secret = a.token(dmitri, authority, scopes=a.EVERY_SCOPE)
    client = a.client_with(secret)
    response = client.get("/api/v1/queues/reasonable-grounds?assigned=unassigned")
    assert response.status_code == 200, response.content
    rows = [row for row in response.json()["items"] if row["reference"] == case.reference]
    assert len(rows) == 1, "the filter lists it among the cases nobody will decide"
    row = rows[0]
    assert (
        row["assigned_to"] is None
        or row.get("assignee_gone") is True
        or row.get("assignee_decides") is False
    ), row


def test_the_case_does_not_name_an_assignee_who_no_longer_decides_while_one_who_does_is(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """The case itself (`GET /api/v1/cases/{reference}`) says the same as its queue row: null
    once the assignee no longer decides; the name of one who still does."""
    gone, kept = (
        case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        for _ in range(2)
    )
    for case, assignee in ((gone, sally), (kept, dmitri)):
        case.assigned_to = assignee
        case.save(update_fields=["assigned_to"])
    Membership.objects.filter(user=sally, organisation=authority).update(is_active=False)
    _, secret = a.token(dmitri, authority, scopes=a.EVERY_SCOPE)
    client = a.client_with(secret)

    assert client.get(f"/api/v1/cases/{gone.reference}").json()["assigned_to"] is None
    assert client.get(f"/api/v1/cases/{kept.reference}").json()["assigned_to"] == "Dmitri Dane"
    rows = client.get("/api/v1/queues/reasonable-grounds").json()["items"]
    assert {row["reference"]: row["assigned_to"] for row in rows} == {
        gone.reference: None,
        kept.reference: "Dmitri Dane",
    }


# --- Dates before the year 1000 -----------------------------------------------------------------

FOUR_DIGITS = "enter the year as 4 digits"


@pytest.fixture
def accepted(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
) -> Any:
    """A placement the provider has accepted, waiting for the person to arrive."""
    site = s.site(maya, provider, name="North House")
    s.beds(maya, site, 1)
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    placement = accommodation.placement_make(
        by=cora, request=s.request(case), bed=Bed.objects.get(room__site=site)
    )
    accommodation.placement_respond(by=maya, placement=placement, accept=True)
    return placement


def _manager_api(maya: User, provider: Organisation) -> Any:
    _, secret = a.token(maya, provider, scopes=a.EVERY_SCOPE)
    return a.client_with(secret)


def test_an_arrival_in_the_year_999_is_refused_for_its_date_not_its_digits(
    accepted: Any, maya: User, provider: Organisation
) -> None:
    """ "0999-01-01" is an ISO date the caller sent in full: the answer names what is wrong
    with the day (before the place was offered), not a year "not of 4 digits"."""
    response = a.post_json(
        _manager_api(maya, provider),
        f"/api/v1/support/placements/{accepted.pk}/arrival",
        {"arrived_on": "0999-01-01"},
    )
    [error] = a.errors(response)
    assert error["field"] == "arrived_on"
    assert FOUR_DIGITS not in error["message"]
    assert error["message"].startswith(
        "The day they arrived cannot be before the place was offered"
    )
    accepted.refresh_from_db()
    assert accepted.status == PlacementStatus.ACCEPTED


def test_an_exit_in_the_year_999_is_refused_for_its_date_not_its_digits(
    accepted: Any, maya: User, provider: Organisation
) -> None:
    accommodation.placement_arrive(by=maya, placement=accepted, on=timezone.localdate())
    response = a.post_json(
        _manager_api(maya, provider),
        f"/api/v1/support/placements/{accepted.pk}/exit",
        {"ended_on": "0999-01-01", "reason": "moved_on"},
    )
    assert a.errors(response) == [
        {
            "step": None,
            "field": "ended_on",
            "message": "The day they left cannot be before the day they arrived",
        }
    ]
    accepted.refresh_from_db()
    assert accepted.status == PlacementStatus.OCCUPIED


def test_a_private_count_from_the_year_999_is_refused_for_its_date_not_its_digits(
    monitoring: Organisation,
) -> None:
    ann = factories.user("ann@example.org", organisation=monitoring, role=Role.ANALYST)
    _, secret = a.token(ann, monitoring, scopes=[a.STATISTICS_QUERY])
    with time_machine.travel("2026-12-31 10:00:00+00:00", tick=False):
        response = a.post_json(
            a.client_with(secret),
            "/api/v1/statistics/private-counts",
            {
                "start": "0999-01-01",
                "end": "0999-12-31",
                "dimensions": ["sex"],
                "epsilon": "0.1",
            },
        )
    assert a.errors(response) == [
        {
            "step": None,
            "field": "start",
            "message": "The start of the period must be on or after 1 April 2009",
        }
    ]
