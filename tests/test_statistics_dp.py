"""Differentially private counts for analysts (issue 13, item 6; statistics.dp, ADR 0035): the
cells, the noise's calibration, the privacy budget and its ledger, and the analyst's page."""

from __future__ import annotations

import inspect
import math
import statistics
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client, override_settings
from django.urls import reverse

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus, Sex
from opennrm.cases.models import Case, Person
from opennrm.statistics import dp, selectors
from opennrm.statistics.models import PrivacyLedgerEntry
from opennrm.statistics.services import BudgetSpent, dp_query_answer

from . import case_factories, factories

LONDON = ZoneInfo("Europe/London")
# The last day of the quarter the referrals are in: a period may not end after today.
NOW = "2026-12-31 10:00:00+00:00"
URL = "/statistics/private-counts/"


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann(monitoring: Organisation) -> User:
    return factories.user("ann@example.org", organisation=monitoring, role=Role.ANALYST)


@pytest.fixture
def ava(monitoring: Organisation) -> User:
    return factories.user("ava@example.org", organisation=monitoring, role=Role.ANALYST)


@pytest.fixture
def referrals(alice: User, northmoor_police: Organisation, authority: Organisation) -> list[Any]:
    """Five referrals in the last quarter of 2026: three adults, two children; one in 2025."""
    made = []
    for day, age_group in ((1, "adult"), (2, "adult"), (3, "adult"), (4, "child"), (5, "child")):
        made.append(
            case_factories.case(
                referred_by=alice,
                referring_organisation=northmoor_police,
                authority=authority,
                age_group=AgeGroup(age_group),
                submitted_at=datetime(2026, 10, day, 12, tzinfo=LONDON),
            )
        )
    made.append(
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=datetime(2025, 6, 1, 12, tzinfo=LONDON),
        )
    )
    return made


def query(*dimensions: str, epsilon: str = "0.1", **dates: date) -> dp.Query:
    return dp.Query(
        start=dates.get("start", date(2026, 10, 1)),
        end=dates.get("end", date(2026, 12, 31)),
        dimensions=dimensions,
        epsilon=Decimal(epsilon),
    )


# --- The cells --------------------------------------------------------------------------------


def test_the_exact_counts_come_from_the_period_and_one_referral_is_in_one_cell(
    referrals: list[Any],
) -> None:
    counts = dp.true_counts(query("age_group", "sex", "quarter"))
    assert counts == {("adult", "female", "2026-Q4"): 3, ("child", "female", "2026-Q4"): 2}
    assert sum(dp.true_counts(query("exploitation_type", "nationality_region")).values()) == 5


def test_the_universe_is_every_combination_of_known_categories_even_empty_ones(
    referrals: list[Any], authority: Organisation
) -> None:
    asked = query("sex", "age_group")
    cells = dp.universe(asked)
    assert len(cells) == len(Sex.choices) * len(AgeGroup.choices)
    answer = dp.answer(asked)
    assert {cell.categories for cell in answer.cells} == {
        (sex, age) for sex in Sex.values for age in AgeGroup.values
    }
    # The male cells have no referral, and are answered all the same.
    assert ("male", "adult") in {cell.categories for cell in answer.cells}
    authorities = dp.universe(query("competent_authority"))
    assert ((str(authority.pk), authority.name),) in authorities


def test_a_referral_with_several_types_or_nationalities_counts_once(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    made = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        submitted_at=datetime(2026, 11, 1, 12, tzinfo=LONDON),
    )
    Case.objects.filter(pk=made.pk).update(exploitation_types=["labour", "sexual"])
    Person.objects.filter(pk=made.person_id).update(nationalities=["AL", "NG"])
    assert dp.true_counts(query("exploitation_type", "nationality_region")) == {
        ("multiple", "Europe"): 1
    }


def test_the_quarters_of_a_period_run_across_years() -> None:
    assert dp.quarters(date(2025, 11, 5), date(2026, 4, 1)) == [
        (2025, 4),
        (2026, 1),
        (2026, 2),
    ]


# --- The noise --------------------------------------------------------------------------------


