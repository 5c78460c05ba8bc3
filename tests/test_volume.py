"""Synthetic volumes (`demo_data --people N`): counts, unique references, realistic mixes, and
names that can only be invented."""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from opennrm.accounts import demo
from opennrm.cases.models import Case, CaseEvent, CaseNarrative, Person, PersonIdentity
from opennrm.lib.iso import country_choices, language_choices
from opennrm.lib.references import ALPHABET
from opennrm.policy.clock import reasonable_grounds_due
from opennrm.referrals import synthetic_volume

REFERENCE = re.compile(rf"^NRM-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
# Common real names in the nationalities generated (and a few British ones): a generated name
# must never be one of them.
REAL_NAMES = {
    "smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "evans",
    "thomas", "james", "john", "david", "michael", "sarah", "emma", "mohammed", "muhammad",
    "ahmed", "ali", "hassan", "hussein", "ibrahim", "fatima", "nguyen", "tran", "le", "pham",
    "hoang", "phan", "vu", "dang", "bui", "do", "ho", "ngo", "duong", "ly", "hoxha", "shehu",
    "gashi", "krasniqi", "berisha", "hoti", "elira", "ardit", "bekim", "tesfay", "tesfaye",
    "gebre", "haile", "yohannes", "abraham", "mekonnen", "osman", "abdallah", "popescu",
    "ionescu", "singh", "kumar", "patel", "okafor", "adeyemi", "wang", "li", "zhang", "chen",
    "kowalski", "nowak", "khan", "hosseini", "rahimi", "maria", "anna", "elena", "ivan",
}  # fmt: skip
GENERATED = 300


@pytest.fixture
def seeded(db: None) -> None:
    with override_settings(DEMO=True):
        call_command("demo_data", stdout=io.StringIO())


def test_generates_people_with_cases_narratives_and_timelines(seeded: None) -> None:
    before = Case.objects.count()
    result = synthetic_volume.generate(GENERATED, seed=7, batch_size=128)

    assert result.counts.people == result.counts.cases == GENERATED
    generated = Case.objects.order_by("pk")[before:]
    assert Case.objects.count() == before + GENERATED
    person_ids = [case.person_id for case in generated]
    assert PersonIdentity.objects.filter(person_id__in=person_ids).count() == GENERATED
    assert Person.objects.filter(pk__in=person_ids).count() == GENERATED
    assert CaseNarrative.objects.filter(case__in=generated).count() == GENERATED
    events = CaseEvent.objects.filter(case__in=generated)
    assert events.count() == result.counts.events
    for case in generated.prefetch_related("events"):
        kinds = [event.kind for event in case.events.all()]
        expected = ["referral.submitted", "case.routed"]
        assert kinds == expected + (["case.safeguarding_notified"] if case.is_child else [])

    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references))
    assert all(REFERENCE.match(reference) for reference in references)


def test_cases_come_from_demo_responders_and_follow_the_routing_rules(seeded: None) -> None:
    before = Case.objects.count()
    synthetic_volume.generate(GENERATED, seed=11)
    cases = Case.objects.order_by("pk")[before:].select_related(
        "person", "person__identity", "referring_organisation", "competent_authority"
    )
    demo_areas = {o.area for o in demo.ORGANISATIONS if o.kind == "local_authority"}
    for case in cases:
        assert case.referring_organisation.name in {
            "Northmoor Constabulary",
            "Harbour Light Outreach",
        }
        assert case.referred_by.email in {
            "responder@demo.opennrm.test",
            "outreach@demo.opennrm.test",
        }
        assert case.competent_authority.name == (
            "Harbourside Detention Decisions Unit"
            if case.in_immigration_detention
            else "Eastgate Competent Authority"
        )
        assert case.area in demo_areas
        # The reasonable-grounds clock started as the referral service starts it.
        assert case.reasonable_grounds_due == reasonable_grounds_due(
            timezone.localdate(case.submitted_at), case.jurisdiction
        )
        assert (
            datetime(2019, 1, 1, tzinfo=UTC) <= case.submitted_at < datetime(2025, 1, 1, tzinfo=UTC)
        )
        person = case.person
        if case.is_child:
            assert person.age_at_referral < 18
            assert case.consent_to_referral is None
            assert not case.in_immigration_detention
        else:
            assert person.age_at_referral >= 18
            assert case.consent_to_referral is True
        born = person.identity.date_of_birth
        assert person.age_is_estimated == (born is None)
        if born is not None:
            submitted = case.submitted_at.date()
            age = (
                submitted.year
                - born.year
                - ((submitted.month, submitted.day) < (born.month, born.day))
            )
            assert age == person.age_at_referral
        if case.exploitation_ended:
            assert case.exploitation_started <= case.exploitation_ended <= case.submitted_at.date()


