"""The ILO/EC indicator rule: every branch of the dimension rule, the adult and child patterns,
and properties that must hold whatever is ticked."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opennrm.screening.rules import (
    GUIDANCE_NOTICE,
    Combination,
    Dimension,
    Element,
    Observed,
    ScreeningResult,
    Strength,
    combination_for,
    evaluate,
    evaluate_dimension,
)

S, M, W = Strength.STRONG, Strength.MEDIUM, Strength.WEAK
_codes = itertools.count(1)


def obs(dimension: Dimension, *strengths: Strength) -> list[Observed]:
    return [
        Observed(f"X-{next(_codes):03d}", dimension, strength, f"{strength} sign")
        for strength in strengths
    ]


# --- The dimension rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strengths", "combination"),
    [
        ((S, S), Combination.TWO_STRONG),
        ((S, S, S), Combination.TWO_STRONG),
        ((S, M), Combination.STRONG_AND_ANOTHER),
        ((S, W), Combination.STRONG_AND_ANOTHER),
        ((M, M, M), Combination.THREE_MEDIUM),
        ((M, M, M, W), Combination.THREE_MEDIUM),
        ((M, M, W), Combination.TWO_MEDIUM_AND_WEAK),
        ((M, M, W, W), Combination.TWO_MEDIUM_AND_WEAK),
    ],
)
def test_each_branch_of_the_dimension_rule_meets_the_dimension(
    strengths: tuple[Strength, ...], combination: Combination
) -> None:
    result = evaluate_dimension(
        Dimension.COERCIVE_RECRUITMENT, obs(Dimension.COERCIVE_RECRUITMENT, *strengths)
    )
    assert result.met
    assert result.combination is combination
    assert result.explanation.startswith("Met: ")
    assert combination.description in result.explanation
    assert len(result.counted) == len(strengths)


@pytest.mark.parametrize(
    ("strengths", "missing"),
    [
        ((), "no indicators"),
        ((S,), "One more indicator of any strength would meet it."),
        ((M, M), "One more indicator of any strength would meet it."),
        ((M,), "One more strong indicator would meet it."),
        ((M, W), "One more strong or medium indicator would meet it."),
        ((M, W, W, W), "One more strong or medium indicator would meet it."),
        ((W,), "One more strong indicator would meet it."),
        ((W, W, W, W, W), "One more strong indicator would meet it."),
    ],
)
def test_short_of_the_rule_the_dimension_is_not_met_and_says_what_is_missing(
    strengths: tuple[Strength, ...], missing: str
) -> None:
    result = evaluate_dimension(
        Dimension.EXPLOITATIVE_CONDITIONS, obs(Dimension.EXPLOITATIVE_CONDITIONS, *strengths)
    )
    assert not result.met
    assert result.combination is None
    assert result.explanation.startswith("Not met: ")
    assert missing in result.explanation


def test_weak_indicators_alone_never_meet_a_dimension() -> None:
    assert combination_for(0, 0, 100) is None


def test_only_indicators_of_the_dimension_count_and_strongest_come_first() -> None:
    mine = obs(Dimension.COERCION_AT_DESTINATION, W, S)
    other = obs(Dimension.DECEPTIVE_RECRUITMENT, S)
    result = evaluate_dimension(Dimension.COERCION_AT_DESTINATION, mine + other)
    assert [o.strength for o in result.counted] == [S, W]
    assert result.explanation == (
        "Met: you recorded 1 strong indicator and 1 weak indicator. The rule counts a dimension "
        "as met with one strong indicator together with at least one medium or weak one."
    )


# --- The overall rule -------------------------------------------------------------------------

RECRUITMENT = [
    Dimension.DECEPTIVE_RECRUITMENT,
    Dimension.COERCIVE_RECRUITMENT,
    Dimension.ABUSE_OF_VULNERABILITY_RECRUITMENT,
]
MEANS = [Dimension.COERCION_AT_DESTINATION, Dimension.ABUSE_OF_VULNERABILITY_AT_DESTINATION]


def met(dimension: Dimension) -> list[Observed]:
    return obs(dimension, S, S)


@pytest.mark.parametrize("recruitment", RECRUITMENT)
@pytest.mark.parametrize("means", MEANS)
def test_an_adult_needs_recruitment_exploitation_and_means(
    recruitment: Dimension, means: Dimension
) -> None:
    result = evaluate(
        met(recruitment) + met(Dimension.EXPLOITATIVE_CONDITIONS) + met(means), is_child=False
    )
    assert result.indicated
    assert "match the pattern that suggests an adult may have been trafficked" in result.summary


@pytest.mark.parametrize(
    ("dimensions", "missing"),
    [
        ([Dimension.EXPLOITATIVE_CONDITIONS, Dimension.COERCION_AT_DESTINATION], "recruitment"),
        ([Dimension.DECEPTIVE_RECRUITMENT, Dimension.COERCION_AT_DESTINATION], "exploitation"),
        (
            [Dimension.DECEPTIVE_RECRUITMENT, Dimension.EXPLOITATIVE_CONDITIONS],
            "coercion or abuse of vulnerability at destination",
        ),
    ],
)
def test_an_adult_missing_one_element_is_not_indicated(
    dimensions: list[Dimension], missing: str
) -> None:
    result = evaluate([o for d in dimensions for o in met(d)], is_child=False)
    assert not result.indicated
    assert f"{missing} is not shown" in result.summary
    assert "This does not mean the person has not been trafficked" in result.summary


def test_a_child_needs_no_means() -> None:
    observed = met(Dimension.COERCIVE_RECRUITMENT) + met(Dimension.EXPLOITATIVE_CONDITIONS)
    child = evaluate(observed, is_child=True)
    adult = evaluate(observed, is_child=False)
    assert child.indicated
    assert not adult.indicated
    means = next(e for e in child.elements if e.element is Element.MEANS)
    assert not means.required
    assert not means.met
    assert "Not needed for a child" in means.explanation


@pytest.mark.parametrize(
    "dimensions",
    [[Dimension.EXPLOITATIVE_CONDITIONS], [Dimension.DECEPTIVE_RECRUITMENT, *MEANS]],
)
def test_a_child_still_needs_recruitment_and_exploitation(dimensions: list[Dimension]) -> None:
    assert not evaluate([o for d in dimensions for o in met(d)], is_child=True).indicated


def test_means_met_for_a_child_still_show_as_met() -> None:
    observed = (
        met(Dimension.DECEPTIVE_RECRUITMENT)
        + met(Dimension.EXPLOITATIVE_CONDITIONS)
        + met(Dimension.ABUSE_OF_VULNERABILITY_AT_DESTINATION)
    )
    means = next(
        e for e in evaluate(observed, is_child=True).elements if e.element is Element.MEANS
    )
    assert means.met
    assert means.dimensions_met == (Dimension.ABUSE_OF_VULNERABILITY_AT_DESTINATION,)


def test_nothing_observed_shows_every_dimension_unmet_and_says_it_is_guidance() -> None:
    result = evaluate([], is_child=False)
    assert not result.indicated
    assert [d.dimension for d in result.dimensions] == list(Dimension)
    assert not any(d.met for d in result.dimensions)
    assert result.notice == GUIDANCE_NOTICE
    assert result.notice.startswith("This is guidance, not a decision.")


def test_the_same_code_twice_counts_once_but_a_contradiction_is_refused() -> None:
    one = Observed("A-1", Dimension.DECEPTIVE_RECRUITMENT, S, "x")
    result = evaluate([one, one], is_child=False)
    assert len(result.dimension(Dimension.DECEPTIVE_RECRUITMENT).counted) == 1
    with pytest.raises(ValueError, match="A-1 was given twice"):
        evaluate([one, Observed("A-1", Dimension.DECEPTIVE_RECRUITMENT, W, "x")], is_child=False)


def test_the_snapshot_reads_back_the_same() -> None:
    observed = met(Dimension.COERCIVE_RECRUITMENT) + obs(Dimension.EXPLOITATIVE_CONDITIONS, M, W)
    result = evaluate(observed, is_child=True)
    assert ScreeningResult.from_dict(result.to_dict()) == result


# --- Properties ---------------------------------------------------------------------------------

indicators = st.lists(
    st.tuples(st.sampled_from(list(Dimension)), st.sampled_from(list(Strength))), max_size=25
).map(lambda pairs: [Observed(f"P-{n}", d, s, "sign") for n, (d, s) in enumerate(pairs)])


@given(
    observed=indicators,
    extra_dimension=st.sampled_from(list(Dimension)),
    extra_strength=st.sampled_from(list(Strength)),
    is_child=st.booleans(),
)
def test_adding_an_indicator_never_unmeets_anything(
    observed: list[Observed],
    extra_dimension: Dimension,
    extra_strength: Strength,
    is_child: bool,
) -> None:
    before = evaluate(observed, is_child=is_child)
    after = evaluate(
        [*observed, Observed("P-extra", extra_dimension, extra_strength, "sign")],
        is_child=is_child,
    )
    for old, new in zip(before.dimensions, after.dimensions, strict=True):
        assert new.met or not old.met, old.dimension
    assert after.indicated or not before.indicated


@given(observed=indicators, is_child=st.booleans(), data=st.data())
def test_the_result_does_not_depend_on_order(
    observed: list[Observed], is_child: bool, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(observed))
    assert evaluate(shuffled, is_child=is_child) == evaluate(observed, is_child=is_child)
