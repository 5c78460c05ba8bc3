"""Records made ready for linkage (linkage.prepare): pure, no database."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from opennrm.linkage import prepare
from opennrm.linkage.prepare import RawRecord


def raw(**values: object) -> RawRecord:
    defaults: dict[str, object] = {
        "record_id": 1,
        "person_id": 1,
        "given_names": "Ana",
        "family_name": "Testova",
        "date_of_birth": None,
        "age_at_referral": None,
        "age_is_estimated": False,
        "sex": "female",
    }
    return RawRecord(**(defaults | values))


@pytest.mark.parametrize(
    ("written", "latin"),
    [
        ("Юлия Иванова", "yuliya ivanova"),
        ("Алексей", "aleksey"),
        ("Nguyễn Thị Mai", "nguyen thi mai"),
        ("Nguyên Thi Mai", "nguyen thi mai"),
        ("Ştefan Ţurcanu", "stefan turcanu"),
        ("Ërjon Çela", "erjon cela"),
        ("محمد", "mhmd"),
        ("Jean-Luc O'Brien", "jean luc o brien"),
        ("  ZÓRICA   testova ", "zorica testova"),
    ],
)
def test_names_are_transliterated_to_latin_and_normalised(written: str, latin: str) -> None:
    assert prepare.normalise_name(written) == latin


def test_decomposed_and_precomposed_accents_give_one_name() -> None:
    assert prepare.normalise_name("Nguye\u0302\u0303n") == prepare.normalise_name("Nguyễn")


@pytest.mark.parametrize(
    "variants",
    [
        # Arabic names in their Latin variants, and in Arabic script.
        ["Mohammed", "Muhammad", "Mohamed", "Mohammad", "محمد"],
        ["Khalid", "Halid", "Khaled"],
        # Cyrillic and its transcriptions.
        ["Юлия", "Yuliya", "Yulia", "Julia", "Iulia"],
        ["Алексей", "Aleksey", "Alexei", "Aleksei"],
        # Vietnamese with and without diacritics, and a typo that keeps the sound.
        ["Nguyễn", "Nguyen", "Ngyuen"],
        ["Stefan", "Ştefan", "Stephan"],
        # Tigrinya in Ge'ez script and in Latin letters.
        ["ገብረመድህን", "Gebremedhin"],
    ],
)
def test_transliteration_variants_share_a_name_key(variants: list[str]) -> None:
    keys = {prepare.name_key(prepare.normalise_name(v)) for v in variants}
    assert len(keys) == 1, keys


def test_different_names_have_different_keys() -> None:
    names = ["Mohammed", "Maria", "Stefan", "Nguyen", "Tesfaye", "Elira", "Dritan"]
    keys = [prepare.name_key(prepare.normalise_name(n)) for n in names]
    assert len(set(keys)) == len(names)


def test_metaphone_codes_each_word() -> None:
    assert prepare.metaphone("mohammed") == prepare.metaphone("muhammad") == "MHMT"
    assert len(prepare.metaphone("thi mai").split()) == 2


@pytest.mark.parametrize(
    ("first", "second", "swapped"),
    [
        (date(1999, 3, 7), date(1999, 7, 3), True),
        (date(1999, 7, 3), date(1999, 3, 7), True),
        (date(1999, 3, 7), date(1999, 3, 7), False),  # the same date is no swap
        (date(1999, 5, 5), date(1999, 5, 5), False),
        (date(1999, 3, 7), date(1998, 7, 3), False),  # another year
        (date(1999, 3, 25), date(1999, 3, 25), False),
        (date(1999, 3, 7), None, False),
    ],
)
def test_day_month_swap_is_detected(first: date, second: date | None, swapped: bool) -> None:
    assert prepare.day_month_swapped(first, second) is swapped


def test_a_date_whose_day_is_over_twelve_cannot_be_swapped() -> None:
    assert prepare.swap_day_month(date(2001, 4, 25)) is None
    assert prepare.swap_day_month(date(2001, 4, 11)) == date(2001, 11, 4)


def test_a_prepared_record_splits_the_date_and_codes_the_names() -> None:
    record = prepare.prepare(
        raw(
            given_names="Юлия",
            family_name="Иванова",
            date_of_birth=date(2001, 4, 11),
            nationalities=["ua", "ru"],
            safe_contact="Call +44 7700 900123 after six",
            area=" Leeds ",
            first_contact=date(2026, 5, 1),
        )
    )
    assert record.given_name == "yuliya"
    assert record.family_name == "ivanova"
    assert record.name_tokens == "ivanova yuliya"
    assert record.given_key == "al"
    assert record.family_metaphone == "IFNF"
    assert (record.dob, record.dob_year, record.dob_month, record.dob_day) == (
        "2001-04-11",
        2001,
        4,
        11,
    )
    assert record.dob_estimated is False
    assert record.nationalities == ["RU", "UA"]
    assert record.phone == "700900123"
    assert record.area == "leeds"


def test_swapped_given_and_family_names_have_the_same_tokens() -> None:
    one = prepare.prepare(raw(given_names="Thi Mai", family_name="Nguyen"))
    other = prepare.prepare(raw(given_names="Nguyen", family_name="Thi Mai"))
    assert one.name_tokens == other.name_tokens
    assert one.given_name != other.given_name


def test_without_a_date_of_birth_the_year_is_estimated_from_the_age() -> None:
    record = prepare.prepare(
        raw(age_at_referral=30, age_is_estimated=False, first_contact=date(2026, 2, 1))
    )
    assert record.dob is None
    assert record.dob_year == 1996
    assert record.dob_estimated is True


def test_an_estimated_date_of_birth_is_flagged() -> None:
    record = prepare.prepare(raw(date_of_birth=date(1990, 1, 1), age_is_estimated=True))
    assert record.dob_estimated is True


def test_missing_and_meaningless_values_are_none() -> None:
    record = prepare.prepare(raw(family_name="", sex="unknown", safe_contact="Via the charity"))
    assert record.family_name is None
    assert record.family_key is None
    assert record.sex is None
    assert record.phone is None
    assert record.nationalities is None
    assert record.dob_year is None


def test_compared_values_change_with_any_compared_field_only() -> None:
    base = prepare.prepare(raw(area="Leeds", first_contact=date(2026, 1, 1)))
    same = prepare.prepare(raw(area="leeds", first_contact=date(2026, 3, 1), record_id=9))
    moved = prepare.prepare(raw(area="York"))
    assert prepare.compared_values(base) == prepare.compared_values(same)
    assert prepare.compared_values(base) != prepare.compared_values(moved)


def test_places_are_the_words_that_name_them_in_latin_letters() -> None:
    record = prepare.prepare(
        raw(places="A hand car wash on Mill Road, Northmoor; the flat above it (Нортмур)")
    )
    assert record.places == ["hand", "mill", "northmoor", "nortmur", "wash"]
    assert prepare.prepare(raw(places="a flat, the house")).places is None
    assert prepare.place_words("Car wash, MILL road") == ["mill", "wash"]


def test_the_first_contact_is_a_day_number() -> None:
    earlier = prepare.prepare(raw(first_contact=date(2026, 1, 31)))
    later = prepare.prepare(raw(first_contact=date(2026, 3, 2)))
    assert earlier.first_contact is not None
    assert later.first_contact is not None
    assert later.first_contact - earlier.first_contact == 30


def test_places_change_the_compared_values_only_when_there_are_some() -> None:
    without = prepare.prepare(raw(area="Leeds"))
    assert "places" not in prepare.compared_values(without)
    named = prepare.prepare(raw(area="Leeds", places="Car wash, Mill Road"))
    elsewhere = prepare.prepare(raw(area="Leeds", places="Nail bar, Station Road"))
    assert prepare.compared_values(named) != prepare.compared_values(without)
    assert prepare.compared_values(named) != prepare.compared_values(elsewhere)


def test_preparing_many_records_gives_what_preparing_each_alone_gives() -> None:
    from opennrm.linkage import synthetic

    records = synthetic.people(300, duplicates=60, seed=7, rare_names=20).records
    assert list(prepare.prepare_each(records)) == [prepare.prepare(r) for r in records]


def test_each_distinct_name_is_worked_out_once_in_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    worked_out: list[str] = []
    original = prepare.normalise_name

    def counting(text: str) -> str:
        worked_out.append(text)
        return original(text)

    monkeypatch.setattr(prepare, "normalise_name", counting)
    records = [raw(record_id=i, given_names="Ana", family_name="Testova") for i in range(50)]
    assert len(list(prepare.prepare_each(records))) == 50
    # (the places, empty here, are normalised record by record: they rarely repeat)
    assert [text for text in worked_out if text] == ["Ana", "Testova"]


def test_the_preparation_module_imports_nothing_of_django() -> None:
    source = Path(prepare.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "django" not in imported
    assert "opennrm" not in imported
