"""Releases never overlap (ADR 0056): each release protects its own cells (ADR 0032), so two
published releases that count some of the same referrals, but not all, could be subtracted to
recover a count that another release suppresses. A release whose period overlaps another's at
the same or an overlapping level (all of the UK overlaps each jurisdiction) is refused, saying
why and what to publish instead."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.accounts.roles import Jurisdiction, Role
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.statistics import disclosure, releases, tables
from opennrm.statistics.models import Release, ReleaseVersion

from . import case_factories, factories

LONDON = ZoneInfo("Europe/London")
Q1 = tables.Period.quarter(2024, 1)
Q2 = tables.Period.quarter(2024, 2)
YEAR = tables.Period.year(2024)
SCOTLAND = Jurisdiction.SCOTLAND.value
ENGLAND_AND_WALES = Jurisdiction.ENGLAND_AND_WALES.value
DIFFERENCING = "anyone could subtract one release from the other"


@pytest.fixture
def analysts(db: None) -> tuple[User, User]:
    monitoring = factories.organisation("Differencing Monitoring", Kind.ANALYSIS_MONITORING)
    return (
        factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada Preparer"),
        factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ben Approver"),
    )


class Referrer:
    def __init__(self, name: str = "Differencing", jurisdiction: str | None = None) -> None:
        where = {"jurisdiction": jurisdiction} if jurisdiction else {}
        self.police = factories.organisation(
            f"{name} Police", Kind.STATUTORY_FIRST_RESPONDER, **where
        )
        self.authority = factories.organisation(f"{name} Authority", Kind.COMPETENT_AUTHORITY)
        self.user = factories.user(organisation=self.police)

    def refer(self, when: datetime, age: str = "adult") -> object:
        return case_factories.case(
            referred_by=self.user,
            referring_organisation=self.police,
            authority=self.authority,
            age_group=AgeGroup(age),
            submitted_at=when,
        )


def prepare(
    preparer: User, period: tables.Period, title: str, jurisdiction: str | None = None
) -> ReleaseVersion:
    return releases.prepare_release(
        by=Actor(preparer), period=period, jurisdiction=jurisdiction, title=title
    )


def publish(
    preparer: User,
    approver: User,
    period: tables.Period,
    title: str,
    jurisdiction: str | None = None,
) -> ReleaseVersion:
    version = prepare(preparer, period, title, jurisdiction)
    return releases.approve_release(by=Actor(approver), version=version)


def refused(
    preparer: User, period: tables.Period, title: str, jurisdiction: str | None = None
) -> str:
    """Preparing is refused, and nothing is written."""
    releases_before, events_before = Release.objects.count(), AuditEvent.objects.count()
    with pytest.raises(releases.ReleaseRefused) as refusal:
        prepare(preparer, period, title, jurisdiction)
    assert (Release.objects.count(), AuditEvent.objects.count()) == (
        releases_before,
        events_before,
    )
    return " ".join(refusal.value.messages)


def child_total(version: ReleaseVersion) -> object:
    table = releases.snapshot_tables(version.snapshot)["referrals-by-age-group"]
    return next(row for row in table["rows"] if row[0] == "Child")[-1]


def test_a_year_is_refused_beside_its_quarters_so_it_cannot_give_away_a_suppressed_cell(
    analysts: tuple[User, User],
) -> None:
    """The reviewer's case: January to March 2024 had ten children, April to June three (a
    small count, suppressed in its quarter's release). The year's release less the first
    quarter's published the three."""
    preparer, approver = analysts
    referrer = Referrer()
    for n in range(10):
        referrer.refer(datetime(2024, 2, 1 + n, 12, tzinfo=LONDON), "child")
        referrer.refer(datetime(2024, 2, 1 + n, 13, tzinfo=LONDON), "adult")
    for n in range(3):
        referrer.refer(datetime(2024, 5, 1 + n, 12, tzinfo=LONDON), "child")
    for n in range(10):
        referrer.refer(datetime(2024, 5, 1 + n, 13, tzinfo=LONDON), "adult")

    q2 = publish(preparer, approver, Q2, "Q2 2024")
    assert child_total(q2) == disclosure.CONFIDENTIAL
    publish(preparer, approver, Q1, "Q1 2024")  # the quarters do not overlap: both published

    message = refused(preparer, YEAR, "2024")
    assert "A release of January to December 2024 for All of the UK cannot be prepared" in message
    assert "“Q1 2024” (January to March 2024, All of the UK)" in message
    assert DIFFERENCING in message
    assert "Publish fixed periods" in message
    # And the other way round: a quarter inside a year already released.
    publish(preparer, approver, tables.Period.year(2023), "2023")
    assert DIFFERENCING in refused(preparer, tables.Period.quarter(2023, 4), "Q4 2023")


def test_all_of_the_uk_is_refused_beside_a_jurisdiction_so_it_cannot_give_away_another(
    analysts: tuple[User, User],
) -> None:
    """The reviewer's case: Scotland's three child referrals are suppressed in Scotland's
    release; all of the UK less England and Wales published them."""
    preparer, approver = analysts
    england = Referrer()
    scotland = Referrer("Scottish", SCOTLAND)
    for n in range(10):
        england.refer(datetime(2024, 5, 1 + n, 12, tzinfo=LONDON), "child")
        england.refer(datetime(2024, 5, 1 + n, 13, tzinfo=LONDON), "adult")
    for n in range(3):
        scotland.refer(datetime(2024, 5, 1 + n, 14, tzinfo=LONDON), "child")
    for n in range(10):
        scotland.refer(datetime(2024, 5, 1 + n, 15, tzinfo=LONDON), "adult")

    scottish = publish(preparer, approver, Q2, "Scotland", SCOTLAND)
    assert child_total(scottish) == disclosure.CONFIDENTIAL
    # Another jurisdiction counts none of the same referrals: it may be published.
    publish(preparer, approver, Q2, "England and Wales", ENGLAND_AND_WALES)

    message = refused(preparer, Q2, "UK")
    assert "A release of April to June 2024 for All of the UK cannot be prepared" in message
    assert DIFFERENCING in message
    assert "at one level (all of the UK, or each jurisdiction, never both)" in message
    # Nor a UK year over it.
    assert DIFFERENCING in refused(preparer, YEAR, "UK 2024")


def test_a_jurisdiction_is_refused_beside_all_of_the_uk(analysts: tuple[User, User]) -> None:
    preparer, approver = analysts
    publish(preparer, approver, Q2, "UK")
    message = refused(preparer, Q2, "Scotland", SCOTLAND)
    assert "“UK” (April to June 2024, All of the UK)" in message
    assert DIFFERENCING in message
    assert DIFFERENCING in refused(preparer, YEAR, "Scotland 2024", SCOTLAND)


def test_a_release_awaiting_approval_blocks_too_and_a_withdrawn_one_does_not(
    analysts: tuple[User, User],
) -> None:
    preparer = analysts[0]
    waiting = prepare(preparer, Q2, "Q2 2024")
    assert DIFFERENCING in refused(preparer, YEAR, "2024")
    releases.withdraw_draft(by=Actor(preparer), version=waiting)
    assert prepare(preparer, YEAR, "2024").release.period_end == YEAR.end


def test_the_same_period_at_the_same_level_is_to_be_revised(
    analysts: tuple[User, User],
) -> None:
    preparer, approver = analysts
    publish(preparer, approver, Q2, "Scotland", SCOTLAND)
    message = refused(preparer, Q2, "Scotland again", SCOTLAND)
    assert message == (
        "A release of April to June 2024 for Scotland already exists (“Scotland”): "
        "revise it instead"
    )
