"""Turn a checklist form into the parameters GOV.UK's checkboxes macro takes, one group per
dimension. Like `lib/govuk_forms.py`, so the form stays a plain form and errors and ticks show.

To show the checklist on another page (the referral journey), put
`checklist_params(form)` in the context as `checklist` and `{% include
"screening/_checklist.html" %}` inside the page's <form>.
"""

from __future__ import annotations

from typing import Any

from opennrm.lib.govuk_forms import field_errors

from .forms import IndicatorChecklistForm
from .rules import Dimension

# What each dimension asks about, in plain words, shown as the group's hint.
DIMENSION_HINTS: dict[Dimension, str] = {
    Dimension.DECEPTIVE_RECRUITMENT: "How the person was recruited, moved or brought here: "
    "were they lied to?",
    Dimension.COERCIVE_RECRUITMENT: "How the person was recruited, moved or brought here: "
    "were they forced or threatened?",
    Dimension.ABUSE_OF_VULNERABILITY_RECRUITMENT: "Was the person's situation used against "
    "them when they were recruited?",
    Dimension.EXPLOITATIVE_CONDITIONS: "The work or activity the person is made to do, and the "
    "conditions they live and work in.",
    Dimension.COERCION_AT_DESTINATION: "How the person is kept in the situation: force, "
    "threats, debt, control.",
    Dimension.ABUSE_OF_VULNERABILITY_AT_DESTINATION: "How the person's situation is used to "
    "keep them there.",
}


def checklist_params(form: IndicatorChecklistForm) -> dict[str, Any]:
    field = form["observed"]
    ticked = {str(v) for v in (field.value() or [])}
    error = " ".join(field_errors(field))
    groups: list[dict[str, Any]] = []
    for dimension, indicators in form.indicator_list.by_dimension():
        first = not groups
        params: dict[str, Any] = {
            "name": field.html_name,
            # The first box keeps the field's id, so the error summary's link lands on it.
            "idPrefix": field.auto_id if first else f"{field.auto_id}-{dimension.value}",
            "fieldset": {
                "legend": {"text": dimension.label, "classes": "govuk-fieldset__legend--m"}
            },
            "hint": {"text": DIMENSION_HINTS[dimension]},
            "items": [
                {
                    "value": i.code,
                    "text": i.text,
                    "hint": {"text": f"{i.group.value.capitalize()} indicator, {i.strength}"},
                    "checked": i.code in ticked,
                }
                for i in indicators
            ],
        }
        if first and error:
            params["errorMessage"] = {"text": error}
        groups.append(params)
    none_field = form["none_observed"]
    none = {
        "name": none_field.html_name,
        "idPrefix": none_field.auto_id,
        # Ticking it unticks every indicator, and ticking one unticks it (app.mjs).
        "attributes": {"data-app-exclusive": field.html_name},
        "items": [
            {
                "value": "on",
                "text": str(none_field.label),
                "checked": bool(none_field.value()),
            }
        ],
    }
    return {"groups": groups, "none": none}
