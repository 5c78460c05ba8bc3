"""The official tables (`statistics/tables.py`, issue 13 item 1): every cell equals a count
worked out here, in plain Python, from the cases the test made (never from the tables' own
queries); margins add up across the release; the period's edges are days in Europe/London."""

from __future__ import annotations

import contextlib
import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, Person
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from opennrm.policy.negative_reasons import catalogue
from opennrm.referrals.models import DutyToNotifyReport
from opennrm.statistics import disclosure, tables
from opennrm.statistics.disclosure import NOT_APPLICABLE, NOT_AVAILABLE, TOTAL
from opennrm.statistics.tables import Period, StatTable, Stay, SummaryTable, TurnedAway

from . import case_factories, factories

LONDON = ZoneInfo("Europe/London")
Q2 = Period.quarter(2024, 2)  # 1 April to 30 June 2024, British Summer Time throughout

# Moments at and around the edges of the quarter, and inside it.
EDGES = [
    datetime(2024, 3, 31, 23, 59, tzinfo=LONDON),  # out: the day before
    datetime(2024, 4, 1, 0, 0, tzinfo=LONDON),  # in: the first instant
    datetime(2024, 5, 15, 12, 0, tzinfo=LONDON),
    datetime(2024, 6, 30, 23, 59, tzinfo=LONDON),  # in: 22:59 UTC on the last day
    datetime(2024, 7, 1, 0, 0, tzinfo=LONDON),  # out: the day after
]


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """Each example's rows in a savepoint, undone at the end, so examples do not see each other."""
    with contextlib.suppress(_Rollback), transaction.atomic():
        yield
        raise _Rollback


@dataclass(frozen=True)
class Spec:
    submitted_at: datetime
    authority: int
    responder: int
    sex: str
    age_group: str
    nationalities: tuple[str, ...]
    exploitation: tuple[str, ...]
    area: str
    rg: tuple[bool, int] | None  # positive?, days after the referral
    cg: tuple[bool, int] | None  # positive?, days after the RG decision
    location: str = "uk"
    # The answer for an adult: under 18 when the exploitation began? (A child is not asked.)
    at_exploitation: str = "not_known"
    # The main reason of a negative decision at each stage; "" for none recorded.
    rg_reason: str = ""
    cg_reason: str = ""


EXPLOITATION_CODES = ["sexual", "labour", "criminal", "domestic_servitude", "unknown"]
# Every main reason for a negative decision, and none ("not recorded").
REASON_CODES = ["", *catalogue().codes]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    submitted_at = draw(
        st.one_of(
            st.sampled_from(EDGES),
            st.integers(0, 150 * 24).map(
                lambda hours: datetime(2024, 3, 1, tzinfo=LONDON) + timedelta(hours=hours)
            ),
        )
    )
    rg = draw(st.none() | st.tuples(st.booleans(), st.integers(0, 120)))
    cg = draw(st.none() | st.tuples(st.booleans(), st.integers(0, 120))) if rg and rg[0] else None
    return Spec(
        submitted_at=submitted_at,
        authority=draw(st.integers(0, 1)),
        responder=draw(st.integers(0, 1)),
        sex=draw(st.sampled_from(["female", "male", "other", "unknown"])),
        age_group=draw(st.sampled_from(["adult", "child", "presumed_child"])),
        at_exploitation=draw(st.sampled_from(["adult", "child", "not_known"])),
        nationalities=tuple(draw(st.lists(st.sampled_from(["AL", "GB", "VN"]), max_size=2))),
        exploitation=tuple(draw(st.lists(st.sampled_from(EXPLOITATION_CODES), max_size=2))),
        area=draw(st.sampled_from(["Northmoor", "Southvale"])),
        rg=rg,
        cg=cg,
        location=draw(st.sampled_from(["uk", "overseas", "both", "unknown"])),
        rg_reason=draw(st.sampled_from(REASON_CODES)),
        cg_reason=draw(st.sampled_from(REASON_CODES)),
    )


@dataclass
class World:
    authorities: list[Organisation]
    responders: list[Organisation]
    referrer: User
    decider: User


