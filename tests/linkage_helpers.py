"""Candidate pairs and closed cases for the linkage tests, made directly (a run's scoring is
tested on its own): one place, so a change to `CandidatePair` is made once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.linkage import charts
from opennrm.linkage.models import CandidatePair, PairStatus

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
