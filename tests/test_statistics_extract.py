"""The de-identified case-level extract and its CTDC form (issue 13, items 4 and 5; ADR 0034):
k-anonymous on every combination of its quasi-identifiers, counted here independently of the
code under test; CTDC's columns and value formats; no identifying column ever; refused, with
the reason, when k cannot be reached; the analyst's page and downloads, each download one
audit event."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus, Sex
from opennrm.cases.models import Case, Person
from opennrm.statistics import ctdc, extract
from opennrm.statistics.extract import Period

from . import case_factories, factories

EXTRACT_URL = "/statistics/extract/"
YEAR = 2025

# --- An independent count ---------------------------------------------------------------------


def smallest_group(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> int | None:
    """The size of the smallest group of rows sharing every value of `columns` (None: no rows),
    counted here, sharing no code with the statistics app."""
    groups: dict[tuple[str, ...], int] = {}
    for row in rows:
        key = tuple(row[c] for c in columns)
        groups[key] = groups.get(key, 0) + 1
    return min(groups.values()) if groups else None


AGE_BANDS = ["0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+"]
ISO2 = re.compile(r"^[A-Z]{2}$")
FLAG_COLUMNS = [
    c for c in ctdc.CTDC_COLUMNS if c.startswith(("is", "meansOfControl", "typeOf", "recruiter"))
]
FLAG_COLUMNS = [c for c in FLAG_COLUMNS if not c.endswith("Concatenated")]
IDENTIFYING = re.compile(
    r"name|birth|dob|reference|address|phone|email|account|reason|note|date|_at$|^id$|person",
    re.IGNORECASE,
)


def check_formats(rows: Sequence[Mapping[str, str]]) -> None:
    for row in rows:
        assert row[ctdc.NOTICE] == ""
        assert row["ageBroad"] in ("", *AGE_BANDS)
        assert row["citizenship"] == "" or ISO2.match(row["citizenship"])
        assert row["CountryOfExploitation"] == ""
        assert row["majorityStatus"] in ("", "Adult", "Minor")
        assert row["majorityStatusAtExploit"] in ("", "Adult", "Minor")
        # A minor at registration was a minor when the exploitation began.
        if row["majorityStatus"] == "Minor":
            assert row["majorityStatusAtExploit"] in ("", "Minor")
        assert row["gender"] in ("", "Female", "Male")
        assert row["yearOfRegistration"] == "" or re.match(r"^\d{4}$", row["yearOfRegistration"])
        for column in FLAG_COLUMNS:
            assert row[column] in ("", "0", "1"), column


# --- Pure: random rows through the anonymisation ----------------------------------------------

raw_row = st.fixed_dictionaries(
    {
        "year_quarter": st.sampled_from([f"{YEAR}-Q{q}" for q in range(1, 5)]),
        "age_group": st.sampled_from(["Adult", "Child", "Not known"]),
        "age_band": st.sampled_from(["", "9--17", "18--20", "30--38", "48+"]),
        "sex": st.sampled_from(["Female", "Male", "Other", "Not known"]),
        "nationality": st.sampled_from(["GB", "AL", "VN", "ER", "SD", "FR", "KE", ""]),
        "exploitation_type": st.sampled_from(
            ["labour", "criminal", "sexual", "criminal;labour", "labour;sexual", "unknown"]
        ),
        "competent_authority": st.sampled_from(["Authority A", "Authority B"]),
        "rg_outcome": st.sampled_from(["Positive", "Negative", "Awaiting"]),
        "days_to_rg": st.sampled_from(["", "0--5", "6--15"]),
        "cg_outcome": st.sampled_from(["Positive", "Awaiting", "Not applicable"]),
        "days_rg_to_cg": st.sampled_from(["", "46--90"]),
        "age_of_case": st.sampled_from(["", "0--90"]),
    }
)


@settings(deadline=None)
@given(rows=st.lists(raw_row, max_size=300), k=st.sampled_from([11, 15]))
def test_every_combination_of_the_extract_and_of_its_ctdc_form_holds_k_rows(
    rows: list[dict[str, str]], k: int
) -> None:
    period = Period.year(YEAR)
    if 0 < len(rows) < k:  # too few: even with every column withheld, one group under k
        with pytest.raises(extract.ExtractRefused, match=f"at least {k} referrals"):
            extract.anonymise(period, rows, k=k)
        return
    made = extract.anonymise(period, rows, k=k)  # k is always reached with k rows or more
    assert made.total == len(rows)
    assert len(made.rows) + made.suppressed == len(rows)
    assert made.suppressed <= 0.02 * len(rows)
    least = smallest_group(made.rows, extract.QUASI_IDENTIFIERS)
    assert least is None or least >= k
    assert all(list(row) == list(extract.COLUMNS) for row in made.rows)
    # The CTDC form: every combination of every column, not only the quasi-identifiers.
    rows_ctdc = ctdc.ctdc_rows(made)
    least = smallest_group(rows_ctdc, ctdc.CTDC_COLUMNS)
    assert least is None or least >= k
    check_formats(rows_ctdc)
    parsed = list(csv.reader(io.StringIO(ctdc.ctdc_csv(made))))
    assert tuple(parsed[0]) == ctdc.CTDC_COLUMNS
    assert len(parsed) == len(made.rows) + 1


def test_a_tiny_dataset_cannot_reach_k_and_is_refused_with_the_reason() -> None:
    rows = [
        {c: "" for c in extract.COLUMNS} | {"year_quarter": f"{YEAR}-Q1", "sex": "Female"}
        for _ in range(10)
    ]
    with pytest.raises(extract.ExtractRefused) as refused:
        extract.anonymise(Period.year(YEAR), rows, k=11)
    assert str(refused.value).startswith("The extract cannot be produced: its 10 referrals")
    assert "at least 11 referrals" in str(refused.value)


def test_the_gate_refuses_rows_with_a_combination_under_k() -> None:
    rows = [{"sex": "Female"}] * 11 + [{"sex": "Male"}] * 3
    with pytest.raises(extract.ExtractRefused) as refused:
        extract.require_k(rows, ["sex"], 11)
    assert str(refused.value) == (
        "The extract cannot be produced: 1 combination of sex occurs in fewer than 11 rows "
        "(the smallest in 3). Nothing has been downloaded."
    )
    extract.require_k(rows[:11], ["sex"], 11)  # k reached: no refusal


def test_the_gate_stands_before_each_file() -> None:
    rows = [{c: "" for c in extract.COLUMNS} | {"sex": "Female"}] * 12
    rows += [{c: "" for c in extract.COLUMNS} | {"sex": "Male"}]
    made = extract.Extract(Period.year(YEAR), 11, rows, 13, 0, {})
    with pytest.raises(extract.ExtractRefused):
        extract.extract_csv(made)
    with pytest.raises(extract.ExtractRefused):
        ctdc.ctdc_csv(made)


# CTDC's published column list for its k-anonymised dataset (position, column, nearest HTCDS
# field), kept beside the tests so the check runs wherever they do.
REFERENCE = Path(__file__).parent / "data" / "ctdc_columns_k_anonymized.csv"


def test_the_ctdc_columns_are_ctdcs_reference_header() -> None:
    with REFERENCE.open(encoding="utf-8") as file:
        reference = [row["column"] for row in csv.DictReader(file)]
    assert len(ctdc.CTDC_COLUMNS) == len(reference) == 64
    # Column 0 is the terms-of-use notice in CTDC's header; ours names the file's provenance.
    assert list(ctdc.CTDC_COLUMNS[1:]) == reference[1:]


def test_no_column_of_either_file_can_identify_anyone() -> None:
    for column in (*extract.COLUMNS, *ctdc.CTDC_COLUMNS[1:]):
        assert column not in extract.FORBIDDEN_COLUMNS
        assert not IDENTIFYING.search(column), column


def test_the_ctdc_mapping_of_exploitation_types() -> None:
    row = {c: "" for c in extract.COLUMNS}
    both = ctdc.ctdc_row(
        row
        | {
            "exploitation_type": "criminal;sexual",
            "age_band": "9--17",
            "age_group": "Child",
            "nationality": "VN",
            "sex": "Male",
            "referral_year": "2025",
        }
    )
    assert both["isForcedLabour"] == both["isSexualExploit"] == both["isSexAndLabour"] == "1"
    assert both["isForcedMarriage"] == both["isOrganRemoval"] == both["isOtherExploit"] == "0"
    assert both["typeOfLabourIllicitActivities"] == "1"
    assert both["typeOfLabourAgriculture"] == ""  # not recorded
    assert both["typeOfExploitConcatenated"] == "Forced labour;Sexual exploitation"
    assert (both["ageBroad"], both["majorityStatus"], both["citizenship"]) == (
        "9--17",
        "Minor",
        "VN",
    )
    assert (both["gender"], both["yearOfRegistration"], both["Datasource"]) == (
        "Male",
        "2025",
        "Case Management",
    )
    withheld = ctdc.ctdc_row(
        row | {"exploitation_type": "unknown", "age_band": "18--29", "nationality": "Eastern Asia"}
    )
    assert withheld["isForcedLabour"] == withheld["ageBroad"] == withheld["citizenship"] == ""
    assert withheld["majorityStatus"] == "Adult"  # 18--29, generalised, is still 18 or more


def test_the_ctdc_majority_now_and_when_the_exploitation_began() -> None:
    """majorityStatus from the band of the age at referral; majorityStatusAtExploit from the
    extract's age group, which is the age group when the exploitation began (ADR 0042)."""
    row = {c: "" for c in extract.COLUMNS}
    cases = [
        ({"age_band": "18--20", "age_group": "Child"}, ("Adult", "Minor")),
        ({"age_band": "9--17", "age_group": "Child"}, ("Minor", "Minor")),
        ({"age_band": "0--17", "age_group": "Child"}, ("Minor", "Minor")),
        ({"age_band": "30+", "age_group": "Adult"}, ("Adult", "Adult")),
        ({"age_band": "18+", "age_group": "Not known"}, ("Adult", "")),
        ({"age_band": "", "age_group": "Child"}, ("", "Minor")),
        ({"age_band": extract.NOT_GIVEN, "age_group": extract.NOT_GIVEN}, ("", "")),
    ]
    for given_, expected in cases:
        made = ctdc.ctdc_row(row | given_)
        assert (made["majorityStatus"], made["majorityStatusAtExploit"]) == expected, given_


