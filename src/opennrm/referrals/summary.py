"""'Check your answers': each step's answers as label and readable value."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.urls import reverse

from . import steps
from .models import ReferralDraft


def _text(field: forms.Field, value: Any) -> str:
    if value in (None, "", []):
        return "Not given"
    choices = dict(getattr(field, "choices", []) or [])
    if isinstance(value, list):
        return ", ".join(str(choices.get(v, v)) for v in value)
    if isinstance(value, date):
        return value.strftime("%-d %B %Y")
    return str(choices.get(value, value))


def sections(draft: ReferralDraft) -> list[dict[str, Any]]:
    result = []
    for step in steps.applicable_steps(draft.answers):
        form = steps.bind(step, draft.answers)
        if form is None or not form.is_valid():
            continue
        rows = []
        for name, field in form.fields.items():
            value = form.cleaned_data.get(name)
            if (
                name == "date_of_birth"
                and value is None
                and form.cleaned_data.get("estimated_age") is not None
            ):
                continue
            if name == "estimated_age" and form.cleaned_data.get("date_of_birth"):
                continue
            rows.append({"key": {"text": str(field.label)}, "value": {"text": _text(field, value)}})
        result.append(
            {
                "title": step.title,
                "rows": rows,
                "change_url": reverse("referrals:step", args=[draft.public_id, step.slug]),
            }
        )
    return result
