"""The linkage model and its run on splink: which comparisons, which blocking rules, how the
model is trained (no labels) and how pairs are scored. No Django here: `linkage.services`
decrypts the records, `prepare` makes them comparable, and this module takes them in memory.

The engine is DuckDB in this process with an in-memory database that cannot write a file (see
`duckdb_connection`): the decrypted values live in this process's memory only, and go when the
connection closes. Spark, for data beyond one machine, is the same settings on splink's
`SparkAPI` (`spark_engine`, ADR 0050): `train` and `score` take the engine's name.

Comparisons, each a list of levels from the most to the least alike (splink takes the first
that holds; the weights of each level are learnt):

- given name, family name, each alone (not compared when missing, or when the names are
  swapped with one misspelt): swapped with the other name, or the words in another order
  (weighed by how usual the name is, ADR 0063); the same (weighed so too); sounds alike (the
  same transliteration-tolerant key or metaphone, weighed by how usual the key is); close
  (Jaro-Winkler at least 0.92); fairly close (0.80); else (ADR 0061);
- names swapped with one of them misspelt (ADR 0063);
- date of birth: the same; day and month swapped; one digit off (Damerau-Levenshtein 1 on the
  ISO date); within a year when both are estimated from an age; within a year when one is;
  within two years when one is (ADR 0063); the same year (ADR 0062);
- sex, phone (last nine digits), area: the same or not;
- nationality, any in common, compared only when the two share no name (namesakes are
  nearly always of one nationality, so it is little evidence there: ADR 0061);
- nationality of namesakes, any in common, compared only when the two share a name: learnt
  apart, a different nationality weighs against (ADR 0064);
- places of exploitation: a word few accounts name in common, with another or alone; two or
  more usual words in common; one; none (ADR 0062);
- first contact: within 30 days, within 60 days (the police and the charity that sheltered
  the person refer within weeks of each other), within a year, further apart (ADR 0062);
- referring organisation: the same or another (the weights say whether one organisation
  referring the same person twice is more or less usual than two organisations doing so).

Blocking rules (a pair is scored only if one holds; each is an equality, so the engine finds
candidates with a hash join, not by comparing everyone with everyone): family-name key and year
of birth; given-name key and year of birth; the two keys crossed (names swapped); one key
crossed and the year (names swapped, one misspelt); both name keys; date of birth; phone.
From 200,000 records, narrower ones (`NATIONAL_BLOCKING_RULES`, ADRs 0051 and 0054), with
rules for one name misspelt when the date of birth is no help (`MISSPELT_NAME_RULES`, ADR 0059),
and for the same names a year or two apart when an age is estimated (ADR 0063).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals import comparison_level as splink_comparison_level
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from .prepare import PreparedRecord
from .scoring import (
    FIRST_CONTACT_WITHIN,
    NAME_KEY_EDITS,
    NAME_MISSING_EITHER,
    NAME_MISSING_GIVEN,
    RARE_PLACE_WORD_SHARE,
)

if TYPE_CHECKING:
    from splink.internals.blocking_rule_creator import BlockingRuleCreator

# A pair is proposed for review from this probability up (Fellegi-Sunter posterior).
DEFAULT_THRESHOLD = 0.8
# Random pairs sampled for the u probabilities; beyond the number of pairs there are, all are.
U_MAX_PAIRS = 2e6
SEED = 15
# Below this many records EM has too few pairs to learn from (its blocking rules may find none)
# and the model would be noise: training refuses (`NotEnoughRecords`).
MIN_TRAINING_RECORDS = 100


class NotEnoughRecords(ValueError):
    """Too few records to train a model on."""


# The name comparison's first level, "no name to compare", by the SQL a stored model holds.
# Until 2026-12-05 (stop 36) it was either name missing in either referral; but the family
# name is optional on the referral form, so a referral with only a given name (or the whole
# name in the given names box) was never compared. Now only a missing given name is: the other
# levels compare what there is (a missing family name agrees with nothing). A model stored
# before keeps its own level, and `level_weights` tells the Python scorer which it is
# (`scoring.NAME_MISSING_GIVEN`, `scoring.NAME_MISSING_EITHER`).
def _name_missing_level(missing: str = NAME_MISSING_GIVEN) -> ComparisonLevelCreator:
    if missing == NAME_MISSING_EITHER:
        return cll.Or(cll.NullLevel("given_name"), cll.NullLevel("family_name"))
    return cll.NullLevel("given_name")


# The names given crossed (the given name where the family name was, or the words in another
# order: a Vietnamese name written family name first), and not the same both ways; both names
# given on both sides. (Until stop 45 a whole name in the given names box, against the same
# name in both boxes, was taken as crossed, and its names then weighed nothing at all: not
# compared apart, and "names crossed" needs both names on both sides.)
NAMES_CROSSED_SQL = (
    "given_name_l IS NOT NULL AND family_name_l IS NOT NULL AND "
    "given_name_r IS NOT NULL AND family_name_r IS NOT NULL AND "
    "((name_tokens_l = name_tokens_r) OR "
    "(given_key_l = family_key_r AND family_key_l = given_key_r) OR "
    "(jaro_winkler_similarity(given_name_l, family_name_r) >= 0.92 AND "
    "jaro_winkler_similarity(family_name_l, given_name_r) >= 0.92)) AND NOT "
    "(given_name_l = given_name_r AND family_name_l = family_name_r)"
)
NOT_COMPARED_OR_CROSSED = "Not given in one or both, or the names swapped (weighed there)"
NOT_COMPARED_NAME_IN_COMMON = "Not given in one or both, or a name in common (weighed apart)"

# The names swapped and one of them misspelt: no name the same (or of the same key) straight
# across, one name (or its key) the same crossed, and the other crossed fairly close. Not taken
# as `NAMES_CROSSED_SQL` (both crossed names must agree there), such a pair counted both names
# as differing, some -14 bits: at a million synthetic referrals 276 pairs of one person had both
# names counted so, most of them swaps with one name misspelt, and all but 17 fell below the
# threshold (ADR 0063).
SWAPPED_ONE_MISSPELT_SQL = (
    "given_name_l IS NOT NULL AND family_name_l IS NOT NULL AND "
    "given_name_r IS NOT NULL AND family_name_r IS NOT NULL AND NOT "
    "(given_name_l = given_name_r OR family_name_l = family_name_r OR "
    "given_key_l = given_key_r OR family_key_l = family_key_r) AND ("
    "((given_name_l = family_name_r OR given_key_l = family_key_r) AND "
    "jaro_winkler_similarity(family_name_l, given_name_r) >= 0.8) OR "
    "((family_name_l = given_name_r OR family_key_l = given_key_r) AND "
    "jaro_winkler_similarity(given_name_l, family_name_r) >= 0.8))"
)
NOT_COMPARED_OR_MISSPELT_SWAP = (
    "Not given in one or both, or swapped with one misspelt (weighed there)"
)


def _name_alike_levels(part: str) -> list[ComparisonLevelCreator]:
    """One name's levels from "the same" down, shared by `_name_part` and `_name_or_swapped`."""
    name, key, sound = f"{part}_name", f"{part}_key", f"{part}_metaphone"
    return [
        cll.ExactMatchLevel(name, term_frequency_adjustments=True).configure(
            label_for_charts="The same"
        ),
        # Weighed by how usual the key is: the level's own u, not the exact match's (splink
        # would otherwise look for an exact match on the key, which there is not).
        cll.Or(cll.ExactMatchLevel(key), cll.ExactMatchLevel(sound)).configure(
            label_for_charts="Sounds alike (same key or metaphone)",
            tf_adjustment_column=key,
            tf_adjustment_weight=1.0,
            disable_tf_exact_match_detection=True,
        ),
        cll.JaroWinklerLevel(name, 0.92).configure(label_for_charts="Close (Jaro-Winkler 0.92)"),
        cll.JaroWinklerLevel(name, 0.8).configure(
            label_for_charts="Fairly close (Jaro-Winkler 0.80)"
        ),
        cll.ElseLevel(),
    ]