# --- From the live data -----------------------------------------------------------------------

STATUSES = [
    CaseStatus.AWAITING_REASONABLE_GROUNDS,
    CaseStatus.RECOVERY_PERIOD,
    CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
    CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
]


def make_case(
    world: dict[str, Any],
    *,
    month: int,
    status: CaseStatus,
    age_group: AgeGroup,
    age: int | None,
    sex: Sex,
    nationality: str,
    types: list[str],
    at_exploitation: str = "not_known",
) -> None:
    made = case_factories.case(
        referred_by=world["alice"],
        referring_organisation=world["police"],
        authority=world["authority"],
        status=status,
        age_group=age_group,
        age_group_at_exploitation=at_exploitation,
        submitted_at=timezone.make_aware(datetime(YEAR, month, 10, 12)),  # noqa: DTZ001
        given_names="Zorica Testova",
        family_name="Secretname",
    )
    Case.objects.filter(pk=made.pk).update(exploitation_types=types)
    Person.objects.filter(pk=made.person_id).update(
        sex=sex, age_at_referral=age, nationalities=[nationality] if nationality else []
    )


@pytest.fixture
def world(alice: User, northmoor_police: Organisation, authority: Organisation) -> dict[str, Any]:
    return {"alice": alice, "police": northmoor_police, "authority": authority}


