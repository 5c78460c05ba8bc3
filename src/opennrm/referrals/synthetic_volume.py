"""Large synthetic volumes of people and cases, for demonstrations and benchmarks (DEMO mode).

`generate(n)` adds n fictional people, each with one case, its narrative and its first timeline
entries, in bulk: PostgreSQL COPY when the database is PostgreSQL, `bulk_create` elsewhere.
Every value is drawn from a seeded generator, so the same seed on an empty database gives the
same records.

Rows are written as the referral service writes them: identifying values encrypted through their
fields, the blind indexes filled, the reasonable-grounds clock started (`policy.clock`), and the
first timeline entries. Every case awaits its reasonable grounds decision. On PostgreSQL the
next batch is generated (and encrypted) in a background thread while the database takes the
previous COPY, which keeps both of a small machine's cores busy.

The mixes follow `docs/domain-facts.md` (FACTS.md) section 3, UK NRM statistics with sources:

- submissions spread over 2019-2024 in proportion to each year's referrals (3.1);
- sex: about 74-76% male up to 2023 (HO EOY 2020, 2023), 73% male in 2024 (3.2);
- age: 44% children, 51% adults, the rest of unknown age, treated as adults (2023); 47% children
  in 2019-2021 (2020 figures);
- nationality: UK 25%, Albanian 24%, Vietnamese 6% up to 2023; in 2024 UK 23%, Albanian 13%,
  Vietnamese 11%, Eritrean 9%, Sudanese 6%; the rest spread over other countries;
- exploitation: labour the most common for adults (34%), criminal for children (43%), sexual
  exploitation mostly of women and girls, domestic servitude, a few forced marriages, organ
  harvesting rare, and some people with more than one kind;
- about 36% exploited overseas (overseas only or both).

Where FACTS.md gives no figure (age-disputed share, ages within a group, languages, detention,
the "other countries" mix) the values below are assumptions, marked as such.

Names are obviously invented: given names are three syllables from an invented set, and every
family name carries a marker such as "demo", "test" or "synth" (for example "Zorvexlum
Kalodemova"). Nothing here describes a real person.
"""

from __future__ import annotations

import bisect
import itertools
import json
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from django.db import connections, models, transaction
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import (
    AgeGroup,
    CaseStatus,
    ExploitationAgeGroup,
    ExploitationLocation,
    ExploitationType,
    Gender,
    Sex,
)
from opennrm.cases.models import Case, CaseEvent, CaseNarrative, Person, PersonIdentity
from opennrm.cases.services import case_rows, first_events
from opennrm.lib import fields
from opennrm.lib.references import ALPHABET
from opennrm.policy.clock import reasonable_grounds_due

from .routing import competent_authority_for

SEED = 20260101
BATCH_SIZE = 20_000
CONSENT_EXPLANATION_VERSION = "opennrm-consent-2026-1"

# Plain strings, not the enum members: COPY and dictionary keys need the stored values.
MALE, FEMALE, UNKNOWN_SEX = Sex.MALE.value, Sex.FEMALE.value, Sex.UNKNOWN.value
ADULT, CHILD, PRESUMED_CHILD = (
    AgeGroup.ADULT.value,
    AgeGroup.CHILD.value,
    AgeGroup.PRESUMED_CHILD.value,
)
AWAITING_RG = CaseStatus.AWAITING_REASONABLE_GROUNDS.value


def _age_group_at_exploitation(age: int | None, started: date | None, submitted: date) -> str:
    """What a referrer would answer for an adult (a child's is always "child", by case_rows):
    from the age at referral and when the exploitation started, else "not known". Draws
    nothing, so the rest of the generated volume is unchanged by it."""
    if age is None or started is None:
        return ExploitationAgeGroup.NOT_KNOWN.value
    years_since = (submitted - started).days // 365
    child = age - years_since < 18
    return (ExploitationAgeGroup.CHILD if child else ExploitationAgeGroup.ADULT).value


class Mix[T]:
    """A weighted choice: `Mix({"a": 3, "b": 1}).pick(rng)` gives "a" three times in four."""

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.values: list[T] = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]

    def share(self, value: T) -> float:
        index = self.values.index(value)
        previous = self.cumulative[index - 1] if index else 0.0
        return (self.cumulative[index] - previous) / self.total


# --- Nationalities (FACTS.md 3.2) ---------------------------------------------------------------