def _name_part(part: str, description: str) -> cl.CustomComparison:
    """One name (`part` "given" or "family") compared alone, each agreement weighed by how
    usual the name (or its key) is: sharing a family name one referral in a hundred has is far
    weaker evidence than sharing one no one else has, and the given and family names are usual
    apart (a usual given name with a rare family name is a rare name). Comparing both names as
    one value weighed only the exact match by frequency; apart, the best F1 any weighing could
    reach at a million synthetic referrals rose from 0.915 to 0.953 (ADR 0061).

    Names swapped are weighed by `_names_crossed` alone: here they are not compared (weight
    0), or each name would count as differing and take back what the swap gave (at a million,
    a thousand pairs of the same person, names swapped and age estimated, fell below the
    threshold so)."""
    name = f"{part}_name"
    return cl.CustomComparison(
        output_column_name=name,
        comparison_description=description,
        comparison_levels=[
            cll.Or(cll.NullLevel(name), cll.CustomLevel(NAMES_CROSSED_SQL)).configure(
                is_null_level=True, label_for_charts=NOT_COMPARED_OR_CROSSED
            ),
            *_name_alike_levels(part),
        ],
    )


def _name_or_swapped(part: str, description: str) -> cl.CustomComparison:
    """One name (`part` "given" or "family") compared alone, as `_name_part`, and the names
    swapped as a level of each name, weighed by how usual the name is there too: the given
    name against the other's family name and the other way round. As one comparison of its
    own (`_names_crossed`), the swap weighed the same for every name; swapped names as usual
    as "Nguyen" and "Thi Mai" (written family name first by one organisation, given name first
    by another) pair with every namesake. Names swapped with one misspelt are weighed by
    `_names_swapped` alone (ADR 0063)."""
    name = f"{part}_name"
    misspelt_swap = cll.And(
        cll.CustomLevel(SWAPPED_ONE_MISSPELT_SQL), cll.Not(cll.CustomLevel(NAMES_CROSSED_SQL))
    )
    return cl.CustomComparison(
        output_column_name=part,
        comparison_description=description,
        comparison_levels=[
            cll.Or(cll.NullLevel(name), misspelt_swap).configure(
                is_null_level=True, label_for_charts=NOT_COMPARED_OR_MISSPELT_SWAP
            ),
            # The larger of the two names' shares as this name (splink's term frequency),
            # which is this name's own: the other, written in this name's box, is rare there.
            cll.CustomLevel(NAMES_CROSSED_SQL).configure(
                label_for_charts="Swapped with the other name",
                tf_adjustment_column=name,
                tf_adjustment_weight=1.0,
                disable_tf_exact_match_detection=True,
            ),
            *_name_alike_levels(part),
        ],
    )


def _names_swapped() -> cl.CustomComparison:
    """The names swapped and one of them misspelt (`SWAPPED_ONE_MISSPELT_SQL`); names swapped
    as they are are weighed in each name (`_name_or_swapped`)."""
    return cl.CustomComparison(
        output_column_name="names_swapped",
        comparison_description="Given and family names swapped, one of them misspelt",
        comparison_levels=[
            cll.Or(
                cll.NullLevel("given_name"),
                cll.NullLevel("family_name"),
                cll.CustomLevel(NAMES_CROSSED_SQL),
            ).configure(is_null_level=True, label_for_charts=NOT_COMPARED_OR_CROSSED),
            cll.CustomLevel(SWAPPED_ONE_MISSPELT_SQL, label_for_charts="Swapped, one misspelt"),
            cll.ElseLevel(),
        ],
    )