case_spec = st.fixed_dictionaries(
    {
        "month": st.integers(1, 12),
        "status": st.sampled_from(STATUSES),
        "age_group": st.sampled_from(list(AgeGroup)),
        "at_exploitation": st.sampled_from(["adult", "child", "not_known"]),
        "age": st.sampled_from([None, 12, 17, 19, 25, 34, 50]),
        "sex": st.sampled_from([Sex.FEMALE, Sex.MALE]),
        "nationality": st.sampled_from(["AL", "GB", "VN", ""]),
        "types": st.sampled_from([["labour"], ["criminal"], ["sexual", "labour"], []]),
    }
)


def test_the_age_group_is_the_age_group_when_the_exploitation_began(
    world: dict[str, Any],
) -> None:
    """As the Home Office counts (ADR 0042); the band stays the age at referral's."""
    common = {"month": 2, "status": CaseStatus.RECOVERY_PERIOD, "sex": Sex.MALE}
    common |= {"nationality": "AL", "types": ["labour"]}
    make_case(world, **common, age_group=AgeGroup.ADULT, age=19, at_exploitation="child")
    make_case(world, **common, age_group=AgeGroup.ADULT, age=40, at_exploitation="not_known")
    make_case(world, **common, age_group=AgeGroup.ADULT, age=40, at_exploitation="adult")
    make_case(world, **common, age_group=AgeGroup.PRESUMED_CHILD, age=16)
    rows = extract.referral_rows(Period.year(YEAR))
    assert sorted((row["age_group"], row["age_band"]) for row in rows) == [
        ("Adult", "39--47"),
        ("Child", "18--20"),
        ("Child", "9--17"),
        ("Not known", "39--47"),
    ]


