"""The catalogue of main reasons for a negative decision (ADR 0038): policy data with effective
dates, in step with the policy profiles; the migration that leaves the decisions already made
without one ("not recorded") rather than inventing it; and the demo's negative decisions."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.decisions.models import Decision, DecisionKind
from opennrm.policy.negative_reasons import (
    BUNDLED,
    NOT_RECORDED,
    NOT_RECORDED_LABEL,
    CatalogueError,
    catalogue,
    parse_catalogue,
)
from opennrm.policy.profiles import PolicyProfile, load_profiles

from . import case_factories


def test_the_bundled_catalogue_is_short_and_every_code_is_unique() -> None:
    codes = catalogue().codes
    assert len(codes) == len(set(codes))
    assert NOT_RECORDED not in codes
    assert set(codes) == {
        "no_action",
        "no_means",
        "no_purpose",
        "forced_labour_elements_not_met",
        "not_credible",
        "insufficient_information",
    }
    assert catalogue().label("") == NOT_RECORDED_LABEL


@pytest.mark.parametrize("profile", load_profiles().profiles, ids=lambda p: p.version)
def test_the_reasons_follow_the_rules_in_force(profile: PolicyProfile) -> None:
    """On each profile's first day: the forced labour reason exactly where the profile has a
    conclusive outcome for slavery, servitude and forced labour; means never for a child."""
    day = profile.effective_from
    adult = {r.code for r in catalogue().choices(profile.jurisdiction, day, child=False)}
    child = {r.code for r in catalogue().choices(profile.jurisdiction, day, child=True)}
    slavery_outcome = any(
        o.code == "recognised_slavery" for o in profile.conclusive_grounds_outcomes
    )
    assert ("forced_labour_elements_not_met" in adult) == slavery_outcome
    assert {"no_action", "no_purpose", "not_credible", "insufficient_information"} <= child
    assert "no_means" in adult
    assert child == adult - {"no_means"}


def test_means_are_refused_for_a_person_exploited_as_a_child_saying_so() -> None:
    on = date(2024, 1, 1)
    refusal = catalogue().refusal
    assert refusal("no_means", "scotland", on, child=False) is None
    assert refusal("no_means", "scotland", on, child=False, exploited_as_child=True) == (
        "Means are not needed for a person exploited as a child: choose another reason"
    )
    assert refusal("no_means", "scotland", on, child=True, exploited_as_child=True) == (
        "Means are not needed for a child: choose another reason"
    )
    assert refusal("no_purpose", "scotland", on, child=False, exploited_as_child=True) is None


def test_a_reason_applies_only_from_its_first_day() -> None:
    before = catalogue().choices("england_and_wales", date(2015, 10, 31), child=False)
    after = catalogue().choices("england_and_wales", date(2015, 11, 1), child=False)
    assert "forced_labour_elements_not_met" not in {r.code for r in before}
    assert "forced_labour_elements_not_met" in {r.code for r in after}


def test_a_bad_catalogue_lists_every_problem_saying_where() -> None:
    doc = json.loads(BUNDLED.read_text(encoding="utf-8"))
    doc["reasons"] += [
        dict(doc["reasons"][0]),
        {"code": "Bad Code", "label": "", "effective_from": "soon", "for_children": "yes"},
        {**doc["reasons"][1], "code": NOT_RECORDED},
    ]
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(json.dumps(doc), "reasons.json")
    problems = error.value.problems
    assert 'reasons.json: reasons[6]: the code "no_action" is used twice' in problems
    assert "reasons.json: reasons[7]: code must be lower-case letters, digits and _" in problems
    assert "reasons.json: reasons[7]: label must be text" in problems
    assert "reasons.json: reasons[7]: effective_from must be a date like 2023-01-30" in problems
    assert "reasons.json: reasons[7]: for_children must be true or false" in problems
    assert any("kept for decisions without a coded reason" in p for p in problems)


@pytest.mark.django_db(transaction=True)
def test_the_migration_leaves_decisions_already_made_without_a_reason(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    made = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
    )
    decision = made.decisions.get()
    executor = MigrationExecutor(connection)
    executor.migrate([("decisions", "0008_reconsiderationevidence")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    decision = Decision.objects.get(pk=decision.pk)
    assert decision.outcome_kind == "negative"
    assert decision.negative_reason == ""
    assert decision.negative_reason_label == NOT_RECORDED_LABEL


@override_settings(DEMO=True)
def test_every_demo_negative_decision_names_its_main_reason(db: None) -> None:
    call_command("demo_data")
    negative = Decision.objects.filter(
        outcome_kind="negative",
        kind__in=(DecisionKind.REASONABLE_GROUNDS, DecisionKind.CONCLUSIVE_GROUNDS),
    )
    reasons = list(negative.values_list("negative_reason", flat=True))
    assert reasons, "the demo has negative decisions to count"
    assert set(reasons) <= set(catalogue().codes)
    assert not Decision.objects.exclude(outcome_kind="negative").exclude(negative_reason="")