# Until stop 46 the names swapped were a comparison of their own ("names_crossed"), and each
# name ("given_name", "family_name", `_name_part`) was not compared when they were; a model
# stored then keeps them, and the engine (from its SQL) and `scoring` still score it.
def _names_crossed() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="names_crossed",
        comparison_description="Given and family names swapped or in another order",
        comparison_levels=[
            cll.Or(cll.NullLevel("given_name"), cll.NullLevel("family_name")),
            cll.CustomLevel(NAMES_CROSSED_SQL, label_for_charts="Swapped or in another order"),
            cll.ElseLevel(),
        ],
    )


# Before 2026-12-06 (stop 44) both names were one comparison ("name"); a model stored then
# keeps it, and both the engine (from the model's own SQL) and `scoring` (`scoring.name`)
# still score it. `_name_comparison` is its definition, kept for `name_missing`.
def _name_comparison() -> cl.CustomComparison:
    swapped = (
        "(name_tokens_l = name_tokens_r) OR "
        "(given_key_l = family_key_r AND family_key_l = given_key_r) OR "
        "(jaro_winkler_similarity(given_name_l, family_name_r) >= 0.92 AND "
        "jaro_winkler_similarity(family_name_l, given_name_r) >= 0.92)"
    )
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="Given and family names",
        comparison_levels=[
            _name_missing_level(),
            # Weighed by how usual the name is (splink's term-frequency adjustment): sharing a
            # name one referral in a hundred has is far weaker evidence than sharing one that
            # no one else has.
            cll.ExactMatchLevel("full_name", term_frequency_adjustments=True).configure(
                label_for_charts="Both names the same"
            ),
            cll.CustomLevel(swapped, label_for_charts="Names swapped or in another order"),
            cll.And(
                cll.JaroWinklerLevel("given_name", 0.92),
                cll.JaroWinklerLevel("family_name", 0.92),
            ).configure(label_for_charts="Both names close (Jaro-Winkler 0.92)"),
            cll.And(
                cll.Or(cll.ExactMatchLevel("given_key"), cll.ExactMatchLevel("given_metaphone")),
                cll.Or(cll.ExactMatchLevel("family_key"), cll.ExactMatchLevel("family_metaphone")),
            ).configure(label_for_charts="Both names sound alike"),
            cll.And(
                cll.JaroWinklerLevel("given_name", 0.8),
                cll.JaroWinklerLevel("family_name", 0.8),
            ).configure(label_for_charts="Both names fairly close (Jaro-Winkler 0.80)"),
            cll.Or(
                cll.JaroWinklerLevel("family_name", 0.92), cll.ExactMatchLevel("family_key")
            ).configure(label_for_charts="Family name alike only"),
            cll.Or(
                cll.JaroWinklerLevel("given_name", 0.92), cll.ExactMatchLevel("given_key")
            ).configure(label_for_charts="Given name alike only"),
            cll.ElseLevel(),
        ],
    )


def _date_of_birth(*, two_years: bool = True) -> cl.CustomComparison:
    """Dates of birth, or years estimated from an age. Two estimated years a year apart or less
    are a level of their own: two ages each given at a referral agree whenever the person is
    one (one a year later, the other the same), where a date against an age given a year out
    may be two years apart; one level for both, at 200,000 synthetic referrals, weighed the
    two alike (ADR 0062). An age given a year out and a birthday passed between the two
    referrals put an estimated year two years from the date: a level of its own too ("birth",
    ADR 0063); without `two_years`, as a model stored before stop 46 compares them
    ("date_of_birth")."""
    within_a_year = "abs(dob_year_l - dob_year_r) <= 1"
    two_years_apart = [
        cll.CustomLevel(
            "(dob_estimated_l OR dob_estimated_r) AND abs(dob_year_l - dob_year_r) <= 2",
            label_for_charts="Within two years, one estimated",
        )
    ]
    return cl.CustomComparison(
        output_column_name="birth" if two_years else "date_of_birth",
        comparison_description="Date of birth, or the year estimated from an age",
        comparison_levels=[
            cll.NullLevel("dob_year"),
            cll.ExactMatchLevel("dob").configure(label_for_charts="The same date"),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_day_l = dob_month_r AND dob_month_l = dob_day_r",
                label_for_charts="Day and month swapped",
            ),
            cll.DamerauLevenshteinLevel("dob", 1).configure(
                label_for_charts="One digit off or two exchanged"
            ),
            cll.CustomLevel(
                f"dob_estimated_l AND dob_estimated_r AND {within_a_year}",
                label_for_charts="Within a year, both estimated",
            ),
            cll.CustomLevel(
                f"(dob_estimated_l OR dob_estimated_r) AND {within_a_year}",
                label_for_charts="Within a year, one estimated",
            ),
            *(two_years_apart if two_years else []),
            cll.ExactMatchLevel("dob_year").configure(label_for_charts="The same year"),
            cll.ElseLevel(),
        ],
    )


def _equal(column: str, description: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=description,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(label_for_charts="The same"),
            cll.ElseLevel(),
        ],
    )


# A name in common: either name's key or metaphone the same, or a key crossed.
A_NAME_IN_COMMON_SQL = (
    "given_key_l = given_key_r OR given_metaphone_l = given_metaphone_r OR "
    "family_key_l = family_key_r OR family_metaphone_l = family_metaphone_r OR "
    "given_key_l = family_key_r OR family_key_l = given_key_r"
)


