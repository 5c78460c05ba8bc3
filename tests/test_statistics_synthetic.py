"""The differentially private synthetic dataset (issue 13, item 6; ADR 0037): CTDC's synthetic
columns in CTDC's order, every value in its column's public domain, the number of rows asked
for, reproducible with a seed; with a large epsilon the one- and two-way marginals close to the
real data's, with a small one still valid; epsilon outside its range refused; the accounting
adds up; and the loader reads statistical fields only."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, ExploitationLocation, Sex
from opennrm.cases.models import Case, Person
from opennrm.statistics import mst, synthetic
from opennrm.statistics.extract import FORBIDDEN_COLUMNS
from opennrm.statistics.tables import Period

from . import case_factories

REFERENCE = Path(__file__).parent / "data" / "ctdc_columns_synthetic_v2025.csv"
DELTA = 1e-9

# --- Pure: a small table with dependencies a tree can hold ---------------------------------

COLUMNS = [
    mst.Column("year", ("2026",)),  # a constant: not modelled, no budget
    mst.Column("sex", ("Female", "Male", "")),
    mst.Column("sexual", ("0", "1", "")),
    mst.Column("labour", ("0", "1", "")),
    mst.Column("age", ("0--8", "9--17", "18--20", "21--23", "30--38", "48+", "")),
    mst.Column("country", (*tuple(f"C{i:03d}" for i in range(200)), "")),
    mst.Column("empty", ("",)),
]


def tree_data(n: int, seed: int = 7) -> list[tuple[str, ...]]:
    """Rows drawn from a chain sex -> sexual -> labour -> age, country independent and
    concentrated on a few of its 200 values (the rest never occur)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male", ""], n, p=[0.4, 0.55, 0.05])
    sexual = np.where(
        sex == "Female",
        rng.choice(["1", "0"], n, p=[0.7, 0.3]),
        rng.choice(["1", "0"], n, p=[0.1, 0.9]),
    )
    labour = np.where(
        sexual == "1",
        rng.choice(["1", "0"], n, p=[0.1, 0.9]),
        rng.choice(["1", "0", ""], n, p=[0.8, 0.15, 0.05]),
    )
    age = np.where(
        labour == "1",
        rng.choice(["18--20", "21--23", "30--38"], n),
        rng.choice(["9--17", "0--8", "48+", ""], n),
    )
    country = rng.choice(["C001", "C002", "C003", ""], n, p=[0.5, 0.3, 0.15, 0.05])
    return list(zip(["2026"] * n, sex, sexual, labour, age, country, [""] * n, strict=True))


def distribution(rows: Sequence[Sequence[str]], columns: Sequence[int]) -> Counter[tuple[str, ...]]:
    counts = Counter(tuple(row[c] for c in columns) for row in rows)
    return Counter({key: value / len(rows) for key, value in counts.items()})


def total_variation(a: Counter[tuple[str, ...]], b: Counter[tuple[str, ...]]) -> float:
    return sum(abs(a[key] - b[key]) for key in set(a) | set(b)) / 2


def assert_valid(rows: Sequence[Sequence[str]], columns: Sequence[mst.Column]) -> None:
    for row in rows:
        assert len(row) == len(columns)
        for value, column in zip(row, columns, strict=True):
            assert value in column.domain, (column.name, value)


def test_the_accounting_converts_epsilon_to_rho_as_opendp_converts_it_back() -> None:
    for epsilon in (0.1, 1.0, 10.0):
        rho = mst.rho_for(epsilon, DELTA)
        assert mst.delta_of(rho, epsilon) <= DELTA
        # OpenDP's own conversion of rho to epsilon at the same delta gives epsilon back.
        assert mst.opendp_epsilon(rho, DELTA) == pytest.approx(epsilon, rel=1e-6)
        assert mst.opendp_epsilon(rho, DELTA) <= epsilon * (1 + 1e-9)
    # The textbook bound rho + 2·sqrt(rho·log(1/delta)) is looser: the same epsilon allows less.
    rho = mst.rho_for(1.0, DELTA)
    assert rho + 2 * math.sqrt(rho * math.log(1 / DELTA)) > 1.0
    with pytest.raises(ValueError, match="epsilon must be positive"):
        mst.rho_for(0.0, DELTA)


