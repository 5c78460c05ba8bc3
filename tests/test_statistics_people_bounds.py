"""The table of people (ADR 0052) beside the referrals by age group: a reader knows that each
person counts under one of their own referrals, so that people in an age group never outnumber
the referrals in it and the groups add up. The release's protection must know it too, or a
suppressed count of people is pinned, by the published referrals, to a range narrower than the
protection level."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.statistics import disclosure, releases, tables

from . import case_factories, factories

LONDON = ZoneInfo("Europe/London")
Q2 = tables.Period.quarter(2024, 2)


@pytest.fixture
def one_child_referred_three_times(db: None) -> None:
    """Twenty referrals of twenty people, and five child referrals of three children: one
    child was referred three times."""
    police = factories.organisation("Bounds Police", Kind.STATUTORY_FIRST_RESPONDER)
    authority = factories.organisation("Bounds Authority", Kind.COMPETENT_AUTHORITY)
    referrer = factories.user(organisation=police)

    def refer(day: int, hour: int, age: str) -> Case:
        return case_factories.case(
            referred_by=referrer,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup(age),
            submitted_at=datetime(2024, 5, day, hour, tzinfo=LONDON),
        )

    for n in range(20):
        refer(1 + n, 12, "adult")
    children = [refer(1 + n, 13, "child") for n in range(5)]
    Case.objects.filter(pk__in=[c.pk for c in children[:3]]).update(person=children[0].person)


def readers_range(published: dict[disclosure.Cell, disclosure.Published], group: str) -> range:
    """Every count of people in `group` consistent with the published people and referrals by
    age group and with people[g] <= referrals[g] in every group, found by trying every whole
    number (this shares no code with the audit). The counts are at most the published total
    of referrals."""
    groups = tables.AGE_GROUPS

    def shown(population: str, where: str | None = None) -> disclosure.Published:
        return published[disclosure.Cell.of(population, **({"age_group": where} if where else {}))]

    most = shown("referrals")
    assert isinstance(most, int), "the grand total of referrals is published"

    def agrees(population: str, values: tuple[int, ...]) -> bool:
        if not all(
            shown(population, g) in (disclosure.CONFIDENTIAL, v)
            for g, v in zip(groups, values, strict=True)
        ):
            return False
        return shown(population) in (disclosure.CONFIDENTIAL, sum(values))

    possible = set()
    for referrals in itertools.product(range(most + 1), repeat=len(groups)):
        if sum(referrals) != most or not agrees("referrals", referrals):
            continue
        for people in itertools.product(*(range(r + 1) for r in referrals)):
            if agrees(tables.PEOPLE, people):
                possible.add(people[groups.index(group)])
    return range(min(possible), max(possible) + 1)


def test_a_suppressed_people_cell_is_not_bounded_by_the_published_referrals(
    one_child_referred_three_times: None,
) -> None:
    """The reviewer's case: three children (people, suppressed), five child referrals and
    twenty-three people in all published. People in the other groups are at most their
    referrals, so the children were at least 23 - 20 = 3 and at most 5: a range of 2, under
    the protection of 5."""
    protected = tables.protect(tables.release_tables(Q2))
    child = disclosure.Cell.of(tables.PEOPLE, age_group="child")
    assert protected.published[child] == disclosure.CONFIDENTIAL
    possible = readers_range(protected.published, "child")
    assert possible[-1] - possible[0] >= protected.protection, (
        f"the suppressed count of child people lies in {possible}"
    )
    # And the audit agrees, checking afresh.
    assert disclosure.is_safe(protected.release, protected.published)
    assert protected.audit[child].width >= protected.protection


def test_the_repeated_referrals_are_an_unknown_the_release_never_publishes(
    one_child_referred_three_times: None,
) -> None:
    made = tables.release_tables(Q2)
    release = tables.assemble(made)
    repeats = disclosure.Cell.of(tables.REPEATS, age_group="child")
    assert release.values[repeats] == disclosure.NOT_AVAILABLE
    assert disclosure.Relation(
        disclosure.Cell.of("referrals", age_group="child"),
        (disclosure.Cell.of(tables.PEOPLE, age_group="child"), repeats),
    ) in set(release.relations)
    snapshot = releases.build_snapshot(Q2, None, "Q2 2024", "").snapshot
    assert tables.REPEATS not in json.dumps(snapshot)
    assert "repeated_referrals" not in json.dumps(snapshot)