def _nationality() -> cl.CustomComparison:
    """Nationalities, compared only when the two share no name. Two people of one name are
    nearly always of one nationality (an Albanian family name, a Vietnamese given name), so
    among pairs sharing a name a shared nationality is no evidence of one person; counted
    there too, it added some 3 bits to every pair of namesakes, and at a million synthetic
    referrals the precision at 0.8 was 0.86 (0.95 without; F1 0.900 against 0.926; ADR
    0061). Where no name agrees (a name transliterated past recognition) it still counts.
    Among namesakes it is weighed apart (`_nationality_of_namesakes`, ADR 0064)."""
    return cl.CustomComparison(
        output_column_name="nationalities",
        comparison_description="Nationalities (when no name is in common)",
        comparison_levels=[
            cll.Or(cll.NullLevel("nationalities"), cll.CustomLevel(A_NAME_IN_COMMON_SQL)).configure(
                is_null_level=True, label_for_charts=NOT_COMPARED_NAME_IN_COMMON
            ),
            cll.ArrayIntersectLevel("nationalities", 1).configure(label_for_charts="One in common"),
            cll.ElseLevel(),
        ],
    )


# No name in common, and none missing that would make it unknown: `A_NAME_IN_COMMON_SQL` is
# null, not false, when a key is missing and no other agrees.
NO_NAME_IN_COMMON_SQL = f"NOT coalesce(({A_NAME_IN_COMMON_SQL}), false)"
NOT_COMPARED_NO_NAME_IN_COMMON = "Not given in one or both, or no name in common (weighed apart)"


def _nationality_of_namesakes() -> cl.CustomComparison:
    """Nationalities of two people who share a name, in a comparison of its own so that its
    weights are learnt among namesakes only (splink leaves a null level out of both m and u).
    A shared nationality is little evidence there (0.3 bits at a million synthetic
    referrals), but a different one is much: the same person is nearly always recorded with
    the same nationality, while two Mohammed Ibrahims may be Sudanese and Syrian (-4.4 bits).
    F1 at 0.8 rose from 0.949996 to 0.951771 (ADR 0064)."""
    return cl.CustomComparison(
        output_column_name="nationality_of_namesakes",
        comparison_description="Nationalities (when a name is in common)",
        comparison_levels=[
            cll.Or(
                cll.NullLevel("nationalities"), cll.CustomLevel(NO_NAME_IN_COMMON_SQL)
            ).configure(is_null_level=True, label_for_charts=NOT_COMPARED_NO_NAME_IN_COMMON),
            cll.ArrayIntersectLevel("nationalities", 1).configure(label_for_charts="One in common"),
            cll.ElseLevel(),
        ],
    )


def _place_words() -> cl.CustomComparison:
    """Places of exploitation, by the words naming them, a word few accounts name apart
    (`rare_places`, `scoring.RARE_PLACE_WORD_SHARE`): a street named in both accounts is
    strong evidence, a town or "car wash" in both is weak (every account in one town names the
    town). Counted alike, two accounts of one town's car washes reached the top level as often
    as two accounts of one place (ADR 0062)."""

    def rare_in_common() -> ComparisonLevelCreator:
        return cll.ArrayIntersectLevel("rare_places", 1)

    return cl.CustomComparison(
        output_column_name="place_words",
        comparison_description="Places of exploitation (words naming them)",
        comparison_levels=[
            cll.NullLevel("places"),
            cll.And(rare_in_common(), cll.ArrayIntersectLevel("places", 2)).configure(
                label_for_charts="A word few accounts name, and another, in common"
            ),
            rare_in_common().configure(label_for_charts="A word few accounts name in common"),
            cll.ArrayIntersectLevel("places", 2).configure(
                label_for_charts="Two or more usual place words in common"
            ),
            cll.ArrayIntersectLevel("places", 1).configure(
                label_for_charts="One usual place word in common"
            ),
            cll.ElseLevel(),
        ],
    )


def _first_contact_apart() -> cl.CustomComparison:
    """Days between the first contacts. The police and the charity that sheltered a person
    refer within weeks of each other; a second referral 31 to 60 days after the first, counted
    with those up to a year apart (most pairs of different people in a year or two of
    referrals), weighed against the pair (ADR 0062)."""
    # Day numbers, not dates: plain arithmetic reads the same in DuckDB's SQL and Spark's.
    within = [
        cll.CustomLevel(f"abs(first_contact_l - first_contact_r) <= {days}", label_for_charts=label)
        for days, label in FIRST_CONTACT_WITHIN
    ]
    return cl.CustomComparison(
        output_column_name="first_contact_apart",
        comparison_description="Date of first contact",
        comparison_levels=[cll.NullLevel("first_contact"), *within, cll.ElseLevel()],
    )


BLOCKING_RULES: list[BlockingRuleCreator] = [
    block_on("family_key", "dob_year"),
    block_on("given_key", "dob_year"),
    CustomRule("l.given_key = r.family_key AND l.family_key = r.given_key"),
    # Names swapped and one of them misspelt: the name that kept its key, crossed, and the year.
    CustomRule("l.given_key = r.family_key AND l.dob_year = r.dob_year"),
    CustomRule("l.family_key = r.given_key AND l.dob_year = r.dob_year"),
    block_on("given_key", "family_key"),
    block_on("dob"),
    block_on("phone"),
]

