"""Records made ready for linkage: names in Latin letters, normalised and coded; dates of birth
split for the day/month-swap comparison; contact details reduced to what compares.

Pure: no Django, no database, no files. The worker (`linkage.services`) decrypts a person's
identity, hands the values to `prepare`, and passes the result to the engine in memory; nothing
here keeps or writes what it is given (ADR 0048).

Why each step:

1. Transliteration with `anyascii` (ADR 0048 says why that library): "Юлия", "Nguyễn" and
   "محمد" become "Yuliya", "Nguyen" and "mhmd", so names written in two scripts can be compared
   at all. Diacritics go with it ("Ştefan" and "Stefan" are one name).
2. Normalisation: lower case, letters only, hyphens and apostrophes as spaces, spaces collapsed.
3. Two phonetic codes per name. Metaphone (jellyfish) is the usual one, but it reads English
   spelling: "Yuliya" and "Julia", or "Nguyen" and "Ngyuen", get different codes. So a second,
   transliteration-tolerant key folds the letters that Latin transcriptions of one sound
   disagree on (j/y/i, w/v, c/k/q, ph/f, kh/h, z/s, x/ks...) and keeps the consonant skeleton:
   "Mohammed", "Muhammad", "Mohamed" and the Arabic "محمد" all give "mhmd".
4. Dates of birth as year, month and day, so the engine can compare a day/month swap
   (03/07 written for 07/03). When no date is known but an age is, the year of birth is
   estimated from the age at first contact and flagged, and compared within a year.
5. A phone number, if the safe-contact text holds one, as its last nine digits, which survive
   the usual prefixes (+44, 0044, 0).
6. The places of exploitation, free text ("a car wash on Mill Road, Northmoor"), as the set of
   their words that name something: transliterated, lower case, without the short words and
   the words every such account uses ("flat", "house", "street"), so that two accounts of the
   same places share words and two accounts of different places in one town share few.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

import jellyfish
from anyascii import anyascii

# Letters that Latin transcriptions of the same sound write differently, folded to one. Order
# matters: digraphs first, so "ph" becomes "f" before "h" is seen alone.
_DIGRAPHS = (
    ("sch", "s"),
    ("tch", "c"),
    ("ph", "f"),
    ("kh", "h"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "c"),
    ("zh", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ck", "k"),
    ("dj", "j"),
    ("ks", "x"),
)
_LETTERS = str.maketrans({"q": "k", "c": "k", "x": "k", "w": "v", "z": "s", "j": "i", "y": "i"})
_VOWELS = frozenset("aeiou")
_NOT_A_LETTER = re.compile(r"[^a-z ]+")
_SEPARATORS = re.compile(r"[-'`.,/_]+")
_DIGIT_RUNS = re.compile(r"\+?[\d][\d ()./-]{5,}\d")

# Sexes that say something; "unknown" and "other" compare as missing, so that two records with
# "Not known" are not taken as agreeing.
_SEXES = frozenset({"female", "male"})

PHONE_DIGITS = 9

# Words of a places-of-exploitation account that say what kind of place, not which: left out,
# with every word shorter than four letters, so that what is compared names the place.
_IGNORED_PLACE_TEXT = """
    about above address after again also area back behind bedroom before below between both
    building central centre city close country couple district each east flat flats floor from
    garden house houses into just know known large lane last local location multiple near next
    north number other over place places road room same second several shop side small some
    south street their them then there this town unit unknown village west where which with
    within avenue terrace parade crescent drive grove
