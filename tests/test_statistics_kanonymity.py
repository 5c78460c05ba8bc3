"""k-anonymity of the case-level extract (issue 13, item 4): global recoding over each
quasi-identifier's hierarchy plus bounded row suppression, checked by `check_k`, which counts
plainly and shares no code with `anonymise`."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opennrm.statistics.kanonymity import (
    OTHER,
    Hierarchy,
    anonymise,
    band_hierarchy,
    check_k,
    keep_frequent,
    m49_regions,
    mapping_hierarchy,
    nationality_hierarchy,
    year_of_quarter,
)

AGE = band_hierarchy(
    "age",
    [[0, 9, 18, 21, 24, 27, 30, 39, 48], [0, 18, 30], [0, 18]],
    names=["CTDC bands", "wide bands", "child or adult"],
)
NATIONALITY = nationality_hierarchy()
QUARTER = Hierarchy("quarter", (year_of_quarter,))
QUASI = ["nationality", "age", "sex", "exploitation", "quarter"]
HIERARCHIES = [NATIONALITY, AGE, Hierarchy("sex"), Hierarchy("exploitation"), QUARTER]

NATIONALITIES = ["GB", "AL", "VN", "ER", "SD", "IR", "RO", "NG", "BR", "XK", "XXX", ""]


def test_nationality_goes_to_its_un_m49_region_then_other() -> None:
    assert NATIONALITY.generalise("ER", 0) == "ER"
    assert NATIONALITY.generalise("ER", 1) == "Eastern Africa"
    assert NATIONALITY.generalise("ER", 2) == "Africa"
    assert NATIONALITY.generalise("AL", 1) == "Southern Europe"
    assert NATIONALITY.generalise("VN", 1) == "South-eastern Asia"
    assert NATIONALITY.generalise("BR", 1) == "South America"
    assert NATIONALITY.generalise("GB", 2) == "Europe"
    assert NATIONALITY.generalise("ER", 3) == OTHER
    # Stateless and not known are no region: they stay as they are until "Other".
    assert NATIONALITY.generalise("XXA", 2) == "XXA"
    assert NATIONALITY.generalise("XXA", 3) == OTHER


def test_the_region_table_covers_every_iso_country_but_antarctica() -> None:
    import pycountry

    codes = {country.alpha_2 for country in pycountry.countries}
    assert codes - set(m49_regions()) == {"AQ"}
    regions = {entry["region"] for entry in m49_regions().values()}
    assert regions == {"Africa", "Americas", "Asia", "Europe", "Oceania"}
    NATIONALITY.check(codes)


def test_ages_go_into_nested_bands_and_are_top_coded() -> None:
    assert AGE.generalise("19", 1) == "18--20"
    assert AGE.generalise("52", 1) == "48+"
    assert AGE.generalise("52", 2) == "30+"
    assert AGE.generalise("16", 2) == "0--17"
    assert AGE.generalise("16", 3) == "0--17"
    assert AGE.generalise("19", 3) == "18+"
    assert AGE.generalise("not known", 2) == "not known"
    assert AGE.generalise("19", 4) == OTHER
    with pytest.raises(ValueError, match="do not nest"):
        band_hierarchy("age", [[0, 18], [0, 21]])


def test_the_commonest_countries_can_be_kept_by_name() -> None:
    rows = [{"nationality": "GB"}] * 30 + [{"nationality": "ER"}] * 2 + [{"nationality": "ET"}]
    kept = keep_frequent(NATIONALITY, rows, 11)
    assert kept.height == NATIONALITY.height + 1
    assert kept.generalise("GB", 1) == "GB"
    assert kept.generalise("ER", 1) == "Eastern Africa"
    assert kept.generalise("GB", 2) == "Northern Europe"
    assert kept.generalise("GB", 4) == OTHER
    kept.check(["GB", "ER", "ET", "SD", "XXA", ""])
    # 120 GB, 8 ER and 4 ET: Eritrea and Ethiopia together make 12, and GB keeps its name.
    result = anonymise(rows * 4, [kept], k=11, max_suppression=0.0)
    assert result.levels == {"nationality": 1}
    assert {row["nationality"] for row in result.rows} == {"GB", "Eastern Africa"}
    assert anonymise(rows * 4, [NATIONALITY], k=11).rows[0]["nationality"] == "Northern Europe"


def test_levels_that_do_not_nest_are_refused() -> None:
    broken = mapping_hierarchy("x", [{"a": "A", "b": "A"}, {"a": "1", "b": "2"}])
    with pytest.raises(ValueError, match="goes to both"):
        broken.check(["a", "b"])


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "nationality": st.sampled_from(NATIONALITIES),
            "age": st.integers(10, 70).map(str),
            "sex": st.sampled_from(["Female", "Male", "Male"]),
            "exploitation": st.sampled_from(["Labour", "Sexual", "Criminal", "Domestic"]),
            "quarter": st.sampled_from(["2023-Q4", "2024-Q1", "2024-Q2"]),
            "outcome": st.sampled_from(["positive", "negative", ""]),
        }
    ),
    max_size=400,
)


@settings(deadline=None)
@given(ROWS, st.integers(2, 15), st.sampled_from([0.0, 0.02, 0.1]))
def test_the_extract_is_k_anonymous_within_the_suppression_bound(
    rows: list[dict[str, str]], k: int, share: float
) -> None:
    result = anonymise(rows, HIERARCHIES, k=k, max_suppression=share)
    limit = math.floor(share * len(rows))
    if not result.reached:
        # Only when even "Other" everywhere leaves too few rows: fewer than k in all.
        assert 0 < len(rows) < k
        assert len(rows) > limit
        assert result.rows == []
        return
    assert check_k(result.rows, QUASI, k) == []
    assert result.suppressed == len(rows) - len(result.rows) <= limit
    # Global recoding: every kept row is its input with each column at the chosen level.
    originals = Counter(
        (
            *tuple(h.generalise(row[h.column], result.levels[h.column]) for h in HIERARCHIES),
            row["outcome"],
        )
        for row in rows
    )
    kept = Counter((*tuple(row[c] for c in QUASI), row["outcome"]) for row in result.rows)
    assert not kept - originals
    # Least height: one level lower in any column leaves too many rows in small groups.
    for hierarchy in HIERARCHIES:
        if result.levels[hierarchy.column]:
            lower = {**result.levels, hierarchy.column: result.levels[hierarchy.column] - 1}
            groups = Counter(
                tuple(h.generalise(row[h.column], lower[h.column]) for h in HIERARCHIES)
                for row in rows
            )
            assert sum(n for n in groups.values() if n < k) > limit


def test_check_k_names_each_combination_under_k() -> None:
    rows = [{"sex": "Female", "age": "18--20"}] * 3 + [{"sex": "Male", "age": "18--20"}] * 11
    assert check_k(rows, ["sex", "age"], 11) == [(("Female", "18--20"), 3)]
    assert check_k(rows, ["age"], 11) == []


def test_a_small_group_is_generalised_before_anything_is_suppressed() -> None:
    rows = [{"nationality": "GB", "age": "30"}] * 20 + [
        {"nationality": "ER", "age": "31"},
        {"nationality": "SD", "age": "32"},
    ] * 6
    result = anonymise(rows, [NATIONALITY, AGE], k=11, max_suppression=0.0)
    assert result.reached
    assert result.suppressed == 0
    assert result.levels["nationality"] in (2, 3)  # Eritrea and Sudan: both Africa
    assert check_k(result.rows, ["nationality", "age"], 11) == []


def test_k_that_cannot_be_reached_within_the_bound_is_reported() -> None:
    rows = [{"nationality": "GB", "age": "30"}] * 5
    result = anonymise(rows, [NATIONALITY, AGE], k=11)
    assert not result.reached
    assert result.rows == []


def test_a_few_outliers_are_suppressed_rather_than_generalising_everyone() -> None:
    rows = [{"nationality": "GB", "age": "30", "sex": "Male"}] * 200 + [
        {"nationality": "BR", "age": "67", "sex": "Female"}
    ]
    result = anonymise(rows, [NATIONALITY, AGE, Hierarchy("sex")], k=11)
    assert result.reached
    assert result.levels == {"nationality": 0, "age": 0, "sex": 0}
    assert result.suppressed == 1
    assert check_k(result.rows, ["nationality", "age", "sex"], 11) == []
