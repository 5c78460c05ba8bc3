"""Policy profiles: the bundled data, choosing one by jurisdiction and date, and refusing bad
files with messages that say what is wrong and where."""

from __future__ import annotations

import ast
import json
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opennrm.accounts.roles import Jurisdiction
from opennrm.cases.choices import ExploitationType
from opennrm.policy import profiles as profiles_module
from opennrm.policy.clock import JURISDICTION_CALENDARS
from opennrm.policy.profiles import (
    BUNDLED_DIR,
    EXPLOITATION_CODES,
    ConclusiveTiming,
    Counting,
    NoProfileError,
    OutcomeKind,
    Period,
    PeriodUnit,
    ProfileError,
    Reconsiderable,
    WorkingCalendar,
    active_profiles,
    install_profiles,
    load_profiles,
    parse_profile,
    parse_profile_dirs,
    profile_for,
)

BUNDLED = load_profiles()
UK = [j.value for j in Jurisdiction]
NRM_START = date(2009, 4, 1)

# version -> (recovery days, RG test word, disqualification, CG outcome codes, criminal separate)
EXPECTED = {
    "ew-2009-04-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        False,
    ),
    "ew-2015-11-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "recognised_slavery", "insufficient_evidence"],
        False,
    ),
    "ew-2019-04-29": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "recognised_slavery", "insufficient_evidence"],
        False,
    ),
    "ew-2019-10-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "recognised_slavery", "insufficient_evidence"],
        True,
    ),
    "ew-2022-12-13": (
        30,
        "may be",
        False,
        ["recognised_trafficking", "recognised_slavery", "insufficient_evidence"],
        True,
    ),
    "ew-2023-01-30": (
        30,
        "is",
        True,
        ["recognised_trafficking", "recognised_slavery", "insufficient_evidence"],
        True,
    ),
    "sct-2009-04-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        False,
    ),
    "sct-2018-04-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        False,
    ),
    "sct-2019-04-29": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        False,
    ),
    "sct-2019-10-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        True,
    ),
    "sct-2022-12-13": (
        30,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        True,
    ),
    "sct-2023-01-30": (30, "is", True, ["recognised_trafficking", "insufficient_evidence"], True),
    "ni-2009-04-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        False,
    ),
    "ni-2019-04-29": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        False,
    ),
    "ni-2019-10-01": (
        45,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        True,
    ),
    "ni-2022-12-13": (
        30,
        "may be",
        False,
        ["recognised_trafficking", "insufficient_evidence"],
        True,
    ),
    "ni-2023-01-30": (30, "is", True, ["recognised_trafficking", "insufficient_evidence"], True),
    "cets197-2008-02-01": (30, "has been", True, ["identified", "not_identified"], False),
}


def bundled_doc(version: str = "ew-2023-01-30") -> dict[str, Any]:
    return json.loads((BUNDLED_DIR / f"{version}.json").read_text())


