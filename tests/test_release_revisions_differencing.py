"""A revision of a published release is published beside the version it revises (ADR 0036),
and each version protects only its own cells (ADR 0032): were a count published in both to
change by 1 to 4, subtracting one version from the other would give back a count that no table
publishes (threat 40). So a revision is refused, naming the tables, while any count published
in it and in an earlier published version changes by more than 0 and less than the threshold;
approval checks it again."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.statistics import disclosure, releases, tables
from opennrm.statistics.models import ReleaseVersion, VersionState
from tests import case_factories, factories

LONDON = ZoneInfo("Europe/London")
Q2 = tables.Period.quarter(2024, 2)
SMALL = "cells would change by fewer than 5 people"


class Quarter:
    """Ten child and ten adult referrals in April to June 2024, the release of them published
    by Ada and Ben."""

    def __init__(self) -> None:
        monitoring = factories.organisation("Rev Monitoring", Kind.ANALYSIS_MONITORING)
        self.ada = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada")
        self.ben = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ben")
        self.police = factories.organisation("Rev Police", Kind.STATUTORY_FIRST_RESPONDER)
        self.authority = factories.organisation("Rev Authority", Kind.COMPETENT_AUTHORITY)
        self.referrer = factories.user(organisation=self.police)
        self.late = 0
        for n in range(10):
            self.refer(1 + n, 12, "child")
            self.refer(1 + n, 13, "adult")
        self.first = releases.approve_release(
            by=Actor(self.ben),
            version=releases.prepare_release(
                by=Actor(self.ada), period=Q2, jurisdiction=None, title="Q2 2024"
            ),
        )

    def refer(self, day: int, hour: int, age: str) -> None:
        case_factories.case(
            referred_by=self.referrer,
            referring_organisation=self.police,
            authority=self.authority,
            age_group=AgeGroup(age),
            submitted_at=datetime(2024, 5, day, hour, tzinfo=LONDON),
        )

    def late_children(self, how_many: int) -> None:
        """Late child referrals of the quarter (the ADR's own example of a revision's reason)."""
        for _ in range(how_many):
            self.refer(20 + self.late, 12, "child")
            self.late += 1

    def revise(self) -> ReleaseVersion:
        return releases.revise_release(
            by=Actor(self.ada), release=self.first.release, reason="Late referrals were added"
        )


@pytest.fixture
def quarter(db: None) -> Quarter:
    return Quarter()


def child_total(version: ReleaseVersion) -> Any:
    table = releases.snapshot_tables(version.snapshot)["referrals-by-age-group"]
    return next(row for row in table["rows"] if row[0] == "Child")[-1]


def test_a_revision_that_would_give_back_a_small_count_is_refused_saying_why(
    quarter: Quarter,
) -> None:
    quarter.late_children(3)
    events = AuditEvent.objects.count()
    with pytest.raises(releases.ReleaseRefused) as refused:
        quarter.revise()
    message = " ".join(refused.value.messages)
    assert "The revision cannot be prepared" in message
    assert "“Referrals by age group at exploitation”" in message
    assert "from the published version 1, which" in message
    assert SMALL in message
    assert "subtracting the versions would reveal" in message
    assert "make every change at least 5, or publish them in the next period" in message
    assert "Nothing was saved." in message
    assert list(ReleaseVersion.objects.values_list("number", flat=True)) == [1]
    assert AuditEvent.objects.count() == events


def test_a_revision_whose_counts_change_by_at_least_the_threshold_is_published(
    quarter: Quarter,
) -> None:
    quarter.late_children(3)
    with pytest.raises(releases.ReleaseRefused, match=SMALL):
        quarter.revise()
    quarter.late_children(2)  # five late children: every count changes by 0 or 5
    second = releases.approve_release(by=Actor(quarter.ben), version=quarter.revise())
    first = ReleaseVersion.objects.get(pk=quarter.first.pk)
    assert first.state == second.state == VersionState.PUBLISHED
    one, two = child_total(first), child_total(second)
    assert disclosure.CONFIDENTIAL not in (one, two)
    assert int(two) - int(one) == 5
    # A third version is compared with every earlier published one: one more child than the
    # second version is refused, though it is six more than the first.
    quarter.late_children(1)
    with pytest.raises(releases.ReleaseRefused, match="from the published version 2, which"):
        quarter.revise()


def test_a_revision_with_no_change_is_allowed(quarter: Quarter) -> None:
    second = releases.approve_release(by=Actor(quarter.ben), version=quarter.revise())
    assert second.number == 2


def test_approval_refuses_a_revision_prepared_without_the_check(quarter: Quarter) -> None:
    """A version awaiting approval that was prepared before the rule is checked again."""
    quarter.late_children(3)
    built = releases.build_snapshot(Q2, None, "Q2 2024", "")
    waiting = ReleaseVersion.objects.create(
        release=quarter.first.release,
        number=2,
        revision_reason="Late referrals were added",
        snapshot=built.snapshot,
        prepared_by=quarter.ada,
        prepared_at=timezone.now(),
    )
    with pytest.raises(releases.ReleaseRefused, match="Version 2 cannot be approved") as refused:
        releases.approve_release(by=Actor(quarter.ben), version=waiting)
    assert "Withdraw it." in " ".join(refused.value.messages)
    waiting.refresh_from_db()
    assert waiting.state == VersionState.AWAITING_APPROVAL
    releases.withdraw_draft(by=Actor(quarter.ada), version=waiting)


def _snapshot(cells: list[list[Any]], threshold: int = 5) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "sections": [
            {
                "tables": [
                    {
                        "slug": "t",
                        "caption": "Table T",
                        "headers": ["Group", "Count"],
                        "rows": cells,
                        "footer": None,
                        "labels": 1,
                    }
                ]
            }
        ],
    }


@pytest.mark.parametrize(
    ("before", "after", "refused"),
    [
        (10, 13, True),  # up by 3
        (10, 9, True),  # down by 1: a referral taken out is a count too
        (10, 10, False),
        (10, 15, False),
        (10, disclosure.CONFIDENTIAL, False),  # suppressed in one: not published in both
        (disclosure.CONFIDENTIAL, 7, False),
        (10.0, 12.0, False),  # a rounded figure (a mean, a share), not a count
    ],
)
def test_only_counts_published_in_both_versions_are_compared(
    before: Any, after: Any, refused: bool
) -> None:
    earlier = ReleaseVersion(number=1, snapshot=_snapshot([["A", before]]))
    found = releases.small_changes(_snapshot([["A", after]]), [earlier])
    assert (found is not None) == refused
    if found is not None:
        assert (found.tables, found.versions, found.threshold) == (["Table T"], [1], 5)


def test_the_threshold_of_either_version_applies() -> None:
    earlier = ReleaseVersion(number=1, snapshot=_snapshot([["A", 10]], threshold=10))
    found = releases.small_changes(_snapshot([["A", 17]]), [earlier])
    assert found is not None
    assert found.threshold == 10


def test_every_earlier_published_version_is_compared() -> None:
    versions = [
        ReleaseVersion(number=1, snapshot=_snapshot([["A", 10], ["B", 20]])),
        ReleaseVersion(number=2, snapshot=_snapshot([["A", 15], ["B", 16]])),
    ]
    found = releases.small_changes(_snapshot([["A", 16], ["B", 21]]), versions)
    assert found is not None
    assert found.versions == [1, 2]
    message = "cells would change by fewer than 5 people from the published versions 1 and 2"
    with pytest.raises(releases.ReleaseRefused, match=message):
        releases._refuse_small_changes(
            _snapshot([["A", 16], ["B", 21]]), versions, "Refused", "Nothing was saved."
        )
