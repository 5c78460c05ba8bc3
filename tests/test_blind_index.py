"""Exact-match search on name and date of birth, through the blind indexes, decrypting nothing."""

from __future__ import annotations

from datetime import date

import pytest

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import PersonIdentity
from opennrm.cases.selectors import people_matching
from opennrm.lib import crypto, fields
from opennrm.referrals import services

from . import case_factories
from . import referral_helpers as r

BORN = date(1990, 1, 2)


@pytest.fixture
def people(alice: User, northmoor_police: Organisation, routing: Organisation) -> dict[str, int]:
    """Look-alike people, by the label each test uses; one of them referred through the
    referral services, the others built directly."""

    def make(given: str, family: str, born: date | None) -> int:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=routing,
            given_names=given,
            family_name=family,
            date_of_birth=born,
        ).person_id

    draft = r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    referred = services.referral_submit(by=alice, draft=draft).case
    return {
        "referred": referred.person_id,  # Zorica Testova Fictitious, born 14 March 1999
        "accented": make("Zoë", "Ångström", BORN),
        "plain": make("Zoe", "Angstrom", date(1985, 6, 7)),
        "longer": make("Zoe", "Angstromova", BORN),
        "reversed": make("Angstrom", "Zoe", BORN),
        "given only": make("Zoe", "", BORN),
    }


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_a_name_matches_whatever_its_case_accents_or_spacing(
    people: dict[str, int], dmitri: User
) -> None:
    for typed in ("Zoe Angstrom", "  zoë   ÅNGSTRÖM ", "ZOE ANGSTROM"):
        assert ids(people_matching(Actor.of_session(dmitri), name=typed)) == {
            people["accented"],
            people["plain"],
        }
    assert ids(people_matching(Actor.of_session(dmitri), name="zorica testova fictitious")) == {
        people["referred"]
    }


def test_only_exact_whole_names_match(people: dict[str, int], dmitri: User) -> None:
    assert ids(people_matching(Actor.of_session(dmitri), name="Zoe")) == {people["given only"]}
    for typed in ("Zoe Angstro", "Angstrom", "Zorica Testova", "Zoe Angstrom Smith", ""):
        assert ids(people_matching(Actor.of_session(dmitri), name=typed)) == set(), typed


def test_a_date_of_birth_matches_alone_or_with_the_name(
    people: dict[str, int], dmitri: User
) -> None:
    assert ids(people_matching(Actor.of_session(dmitri), date_of_birth=BORN)) == {
        people["accented"],
        people["longer"],
        people["reversed"],
        people["given only"],
    }
    assert ids(
        people_matching(Actor.of_session(dmitri), name="Zoe Angstrom", date_of_birth=BORN)
    ) == {people["accented"]}
    assert ids(people_matching(Actor.of_session(dmitri), date_of_birth=date(1999, 3, 14))) == {
        people["referred"]
    }
    assert ids(people_matching(Actor.of_session(dmitri), date_of_birth=date(1999, 3, 15))) == set()
    assert ids(people_matching(Actor.of_session(dmitri))) == set()


def test_the_search_decrypts_nothing(people: dict[str, int], dmitri: User, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the search decrypted a value")

    monkeypatch.setattr(crypto.Keyring, "decrypt", refuse)
    assert (
        len(ids(people_matching(Actor.of_session(dmitri), name="Zoe Angstrom", date_of_birth=BORN)))
        == 1
    )


def test_the_search_finds_only_people_the_user_may_see(
    people: dict[str, int], charlie: User, alice: User
) -> None:
    assert ids(people_matching(Actor.of_session(charlie), name="Zoe Angstrom")) == set()
    assert ids(people_matching(Actor.of_session(alice), name="Zoe Angstrom")) == {
        people["accented"],
        people["plain"],
    }


def test_indexes_are_keyed_and_stored_in_place_of_nothing_readable(
    people: dict[str, int], dmitri: User, settings
) -> None:
    identity = PersonIdentity.objects.get(person_id=people["referred"])
    configured = list(settings.BLIND_INDEX_KEYS)
    assert identity.name_index == fields.blind_index().of_name("Zorica Testova Fictitious")
    assert identity.dob_index == fields.blind_index().of_date(date(1999, 3, 14))
    # Under another key the same name gives another digest: without the key, a digest cannot
    # be checked against a guessed name.
    settings.BLIND_INDEX_KEYS = [crypto.Key("another", b"x" * 32)]
    assert ids(people_matching(Actor.of_session(dmitri), name="Zorica Testova Fictitious")) == set()
    # While a new key is being introduced (rotate_keys not yet run), the old one still finds.
    settings.BLIND_INDEX_KEYS = [crypto.Key("another", b"x" * 32), *configured]
    assert ids(people_matching(Actor.of_session(dmitri), name="Zorica Testova Fictitious")) == {
        people["referred"]
    }