@pytest.fixture
def world(db: None) -> World:
    authorities = [
        factories.organisation("Alpha Authority", Kind.COMPETENT_AUTHORITY),
        factories.organisation("Beta Authority", Kind.COMPETENT_AUTHORITY),
    ]
    responders = [
        factories.organisation("Statutory Police", Kind.STATUTORY_FIRST_RESPONDER),
        factories.organisation("Charity Helpline", Kind.NON_STATUTORY_FIRST_RESPONDER),
    ]
    return World(
        authorities,
        responders,
        factories.user(organisation=responders[0]),
        factories.user(full_name="Decider"),
    )


def make(world: World, spec: Spec) -> None:
    made = case_factories.case(
        referred_by=world.referrer,
        referring_organisation=world.responders[spec.responder],
        authority=world.authorities[spec.authority],
        age_group=AgeGroup(spec.age_group),
        age_group_at_exploitation=spec.at_exploitation,
        area=spec.area,
        submitted_at=spec.submitted_at,
    )
    Case.objects.filter(pk=made.pk).update(
        exploitation_types=list(spec.exploitation), exploitation_location=spec.location
    )
    Person.objects.filter(pk=made.person_id).update(
        sex=spec.sex, nationalities=list(spec.nationalities)
    )
    if spec.rg is None:
        return
    rg_at = spec.submitted_at + timedelta(days=spec.rg[1])
    decide(world, made, DecisionKind.REASONABLE_GROUNDS, spec.rg[0], rg_at, spec.rg_reason)
    if spec.cg is not None:
        decide(
            world,
            made,
            DecisionKind.CONCLUSIVE_GROUNDS,
            spec.cg[0],
            rg_at + timedelta(spec.cg[1]),
            spec.cg_reason,
        )


def decide(
    world: World, case: Case, kind: str, positive: bool, at: datetime, reason: str = ""
) -> None:
    Decision.objects.create(
        case=case,
        kind=kind,
        outcome="positive" if positive else "negative",
        outcome_label="Positive" if positive else "Negative",
        outcome_kind="positive" if positive else "negative",
        negative_reason="" if positive else reason,
        reasons="Decided.",
        decided_by=world.decider,
        decided_at=at,
        state=DecisionState.IN_EFFECT,
        policy_profile_key="test",
        policy_profile_version="test",
    )


# --- The independent reckoning -------------------------------------------------------------


def day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def in_q2(moment: datetime) -> bool:
    return date(2024, 4, 1) <= day(moment) <= date(2024, 6, 30)


def expected_age(spec: Spec) -> str:
    """The age group at exploitation: a child or age-disputed person at referral was a child
    then; an adult's is the answer given, "not known" counting as not specified."""
    if spec.age_group in ("child", "presumed_child"):
        return "child"
    return {"adult": "adult", "child": "child", "not_known": "not_specified"}[spec.at_exploitation]


def expected_exploitation(types: tuple[str, ...]) -> str:
    known = set(types) - {"unknown"}
    if len(known) == 1:
        return known.pop()
    return "multiple" if known else "unknown"


def counts_of(table: StatTable) -> dict[tuple[str, ...], int]:
    """The table's non-zero interior counts (a category the rules did not record is [x])."""
    return {k: v for k, v in table.table.counts.items() if isinstance(v, int) and v}