def test_the_age_of_case_cannot_give_back_a_quarter_generalised_to_its_year(
    world: dict[str, Any],
) -> None:
    """The age of a case is the extract's day less the referral's, banded: with the day known
    it dates the referral. Counted as an attribute, it told apart the first quarter's 30
    referrals from the last quarter's 5, which the quarter's generalisation to the year had
    merged (a group of 5 with k = 11). It is a quasi-identifier, counted by the gate."""
    assert "age_of_case" in extract.QUASI_IDENTIFIERS
    for n in range(30):  # January to March
        case_factories.case(
            referred_by=world["alice"],
            referring_organisation=world["police"],
            authority=world["authority"],
            submitted_at=timezone.make_aware(datetime(YEAR, 2, 1 + n % 28, 12)),  # noqa: DTZ001
        )
    for n in range(5):  # October to December: too few for a quarter of their own
        case_factories.case(
            referred_by=world["alice"],
            referring_organisation=world["police"],
            authority=world["authority"],
            submitted_at=timezone.make_aware(datetime(YEAR, 12, 1 + n, 12)),  # noqa: DTZ001
        )
    made = extract.build(Period.year(YEAR), today=date(YEAR + 1, 1, 15))
    assert made.levels["year_quarter"] == "year"
    assert {row["referral_quarter"] for row in made.rows} == {""}
    assert len(made.rows) == 35
    least = smallest_group(made.rows, (*extract.QUASI_IDENTIFIERS[:8], "age_of_case"))
    assert least is not None
    assert least >= made.k