def write(directory: Path, name: str, doc: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def a_deployment_profile(**changes: Any) -> dict[str, Any]:
    """A valid profile for a jurisdiction of a deployment's own."""
    doc = bundled_doc()
    doc.update(
        key="ie-nrm",
        version="ie-2024-01-01",
        title="Ireland: a deployment's own profile",
        jurisdiction="ireland",
        effective_from="2024-01-01",
        effective_to=None,
        calendar={"country": "IE", "subdivision": None},
    )
    doc.update(changes)
    return doc


def problems_of(tmp_path: Path, *docs: Any) -> list[str]:
    for index, doc in enumerate(docs):
        write(tmp_path, f"p{index}.json", doc)
    with pytest.raises(ProfileError) as raised:
        load_profiles([tmp_path])
    return raised.value.problems


# The bundled data ----------------------------------------------------------------------------


def test_every_profile_issue_4_asks_for_is_bundled() -> None:
    assert {p.version for p in BUNDLED.profiles} == set(EXPECTED)
    for profile in BUNDLED.profiles:
        assert Path(profile.source_file).name == f"{profile.version}.json"


@pytest.mark.parametrize("version", sorted(EXPECTED))
def test_each_profile_encodes_its_regime(version: str) -> None:
    profile = BUNDLED.get(version)
    days, word, disqualification, outcomes, criminal = EXPECTED[version]
    assert profile.recovery_period_days == days
    assert f" {word} a victim" in profile.reasonable_grounds_test
    assert profile.disqualification_available is disqualification
    # A disqualification can be reconsidered wherever it exists and there is reconsideration.
    assert profile.allows_reconsideration_of(Reconsiderable.DISQUALIFICATION) is (
        disqualification and profile.reconsideration_window_days is not None
    )
    assert [o.code for o in profile.conclusive_grounds_outcomes] == outcomes
    assert ("criminal" in profile.exploitation_types) is criminal
    assert "forced_marriage" not in profile.exploitation_types
    assert profile.negative_decisions_need_second_approval
    assert profile.source_notes
    assert profile.title
    assert str(profile) == f"{profile.title} ({version})"


@pytest.mark.parametrize("version", sorted(v for v in EXPECTED if not v.startswith("cets")))
def test_uk_profiles_share_the_uk_rules(version: str) -> None:
    profile = BUNDLED.get(version)
    assert profile.reasonable_grounds_target_working_days == 5
    assert profile.conclusive_grounds_standard is not None
    assert "balance of probabilities" in profile.conclusive_grounds_standard
    # From 30 Jan 2023 the statute counts the recovery period "beginning with the day" of the
    # positive decision, and the conclusive decision follows the period's last day; before, day 1
    # was the day after and the conclusive decision could be made on the last day. Either way
    # the earliest conclusive date is recovery_period_days after the positive decision.
    if version.endswith("2023-01-30"):
        assert profile.recovery_period_counting == Counting.BEGINNING_WITH_DECISION_DAY
        assert profile.conclusive_grounds_earliest == ConclusiveTiming.AFTER_RECOVERY_PERIOD
    else:
        assert profile.recovery_period_counting == Counting.FROM_DAY_AFTER_DECISION
        assert profile.conclusive_grounds_earliest == ConclusiveTiming.LAST_DAY_OF_RECOVERY_PERIOD
    assert profile.reconsideration_window_days == 30
    assert profile.allows_reconsideration_of(Reconsiderable.NEGATIVE_REASONABLE_GROUNDS)
    assert profile.allows_reconsideration_of("negative_conclusive_grounds")
    assert profile.reconsideration_requesters == ("referrer", "support_provider")
    assert profile.recovery_period_extendable
    assert profile.calendar == JURISDICTION_CALENDARS[profile.jurisdiction]
    kinds = {o.code: o.kind for o in profile.reasonable_grounds_outcomes}
    assert kinds == {
        "positive": OutcomeKind.POSITIVE,
        "negative": OutcomeKind.NEGATIVE,
        "suspended": OutcomeKind.NOT_DECIDED,
        "withdrawn": OutcomeKind.NOT_DECIDED,
    }


def test_move_on_periods_where_the_facts_give_them() -> None:
    for profile in BUNDLED.profiles:
        moves = (
            profile.move_on_after_positive_conclusive,
            profile.move_on_after_negative_conclusive,
        )
        if profile.version in ("ew-2019-04-29", "ew-2019-10-01", "ew-2022-12-13", "ew-2023-01-30"):
            # The adult victim care contract's: for adults only (ADR 0025, stop 29).
            assert moves == (
                Period(45, PeriodUnit.CALENDAR_DAYS, adults_only=True),
                Period(9, PeriodUnit.WORKING_DAYS, adults_only=True),
            )
            assert str(moves[1]) == "9 working days (adults)"
        else:
            # FACTS 2.8 gives figures only for England and Wales under the 2021 contract.
            assert moves == (None, None)
            assert any("move-on" in a for a in profile.assumptions)


def test_the_conventions_minimum_leaves_unset_what_the_convention_does_not_set() -> None:
    cets = BUNDLED.get("cets197-2008-02-01")
    assert cets.jurisdiction == "cets197"
    assert cets.calendar == WorkingCalendar(None)
    assert cets.reasonable_grounds_target_working_days is None
    assert cets.conclusive_grounds_standard is None
    assert cets.conclusive_grounds_earliest == ConclusiveTiming.NOT_TIED
    assert cets.reconsideration_window_days is None
    assert not cets.allows_reconsideration_of(Reconsiderable.NEGATIVE_CONCLUSIVE_GROUNDS)


def test_exploitation_codes_match_the_cases_choices() -> None:
    assert set(ExploitationType.values) == EXPLOITATION_CODES


def test_outcomes_are_looked_up_by_code_with_a_clear_error() -> None:
    profile = BUNDLED.get("sct-2023-01-30")
    assert profile.conclusive_grounds_outcome("insufficient_evidence").kind == OutcomeKind.NEGATIVE
    assert profile.reasonable_grounds_outcome("suspended").kind == OutcomeKind.NOT_DECIDED
    with pytest.raises(
        ValueError, match='"recognised_slavery" is not a conclusive grounds outcome'
    ):
        profile.conclusive_grounds_outcome("recognised_slavery")


def test_profiles_and_clocks_are_pure_python() -> None:
    for module in ("profiles.py", "clock.py"):
        tree = ast.parse((BUNDLED_DIR.parent / module).read_text())
        imported = {
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        }
        assert not any(name.startswith("django") for name in imported), module


# Choosing a profile --------------------------------------------------------------------------

BOUNDARIES = [
    ("england_and_wales", date(2009, 4, 1), "ew-2009-04-01"),
    ("england_and_wales", date(2015, 10, 31), "ew-2009-04-01"),
    ("england_and_wales", date(2015, 11, 1), "ew-2015-11-01"),
    ("england_and_wales", date(2019, 4, 28), "ew-2015-11-01"),
    ("england_and_wales", date(2019, 4, 29), "ew-2019-04-29"),
    ("england_and_wales", date(2019, 9, 30), "ew-2019-04-29"),
    ("england_and_wales", date(2019, 10, 1), "ew-2019-10-01"),
    ("england_and_wales", date(2022, 12, 12), "ew-2019-10-01"),
    ("england_and_wales", date(2022, 12, 13), "ew-2022-12-13"),
    ("england_and_wales", date(2023, 1, 29), "ew-2022-12-13"),
    ("england_and_wales", date(2023, 1, 30), "ew-2023-01-30"),
    ("england_and_wales", date(2040, 1, 1), "ew-2023-01-30"),
    ("scotland", date(2009, 4, 1), "sct-2009-04-01"),
    ("scotland", date(2015, 11, 1), "sct-2009-04-01"),
    ("scotland", date(2018, 3, 31), "sct-2009-04-01"),
    ("scotland", date(2018, 4, 1), "sct-2018-04-01"),
    ("scotland", date(2019, 4, 28), "sct-2018-04-01"),
    ("scotland", date(2019, 4, 29), "sct-2019-04-29"),
    ("scotland", date(2019, 10, 1), "sct-2019-10-01"),
    ("scotland", date(2022, 12, 12), "sct-2019-10-01"),
    ("scotland", date(2022, 12, 13), "sct-2022-12-13"),
    ("scotland", date(2023, 1, 29), "sct-2022-12-13"),
    ("scotland", date(2023, 1, 30), "sct-2023-01-30"),
    ("northern_ireland", date(2019, 4, 28), "ni-2009-04-01"),
    ("northern_ireland", date(2019, 9, 30), "ni-2019-04-29"),
    ("northern_ireland", date(2022, 12, 12), "ni-2019-10-01"),
    ("northern_ireland", date(2022, 12, 13), "ni-2022-12-13"),
    ("northern_ireland", date(2023, 1, 29), "ni-2022-12-13"),
    ("northern_ireland", date(2023, 1, 30), "ni-2023-01-30"),
    ("cets197", date(2008, 2, 1), "cets197-2008-02-01"),
    ("cets197", date(2026, 6, 1), "cets197-2008-02-01"),
]


@pytest.mark.parametrize(("jurisdiction", "on", "version"), BOUNDARIES)
def test_the_profile_in_force_is_chosen_by_jurisdiction_and_date(
    jurisdiction: str, on: date, version: str
) -> None:
    assert profile_for(jurisdiction, on).version == version
    assert BUNDLED.profile_for(jurisdiction, on).version == version


def test_a_date_before_the_nrm_has_no_profile() -> None:
    with pytest.raises(NoProfileError) as raised:
        profile_for("england_and_wales", date(2009, 3, 31))
    message = str(raised.value)
    assert '"england_and_wales" is in force on 2009-03-31' in message
    assert "starts on 2009-04-01" in message
    assert "ew-2009-04-01" in message


def test_an_unknown_jurisdiction_says_which_exist() -> None:
    with pytest.raises(NoProfileError, match='jurisdiction "wales"; profiles exist for: cets197'):
        profile_for("wales", date(2024, 1, 1))


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(NoProfileError, match='no policy profile with version "ew-1999"'):
        BUNDLED.get("ew-1999")


@pytest.mark.parametrize("jurisdiction", UK)
def test_uk_profiles_follow_each_other_without_gaps(jurisdiction: str) -> None:
    chain = BUNDLED.for_jurisdiction(jurisdiction)
    assert chain[0].effective_from == NRM_START
    for earlier, later in pairwise(chain):
        assert earlier.effective_to == later.effective_from - timedelta(days=1)
    assert chain[-1].effective_to is None


@given(
    st.sampled_from([*UK, "cets197"]),
    st.dates(min_value=NRM_START, max_value=date(2060, 12, 31)),
)
def test_exactly_one_profile_is_in_force_on_any_day(jurisdiction: str, on: date) -> None:
    in_force = [p for p in BUNDLED.for_jurisdiction(jurisdiction) if p.in_force_on(on)]
    assert len(in_force) == 1
    assert profile_for(jurisdiction, on) == in_force[0]


# A deployment's own profiles -----------------------------------------------------------------


def test_a_deployment_adds_a_profile_for_its_own_jurisdiction(tmp_path: Path) -> None:
    write(tmp_path, "ie.json", a_deployment_profile())
    profiles = load_profiles([tmp_path])
    profile = profiles.profile_for("ireland", date(2024, 3, 1))
    assert profile.version == "ie-2024-01-01"
    assert profile.calendar == WorkingCalendar("IE")
    assert profiles.profile_for("england_and_wales", date(2024, 3, 1)).version == "ew-2023-01-30"


def test_a_deployment_profile_can_supersede_an_open_ended_one(tmp_path: Path) -> None:
    doc = bundled_doc()
    doc.update(
        version="ew-2027-04-06",
        effective_from="2027-04-06",
        supersedes="ew-2023-01-30",
        move_on_after_negative_conclusive={"days": 14, "unit": "calendar_days"},
    )
    write(tmp_path, "ew-2027.json", doc)
    profiles = load_profiles([tmp_path])
    assert profiles.get("ew-2023-01-30").effective_to == date(2027, 4, 5)
    assert profiles.profile_for("england_and_wales", date(2027, 4, 5)).version == "ew-2023-01-30"
    later = profiles.profile_for("england_and_wales", date(2027, 4, 6))
    assert later.move_on_after_negative_conclusive == Period(14, PeriodUnit.CALENDAR_DAYS)


def test_without_supersedes_a_later_profile_overlaps_the_open_ended_one(tmp_path: Path) -> None:
    doc = bundled_doc()
    doc.update(version="ew-2027-04-06", effective_from="2027-04-06")
    (problem,) = problems_of(tmp_path, doc)
    assert problem == (
        f'{tmp_path / "p0.json"}: "ew-2027-04-06" (2027-04-06 to open-ended) overlaps '
        f'"ew-2023-01-30" (2023-01-30 to open-ended) in {BUNDLED_DIR / "ew-2023-01-30.json"} '
        'for "england_and_wales"; to end it when the new one starts, add "supersedes": '
        '"ew-2023-01-30"'
    )


def test_overlapping_ranges_for_a_jurisdiction_are_refused(tmp_path: Path) -> None:
    doc = bundled_doc("ew-2019-10-01")
    doc.update(version="ew-2020-06-01", effective_from="2020-06-01", effective_to="2020-12-31")
    (problem,) = problems_of(tmp_path, doc)
    assert '"ew-2020-06-01" (2020-06-01 to 2020-12-31) overlaps "ew-2019-10-01"' in problem
    assert "(2019-10-01 to 2022-12-12)" in problem


def test_two_deployment_profiles_overlapping_each_other_are_refused(tmp_path: Path) -> None:
    first = a_deployment_profile(effective_to="2024-12-31")
    second = a_deployment_profile(version="ie-2024-06-01", effective_from="2024-06-01")
    (problem,) = problems_of(tmp_path, first, second)
    assert '"ie-2024-06-01" (2024-06-01 to open-ended) overlaps "ie-2024-01-01"' in problem
    assert "supersedes" not in problem


def test_profiles_starting_the_same_day_overlap(tmp_path: Path) -> None:
    first = a_deployment_profile(effective_to="2024-12-31")
    second = a_deployment_profile(version="ie-bis", effective_to="2024-01-31")
    (problem,) = problems_of(tmp_path, first, second)
    assert "overlaps" in problem


def test_ranges_that_touch_do_not_overlap(tmp_path: Path) -> None:
    write(tmp_path, "a.json", a_deployment_profile(effective_to="2024-12-31"))
    write(tmp_path, "b.json", a_deployment_profile(version="ie-2025", effective_from="2025-01-01"))
    profiles = load_profiles([tmp_path])
    assert profiles.profile_for("ireland", date(2024, 12, 31)).version == "ie-2024-01-01"
    assert profiles.profile_for("ireland", date(2025, 1, 1)).version == "ie-2025"


def test_a_gap_between_profiles_is_explained(tmp_path: Path) -> None:
    write(tmp_path, "a.json", a_deployment_profile(effective_to="2024-06-30"))
    write(tmp_path, "b.json", a_deployment_profile(version="ie-2025", effective_from="2025-01-01"))
    with pytest.raises(NoProfileError, match="falls in a gap between profiles"):
        load_profiles([tmp_path]).profile_for("ireland", date(2024, 8, 1))


def test_a_bad_supersedes_is_refused(tmp_path: Path) -> None:
    closed = bundled_doc()
    closed.update(version="ew-2027", effective_from="2027-01-01", supersedes="ew-2019-10-01")
    elsewhere = a_deployment_profile(supersedes="ew-2023-01-30")
    problems = problems_of(tmp_path, closed, elsewhere)
    assert any(
        'supersedes "ew-2019-10-01", but only an open-ended profile that starts earlier' in p
        for p in problems
    )
    assert any(
        'supersedes "ew-2023-01-30", which is not a profile for "ireland"' in p for p in problems
    )


def test_a_version_used_twice_is_refused(tmp_path: Path) -> None:
    doc = a_deployment_profile(version="ew-2023-01-30")
    (problem,) = problems_of(tmp_path, doc)
    assert problem == (
        f'{tmp_path / "p0.json"}: version "ew-2023-01-30" is already used by '
        f"{BUNDLED_DIR / 'ew-2023-01-30.json'}"
    )


def test_one_key_serves_one_jurisdiction(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, a_deployment_profile(key="uk-nrm-scotland"))
    assert 'key "uk-nrm-scotland" is used for the jurisdiction "scotland"' in problem


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="the policy profile directory does not exist"):
        load_profiles([tmp_path / "nowhere"])


