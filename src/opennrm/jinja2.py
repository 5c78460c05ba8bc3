"""The Jinja2 environment: our templates first, then the GOV.UK Frontend macros."""

from __future__ import annotations

from typing import Any

from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from opennrm.lib import govuk_forms, paging


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def local_datetime(value: Any, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    """Format a datetime in the service's time zone, GOV.UK style (4 April 2026 at 3:15pm)."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime(fmt).replace("AM", "am").replace("PM", "pm")


def environment(**options: Any) -> Environment:
    project_loader = options.pop("loader")
    options["loader"] = ChoiceLoader(
        [
            project_loader,
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    # HTML is always escaped; plain-text e-mail bodies (.txt) are not, so "&" stays "&".
    options["autoescape"] = select_autoescape(
        disabled_extensions=("txt",), default_for_string=True, default=True
    )
    env = Environment(**options)  # noqa: S701 - autoescape is set just above
    env.globals.update(
        {
            "static": static,
            "url": url,
            "get_messages": get_messages,
            "input_params": govuk_forms.input_params,
            "select_params": govuk_forms.select_params,
            "radios_params": govuk_forms.radios_params,
            "error_summary_items": govuk_forms.error_summary_items,
            "checkboxes_params": govuk_forms.checkboxes_params,
            "textarea_params": govuk_forms.textarea_params,
            "date_params": govuk_forms.date_params,
            "field_errors": govuk_forms.field_errors,
            "counted": paging.counted,
        }
    )
    env.filters["local_datetime"] = local_datetime
    return env