def nonzero(counter: Counter[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    return {k: v for k, v in counter.items() if v}


AUTHORITY_NAMES = ["Alpha Authority", "Beta Authority"]
RESPONDER_KINDS = ["statutory_first_responder", "non_statutory_first_responder"]


def wait_band(days: int) -> str:
    for most, code in (
        (91, "under_3_months"),
        (182, "3_to_6_months"),
        (365, "6_to_12_months"),
        (730, "1_to_2_years"),
        (1095, "2_to_3_years"),
    ):
        if days < most:
            return code
    return "3_years_or_more"


@dataclass
class Expected:
    """What the tables should hold, reckoned here from the specs alone."""

    inside: list[Spec]
    rg: list[tuple[Spec, datetime]]
    cg: list[tuple[Spec, datetime, datetime]]
    waiting: list[int]


def reckon(cases: list[Spec]) -> Expected:
    expected = Expected([s for s in cases if in_q2(s.submitted_at)], [], [], [])
    period_end = datetime(2024, 7, 1, tzinfo=LONDON)
    for s in cases:
        if s.rg is None:
            continue
        rg_at = s.submitted_at + timedelta(days=s.rg[1])
        if in_q2(rg_at):
            expected.rg.append((s, rg_at))
        cg_at = rg_at + timedelta(days=s.cg[1]) if s.cg else None
        if cg_at is not None and in_q2(cg_at):
            expected.cg.append((s, rg_at, cg_at))
        if s.rg[0] and rg_at < period_end and (cg_at is None or cg_at >= period_end):
            expected.waiting.append((date(2024, 6, 30) - day(s.submitted_at)).days)
    return expected


def referral_counts(inside: list[Spec]) -> dict[str, Counter[tuple[str, ...]]]:
    return {
        "referrals_by_competent_authority": Counter(
            (AUTHORITY_NAMES[s.authority],) for s in inside
        ),
        "referrals_by_sex": Counter((s.sex,) for s in inside),
        "referrals_by_age_group": Counter((expected_age(s),) for s in inside),
        "referrals_by_nationality": Counter(
            (s.nationalities[0] if s.nationalities else "not_known",) for s in inside
        ),
        "referrals_by_exploitation_and_age_group": Counter(
            (expected_exploitation(s.exploitation), expected_age(s)) for s in inside
        ),
        "referrals_by_first_responder": Counter((RESPONDER_KINDS[s.responder],) for s in inside),
        "referrals_by_area": Counter((s.area,) for s in inside),
        "referrals_by_exploitation_location": Counter((s.location,) for s in inside),
    }


def outcome(positive: bool) -> str:
    return "positive" if positive else "negative"


def reason_row(positive: bool, reason: str) -> tuple[str]:
    if positive:
        return ("not_negative",)
    return (reason or "not_recorded",)


def stat(made: dict[str, tables.AnyTable], name: str) -> StatTable:
    table = made[name]
    assert isinstance(table, StatTable)
    return table


def summary(made: dict[str, tables.AnyTable], name: str) -> SummaryTable:
    table = made[name]
    assert isinstance(table, SummaryTable)
    return table


def check_decisions(made: dict[str, tables.AnyTable], expected: Expected) -> None:
    assert counts_of(stat(made, "rg_decisions_by_competent_authority")) == nonzero(
        Counter(
            (AUTHORITY_NAMES[s.authority], outcome(bool(s.rg and s.rg[0]))) for s, _ in expected.rg
        )
    )
    assert counts_of(stat(made, "cg_decisions_by_competent_authority")) == nonzero(
        Counter(
            (AUTHORITY_NAMES[s.authority], outcome(bool(s.cg and s.cg[0])))
            for s, _, _ in expected.cg
        )
    )
    # By main reason: a positive decision under "not_negative", a negative one under its
    # reason, or "not_recorded" if it has none; every other combination is [z].
    assert counts_of(stat(made, "rg_decisions_by_negative_reason")) == nonzero(
        Counter(
            (*reason_row(bool(s.rg and s.rg[0]), s.rg_reason), outcome(bool(s.rg and s.rg[0])))
            for s, _ in expected.rg
        )
    )
    assert counts_of(stat(made, "cg_decisions_by_negative_reason")) == nonzero(
        Counter(
            (*reason_row(bool(s.cg and s.cg[0]), s.cg_reason), outcome(bool(s.cg and s.cg[0])))
            for s, _, _ in expected.cg
        )
    )
    for short in ("rg", "cg"):
        cells = stat(made, f"{short}_decisions_by_negative_reason").table.counts
        for (reason, decided), value in cells.items():
            impossible = (reason == "not_negative") != (decided != "negative")
            assert (value == NOT_APPLICABLE) == impossible, (reason, decided)
    assert sorted(summary(made, "days_referral_to_rg").values[TOTAL]) == sorted(
        float((day(at) - day(s.submitted_at)).days) for s, at in expected.rg
    )
    assert sorted(summary(made, "days_rg_to_cg").values[TOTAL]) == sorted(
        float((day(cg) - day(rg)).days) for _, rg, cg in expected.cg
    )
    assert counts_of(stat(made, "awaiting_cg_by_time_waited")) == nonzero(
        Counter((wait_band(d),) for d in expected.waiting)
    )


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(specs(), max_size=10))
def test_every_cell_equals_a_count_made_from_the_generated_cases(
    world: World, cases: list[Spec]
) -> None:
    with rolled_back():
        for spec in cases:
            make(world, spec)
        made = {t.name: t for t in tables.release_tables(Q2) if not isinstance(t, tables.Missing)}
    expected = reckon(cases)

    for name, counter in referral_counts(expected.inside).items():
        table = stat(made, name)
        assert counts_of(table) == nonzero(counter), name
        assert table.counts == "referrals"
        assert any("not of people" in note for note in table.notes)
    check_decisions(made, expected)

    # One release: every table of referrals shares one grand total, and margins add up.
    release = tables.assemble(made.values())
    assert release.values[disclosure.Cell.of("referrals")] == len(expected.inside)
    assert release.values[disclosure.Cell.of("rg_decisions")] == len(expected.rg)
    # The negative decisions by reason add up to the negative decisions by authority: one cell.
    negatives = {
        "rg": sum(1 for s, _ in expected.rg if s.rg and not s.rg[0]),
        "cg": sum(1 for s, _, _ in expected.cg if s.cg and not s.cg[0]),
    }
    for short, count in negatives.items():
        negative = disclosure.Cell.of(f"{short}_decisions", outcome="negative")
        assert release.values[negative] == count
        by_reason = next(
            t for t in release.tables if t.name == f"{short}_decisions_by_negative_reason"
        )
        assert any(
            relation.total == negative
            and {c.key for c in relation.parts}
            == {by_reason.cell(reason, "negative").key for reason in by_reason.dimensions[0].values}
            for relation in release.relations
        )
    for group in ("adult", "child", "not_specified"):
        assert release.values[disclosure.Cell.of("referrals", age_group=group)] == sum(
            1 for s in expected.inside if expected_age(s) == group
        )
    release.check_consistent()

    # Protected: no count from 1 to 4 is published, the audit passes, and figures over a
    # suppressed group are suppressed too.
    protected = disclosure.protect(release)
    assert not [v for v in protected.published.values() if isinstance(v, int) and 1 <= v <= 4]
    assert disclosure.is_safe(release, protected.published)
    for row in summary(made, "days_referral_to_rg").published(protected):
        if row.count == disclosure.CONFIDENTIAL:
            assert row.median == disclosure.CONFIDENTIAL
    rg_table = stat(made, "rg_decisions_by_competent_authority")
    for share in tables.positive_shares(rg_table, protected):
        if disclosure.CONFIDENTIAL in (share.decisions, share.positive):
            assert share.share == disclosure.CONFIDENTIAL


def test_a_case_submitted_at_2359_on_the_last_day_counts_in_that_quarter(world: World) -> None:
    """23:59 on 31 March 2024 is 23:59 GMT; 23:59 on 30 June is 22:59 UTC: both are the last
    minute of their quarters in London, whatever UTC's date."""
    for moment in (
        datetime(2024, 3, 31, 23, 59, tzinfo=LONDON),
        datetime(2024, 6, 30, 23, 59, tzinfo=LONDON),
        datetime(2024, 7, 1, 0, 0, tzinfo=LONDON),
    ):
        make(world, Spec(moment, 0, 0, "male", "adult", ("GB",), ("labour",), "N", None, None))
    q1 = [r.submitted_on for r in tables.load_referrals(Period.quarter(2024, 1))]
    q2 = [r.submitted_on for r in tables.load_referrals(Q2)]
    q3 = [r.submitted_on for r in tables.load_referrals(Period.quarter(2024, 3))]
    assert q1 == [date(2024, 3, 31)]
    assert q2 == [date(2024, 6, 30)]
    assert q3 == [date(2024, 7, 1)]


def test_referrals_count_by_age_group_at_exploitation_not_at_referral(world: World) -> None:
    """An adult who was under 18 when it began is a child here; an adult not asked (or who did
    not know) is not specified, never an adult; an age-disputed person is a child."""
    for age_group, answer in (
        ("adult", "child"),
        ("adult", "adult"),
        ("adult", "not_known"),
        ("presumed_child", "adult"),  # not asked of a child: "adult" is never recorded for one
    ):
        spec = Spec(EDGES[2], 0, 0, "male", age_group, ("GB",), ("labour",), "N", None, None)
        make(world, replace(spec, at_exploitation=answer))
    made = {t.name: t for t in tables.release_tables(Q2) if not isinstance(t, tables.Missing)}
    by_age = stat(made, "referrals_by_age_group")
    assert counts_of(by_age) == {("child",): 2, ("adult",): 1, ("not_specified",): 1}
    assert by_age.title == "Referrals by age group at exploitation"
    assert tables.AGE_AT_EXPLOITATION_NOTE in by_age.notes
    assert not any("not recorded separately" in note for note in by_age.notes)
    both = stat(made, "referrals_by_exploitation_and_age_group")
    assert tables.AGE_AT_EXPLOITATION_NOTE in both.notes


def test_a_jurisdiction_counts_only_its_own_referrals(world: World) -> None:
    scotland = factories.organisation(
        "Scottish Police", Kind.STATUTORY_FIRST_RESPONDER, jurisdiction="scotland"
    )
    make(world, Spec(EDGES[2], 0, 0, "male", "adult", (), (), "N", None, None))
    case_factories.case(
        referred_by=world.referrer,
        referring_organisation=scotland,
        authority=world.authorities[0],
        submitted_at=EDGES[2],
    )
    assert len(tables.load_referrals(Q2)) == 2
    assert len(tables.load_referrals(Q2, "scotland")) == 1
    assert len(tables.load_referrals(Q2, "england_and_wales")) == 1


def test_criminal_exploitation_is_not_available_before_october_2019() -> None:
    hidden, _ = tables.exploitation_availability(Period.quarter(2018, 2), "england_and_wales")
    assert "criminal" in hidden
    hidden_2024, _ = tables.exploitation_availability(Q2, "england_and_wales")
    assert "criminal" not in hidden_2024
    hidden_change, partial_change = tables.exploitation_availability(
        Period.year(2019), "england_and_wales"
    )
    assert "criminal" not in hidden_change
    assert partial_change["criminal"] == date(2019, 10, 1)


def test_a_category_not_recorded_is_x_and_its_margins_still_add_up() -> None:
    referrals = [
        tables.Referral(date(2018, 5, 1), "england_and_wales", "A", "male", age, "GB", kind, k, "N")
        for age, kind in (("adult", "labour"), ("child", "labour"), ("child", "sexual"))
        for k in ("statutory_first_responder",)
    ]
    made = tables.referral_tables(
        referrals, Period.quarter(2018, 2), unavailable_exploitation=frozenset({"criminal"})
    )
    table = next(t for t in made if t.name == "referrals_by_exploitation_and_age_group")
    assert isinstance(table, StatTable)
    assert table.table.counts[("criminal", "adult")] == NOT_AVAILABLE
    release = tables.assemble(made)
    assert release.values[disclosure.Cell.of("referrals", age_group="child")] == 2
    assert release.values[disclosure.Cell.of("referrals", exploitation="criminal")] == NOT_AVAILABLE
    assert any("[x]" in note for note in table.notes)


def test_the_twenty_commonest_nationalities_then_other() -> None:
    codes = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(25)]
    referrals = [
        tables.Referral(date(2024, 5, 1), "e", "A", "male", "adult", code, "labour", "other", "N")
        for n, code in enumerate(codes)
        for _ in range(n + 1)
    ] + [tables.Referral(date(2024, 5, 1), "e", "A", "male", "adult", "", "labour", "other", "N")]
    top = tables.top_nationalities(referrals)
    assert top == list(reversed(codes))[:20]
    table = next(
        t for t in tables.referral_tables(referrals, Q2) if t.name == "referrals_by_nationality"
    )
    assert isinstance(table, StatTable)
    assert table.table.counts[("other",)] == 1 + 2 + 3 + 4 + 5
    assert table.table.counts[("not_known",)] == 1