"""
_PLACE_WORDS_IGNORED = frozenset(_IGNORED_PLACE_TEXT.split())


def transliterate(text: str) -> str:
    """`text` in Latin letters, without diacritics (ASCII)."""
    # NFC first: a decomposed "e" + combining accent and a precomposed "é" give one result.
    return anyascii(unicodedata.normalize("NFC", text))


def normalise_name(text: str) -> str:
    """A name as the engine compares it: Latin letters, lower case, single spaces."""
    latin = transliterate(text).lower()
    spaced = _SEPARATORS.sub(" ", latin)
    return " ".join(_NOT_A_LETTER.sub("", spaced).split())


def name_key(name: str) -> str:
    """The transliteration-tolerant consonant skeleton of a normalised name ("" for none):
    the first letter (vowels folded to one), then the consonants, repeated letters once,
    word by word."""
    words = []
    for word in name.split():
        folded = word
        for digraph, single in _DIGRAPHS:
            folded = folded.replace(digraph, single)
        folded = folded.translate(_LETTERS)
        first = "a" if folded[0] in _VOWELS else folded[0]
        rest = [c for c in folded[1:] if c not in _VOWELS]
        skeleton = first
        for c in rest:
            if c != skeleton[-1]:
                skeleton += c
        words.append(skeleton)
    return " ".join(words)


def metaphone(name: str) -> str:
    """Metaphone code of each word of a normalised name."""
    return " ".join(jellyfish.metaphone(word) for word in name.split())


def phone_digits(text: str) -> str | None:
    """The last nine digits of the first phone-like number in `text`, or None."""
    for match in _DIGIT_RUNS.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if len(digits) >= 7:
            return digits[-PHONE_DIGITS:]
    return None


def swap_day_month(value: date) -> date | None:
    """The date with its day and month exchanged, when that is another valid date."""
    if value.day == value.month or value.day > 12:
        return None
    return date(value.year, value.day, value.month)


def day_month_swapped(first: date | None, second: date | None) -> bool:
    """Whether one date is the other written day-first for month-first (or back)."""
    return first is not None and second is not None and swap_day_month(first) == second


@dataclass(frozen=True)
class RawRecord:
    """One referral's values as the worker has decrypted them: handed to `prepare` in memory,
    never stored."""

    record_id: int
    person_id: int
    given_names: str
    family_name: str
    date_of_birth: date | None
    age_at_referral: int | None
    age_is_estimated: bool
    sex: str
    nationalities: list[str] = field(default_factory=list)
    safe_contact: str = ""
    area: str = ""
    first_contact: date | None = None
    referring_organisation: str = ""
    places: str = ""


@dataclass(frozen=True)
class PreparedRecord:
    """One referral as the engine compares it. Column names are the engine's."""

    unique_id: int
    person_id: int
    given_name: str | None
    family_name: str | None
    # Both names, given first, as one value: what the "both names the same" level compares, so
    # that splink can weigh the agreement by how usual the name is (term frequency).
    full_name: str | None
    # Every name word of the record, sorted: equal for the same names in another order
    # (given and family swapped, or a Vietnamese name written family name first).
    name_tokens: str | None
    given_key: str | None
    family_key: str | None
    given_metaphone: str | None
    family_metaphone: str | None
    dob: str | None
    dob_year: int | None
    dob_month: int | None
    dob_day: int | None
    dob_estimated: bool
    sex: str | None
    nationalities: list[str] | None
    phone: str | None
    area: str | None
    # The day of first contact as a day number (`date.toordinal`), so that the engine compares
    # days apart with arithmetic alone.
    first_contact: int | None
    referring_organisation: str | None
    # The words naming the places of exploitation, sorted (step 6).
    places: list[str] | None


# Between the given and the family name in `full_name`: not a letter or a space, so that
# ("thi mai", "nguyen") and ("thi", "mai nguyen") are two values.
FULL_NAME_SEPARATOR = "|"


def _or_none(value: str) -> str | None:
    return value or None


def place_words(text: str) -> list[str]:
    """The words of a places-of-exploitation account that name a place (step 6), sorted."""
    words = normalise_name(text).split()
    return sorted({w for w in words if len(w) >= 4 and w not in _PLACE_WORDS_IGNORED})


@dataclass(frozen=True)
class _Name:
    """One name as typed, worked out: normalised (steps 1-2) and coded (step 3)."""

    normalised: str
    key: str
    metaphone: str


