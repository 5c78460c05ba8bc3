"""'Check your answers': each step's answers as label and readable value.

Values are said in words ("Yes", never "True" or "False"), questions that do not apply to the
answers given are left out, text keeps its line breaks, and several choices show as a list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.urls import reverse
from markupsafe import Markup, escape

from . import steps
from .forms import INTELLIGENCE_FIELDS
from .models import ReferralDraft

Data = dict[str, Any]


def _dependant_given(n: int) -> Callable[[Data], bool]:
    return lambda d: bool(d.get(f"dependant_{n}_relationship"))


# Questions asked only after a given answer: (step, field) -> does it apply to these answers?
APPLIES: dict[tuple[str, str], Callable[[Data], bool]] = {
    ("age", "reason_to_believe_child"): lambda d: d.get("under_18") == "not_sure",
    ("consent", "consents_to_support"): lambda d: d.get("consents_to_referral") == "yes",
    ("person", "date_of_birth"): lambda d: (
        d.get("date_of_birth") is not None or d.get("estimated_age") is None
    ),
    ("person", "estimated_age"): lambda d: not d.get("date_of_birth"),
    ("indicators", "observed"): lambda d: not d.get("none_observed"),
    ("indicators", "none_observed"): lambda d: bool(d.get("none_observed")),
    # A dependant's row only when something was typed in it.
    **{
        ("safety", f"dependant_{n}_{part}"): _dependant_given(n)
        for n in (1, 2, 3)
        for part in ("relationship", "age", "sex", "name")
    },
}
# The intelligence page has seventeen boxes, all optional: only those filled in are shown.


def _given(name: str) -> Callable[[Data], bool]:
    return lambda data: bool(data.get(name))


APPLIES |= {("intelligence", name): _given(name) for name in INTELLIGENCE_FIELDS}


def _value(field: forms.Field, value: Any) -> dict[str, Any]:
    """The summary list's value: {"text": ...} or, for a list, {"html": ...} (escaped)."""
    if isinstance(value, bool):
        return {"text": "Yes" if value else "No"}
    if value in (None, "", []):
        return {"text": "Not given"}
    choices = {str(k): v for k, v in (getattr(field, "choices", []) or [])}
    if isinstance(value, list | tuple):
        names = [str(choices.get(str(v), v)) for v in value]
        if len(names) == 1:
            return {"text": names[0]}
        items = Markup("").join(Markup("<li>{}</li>").format(name) for name in names)
        return {"html": Markup('<ul class="govuk-list govuk-list--bullet">{}</ul>').format(items)}
    if isinstance(value, date):
        return {"text": value.strftime("%-d %B %Y")}
    text = str(choices.get(str(value), value))
    if "\n" in text:
        lines = [escape(line) for line in text.strip().splitlines()]
        return {"html": Markup("<br>").join(lines)}
    return {"text": text}


def sections(draft: ReferralDraft) -> list[dict[str, Any]]:
    result = []
    catalogue = draft.indicators_catalogue
    for step in steps.applicable_steps(draft.answers):
        form = steps.bind(step, draft.answers, catalogue=catalogue)
        if form is None or not form.is_valid():
            continue
        rows = []
        data = form.cleaned_data
        for name, field in form.fields.items():
            applies = APPLIES.get((step.slug, name))
            if applies is not None and not applies(data):
                continue
            rows.append({"key": {"text": str(field.label)}, "value": _value(field, data.get(name))})
        result.append(
            {
                "title": step.title,
                "rows": rows,
                "change_url": reverse("referrals:step", args=[draft.public_id, step.slug]),
            }
        )
    return result