def test_duty_to_notify_reports_by_exploitation_and_public_authority(world: World) -> None:
    for moment, types in ((EDGES[1], ["sexual"]), (EDGES[3], ["labour", "sexual"]), (EDGES[4], [])):
        DutyToNotifyReport.objects.create(
            reference=f"DTN-{moment:%m%d%H%M}",
            organisation=world.responders[0],
            submitted_by=world.referrer,
            submitted_at=moment,
            jurisdiction="england_and_wales",
            area="N",
            sex="male",
            age_band="18-24",
            exploitation_types=types,
            exploitation_location="uk",
        )
    (table,) = tables.report_tables(tables.load_reports(Q2), Q2)
    assert isinstance(table, StatTable)
    assert {k: v for k, v in table.table.counts.items() if v} == {
        ("sexual", "statutory_first_responder"): 1,
        ("multiple", "statutory_first_responder"): 1,
    }
    assert table.table.population == "dtn_reports"


def test_support_tables_count_stays_requests_and_episodes() -> None:
    stays = [
        Stay("london", date(2024, 3, 1), None),  # in support at the end, not begun in Q2
        Stay("london", date(2024, 4, 1), date(2024, 6, 30)),  # begun; ended on the last day
        Stay("wales", date(2024, 6, 30), None),  # begun and in support
    ]
    turned = [TurnedAway(date(2024, 5, 1), "no_beds", "london")]
    made = {t.name: t for t in tables.support_tables(stays, turned, ["adult", "child"], Q2)}
    started = made["placements_started_by_region"]
    at_end = made["in_support_at_end_by_region"]
    assert isinstance(started, StatTable)
    assert isinstance(at_end, StatTable)
    assert {k: v for k, v in started.table.counts.items() if v} == {("london",): 1, ("wales",): 1}
    assert {k: v for k, v in at_end.table.counts.items() if v} == {("london",): 1, ("wales",): 1}
    tables.assemble(made.values()).check_consistent()