# From this many records, `NATIONAL_BLOCKING_RULES` instead: the rules above join on a name key
# and a year, or on both name keys, and usual names make those blocks grow with the square of
# the population (bench/linkage.py: 4.1 million pairs at 100,000 synthetic referrals, some 400
# million at 1,000,000, beyond a run's time and memory). These join on more at once (both keys
# and the year; one key and the day and month of birth; the date of birth and sex), so the
# blocks stay small, at the cost of the pairs that differ in all of them (the share of true
# pairs found at all fell from 0.95 to 0.90 on the synthetic people at a million: ADR 0054;
# with `MISSPELT_NAME_RULES` 0.985: ADR 0059).
NATIONAL_SCALE_RECORDS = 200_000
MISSPELT_NAME_RULES: list[BlockingRuleCreator] = [
    # One name misspelt, and the date of birth no help: an age estimated on either side (the
    # same year, or a year apart), or the day and month swapped. The other name's key and the
    # year are joined on, with the estimate on one side as a filter the join can use (an OR of
    # both sides would make it read every pair sharing a usual name and a year); then only
    # names whose keys are at most `NAME_KEY_EDITS` apart are kept as pairs (ADR 0059).
    *(
        CustomRule(
            f"l.{same} = r.{same} AND l.dob_year = r.dob_year{step} AND {side}.dob_estimated "
            f"AND levenshtein(l.{close}, r.{close}) <= {NAME_KEY_EDITS}"
        )
        for same, close in (("family_key", "given_key"), ("given_key", "family_key"))
        for side in ("l", "r")
        for step in ("", " + 1", " - 1")
    ),
    *(
        CustomRule(
            f"l.{same} = r.{same} AND l.dob_year = r.dob_year "
            "AND l.dob_month = r.dob_day AND l.dob_day = r.dob_month"
        )
        for same in ("family_key", "given_key")
    ),
    # Names swapped and one of them misspelt: the name that kept its key, crossed, and the year,
    # or a year apart with an age estimated (ADR 0063).
    *(
        CustomRule(
            f"l.{kept} = r.{crossed} AND l.dob_year = r.dob_year{step} "
            f"AND levenshtein(l.{crossed}, r.{kept}) <= {NAME_KEY_EDITS}"
            + (" AND (l.dob_estimated OR r.dob_estimated)" if step else "")
        )
        for kept, crossed in (("given_key", "family_key"), ("family_key", "given_key"))
        for step in ("", " + 1", " - 1")
    ),
]
NATIONAL_BLOCKING_RULES: list[BlockingRuleCreator] = [
    block_on("given_key", "family_key", "dob_year"),
    CustomRule(
        "l.given_key = r.family_key AND l.family_key = r.given_key AND l.dob_year = r.dob_year"
    ),
    block_on("family_key", "dob_month", "dob_day"),
    block_on("given_key", "dob_month", "dob_day"),
    CustomRule(
        "l.given_key = r.family_key AND l.dob_month = r.dob_month AND l.dob_day = r.dob_day"
    ),
    block_on("dob", "sex"),
    block_on("phone"),
    # The same names (or crossed) and a year of birth apart, when either is estimated from an
    # age: an age given a year out, or a birthday passed between the two referrals; or two
    # years apart, both (at a million synthetic referrals, 336 pairs of the same person were
    # found by no rule before; ADR 0063). Each an equality on three columns (the year moved),
    # so still a hash join.
    *(
        CustomRule(
            f"l.given_key = r.{given} AND l.family_key = r.{family} "
            f"AND l.dob_year = r.dob_year {step} AND (l.dob_estimated OR r.dob_estimated)"
        )
        for given, family in (("given_key", "family_key"), ("family_key", "given_key"))
        for step in ("+ 1", "- 1", "+ 2", "- 2")
    ),
    *MISSPELT_NAME_RULES,
]


def blocking_rules(records: int) -> list[BlockingRuleCreator]:
    """The blocking rules for a run over this many records."""
    return list(NATIONAL_BLOCKING_RULES if records >= NATIONAL_SCALE_RECORDS else BLOCKING_RULES)