# Other countries of origin, most frequent first (an assumption: FACTS.md names only the top five;
# the rest share what is left, decreasing like 1/rank).
OTHER_COUNTRIES = (
    "RO", "IN", "NG", "CN", "IR", "IQ", "AF", "PK", "PL", "ET", "SY", "EG", "PH", "GH", "BD",
    "LK", "SO", "LT", "SK", "BG", "CZ", "UA", "MA", "TR", "BR", "CM", "ZW", "UG", "KE", "YE",
    "LY", "DZ", "NP", "MY", "TH", "JM",
)  # fmt: skip


def _nationality_mix(top: Mapping[str, float]) -> Mix[str]:
    rest = 100.0 - sum(top.values())
    harmonic = sum(1 / (rank + 2) for rank in range(len(OTHER_COUNTRIES)))
    others = {code: rest * (1 / (rank + 2)) / harmonic for rank, code in enumerate(OTHER_COUNTRIES)}
    return Mix({**top, **others})


NATIONALITIES_TO_2023 = _nationality_mix({"GB": 25, "AL": 24, "VN": 6, "ER": 5, "SD": 5})
NATIONALITIES_2024 = _nationality_mix({"GB": 23, "AL": 13, "VN": 11, "ER": 9, "SD": 6})

# Main language by nationality (an assumption: the most widely spoken language).
LANGUAGE = {
    "GB": "en", "AL": "sq", "VN": "vi", "ER": "ti", "SD": "ar", "RO": "ro", "IN": "hi",
    "NG": "en", "CN": "zh", "IR": "fa", "IQ": "ar", "AF": "ps", "PK": "ur", "PL": "pl",
    "ET": "am", "SY": "ar", "EG": "ar", "PH": "tl", "GH": "en", "BD": "bn", "LK": "si",
    "SO": "so", "LT": "lt", "SK": "sk", "BG": "bg", "CZ": "cs", "UA": "uk", "MA": "ar",
    "TR": "tr", "BR": "pt", "CM": "fr", "ZW": "sn", "UG": "lg", "KE": "sw", "YE": "ar",
    "LY": "ar", "DZ": "ar", "NP": "ne", "MY": "ms", "TH": "th", "JM": "en",
}  # fmt: skip


# --- Years (FACTS.md 3.1 and 3.2) ----------------------------------------------------------------


@dataclass(frozen=True)
class YearProfile:
    referrals: int  # NRM referrals that year: how many of the generated cases fall in it
    female: float  # share of women and girls
    child: float  # share referred as children (the rest: adults and unknown age)
    nationalities: Mix[str]


YEARS: dict[int, YearProfile] = {
    2019: YearProfile(10_627, 0.26, 0.47, NATIONALITIES_TO_2023),
    2020: YearProfile(10_613, 0.26, 0.47, NATIONALITIES_TO_2023),
    # 2021 and 2022: between the 2020 and 2023 splits (an assumption).
    2021: YearProfile(12_727, 0.25, 0.46, NATIONALITIES_TO_2023),
    2022: YearProfile(16_921, 0.24, 0.44, NATIONALITIES_TO_2023),
    2023: YearProfile(17_004, 0.24, 0.44, NATIONALITIES_TO_2023),
    # 2024: 73% male (Q1/Q2 bulletins); the child share as in 2023 (an assumption).
    2024: YearProfile(19_125, 0.27, 0.44, NATIONALITIES_2024),
}
YEAR_MIX = Mix({year: profile.referrals for year, profile in YEARS.items()})
UNKNOWN_SEX_SHARE = 0.001  # 2023: 12,903 + 4,088 of 17,004 recorded as male or female
AGE_DISPUTED_SHARE = 0.08  # of children: age disputed, presumed a child (an assumption)
CHILD_AGES = Mix({10: 1, 11: 2, 12: 4, 13: 7, 14: 12, 15: 18, 16: 26, 17: 30})
DISPUTED_AGES = Mix({15: 2, 16: 3, 17: 4})
DATE_OF_BIRTH_KNOWN = 0.55


# --- Exploitation (FACTS.md 3.2 and 3.5) ---------------------------------------------------------

E = ExploitationType
Types = tuple[str, ...]


def _types(weights: Mapping[tuple[ExploitationType, ...], float]) -> Mix[Types]:
    return Mix({tuple(t.value for t in key): weight for key, weight in weights.items()})


