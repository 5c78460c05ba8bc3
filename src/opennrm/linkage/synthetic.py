"""Fictional people referred more than once, with the variations real duplicates show: names
in another transliteration or script, with or without diacritics, a typo, given and family
name swapped, a date of birth written day-first for month-first or only an estimated age, and
another referring organisation. For tests and benchmarks of linkage; every name is a common
one of its language, and no person is real.

Pure: no Django. `people(n, duplicates, seed)` gives the records and the truth (which records
are one person) together. With `rare_names`, each language group also has that many rarer
given and family names, built from its syllables, and names are drawn by Zipf's law (the
usual names most often, the long tail rarely), as a national population's are, the commonest
as usual as it is in its language (`_COMMONEST`, ADR 0058): at a million records many
different people share a usual name and year of birth, which is what makes linkage hard at
that scale.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import NamedTuple

from .prepare import RawRecord, transliterate

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

# Syllables of each group's rarer names (same order as `_GROUPS`): first, middle and last
# parts of a family name, and first and last parts of a given name. Most middles carry a
# consonant: the linkage's name key is a name's consonants (`prepare.name_key`), and middles of
# a vowel alone gave five names one key, so that names differing in a vowel (Krasniqi and
# Kresniqi) stood for most of a group's rare names, which no language's names do (ADR 0059).
# Vietnamese family names keep their five vowels: some hundred family names are borne by
# nearly all the Vietnamese, and the rarer ones here are already more than there are.
_SYLLABLES: list[tuple[list[str], list[str], list[str], list[str], list[str]]] = [
    (
        ["Kr", "Dr", "Ber", "Mar", "Ko", "Sh", "Rr", "Gj", "Ll", "Zen"],
        ["a", "e", "u", "i", "ë", "am", "el", "in", "or", "ush", "at", "ez", "il", "ar", "en"],
        ["niqi", "aj", "llari", "shi", "ku", "ziu", "mani", "lla", "hasi", "bani"],
        ["Ar", "Bes", "Dri", "Fat", "Il", "Ler", "Mir", "Tan", "Vjo", "Ed"],
        ["ion", "ana", "jeta", "ton", "sa", "min", "tina", "lind", "ri", "ona"],
    ),
    (
        ["Ng", "Tr", "Ph", "H", "Đ", "V", "L", "Qu", "Kh", "Th"],
        ["ô", "ư", "a", "ơ", "i"],
        ["ng", "n", "c", "nh", "u", "t", "m", "i", "y", "p"],
        ["Thị ", "Văn ", "Ngọc ", "Đức ", "Minh ", "Hữu ", "Kim ", "Thanh ", "Bảo ", "Gia "],
        ["Thảo", "Tuấn", "Linh", "Phúc", "Hà", "Nam", "Yến", "Khoa", "Trang", "Long"],
    ),
    (
        ["Pop", "Stan", "Con", "Dob", "Vas", "Ciob", "Lup", "Neg", "Zam", "Bal"],
        ["o", "i", "u", "ă", "e", "ol", "an", "ur", "es", "il", "ar", "un", "om", "et", "or"],
        ["escu", "anu", "ache", "oiu", "ea", "eanu", "ariu", "ici", "aru", "ilă"],
        ["Cr", "Fl", "Ad", "Mar", "Ser", "Lil", "Cos", "Dan", "Ral", "Oct"],
        ["istina", "orin", "rian", "iana", "giu", "iana", "tel", "iela", "uca", "avian"],
    ),
    (
        ["Al-", "Abd", "Ha", "Sa", "Na", "Ja", "Ra", "Za", "Qa", "Ka"],
        ["m", "s", "d", "l", "b", "r", "k", "f", "n", "t", "sh", "j", "h", "q", "z"],
        ["ari", "awi", "ouri", "ani", "adi", "aibi", "eem", "ouli", "ash", "id"],
        ["Ham", "Kar", "Nas", "Sam", "Rash", "Tar", "Wal", "Lay", "Han", "Sal"],
        ["za", "im", "ir", "ira", "id", "iq", "eed", "la", "an", "ma"],
    ),
    (
        ["Ge", "Ha", "Te", "Ki", "Wo", "Me", "Ab", "Ye", "Ne", "Go"],
        [
            "bre",
            "le",
            "sfa",
            "da",
            "ld",
            "ma",
            "ri",
            "se",
            "ta",
            "ha",
            "ne",
            "ka",
            "wo",
            "zi",
            "ye",
        ],
        ["hiwet", "mariam", "michael", "yesus", "selassie", "tsion", "giorgis", "ab", "u", "e"],
        ["Aw", "Dan", "Hab", "Meh", "Sen", "Ruth", "Abr", "Nah", "Eyo", "Sab"],
        ["et", "iel", "tom", "ret", "ait", "a", "ham", "om", "el", "rina"],
    ),
    (
        ["Кова", "Пет", "Сид", "Мор", "Павл", "Гонч", "Лис", "Мар", "Руд", "Сав"],  # noqa: RUF001 - Cyrillic syllables
        ["ен", "ор", "ар", "ов", "ин", "ач", "ул", "ет", "им", "ан", "ик", "ош", "ав", "ир", "ел"],  # noqa: RUF001 - Cyrillic syllables
        ["ко", "чук", "енко", "ишин", "ова", "ський", "ич", "як", "ець", "ук"],
        ["Окс", "Тар", "Ірин", "Бог", "Віт", "Ган", "Рус", "Люд", "Мик", "Вал"],  # noqa: RUF001 - Cyrillic syllables
        ["ана", "ас", "а", "дан", "алій", "на", "лан", "мила", "ола", "ерій"],  # noqa: RUF001 - Cyrillic syllables
    ),
    (
        ["Ash", "Bar", "Har", "Cole", "Pen", "Rad", "Whit", "Fair", "Thorn", "Mor"],
        [
            "",
            "e",
            "ing",
            "ley",
            "s",
            "er",
            "ham",
            "ford",
            "mer",
            "ton",
            "well",
            "ly",
            "in",
            "ers",
            "wick",
        ],
        ["ton", "field", "wood", "by", "ridge", "well", "ham", "worth", "cott", "croft"],
        ["Ev", "Jos", "Har", "Luc", "Isa", "Ol", "Fre", "Mil", "Rub", "Gra"],
        ["ie", "eph", "ry", "y", "bel", "iver", "ya", "lie", "en", "ce"],
    ),
]

# The part between a rarer given name's first and last (same order as `_GROUPS`; the first is
# none): ten first and ten last parts alone make only 100 given names, too few for `rare_names`;
# Vietnamese given names have a middle name of their own.
_GIVEN_MIDDLES: list[list[str]] = [
    ["", "l", "n", "r", "s", "d", "m", "t", "v", "z", "il", "an", "er", "on", "it"],
    [
        "",
        "Kim ",
        "Thu ",
        "Hoài ",
        "Xuân ",
        "Minh ",
        "Thanh ",
        "Bích ",
        "Hồng ",
        "Quốc ",
        "Hải ",
        "Phương ",
        "Diệu ",
        "Mỹ ",
        "Tuyết ",
    ],
    ["", "l", "n", "r", "s", "d", "m", "t", "v", "z", "il", "an", "er", "on", "it"],
    ["", "a", "i", "u", "ee", "m", "d", "l", "r", "s", "n", "b", "f", "k", "h"],
    ["", "a", "e", "i", "o", "b", "d", "l", "m", "n", "r", "s", "t", "w", "y"],
    ["", "л", "н", "р", "с", "д", "м", "т", "в", "з", "ил", "ан", "ер", "он", "ит"],  # noqa: RUF001 - Cyrillic letters
    ["", "l", "n", "r", "s", "d", "m", "t", "v", "z", "il", "an", "er", "on", "it"],
]


class _Commonest(NamedTuple):
    """The share of a language group's people who have its commonest family name, and its
    commonest given name (of everyone, women and men)."""

    family: float
    given: float


# How usual each group's commonest names are (same order as `_GROUPS`): the rest follow Zipf's
# law down from them. Published where there is a count: Nguyen is borne by about 38% of the
# Vietnamese, Tran by 11%, Le by 9.5%; Smith by 1.2% to 1.4% of people in England and Wales in
# every count since 1853 (1.37% of deaths registered 1984 to 1997, Jones 1.14%); Muhammad and
# its spellings by about 150 million people, one Muslim man in six. Elsewhere the commonest family name's share is of the
# same order as Smith's (Albanian, Romanian, Ukrainian and Russian family names are many) and a
# given name's a few per cent of everyone. Eritrean family names are a father's given name.
# With the benchmark's 1,500 or so names to a group (ADR 0059; 408 before) the tail is still
# shorter than a country's thousands, so at these top shares the names below the first are each
# more usual than in life (ADR 0058).
_COMMONEST: list[_Commonest] = [
    _Commonest(family=0.015, given=0.03),
    _Commonest(family=0.38, given=0.03),
    _Commonest(family=0.015, given=0.03),
    _Commonest(family=0.03, given=0.08),
    _Commonest(family=0.04, given=0.04),
    _Commonest(family=0.015, given=0.03),
    _Commonest(family=0.0133, given=0.02),
]


# Places of exploitation: what kind of place, on which street, in which town.
_BUSINESSES = [
    "car wash",
    "hand car wash",
    "nail bar",
    "cannabis farm in a house",
    "takeaway",
    "restaurant kitchen",
    "flat above a shop",
    "farm",
    "packing factory",
    "building site",
    "private house",
    "hotel",
]
_STREETS = [
    f"{first}{last}"
    for first in (
        "Mill",
        "Station",
        "Church",
        "Victoria",
        "Albert",
        "Queens",
        "Kings",
        "Park",
        "Bridge",
        "Market",
        "Chapel",
        "Castle",
        "Windsor",
        "Grange",
        "Moor",
        "Beech",
        "Ash",
        "Oak",
        "Elm",
        "Cedar",
        "Holly",
        "Rose",
        "Orchard",
        "Meadow",
        "Brook",
        "Spring",
        "Hill",
        "Vale",
        "Cross",
        "Hall",
    )
    for last in ("", "field", "gate", "side", "thorpe", "wick", "well", "ford")
]
_STREET_KINDS = ["Road", "Street", "Lane", "Avenue", "Close", "Way", "Terrace", "Parade"]

AREAS = ["Leeds", "Bradford", "Manchester", "Birmingham", "Glasgow", "Belfast", "Kent", "Hull"]
ORGANISATIONS = ["police-west", "police-north", "charity-harbour", "charity-bridge", "la-leeds"]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Truth:
    """Which records are one person: the record ids of each person with more than one."""

    records: list[RawRecord]
    same_person: list[tuple[int, int]]


@dataclass(frozen=True)
class _Pool:
    """One language group's names, with the cumulative Zipf weights they are drawn by."""

    nationalities: list[str]
    given: list[tuple[list[str], str]]
    family: list[list[str]]
    given_weights: list[float]
    family_weights: list[float]