# EM is trained twice, each time on pairs found by a rule that leaves the other comparisons
# free to learn: first on pairs born on the same day (learning the names and the rest), then on
# pairs sharing a phone number (learning the date of birth). Pairs with names that sound alike
# in one area were tried for the second and taught the model little about dates of birth: at a
# national scale most people sharing a usual name are different people, and EM cannot tell them
# from the same person (bench/linkage.py: F1 0.80 against 0.89 on 20,000 referrals). A phone
# number is shared by different people too (a controller's number given by several of them;
# the synthetic people do this), and the model still learnt what a date of birth is worth.
# With fewer than `MIN_PHONE_PAIRS` pairs sharing a phone (a small deployment), EM has too
# little to learn from there (a few dozen pairs, most levels never seen), and the names in one
# area are the better teacher. Each session samples at most `EM_MAX_PAIRS` pairs, so a
# national dataset trains in the same time as a small one.
FIRST_TRAINING_RULE = block_on("dob")
# At a national scale, pairs born on the same day are almost all different people (at a million
# referrals some 57 people share each day, one pair in a thousand of theirs the same person),
# and EM does not find the matches among them: it finds another cluster and calls it the
# matches (people of one family name, or of one area with places in common), and learns
# nonsense from it (at a million: the names differing in 79% of "matches", the sex in 35%; F1
# 0.844). Born on the same day in the same area was tried (ADR 0059) and learnt the places of
# one area instead. So at national scale the names and the date of birth are learnt from the
# pairs sharing a phone, about a third of them matches at any scale, and the phone (and the rest
# again) from pairs sharing both name keys and the date of birth, nearly all matches; neither
# session leaves out what the other must learn (ADR 0060).
NAMES_AND_DOB_TRAINING_RULE = block_on("given_key", "family_key", "dob")
PHONE_TRAINING_RULE = block_on("phone")
NAMES_TRAINING_RULE = block_on("given_key", "family_key", "area")
MIN_PHONE_PAIRS = 200
EM_MAX_PAIRS = 1e6


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _name_or_swapped("given", "Given name"),
            _name_or_swapped("family", "Family name"),
            _names_swapped(),
            _date_of_birth(),
            _equal("sex", "Sex"),
            _nationality(),
            _nationality_of_namesakes(),
            _equal("phone", "Phone number (last nine digits)"),
            _equal("area", "Area"),
            _place_words(),
            _first_contact_apart(),
            _equal("referring_organisation", "Referring organisation"),
        ],
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        # splink gives the level reached (gamma) only with the compared values; `score` reads
        # back ids, weights and levels, never the values.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that cannot put anything on disk.

    `temp_directory` empty: DuckDB never spills to disk; a job too large for memory fails
    instead. No external access: no SQL can read or write a file. No extension is installed or
    loaded from the network or the home directory. The configuration is locked, so nothing
    later (splink included) can change these.
    """
    con = duckdb.connect(":memory:")
    # In this order: once external access is off, the temp directory can no longer be set.
    for statement in (
        "SET temp_directory = ''",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        con.execute(statement)
    return con


@dataclass(frozen=True)
class ScoredPair:
    """Two records the model scored at or above the threshold, and why."""

    first: int
    second: int
    match_weight: float
    match_probability: float
    # Per comparison: its name, the level reached (gamma and label), its Bayes factor and
    # match weight (log2 of the Bayes factor).
    comparisons: list[dict[str, Any]]


@dataclass(frozen=True)
class Result:
    model: dict[str, Any]
    candidate_pairs: int
    pairs: list[ScoredPair]


DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (DUCKDB, SPARK)


def _db_api(engine: str, spark_master: str | None) -> tuple[Any, Callable[[], None]]:
    """splink's database for `engine`, and the function that closes it (and with it every
    value it held)."""
    if engine == SPARK:
        from . import spark_engine

        return spark_engine.db_api(spark_master or spark_engine.DEFAULT_MASTER)
    if engine != DUCKDB:
        raise ValueError(f"Unknown linkage engine {engine!r}: one of {', '.join(ENGINES)}")
    con = duckdb_connection()
    return DuckDBAPI(con), con.close


def _for_engine(engine: str, model: Any) -> Any:
    """The model or settings as `engine`'s SQL: stored models are in DuckDB's."""
    if engine != SPARK:
        return model
    from . import spark_engine

    if isinstance(model, SettingsCreator):
        model = model.get_settings(DUCKDB).as_dict()
    return spark_engine.to_spark(model)


def _stored_form(engine: str, trained: dict[str, Any]) -> dict[str, Any]:
    """A trained model as it is stored: in DuckDB's SQL, whichever engine trained it."""
    if engine != SPARK:
        return trained
    from . import spark_engine

    return spark_engine.from_spark(trained, settings().get_settings(DUCKDB).as_dict())


def _linker(table: Any, model: Any) -> Linker:
    # Splink's INFO logging reports progress, never values; warnings only, to keep logs short.
    return Linker(table, model, log_level=logging.WARNING)


def _records_table(db_api: Any, records: Sequence[PreparedRecord]) -> Any:
    return db_api.register(_columns(records), table_name="records")


_COLUMNS = tuple(field.name for field in dataclasses.fields(PreparedRecord))


def _columns(records: Sequence[PreparedRecord]) -> dict[str, list[Any]]:
    """The records column by column, as splink hands them to the engine (Arrow): one read of
    each record's values rather than a dictionary each, which at a million records took 32 s
    of a run (`dataclasses.asdict` copies every list) against 6 s. With `rare_places`."""
    values = operator.attrgetter(*_COLUMNS)
    columns = zip(*map(values, records), strict=True) if records else [[] for _ in _COLUMNS]
    by_name = {name: list(column) for name, column in zip(_COLUMNS, columns, strict=True)}
    return by_name | {"rare_places": rare_places(by_name["places"])}


def rare_places(places: list[list[str] | None]) -> list[list[str] | None]:
    """Each record's place words that fewer than `RARE_PLACE_WORD_SHARE` of the records name
    (the records being those a run scores, as `scoring._place_words` counts the stored ones at
    submission)."""
    naming = Counter(word for words in places if words for word in words)
    most = RARE_PLACE_WORD_SHARE * len(places)
    rare = [[word for word in words if naming[word] < most] if words else None for words in places]
    return [words or None for words in rare]


@contextlib.contextmanager
def _underflow_clamped() -> Iterator[None]:
    """While EM runs, an m or u probability that underflows below splink's least (1e-300) is
    set to that least instead of raising. On a few hundred records a level may hold only
    non-matches, and EM drives its m to 0.0; splink 5.0 raises there rather than clamping
    (its weights are clamped anyway: moj-analytical-services/splink PR 2851), which would
    make a small deployment's first run fail. `_with_m_floor` lifts every m to `M_FLOOR`
    afterwards, so the stored model never holds the clamped value."""
    level = splink_comparison_level.ComparisonLevel
    original: dict[str, property] = {
        name: vars(level)[name] for name in ("m_probability", "u_probability")
    }
    least = splink_comparison_level.M_U_CLAMP_MIN

    def clamping(prop: property) -> property:
        def setter(self: Any, value: Any) -> None:
            if isinstance(value, float) and value < least:
                value = least
            assert prop.fset is not None  # noqa: S101 - splink's properties have setters
            prop.fset(self, value)

        return prop.setter(setter)

    for name, prop in original.items():
        setattr(level, name, clamping(prop))
    try:
        yield
    finally:
        for name, prop in original.items():
            setattr(level, name, prop)


