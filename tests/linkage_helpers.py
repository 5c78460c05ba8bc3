"""Candidate pairs and closed cases for the linkage tests, made directly (a run's scoring is
tested on its own): one place, so a change to `CandidatePair` is made once."""

from __future__ import annotations

import dataclasses
from collections import Counter
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
from opennrm.linkage import charts, engine, scoring
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


def _places_before_stop45() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="places",
        comparison_description="Places of exploitation (words naming them)",
        comparison_levels=[
            cll.NullLevel("places"),
            cll.ArrayIntersectLevel("places", 2).configure(
                label_for_charts="Two or more place words in common"
            ),
            cll.ArrayIntersectLevel("places", 1).configure(
                label_for_charts="One place word in common"
            ),
            cll.ElseLevel(),
        ],
    )


def _dob_before_stop45() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Date of birth, or the year estimated from an age",
        comparison_levels=[
            cll.NullLevel("dob_year"),
            cll.ExactMatchLevel("dob").configure(label_for_charts="The same date"),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_day_l = dob_month_r AND dob_month_l = dob_day_r",
                label_for_charts="Day and month swapped",
            ),
            cll.DamerauLevenshteinLevel("dob", 1).configure(
                label_for_charts="One digit off or two exchanged"
            ),
            cll.CustomLevel(
                "(dob_estimated_l OR dob_estimated_r) AND abs(dob_year_l - dob_year_r) <= 1",
                label_for_charts="Within a year, one estimated",
            ),
            cll.ExactMatchLevel("dob_year").configure(label_for_charts="The same year"),
            cll.ElseLevel(),
        ],
    )


def _first_contact_before_stop45() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="first_contact",
        comparison_description="Date of first contact",
        comparison_levels=[
            cll.NullLevel("first_contact"),
            cll.CustomLevel(
                "abs(first_contact_l - first_contact_r) <= 30", label_for_charts="Within 30 days"
            ),
            cll.CustomLevel(
                "abs(first_contact_l - first_contact_r) <= 365", label_for_charts="Within a year"
            ),
            cll.ElseLevel(),
        ],
    )


def _replaced(settings: SettingsCreator, before: dict[str, Any]) -> SettingsCreator:
    comparisons = [
        before.get(comparison.create_output_column_name(), comparison)
        for comparison in settings.comparisons
    ]
    return dataclasses.replace(settings, comparisons=comparisons)


def settings_before_stop47() -> SettingsCreator:
    """The model's settings as they were at stop 46: no comparison of the nationalities of
    namesakes ("nationality_of_namesakes")."""
    settings = engine.settings()
    comparisons = [
        comparison
        for comparison in settings.comparisons
        if comparison.create_output_column_name() != "nationality_of_namesakes"
    ]
    return dataclasses.replace(settings, comparisons=comparisons)


def settings_before_stop46() -> SettingsCreator:
    """The model's settings as they were at stop 45: the names swapped one comparison of their
    own, unweighed by the names' frequency ("names_crossed"), each name not compared then
    ("given_name", "family_name"); no level for a swap with one name misspelt; no level for a
    year of birth two years off ("date_of_birth")."""
    return _replaced(
        settings_before_stop47(),
        {
            "given": engine._name_part("given", "Given name"),
            "family": engine._name_part("family", "Family name"),
            "names_swapped": engine._names_crossed(),
            "birth": engine._date_of_birth(two_years=False),
        },
    )


def settings_before_stop45() -> SettingsCreator:
    """The model's settings as they were until 2026-12-06 (stop 45): no level for two estimated
    years of birth ("dob"), every place word counted alike ("places"), and the first contacts
    within 30 days, within a year or further apart ("first_contact")."""
    return _replaced(
        settings_before_stop46(),
        {
            "date_of_birth": _dob_before_stop45(),
            "place_words": _places_before_stop45(),
            "first_contact_apart": _first_contact_before_stop45(),
        },
    )


def settings_before_stop44() -> SettingsCreator:
    """The model's settings as they were until 2026-12-06 (stop 44): both names one comparison
    ("name", `engine._name_comparison`), and the nationalities compared whatever the names;
    the places and first contacts as before stop 45."""
    nationalities = cl.CustomComparison(
        output_column_name="nationalities",
        comparison_description="Nationalities",
        comparison_levels=[
            cll.NullLevel("nationalities"),
            cll.ArrayIntersectLevel("nationalities", 1).configure(label_for_charts="One in common"),
            cll.ElseLevel(),
        ],
    )
    stop45 = settings_before_stop45()
    after_names = [
        nationalities if comparison.create_output_column_name() == "nationalities" else comparison
        for comparison in stop45.comparisons[3:]
    ]
    return dataclasses.replace(stop45, comparisons=[engine._name_comparison(), *after_names])


def trained_with(settings: SettingsCreator, records: Sequence[PreparedRecord]) -> dict[str, Any]:
    """A model trained on `records` with these settings, as one stored with them was."""
    with mock.patch.object(engine, "settings", return_value=settings):
        return engine.train(records)


def trained_before_stop44(records: Sequence[PreparedRecord]) -> dict[str, Any]:
    """A model trained on `records` as one stored before 2026-12-06 was (`settings_before_stop44`)."""
    return trained_with(settings_before_stop44(), records)


def frequencies_in(records: Sequence[PreparedRecord]) -> scoring.Frequency:
    """Each value's share of `records`, as the engine counts it over the records it scores:
    how many have the value, over how many have one; a place word's, how many name it over
    all the records (`engine.rare_places`)."""
    counts: dict[str, Counter[str]] = {}

    def frequency(column: str, value: str) -> float | None:
        if column not in counts and column == "places":
            counts[column] = Counter(word for record in records for word in record.places or ())
        elif column not in counts:
            counts[column] = Counter(
                v for record in records if (v := getattr(record, column)) is not None
            )
        seen = counts[column]
        total = len(records) if column == "places" else seen.total()
        return seen[value] / total if seen[value] else None

    return frequency
