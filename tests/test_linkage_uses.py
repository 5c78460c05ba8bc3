"""Uses of the links (issue 15, item 6; ADR 0052): the statistics count people as well as
referrals, and erasure and retention respect identity clusters.

The expected numbers are worked out here from the groups each test declares (which cases are
one person), never from the code under test: a person is a connected group of cases, joined by
confirmed pairs (possibly through a case outside the period) or by sharing a `Person` row."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, CaseNarrative, Person, PersonIdentity
from opennrm.linkage.models import (
    CandidatePair,
    ClusterMember,
    IdentityCluster,
    LinkageKey,
    PairStatus,
)
from opennrm.linkage.services import candidate_pair_review
from opennrm.privacy import selectors as privacy_selectors
from opennrm.privacy import services as privacy
from opennrm.privacy.models import Erasure
from opennrm.statistics import disclosure, tables
from opennrm.statistics.tables import Period, StatTable

from . import case_factories, factories
from .linkage_helpers import closed, pair_of

LONDON = ZoneInfo("Europe/London")
Q2 = Period.quarter(2024, 2)
IN_Q2 = datetime(2024, 5, 1, 12, 0, tzinfo=LONDON)
BEFORE_Q2 = datetime(2024, 2, 1, 12, 0, tzinfo=LONDON)


# --- Helpers ---------------------------------------------------------------------------------


def refer(
    referrer: User,
    organisation: Organisation,
    authority: Organisation,
    *,
    at: datetime | None = None,
    age_group: AgeGroup = AgeGroup.ADULT,
    name: str = "Test Person",
    status: CaseStatus = CaseStatus.AWAITING_REASONABLE_GROUNDS,
) -> Case:
    return case_factories.case(
        referred_by=referrer,
        referring_organisation=organisation,
        authority=authority,
        age_group=age_group,
        given_names=name,
        status=status,
        submitted_at=at or IN_Q2,
    )


def confirm(decider: User, first: Case, second: Case) -> CandidatePair:
    """A decision maker says two referrals are one person, through the real review service."""
    pair = pair_of(first, second)
    return candidate_pair_review(by=Actor(decider), pair_id=pair.pk, status=PairStatus.CONFIRMED)


def people_table(period: Period = Q2) -> StatTable:
    made = {t.name: t for t in tables.release_tables(period) if isinstance(t, StatTable)}
    return made["people_by_age_group"]


def counts(table: StatTable) -> dict[tuple[str, ...], int]:
    return {k: v for k, v in table.table.counts.items() if isinstance(v, int) and v}


# --- The statistics: people as well as referrals -------------------------------------------


def test_one_person_joins_people_through_shared_clusters() -> None:
    # Person 5 is in clusters 1 and 2; 7 in 2; 9 in 1: all one person (the lowest id, 5).
    # Person 11 and 12 in cluster 3; 20 in no link at all.
    found = tables.one_person([(9, 1), (5, 1), (5, 2), (7, 2), (12, 3), (11, 3)])
    assert found == {5: 5, 7: 5, 9: 5, 11: 11, 12: 11}
    assert 20 not in found
    assert tables.one_person([]) == {}


def test_people_of_counts_each_person_once_under_their_latest_referral() -> None:
    def referral(day: int, age: str, person: int | None) -> tables.Referral:
        return tables.Referral(
            date(2024, 5, day), "e", "A", "male", age, "GB", "labour", "other", "N", person=person
        )

    referrals = [
        referral(1, "child", 3),
        referral(2, "adult", None),
        referral(3, "adult", 3),  # person 3 again, later: counted once, as an adult
        referral(4, "adult", None),
    ]
    people = tables.people_of(referrals)
    assert len(people) == 3
    assert sorted(p.age_group for p in people) == ["adult", "adult", "adult"]


def test_the_count_of_people_joins_confirmed_pairs_and_shared_person_rows(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    police = (alice, northmoor_police, authority)
    charity = (charlie, southvale_police, authority)
    # Groups of cases that are one person, each case (who referred, when, age group).
    a1 = refer(*police, age_group=AgeGroup.CHILD)
    a2 = refer(*charity, at=IN_Q2 + timedelta(days=3))  # A again, later, as an adult
    b1 = refer(*police)
    b_before = refer(*charity, at=BEFORE_Q2)  # outside the quarter: the link through it holds
    b2 = refer(*charity)
    c1 = refer(*police)
    c2 = refer(*charity)  # C's second referral, recorded for the same Person row
    Case.objects.filter(pk=c2.pk).update(person_id=c1.person_id)
    singles = [refer(*police) for _ in range(3)]
    not_confirmed = refer(*charity)
    confirm(dmitri, a1, a2)
    confirm(dmitri, b1, b_before)
    confirm(dmitri, b_before, b2)
    pair_of(singles[0], not_confirmed)  # only proposed: not one person yet
    rejected = pair_of(singles[1], singles[2])
    candidate_pair_review(by=Actor(dmitri), pair_id=rejected.pk, status=PairStatus.REJECTED)

    in_quarter = [a1, a2, b1, b2, c1, c2, *singles, not_confirmed]
    groups = [{a1, a2}, {b1, b2}, {c1, c2}, *({case} for case in (*singles, not_confirmed))]
    assert sum(len(g) for g in groups) == len(in_quarter)

    made = tables.release_tables(Q2)
    release = tables.assemble(made)
    assert release.values[disclosure.Cell.of("referrals")] == len(in_quarter) == 10
    assert release.values[disclosure.Cell.of(tables.PEOPLE)] == len(groups) == 7
    # A counts under their latest referral's age group (an adult), not twice.
    assert counts(people_table()) == {("not_specified",): 7}
    table = people_table()
    assert table.counts == "people"
    assert any("too high, never too low" in note for note in table.notes)
    # The people table goes through disclosure control with the rest of the release.
    protected = tables.protect(made)
    assert disclosure.is_safe(protected.release, protected.published)


class _Rollback(Exception):
    pass


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=8))
def test_people_are_the_groups_with_a_referral_in_the_period(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    cases: list[tuple[int, bool]],
) -> None:
    """Any cases, each in one of four groups (one person each) and in the quarter or before
    it; each group's cases linked in a chain of confirmed pairs. The people in the quarter are
    the groups with a case in it, however the chain runs through cases outside it."""
    with contextlib.suppress(_Rollback), transaction.atomic():
        made = [
            (group, refer(alice, northmoor_police, authority, at=IN_Q2 if inside else BEFORE_Q2))
            for group, inside in cases
        ]
        for group in {g for g, _ in made}:
            chain = [case for g, case in made if g == group]
            for first, second in itertools.pairwise(chain):
                confirm(dmitri, first, second)
        release = tables.assemble(tables.release_tables(Q2))
        people = release.values[disclosure.Cell.of(tables.PEOPLE)]
        referrals = release.values[disclosure.Cell.of("referrals")]
        raise _Rollback
    assert referrals == sum(1 for _, inside in cases if inside)
    assert people == len({group for group, inside in cases if inside})


def test_a_child_then_an_adult_counts_once_as_the_latest(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    child = refer(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    later = refer(charlie, southvale_police, authority, at=IN_Q2 + timedelta(days=1))
    Case.objects.filter(pk=later.pk).update(age_group_at_exploitation="adult")
    assert counts(people_table()) == {("child",): 1, ("adult",): 1}
    confirm(dmitri, child, later)
    assert counts(people_table()) == {("adult",): 1}


def headline(page: str) -> tuple[str, str]:
    """The two headline figures of the analyst's page: referrals, then people."""
    figures = []
    for name in ("referral", "people"):
        found = re.search(rf'id="{name}-count"[^>]*>([^<]*)<', page)
        assert found, f"no {name} figure"
        figures.append(found.group(1).strip())
    return figures[0], figures[1]