def _training_rules(records: Sequence[PreparedRecord]) -> list[BlockingRuleCreator]:
    sharing = Counter(record.phone for record in records if record.phone)
    phone_pairs = sum(n * (n - 1) // 2 for n in sharing.values())
    if phone_pairs < MIN_PHONE_PAIRS:
        return [FIRST_TRAINING_RULE, NAMES_TRAINING_RULE]
    if len(records) >= NATIONAL_SCALE_RECORDS:
        return [PHONE_TRAINING_RULE, NAMES_AND_DOB_TRAINING_RULE]
    return [FIRST_TRAINING_RULE, PHONE_TRAINING_RULE]


def train(
    records: Sequence[PreparedRecord], *, engine: str = DUCKDB, spark_master: str | None = None
) -> dict[str, Any]:
    """A model trained on these records with no labels: u from random pairs (which are almost
    all different people), m by expectation maximisation on blocked pairs, the prior from the
    pairs that agree on both names and the date of birth. Returns splink's model JSON (in
    DuckDB's SQL, whichever `engine` trained it)."""
    if len(records) < MIN_TRAINING_RECORDS:
        raise NotEnoughRecords(
            f"A linkage model needs at least {MIN_TRAINING_RECORDS} referrals to learn from; "
            f"there are {len(records)}."
        )
    db_api, close = _db_api(engine, spark_master)
    try:
        linker = _linker(_records_table(db_api, records), _for_engine(engine, settings()))
        linker.training.estimate_probability_two_random_records_match(
            [
                block_on("given_name", "family_name", "dob"),
                "l.name_tokens = r.name_tokens AND l.dob = r.dob",
            ],
            recall=0.5,
        )
        # No exact pair at all gives a prior of 0, which no evidence can overcome (and EM
        # cannot start from): assume one match among all pairs instead. splink has no public
        # setter for the estimate.
        pairs = len(records) * (len(records) - 1) / 2
        settings_obj = linker._settings_obj
        if settings_obj._probability_two_random_records_match < 1 / pairs:
            settings_obj._probability_two_random_records_match = 1 / pairs
        linker.training.estimate_u_using_random_sampling(
            max_pairs=U_MAX_PAIRS, seed=SEED, num_chunks=1
        )
        with _underflow_clamped():
            for rule in _training_rules(records):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS
                )
        trained = _stored_form(engine, linker.misc.save_model_to_json())
        return _with_unseen_u(_with_m_floor(trained), sampled=min(U_MAX_PAIRS, pairs))
    finally:
        close()


# The least m probability a level keeps. EM gives a level it never saw among the matches it
# found (a date of birth wrong but in the right year; a sex recorded differently) an m
# probability near 0, and a match weight of -150 or so: one such difference would rule a pair
# out whatever else agrees. Errors in a record are always possible, so no level is taken as
# impossible: at most about -9 bits for a level as common as a coin toss among non-matches.
M_FLOOR = 1e-3


def _with_m_floor(model: dict[str, Any]) -> dict[str, Any]:
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if "m_probability" in level:
                level["m_probability"] = max(level["m_probability"], M_FLOOR)
    return model


def _with_unseen_u(model: dict[str, Any], *, sampled: float) -> dict[str, Any]:
    """A level no random pair reached (among `sampled`) gets a u probability of one in
    `sampled`, the most its absence allows, rather than none. With none splink weighs the level
    by a default guess made for levels never trained (about one pair in 170 for the names
    swapped), and at a million referrals two rare levels go unseen among two million random
    pairs: the names swapped (then weighing 7 bits rather than about 18) and the same phone
    (none rather than about 18), and the pairs they mark, nearly all the same person, fell
    below the threshold (F1 0.873 against 0.901 with this; ADR 0060)."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            unseen = level.get("u_probability") is None
            if unseen and "m_probability" in level and not level.get("is_null_level"):
                level["u_probability"] = 1 / sampled
    return model


def _waterfall(row: dict[str, Any], model: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        gamma = row[f"gamma_{name}"]
        levels = comparison["comparison_levels"]
        # splink numbers the levels from the last ("else", gamma 0) up, leaving out the null
        # level, whose gamma is -1.
        non_null = [level for level in levels if not level.get("is_null_level")]
        level = (
            next(level for level in levels if level.get("is_null_level"))
            if gamma == -1
            else non_null[len(non_null) - 1 - gamma]
        )
        # A level weighed by a value's frequency has the adjustment apart; the chart shows
        # the comparison's whole contribution.
        weight = float(row[f"mw_{name}"]) + float(row.get(f"mw_tf_adj_{name}") or 0.0)
        rows.append(
            {
                "comparison": name,
                "gamma": int(gamma),
                "label": level.get("label_for_charts", "") or "",
                "match_weight": weight,
                "bayes_factor": math.pow(2, weight),
            }
        )
    return rows


def _blocked_for(model: dict[str, Any], records: Sequence[PreparedRecord]) -> dict[str, Any]:
    """The model with the blocking rules for this many records (a model trained on a small
    population may score a national one). Rules choose pairs only; they never change a pair's
    score, so a pair scores the same under either set."""
    rules = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[],
        blocking_rules_to_generate_predictions=[*blocking_rules(len(records))],
    )
    wanted = rules.get_settings(DUCKDB).as_dict()["blocking_rules_to_generate_predictions"]
    return {**model, "blocking_rules_to_generate_predictions": wanted}


def _frequency_weighed(model: dict[str, Any]) -> list[str]:
    """The comparisons of `model` with a level weighed by term frequency (none in a model
    stored before names were)."""
    return [
        comparison["output_column_name"]
        for comparison in model["comparisons"]
        if any(level.get("tf_adjustment_column") for level in comparison["comparison_levels"])
    ]


def score(
    records: Sequence[PreparedRecord],
    model: dict[str, Any],
    threshold: float,
    *,
    engine: str = DUCKDB,
    spark_master: str | None = None,
) -> Result:
    """The pairs the blocking rules find, scored with `model`; those at or above `threshold`
    returned with each field's contribution. Records of the same person are not paired."""
    if len(records) < 2:
        return Result(model=model, candidate_pairs=0, pairs=[])
    db_api, close = _db_api(engine, spark_master)
    try:
        table = _records_table(db_api, records)
        linker = _linker(table, _for_engine(engine, _blocked_for(model, records)))
        names = [c["output_column_name"] for c in model["comparisons"]]
        wanted = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
        wanted += [f"gamma_{n}" for n in names] + [f"mw_{n}" for n in names]
        wanted += [f"mw_tf_adj_{n}" for n in _frequency_weighed(model)]
        if engine == DUCKDB:
            # Only the pairs at or above the threshold are kept: all of them, with every
            # compared value beside its level, are tens of gigabytes at a million records
            # (DuckDB here cannot spill to disk). The pairs scored are counted from the
            # blocked pairs, which `predict` then takes from splink's cache rather than
            # blocking again (counting by blocking again took 70 s of a run at a million).
            blocked = linker.inference.compute_blocked_pairs_for_predict()
            candidate_pairs = int(blocked.as_duckdbpyrelation().count("*").fetchall()[0][0])
            predictions = linker.inference.predict(
                threshold_match_probability=threshold, warning_mode="never"
            )
            above = predictions.as_duckdbpyrelation().select(*wanted).fetchall()
        else:
            from . import spark_engine

            predictions = linker.inference.predict(warning_mode="never")
            candidate_pairs, above = spark_engine.read_predictions(predictions, threshold, wanted)
        person = {record.unique_id: record.person_id for record in records}
        columns = wanted
        pairs = []
        for values in above:
            row = dict(zip(columns, values, strict=True))
            first, second = sorted((int(row["unique_id_l"]), int(row["unique_id_r"])))
            if person[first] == person[second]:
                continue
            pairs.append(
                ScoredPair(
                    first=first,
                    second=second,
                    match_weight=float(row["match_weight"]),
                    match_probability=float(row["match_probability"]),
                    comparisons=_waterfall(row, model),
                )
            )
        return Result(model=model, candidate_pairs=candidate_pairs, pairs=pairs)
    finally:
        close()