def test_negative_decisions_by_reason_are_counted_from_the_code_never_the_text() -> None:
    """Each negative decision in one cell under its main reason; one without a code under
    "not recorded" (nothing is read from its free text); and the table is no longer listed as
    not available."""
    issued = [
        tables.Issued(
            "reasonable_grounds", "A", "negative", date(2024, 5, 1), date(2024, 4, 1), None, code
        )
        for code in ("no_means", "no_means", "not_credible", "")
    ] + [tables.Issued("reasonable_grounds", "A", "positive", date(2024, 5, 1), date(2024, 4, 1))]
    made = {t.name: t for t in tables.decision_tables(issued, Q2)}
    table = stat(made, "rg_decisions_by_negative_reason")
    assert counts_of(table) == {
        ("no_means", "negative"): 2,
        ("not_credible", "negative"): 1,
        ("not_recorded", "negative"): 1,
        ("not_negative", "positive"): 1,
    }
    assert table.label("negative_reason", "not_recorded").startswith("Not recorded")
    assert table.label("negative_reason", "no_means") == catalogue().label("no_means")
    release = tables.assemble(made.values())
    release.check_consistent()
    assert release.values[disclosure.Cell.of("rg_decisions", outcome="negative")] == 4
    assert not [t for t in tables.NOT_AVAILABLE_TABLES if "reason" in t.title.lower()]


