"""Answers that contradict each other are refused, and the lists hold what people referred
have: nationalities with Kosovo, stateless and not known; the languages they speak."""

from __future__ import annotations

import pytest
from django.test import Client

from opennrm.accounts.models import Organisation, User
from opennrm.lib.iso import country_choices, language_choices

from . import factories
from . import referral_helpers as r


def _start(alice: User, age: dict) -> tuple[Client, object]:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    pages = {"age": age}
    if age == r.ADULT:
        pages["consent"] = r.CONSENTS
    r.complete(client, draft, pages)
    return client, draft


def _messages(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_a_child_with_a_date_of_birth_of_an_adult_is_refused(
    alice: User, council: Organisation
) -> None:
    client, draft = _start(alice, r.CHILD)
    html = _messages(
        r.answer(
            client,
            draft,
            "person",
            {**r.PERSON, "date_of_birth_year": "1990"},
        )
    )
    assert "but you said they are under 18" in html
    draft.refresh_from_db()
    assert draft.answers["person"]["date_of_birth_year"] == "1990"  # kept, to correct


def test_a_child_with_an_adult_estimated_age_is_refused(alice: User, council: Organisation) -> None:
    client, draft = _start(alice, r.CHILD)
    html = _messages(r.answer(client, draft, "person", {**r.CHILD_PERSON, "estimated_age": "30"}))
    assert "An age of 30, but you said they are under 18" in html


def test_an_adult_whose_date_of_birth_makes_them_a_child_is_refused(
    alice: User, council: Organisation
) -> None:
    client, draft = _start(alice, r.ADULT)
    html = _messages(r.answer(client, draft, "person", {**r.PERSON, "date_of_birth_year": "2015"}))
    assert "but you said they are not under 18" in html


def test_an_age_disputed_person_may_have_any_age_until_assessed(
    alice: User, council: Organisation
) -> None:
    client, draft = _start(alice, r.AGE_DISPUTED)
    response = r.answer(client, draft, "person", {**r.CHILD_PERSON, "estimated_age": "19"})
    assert response.status_code == 302


def test_changing_the_age_answer_reopens_a_contradicted_person_page(
    alice: User, council: Organisation
) -> None:
    client, draft = _start(alice, r.CHILD)
    r.complete(client, draft, {"person": r.CHILD_PERSON})
    r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
    html = client.get(f"/referrals/{draft.public_id}/").content.decode()
    assert "About the person" in html
    response = r.answer(client, draft, "person", r.CHILD_PERSON)
    assert "An age of 15, but you said they are not under 18" in _messages(response)


def test_not_known_exploitation_must_stand_alone(alice: User, council: Organisation) -> None:
    client, draft = _start(alice, r.ADULT)
    html = _messages(
        r.answer(
            client, draft, "exploitation", {**r.EXPLOITATION, "types": ["criminal", "unknown"]}
        )
    )
    assert "Select &#39;Not specified or not known&#39; on its own" in html


def test_exploitation_cannot_start_before_the_person_was_born(
    alice: User, council: Organisation
) -> None:
    client, draft = _start(alice, r.ADULT)
    r.complete(client, draft, {"person": r.PERSON})  # born 14 March 1999
    html = _messages(
        r.answer(
            client,
            draft,
            "exploitation",
            {**r.EXPLOITATION, "started_month": "6", "started_year": "1950"},
        )
    )
    assert "When it started must be after their date of birth (14 March 1999)" in html


@pytest.mark.parametrize(
    ("month", "year", "answer", "message"),
    [
        ("6", "2010", "no", "says they were under 18 when it started: answer Yes"),
        # Not known would leave a person exploited as a child short of being treated as one.
        ("6", "2010", "not_known", "says they were under 18 when it started: answer Yes"),
        ("6", "2025", "yes", "says they were 18 or over when it started: answer No"),
    ],
)
def test_the_age_when_it_began_must_agree_with_the_dates(
    alice: User, council: Organisation, month: str, year: str, answer: str, message: str
) -> None:
    client, draft = _start(alice, r.ADULT)
    r.complete(client, draft, {"person": r.PERSON})  # born 14 March 1999
    said = {"started_month": month, "started_year": year, "under_18_when_began": answer}
    html = _messages(r.answer(client, draft, "exploitation", {**r.EXPLOITATION, **said}))
    assert f"Their date of birth (14 March 1999) {message}" in html


@pytest.mark.parametrize(
    ("month", "year", "answer"),
    [
        ("3", "2017", "yes"),  # the month of their 18th birthday decides nothing
        ("3", "2017", "no"),
        ("2", "2017", "yes"),
        ("4", "2017", "no"),
        ("3", "2017", "not_known"),
        ("6", "2025", "not_known"),
    ],
)
def test_an_answer_the_dates_allow_is_accepted(
    alice: User, council: Organisation, month: str, year: str, answer: str
) -> None:
    client, draft = _start(alice, r.ADULT)
    r.complete(client, draft, {"person": r.PERSON})
    said = {"started_month": month, "started_year": year, "under_18_when_began": answer}
    response = r.answer(client, draft, "exploitation", {**r.EXPLOITATION, **said})
    assert response.status_code == 302


def test_exploitation_cannot_start_more_than_a_lifetime_ago(
    alice: User, council: Organisation
) -> None:
    client, draft = _start(alice, r.AGE_DISPUTED)
    r.complete(client, draft, {"person": r.CHILD_PERSON})
    html = _messages(
        r.answer(
            client,
            draft,
            "exploitation",
            {**r.EXPLOITATION, "started_month": "6", "started_year": "1850"},
        )
    )
    assert "When it started must be within the last 120 years" in html


@pytest.mark.parametrize(
    ("code", "name"), [("XK", "Kosovo"), ("XXA", "Stateless"), ("XXX", "Not known")]
)
def test_nationality_can_be_kosovo_stateless_or_not_known(
    alice: User, council: Organisation, code: str, name: str
) -> None:
    assert (code, name) in country_choices()
    client, draft = _start(alice, r.ADULT)
    response = r.answer(client, draft, "person", {**r.PERSON, "nationality_1": code})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.answers["person"]["nationality_1"] == code


def test_the_languages_are_those_people_speak_not_dead_ones() -> None:
    names = dict(language_choices())
    for code, name in [
        ("prs", "Dari"),
        ("syl", "Sylheti"),
        ("ckb", "Kurdish Sorani"),
        ("kmr", "Kurdish Kurmanji"),
        ("tig", "Tigre"),
        ("ti", "Tigrinya"),
        ("sq", "Albanian"),
        ("bfi", "British Sign Language"),
    ]:
        assert names.get(code) == name
    for dead in ("la", "sa", "ae", "cu", "pi", "eo", "vo"):
        assert dead not in names
    assert all("macrolanguage" not in name for name in names.values())


def test_a_language_without_an_iso_639_1_code_is_saved(alice: User, council: Organisation) -> None:
    client, draft = _start(alice, r.ADULT)
    response = r.answer(client, draft, "person", {**r.PERSON, "language_1": "prs"})
    assert response.status_code == 302