@pytest.mark.page("statistics:tables")
def test_the_analysts_people_count_drops_by_one_when_a_pair_is_confirmed(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    monitoring: Organisation,
) -> None:
    police = [refer(alice, northmoor_police, authority) for _ in range(4)]
    charity = [refer(charlie, southvale_police, authority) for _ in range(4)]
    analyst = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ana Lyst")
    client = factories.signed_in_client(analyst)
    query = {"year": "2024", "quarter": "2"}

    before = client.get("/statistics/tables/", query)
    assert before.status_code == 200
    page = before.content.decode()
    assert headline(page) == ("8", "8")
    assert "What the count of people means" in page
    assert "confirmed to be the same person count as one person" in page
    assert "can be too high but not too low" in page

    confirm(dmitri, police[0], charity[0])

    after = client.get("/statistics/tables/", query).content.decode()
    assert headline(after) == ("8", "7"), "people drop by one, referrals do not"
    assert "people-by-age-group" in after

    assert client.post("/statistics/tables/", query).status_code == 405
    assert factories.signed_in_client(alice).get("/statistics/tables/").status_code == 404


def test_a_small_people_count_is_suppressed_like_any_other(
    alice: User, northmoor_police: Organisation, authority: Organisation, monitoring: Organisation
) -> None:
    for _ in range(3):
        refer(alice, northmoor_police, authority)
    analyst = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ana Lyst")
    page = (
        factories.signed_in_client(analyst)
        .get("/statistics/tables/", {"year": "2024", "quarter": "2"})
        .content.decode()
    )
    assert headline(page) == ("[c]", "[c]")


