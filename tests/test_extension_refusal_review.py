"""The refusal of an extension of a recovery period long over never asks for more days than an
extension may have."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.decisions import services

from .decision_helpers import fresh


def test_refusal_never_asks_for_an_extension_longer_than_any_that_can_be_granted(
    case: Case, dmitri: User
) -> None:
    """A conclusive decision often comes long after the recovery period's minimum (the case
    stays "in the recovery period" meanwhile). A decision maker asked to extend such a period,
    ended 31 March 2026, on 1 June 2027, is told "Extend it by at least N days" with N over
    365, the most `recovery_extend` ever grants ("Enter an extension between 1 and 365 days"):
    following the instruction is refused in turn, a dead end. Expected: the refusal names
    only an extension that can be granted, or says this period can no longer be extended
    (ADR 0017 addendum: the refusal names the days that would make it run past today)."""
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="positive",
            reasons="Credible.",
            expected_version=case.version,
        )
    case = fresh(case)
    with (
        time_machine.travel("2027-06-01 10:00:00+01:00", tick=False),
        pytest.raises(ValidationError) as refused,
    ):
        services.recovery_extend(
            by=dmitri, case=case, days=30, reasons="Hospital.", expected_version=case.version
        )
    message = " ".join(refused.value.messages)
    asked = re.search(r"at least (\d+) days", message)
    assert asked is None or int(asked.group(1)) <= 365, (
        f"the refusal asks for an extension no decision maker can grant: {message}"
    )
    assert "too long ago to extend" in message
