"""Country and language choices from the ISO standards (via pycountry), for forms."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their common names, sorted by name."""
    countries = [
        (c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries
    ]
    return sorted(countries, key=lambda item: item[1])


@cache
def language_choices() -> list[tuple[str, str]]:
    """ISO 639-1 codes with their English names, sorted by name."""
    languages = [
        (lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")
    ]
    return sorted(languages, key=lambda item: item[1])


def country_name(code: str) -> str:
    return dict(country_choices()).get(code, code)


def language_name(code: str) -> str:
    return dict(language_choices()).get(code, code)
