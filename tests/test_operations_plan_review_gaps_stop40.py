"""An operation's plan is bounded so that its bed forecast stays within one worker's memory:
the forecast's cost grows with the people expected times its 10,000 draws, and the plan form
took up to 10,000 people in every cell (found in review, stop 40)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.operations.models import Operation
from opennrm.operations.services import MOST_EXPECTED
from tests import factories
from tests import operation_helpers as op

# What one worker may reasonably spend on one page view (the test's address-space limit).
LIMIT_BYTES = 3 * 1024**3

PROBE = textwrap.dedent(
    """
    import resource, sys
    from datetime import date
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from opennrm.operations import forecast as m
    women = m.Group("female", "adult")
    history = {{women: m.GroupHistory(referred=100, needed_place=60, stays_ended={{30: 40}})}}
    try:
        m.forecast({{women: {expected}}}, history, first_day=date(2027, 3, 10), operation_days=7)
    except MemoryError:
        print("MemoryError")
        sys.exit(3)
    print("ok")
    """
)


def test_the_forecast_of_the_largest_plan_allowed_stays_within_a_workers_memory() -> None:
    """The largest plan the service takes (`MOST_EXPECTED` people, all in one group) is
    forecast within 3 GB of address space, in a process of its own."""
    done = subprocess.run(  # noqa: S603 (this interpreter, this file's own code)
        [sys.executable, "-c", PROBE.format(limit=LIMIT_BYTES, expected=float(MOST_EXPECTED))],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok" in done.stdout


@pytest.mark.page("operations:plan")
def test_a_plan_expecting_more_than_an_operation_can_is_refused(alice: User) -> None:
    """70,000 people typed across the form's cells (a few extra zeros) are refused on the
    page, naming the limit, and nothing is saved; each cell takes at most 1,000."""
    typo = op.plan_input(
        n_female_adult_sexual="600", n_male_adult_labour="500", n_female_child_sexual="0"
    )
    with time_machine.travel(op.BEFORE, tick=False):
        page = factories.signed_in_client(alice).post(reverse("operations:plan"), typo)
    assert page.status_code == 200
    assert "An operation can expect at most 1,000 people in all" in page.content.decode()
    with time_machine.travel(op.BEFORE, tick=False):
        cell = factories.signed_in_client(alice).post(
            reverse("operations:plan"), op.plan_input(n_female_adult_sexual="10000")
        )
    assert cell.status_code == 200
    assert 'href="#id_n_female_adult_sexual"' in cell.content.decode()
    assert not Operation.objects.exists()
