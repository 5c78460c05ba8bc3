"""One pair scored in Python with a stored model, without the engine: for the check at
submission, where a new referral meets the few earlier ones its blocking keys find, and starting
DuckDB and splink's SQL pipeline would cost more than the whole budget.

`levels` mirrors the comparisons of `engine.settings()` level for level, in the same order and
with the same functions (jellyfish's Jaro-Winkler and Damerau-Levenshtein give DuckDB's values);
`tests/test_linkage_scoring.py` checks that both give the same levels and weights on every pair
the engine scores. Each level's weight comes from splink's own reading of the model
(`level_weights`), so defaults and unobserved levels are treated as splink treats them.

Pure: no Django, no database, no engine.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection
from typing import Any

import jellyfish

from .prepare import PreparedRecord


def _eq(a: object, b: object) -> bool:
    """SQL equality: a missing value equals nothing."""
    return a is not None and b is not None and a == b


def _jw(a: str | None, b: str | None, threshold: float) -> bool:
    return a is not None and b is not None and jellyfish.jaro_winkler_similarity(a, b) >= threshold


# Which names missing make the name comparison's first level, "no name to compare": as
# `engine.NAME_MISSING_GIVEN` and `engine.NAME_MISSING_EITHER` (a model's own, told by
# `engine.level_weights`). The given name (the form's "Given names, or the name they use";
# the family name is optional), or, in models stored before 2026-12-05, either name.
NAME_MISSING_GIVEN = "given"
NAME_MISSING_EITHER = "either"
NAME_MISSING = (NAME_MISSING_GIVEN, NAME_MISSING_EITHER)


# How far apart two keys of a misspelt name may be for the national rules to pair them
# (`engine.MISSPELT_NAME_RULES`, `paired_as_misspelt`).
NAME_KEY_EDITS = 2


def paired_as_misspelt(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Whether one of the national rules for a misspelt name pairs these records
    (`engine.MISSPELT_NAME_RULES`, in Python for the benchmark's blocking ceiling and the
    tests; no stored key finds such a pair): one name's key the same and the other's near, in
    the same year or a year apart with an age estimated; one key the same and the day and month
    swapped; one key crossed and the other crossed near, in the same year or a year apart with
    an age estimated."""

    def near(x: str | None, y: str | None) -> bool:
        if not x or not y:
            return False
        return jellyfish.levenshtein_distance(x, y) <= NAME_KEY_EDITS

    if a.dob_year is None or b.dob_year is None:
        return False
    apart = abs(a.dob_year - b.dob_year)
    estimated = a.dob_estimated or b.dob_estimated
    swapped = (
        apart == 0
        and a.dob_day is not None
        and (a.dob_month, a.dob_day) == (b.dob_day, b.dob_month)
    )
    for same, close in (("given_key", "family_key"), ("family_key", "given_key")):
        if not getattr(a, same) or getattr(a, same) != getattr(b, same):
            continue
        if swapped or (apart <= 1 and estimated and near(getattr(a, close), getattr(b, close))):
            return True
    return (apart == 0 or (apart == 1 and estimated)) and (
        (bool(a.given_key) and a.given_key == b.family_key and near(a.family_key, b.given_key))
        or (bool(a.family_key) and a.family_key == b.given_key and near(a.given_key, b.family_key))
    )


class UnknownLevels(ValueError):
    """A model whose levels this scorer does not know: it would score it otherwise than the
    engine does, so it refuses."""


def _name(a: PreparedRecord, b: PreparedRecord, missing: str = NAME_MISSING_GIVEN) -> int:
    needed = [a.given_name, b.given_name]
    if missing == NAME_MISSING_EITHER:
        needed += [a.family_name, b.family_name]
    if None in needed:
        return 0
    if _eq(a.given_name, b.given_name) and _eq(a.family_name, b.family_name):
        return 1
    if (
        _eq(a.name_tokens, b.name_tokens)
        or (_eq(a.given_key, b.family_key) and _eq(a.family_key, b.given_key))
        or (_jw(a.given_name, b.family_name, 0.92) and _jw(a.family_name, b.given_name, 0.92))
    ):
        return 2
    if _jw(a.given_name, b.given_name, 0.92) and _jw(a.family_name, b.family_name, 0.92):
        return 3
    given_sounds = _eq(a.given_key, b.given_key) or _eq(a.given_metaphone, b.given_metaphone)
    family_sounds = _eq(a.family_key, b.family_key) or _eq(a.family_metaphone, b.family_metaphone)
    if given_sounds and family_sounds:
        return 4
    if _jw(a.given_name, b.given_name, 0.8) and _jw(a.family_name, b.family_name, 0.8):
        return 5
    if _jw(a.family_name, b.family_name, 0.92) or _eq(a.family_key, b.family_key):
        return 6
    if _jw(a.given_name, b.given_name, 0.92) or _eq(a.given_key, b.given_key):
        return 7
    return 8


