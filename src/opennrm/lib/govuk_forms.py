"""Turn bound Django form fields into the parameter dicts the GOV.UK Frontend macros take.

Forms stay plain Django forms (they only clean input); templates call, for example,
`govukInput(input_params(form["email"]))`, and errors, hints and kept values follow.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseForm, BoundField


def _label(field: BoundField) -> str:
    label = str(field.label or field.name).strip()
    return re.sub(r"\s*\((optional|if known)\)$", "", label)


def _thing(label: str) -> str:
    """The label inside a sentence: 'Given names' -> 'given names' (but 'UK ...' stays)."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _named(field: BoundField, error: ValidationError) -> str:
    """Django's own messages do not say which field they are about ("This field is required",
    "Ensure this value has at most 200 characters"): say it, GOV.UK's way."""
    message = " ".join(str(m) for m in error)
    code = error.code or ""
    django_default: dict[str, Any] = {}
    for klass in reversed(type(field.field).__mro__):
        django_default |= getattr(klass, "default_error_messages", {})
    own = field.field.error_messages
    if not code or (code in own and own[code] != django_default.get(code)):
        return message  # a message the form wrote for this field
    label = _label(field)
    params = error.params or {}
    limit = params.get("limit_value")
    choosing = isinstance(field.field, forms.ChoiceField)
    if label.endswith("?"):
        question = f"an answer to \u2018{label}\u2019"
        named = {"required": f"Select {question}", "invalid_choice": f"Select {question}"}
    else:
        named = {
            "required": f"{'Select' if choosing else 'Enter'} {_thing(label)}",
            "invalid_choice": f"Select the {_thing(label)} from the list",  # noqa: S608 - words
            "max_length": f"{label} must be {limit:,} characters or fewer"
            if isinstance(limit, int)
            else "",
            "min_length": f"{label} must be {limit:,} characters or more"
            if isinstance(limit, int)
            else "",
            "min_value": f"{label} must be {limit} or more",
            "max_value": f"{label} must be {limit} or less",
            "invalid": f"{label} must be a whole number, like 3"
            if isinstance(field.field, forms.IntegerField)
            else f"{label} is not in the right format",
            "invalid_list": f"Select the {_thing(label)} from the list",  # noqa: S608
            "null_characters_not_allowed": f"{label} must not contain hidden control characters",
        }
    return named.get(code) or message


def field_errors(field: BoundField) -> list[str]:
    """The field's first error, naming the field (as a list: none or one). GOV.UK shows one
    message per field, the first thing to put right: an e-mail address 300 characters long and
    without an @ is told it is too long, and then, once shortened, if it is still wrong."""
    found = field.form.errors.as_data().get(field.name, [])
    return [_named(field, found[0])] if found else []


def _base(
    field: BoundField, *, label_classes: str = "govuk-label--s", **extra: Any
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "id": field.auto_id,
        "name": field.html_name,
        "label": {"text": field.label, "classes": label_classes},
    }
    if field.help_text:
        params["hint"] = {"text": str(field.help_text)}
    if field.errors:
        params["errorMessage"] = {"text": " ".join(field_errors(field))}
    params.update(extra)
    return params


def input_params(field: BoundField, **extra: Any) -> dict[str, Any]:
    params = _base(field, **extra)
    value = field.value()
    if value not in (None, "") and field.field.widget.input_type != "password":
        params["value"] = str(value)
    params.setdefault("type", getattr(field.field.widget, "input_type", "text"))
    return params


def select_params(field: BoundField, **extra: Any) -> dict[str, Any]:
    params = _base(field, **extra)
    current = "" if field.value() is None else str(field.value())
    params["items"] = [
        {"value": str(value), "text": str(text), "selected": str(value) == current}
        for value, text in field.field.choices  # type: ignore[attr-defined]
    ]
    return params


def radios_params(
    field: BoundField, *, legend_classes: str = "govuk-fieldset__legend--s", **extra: Any
) -> dict[str, Any]:
    params = _base(field, **extra)
    params.pop("label")
    params["fieldset"] = {"legend": {"text": field.label, "classes": legend_classes}}
    params["idPrefix"] = field.auto_id
    current = "" if field.value() is None else str(field.value())
    params["items"] = [
        {"value": str(value), "text": str(text), "checked": str(value) == current}
        for value, text in field.field.choices  # type: ignore[attr-defined]
        if str(value) != ""
    ]
    return params


def error_summary_items(form: BaseForm) -> list[dict[str, str]]:
    """Every error, in field order, each linking to its field (non-field errors first)."""
    items = [{"text": str(error)} for error in dict.fromkeys(form.non_field_errors())]
    for field in form:
        for error in field_errors(field):
            items.append({"text": error, "href": f"#{field.auto_id}"})
    return items