@pytest.mark.parametrize("seed", [3, None])
def test_the_measurements_spend_exactly_the_budget(seed: int | None) -> None:
    made = mst.synthesise(tree_data(500), COLUMNS, epsilon=1.0, delta=DELTA, seed=seed)
    assert made.spent <= made.rho * (1 + 1e-9)
    assert made.spent == pytest.approx(made.rho, rel=1e-6)
    # A tree over the five modelled columns: four edges, none on a constant column.
    assert len(made.tree) == 4
    assert not {"year", "empty"} & {name for edge in made.tree for name in edge}


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    rows = tree_data(2000)
    first = mst.synthesise(rows, COLUMNS, epsilon=1.0, delta=DELTA, seed=11)
    again = mst.synthesise(rows, COLUMNS, epsilon=1.0, delta=DELTA, seed=11)
    other = mst.synthesise(rows, COLUMNS, epsilon=1.0, delta=DELTA, seed=12)
    assert first.rows == again.rows
    assert first.rows != other.rows


@pytest.mark.parametrize("seed", [5, None])
def test_with_a_large_epsilon_one_and_two_way_marginals_are_close(seed: int | None) -> None:
    real = tree_data(5000)
    made = mst.synthesise(real, COLUMNS, epsilon=10.0, delta=DELTA, seed=seed)
    assert_valid(made.rows, COLUMNS)
    # The number of rows is the noisy estimate of the real number: close at this epsilon.
    assert abs(len(made.rows) - len(real)) <= 50
    for c in range(len(COLUMNS)):
        assert total_variation(distribution(real, [c]), distribution(made.rows, [c])) < 0.03
    for a, b in itertools.combinations(range(len(COLUMNS)), 2):
        gap = total_variation(distribution(real, [a, b]), distribution(made.rows, [a, b]))
        assert gap < 0.06, (COLUMNS[a].name, COLUMNS[b].name, gap)
    # The constant columns are their one value; the country's unseen values stay rare.
    assert {row[0] for row in made.rows} == {"2026"}
    assert {row[6] for row in made.rows} == {""}
    rare = sum(row[5] not in ("C001", "C002", "C003", "") for row in made.rows)
    assert rare <= 0.02 * len(made.rows)


def test_the_dependencies_survive_a_large_epsilon() -> None:
    """Not only the margins: a woman is far likelier than a man to be sexually exploited in the
    real rows, and in the synthetic ones."""
    real = tree_data(5000)
    made = mst.synthesise(real, COLUMNS, epsilon=10.0, delta=DELTA, seed=1)

    def share(rows: Sequence[Sequence[str]], sex: str) -> float:
        of_sex = [row for row in rows if row[1] == sex]
        return sum(row[2] == "1" for row in of_sex) / len(of_sex)

    assert share(made.rows, "Female") == pytest.approx(share(real, "Female"), abs=0.05)
    assert share(made.rows, "Male") == pytest.approx(share(real, "Male"), abs=0.05)


@pytest.mark.parametrize("seed", [9, None])
def test_with_a_small_epsilon_the_rows_are_still_valid(seed: int | None) -> None:
    made = mst.synthesise(tree_data(300), COLUMNS, epsilon=0.1, delta=DELTA, count=400, seed=seed)
    assert len(made.rows) == 400
    assert_valid(made.rows, COLUMNS)


def test_the_number_of_rows_asked_for_and_none_at_all() -> None:
    rows = tree_data(100)
    assert len(
        mst.synthesise(rows, COLUMNS, epsilon=1.0, delta=DELTA, count=1234, seed=1).rows
    ) == (1234)
    assert mst.synthesise(rows, COLUMNS, epsilon=1.0, delta=DELTA, count=0, seed=1).rows == []
    # No input at all: still a (noisy, possibly empty) dataset of valid rows.
    empty = mst.synthesise([], COLUMNS, epsilon=1.0, delta=DELTA, seed=2)
    assert_valid(empty.rows, COLUMNS)


def test_a_value_outside_its_domain_is_refused() -> None:
    rows = [*tree_data(10), ("2026", "Unknown", "0", "0", "", "", "")]
    with pytest.raises(ValueError, match="'Unknown' is not in the domain of sex"):
        mst.synthesise(rows, COLUMNS, epsilon=1.0, delta=DELTA, seed=1)
    with pytest.raises(ValueError, match="repeats a value"):
        mst.Column("sex", ("Male", "Male"))


