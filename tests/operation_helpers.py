"""Builders for operations tests: a plan's form input, and an operation planned through the
service."""

from __future__ import annotations

from datetime import date
from typing import Any

from opennrm.accounts.models import Organisation, User
from opennrm.operations import services
from opennrm.operations.models import Operation

STARTS = date(2027, 3, 10)
ENDS = date(2027, 3, 16)
BEFORE = "2027-03-01 10:00:00+00:00"
DURING = "2027-03-12 10:00:00+00:00"
AFTER = "2027-04-01 10:00:00+00:00"


def plan_input(**changes: str) -> dict[str, str]:
    """A valid plan as the form posts it: 30 women (sexual), 5 men (labour), 3 girls."""
    data = {
        "name": "Operation Larkspur",
        "confidential": "yes",
        "starts_on_day": "10",
        "starts_on_month": "3",
        "starts_on_year": "2027",
        "ends_on_day": "16",
        "ends_on_month": "3",
        "ends_on_year": "2027",
        "region": "north_east",
        "n_female_adult_sexual": "30",
        "n_male_adult_labour": "5",
        "n_female_child_sexual": "3",
        "language_1": "ro",
        "language_2": "vi",
    }
    data.update(changes)
    return data


def operation(
    by: User, lead: Organisation, *, confidential: bool = True, **changes: Any
) -> Operation:
    values: dict[str, Any] = {
        "name": "Operation Larkspur",
        "confidential": confidential,
        "starts_on": STARTS,
        "ends_on": ENDS,
        "region": "north_east",
        "expected": {
            ("female", "adult", "sexual"): 30,
            ("male", "adult", "labour"): 5,
            ("female", "child", "sexual"): 3,
        },
        "languages": ["ro"],
    }
    values.update(changes)
    return services.operation_plan(by=by, lead_organisation=lead, **values)