def _zipf(n: int, top_share: float) -> list[float]:
    """Cumulative weights of `n` names by Zipf's law, its exponent chosen (by bisection) so that
    the commonest name has `top_share` of the people, or as near as `n` names allow."""
    low, high = 0.0, 4.0
    for _ in range(50):
        exponent = (low + high) / 2
        weights = [rank**-exponent for rank in range(1, n + 1)]
        if weights[0] / sum(weights) < top_share:
            low = exponent
        else:
            high = exponent
    return list(itertools.accumulate(rank**-low for rank in range(1, n + 1)))


def _forms(name: str) -> list[str]:
    """A rarer name and, when it is not in Latin letters already, its plain transliteration."""
    latin = transliterate(name)
    return [name] if latin == name else [name, latin]


def _pools(rare_names: int) -> list[_Pool]:
    pools = []
    for (nationalities, given, family), syllables, given_middles, shares in zip(
        _GROUPS, _SYLLABLES, _GIVEN_MIDDLES, _COMMONEST, strict=True
    ):
        starts, middles, ends, given_starts, given_ends = syllables
        # The same rare names whatever the seed of the people: a population, then samples of it.
        rng = random.Random(f"rare-names-{nationalities[0]}")  # noqa: S311 - synthetic names
        taken = {forms[0] for forms in family} | {forms[0] for forms, _ in given}
        family_names = list(family) + [
            _forms(name) for name in _distinct(rng, (starts, middles, ends), taken, rare_names)
        ]
        given_names = list(given) + [
            (_forms(name), rng.choice(["female", "male"]))
            for name in _distinct(rng, (given_starts, given_middles, given_ends), taken, rare_names)
        ]
        pools.append(
            _Pool(
                nationalities=nationalities,
                given=given_names,
                family=family_names,
                given_weights=_zipf(len(given_names), shares.given),
                family_weights=_zipf(len(family_names), shares.family),
            )
        )
    return pools


def _distinct(
    rng: random.Random, parts: tuple[list[str], ...], taken: set[str], how_many: int
) -> list[str]:
    """`how_many` names made of one of each of `parts`, none already taken, in a seeded order
    (fewer only when the parts cannot make that many)."""
    names = sorted({"".join(combination) for combination in itertools.product(*parts)} - taken)
    rng.shuffle(names)
    taken.update(names[:how_many])
    return names[:how_many]


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
    """A number no one can have: +999 is not a country code (ITU-T E.164 spare). Britain's
    fictional range (07700 900000 to 900999) holds a thousand numbers, too few for a million
    people; the linkage compares the last nine digits, whatever the prefix."""
    number = f"{rng.randrange(10**9):09d}"
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    return rng.choice([f"Call +999 {spaced}", f"Mobile 00999 {spaced}", f"+999 {number} after 6pm"])


def _contact(rng: random.Random, controllers: list[str]) -> str:
    return rng.choice(controllers) if rng.random() < 0.1 else _phone(rng)


# A place: what kind, which street and what kind of street, which town.
Place = tuple[str, str, str, str]


def _places(rng: random.Random, area: str) -> list[Place]:
    return [
        (
            rng.choice(_BUSINESSES),
            rng.choice(_STREETS),
            rng.choice(_STREET_KINDS),
            area if rng.random() < 0.8 else rng.choice(AREAS),
        )
        for _ in range(rng.choice([1, 1, 2]))
    ]


def _account(places: list[Place]) -> str:
    return "; ".join(f"{what} on {street} {kind}, {town}" for what, street, kind, town in places)


def _retold(rng: random.Random, places: list[Place]) -> str:
    """The same places as another organisation writes them down: some of it, in other words."""
    told = []
    for what, street, kind, town in places[: rng.choice([1, len(places)])]:
        told.append(
            rng.choice(
                [
                    f"the {what} in {town}",
                    f"{street} {kind}, {town}",
                    f"a {what} on {street} {kind}",
                    f"{what}, {street} {kind} ({town})",
                ]
            )
        )
    return ", and ".join(told)


def _nationalities_retold(rng: random.Random, nationalities: list[str]) -> list[str]:
    """Mostly the same; sometimes not known, or a neighbouring country's (Sudanese for Syrian,
    Russian for Ukrainian), as a person without documents may be recorded."""
    roll = rng.random()
    if roll < 0.04:
        return []
    if roll < 0.07:
        for pool in _GROUPS:
            if nationalities and nationalities[0] in pool[0] and len(pool[0]) > 1:
                return [rng.choice([n for n in pool[0] if n != nationalities[0]])]
    return nationalities


def _phone_retold(rng: random.Random, contact: str) -> str:
    """The same number, none, or (a person re-trafficked, a phone taken) another one."""
    roll = rng.random()
    if not contact or roll < 0.4:
        return ""
    return contact if roll < 0.85 else _phone(rng)


