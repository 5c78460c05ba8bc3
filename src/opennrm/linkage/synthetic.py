"""Fictional people referred more than once, with the variations real duplicates show: names
in another transliteration or script, with or without diacritics, a typo, given and family
name swapped, a date of birth written day-first for month-first or only an estimated age, and
another referring organisation. For tests and benchmarks of linkage; every name is a common
one of its language, and no person is real.

Pure: no Django. `people(n, duplicates, seed)` gives the records and the truth (which records
are one person) together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from .prepare import RawRecord

# Each group: (nationalities, given name variants, family name variants, sexes of the given
# names). A name is a list of its written forms: the first is the usual one, the others are the
# same name in another transliteration or script.
_GROUPS: list[tuple[list[str], list[tuple[list[str], str]], list[list[str]]]] = [
    (
        ["AL"],
        [
            (["Erjon", "Erjoni", "Ërjon"], "male"),
            (["Dritan", "Dritani"], "male"),
            (["Elira", "Elyra"], "female"),
            (["Arben", "Arbeni"], "male"),
            (["Blerina", "Blerine"], "female"),
            (["Xhemal", "Dzhemal"], "male"),
            (["Valbona", "Valbone"], "female"),
            (["Gjergj", "Gjergji"], "male"),
        ],
        [
            ["Hoxha", "Hoxhaj", "Hodja"],
            ["Çela", "Cela"],
            ["Krasniqi", "Krasniqe"],
            ["Berisha", "Berishe"],
            ["Gashi", "Gashe"],
            ["Shehu", "Sheu"],
            ["Leka", "Lekaj"],
            ["Muça", "Muca"],
        ],
    ),
    (
        ["VN"],
        [
            (["Thị Mai", "Thi Mai"], "female"),
            (["Văn Minh", "Van Minh"], "male"),
            (["Thị Lan", "Thi Lan"], "female"),
            (["Văn Hùng", "Van Hung"], "male"),
            (["Đức Anh", "Duc Anh"], "male"),
            (["Thị Hương", "Thi Huong"], "female"),
            (["Quang Huy", "Quang Huy"], "male"),
            (["Ngọc Ánh", "Ngoc Anh"], "female"),
        ],
        [
            ["Nguyễn", "Nguyen"],
            ["Trần", "Tran"],
            ["Lê", "Le"],
            ["Phạm", "Pham"],
            ["Hoàng", "Hoang", "Huynh"],
            ["Vũ", "Vu", "Vo"],
            ["Đặng", "Dang"],
            ["Bùi", "Bui"],
        ],
    ),
    (
        ["RO"],
        [
            (["Ştefan", "Stefan", "Ștefan"], "male"),
            (["Ioana", "Joana"], "female"),
            (["Mihai", "Mihail"], "male"),
            (["Andreea", "Andrea"], "female"),
            (["Gheorghe", "Georghe"], "male"),
            (["Elena", "Helena"], "female"),
        ],
        [
            ["Popescu", "Popesku"],
            ["Ionescu", "Ionesku"],
            ["Ţurcanu", "Turcanu", "Țurcanu"],
            ["Dumitru", "Dumitriu"],
            ["Munteanu", "Muntean"],
            ["Rădulescu", "Radulescu"],
        ],
    ),
    (
        ["SD", "SY", "IQ"],
        [
            (["Mohammed", "Muhammad", "Mohamed", "محمد"], "male"),
            (["Ahmed", "Ahmad", "أحمد"], "male"),
            (["Khalid", "Khaled", "Halid"], "male"),
            (["Fatima", "Fatma", "فاطمة"], "female"),
            (["Yusuf", "Youssef", "Yousef"], "male"),
            (["Amal", "Amaal"], "female"),
            (["Omar", "Umar", "عمر"], "male"),
            (["Aisha", "Aicha", "Ayesha"], "female"),
        ],
        [
            ["Al-Hassan", "Alhassan", "El Hassan"],
            ["Ibrahim", "Ebrahim", "إبراهيم"],
            ["Abdullah", "Abdallah", "Abdulla"],
            ["Osman", "Othman", "Uthman"],
            ["Mahmoud", "Mahmud", "Mahmood"],
            ["Suleiman", "Sulaiman", "Sleiman"],
            ["Haddad", "Hadad"],
            ["Mustafa", "Mostafa", "Moustafa"],
        ],
    ),
    (
        ["ER"],
        [
            (["Tesfaye", "Tesfay", "ተስፋይ"], "male"),
            (["Semhar", "Semhar", "ሰምሃር"], "female"),
            (["Yonas", "Yonass", "ዮናስ"], "male"),
            (["Mebrahtu", "Mebrahtom"], "male"),
            (["Selam", "Salam", "ሰላም"], "female"),
            (["Filmon", "Philimon", "Filimon"], "male"),
        ],
        [
            ["Gebremedhin", "Gebremedhn", "ገብረመድህን"],
            ["Haile", "Hayle", "Hailu"],
            ["Tekle", "Teklay", "ተኽለ"],
            ["Berhane", "Berhe", "Birhane"],
            ["Kidane", "Kidan"],
            ["Woldu", "Weldu", "Wolde"],
        ],
    ),
    (
        ["UA", "RU"],
        [
            (["Юлия", "Yuliya", "Yulia", "Julia"], "female"),
            (["Алексей", "Aleksey", "Alexei", "Aleksei"], "male"),
            (["Олена", "Olena", "Elena", "Alena"], "female"),
            (["Дмитро", "Dmytro", "Dmitri", "Dmitry"], "male"),
            (["Наталія", "Nataliya", "Natalia"], "female"),
            (["Сергій", "Serhiy", "Sergei", "Sergey"], "male"),
        ],
        [
            ["Іванова", "Ivanova"],
            ["Ковальчук", "Kovalchuk", "Kowalczuk"],
            ["Шевченко", "Shevchenko", "Sevchenko"],
            ["Бондаренко", "Bondarenko"],
            ["Ткаченко", "Tkachenko", "Tkacenko"],
            ["Мельник", "Melnyk", "Melnik"],
        ],
    ),
    (
        ["GB"],
        [
            (["Jack"], "male"),
            (["Emily", "Emilie"], "female"),
            (["Liam"], "male"),
            (["Sophie", "Sofie"], "female"),
            (["Callum", "Calum"], "male"),
            (["Chloe", "Chloé"], "female"),
        ],
        [
            ["Smith", "Smyth"],
            ["Jones"],
            ["Taylor", "Tailor"],
            ["Brown"],
            ["Walker"],
            ["Wright"],
        ],
    ),
]

AREAS = ["Leeds", "Bradford", "Manchester", "Birmingham", "Glasgow", "Belfast", "Kent", "Hull"]
ORGANISATIONS = ["police-west", "police-north", "charity-harbour", "charity-bridge", "la-leeds"]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Truth:
    """Which records are one person: the record ids of each person with more than one."""

    records: list[RawRecord]
    same_person: list[tuple[int, int]]


def _typo(rng: random.Random, name: str) -> str:
    """One keyboard-style error: a letter changed, dropped, doubled or two exchanged."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + rng.choice(_LETTERS) + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def _phone(rng: random.Random) -> str:
    number = f"7700 9{rng.randrange(10**5):05d}"
    return rng.choice([f"Call +44 {number}", f"Mobile 0{number}", f"0044 {number} after 6pm"])


def _vary(rng: random.Random, record: RawRecord, record_id: int, names: tuple) -> RawRecord:
    """A second referral of the same person, by another organisation, with variations."""
    given_forms, family_forms = names
    given = rng.choice(given_forms)
    family = rng.choice(family_forms)
    if rng.random() < 0.25:
        given = _typo(rng, given)
    elif rng.random() < 0.25:
        family = _typo(rng, family)
    if rng.random() < 0.15:
        given, family = family, given
    dob = record.date_of_birth
    age, estimated = record.age_at_referral, record.age_is_estimated
    roll = rng.random()
    if dob is not None and roll < 0.2 and dob.day <= 12 and dob.day != dob.month:
        dob = date(dob.year, dob.day, dob.month)
    elif dob is not None and roll < 0.35:
        dob, estimated = None, True
        age = (age or 0) + rng.choice([-1, 0, 0, 1])
    first_contact = (record.first_contact or date(2026, 1, 1)) + timedelta(
        days=rng.randrange(5, 700)
    )
    return replace(
        record,
        record_id=record_id,
        person_id=record_id,
        given_names=given,
        family_name=family,
        date_of_birth=dob,
        age_at_referral=age,
        age_is_estimated=estimated,
        sex=record.sex if rng.random() < 0.95 else "unknown",
        safe_contact=record.safe_contact if rng.random() < 0.6 else "",
        area=record.area if rng.random() < 0.7 else rng.choice(AREAS),
        first_contact=first_contact,
        referring_organisation=rng.choice(
            [o for o in ORGANISATIONS if o != record.referring_organisation]
        ),
    )


def people(n: int, *, duplicates: int, seed: int = 20) -> Truth:
    """`n` people, `duplicates` of whom are referred twice; record ids from 1."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
    records: list[RawRecord] = []
    names_of: dict[int, tuple] = {}
    for record_id in range(1, n + 1):
        nationalities, given_names, family_names = rng.choice(_GROUPS)
        given_forms, sex = rng.choice(given_names)
        family_forms = rng.choice(family_names)
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 48))
        first_contact = date(2024, 1, 1) + timedelta(days=rng.randrange(700))
        age = first_contact.year - born.year
        known = rng.random() < 0.85
        records.append(
            RawRecord(
                record_id=record_id,
                person_id=record_id,
                given_names=given_forms[0],
                family_name=family_forms[0],
                date_of_birth=born if known else None,
                age_at_referral=age,
                age_is_estimated=not known,
                sex=sex,
                nationalities=[rng.choice(nationalities)],
                safe_contact=_phone(rng) if rng.random() < 0.3 else "",
                area=rng.choice(AREAS),
                first_contact=first_contact,
                referring_organisation=rng.choice(ORGANISATIONS),
            )
        )
        names_of[record_id] = (given_forms, family_forms)
    same: list[tuple[int, int]] = []
    for original in rng.sample(records, duplicates):
        record_id = len(records) + 1
        records.append(_vary(rng, original, record_id, names_of[original.record_id]))
        same.append((original.record_id, record_id))
    return Truth(records=records, same_person=same)