def checkboxes_params(
    field: BoundField,
    *,
    legend_classes: str = "govuk-fieldset__legend--m",
    exclusive: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """GOV.UK checkboxes; `exclusive` is the value of a "None of these" box, shown last after
    "or", which unticks the others when ticked (and they untick it)."""
    params = radios_params(field, legend_classes=legend_classes, **extra)
    selected = {str(v) for v in (field.value() or [])}
    items = []
    last = None
    for item in params["items"]:
        item.pop("checked", None)
        item["checked"] = item["value"] in selected
        if item["value"] == exclusive:
            item["behaviour"] = "exclusive"
            last = item
        else:
            items.append(item)
    if last is not None:
        items += [{"divider": "or"}, last]
    params["items"] = items
    return params


def textarea_params(field: BoundField, **extra: Any) -> dict[str, Any]:
    params = _base(field, **extra)
    value = field.value()
    if value not in (None, ""):
        params["value"] = str(value)
    return params


def date_params(
    form: BaseForm,
    name: str,
    *,
    with_day: bool = True,
    legend_classes: str = "govuk-fieldset__legend--s",
) -> dict[str, Any]:
    """A GOV.UK date input for the boxes name_day, name_month and name_year."""
    field = form[name]
    parts = [
        ("day", "Day", "govuk-input--width-2"),
        ("month", "Month", "govuk-input--width-2"),
        ("year", "Year", "govuk-input--width-4"),
    ]
    if not with_day:
        parts = parts[1:]
    error_class = " govuk-input--error" if field.errors else ""
    items = []
    for index, (part, label, width) in enumerate(parts):
        items.append(
            {
                # The first box carries the field's id, so the error summary's link lands on it.
                "id": field.auto_id if index == 0 else f"{field.auto_id}_{part}",
                "name": f"{name}_{part}",
                "label": label,
                "classes": width + error_class,
                "value": form.data.get(f"{name}_{part}", ""),
                "inputmode": "numeric",
            }
        )
    params: dict[str, Any] = {
        "id": f"{field.auto_id}_group",
        "fieldset": {"legend": {"text": field.label, "classes": legend_classes}},
        "items": items,
    }
    if field.help_text:
        params["hint"] = {"text": str(field.help_text)}
    if field.errors:
        params["errorMessage"] = {"text": " ".join(field_errors(field))}
    return params


def date_from_parts(
    form: BaseForm, prefix: str, label: str, *, require_day: bool = True
) -> date | None:
    """Read a GOV.UK date input (prefix_day, prefix_month, prefix_year) with GOV.UK messages."""
    parts = ("day", "month", "year") if require_day else ("month", "year")
    raw = {part: (form.data.get(f"{prefix}_{part}") or "").strip() for part in parts}
    if not any(raw.values()):
        return None
    missing = [part for part in parts if not raw[part]]
    if missing:
        form.add_error(prefix, f"{label} must include a {' and a '.join(missing)}")
        return None
    if len(raw["year"]) != 4 or not (raw["year"].isascii() and raw["year"].isdigit()):
        form.add_error(prefix, f"{label}: enter the year as 4 digits, like 2007")
        return None
    try:
        return date(int(raw["year"]), int(raw["month"]), int(raw.get("day") or 1))
    except (ValueError, OverflowError):  # OverflowError: a day or month of 20 digits
        return form.add_error(prefix, f"{label} must be a real date")


def date_input(prefix: str, day: date) -> dict[str, str]:
    """A date as a GOV.UK date input posts it, for a form fed from elsewhere (the API). The
    year in four digits, as `date_from_parts` reads one: "0999-01-01" is refused for its date
    (before the record it belongs to), not as a year "not of 4 digits" the caller never sent."""
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": f"{day.year:04d}",
    }


class StaleVersion(ValidationError):
    """Someone else changed the record since the page was loaded. `current` is its version now:
    the page is shown again with what was typed and that version (`show_refusal`), so that
    saving again, once the person has checked, is accepted rather than refused for ever."""

    def __init__(self, message: str, *, current: int | None) -> None:
        super().__init__(message)
        self.current = current


def saved_again(
    record: Any, by_id: int, expected_version: int | None, values: dict[str, Any]
) -> bool:
    """Whether a save sent with an old version is the writer's own last save sent again (a
    second click, a browser retrying the POST): the very next version, written by them
    (`updated_by`), holding exactly these values. Anything else is someone else's change, and
    refused as stale (`StaleVersion`)."""
    return (
        expected_version is not None
        and record.version == expected_version + 1
        and record.updated_by_id == by_id
        and all(getattr(record, name) == value for name, value in values.items())
    )


VERSION_FIELDS = ("expected_version", "version")  # the hidden field a form carries it in


def show_refusal(
    form: BaseForm, error: ValidationError, renames: dict[str, str] | None = None
) -> None:
    """Put a service's refusal on the form: on the field it names (or the form's name for it,
    in `renames`), or at the top when it names none the form has. A form refused as stale
    carries the record's current version from then."""
    if isinstance(error, StaleVersion) and error.current is not None and form.is_bound:
        for name in VERSION_FIELDS:
            if name in form.fields:
                data = cast(Any, form.data).copy()  # a QueryDict's copy is mutable, lists kept
                data[form.add_prefix(name)] = str(error.current)
                form.data = data
    if hasattr(error, "error_dict"):
        for name, problems in error.message_dict.items():
            field = (renames or {}).get(name, name)
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern); none is allowed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []
