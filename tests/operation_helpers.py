"""Builders for operations tests: a plan's form input, an operation planned through the
service, and a person taken in at it whose draft became a case."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.operations import services
from opennrm.operations.models import Operation, ReceptionRecord
from opennrm.referrals.models import DraftStatus

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


def taken_in_as_adult(
    by: User,
    operation: Operation,
    name_or_description: str = "young man in red",
    *,
    sex: str = "male",
    urgent_needs: Iterable[str] = (),
) -> ReceptionRecord:
    """A person taken in at `operation` by `by` as looking adult (reception's impression on the
    night), through the service."""
    return services.reception_take_in(
        by=by,
        operation=operation,
        name_or_description=name_or_description,
        sex=sex,
        age_group="adult",
        urgent_needs=urgent_needs,
    )


def submitted_as(record: ReceptionRecord, case: Case) -> None:
    """The record's draft submitted as `case` (the referral's own steps are not under test)."""
    draft = record.draft
    assert draft is not None
    draft.status, draft.case, draft.answers = DraftStatus.SUBMITTED, case, {}
    draft.save()