# Adults: labour the most common (34% in Q4 2023); women mostly sexual exploitation and domestic
# servitude (Salvation Army Y12 profile). Children: criminal the most common (43%).
EXPLOITATION = {
    (ADULT, MALE): _types(
        {
            (E.LABOUR,): 40, (E.CRIMINAL,): 15, (E.SEXUAL,): 9, (E.DOMESTIC_SERVITUDE,): 4,
            (E.LABOUR, E.CRIMINAL): 8, (E.SEXUAL, E.LABOUR): 2,
            (E.LABOUR, E.DOMESTIC_SERVITUDE): 2, (E.FORCED_MARRIAGE,): 0.2,
            (E.ORGAN_HARVESTING,): 0.1, (E.UNKNOWN,): 19.7,
        }
    ),
    (ADULT, FEMALE): _types(
        {
            (E.SEXUAL,): 40, (E.LABOUR,): 18, (E.DOMESTIC_SERVITUDE,): 15, (E.CRIMINAL,): 5,
            (E.SEXUAL, E.DOMESTIC_SERVITUDE): 4, (E.SEXUAL, E.LABOUR): 3,
            (E.FORCED_MARRIAGE,): 1, (E.ORGAN_HARVESTING,): 0.1, (E.UNKNOWN,): 13.9,
        }
    ),
    (CHILD, MALE): _types(
        {
            (E.CRIMINAL,): 50, (E.LABOUR,): 9, (E.SEXUAL,): 4, (E.DOMESTIC_SERVITUDE,): 1,
            (E.LABOUR, E.CRIMINAL): 7, (E.SEXUAL, E.CRIMINAL): 3,
            (E.ORGAN_HARVESTING,): 0.05, (E.UNKNOWN,): 25.95,
        }
    ),
    (CHILD, FEMALE): _types(
        {
            (E.SEXUAL,): 35, (E.CRIMINAL,): 20, (E.LABOUR,): 5, (E.DOMESTIC_SERVITUDE,): 5,
            (E.SEXUAL, E.CRIMINAL): 10, (E.FORCED_MARRIAGE,): 0.5,
            (E.ORGAN_HARVESTING,): 0.05, (E.UNKNOWN,): 24.45,
        }
    ),
}  # fmt: skip

L = ExploitationLocation
# 36% exploited overseas (2023). UK nationals are almost all exploited in the UK, so the others
# carry that share: 0.75 x (31% + 16%) + 0.25 x 2% = 36%.
LOCATION_UK_NATIONAL = Mix({L.UK.value: 97, L.BOTH.value: 2, L.UNKNOWN.value: 1})
LOCATION_OTHERS = Mix({L.UK.value: 49, L.OVERSEAS.value: 31, L.BOTH.value: 16, L.UNKNOWN.value: 4})
G = Gender
GENDER = {
    MALE: Mix({G.MASCULINE.value: 78, "": 20, G.TRANSGENDER_MASCULINE.value: 1,
               G.NON_CONFORMING.value: 1}),
    FEMALE: Mix({G.FEMININE.value: 78, "": 19.5, G.TRANSGENDER_FEMININE.value: 1.5,
                 G.NON_CONFORMING.value: 1}),
    UNKNOWN_SEX: Mix({G.UNKNOWN.value: 50, "": 50}),
}  # fmt: skip
IN_DETENTION_SHARE = 0.03  # of adults (an assumption)


# --- Invented names -----------------------------------------------------------------------------

GIVEN_SYLLABLES = (
    "zor", "qui", "vex", "lum", "tor", "pha", "nix", "bre", "yul", "kaz",
    "dro", "mip", "sel", "fen", "wix", "gor", "tul", "rav", "oph", "kel",
)  # fmt: skip
FAMILY_SYLLABLES = (
    "ka", "lo", "mi", "ru", "ze", "ta", "vo", "ni", "sa", "be",
    "do", "fe", "gu", "ha", "ji", "ko", "lu", "pe", "ri", "wu",
)  # fmt: skip
# Every family name ends in one of these, so no generated name can pass for a real one.
FAMILY_ENDINGS = (
    "demova", "testov", "fictova", "exampleson", "synthescu", "mockidze", "sampleani",
)  # fmt: skip
FICTIONAL_MARKERS = ("demo", "test", "fict", "example", "synth", "sample", "mock")


GIVEN_NAMES = tuple(
    (a + b + c).capitalize() for a, b, c in itertools.product(GIVEN_SYLLABLES, repeat=3)
)
FAMILY_NAMES = tuple(
    (a + b + ending).capitalize()
    for a, b, ending in itertools.product(FAMILY_SYLLABLES, FAMILY_SYLLABLES, FAMILY_ENDINGS)
)


def _below(rng: random.Random, n: int) -> int:
    """A whole number in [0, n): faster than randrange, and uniform enough for n << 2**53."""
    return int(rng.random() * n)


def given_name(rng: random.Random) -> str:
    return GIVEN_NAMES[_below(rng, len(GIVEN_NAMES))]


def family_name(rng: random.Random) -> str:
    return FAMILY_NAMES[_below(rng, len(FAMILY_NAMES))]