def test_the_noise_is_calibrated_to_the_epsilon() -> None:
    """The empirical spread of (noisy - true) over many draws matches the discrete Laplace
    mechanism's with scale 1/epsilon, and at least 95% of draws fall inside the interval."""
    epsilon = Decimal("0.5")
    scale = 1 / float(epsilon)
    true = [7] * 20_000
    errors = [noisy - 7 for noisy in dp.release(true, epsilon)]
    # The variance of the discrete Laplace distribution with scale s: 2e^(-1/s) / (1-e^(-1/s))^2.
    q = math.exp(-1 / scale)
    expected_std = math.sqrt(2 * q) / (1 - q)
    assert statistics.pstdev(errors) == pytest.approx(expected_std, rel=0.05)
    assert abs(statistics.fmean(errors)) < 0.1
    margin = dp.margin(epsilon)
    inside = sum(abs(error) <= margin for error in errors) / len(errors)
    assert inside >= 0.94


def test_the_mechanism_spends_no_more_than_the_epsilon_charged() -> None:
    for epsilon in ("0.01", "0.1", "1.00"):
        mechanism = dp.measurement(Decimal(epsilon), 10)
        assert mechanism.map(1) <= float(epsilon) * (1 + 1e-9)


# --- The budget and its ledger ------------------------------------------------------------------


def test_an_answer_is_charged_to_the_ledger_with_one_audit_event(
    clock: Any, ann: User, referrals: list[Any], monitoring: Organisation
) -> None:
    before = AuditEvent.objects.count()
    result = dp_query_answer(by=Actor.of_session(ann), query=query("sex", "age_group"))
    entry = PrivacyLedgerEntry.objects.get()
    assert (entry.analyst, entry.organisation, entry.period) == (ann, monitoring, "2026-12")
    assert entry.epsilon == Decimal("0.1")
    assert entry.dimensions == ["sex", "age_group"]
    assert result.budget.left == Decimal("0.9")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("pk")
    assert event.action == "statistics.dp_query"
    assert event.detail["epsilon"] == "0.1"
    assert event.detail["dimensions"] == ["sex", "age_group"]


def test_every_statistics_service_is_covered() -> None:
    """The statistics app's write services are each checked for their one audit event in their
    own modules (tests/test_audit_services.py leaves this app to them): `dp_query_answer` above,
    `extract_download_record` in tests/test_statistics_extract.py."""
    from opennrm.statistics import services

    assert {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__ and not name.startswith("_")
    } == {"dp_query_answer", "extract_download_record"}
    extract_tests = (Path(__file__).parent / "test_statistics_extract.py").read_text()
    assert "def test_a_download_leaves_one_audit_event_naming_no_person(" in extract_tests


@override_settings(DP_BUDGET_EPSILON=Decimal("1.0"))
def test_a_question_over_the_budget_is_refused_and_nothing_is_charged(
    clock: Any, ann: User, referrals: list[Any]
) -> None:
    actor = Actor.of_session(ann)
    for _ in range(19):
        dp_query_answer(by=actor, query=query("sex", epsilon="0.05"))
    assert selectors.budget_of(ann, date(2026, 12, 10)).left == Decimal("0.05")
    events = AuditEvent.objects.count()
    with pytest.raises(BudgetSpent) as refused:
        dp_query_answer(by=actor, query=query("sex", epsilon="0.1"))
    assert refused.value.message_dict["epsilon"] == [
        "Your privacy budget for December 2026 is spent: 0.05 of 1.0 left; this question needs 0.1"
    ]
    assert PrivacyLedgerEntry.objects.count() == 19
    assert AuditEvent.objects.count() == events
    # What is left can still be spent exactly.
    dp_query_answer(by=actor, query=query("sex", epsilon="0.05"))
    assert selectors.budget_of(ann, date(2026, 12, 10)).left == 0


def test_each_analysts_budget_is_their_own_and_a_new_month_brings_a_new_one(
    ann: User, ava: User, referrals: list[Any]
) -> None:
    with time_machine.travel(NOW, tick=False):
        dp_query_answer(by=Actor.of_session(ann), query=query("sex", epsilon="1.00"))
        with pytest.raises(BudgetSpent):
            dp_query_answer(by=Actor.of_session(ann), query=query("sex", epsilon="0.01"))
        # Another analyst's budget is untouched.
        dp_query_answer(by=Actor.of_session(ava), query=query("sex", epsilon="0.5"))
        assert selectors.budget_of(ava, date(2026, 12, 10)).left == Decimal("0.5")
    with time_machine.travel("2027-01-01 09:00:00+00:00", tick=False):
        dp_query_answer(by=Actor.of_session(ann), query=query("sex", epsilon="0.3"))
        assert selectors.budget_of(ann, date(2027, 1, 1)).spent == Decimal("0.3")