@pytest.mark.django_db
def test_extracts_built_from_random_case_sets_hold_k_on_every_combination(
    world: dict[str, Any],
) -> None:
    @settings(
        deadline=None,
        max_examples=4,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(specs=st.lists(case_spec, min_size=0, max_size=40), k=st.sampled_from([11, 12]))
    def check(specs: list[dict[str, Any]], k: int) -> None:
        with rolled_back():
            for spec in specs:
                make_case(world, **spec)
            if 0 < len(specs) < k:
                with pytest.raises(extract.ExtractRefused, match="cannot be produced"):
                    extract.build(Period.year(YEAR), k=k)
                return
            made = extract.build(Period.year(YEAR), k=k)
            assert made.total == len(specs)
            least = smallest_group(made.rows, extract.QUASI_IDENTIFIERS)
            assert least is None or least >= k
            for row in made.rows:
                assert set(row) == set(extract.COLUMNS)
                assert "Secretname" not in "".join(row.values())
                # A child at referral (a child's band) was a child when it began.
                if row["age_band"] in ("0--8", "9--17", "0--17"):
                    assert row["age_group"] in ("Child", extract.NOT_GIVEN)
            check_formats(ctdc.ctdc_rows(made))

    check()


@contextmanager
def rolled_back() -> Iterator[None]:
    """Everything done inside is undone afterwards (one hypothesis example's cases)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def many_cases(world: dict[str, Any], count: int) -> None:
    """`count` much alike cases: positive RG, adult Albanian women in labour exploitation (adults
    when it began, too)."""
    for number in range(count):
        make_case(
            world,
            month=1 + number % 3,
            status=CaseStatus.RECOVERY_PERIOD,
            age_group=AgeGroup.ADULT,
            age=25,
            sex=Sex.FEMALE,
            nationality="AL",
            types=["labour"],
            at_exploitation="adult",
        )


def download(client: Client, kind: str, **query: str) -> list[list[str]]:
    response = client.get(f"/statistics/extract/{kind}.csv", query)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def analyst(monitoring: Organisation) -> User:
    return factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ann Analyst")


@pytest.mark.page("statistics:extract")
def test_the_analyst_prepares_the_extract_of_a_quarter(
    world: dict[str, Any], analyst: User
) -> None:
    many_cases(world, 12)
    client = factories.signed_in_client(analyst)
    page = client.get(EXTRACT_URL).content.decode()
    assert 'name="year"' in page
    assert f'value="{timezone.localdate().year}"' in page
    page = client.get(EXTRACT_URL, {"year": YEAR, "quarter": "1"}).content.decode()
    assert "Referrals in the period" in page
    assert re.search(r"Rows in the extract</dt><dd[^>]*>12<", page)
    assert f"/statistics/extract/ctdc.csv?year={YEAR}&amp;quarter=1" in page
    assert "Zorica" not in page
    assert "NRM-TEST" not in page
    assert client.post(EXTRACT_URL).status_code == 405


@pytest.mark.page("statistics:extract_download")
def test_each_download_is_the_csv_and_one_audit_event(world: dict[str, Any], analyst: User) -> None:
    many_cases(world, 12)
    client = factories.signed_in_client(analyst)
    before = AuditEvent.objects.count()
    rows = download(client, "extract", year=str(YEAR), quarter="1")
    assert rows[0] == list(extract.COLUMNS)
    assert len(rows) == 13
    assert rows[1] == [
        str(YEAR),
        "Q1",
        "Adult",
        "24--26",
        "Female",
        "AL",
        "labour",
        "Test Competent Authority",
        "Positive",
        "0--5",
        "Awaiting",
        "",
        rows[1][-1],
    ]
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert event is not None
    assert event.action == "statistics.extract_downloaded"
    assert event.person_id is None
    assert event.detail == {
        "kind": "extract",
        "period": f"{YEAR}-01-01 to {YEAR}-03-31",
        "rows": 12,
        "k": 11,
        "suppressed": 0,
        "referrals": 12,
    }
    rows = download(client, "ctdc", year=str(YEAR), quarter="1")
    assert tuple(rows[0]) == ctdc.CTDC_COLUMNS
    named = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(named) == 12
    assert {(r["citizenship"], r["ageBroad"], r["isForcedLabour"]) for r in named} == {
        ("AL", "24--26", "1")
    }
    assert AuditEvent.objects.count() == before + 2
    assert client.post("/statistics/extract/extract.csv", {"year": YEAR}).status_code == 405
    assert client.get("/statistics/extract/other.csv", {"year": YEAR}).status_code == 404


def test_a_period_with_too_few_referrals_is_refused_and_nothing_is_downloaded(
    world: dict[str, Any], analyst: User
) -> None:
    many_cases(world, 5)
    client = factories.signed_in_client(analyst)
    before = AuditEvent.objects.count()
    response = client.get("/statistics/extract/extract.csv", {"year": YEAR})
    assert response.status_code == 409
    assert "The extract cannot be produced: its 5 referrals" in response.content.decode()
    assert AuditEvent.objects.count() == before
    page = client.get(EXTRACT_URL, {"year": YEAR}).content.decode()
    assert "The extract cannot be produced" in page
    assert "Download the extract" not in page
    page = client.get(EXTRACT_URL, {"year": "20x5", "k": "3"}).content.decode()
    assert "Enter the year as four digits, like 2025" in page
    assert "k must be 11 or more" in page
    assert 'value="20x5"' in page


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ANALYST], ids=lambda r: str(r.value))
def test_anyone_but_an_analyst_gets_404(role: Role, people_in_every_role: dict[Role, User]) -> None:
    client = factories.signed_in_client(people_in_every_role[role])
    assert client.get(EXTRACT_URL).status_code == 404
    assert client.get("/statistics/extract/ctdc.csv", {"year": YEAR}).status_code == 404
    assert Client().get(EXTRACT_URL).status_code in (302, 404)


def test_a_download_leaves_one_audit_event_naming_no_person(db: None) -> None:
    from opennrm.audit.models import AuditEvent
    from opennrm.statistics.services import extract_download_record

    analyst = factories.user(full_name="Ana Lyst")
    before = AuditEvent.objects.count()
    extract_download_record(
        by=analyst, kind="ctdc", period="2026", rows=22, k=11, suppressed=1, total=23
    )
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("pk")
    assert event.action == "statistics.extract_downloaded"
    assert event.detail == {
        "kind": "ctdc",
        "period": "2026",
        "rows": 22,
        "k": 11,
        "suppressed": 1,
        "referrals": 23,
    }
    assert event.person_id is None