# Every pair of reference characters, so a 40-bit number becomes 8 characters in 4 look-ups.
_PAIRS = tuple(a + b for a, b in itertools.product(ALPHABET, repeat=2))


def reference(rng: random.Random) -> str:
    """A reference in the service's format (NRM-XXXX-XXXX), from the seeded generator."""
    bits = rng.getrandbits(40)
    p = _PAIRS
    return f"NRM-{p[bits >> 30]}{p[(bits >> 20) & 1023]}-{p[(bits >> 10) & 1023]}{p[bits & 1023]}"


# --- Narrative text (fictional, short) ---------------------------------------------------------

PERSONS_ACCOUNTS = {
    "labour": "I was promised a job and a room. They kept my papers and my wages.",
    "criminal": "They gave me a phone and told me where to take packages.",
    "sexual": "They said I owed them for the journey and would not let me leave.",
    "domestic_servitude": "I cleaned and cooked every day and was never allowed out alone.",
    "organ_harvesting": "They said a doctor would see me and then I could go home.",
    "forced_marriage": "My family arranged it and I was not asked.",
    "unknown": "",
}
PLACES = ("a car wash", "a nail bar", "a farm", "a flat above a shop", "a building site")


# --- Generation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What the generated cases point at: referrers, authorities and areas that exist."""

    referrers: list[tuple[int, int, str, str]]  # user id, organisation id, its name, jurisdiction
    authorities: dict[tuple[str, bool, str], tuple[int, str]]  # routing -> (id, name)
    areas: list[str]


class Synthetic(NamedTuple):
    """One generated person and case, as values in the field orders below."""

    person: tuple[Any, ...]
    identity: tuple[Any, ...]
    case: tuple[Any, ...]
    narrative: tuple[Any, ...]
    events: list[tuple[Any, ...]]


PERSON_FIELDS = (
    "sex", "gender", "age_at_referral", "age_is_estimated", "nationalities",
    "languages", "interpreter_needed", "created_at",
)  # fmt: skip
IDENTITY_FIELDS = (
    "person", "given_names", "family_name", "aliases", "date_of_birth", "safe_contact",
    "name_index", "dob_index",
)  # fmt: skip
CASE_FIELDS = (
    "person", "reference", "referring_organisation", "referred_by", "competent_authority",
    "jurisdiction", "area", "age_group", "age_group_at_exploitation", "exploitation_types",
    "exploitation_location",
    "exploitation_started", "exploitation_ended", "in_immigration_detention",
    "consent_to_referral", "consent_to_support", "consent_explanation_version",
    "consent_explanation_language", "status", "submitted_at", "reasonable_grounds_due",
)  # fmt: skip
NARRATIVE_FIELDS = (
    "case", "persons_account", "responders_account", "exploitation_places",
    "immediate_needs_details",
)  # fmt: skip
EVENT_FIELDS = ("case", "at", "kind", "description", "actor", "data")
# The same, by attribute name: the keys of `cases.services.case_rows`.
IDENTITY_ATTNAMES = tuple(f"{name}_id" if name == "person" else name for name in IDENTITY_FIELDS)
CASE_ATTNAMES = tuple(
    f"{name}_id"
    if name in ("person", "referring_organisation", "referred_by", "competent_authority")
    else name
    for name in CASE_FIELDS
)
EVENT_ATTNAMES = tuple(f"{name}_id" if name in ("case", "actor") else name for name in EVENT_FIELDS)
JSON_FIELDS = {"nationalities", "languages", "aliases", "exploitation_types", "data"}
# Placeholder ids in generated rows, replaced by the writers once ids are known.
PERSON_ID = -1
CASE_ID = -2


def load_setting() -> Setting:
    """The demo referrers, authorities (through the routing rules) and local authority areas."""
    memberships = (
        Membership.objects.filter(
            role=Role.FIRST_RESPONDER,
            is_active=True,
            user__is_active=True,
            organisation__is_active=True,
        )
        .select_related("organisation")
        .order_by("organisation__name", "user_id")
    )
    referrers = [
        (m.user_id, m.organisation_id, m.organisation.name, m.organisation.jurisdiction)
        for m in memberships
    ]
    if not referrers:
        raise ValueError("No active first responder to refer the generated cases: seed the demo")
    authorities: dict[tuple[str, bool, str], tuple[int, str]] = {}
    for jurisdiction in {r[3] for r in referrers}:
        for detained in (False, True):
            for group in (ADULT, CHILD, PRESUMED_CHILD):
                authority = competent_authority_for(
                    jurisdiction=jurisdiction, in_immigration_detention=detained, age_group=group
                )
                authorities[(jurisdiction, detained, group)] = (authority.pk, authority.name)
    areas = sorted(
        set(
            Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY, is_active=True)
            .exclude(area="")
            .values_list("area", flat=True)
        )
    )
    if not areas:
        raise ValueError("No local authority area for the generated cases: seed the demo")
    return Setting(referrers, authorities, areas)