# --- The analyst's preview page ------------------------------------------------------------


def table_rows(page: str, slug: str) -> list[list[str]]:
    """The body rows of the table with this id, as the page shows them."""
    found = re.search(rf'<table[^>]*id="{slug}"[^>]*>(.*?)</table>', page, re.S)
    assert found, f"no table {slug}"
    body = found.group(1).split("<tbody", 1)[1]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def analyst(monitoring: Organisation) -> User:
    return factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ana Lyst")


@pytest.mark.page("statistics:tables")
def test_the_analyst_sees_the_quarter_with_small_counts_suppressed(
    world: World, analyst: User, alice: User
) -> None:
    # Seven referrals in the quarter: five men, two women (a small count: [c]).
    for n, sex in enumerate(["male"] * 5 + ["female"] * 2):
        make(
            world,
            Spec(
                EDGES[2] + timedelta(days=n),
                0,
                0,
                sex,
                "adult",
                ("AL",),
                ("labour",),
                "N",
                None,
                None,
            ),
        )
    client = factories.signed_in_client(analyst)
    response = client.get("/statistics/tables/", {"year": "2024", "quarter": "2"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 April 2024 to 30 June 2024" in page
    rows = dict((row[0], row[1:]) for row in table_rows(page, "referrals-by-sex"))
    assert rows["Female"] == ["[c]"]
    assert rows["Male"] == ["[c]"], "the other cell of the total is suppressed too"
    assert table_rows(page, "referrals-by-competent-authority")[-1] == ["Total", "7"]
    # Negative decisions by main reason: every reason a row, [z] where it cannot occur.
    reasons = {row[0]: row[1:] for row in table_rows(page, "rg-decisions-by-negative-reason")}
    assert reasons[catalogue().label("no_means")] == ["[z]", "0", "[z]", "0"]
    assert reasons["Not recorded (decided before reasons were coded)"] == ["[z]", "0", "[z]", "0"]
    assert reasons["Not a negative decision"] == ["0", "[z]", "0", "0"]
    assert "not of people" in page
    # A preview beside the releases could be subtracted from them (ADR 0056): never quoted.
    assert "These figures are not for quoting or sharing" in page

    # Bad input: a clear message, and what was typed is kept.
    bad = client.get("/statistics/tables/", {"year": "1999", "quarter": "2"}).content.decode()
    assert "The year must be 2009 or later" in bad
    assert 'value="1999"' in bad

    assert client.post("/statistics/tables/").status_code == 405
    outsider = factories.signed_in_client(alice)
    assert outsider.get("/statistics/tables/").status_code == 404


def test_the_preview_opens_on_the_last_quarter_that_has_ended() -> None:
    from opennrm.statistics.tables_views import last_quarter

    assert last_quarter(date(2026, 12, 2)) == (2026, 3)
    assert last_quarter(date(2026, 2, 1)) == (2025, 4)


def test_a_category_the_rules_did_not_list_is_shown_if_the_data_holds_it() -> None:
    referrals = [
        tables.Referral(date(2024, 5, 1), "e", "A", "male", "adult", "GB", kind, "other", "N")
        for kind in ("forced_marriage", "labour")
    ]
    made = tables.referral_tables(
        referrals, Q2, unavailable_exploitation=frozenset({"forced_marriage", "organ_harvesting"})
    )
    table = next(t for t in made if t.name == "referrals_by_exploitation_and_age_group")
    assert isinstance(table, StatTable)
    assert table.table.counts[("forced_marriage", "adult")] == 1
    assert table.table.counts[("organ_harvesting", "adult")] == NOT_AVAILABLE
    assert any("did not list it" in note for note in table.notes)


def test_support_figures_are_read_from_placements_unmet_needs_and_missing_episodes(
    world: World, maya: User, cora: User, provider: Organisation
) -> None:
    from opennrm.accommodation.models import Placement, PlacementStatus, UnmetNeed
    from opennrm.care.models import MissingEpisode

    from . import support_factories

    house = support_factories.site(maya, provider, region="london")
    beds = support_factories.beds(maya, house, 4)
    cases = []
    for n in range(4):
        make(
            world,
            Spec(EDGES[2], 0, 0, "female", "child" if n == 3 else "adult", (), (), "N", None, None),
        )
        cases.append(Case.objects.latest("id"))
    stays = [  # arrived, ended, status
        (date(2024, 3, 1), None, PlacementStatus.OCCUPIED),  # in support at the end only
        (date(2024, 4, 1), date(2024, 6, 30), PlacementStatus.ENDED),  # begun, not at the end
        (date(2024, 6, 30), None, PlacementStatus.OCCUPIED),  # begun and at the end
        (date(2024, 7, 1), None, PlacementStatus.OCCUPIED),  # after the quarter
    ]
    for case, bed, (arrived, ended, status) in zip(cases, beds, stays, strict=True):
        request = support_factories.request(case)
        Placement.objects.create(
            request=request,
            bed=bed,
            status=status,
            proposed_at=EDGES[0],
            proposed_by=cora,
            arrived_on=arrived,
            ended_on=ended,
        )
        for on in (date(2024, 5, 1), date(2024, 5, 2)):  # one request, two days: counted once
            UnmetNeed.objects.create(
                request=request, on=on, constraint="no_beds", reason="None free.", region="wales"
            )
        MissingEpisode.objects.create(
            case=case,
            went_missing_on=arrived,
            reported_at=EDGES[2],
            reported_by=cora,
            returned_on=arrived,
        )

    made = {
        t.name: t
        for t in tables.support_tables(
            tables.load_stays(Q2),
            tables.load_turned_away(Q2),
            tables.load_missing(Q2),
            Q2,
        )
    }
    assert counts_of(stat(made, "placements_started_by_region")) == {("london",): 2}
    assert counts_of(stat(made, "in_support_at_end_by_region")) == {("london",): 2}
    assert counts_of(stat(made, "turned_away_by_reason_and_region")) == {("no_beds", "wales"): 4}
    # Went missing on 1 April and 30 June (adults); 1 March and 1 July fall outside.
    assert counts_of(stat(made, "missing_episodes_by_age_group")) == {("adult",): 2}
    assert not tables.load_stays(Q2, "scotland")