def test_the_mixes_are_roughly_those_reported(seeded: None) -> None:
    before = Case.objects.count()
    synthetic_volume.generate(GENERATED, seed=3)
    cases = list(Case.objects.order_by("pk")[before:].select_related("person"))
    share = Counter[str]()
    for case in cases:
        share[case.person.sex] += 1
        share["child" if case.is_child else "adult"] += 1
        share["overseas" if case.exploitation_location in ("overseas", "both") else "uk"] += 1
    n = len(cases)
    # Three standard deviations for 300 draws, or more.
    assert share["male"] / n == pytest.approx(0.75, abs=0.08)
    assert share["female"] / n == pytest.approx(0.25, abs=0.08)
    assert share["child"] / n == pytest.approx(0.45, abs=0.09)
    assert share["overseas"] / n == pytest.approx(0.36, abs=0.09)


def test_large_draws_match_the_published_proportions() -> None:
    """Without a database: 20,000 draws are enough to check every mix closely."""
    setting = synthetic_volume.Setting(
        referrers=[(1, 1, "A fictional police force", "england_and_wales")],
        authorities={
            ("england_and_wales", detained, group): (2, "A fictional authority")
            for detained in (False, True)
            for group in ("adult", "child", "presumed_child")
        },
        areas=["Fictionshire"],
    )
    generator = synthetic_volume.Generator(setting, random.Random(5), set())
    rows = [generator.one() for _ in range(20_000)]
    n = len(rows)
    fields = {name: i for i, name in enumerate(synthetic_volume.CASE_FIELDS)}
    people = {name: i for i, name in enumerate(synthetic_volume.PERSON_FIELDS)}
    sex = Counter(row.person[people["sex"]] for row in rows)
    group = Counter(row.case[fields["age_group"]] for row in rows)
    nationality = Counter(row.person[people["nationalities"]][0] for row in rows)
    location = Counter(row.case[fields["exploitation_location"]] for row in rows)
    years = Counter(row.case[fields["submitted_at"]].year for row in rows)

    assert sex["male"] / n == pytest.approx(0.75, abs=0.02)
    assert sex["female"] / n == pytest.approx(0.25, abs=0.02)
    children = (group["child"] + group["presumed_child"]) / n
    assert children == pytest.approx(0.45, abs=0.02)
    assert 0 < group["presumed_child"] < group["child"]
    assert nationality["GB"] / n == pytest.approx(0.245, abs=0.02)
    assert nationality["AL"] / n == pytest.approx(0.21, abs=0.02)  # 24%, 13% in 2024
    assert (location["overseas"] + location["both"]) / n == pytest.approx(0.36, abs=0.02)
    assert years.most_common(1)[0][0] == 2024
    assert min(years) == 2019

    def most_common_type(adult: bool) -> str:
        types = Counter(
            kind
            for row in rows
            if (row.case[fields["age_group"]] == "adult") == adult
            for kind in row.case[fields["exploitation_types"]]
        )
        return types.most_common(1)[0][0]

    assert most_common_type(adult=True) == "labour"
    assert most_common_type(adult=False) == "criminal"
    countries = {code for code, _ in country_choices()}
    languages = {code for code, _ in language_choices()}
    assert set(nationality) <= countries
    assert {lang for row in rows for lang in row.person[people["languages"]]} <= languages