class Generator:
    def __init__(
        self,
        setting: Setting,
        rng: random.Random,
        taken: set[str],
        person: tuple[str, str] | None = None,
    ) -> None:
        self.setting = setting
        self.rng = rng
        self.taken = taken  # references already used
        # (sex, age group) every person has, instead of the national mix: the demo's residents
        # of a women's safe house are all adult women.
        self.person = person
        self._rg_due: dict[tuple[date, str], date] = {}
        # Taken here, in the caller's thread: batches may be made in another one.
        self.timezone = timezone.get_current_timezone()
        self.now = timezone.now()
        self.year_starts = {year: datetime(year, 1, 1, tzinfo=UTC).timestamp() for year in YEARS}
        self.year_seconds = {
            year: datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() - start
            for year, start in self.year_starts.items()
        }

    def _reasonable_grounds_due(self, submitted_at: datetime, jurisdiction: str) -> date:
        """The clock the referral service starts, from the local submission date (cached: a
        few thousand distinct days)."""
        key = (submitted_at.astimezone(self.timezone).date(), jurisdiction)
        due = self._rg_due.get(key)
        if due is None:
            due = self._rg_due[key] = reasonable_grounds_due(*key)
        return due

    def _reference(self) -> str:
        while True:
            candidate = reference(self.rng)
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def _age(self, group: str, submitted: date) -> tuple[int, date | None]:
        rng = self.rng
        if group == CHILD:
            age = CHILD_AGES.pick(rng)
        elif group == PRESUMED_CHILD:
            return DISPUTED_AGES.pick(rng), None  # a disputed age is always an estimate
        else:
            age = int(rng.triangular(18, 70, 24))
        if rng.random() >= DATE_OF_BIRTH_KNOWN:
            return age, None
        day = min(submitted.day, 28) if submitted.month == 2 else submitted.day
        birthday = date(submitted.year - age, submitted.month, day)
        return age, birthday - timedelta(days=_below(rng, 365))

    def _person(self, rng: random.Random, year: int) -> tuple[str, str, list[str], str, str]:
        profile = YEARS[year]
        draw = rng.random()
        if draw < UNKNOWN_SEX_SHARE:
            sex = UNKNOWN_SEX
        else:
            sex = FEMALE if draw < UNKNOWN_SEX_SHARE + profile.female else MALE
        if rng.random() < profile.child:
            group = PRESUMED_CHILD if rng.random() < AGE_DISPUTED_SHARE else CHILD
        else:
            group = ADULT
        if self.person is not None:
            sex, group = self.person
        nationality = profile.nationalities.pick(rng)
        nationalities = [nationality]
        if rng.random() < 0.02:
            second = profile.nationalities.pick(rng)
            if second != nationality:
                nationalities.append(second)
        language = LANGUAGE[nationality]
        return sex, group, nationalities, language, GENDER[sex].pick(rng)

    def one(self) -> Synthetic:
        rng = self.rng
        setting = self.setting
        year = YEAR_MIX.pick(rng)
        submitted_at = datetime.fromtimestamp(
            self.year_starts[year] + rng.random() * self.year_seconds[year], UTC
        )
        submitted = submitted_at.date()
        sex, group, nationalities, language, gender = self._person(rng, year)
        age, born = self._age(group, submitted)
        languages = [language]
        if language != "en" and rng.random() < 0.4:
            languages.append("en")
        interpreter = rng.random() < (0.85 if language != "en" else 0.02)
        user_id, organisation_id, organisation_name, jurisdiction = setting.referrers[
            _below(rng, len(setting.referrers))
        ]
        area = setting.areas[_below(rng, len(setting.areas))]
        given, family = given_name(rng), family_name(rng)
        aliases = [given_name(rng)] if rng.random() < 0.15 else []
        safe_contact = f"Through {organisation_name} only" if rng.random() < 0.6 else ""
        is_adult = group == ADULT
        detained = is_adult and rng.random() < IN_DETENTION_SHARE
        authority_id, authority_name = setting.authorities[(jurisdiction, detained, group)]
        types = EXPLOITATION[
            (ADULT if is_adult else CHILD, FEMALE if sex == FEMALE else MALE)
        ].pick(rng)
        location_mix = LOCATION_UK_NATIONAL if nationalities[0] == "GB" else LOCATION_OTHERS
        started = ended = None
        if rng.random() < 0.7:
            started = (submitted - timedelta(days=rng.randrange(30, 4 * 365))).replace(day=1)
            if rng.random() < 0.4:
                ended = started + timedelta(days=rng.randrange((submitted - started).days + 1))
        reference = self._reference()
        location = location_mix.pick(rng)
        consents_to_support = (rng.random() < 0.9) if is_adult else None
        kinds = " and ".join(types).replace("_", " ")
        persons_account = PERSONS_ACCOUNTS[types[0]] if rng.random() < 0.7 else ""
        places = (
            f"{PLACES[_below(rng, len(PLACES))]} in {area} (fictional)"
            if rng.random() < 0.5
            else ""
        )
        # The rows the referral service writes (cases.services.case_rows), turned into COPY
        # rows in the field orders above.
        rows = case_rows(
            sex=sex,
            gender=gender,
            age_at_referral=age,
            age_is_estimated=born is None,
            nationalities=nationalities,
            languages=languages,
            interpreter_needed=interpreter,
            given_names=given,
            family_name=family,
            aliases=aliases,
            date_of_birth=born,
            safe_contact=safe_contact,
            reference=reference,
            referring_organisation_id=organisation_id,
            referred_by_id=user_id,
            competent_authority_id=authority_id,
            jurisdiction=jurisdiction,
            area=area,
            age_group=group,
            age_group_at_exploitation=_age_group_at_exploitation(age, started, submitted),
            exploitation_types=list(types),
            exploitation_location=location,
            exploitation_started=started,
            exploitation_ended=ended,
            in_immigration_detention=detained,
            consent_to_referral=True if is_adult else None,
            consent_to_support=consents_to_support,
            consent_explanation_version=CONSENT_EXPLANATION_VERSION if is_adult else "",
            consent_explanation_language=language if is_adult else "",
            submitted_at=submitted_at,
            reasonable_grounds_due=self._reasonable_grounds_due(submitted_at, jurisdiction),
            persons_account=persons_account,
            responders_account=f"Synthetic record for volume testing: suspected {kinds} exploitation.",
            exploitation_places=places,
            events=first_events(
                at=submitted_at,
                referred_by_id=user_id,
                referrer_name=organisation_name,
                authority_name=authority_name,
                area=area,
                child=not is_adult,
                placement_requested=False,
            ),
        )
        return Synthetic(
            person=(*(rows.person[name] for name in PERSON_FIELDS[:-1]), self.now),
            identity=(PERSON_ID, *(rows.identity[name] for name in IDENTITY_ATTNAMES[1:])),
            case=(PERSON_ID, *(rows.case[name] for name in CASE_ATTNAMES[1:])),
            narrative=(CASE_ID, *(rows.narrative[name] for name in NARRATIVE_FIELDS[1:])),
            events=[
                (CASE_ID, *(event[name] for name in EVENT_ATTNAMES[1:])) for event in rows.events
            ],
        )

    def batches(self, n: int, size: int) -> Iterator[list[Synthetic]]:
        for start in range(0, n, size):
            yield [self.one() for _ in range(min(size, n - start))]


