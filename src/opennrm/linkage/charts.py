"""Figures for the review and quality pages, with no Django: the waterfall of a pair's match
weights as bars to draw, a Wilson interval for a proportion, and a weight as a probability.

The waterfall starts from the prior (the weight of two records taken at random being one
person) and adds each compared field's weight; the last bar is the total, whose probability is
the pair's match probability (ADR 0048, 0049).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# What each comparison is called on the pages (engine.settings names them).
COMPARISON_NAMES = {
    "given": "Given name",
    "family": "Family name",
    "names_swapped": "Names swapped, one misspelt",
    "birth": "Date of birth",
    "given_name": "Given name",
    "family_name": "Family name",
    "names_crossed": "Names swapped",
    "name": "Names",
    "date_of_birth": "Date of birth",
    "dob": "Date of birth",
    "sex": "Sex",
    "nationalities": "Nationality",
    "nationality_of_namesakes": "Nationality (a name in common)",
    "phone": "Phone number",
    "area": "Area",
    "place_words": "Places of exploitation",
    "places": "Places of exploitation",
    "first_contact_apart": "First contact",
    "first_contact": "First contact",
    "referring_organisation": "Referring organisation",
}


MISSING = "Not given in one or both referrals"


def comparison_name(name: str) -> str:
    return COMPARISON_NAMES.get(name, name.replace("_", " ").capitalize())


def _unlabelled_null(row: dict[str, Any]) -> bool:
    """The level "nothing to compare" with splink's own label ("<column> is NULL")."""
    return row.get("gamma") == -1 and "is NULL" in (row.get("label") or "is NULL")


def probability(weight: float) -> float:
    """The probability whose log2 odds is `weight`."""
    if weight > 1000:
        return 1.0
    odds = math.pow(2, weight)
    return odds / (1 + odds)


def wilson(successes: int, total: int, z: float = 1.959964) -> tuple[float, float] | None:
    """The Wilson score interval (95% by default) of a proportion; None with nothing to count."""
    if total <= 0:
        return None
    p = successes / total
    centre = p + z * z / (2 * total)
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    denominator = 1 + z * z / total
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


@dataclass(frozen=True)
class Step:
    """One row of the waterfall: its label, the level reached (empty for the prior and total),
    its weight and Bayes factor, and where its bar starts and ends on the weight axis."""

    key: str
    label: str
    level: str
    match_weight: float
    bayes_factor: float
    start: float
    end: float
    total: bool = False


def waterfall(comparisons: list[dict[str, Any]], match_weight: float) -> list[Step]:
    """The prior, each comparison's contribution, and the total. The prior is what the total
    has beyond the fields' weights (a pair found at submission has no run, so no model, to read
    it from; the weights add up exactly, `tests/test_linkage_run.py` holds it)."""
    prior = match_weight - sum(float(row["match_weight"]) for row in comparisons)
    steps = [Step("prior", "Prior", "", prior, math.pow(2, prior), 0.0, prior)]
    at = prior
    for row in comparisons:
        weight = float(row["match_weight"])
        steps.append(
            Step(
                row["comparison"],
                comparison_name(row["comparison"]),
                # splink's null level is labelled "<column> is NULL": said in words here.
                MISSING if _unlabelled_null(row) else row.get("label", ""),
                weight,
                float(row.get("bayes_factor", math.pow(2, weight))),
                at,
                at + weight,
            )
        )
        at += weight
    steps.append(
        Step("total", "Total", "", match_weight, math.pow(2, match_weight), 0.0, match_weight, True)
    )
    return steps


@dataclass(frozen=True)
class Bar:
    label: str
    level: str
    weight: float
    x: float
    y: float
    width: float
    positive: bool
    total: bool
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    zero_x: float
    axis_top: float
    axis_bottom: float
    ticks: list[tuple[float, str]]
    bars: list[Bar]


LABEL_WIDTH = 130
PLOT_WIDTH = 440
ROW = 30
BAR = 20
TOP = 10


def chart(steps: list[Step]) -> Chart:
    """Where to draw each step's bar: a horizontal waterfall, one row per step, weights on
    the x axis (a tick every 5 or 10)."""
    ends = [0.0] + [s.start for s in steps] + [s.end for s in steps]
    low, high = min(ends), max(ends)
    span = max(high - low, 1.0)
    scale = PLOT_WIDTH / span

    def x_of(weight: float) -> float:
        return LABEL_WIDTH + (weight - low) * scale

    bars = []
    for i, step in enumerate(steps):
        left, right = sorted((step.start, step.end))
        y = TOP + i * ROW
        bars.append(
            Bar(
                label=step.label,
                level=step.level,
                weight=step.match_weight,
                x=round(x_of(left), 1),
                y=y,
                width=round(max((right - left) * scale, 1.0), 1),
                positive=step.match_weight >= 0,
                total=step.total,
                text_x=LABEL_WIDTH - 6,
                text_y=y + BAR * 0.7,
            )
        )
    interval = 5 if span <= 40 else 10
    first = math.ceil(low / interval) * interval
    ticks = [
        (round(x_of(value), 1), f"{value:g}")
        for value in range(int(first), math.floor(high) + 1, interval)
    ]
    height = TOP + len(steps) * ROW + 24
    return Chart(
        width=LABEL_WIDTH + PLOT_WIDTH + 20,
        height=height,
        zero_x=round(x_of(0.0), 1),
        axis_top=TOP - 4,
        axis_bottom=TOP + len(steps) * ROW,
        ticks=ticks,
        bars=bars,
    )