# --- Erasure and retention respect clusters ---------------------------------------------------


def keys_for(case: Case) -> None:
    identity = PersonIdentity.objects.get(person_id=case.person_id)
    LinkageKey.objects.create(case=case, identity=identity, digest=f"{case.pk:032d}")


def intact(case: Case, name: str) -> None:
    """The case, its person's identity, its account and its linkage keys are all there."""
    assert Case.objects.filter(pk=case.pk).exists()
    identity = PersonIdentity.objects.get(person_id=case.person_id)
    assert identity.given_names == name
    assert CaseNarrative.objects.filter(case=case).exists()
    assert LinkageKey.objects.filter(case=case).exists()
    assert not Erasure.objects.filter(person_id=case.person_id).exists()


@pytest.fixture
def three(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> Callable[[], dict[str, Case]]:
    """The police's referral of a person, the charity's of the same person (linked to it), a
    third referral linked through the charity's, and an unrelated one proposed with the charity's.
    """

    def make() -> dict[str, Case]:
        long_ago = timezone.now() - timedelta(days=365 * 8)
        made = {
            "police": refer(alice, northmoor_police, authority, name="Policeref Person"),
            "charity": refer(charlie, southvale_police, authority, name="Charityref Person"),
            "third": refer(alice, northmoor_police, authority, name="Thirdref Person"),
            "other": refer(alice, northmoor_police, authority, name="Otherref Person"),
        }
        for case in made.values():
            keys_for(case)
        confirm(dmitri, made["police"], made["charity"])
        confirm(dmitri, made["charity"], made["third"])
        pair_of(made["charity"], made["other"])
        made["charity"] = closed(made["charity"], long_ago)
        return made

    return make


def test_erasing_one_referral_takes_it_out_of_its_cluster_and_nothing_else(
    three: Callable[[], dict[str, Case]], dpo: User
) -> None:
    made = three()
    charity = made["charity"]
    cluster = ClusterMember.objects.get(case=charity).cluster_id
    # An erasure waits while a referral confirmed as the same person is open (ADR 0052, stop 36).
    for key in ("police", "third"):
        made[key] = closed(made[key])

    factories.person_erased(
        charity.person,
        recorded_by=dpo,
        request_reference="DP-1",
        request_received_on=timezone.localdate(),
    )

    # The erased referral is in no cluster and no pair: no link can show it is the same person
    # as another referral.
    assert not ClusterMember.objects.filter(case=charity).exists()
    assert not CandidatePair.objects.filter(case_a=charity).exists()
    assert not CandidatePair.objects.filter(case_b=charity).exists()
    assert not LinkageKey.objects.filter(case=charity).exists()
    # The case itself and its statistical fields stay.
    assert Case.objects.filter(pk=charity.pk).exists()
    assert Person.objects.filter(pk=charity.person_id).exists()
    # The police's and the third referral stay linked (a decision maker said they are one
    # person), each whole; the pair that linked the third one named the erased case, so the
    # membership no longer points at it.
    members = ClusterMember.objects.filter(cluster_id=cluster)
    assert {m.case_id for m in members} == {made["police"].pk, made["third"].pk}
    assert all(m.linked_by_id is None for m in members)
    for key, name in (
        ("police", "Policeref Person"),
        ("third", "Thirdref Person"),
        ("other", "Otherref Person"),
    ):
        intact(made[key], name)
    erasure = Erasure.objects.get(person=charity.person)
    assert erasure.removed["identity_links"] == 1
    assert erasure.removed["candidate_pairs"] == 3  # two confirmed, one proposed


def test_a_cluster_left_with_one_referral_is_removed(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    police = refer(alice, northmoor_police, authority, name="Policeref Person")
    charity = refer(charlie, southvale_police, authority, name="Charityref Person")
    for case in (police, charity):
        keys_for(case)
    confirm(dmitri, police, charity)
    closed(police, timezone.now() - timedelta(days=3))
    # An erasure waits while a referral confirmed as the same person is open (ADR 0052, stop 36).
    closed(charity)

    factories.person_erased(
        police.person, recorded_by=dpo, request_reference="DP-2", request_received_on=IN_Q2.date()
    )

    assert not IdentityCluster.objects.exists()
    assert not ClusterMember.objects.exists()
    assert not CandidatePair.objects.exists()
    intact(charity, "Charityref Person")


def test_a_refused_erasure_changes_no_link(three: Callable[[], dict[str, Case]], dpo: User) -> None:
    made = three()
    police = made["police"]  # its case is still open: erasure is refused
    links = sorted(ClusterMember.objects.values_list("case_id", "cluster_id", "linked_by_id"))
    pairs = CandidatePair.objects.count()

    with pytest.raises(ValidationError):
        factories.person_erased(
            police.person,
            recorded_by=dpo,
            request_reference="DP-3",
            request_received_on=timezone.localdate(),
        )

    assert sorted(ClusterMember.objects.values_list("case_id", "cluster_id", "linked_by_id")) == (
        links
    )
    assert CandidatePair.objects.count() == pairs


def test_an_erasure_that_fails_part_way_leaves_every_organisations_data(
    three: Callable[[], dict[str, Case]], dpo: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The links are removed, then a later step fails: the whole erasure is undone, links
    included, and nobody else's referral was ever touched."""
    made = three()
    # An erasure waits while a referral confirmed as the same person is open (ADR 0052, stop 36).
    for key in ("police", "third"):
        made[key] = closed(made[key])
    links = sorted(ClusterMember.objects.values_list("case_id", "cluster_id", "linked_by_id"))
    pairs = sorted(CandidatePair.objects.values_list("pk", "status"))

    def failing(**_: object) -> None:
        raise RuntimeError("the timeline could not be written")

    monkeypatch.setattr(privacy, "person_erasure_record", failing)
    with pytest.raises(RuntimeError):
        factories.person_erased(
            made["charity"].person,
            recorded_by=dpo,
            request_reference="DP-4",
            request_received_on=timezone.localdate(),
        )

    assert sorted(ClusterMember.objects.values_list("case_id", "cluster_id", "linked_by_id")) == (
        links
    )
    assert sorted(CandidatePair.objects.values_list("pk", "status")) == pairs
    for key, name in (
        ("police", "Policeref Person"),
        ("charity", "Charityref Person"),
        ("third", "Thirdref Person"),
        ("other", "Otherref Person"),
    ):
        intact(made[key], name)


def test_retention_of_one_member_neither_removes_nor_shortens_the_others(
    three: Callable[[], dict[str, Case]],
) -> None:
    made = three()
    # The third referral closed a year ago: its own period has years to run.
    third = closed(made["third"], timezone.now() - timedelta(days=365))
    # An erasure waits while a referral confirmed as the same person is open (ADR 0052, stop 36).
    made["police"] = closed(made["police"])
    ends_before = privacy_selectors.retention_ends(third.closed_at)

    result = privacy.retention_apply(today=timezone.localdate())

    # Only the charity's referral, closed eight years ago, was past its own period: the later
    # referrals linked to it did not extend it (no legal basis: ADR 0052).
    assert result.people_pseudonymised == 1
    assert Erasure.objects.get().person_id == made["charity"].person_id
    assert not PersonIdentity.objects.filter(person_id=made["charity"].person_id).exists()
    assert not ClusterMember.objects.filter(case=made["charity"]).exists()
    for key, name in (
        ("police", "Policeref Person"),
        ("third", "Thirdref Person"),
        ("other", "Otherref Person"),
    ):
        intact(made[key], name)
    # The third's own period is unchanged, and it is not due.
    third.refresh_from_db()
    assert privacy_selectors.retention_ends(third.closed_at) == ends_before
    due = set(privacy_selectors.people_past_retention(timezone.localdate()).values_list("pk"))
    assert (third.person_id,) not in due
    assert {m.case_id for m in ClusterMember.objects.all()} == {made["police"].pk, third.pk}


def test_a_retention_run_skips_a_failing_person_without_touching_the_linked_ones(
    three: Callable[[], dict[str, Case]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One person's erasure fails (as when a case is reopened meanwhile): the run goes on, and
    what that erasure had already removed, its links among them, comes back with its rollback."""
    made = three()
    links = sorted(ClusterMember.objects.values_list("case_id", "cluster_id", "linked_by_id"))

    def failing(**_: object) -> None:
        raise ValidationError("a case was reopened")

    monkeypatch.setattr(privacy, "person_erasure_record", failing)
    result = privacy.retention_apply(today=timezone.localdate())

    assert result.people_pseudonymised == 0
    assert sorted(ClusterMember.objects.values_list("case_id", "cluster_id", "linked_by_id")) == (
        links
    )
    for key, name in (
        ("police", "Policeref Person"),
        ("charity", "Charityref Person"),
        ("third", "Thirdref Person"),
        ("other", "Otherref Person"),
    ):
        intact(made[key], name)