def _vary(
    rng: random.Random, record: RawRecord, record_id: int, names: tuple, places: list[Place]
) -> RawRecord:
    """A second referral of the same person, by another organisation, with variations: most
    within weeks (the police and the charity that sheltered them), the rest months or years
    later (referred again)."""
    given_forms, family_forms = names
    given = rng.choice(given_forms)
    family = rng.choice(family_forms)
    if rng.random() < 0.25:
        given = _typo(rng, given)
    elif rng.random() < 0.25:
        family = _typo(rng, family)
    if rng.random() < 0.15:
        given, family = family, given
    days_later = rng.randrange(0, 45) if rng.random() < 0.65 else rng.randrange(180, 1460)
    dob = record.date_of_birth
    age, estimated = record.age_at_referral, record.age_is_estimated
    if age is not None:
        age += days_later // 365
    roll = rng.random()
    if dob is not None and roll < 0.2 and dob.day <= 12 and dob.day != dob.month:
        dob = date(dob.year, dob.day, dob.month)
    elif dob is not None and roll < 0.35:
        dob, estimated = None, True
        age = (age or 0) + rng.choice([-1, 0, 0, 1])
    roll = rng.random()
    if not places or roll < 0.3:
        told = ""
    elif roll < 0.4:
        told = _account(_places(rng, record.area))
    else:
        told = _retold(rng, places)
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
        nationalities=_nationalities_retold(rng, record.nationalities),
        safe_contact=_phone_retold(rng, record.safe_contact),
        area=record.area if rng.random() < 0.7 else rng.choice(AREAS),
        first_contact=(record.first_contact or date(2026, 1, 1)) + timedelta(days=days_later),
        referring_organisation=rng.choice(
            [o for o in ORGANISATIONS if o != record.referring_organisation]
        ),
        places=told,
    )


def people(n: int, *, duplicates: int, seed: int = 20, rare_names: int = 0) -> Truth:
    """`n` people, `duplicates` of whom are referred twice; record ids from 1. `rare_names`:
    how many rarer names each language group adds to its usual ones (see the module)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
    pools = _pools(rare_names)
    records: list[RawRecord] = []
    names_of: dict[int, tuple] = {}
    places_of: dict[int, list[Place]] = {}
    # The numbers of the people who control them: some people give one as their contact, and
    # several people share each.
    controllers = [_phone(rng) for _ in range(max(1, n // 50))]
    for record_id in range(1, n + 1):
        pool = rng.choice(pools)
        given_forms, sex = rng.choices(pool.given, cum_weights=pool.given_weights)[0]
        family_forms = rng.choices(pool.family, cum_weights=pool.family_weights)[0]
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 48))
        first_contact = date(2024, 1, 1) + timedelta(days=rng.randrange(700))
        age = first_contact.year - born.year
        known = rng.random() < 0.85
        area = rng.choice(AREAS)
        places = _places(rng, area) if rng.random() < 0.85 else []
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
                nationalities=[rng.choice(pool.nationalities)],
                safe_contact=_contact(rng, controllers) if rng.random() < 0.3 else "",
                area=area,
                first_contact=first_contact,
                referring_organisation=rng.choice(ORGANISATIONS),
                places=_account(places),
            )
        )
        names_of[record_id] = (given_forms, family_forms)
        places_of[record_id] = places
    same: list[tuple[int, int]] = []
    for original in rng.sample(records, duplicates):
        record_id = len(records) + 1
        records.append(
            _vary(
                rng,
                original,
                record_id,
                names_of[original.record_id],
                places_of[original.record_id],
            )
        )
        same.append((original.record_id, record_id))
    return Truth(records=records, same_person=same)
