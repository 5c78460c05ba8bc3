"""Candidate pairs and closed cases for the linkage tests, made directly (a run's scoring is
tested on its own): one place, so a change to `CandidatePair` is made once."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from django.utils import timezone
from splink import SettingsCreator

from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.linkage import charts, engine
from opennrm.linkage.models import CandidatePair, PairStatus
from opennrm.linkage.prepare import PreparedRecord

WEIGHT = 12.0  # a likely match: probability about 0.9998


def pair_of(
    one: Case,
    other: Case,
    status: str = PairStatus.PROPOSED,
    *,
    weight: float = WEIGHT,
    comparisons: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> CandidatePair:
    """A pair found by a run, the lower case id first, as the runs store them."""
    first, second = sorted((one, other), key=lambda case: case.pk)
    return CandidatePair.objects.create(
        case_a=first,
        case_b=second,
        match_weight=weight,
        match_probability=charts.probability(weight),
        comparisons=comparisons or [],
        fingerprint="0" * 64,
        fingerprint_key="k1",
        status=status,
        created_at=timezone.now(),
        **fields,
    )


def closed(case: Case, when: datetime | None = None) -> Case:
    """The case closed at `when` (by default three days ago), as retention finds it."""
    at = when or timezone.now() - timedelta(days=3)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=at)
    case.refresh_from_db()
    return case


def settings_before_stop44() -> SettingsCreator:
    """The model's settings as they were until 2026-12-06 (stop 44): both names one comparison
    ("name", `engine._name_comparison`), and the nationalities compared whatever the names."""
    nationalities = cl.CustomComparison(
        output_column_name="nationalities",
        comparison_description="Nationalities",
        comparison_levels=[
            cll.NullLevel("nationalities"),
            cll.ArrayIntersectLevel("nationalities", 1).configure(label_for_charts="One in common"),
            cll.ElseLevel(),
        ],
    )
    now = engine.settings()
    after_names = [
        nationalities if comparison.create_output_column_name() == "nationalities" else comparison
        for comparison in now.comparisons[3:]
    ]
    return dataclasses.replace(now, comparisons=[engine._name_comparison(), *after_names])


def trained_before_stop44(records: Sequence[PreparedRecord]) -> dict[str, Any]:
    """A model trained on `records` as one stored before 2026-12-06 was (`settings_before_stop44`)."""
    before = settings_before_stop44()
    with mock.patch.object(engine, "settings", return_value=before):
        return engine.train(records)