# --- The CTDC synthetic columns and the loader --------------------------------------------


def test_the_columns_are_ctdc_synthetic_columns_in_ctdc_order() -> None:
    with REFERENCE.open(newline="", encoding="utf-8") as f:
        reference = [row["column"] for row in csv.DictReader(f)]
    assert len(reference) == 27
    assert tuple(reference) == synthetic.SYNTHETIC_COLUMNS
    assert [c.name for c in synthetic.columns_for(Period.quarter(2026, 3))] == reference


def test_the_domains_are_public_lists_never_the_data() -> None:
    domains = {
        c.name: c.domain for c in synthetic.columns_for(Period(date(2025, 11, 1), date(2026, 2, 1)))
    }
    assert domains["yearOfRegistration"] == ("2025", "2026")
    assert len(domains["citizenship"]) > 240  # every ISO 3166-1 country, and not known
    assert {"ALB", "VNM", "GBR", "XKX", ""} <= set(domains["citizenship"])
    assert domains["ageBroad"][:3] == ("0--8", "9--17", "18--20")
    for column in synthetic.UNFILLED:
        assert domains[column] == ("",)
    assert len(synthetic.UNFILLED) == 17


@pytest.fixture
def world(alice: User, northmoor_police: Organisation, authority: Organisation) -> dict[str, Any]:
    return {"alice": alice, "police": northmoor_police, "authority": authority}


def make_case(
    world: dict[str, Any],
    *,
    submitted: datetime,
    sex: Sex = Sex.FEMALE,
    age: int | None = 30,
    age_group: AgeGroup = AgeGroup.ADULT,
    nationalities: list[str] | None = None,
    types: list[str] | None = None,
    location: ExploitationLocation = ExploitationLocation.UK,
    started: date | None = None,
    ended: date | None = None,
    jurisdiction: str | None = None,
) -> Case:
    made = case_factories.case(
        referred_by=world["alice"],
        referring_organisation=world["police"],
        authority=world["authority"],
        age_group=age_group,
        submitted_at=timezone.make_aware(submitted),
        given_names="Zorica Testova",
        family_name="Secretname",
    )
    Case.objects.filter(pk=made.pk).update(
        exploitation_types=["labour"] if types is None else types,
        exploitation_location=location,
        exploitation_started=started,
        exploitation_ended=ended,
        **({"jurisdiction": jurisdiction} if jurisdiction else {}),
    )
    Person.objects.filter(pk=made.person_id).update(
        sex=sex,
        age_at_referral=age,
        nationalities=["AL"] if nationalities is None else nationalities,
    )
    return made


def as_dict(row: Sequence[str]) -> dict[str, str]:
    return dict(zip(synthetic.SYNTHETIC_COLUMNS, row, strict=True))