def test_the_same_seed_gives_the_same_people() -> None:
    setting = synthetic_volume.Setting(
        referrers=[(1, 1, "A fictional charity", "england_and_wales")],
        authorities={
            ("england_and_wales", d, g): (2, "A fictional authority")
            for d in (False, True)
            for g in ("adult", "child", "presumed_child")
        },
        areas=["Fictionshire"],
    )

    def draw(seed: int) -> list[synthetic_volume.Synthetic]:
        generator = synthetic_volume.Generator(setting, random.Random(seed), set())
        return [generator.one() for _ in range(50)]

    first, again, other = draw(1), draw(1), draw(2)
    strip = [(s.person[:-1], s.identity, s.case) for s in first]  # created_at is "now"
    assert strip == [(s.person[:-1], s.identity, s.case) for s in again]
    assert strip != [(s.person[:-1], s.identity, s.case) for s in other]


def test_names_are_obviously_invented(seeded: None) -> None:
    before = PersonIdentity.objects.count()
    synthetic_volume.generate(GENERATED, seed=5)
    identities = PersonIdentity.objects.order_by("pk")[before:]
    given_pattern = re.compile(
        "^(" + "|".join(synthetic_volume.GIVEN_SYLLABLES) + "){3}$", flags=re.IGNORECASE
    )
    demo_people = {part.lower() for a in demo.ACCOUNTS for part in a.full_name.split()}
    for identity in identities:
        names = [identity.given_names, identity.family_name, *identity.aliases]
        for name in names:
            assert name.lower() not in REAL_NAMES | demo_people, name
        assert given_pattern.match(identity.given_names), identity.given_names
        assert any(
            marker in identity.family_name.lower() for marker in synthetic_volume.FICTIONAL_MARKERS
        )
    for ending in synthetic_volume.FAMILY_ENDINGS:
        assert any(marker in ending for marker in synthetic_volume.FICTIONAL_MARKERS)
    assert len(set(synthetic_volume.GIVEN_NAMES)) == len(synthetic_volume.GIVEN_NAMES)
    assert not {name.lower() for name in synthetic_volume.GIVEN_NAMES} & REAL_NAMES


@override_settings(DEMO=True)
def test_demo_data_command_generates_people(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    def synthetic() -> int:
        # Through instances: each value is decrypted with its row.
        narratives = CaseNarrative.objects.only("responders_account", "row_uuid")
        return sum(n.responders_account.startswith("Synthetic record") for n in narratives)

    # The demo's own support history has synthetic people of its own; --people adds more.
    call_command("demo_data")
    before = synthetic()
    call_command("demo_data", people=40, seed=9)
    out, err = capsys.readouterr()
    assert "Generated 40 synthetic people with 40 cases" in out
    assert "40/40 people" in err
    # Encrypted at rest: the ORM decrypts, and a database lookup cannot see the text.
    assert synthetic() == before + 40
    assert Person.objects.count() == Case.objects.count()
    with pytest.raises(CommandError, match="0 or more"):
        call_command("demo_data", people=-1)


@override_settings(DEMO=False)
def test_generating_people_refuses_outside_demo_mode(db: None) -> None:
    with pytest.raises(CommandError, match="only runs with OPENNRM_DEMO=true"):
        call_command("demo_data", people=10)
    assert not Person.objects.exists()


def test_batches_made_in_the_background_arrive_in_order_and_failures_reach_the_caller() -> None:
    assert list(synthetic_volume._Background(iter(range(7)), depth=2)) == list(range(7))

    def failing():
        yield 1
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError, match="generator broke"):
        list(synthetic_volume._Background(failing()))

    # A caller that stops early (for example on a database error) does not hang the thread.
    made = synthetic_volume._Background(iter(range(1000)), depth=1)
    for item in made:
        if item == 3:
            break
    assert made.stop.is_set()


def test_generating_people_of_one_sex_and_age_group(seeded: None) -> None:
    """The demo's safe-house residents: every one an adult woman, instead of the national mix
    (mostly men)."""
    before = Case.objects.count()
    synthetic_volume.generate(30, seed=11, person=("female", "adult"))
    made = Case.objects.order_by("pk").select_related("person")[before:]
    assert len(made) == 30
    assert {(case.person.sex, case.age_group) for case in made} == {("female", "adult")}