# --- Writers ------------------------------------------------------------------------------------


@dataclass
class Counts:
    people: int = 0
    identities: int = 0
    cases: int = 0
    narratives: int = 0
    events: int = 0

    @property
    def rows(self) -> int:
        return self.people + self.identities + self.cases + self.narratives + self.events


def _with_ids(row: tuple[Any, ...], key: int) -> tuple[Any, ...]:
    """The row with its leading placeholder replaced by the real id."""
    return (key, *row[1:])


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)  # noqa: S101 - names are this module's constants
    return field


class OrmWriter:
    """Portable: bulk_create, which returns the new ids on PostgreSQL, SQLite 3.35+ and MariaDB."""

    def __init__(self, using: str) -> None:
        self.using = using

    def _build(
        self, model: type[models.Model], names: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> list[Any]:
        attnames = [_field(model, name).attname for name in names]
        return [model(**dict(zip(attnames, row, strict=True))) for row in rows]

    def write(self, batch: list[Synthetic]) -> Counts:
        db = self.using
        people = Person.objects.using(db).bulk_create(
            self._build(Person, PERSON_FIELDS, [s.person for s in batch])
        )
        person_ids = [p.pk for p in people]
        PersonIdentity.objects.using(db).bulk_create(
            self._build(
                PersonIdentity,
                IDENTITY_FIELDS,
                [_with_ids(s.identity, pid) for s, pid in zip(batch, person_ids, strict=True)],
            )
        )
        cases = Case.objects.using(db).bulk_create(
            self._build(
                Case,
                CASE_FIELDS,
                [_with_ids(s.case, pid) for s, pid in zip(batch, person_ids, strict=True)],
            )
        )
        case_ids = [c.pk for c in cases]
        CaseNarrative.objects.using(db).bulk_create(
            self._build(
                CaseNarrative,
                NARRATIVE_FIELDS,
                [_with_ids(s.narrative, cid) for s, cid in zip(batch, case_ids, strict=True)],
            )
        )
        event_rows = [
            _with_ids(event, cid)
            for s, cid in zip(batch, case_ids, strict=True)
            for event in s.events
        ]
        CaseEvent.objects.using(db).bulk_create(self._build(CaseEvent, EVENT_FIELDS, event_rows))
        n = len(batch)
        return Counts(n, n, n, n, len(event_rows))


class _Table:
    """How one table's generated rows become COPY rows: its statement, the constant values of
    the fields the generator leaves to their defaults, and what to encode where."""

    def __init__(self, writer: CopyWriter, model: type[models.Model], names: Sequence[str]):
        # A table with encrypted fields gets each row's own row_uuid, after the given columns.
        self.row_field = fields.row_field(model)
        columns = (*names, self.row_field.name) if self.row_field else tuple(names)
        self.statement, self.extra = writer.columns(model, columns)
        encoders: list[tuple[int, Callable[[Any], Any]]] = []
        sealed: list[tuple[int, fields.EncryptedMixin]] = []
        for i, name in enumerate(names):
            field = _field(model, name)
            if isinstance(field, fields.EncryptedMixin):
                # Encrypted exactly as the field would (COPY bypasses the fields), bound to the
                # row; the JSON of an encrypted field is encrypted, not written as JSON.
                sealed.append((i, field))
            elif name in JSON_FIELDS:
                encoders.append((i, writer.json))
        self.encoders = encoders
        self.sealed = sealed

    def encode(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self.encoders and not self.sealed:
            return row
        values = list(row)
        for i, encode in self.encoders:
            values[i] = encode(values[i])
        if self.row_field is not None:
            bound = str(uuid.uuid4())
            for i, field in self.sealed:
                values[i] = field.seal(values[i], row=bound)
            values.append(bound)
        return tuple(values)


class Encoded(NamedTuple):
    """A batch ready for COPY, with the id placeholders still in place."""

    people: list[tuple[Any, ...]]
    identities: list[tuple[Any, ...]]
    cases: list[tuple[Any, ...]]
    narratives: list[tuple[Any, ...]]
    events: list[list[tuple[Any, ...]]]


class CopyWriter:
    """PostgreSQL: ids reserved from each table's sequence, then one COPY per table and batch.

    `encode` (JSON, encryption) touches no database, so `generate` runs it in a background
    thread while this connection copies the previous batch.
    """

    def __init__(self, using: str) -> None:
        self.connection = connections[using]
        self._json_cache: dict[tuple[str, ...], str] = {}
        self.people = _Table(self, Person, ("id", *PERSON_FIELDS))
        self.identities = _Table(self, PersonIdentity, IDENTITY_FIELDS)
        self.cases = _Table(self, Case, ("id", *CASE_FIELDS))
        self.narratives = _Table(self, CaseNarrative, NARRATIVE_FIELDS)
        self.events = _Table(self, CaseEvent, EVENT_FIELDS)

    def columns(
        self, model: type[models.Model], names: Sequence[str]
    ) -> tuple[str, tuple[Any, ...]]:
        """The COPY statement for these fields, and constant values for the model's other
        fields (their defaults), so a field added later does not break the load."""
        meta = model._meta
        named = [_field(model, name) for name in names]
        extra: list[Any] = []
        extra_values: list[Any] = []
        for field in meta.concrete_fields:
            if field in named or field.primary_key:
                continue
            if field.db_default is not models.NOT_PROVIDED:
                continue
            value = field.get_default()
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = timezone.now()
            extra.append(field)
            extra_values.append(field.get_db_prep_save(value, self.connection))
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in [*named, *extra])
        return f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN", tuple(extra_values)

    def json(self, value: Any) -> str:
        if not value:
            return "[]" if isinstance(value, list) else "{}"
        if isinstance(value, list) and len(value) <= 3:
            key = tuple(value)
            cached = self._json_cache.get(key)
            if cached is None:
                cached = self._json_cache[key] = json.dumps(value)
            return cached
        return json.dumps(value)

    def encode(self, batch: list[Synthetic]) -> Encoded:
        # The person rows get their id in front; every other row starts with a placeholder.
        people = [self.people.encode((PERSON_ID, *s.person)) for s in batch]
        identities = [self.identities.encode(s.identity) for s in batch]
        cases = [self.cases.encode((CASE_ID, *s.case)) for s in batch]
        narratives = [self.narratives.encode(s.narrative) for s in batch]
        events = [[self.events.encode(e) for e in s.events] for s in batch]
        return Encoded(people, identities, cases, narratives, events)

    def _ids(self, cursor: Any, model: type[models.Model], n: int) -> list[int]:
        meta = model._meta
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, n],
        )
        return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def _copy(cursor: Any, table: _Table, rows: Iterator[tuple[Any, ...]]) -> None:
        extra = table.extra
        with cursor.copy(table.statement) as copy:
            for row in rows:
                copy.write_row(row + extra if extra else row)

    def write(self, batch: Encoded) -> Counts:
        n = len(batch.people)
        with self.connection.cursor() as wrapper:
            cursor = wrapper.cursor  # psycopg's own cursor, for COPY
            person_ids = self._ids(cursor, Person, n)
            case_ids = self._ids(cursor, Case, n)
            self._copy(
                cursor,
                self.people,
                (_with_ids(row, pid) for row, pid in zip(batch.people, person_ids, strict=True)),
            )
            self._copy(
                cursor,
                self.identities,
                (
                    _with_ids(row, pid)
                    for row, pid in zip(batch.identities, person_ids, strict=True)
                ),
            )
            self._copy(
                cursor,
                self.cases,
                (
                    (cid, pid, *row[2:])
                    for row, pid, cid in zip(batch.cases, person_ids, case_ids, strict=True)
                ),
            )
            self._copy(
                cursor,
                self.narratives,
                (_with_ids(row, cid) for row, cid in zip(batch.narratives, case_ids, strict=True)),
            )
            self._copy(
                cursor,
                self.events,
                (
                    _with_ids(event, cid)
                    for events, cid in zip(batch.events, case_ids, strict=True)
                    for event in events
                ),
            )
        return Counts(n, n, n, n, sum(len(events) for events in batch.events))