@pytest.mark.django_db
def test_each_referral_maps_to_ctdc_synthetic_values(world: dict[str, Any]) -> None:
    make_case(
        world,
        submitted=datetime(2026, 8, 10, 12),  # noqa: DTZ001
        types=["domestic_servitude", "forced_marriage"],
        started=date(2025, 3, 1),
        ended=date(2026, 6, 1),
    )
    make_case(
        world,
        submitted=datetime(2026, 8, 11, 12),  # noqa: DTZ001
        sex=Sex.MALE,
        age=None,
        age_group=AgeGroup.PRESUMED_CHILD,
        nationalities=["XK", "AL"],
        types=["sexual"],
        location=ExploitationLocation.BOTH,
        started=date(2026, 1, 1),
    )
    make_case(
        world,
        submitted=datetime(2026, 9, 1, 12),  # noqa: DTZ001
        sex=Sex.OTHER,
        age=17,
        age_group=AgeGroup.CHILD,
        nationalities=["XXA"],
        types=[],
        location=ExploitationLocation.UNKNOWN,
        started=date(2023, 1, 1),
        ended=date(2024, 6, 1),
    )
    rows = sorted(
        (as_dict(r) for r in synthetic.referral_rows(Period.quarter(2026, 3))),
        key=lambda r: (r["gender"] != "Female", r["gender"] != "Male"),
    )
    woman, boy, unknown = rows
    assert woman["yearOfRegistration"] == "2026"
    assert (woman["gender"], woman["ageBroad"], woman["citizenship"]) == ("Female", "30--38", "ALB")
    assert woman["CountryOfExploitation"] == "GBR"
    assert woman["traffickMonths"] == "13--24 (1-2 yrs)"  # 15 months
    assert (woman["isForcedLabour"], woman["isSexualExploit"], woman["isOtherExploit"]) == (
        "1",
        "0",
        "1",
    )
    assert woman["typeOfLabourDomesticWork"] == "1"
    # An age-disputed person with no age has no band; Kosovo by its usual alpha-3 code.
    assert (boy["gender"], boy["ageBroad"], boy["citizenship"]) == ("Male", "", "XKX")
    assert boy["CountryOfExploitation"] == ""  # in the UK and overseas: no one country
    assert boy["traffickMonths"] == "0--12 (0-1 yr)"  # not ended: to the referral, 7 months
    assert (boy["isForcedLabour"], boy["isSexualExploit"], boy["isOtherExploit"]) == ("0", "1", "0")
    assert boy["typeOfLabourDomesticWork"] == ""
    # Not known: empty, never a guess. Stateless has no country code.
    assert (unknown["gender"], unknown["ageBroad"], unknown["citizenship"]) == ("", "9--17", "")
    assert unknown["traffickMonths"] == "13--24 (1-2 yrs)"
    assert (
        unknown["isForcedLabour"] == unknown["isSexualExploit"] == unknown["isOtherExploit"] == ""
    )
    for row in rows:
        for column in synthetic.UNFILLED:
            assert row[column] == ""
    columns = synthetic.columns_for(Period.quarter(2026, 3))
    assert_valid([tuple(r.values()) for r in rows], columns)


def test_months_of_exploitation_in_ctdc_bands() -> None:
    assert synthetic.traffick_months(date(2025, 1, 15), date(2026, 1, 15)) == "0--12 (0-1 yr)"
    assert synthetic.traffick_months(date(2025, 1, 15), date(2026, 2, 14)) == "0--12 (0-1 yr)"
    assert synthetic.traffick_months(date(2025, 1, 15), date(2026, 2, 15)) == "13--24 (1-2 yrs)"
    assert synthetic.traffick_months(date(2024, 1, 15), date(2026, 1, 15)) == "13--24 (1-2 yrs)"
    assert synthetic.traffick_months(date(2024, 1, 15), date(2026, 2, 15)) == "25+ (2+ yrs)"
    assert synthetic.traffick_months(None, date(2026, 1, 1)) == ""
    assert synthetic.traffick_months(date(2026, 2, 1), date(2026, 1, 1)) == ""


@pytest.mark.django_db
def test_the_loader_reads_statistical_fields_only(world: dict[str, Any]) -> None:
    make_case(world, submitted=datetime(2026, 8, 10, 12))  # noqa: DTZ001
    query = synthetic.referral_query(Period.quarter(2026, 3))
    assert tuple(query.query.values_select) == synthetic.LOADER_FIELDS
    # Of the names an extract must never have, only the moment of the referral is read: for
    # its year (the exploitation's dates only for its length in bands); no date is written.
    read = {field.split("__")[-1] for field in synthetic.LOADER_FIELDS}
    assert read & FORBIDDEN_COLUMNS == {"submitted_at"}
    with CaptureQueriesContext(connection) as queries:
        rows = synthetic.referral_rows(Period.quarter(2026, 3))
    assert len(queries) == 1
    sql = queries[0]["sql"].lower()
    for column in (
        "given_names",
        "family_name",
        "date_of_birth",
        "reference",
        "area",
        "responders_account",
        "narrative",
        "languages",
        "identity",
    ):
        assert column not in sql, column
    assert [len(row) for row in rows] == [27]


@pytest.mark.django_db
def test_only_the_period_and_the_jurisdiction_asked_for(world: dict[str, Any]) -> None:
    make_case(world, submitted=datetime(2026, 7, 1, 0, 30))  # noqa: DTZ001
    make_case(world, submitted=datetime(2026, 6, 30, 23, 30))  # noqa: DTZ001  (Q2)
    make_case(world, submitted=datetime(2026, 8, 1, 12), jurisdiction="scotland")  # noqa: DTZ001
    assert len(synthetic.referral_rows(Period.quarter(2026, 3))) == 2
    assert len(synthetic.referral_rows(Period.quarter(2026, 3), "scotland")) == 1
    assert len(synthetic.referral_rows(Period.quarter(2026, 3), "england_and_wales")) == 1