def _all_names_given(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Both names given on both sides: the names can be crossed only then."""
    return None not in (a.given_name, a.family_name, b.given_name, b.family_name)


def _names_crossed(a: PreparedRecord, b: PreparedRecord) -> int:
    """`engine._names_crossed`, by `engine.NAMES_CROSSED_SQL`: not compared unless both names
    are given on both sides (0); the names swapped or in another order, not the same both ways
    (1); else (2)."""
    if not _all_names_given(a, b):
        return 0
    crossed = (
        _eq(a.name_tokens, b.name_tokens)
        or (_eq(a.given_key, b.family_key) and _eq(a.family_key, b.given_key))
        or (_jw(a.given_name, b.family_name, 0.92) and _jw(a.family_name, b.given_name, 0.92))
    )
    same = a.given_name == b.given_name and a.family_name == b.family_name
    return 1 if crossed and not same else 2


def _swapped_one_misspelt(a: PreparedRecord, b: PreparedRecord) -> bool:
    """`engine.SWAPPED_ONE_MISSPELT_SQL`."""
    if not _all_names_given(a, b):
        return False
    if (
        a.given_name == b.given_name
        or a.family_name == b.family_name
        or _eq(a.given_key, b.given_key)
        or _eq(a.family_key, b.family_key)
    ):
        return False
    given_crossed = a.given_name == b.family_name or _eq(a.given_key, b.family_key)
    family_crossed = a.family_name == b.given_name or _eq(a.family_key, b.given_key)
    return (given_crossed and _jw(a.family_name, b.given_name, 0.8)) or (
        family_crossed and _jw(a.given_name, b.family_name, 0.8)
    )


def _names_swapped(
    a: PreparedRecord, b: PreparedRecord, *, crossed: bool, misspelt_swap: bool
) -> int:
    """`engine._names_swapped`: not compared when a name is missing or the names are crossed
    (0); swapped with one misspelt (1); else (2)."""
    if crossed or not _all_names_given(a, b):
        return 0
    return 1 if misspelt_swap else 2


def _name_or_swapped(
    a: PreparedRecord, b: PreparedRecord, part: str, *, crossed: bool, misspelt_swap: bool
) -> int:
    """`engine._name_or_swapped`: `_name_part` with the names crossed a level of its own (1),
    and a swap with one name misspelt not compared (0)."""
    name_a, name_b = getattr(a, f"{part}_name"), getattr(b, f"{part}_name")
    if name_a is None or name_b is None or (misspelt_swap and not crossed):
        return 0
    if crossed:
        return 1
    return 1 + _name_part(a, b, part, crossed=False)


def _name_part(a: PreparedRecord, b: PreparedRecord, part: str, crossed: bool) -> int:
    """`engine._name_part`: one name (`part` "given" or "family") compared alone (not when the
    names are crossed)."""
    name_a, name_b = getattr(a, f"{part}_name"), getattr(b, f"{part}_name")
    if name_a is None or name_b is None or crossed:
        return 0
    if name_a == name_b:
        return 1
    key, sound = f"{part}_key", f"{part}_metaphone"
    if _eq(getattr(a, key), getattr(b, key)) or _eq(getattr(a, sound), getattr(b, sound)):
        return 2
    if _jw(name_a, name_b, 0.92):
        return 3
    if _jw(name_a, name_b, 0.8):
        return 4
    return 5


def _dob(
    a: PreparedRecord, b: PreparedRecord, *, both_estimated_apart: bool, two_years: bool
) -> int:
    """`engine._date_of_birth`; without `two_years` (no level for two years apart), as a model
    stored at stop 45 compares them ("date_of_birth"); without `both_estimated_apart` either
    (no level for two estimated years), as a model stored before stop 45 does ("dob")."""
    if a.dob_year is None or b.dob_year is None:
        return 0
    if _eq(a.dob, b.dob):
        return 1
    if a.dob_year == b.dob_year and _eq(a.dob_day, b.dob_month) and _eq(a.dob_month, b.dob_day):
        return 2
    if (
        a.dob is not None
        and b.dob is not None
        and jellyfish.damerau_levenshtein_distance(a.dob, b.dob) <= 1
    ):
        return 3
    within_a_year = abs(a.dob_year - b.dob_year) <= 1
    # The levels from the fourth on, in order: the first that holds is reached, else the last.
    later = [within_a_year and a.dob_estimated and b.dob_estimated] if both_estimated_apart else []
    later += [within_a_year and (a.dob_estimated or b.dob_estimated)]
    if two_years:
        later += [abs(a.dob_year - b.dob_year) <= 2 and (a.dob_estimated or b.dob_estimated)]
    later += [a.dob_year == b.dob_year]
    return 4 + next((n for n, holds in enumerate(later) if holds), len(later))


def _same(a: object, b: object) -> int:
    if a is None or b is None:
        return 0
    return 1 if a == b else 2


def _a_name_in_common(a: PreparedRecord, b: PreparedRecord) -> bool:
    """`engine.A_NAME_IN_COMMON_SQL`."""
    return (
        _eq(a.given_key, b.given_key)
        or _eq(a.given_metaphone, b.given_metaphone)
        or _eq(a.family_key, b.family_key)
        or _eq(a.family_metaphone, b.family_metaphone)
        or _eq(a.given_key, b.family_key)
        or _eq(a.family_key, b.given_key)
    )


def _nationalities(a: list[str] | None, b: list[str] | None, *, compared: bool) -> int:
    """`engine._nationality` (compared when the pair has no name in common) and
    `engine._nationality_of_namesakes` (when it has one): not compared (0); one in common (1);
    else (2)."""
    if a is None or b is None or not compared:
        return 0
    return 1 if set(a) & set(b) else 2


# A value's share of the records (its term frequency), or None when not known.
Frequency = Callable[[str, str], float | None]


def no_frequencies(column: str, value: str) -> float | None:
    return None


# A place word fewer than this share of the records name is weighed apart from the usual ones
# (`engine._place_words`, ADR 0062): at a million synthetic referrals each street is named by
# about one account in 300, each town by one in ten, each kind of place by one in 15.
RARE_PLACE_WORD_SHARE = 0.02


def _named_by_few(word: str, frequency: Frequency) -> bool:
    """Whether fewer than `RARE_PLACE_WORD_SHARE` of the records name `word`
    (`engine.rare_places`), by `frequency` (a word's share of the records naming it; not
    known: not few)."""
    share = frequency("places", word)
    return share is not None and share < RARE_PLACE_WORD_SHARE


def _place_words(a: PreparedRecord, b: PreparedRecord, frequency: Frequency) -> int:
    """`engine._place_words`. Each word in common is looked up until one is named by few."""
    if a.places is None or b.places is None:
        return 0
    common = set(a.places) & set(b.places)
    if any(_named_by_few(word, frequency) for word in sorted(common)):
        return 1 if len(common) >= 2 else 2
    return 3 if len(common) >= 2 else 4 if common else 5


def _places(a: list[str] | None, b: list[str] | None) -> int:
    """The places as a model stored before 2026-12-06 (stop 45) compares them."""
    if a is None or b is None:
        return 0
    common = len(set(a) & set(b))
    return 1 if common >= 2 else 2 if common == 1 else 3


# The first contacts' levels (`engine._first_contact_apart`): at most so many days apart.
FIRST_CONTACT_WITHIN = ((30, "Within 30 days"), (60, "Within 60 days"), (365, "Within a year"))


def _first_contact_apart(a: int | None, b: int | None, within: tuple[int, ...]) -> int:
    if a is None or b is None:
        return 0
    apart = abs(a - b)
    return next(
        (level for level, days in enumerate(within, start=1) if apart <= days), len(within) + 1
    )


def levels(
    a: PreparedRecord,
    b: PreparedRecord,
    *,
    name_missing: str | None = None,
    frequency: Frequency | None = None,
    compared: Collection[str] | None = None,
) -> dict[str, int]:
    """The position, in each comparison's list of levels, of the level the pair reaches; of
    the comparisons in `compared` only, if given (a model's: the place words' counts are then
    looked up only for a model that weighs them).
    With `name_missing` (a model stored before 2026-12-06, whose names are one comparison,
    "name": which version of its first level the model holds), that comparison's level too,
    and the nationalities compared as that model does, whatever the names. `frequency` tells
    the place words few records name (none known: none is). The dates of birth, the places and
    the first contacts are also compared as models stored before stop 45 do ("dob", "places",
    "first_contact"), and the names and dates of birth as models stored at stop 45 do
    ("given_name", "family_name", "names_crossed", "date_of_birth")."""
    frequency = frequency or no_frequencies
    names_crossed = _names_crossed(a, b)
    crossed = names_crossed == 1
    # Only the comparisons of models since stop 46 ask (`given`, `family`, `names_swapped`).
    misspelt_swap = functools.cache(lambda: _swapped_one_misspelt(a, b))
    a_name_in_common = functools.cache(lambda: _a_name_in_common(a, b))
    days = tuple(days for days, _ in FIRST_CONTACT_WITHIN)
    reach: dict[str, Callable[[], int]] = {
        "given": lambda: _name_or_swapped(
            a, b, "given", crossed=crossed, misspelt_swap=misspelt_swap()
        ),
        "family": lambda: _name_or_swapped(
            a, b, "family", crossed=crossed, misspelt_swap=misspelt_swap()
        ),
        "names_swapped": lambda: _names_swapped(
            a, b, crossed=crossed, misspelt_swap=misspelt_swap()
        ),
        "given_name": lambda: _name_part(a, b, "given", crossed),
        "family_name": lambda: _name_part(a, b, "family", crossed),
        "names_crossed": lambda: names_crossed,
        "birth": lambda: _dob(a, b, both_estimated_apart=True, two_years=True),
        "date_of_birth": lambda: _dob(a, b, both_estimated_apart=True, two_years=False),
        "dob": lambda: _dob(a, b, both_estimated_apart=False, two_years=False),
        "sex": lambda: _same(a.sex, b.sex),
        # A model stored before 2026-12-06 (`name_missing` given) compares them whatever the
        # names.
        "nationalities": lambda: _nationalities(
            a.nationalities,
            b.nationalities,
            compared=name_missing is not None or not a_name_in_common(),
        ),
        "nationality_of_namesakes": lambda: _nationalities(
            a.nationalities, b.nationalities, compared=a_name_in_common()
        ),
        "phone": lambda: _same(a.phone, b.phone),
        "area": lambda: _same(a.area, b.area),
        "place_words": lambda: _place_words(a, b, frequency),
        "places": lambda: _places(a.places, b.places),
        "first_contact_apart": lambda: _first_contact_apart(a.first_contact, b.first_contact, days),
        "first_contact": lambda: _first_contact_apart(a.first_contact, b.first_contact, (30, 365)),
        "referring_organisation": lambda: _same(a.referring_organisation, b.referring_organisation),
    }
    if name_missing is not None:
        reach["name"] = lambda: _name(a, b, name_missing)
    return {name: level() for name, level in reach.items() if compared is None or name in compared}


def _frequency_adjustment(
    level: dict[str, Any], a: PreparedRecord, b: PreparedRecord, frequency: Frequency
) -> float:
    """splink's term-frequency adjustment of a level (`engine.level_weights` says which levels
    have one): the rarer the shared value, the more the agreement weighs."""
    column = level.get("frequency_of")
    if column is None:
        return 0.0
    shares = [
        share
        for value in (getattr(a, column), getattr(b, column))
        if value is not None and (share := frequency(column, value)) is not None
    ]
    if not shares:
        return 0.0
    share = max(*shares, level["frequency_least"])
    return float(level["frequency_weight"] * (level["frequency_log2_u"] - math.log2(share)))


def score(
    weights: dict[str, Any],
    a: PreparedRecord,
    b: PreparedRecord,
    frequency: Frequency = no_frequencies,
) -> tuple[float, float, list[dict[str, Any]]]:
    """Match weight, match probability and the waterfall rows of one pair, from the model's
    `level_weights` (`engine.level_weights`); `frequency` gives a value's share of the records
    for the levels weighed by it (the engine counts them over the records it scores). The name
    comparison's first level is the model's own version (`name_missing`); a model holding one
    this scorer does not know is refused (`UnknownLevels`), never scored otherwise than the
    engine would (ADR 0054); so is a model with a comparison this scorer does not know. A model
    stored before a comparison existed scores without it, as the engine does."""
    missing = weights.get("name_missing")
    if "name" in weights["comparisons"] and missing not in NAME_MISSING:
        raise UnknownLevels(
            "The stored linkage model's name comparison has a first level this scorer does not "
            "know; train a new model (link_records --retrain)."
        )
    if not weights.get("names_apart_known", True):
        raise UnknownLevels(
            "The stored linkage model takes a name written whole in the given names box as the "
            "names crossed, which this scorer does not; train a new model "
            "(link_records --retrain)."
        )
    reached = levels(
        a,
        b,
        name_missing=missing if "name" in weights["comparisons"] else None,
        frequency=frequency,
        compared=weights["comparisons"],
    )
    unknown = set(weights["comparisons"]) - set(reached)
    if unknown:
        raise UnknownLevels(
            f"The stored linkage model compares {', '.join(sorted(unknown))}, which this scorer "
            "does not know; train a new model (link_records --retrain)."
        )
    total = weights["prior"]
    rows = []
    # In the model's order, as the engine's waterfall.
    for name, compared in weights["comparisons"].items():
        level = compared[reached[name]]
        weight = level["match_weight"] + _frequency_adjustment(level, a, b, frequency)
        total += weight
        rows.append(
            {
                "comparison": name,
                "gamma": level["gamma"],
                "label": level["label"],
                "match_weight": weight,
                "bayes_factor": math.pow(2, weight),
            }
        )
    probability = 1 / (1 + math.pow(2, -total)) if total > -1000 else 0.0
    return total, probability, rows
