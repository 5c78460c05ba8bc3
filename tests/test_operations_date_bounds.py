"""An operation's dates, and its surge places' and held beds' days, are bounded (as every date is:
`test_date_bounds.py`). Found in review: a plan for the year 1 or 9999 was taken, and then the
operation's page (the forecast), its report and the report's API failed with a 500 for every
reader; holding beds until 31 December 9999 overflowed working out the hold's end, a 500."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.models import BedHold
from opennrm.accounts.models import Organisation, User
from opennrm.operations import services, surge
from opennrm.operations.models import Operation, SurgePlaces

from . import api_helpers as a
from . import factories
from . import operation_helpers as op
from . import support_factories as s

# Planned on 1 March 2027 (op.BEFORE): an operation may start from 1 March 2022 to 1 March 2032.
WINDOW = "between 1 March 2022 and 1 March 2032"


def _date(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": f"{day.year:04d}",
    }


def _client(user: User) -> Any:
    """A client that answers a server error with a 500, as a browser sees it."""
    client = factories.signed_in_client(user)
    client.raise_request_exception = False
    return client


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        made = op.operation(alice, northmoor_police, region="north_west")
        services.operation_partner_invite(
            by=alice, operation=made, organisation=provider, role="support_provider"
        )
    return made


# --- The operation's own dates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [(date(9999, 12, 1), date(9999, 12, 31)), (date(1, 1, 1), date(1, 1, 2))],
    ids=["year-9999", "year-1"],
)
def test_a_plan_starting_years_away_is_refused_on_the_page(
    alice: User, starts_on: date, ends_on: date
) -> None:
    """Taken before, it broke the operation's page (9999: the forecast's days) and its report
    (year 1: the history before it)."""
    with time_machine.travel(op.BEFORE, tick=False):
        page = _client(alice).post(
            reverse("operations:plan"),
            op.plan_input() | _date("starts_on", starts_on) | _date("ends_on", ends_on),
        )
    assert page.status_code == 200
    assert f"The start date must be within 5 years of today, {WINDOW}" in page.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.parametrize("starts_on", ["0001-01-01", "9999-12-01"])
def test_a_plan_starting_years_away_is_refused_by_the_api_naming_the_field(
    alice: User, northmoor_police: Organisation, starts_on: str
) -> None:
    body = {
        "name": "Operation Larkspur",
        "confidential": True,
        "starts_on": starts_on,
        "ends_on": starts_on,
        "region": "north_east",
        "expected": [
            {"sex": "female", "age_group": "adult", "exploitation_type": "sexual", "number": 3}
        ],
        "languages": [],
    }
    with time_machine.travel(op.BEFORE, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=(a.OPERATIONS_READ, a.OPERATIONS_WRITE))
        response = a.post_json(a.client_with(secret), "/api/v1/operations", body)
    assert response.status_code == 422
    assert [e["field"] for e in a.errors(response)] == ["starts_on"]
    assert not Operation.objects.exists()


def test_a_change_of_plan_to_the_year_9999_is_refused(planned: Operation, alice: User) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        page = _client(alice).post(
            reverse("operations:edit", args=[planned.id]),
            op.plan_input()
            | _date("starts_on", date(9999, 12, 1))
            | _date("ends_on", date(9999, 12, 31)),
        )
    assert page.status_code == 200
    assert f"The start date must be within 5 years of today, {WINDOW}" in page.content.decode()
    planned.refresh_from_db()
    assert planned.starts_on == op.STARTS


def test_the_window_is_five_years_either_side_of_today(
    alice: User, northmoor_police: Organisation
) -> None:
    """Its edges are taken; a day beyond either is not. The page and the report of an
    operation at the far edge work."""
    with time_machine.travel(op.BEFORE, tick=False):
        for edge in (date(2022, 3, 1), date(2032, 3, 1)):
            op.operation(alice, northmoor_police, name=f"Edge {edge}", starts_on=edge, ends_on=edge)
        for beyond in (date(2022, 2, 28), date(2032, 3, 2)):
            with pytest.raises(ValidationError) as refused:
                op.operation(alice, northmoor_police, starts_on=beyond, ends_on=beyond)
            assert set(refused.value.message_dict) == {"starts_on"}
        client = _client(alice)
        for operation in Operation.objects.all():
            assert client.get(reverse("operations:detail", args=[operation.pk])).status_code == 200
            assert client.get(reverse("operations:report", args=[operation.pk])).status_code == 200
    assert Operation.objects.count() == 2


# --- Surge places and held beds ---------------------------------------------------------------


def test_holding_beds_until_31_december_9999_is_refused_naming_the_field(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Before: `until + 1 day` overflowed, a 500."""
    house = s.site(maya, provider, name="Larch House")
    s.beds(maya, house, 2)
    noon = timezone.make_aware(datetime.combine(date(2027, 3, 11), time(12)))
    with time_machine.travel(noon, tick=False):
        page = _client(maya).post(
            reverse("operations:beds_hold", args=[planned.id]),
            {"site": house.pk, "count": "1"} | _date("until", date(9999, 12, 31)),
        )
        last_day = surge.hold_last_day(planned)
        latest = _client(maya).post(
            reverse("operations:beds_hold", args=[planned.id]),
            {"site": house.pk, "count": "1"} | _date("until", last_day),
        )
    assert page.status_code == 200
    assert "The last day held must be 11 March 2028 or earlier, within a year" in (
        page.content.decode()
    )
    assert latest.status_code == 302
    assert BedHold.objects.get().expires_at.date() == last_day + timedelta(days=1)


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "message"),
    [
        (
            date(2027, 3, 10),
            date(9999, 12, 31),
            "The last day must be 1 March 2028 or earlier, within a year",
        ),
        (
            date(9999, 12, 1),
            date(9999, 12, 31),
            "The first day must be 1 March 2028 or earlier, within a year",
        ),
        (
            date(1, 1, 1),
            date(2027, 3, 20),
            "The first day must be 28 February 2026 or later, within a year",
        ),
    ],
    ids=["last-9999", "first-9999", "first-year-1"],
)
def test_surge_places_years_away_are_refused_naming_the_field(
    planned: Operation,
    maya: User,
    provider: Organisation,
    starts_on: date,
    ends_on: date,
    message: str,
) -> None:
    house = s.site(maya, provider)
    with time_machine.travel(op.BEFORE, tick=False):
        page = _client(maya).post(
            reverse("operations:surge_add", args=[planned.id]),
            {"site": house.pk, "places": "2"}
            | _date("starts_on", starts_on)
            | _date("ends_on", ends_on),
        )
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not SurgePlaces.objects.exists()