class _Names(dict[str, _Name]):
    """Each distinct name worked out once. Names repeat (a million referrals hold some tens of
    thousands of distinct ones), and working one out was two thirds of preparing a record."""

    def __missing__(self, text: str) -> _Name:
        normalised = normalise_name(text)
        name = self[text] = _Name(normalised, name_key(normalised), metaphone(normalised))
        return name


def prepare_each(records: Iterable[RawRecord]) -> Iterator[PreparedRecord]:
    """`prepare` for each of many records, in order, each distinct name worked out once. The
    names seen are kept only while this iterator lives: no decrypted name outlives the run
    that needed it."""
    names = _Names()
    for record in records:
        yield prepare(record, names)


def prepare(record: RawRecord, names: dict[str, _Name] | None = None) -> PreparedRecord:
    """The record as the engine compares it (see the module for the steps). `names`: the
    names worked out so far in this run (`prepare_each`)."""
    names = _Names() if names is None else names
    given_name, family_name = names[record.given_names], names[record.family_name]
    given, family = given_name.normalised, family_name.normalised
    tokens = " ".join(sorted(f"{given} {family}".split()))
    dob = record.date_of_birth
    if dob is not None:
        year: int | None = dob.year
        estimated = record.age_is_estimated
    elif record.age_at_referral is not None and record.first_contact is not None:
        year = record.first_contact.year - record.age_at_referral
        estimated = True
    else:
        year, estimated = None, False
    area = " ".join(transliterate(record.area).lower().split())
    return PreparedRecord(
        unique_id=record.record_id,
        person_id=record.person_id,
        given_name=_or_none(given),
        family_name=_or_none(family),
        full_name=f"{given}{FULL_NAME_SEPARATOR}{family}" if given and family else None,
        name_tokens=_or_none(tokens),
        given_key=_or_none(given_name.key),
        family_key=_or_none(family_name.key),
        given_metaphone=_or_none(given_name.metaphone),
        family_metaphone=_or_none(family_name.metaphone),
        dob=dob.isoformat() if dob else None,
        dob_year=year,
        dob_month=dob.month if dob else None,
        dob_day=dob.day if dob else None,
        dob_estimated=estimated,
        sex=record.sex if record.sex in _SEXES else None,
        nationalities=sorted({n.upper() for n in record.nationalities if n}) or None,
        phone=phone_digits(record.safe_contact),
        area=_or_none(area),
        first_contact=record.first_contact.toordinal() if record.first_contact else None,
        referring_organisation=_or_none(record.referring_organisation),
        places=place_words(record.places) or None,
    )


# The values whose change makes a rejected pair worth proposing again: everything the engine
# compares that can change. (A referral's first-contact date and referring organisation are
# fixed when it is submitted.) The places come last and only when there are some, so that the
# fingerprints of records stored before they were compared stay as they were.
COMPARED = (
    "given_name",
    "family_name",
    "dob",
    "dob_year",
    "dob_estimated",
    "sex",
    "nationalities",
    "phone",
    "area",
)


def compared_values(record: PreparedRecord) -> str:
    """The compared values of a record in one canonical string, for a keyed fingerprint (the
    caller digests it; the string itself is never stored)."""
    parts = []
    for name in COMPARED:
        value = getattr(record, name)
        if isinstance(value, list):
            value = ",".join(value)
        parts.append(f"{name}={'' if value is None else value}")
    if record.places:
        parts.append(f"places={','.join(record.places)}")
    return "\x1f".join(parts)