SPLINK_VERSION = splink.__version__


@functools.cache
def _name_missing_sql() -> dict[str, str]:
    """The SQL of each version of the name comparison's first level (`_name_missing_level`),
    as a stored model holds it."""
    return {
        missing: str(
            _name_missing_level(missing).get_comparison_level(DUCKDB).as_dict()["sql_condition"]
        )
        for missing in (NAME_MISSING_GIVEN, NAME_MISSING_EITHER)
    }


def name_missing(model: dict[str, Any]) -> str | None:
    """Which version of the name comparison's "no name to compare" level the stored model
    holds (`NAME_MISSING_GIVEN` or `NAME_MISSING_EITHER`); None if neither (a model from
    another version of the code, which the Python scorer refuses) or no name comparison."""
    for comparison in model.get("comparisons", []):
        if comparison.get("output_column_name") != "name":
            continue
        nulls = [
            level["sql_condition"]
            for level in comparison.get("comparison_levels", [])
            if level.get("is_null_level")
        ]
        for missing, sql in _name_missing_sql().items():
            if nulls == [sql]:
                return missing
    return None


@functools.cache
def _names_apart_null_sql() -> dict[str, str]:
    """The SQL of each name's first level (`_name_part`: not given, or the names crossed) as
    this version writes it, by comparison."""
    return {
        f"{part}_name": str(
            _name_part(part, "")
            .get_comparison(DUCKDB)
            .as_dict()["comparison_levels"][0]["sql_condition"]
        )
        for part in ("given", "family")
    }


def names_apart_known(model: dict[str, Any]) -> bool:
    """Whether the model's names compared apart (if it has them) take their first level as
    this version does. A model stored at stop 44 took a whole name in the given names box,
    against the same name in both, as the names crossed (`NAMES_CROSSED_SQL`); the Python
    scorer does not, so it refuses such a model rather than score otherwise."""
    current = _names_apart_null_sql()
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name")
        if name in current:
            first = comparison.get("comparison_levels", [{}])[0]
            if first.get("sql_condition") != current[name]:
                return False
    return True


def level_weights(model: dict[str, Any]) -> dict[str, Any]:
    """Each level's match weight as splink reads the model (defaults and unobserved levels
    included), with the prior's: what `scoring.score` adds up for one pair; and which version
    of the name comparison's first level the model holds (`name_missing`: the scorer follows
    it, and refuses a model whose level it does not know)."""
    read = SettingsCreator.from_path_or_dict(model).get_settings("duckdb")
    prior = read._probability_two_random_records_match
    return {
        "name_missing": name_missing(model),
        "names_apart_known": names_apart_known(model),
        "prior": math.log2(prior / (1 - prior)),
        "comparisons": {
            comparison.output_column_name: [
                {
                    "gamma": level.comparison_vector_value,
                    "label": level.label_for_charts,
                    "match_weight": float(level._match_weight),
                    **_frequency_adjustment(level, comparison.comparison_levels),
                }
                for level in comparison.comparison_levels
            ]
            for comparison in read.comparisons
        },
    }


def _frequency_adjustment(level: Any, levels: list[Any]) -> dict[str, Any]:
    """What `scoring` needs to weigh a level by a value's frequency as splink does: added to
    the level's weight, `weight * (log2(u of the exact match) - log2(max(frequency, least)))`,
    where the frequency is the value's share of the records (none known: no adjustment)."""
    if not level._has_tf_adjustments or level._tf_adjustment_weight == 0 or level._is_else_level:
        return {}
    return {
        "frequency_of": level._tf_adjustment_input_column_name,
        "frequency_weight": float(level._tf_adjustment_weight),
        "frequency_log2_u": math.log2(level._u_probability_corresponding_to_exact_match(levels)),
        "frequency_least": float(level._tf_minimum_u_value),
    }
