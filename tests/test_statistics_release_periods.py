"""Review of the statistics releases (ADR 0033, 0036, 0056): inputs an analyst can give the
release pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.statistics.models import Release

from . import factories

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def analyst(monitoring: Organisation) -> User:
    return factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada Preparer")


def test_a_release_of_a_quarter_that_has_not_ended_is_refused(analyst: User) -> None:
    """An official release freezes and publishes the counts of a whole period (ADR 0033: the
    page "opens on the last quarter that has ended"; ADR 0036: the snapshot is what is
    published). On 15 November the prepare form accepts October to December of the same
    year (and the whole year), so the public would get a bulletin of half a quarter presented
    as the quarter's official figures, and the release then blocks the true figures: late
    referrals that change a cell by 1 to 4 can never be revised in (ADR 0036 addendum). The
    analyst should be told the period has not ended, and nothing prepared."""
    client = factories.signed_in_client(analyst)
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=LONDON), tick=False):
        response = client.post(
            "/statistics/releases/prepare/",
            {
                "year": "2026",
                "quarter": "4",
                "jurisdiction": "",
                "title": "National Referral Mechanism statistics: October to December 2026",
                "synthetic": "no",
            },
        )
    assert not Release.objects.exists(), "a release of a quarter still in progress was prepared"
    assert response.status_code == 200
    assert "October to December 2026 has not ended yet" in response.content.decode()
    assert "1 January 2027" in response.content.decode()


def test_a_quarter_ended_yesterday_may_be_prepared(analyst: User) -> None:
    """The day after a quarter ends its release may be prepared (the boundary of the refusal)."""
    with time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=LONDON), tick=False):
        client = factories.signed_in_client(analyst)
        response = client.post(
            "/statistics/releases/prepare/",
            {
                "year": "2026",
                "quarter": "4",
                "jurisdiction": "",
                "title": "National Referral Mechanism statistics: October to December 2026",
                "synthetic": "no",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Release.objects.get().period_end.isoformat() == "2026-12-31"