@pytest.mark.django_db
def test_the_dataset_of_a_period_in_csv(world: dict[str, Any]) -> None:
    for day in range(1, 21):
        make_case(world, submitted=datetime(2026, 8, day, 12))  # noqa: DTZ001
    made = synthetic.synthetic_dataset(Period.quarter(2026, 3), None, 2.0, seed=4, count=50)
    assert (made.epsilon, made.delta) == (2.0, 1e-9)
    assert made.rho == pytest.approx(mst.rho_for(2.0, 1e-9))
    assert made.columns == synthetic.SYNTHETIC_COLUMNS
    assert made.unfilled == synthetic.UNFILLED
    assert "MST" in made.method
    assert "epsilon = 2 and delta = 1e-09" in made.privacy
    read = list(csv.reader(io.StringIO(made.csv)))
    assert tuple(read[0]) == synthetic.SYNTHETIC_COLUMNS
    assert len(read) == 51
    assert_valid([tuple(r) for r in read[1:]], synthetic.columns_for(Period.quarter(2026, 3)))
    assert "Secretname" not in made.csv
    assert "Zorica" not in made.csv
    # Reproducible with the seed; OpenDP's secure noise without one.
    again = synthetic.synthetic_dataset(Period.quarter(2026, 3), None, 2.0, seed=4, count=50)
    assert again.csv == made.csv
    secure = synthetic.synthetic_dataset(Period.quarter(2026, 3), "england_and_wales", 2.0)
    assert_valid(secure.rows, synthetic.columns_for(Period.quarter(2026, 3)))


@pytest.mark.parametrize("epsilon", [0.05, 0, -1, 10.5, float("nan"), float("inf")])
def test_an_epsilon_outside_its_range_is_refused(epsilon: float) -> None:
    with pytest.raises(
        synthetic.SyntheticRefused, match=r"Epsilon must be a number from 0\.1 to 10"
    ):
        synthetic.synthetic_dataset(Period.quarter(2026, 3), None, epsilon)


def test_an_unknown_jurisdiction_is_refused() -> None:
    with pytest.raises(synthetic.SyntheticRefused, match="Jurisdiction must be one of"):
        synthetic.synthetic_dataset(Period.quarter(2026, 3), "wales", 1.0)


# --- The management command ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_writes_the_file(world: dict[str, Any], tmp_path: Path) -> None:
    for day in range(1, 11):
        make_case(world, submitted=datetime(2026, 8, day, 12))  # noqa: DTZ001
    out = tmp_path / "synthetic.csv"
    said = io.StringIO()
    call_command(
        "synthetic_dataset",
        "--period",
        "2026Q3",
        "--epsilon",
        "1.0",
        "--out",
        str(out),
        stdout=said,
    )
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(synthetic.SYNTHETIC_COLUMNS)
    assert "synthetic rows for 1 July 2026 to 30 September 2026" in said.getvalue()
    assert "epsilon = 1 and delta = 1e-09" in said.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--period", "2026Q5", "--epsilon", "1"], "--period: give a quarter like 2026Q3"),
        (["--period", "Q3 2026", "--epsilon", "1"], "--period: give a quarter like 2026Q3"),
        (["--period", "2001", "--epsilon", "1"], "the NRM began in 2009"),
        (["--period", "2026Q3", "--epsilon", "lots"], "--epsilon: give a number from 0.1 to 10"),
        (["--period", "2026Q3", "--epsilon", "50"], "--epsilon: Epsilon must be a number from"),
    ],
)
def test_the_command_says_what_is_wrong(tmp_path: Path, arguments: list[str], message: str) -> None:
    out = tmp_path / "synthetic.csv"
    with pytest.raises(CommandError, match=message):
        call_command("synthetic_dataset", *arguments, "--out", str(out))
    assert not out.exists()


def test_the_command_refuses_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "synthetic_dataset",
            "--period",
            "2026Q3",
            "--epsilon",
            "1",
            "--out",
            str(tmp_path / "no" / "x.csv"),
        )