def test_directories_come_from_an_environment_value(tmp_path: Path) -> None:
    assert parse_profile_dirs(None) == []
    assert parse_profile_dirs("") == []
    assert parse_profile_dirs(f"{tmp_path}/a:{tmp_path}/b:") == [tmp_path / "a", tmp_path / "b"]


def test_installed_profiles_are_the_ones_profile_for_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiles_module, "_active", None)
    assert active_profiles() == BUNDLED
    write(tmp_path, "ie.json", a_deployment_profile())
    install_profiles([tmp_path])
    assert profile_for("ireland", date(2024, 2, 1)).version == "ie-2024-01-01"
    with pytest.raises(ProfileError):
        install_profiles([tmp_path / "nowhere"])
    # A failed install leaves the last good set in place.
    assert profile_for("ireland", date(2024, 2, 1)).version == "ie-2024-01-01"


# Bad files -----------------------------------------------------------------------------------


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, '{"format": 1,\n  "key": }')
    assert (
        problem
        == f"{tmp_path / 'p0.json'}: is not valid JSON (Expecting value at line 2, column 10)"
    )


def test_a_file_holding_a_list_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, [a_deployment_profile()])
    assert problem.endswith("must hold one JSON object (a profile)")


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    doc = a_deployment_profile(
        format=2,
        version="IE 2024",
        effective_from="1 Jan 2024",
        recovery_period_days="thirty",
        recovery_period_extendable="yes",
        conclusive_grounds_earliest="soon",
        exploitation_types=["sexual", "cybercrime", "sexual"],
        calendar={"country": "GB", "subdivision": "XX"},
        move_on_after_negative_conclusive={"days": 0, "unit": "fortnights"},
        reconsideration_requesters=["referrer", "lawyer"],
        colour="blue",
    )
    del doc["title"]
    where = str(tmp_path / "p0.json")
    problems = problems_of(tmp_path, doc)
    expected = [
        f"{where}: colour is not a known field (check its spelling)",
        f"{where}: format must be 1, not 2",
        f'{where}: effective_from must be a date written YYYY-MM-DD, not "1 Jan 2024"',
        f'{where}: reconsideration_requesters[1] "lawyer" is not known; use one of: referrer, support_provider, person, legal_representative',
        f"{where}: version \"IE 2024\" is not allowed: use lower-case letters, digits, '.', '-' or '_' (at most 60)",
        f"{where}: title is missing",
        f'{where}: calendar.subdivision "XX" is not a subdivision of GB; known: ENG, NIR, SCT, WLS',
        f'{where}: recovery_period_days must be a whole number of at least 1, not "thirty"',
        f'{where}: recovery_period_extendable must be true or false, not "yes"',
        f'{where}: conclusive_grounds_earliest "soon" is not known; use one of: last_day_of_recovery_period, after_recovery_period, not_tied_to_recovery_period',
        f"{where}: move_on_after_negative_conclusive.days must be a whole number of at least 1, not 0",
        f'{where}: move_on_after_negative_conclusive.unit "fortnights" is not known; use one of: calendar_days, working_days',
        f'{where}: exploitation_types[1] "cybercrime" is not known; use one of: criminal, domestic_servitude, forced_marriage, labour, organ_harvesting, sexual, unknown',
        f"{where}: exploitation_types lists a type twice",
    ]
    assert problems == expected