_DONE = object()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class _Background[B]:
    """The same batches, made in a background thread while the caller writes the previous one
    (the database works on a COPY while Python makes the next batch). The thread must not use
    the database: Django's connections belong to the thread that opened them."""

    def __init__(self, batches: Iterator[B], depth: int = 2) -> None:
        self.batches = batches
        self.made: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def _offer(self, item: object) -> bool:
        """Queue the item unless the caller has stopped listening."""
        while not self.stop.is_set():
            try:
                self.made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for batch in self.batches:
                if not self._offer(batch):
                    return
            self._offer(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            self._offer(_Failed(error))

    def __iter__(self) -> Iterator[B]:
        thread = threading.Thread(target=self._produce, name="opennrm-volume", daemon=True)
        thread.start()
        try:
            while True:
                item = self.made.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            self.stop.set()
            thread.join()


@dataclass(frozen=True)
class Result:
    counts: Counts
    seconds: float
    method: str


Progress = Callable[[int, int, float], None]


def generate(
    people: int,
    *,
    seed: int = SEED,
    batch_size: int = BATCH_SIZE,
    using: str = "default",
    progress: Progress | None = None,
    person: tuple[str, str] | None = None,
) -> Result:
    """Add `people` synthetic people, each with a case, its narrative and its timeline, in one
    transaction. Needs the demo organisations and accounts (`accounts.demo.seed()`) first.
    `person`: the (sex, age group) of every one of them, instead of the national mix."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
    connection = connections[using]
    use_copy = connection.vendor == "postgresql"
    total = Counts()
    with transaction.atomic(using=using):
        taken = set(Case.objects.using(using).values_list("reference", flat=True))
        generator = Generator(load_setting(), rng, taken, person)
        batches: Iterator[Any]
        if use_copy:
            copier = CopyWriter(using)
            batches = iter(
                _Background(copier.encode(batch) for batch in generator.batches(people, batch_size))
            )
            write: Callable[[Any], Counts] = copier.write
        else:
            batches = generator.batches(people, batch_size)
            write = OrmWriter(using).write
        for batch in batches:
            written = write(batch)
            for name in ("people", "identities", "cases", "narratives", "events"):
                setattr(total, name, getattr(total, name) + getattr(written, name))
            if progress is not None:
                progress(total.people, people, time.perf_counter() - started)
        if use_copy:
            with connection.cursor() as cursor:
                for model in (Person, PersonIdentity, Case, CaseNarrative, CaseEvent):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return Result(total, time.perf_counter() - started, "copy" if use_copy else "bulk_create")