def test_only_an_analyst_may_ask(clock: Any, alice: User) -> None:
    with pytest.raises(Http404):
        dp_query_answer(by=Actor.of_session(alice), query=query("sex"))
    assert not PrivacyLedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("asked", "field", "message"),
    [
        (query(), "dimensions", "Select at least one way to split the count"),
        (
            query("sex", "age_group", "status", "quarter"),
            "dimensions",
            "Select no more than 3 ways to split the count",
        ),
        (query("sex", "name"), "dimensions", "Select the ways to split the count from the list"),
        (query("sex", epsilon="2"), "epsilon", "Epsilon must be between 0.01 and 1.00"),
        (
            query("sex", start=date(2026, 5, 1), end=date(2026, 4, 1)),
            "end",
            "The end of the period must be the same as or after its start",
        ),
    ],
)
def test_a_bad_question_is_refused_with_a_specific_message(
    clock: Any, ann: User, asked: dp.Query, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        dp_query_answer(by=Actor.of_session(ann), query=asked)
    assert refused.value.message_dict == {field: [message]}
    assert not PrivacyLedgerEntry.objects.exists()


def test_a_period_after_today_is_refused_naming_its_field() -> None:
    today = date(2026, 12, 10)
    assert query("sex", end=date(2026, 12, 10)).problems(today) == {}
    assert query("sex", end=date(2026, 12, 11)).problems(today) == {
        "end": "The end of the period must be today or earlier"
    }
    assert query("sex", start=date(9999, 12, 30), end=date(9999, 12, 31)).problems(today) == {
        "start": "The start of the period must be today or earlier",
        "end": "The end of the period must be today or earlier",
    }


def test_the_last_day_python_holds_bounds_the_period_without_overflow(
    referrals: list[Any],
) -> None:
    """The services never ask it (the day is after today), but the bounds hold on their own."""
    assert dp.true_counts(query("age_group", end=date.max)) == {("adult",): 3, ("child",): 2}
    assert dp.true_counts(query("age_group", start=date.max, end=date.max)) == {}


# --- The page ---------------------------------------------------------------------------------


def ask(client: Client, **changes: Any) -> Any:
    data: dict[str, Any] = {
        "start_day": "1",
        "start_month": "10",
        "start_year": "2026",
        "end_day": "31",
        "end_month": "12",
        "end_year": "2026",
        "dimensions": ["sex", "age_group"],
        "epsilon": "0.1",
    }
    data.update(changes)
    return client.post(URL, data)


@pytest.mark.page("statistics:dp_query")
def test_an_analyst_asks_and_gets_a_noisy_table_charged_to_their_budget(
    clock: Any, ann: User, referrals: list[Any]
) -> None:
    assert reverse("statistics:dp_query") == URL
    client = factories.signed_in_client(ann)
    first = client.get(URL)
    assert first.status_code == 200
    assert "Your privacy budget for December 2026" in first.content.decode()
    page = ask(client)
    assert page.status_code == 200
    html = page.content.decode()
    entry = PrivacyLedgerEntry.objects.get()
    assert (entry.analyst, entry.epsilon) == (ann, Decimal("0.1"))
    assert 'id="dp-answer"' in html
    assert html.count('<th scope="row" class="govuk-table__header">') == len(Sex.choices) * len(
        AgeGroup.choices
    )
    assert "0.9 is left for December 2026" in html
    assert 'id="dp-ledger"' in html
    assert AuditEvent.objects.filter(action="statistics.dp_query").count() == 1


def test_the_page_keeps_the_question_when_it_is_refused(
    clock: Any, ann: User, referrals: list[Any]
) -> None:
    client = factories.signed_in_client(ann)
    page = ask(client, dimensions=["sex", "age_group", "status", "quarter"], epsilon="0.2")
    html = page.content.decode()
    assert "Select no more than 3 ways to split the count" in html
    assert 'value="0.2"' in html
    assert 'type="checkbox" value="quarter" checked' in html
    assert 'type="checkbox" value="jurisdiction">' in html
    page = ask(client, end_month="9", end_day="1")
    assert "The end of the period must be the same as or after its start" in page.content.decode()
    page = ask(client, epsilon="5")
    assert "Epsilon must be between 0.01 and 1.00" in page.content.decode()
    page = ask(client, dimensions=[])
    assert "Select at least one way to split the count" in page.content.decode()
    # Every problem is said at once.
    html = ask(client, end_month="9", end_day="1", epsilon="0.123").content.decode()
    assert "The end of the period must be the same as or after its start" in html
    assert "Enter epsilon with no more than 2 decimal places, like 0.05" in html
    html = ask(client, start_day="31", start_month="2").content.decode()
    assert "The start of the period must be a real date" in html
    assert not PrivacyLedgerEntry.objects.exists()


def test_the_page_refuses_the_last_days_of_year_9999_with_a_message(
    clock: Any, ann: User, referrals: list[Any]
) -> None:
    """The form takes any four-digit year; the day after 31 December 9999 was an OverflowError
    and a server error."""
    client = factories.signed_in_client(ann)
    client.raise_request_exception = False
    page = ask(
        client,
        start_day="30",
        start_month="12",
        start_year="9999",
        end_day="31",
        end_month="12",
        end_year="9999",
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "The start of the period must be today or earlier" in html
    assert "The end of the period must be today or earlier" in html
    assert not PrivacyLedgerEntry.objects.exists()


@override_settings(DP_BUDGET_EPSILON=Decimal("0.15"))
def test_the_page_says_when_the_budget_is_spent(
    clock: Any, ann: User, referrals: list[Any]
) -> None:
    client = factories.signed_in_client(ann)
    ask(client)
    page = ask(client)
    assert (
        "Your privacy budget for December 2026 is spent: 0.05 of 0.15 left; this question "
        "needs 0.1" in page.content.decode()
    )
    assert PrivacyLedgerEntry.objects.count() == 1


def test_the_page_takes_no_other_method_and_is_not_found_for_others(
    clock: Any, ann: User, alice: User, cora: User
) -> None:
    assert factories.signed_in_client(ann).put(URL).status_code == 405
    for outsider in (alice, cora):
        assert factories.signed_in_client(outsider).get(URL).status_code == 404
        assert ask(factories.signed_in_client(outsider)).status_code == 404
    assert not PrivacyLedgerEntry.objects.exists()


def test_the_status_dimension_reads_the_status_now(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=datetime(2026, 10, 20, 12, tzinfo=LONDON),
    )
    assert dp.true_counts(query("status")) == {("recovery",): 1}


@pytest.mark.django_db(transaction=True)
@override_settings(DP_BUDGET_EPSILON=Decimal("1.0"))
def test_questions_asked_at_once_never_spend_more_than_the_budget(
    clock: Any, ann: User, ava: User, referrals: list[Any]
) -> None:
    """Six questions of 0.3 at once from one analyst, and one from another: on PostgreSQL each
    in its own connection and transaction, racing for the analyst's row lock; on SQLite one
    after another. Either way three are answered (0.9 of 1.0), three are refused, and the other
    analyst's question is answered from their own budget."""
    askers = [ann] * 6 + [ava]
    start = threading.Barrier(len(askers)) if connection.vendor == "postgresql" else None
    answered: list[str] = []
    refused: list[str] = []

    def ask_once(analyst: User) -> None:
        try:
            if start is not None:
                start.wait(timeout=30)
            dp_query_answer(by=Actor.of_session(analyst), query=query("sex", epsilon="0.3"))
            answered.append(analyst.email)
        except BudgetSpent as error:
            refused.append(" ".join(error.messages))
        finally:
            connection.close()

    if start is None:
        for analyst in askers:
            ask_once(analyst)
    else:
        threads = [threading.Thread(target=ask_once, args=(analyst,)) for analyst in askers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(answered) == sorted([ann.email] * 3 + [ava.email])
    assert len(refused) == 3
    assert all("0.1 of 1.0 left; this question needs 0.3" in text for text in refused)
    spent = {
        analyst.email: selectors.budget_of(analyst, date(2026, 12, 10)).spent
        for analyst in (ann, ava)
    }
    assert spent == {ann.email: Decimal("0.9"), ava.email: Decimal("0.3")}


def test_the_period_is_of_local_days(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A referral at 00:30 on 1 October in London (23:30 UTC the day before) is in October's
    period; one at 23:30 on 31 December in London is in it too, and one a minute into 1 January
    is not."""
    for moment in (
        datetime(2026, 9, 30, 23, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 12, 31, 23, 30, tzinfo=LONDON),
        datetime(2027, 1, 1, 0, 1, tzinfo=LONDON),
        datetime(2026, 9, 30, 23, 59, tzinfo=LONDON),
    ):
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=moment,
        )
    assert dp.true_counts(query("quarter")) == {("2026-Q4",): 2}