def test_problems_in_several_files_are_all_reported(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        a_deployment_profile(title=""),
        a_deployment_profile(version="ie-b", effective_from="2030-01-01", key=7),
    )
    assert problems == [
        f"{tmp_path / 'p0.json'}: title must be text that is not empty",
        f"{tmp_path / 'p1.json'}: key must be text that is not empty",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"effective_to": "2023-12-31"},
            "effective_to (2023-12-31) is before effective_from (2024-01-01)",
        ),
        ({"effective_from": None}, "effective_from must be a date written YYYY-MM-DD, not null"),
        (
            {"jurisdiction": "Ireland!"},
            '"Ireland!" is not allowed: use lower_case_with_underscores',
        ),
        (
            {"calendar": {"country": "ZZ", "subdivision": None}},
            'calendar.country "ZZ" is not a country',
        ),
        ({"calendar": {"country": None, "subdivision": "ENG"}}, "known: none without a country"),
        ({"calendar": "GB"}, 'calendar must be an object with "country" and "subdivision"'),
        (
            {"reasonable_grounds_target_working_days": True},
            "reasonable_grounds_target_working_days must be a whole number of at least 1, not true",
        ),
        ({"reasonable_grounds_test": None}, "reasonable_grounds_test must be text, not null"),
        ({"recovery_period_days": None}, "recovery_period_days must be a whole number"),
        (
            {"recovery_period_days": -45},
            "recovery_period_days must be a whole number of at least 1",
        ),
        (
            {"conclusive_grounds_outcomes": [{"code": "yes", "label": "Yes", "kind": "positive"}]},
            "conclusive_grounds_outcomes must include at least one positive and one negative outcome",
        ),
        (
            {
                "conclusive_grounds_outcomes": [
                    {"code": "yes", "label": "Yes", "kind": "positive"},
                    {"code": "no", "label": "No", "kind": "negative"},
                    {"code": "later", "label": "Later", "kind": "not_decided"},
                ]
            },
            "conclusive_grounds_outcomes[2].kind must be positive or negative",
        ),
        (
            {
                "reasonable_grounds_outcomes": [
                    {"code": "yes", "label": "Yes", "kind": "positive"},
                    {"code": "yes", "label": "No", "kind": "negative"},
                ]
            },
            'reasonable_grounds_outcomes[1].code "yes" is used twice',
        ),
        (
            {"reasonable_grounds_outcomes": [{"code": "Yes!", "label": "Yes", "kind": "positive"}]},
            "reasonable_grounds_outcomes[0].code must be lower_case_with_underscores",
        ),
        (
            {"reasonable_grounds_outcomes": ["positive", "negative"]},
            'reasonable_grounds_outcomes[0] must be an object with "code", "label" and "kind"',
        ),
        (
            {"reconsideration_window_days": None},
            "reconsideration_window_days is null (no reconsideration), so reconsiderable_decisions "
            "and reconsideration_requesters must be empty",
        ),
        (
            {"reconsiderable_decisions": []},
            "reconsideration_window_days is set, so reconsiderable_decisions and "
            "reconsideration_requesters must list some",
        ),
        (
            {"disqualification_available": False},
            'reconsiderable_decisions lists "disqualification" but disqualification_available is false',
        ),
        (
            {
                "reconsiderable_decisions": [
                    "negative_reasonable_grounds",
                    "negative_reasonable_grounds",
                ]
            },
            'reconsiderable_decisions[1] "negative_reasonable_grounds" is listed twice',
        ),
        (
            {"move_on_after_positive_conclusive": 45},
            'must be null or an object with "days" and "unit"',
        ),
        ({"exploitation_types": []}, "exploitation_types must list at least one entry"),
        ({"exploitation_types": "sexual"}, "exploitation_types must be a list"),
        ({"source_notes": []}, "source_notes must list at least one entry"),
        ({"source_notes": ["FACTS 2.6", None]}, "source_notes[1] must be text, not null"),
        ({"title": "x" * 2001}, "title is 2001 characters long; the limit is 2000"),
        ({"supersedes": "Not A Version"}, '"Not A Version" is not allowed'),
        (
            {"recovery_period_counting": "from_the_morning_after"},
            'recovery_period_counting "from_the_morning_after" is not known; use one of: '
            "from_day_after_decision, beginning_with_decision_day",
        ),
        (
            {"support_after_positive_reasonable_grounds": {"days": 90}},
            "support_after_positive_reasonable_grounds must be null or an object with adults_only, "
            "counting, days, ends_at_conclusive_decision, label",
        ),
        (
            {
                "support_after_positive_reasonable_grounds": {
                    "days": 0,
                    "counting": "beginning_with_decision_day",
                    "adults_only": "yes",
                    "ends_at_conclusive_decision": True,
                    "label": "Support",
                }
            },
            "support_after_positive_reasonable_grounds.adults_only must be true or false",
        ),
    ],
)
def test_a_bad_field_is_refused_with_a_clear_message(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    problems = problems_of(tmp_path, a_deployment_profile(**changes))
    assert any(message in problem for problem in problems), problems
    assert all(problem.startswith(f"{tmp_path / 'p0.json'}: ") for problem in problems)


OPTIONAL_FIELDS = ("recovery_period_counting", "support_after_positive_reasonable_grounds")


def test_every_required_field_must_be_present() -> None:
    doc = a_deployment_profile()
    for name in [n for n in doc if n not in OPTIONAL_FIELDS]:
        incomplete = {k: v for k, v in doc.items() if k != name}
        with pytest.raises(ProfileError) as raised:
            parse_profile(json.dumps(incomplete), "ie.json")
        assert f"ie.json: {name} is missing" in raised.value.problems


def test_parse_profile_reads_one_document() -> None:
    profile = parse_profile(json.dumps(a_deployment_profile()), "ie.json")
    assert profile.version == "ie-2024-01-01"
    assert profile.source_file == "ie.json"
    assert profile.effective_to is None


# Issue 10: the regime of 13 December 2022, counting "beginning with the day", Scotland's 90 days


def test_the_optional_fields_default_to_what_profiles_meant_before_they_existed() -> None:
    doc = a_deployment_profile()
    for name in OPTIONAL_FIELDS:
        doc.pop(name, None)
    profile = parse_profile(json.dumps(doc), "ie.json")
    assert profile.recovery_period_counting == Counting.FROM_DAY_AFTER_DECISION
    assert profile.support_after_positive_reasonable_grounds is None


def test_from_13_december_2022_the_recovery_period_is_30_days_in_every_uk_jurisdiction() -> None:
    for jurisdiction in UK:
        before = profile_for(jurisdiction, date(2022, 12, 12))
        after = profile_for(jurisdiction, date(2022, 12, 13))
        assert (before.recovery_period_days, after.recovery_period_days) == (45, 30)
        assert after.effective_to == date(2023, 1, 29)
        # The reasonable grounds test itself changed only on 30 Jan 2023.
        assert " may be a victim" in after.reasonable_grounds_test
        assert any("13 Dec 2022" in note for note in after.source_notes)


def test_scottish_profiles_carry_the_90_days_of_support_from_1_april_2018() -> None:
    for profile in BUNDLED.for_jurisdiction("scotland"):
        support = profile.support_after_positive_reasonable_grounds
        if profile.effective_from < date(2018, 4, 1):
            assert support is None
            continue
        assert support is not None
        assert support.days == 90
        assert support.adults_only
        assert support.ends_at_conclusive_decision
        assert support.counting == Counting.BEGINNING_WITH_DECISION_DAY
        assert "(Scotland) Act 2015 s.9" in str(support)
        assert "or until the conclusive grounds decision if that is sooner" in str(support)
    for profile in BUNDLED.for_jurisdiction("england_and_wales"):
        assert profile.support_after_positive_reasonable_grounds is None
    # Northern Ireland's 45 days (s.18) are checked in test_policy_review_gaps.
