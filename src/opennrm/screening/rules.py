"""The ILO/EC indicator rule: which dimensions the observed indicators meet, and whether together
they form the pattern that suggests trafficking.

Pure Python, no Django, so it is easy to test, to reason about and to reuse (the referral
journey, the API and later the statistics all call `evaluate`).

The rule, as `docs/domain-facts.md` section 4.1 records it from the ILO/European Commission
"Operational indicators of trafficking in human beings" (2009):

1. A dimension is met when its observed indicators include at least
   (a) two strong; or (b) one strong and one medium or weak; or (c) three medium; or
   (d) two medium and one weak. Weak indicators alone never meet a dimension.
2. For an adult, the pattern is there when a recruitment dimension (deceptive, coercive or abuse
   of vulnerability) is met, AND exploitative conditions is met, AND a "means" dimension at
   destination (coercion, or abuse of vulnerability) is met.
3. For a child, the means are not needed (Palermo Protocol Art. 3(c)): recruitment and
   exploitation are enough. So too for an adult who was a child when the exploitation began
   (CETS 197 Art. 4(c); ADR 0042): they were a child victim, whatever their age now.

The result is guidance for the first responder and never a decision: only a competent authority
decides whether someone is a victim, and a referral does not need the pattern to be met.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Dimension(StrEnum):
    """The six ILO/EC dimensions, in the order they are shown."""

    DECEPTIVE_RECRUITMENT = "deceptive_recruitment"
    COERCIVE_RECRUITMENT = "coercive_recruitment"
    ABUSE_OF_VULNERABILITY_RECRUITMENT = "abuse_of_vulnerability_recruitment"
    EXPLOITATIVE_CONDITIONS = "exploitative_conditions"
    COERCION_AT_DESTINATION = "coercion_at_destination"
    ABUSE_OF_VULNERABILITY_AT_DESTINATION = "abuse_of_vulnerability_at_destination"

    @property
    def label(self) -> str:
        return DIMENSION_LABELS[self]


DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.DECEPTIVE_RECRUITMENT: "Deceptive recruitment",
    Dimension.COERCIVE_RECRUITMENT: "Coercive recruitment",
    Dimension.ABUSE_OF_VULNERABILITY_RECRUITMENT: "Recruitment by abuse of vulnerability",
    Dimension.EXPLOITATIVE_CONDITIONS: "Exploitative conditions",
    Dimension.COERCION_AT_DESTINATION: "Coercion at destination",
    Dimension.ABUSE_OF_VULNERABILITY_AT_DESTINATION: "Abuse of vulnerability at destination",
}


class Strength(StrEnum):
    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"


class Combination(StrEnum):
    """Which branch of the dimension rule was satisfied (the first that applies, in order)."""

    TWO_STRONG = "two_strong"
    STRONG_AND_ANOTHER = "strong_and_another"
    THREE_MEDIUM = "three_medium"
    TWO_MEDIUM_AND_WEAK = "two_medium_and_weak"

    @property
    def description(self) -> str:
        return COMBINATION_DESCRIPTIONS[self]


COMBINATION_DESCRIPTIONS: dict[Combination, str] = {
    Combination.TWO_STRONG: "at least two strong indicators",
    Combination.STRONG_AND_ANOTHER: "one strong indicator together with at least one medium "
    "or weak one",
    Combination.THREE_MEDIUM: "at least three medium indicators",
    Combination.TWO_MEDIUM_AND_WEAK: "two medium indicators with at least one weak one",
}

RULE_IN_WORDS = (
    "two strong indicators; or one strong and one medium or weak; or three medium; "
    "or two medium and one weak"
)


class Element(StrEnum):
    """The parts of the trafficking definition the dimensions stand for."""

    RECRUITMENT = "recruitment"
    EXPLOITATION = "exploitation"
    MEANS = "means"

    @property
    def label(self) -> str:
        return ELEMENT_LABELS[self]


ELEMENT_LABELS: dict[Element, str] = {
    Element.RECRUITMENT: "Recruitment",
    Element.EXPLOITATION: "Exploitation",
    Element.MEANS: "Coercion or abuse of vulnerability at destination",
}

ELEMENT_DIMENSIONS: dict[Element, tuple[Dimension, ...]] = {
    Element.RECRUITMENT: (
        Dimension.DECEPTIVE_RECRUITMENT,
        Dimension.COERCIVE_RECRUITMENT,
        Dimension.ABUSE_OF_VULNERABILITY_RECRUITMENT,
    ),
    Element.EXPLOITATION: (Dimension.EXPLOITATIVE_CONDITIONS,),
    Element.MEANS: (
        Dimension.COERCION_AT_DESTINATION,
        Dimension.ABUSE_OF_VULNERABILITY_AT_DESTINATION,
    ),
}

GUIDANCE_NOTICE = (
    "This is guidance, not a decision. It helps you, the first responder, think about what you "
    "have seen; only the competent authority decides whether someone is a victim of "
    "trafficking. Refer anyone you suspect may be a victim, whatever this screening shows: "
    "indicators can be hidden, and people often do not tell everything at first."
)


@dataclass(frozen=True)
class Observed:
    """One indicator the first responder saw. Codes are unique within a catalogue."""

    code: str
    dimension: Dimension
    strength: Strength
    text: str


@dataclass(frozen=True)
class DimensionResult:
    dimension: Dimension
    met: bool
    # Every observed indicator of this dimension, strongest first; all of them count.
    counted: tuple[Observed, ...]
    # The branch of the rule that was satisfied, or None when the dimension is not met.
    combination: Combination | None
    # Why: plain words on what counted and which branch applied, or what is missing.
    explanation: str

    @property
    def label(self) -> str:
        return self.dimension.label


@dataclass(frozen=True)
class ElementResult:
    element: Element
    # False for the means when the person is a child: the law does not need them.
    required: bool
    met: bool
    dimensions_met: tuple[Dimension, ...]
    explanation: str

    @property
    def label(self) -> str:
        return self.element.label


@dataclass(frozen=True)
class ScreeningResult:
    is_child: bool
    dimensions: tuple[DimensionResult, ...]
    elements: tuple[ElementResult, ...]
    # Whether the indicators together form the ILO/EC pattern. Guidance only, never a decision.
    indicated: bool
    summary: str
    notice: str = GUIDANCE_NOTICE
    # An adult now, screened by the child rule: a child when the exploitation began.
    exploited_as_child: bool = False

    @property
    def child_rule(self) -> bool:
        """Whether the means were left out, as for a child."""
        return self.is_child or self.exploited_as_child

    def dimension(self, dimension: Dimension) -> DimensionResult:
        return next(d for d in self.dimensions if d.dimension == dimension)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot, kept with the screening so it reads the same for ever."""
        return {
            "is_child": self.is_child,
            "exploited_as_child": self.exploited_as_child,
            "indicated": self.indicated,
            "summary": self.summary,
            "notice": self.notice,
            "dimensions": [
                {
                    "dimension": d.dimension.value,
                    "met": d.met,
                    "combination": d.combination.value if d.combination else None,
                    "explanation": d.explanation,
                    "counted": [
                        {
                            "code": o.code,
                            "dimension": o.dimension.value,
                            "strength": o.strength.value,
                            "text": o.text,
                        }
                        for o in d.counted
                    ],
                }
                for d in self.dimensions
            ],
            "elements": [
                {
                    "element": e.element.value,
                    "required": e.required,
                    "met": e.met,
                    "dimensions_met": [d.value for d in e.dimensions_met],
                    "explanation": e.explanation,
                }
                for e in self.elements
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScreeningResult:
        return cls(
            is_child=bool(data["is_child"]),
            # Snapshots from before it was recorded were all of the rule for the age now.
            exploited_as_child=bool(data.get("exploited_as_child", False)),
            indicated=bool(data["indicated"]),
            summary=str(data["summary"]),
            notice=str(data.get("notice", GUIDANCE_NOTICE)),
            dimensions=tuple(
                DimensionResult(
                    dimension=Dimension(d["dimension"]),
                    met=bool(d["met"]),
                    combination=Combination(d["combination"]) if d["combination"] else None,
                    explanation=str(d["explanation"]),
                    counted=tuple(
                        Observed(
                            code=o["code"],
                            dimension=Dimension(o["dimension"]),
                            strength=Strength(o["strength"]),
                            text=o["text"],
                        )
                        for o in d["counted"]
                    ),
                )
                for d in data["dimensions"]
            ),
            elements=tuple(
                ElementResult(
                    element=Element(e["element"]),
                    required=bool(e["required"]),
                    met=bool(e["met"]),
                    dimensions_met=tuple(Dimension(x) for x in e["dimensions_met"]),
                    explanation=str(e["explanation"]),
                )
                for e in data["elements"]
            ),
        )


# --- The dimension rule -----------------------------------------------------------------------

_STRENGTH_ORDER = {Strength.STRONG: 0, Strength.MEDIUM: 1, Strength.WEAK: 2}


def combination_for(strong: int, medium: int, weak: int) -> Combination | None:
    """The first branch of the dimension rule these counts satisfy, or None."""
    if strong >= 2:
        return Combination.TWO_STRONG
    if strong >= 1 and medium + weak >= 1:
        return Combination.STRONG_AND_ANOTHER
    if medium >= 3:
        return Combination.THREE_MEDIUM
    if medium >= 2 and weak >= 1:
        return Combination.TWO_MEDIUM_AND_WEAK
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word} indicator" + ("" if n == 1 else "s")


def _counts_in_words(strong: int, medium: int, weak: int) -> str:
    parts = [
        _plural(n, word)
        for n, word in ((strong, "strong"), (medium, "medium"), (weak, "weak"))
        if n
    ]
    if not parts:
        return "no indicators"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _one_more_would_meet(strong: int, medium: int, weak: int) -> list[Strength]:
    """The strengths of a single extra indicator that would meet the dimension."""
    extra = {
        Strength.STRONG: (strong + 1, medium, weak),
        Strength.MEDIUM: (strong, medium + 1, weak),
        Strength.WEAK: (strong, medium, weak + 1),
    }
    return [s for s, counts in extra.items() if combination_for(*counts) is not None]


def _missing_in_words(strong: int, medium: int, weak: int) -> str:
    one_more = _one_more_would_meet(strong, medium, weak)
    if len(one_more) == len(Strength):
        return "One more indicator of any strength would meet it."
    if one_more:
        kinds = " or ".join(s.value for s in one_more)
        return f"One more {kinds} indicator would meet it."
    return f"To meet it the rule needs at least {RULE_IN_WORDS}."


def evaluate_dimension(dimension: Dimension, observed: Iterable[Observed]) -> DimensionResult:
    """Apply the dimension rule to the observed indicators that belong to `dimension`."""
    counted = tuple(
        sorted(
            (o for o in observed if o.dimension == dimension),
            key=lambda o: (_STRENGTH_ORDER[o.strength], o.code),
        )
    )
    strong, medium, weak = (sum(1 for o in counted if o.strength == s) for s in Strength)
    combination = combination_for(strong, medium, weak)
    seen = _counts_in_words(strong, medium, weak)
    if combination is not None:
        explanation = (
            f"Met: you recorded {seen}. The rule counts a dimension as met with "
            f"{combination.description}."
        )
    elif not counted:
        explanation = "Not met: you recorded no indicators for this dimension."
    else:
        explanation = (
            f"Not met: you recorded {seen}, which is not enough on its own. "
            + _missing_in_words(strong, medium, weak)
        )
    return DimensionResult(
        dimension=dimension,
        met=combination is not None,
        counted=counted,
        combination=combination,
        explanation=explanation,
    )


# --- The overall rule -------------------------------------------------------------------------


def _labels(dimensions: Iterable[Dimension]) -> str:
    names = [d.label.lower() for d in dimensions]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _element_result(
    element: Element,
    results: Mapping[Dimension, DimensionResult],
    *,
    is_child: bool,
    exploited_as_child: bool = False,
) -> ElementResult:
    dimensions = ELEMENT_DIMENSIONS[element]
    met_dimensions = tuple(d for d in dimensions if results[d].met)
    required = not ((is_child or exploited_as_child) and element is Element.MEANS)
    if met_dimensions:
        explanation = f"Met through {_labels(met_dimensions)}."
    elif required and len(dimensions) == 1:
        explanation = f"Not met: {_labels(dimensions)} is not met."
    elif required:
        explanation = f"Not met: none of {_labels(dimensions)} is met."
    elif is_child:
        explanation = (
            "Not needed for a child: a child cannot consent to being exploited, so coercion "
            "or abuse of vulnerability does not have to be shown."
        )
    else:
        explanation = (
            "Not needed: they were a child when the exploitation began, and a child cannot "
            "consent to being exploited, so coercion or abuse of vulnerability does not have to "
            "be shown."
        )
    return ElementResult(
        element=element,
        required=required,
        met=bool(met_dimensions),
        dimensions_met=met_dimensions,
        explanation=explanation,
    )


CHILD_AT_EXPLOITATION = (
    "The child rule was applied because they were a child when the exploitation began: "
    "coercion or abuse of vulnerability does not have to be shown."
)


def _summary(
    elements: tuple[ElementResult, ...],
    *,
    indicated: bool,
    is_child: bool,
    exploited_as_child: bool = False,
) -> str:
    if is_child:
        who = "a child"
    elif exploited_as_child:
        who = "a person exploited as a child"
    else:
        who = "an adult"
    # Said first to whoever reads it (the decision maker on the case page): the adult rule's
    # missing means must not read as a gap in the referral of a person trafficked as a child.
    why = f"{CHILD_AT_EXPLOITATION} " if exploited_as_child and not is_child else ""
    if indicated:
        return (
            f"{why}The indicators you recorded match the pattern that suggests {who} may have "
            "been trafficked. Consider a referral and the person's immediate safety and needs."
        )
    missing = [e.label.lower() for e in elements if e.required and not e.met]
    return (
        f"{why}The indicators you recorded do not complete the pattern for {who}: "
        f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not shown. "
        "This does not mean the person has not been trafficked."
    )


def _unique(observed: Iterable[Observed]) -> list[Observed]:
    """Each code once; the same code with different details is a caller's mistake."""
    by_code: dict[str, Observed] = {}
    for given in observed:
        # Plain Observed values, so a subclass carrying more (a catalogue's UK group) gives the
        # same result as the snapshot read back from JSON.
        item = Observed(given.code, given.dimension, given.strength, given.text)
        known = by_code.setdefault(item.code, item)
        if known != item:
            raise ValueError(f"Indicator {item.code} was given twice with different details")
    return list(by_code.values())


def evaluate(
    observed: Iterable[Observed], *, is_child: bool, exploited_as_child: bool = False
) -> ScreeningResult:
    """Apply the dimension rule to each of the six dimensions, then the overall rule.

    `exploited_as_child`: an adult who was a child when the exploitation began, screened by the
    child rule (no means needed) though with the adult's indicator list. A child's result never
    sets it: for them it says nothing more.

    The result does not depend on the order of `observed`, and adding an indicator never turns
    a met dimension (or a met pattern) into an unmet one.
    """
    exploited_as_child = exploited_as_child and not is_child
    items = _unique(observed)
    results = {d: evaluate_dimension(d, items) for d in Dimension}
    elements = tuple(
        _element_result(e, results, is_child=is_child, exploited_as_child=exploited_as_child)
        for e in Element
    )
    indicated = all(e.met for e in elements if e.required)
    return ScreeningResult(
        is_child=is_child,
        exploited_as_child=exploited_as_child,
        dimensions=tuple(results[d] for d in Dimension),
        elements=elements,
        indicated=indicated,
        summary=_summary(
            elements,
            indicated=indicated,
            is_child=is_child,
            exploited_as_child=exploited_as_child,
        ),
    )