# The keys stored for each record: a prefix and the fields joined, one per blocking rule of the
# engine (`engine.BLOCKING_RULES` and `engine.NATIONAL_BLOCKING_RULES`; names crossed aside),
# apart from the rules for a misspelt name, which keep pairs whose keys are near, not equal
# (`engine.MISSPELT_NAME_RULES`, ADR 0059).
_KEYS = (
    ("fy", ("family_key", "dob_year")),
    ("gy", ("given_key", "dob_year")),
    ("gf", ("given_key", "family_key")),
    ("gfy", ("given_key", "family_key", "dob_year")),
    ("fmd", ("family_key", "dob_month", "dob_day")),
    ("gmd", ("given_key", "dob_month", "dob_day")),
    ("d", ("dob",)),
    ("p", ("phone",)),
)
_BOTH_NAMES_AND_YEAR = ("given_key", "family_key", "dob_year")
# Looked up as well, for the rules that cross the names: a stored key's prefix, filled with
# this record's fields in the crossed order (its given name key where the family's was).
_CROSSED = (
    ("fy", ("given_key", "dob_year")),
    ("gy", ("family_key", "dob_year")),
    ("gf", ("family_key", "given_key")),
    ("gfy", ("family_key", "given_key", "dob_year")),
    ("fmd", ("given_key", "dob_month", "dob_day")),
)


def _key(record: PreparedRecord, prefix: str, fields: tuple[str, ...]) -> str | None:
    values = [getattr(record, name) for name in fields]
    if any(value is None or value == "" for value in values):
        return None
    return f"{prefix}:" + "|".join(str(value) for value in values)


def _a_year_or_two_apart(record: PreparedRecord) -> set[str]:
    """The values to look up for the national rules that pair the same names (or the same
    crossed) a year or two of birth apart when either year is estimated from an age: an
    estimated record looks for every record's both-names-and-year key a year or two either
    side; a record with a date of birth, for the estimated records' own key ("gfe", stored only
    for them)."""
    if record.dob_year is None or not (record.given_key and record.family_key):
        return set()
    prefix = "gfy" if record.dob_estimated else "gfe"
    names = ((record.given_key, record.family_key), (record.family_key, record.given_key))
    years = [record.dob_year + apart for apart in (-2, -1, 1, 2)]
    return {f"{prefix}:{given}|{family}|{year}" for given, family in names for year in years}


def blocking_values(record: PreparedRecord, *, crossed: bool = False) -> set[str]:
    """The values the engine's blocking rules join on, as strings to digest: a record is
    compared with the earlier ones sharing any of them, those sharing the most first. `crossed`
    adds the name keys swapped and the years either side, for looking up (stored keys are
    never crossed, so a swapped pair is found from either side)."""
    wanted = _KEYS + (_CROSSED if crossed else ())
    values = {key for prefix, fields in wanted if (key := _key(record, prefix, fields))}
    if record.dob_estimated and (estimated := _key(record, "gfe", _BOTH_NAMES_AND_YEAR)):
        values.add(estimated)
    return values | (_a_year_or_two_apart(record) if crossed else set())


# The columns weighed by how usual their value is, each with the prefix of its stored count value:
# `engine._name_part`'s levels (and `full_name`, a model stored before 2026-12-06's), and each
# word of the places (`engine._place_words`: whether few accounts name it).
COUNTED_COLUMNS = {
    "given_name": "ng",
    "family_name": "nf",
    "given_key": "kg",
    "family_key": "kf",
    "full_name": "n",
    "places": "pw",
}


def count_value(column: str, value: str) -> str:
    """The value stored beside the blocking keys whose count says how usual `value` of
    `column` is: the check at submission weighs an agreement by it, as the engine does by the
    value's share of the records it scores. Never looked up to find candidates."""
    return f"{COUNTED_COLUMNS[column]}:{value}"


def count_values(record: PreparedRecord) -> set[str]:
    values = {
        count_value(column, value)
        for column in COUNTED_COLUMNS
        if column != "places" and (value := getattr(record, column))
    }
    return values | {count_value("places", word) for word in record.places or ()}


def stored_values(record: PreparedRecord) -> set[str]:
    """Every value stored for a record, as keyed digests: its blocking keys and the values
    whose counts say how usual its names are."""
    return blocking_values(record) | count_values(record)
