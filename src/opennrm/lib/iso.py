"""Country and language choices from the ISO standards (via pycountry), for forms.

Nationalities are ISO 3166-1 alpha-2 codes, with the codes a person's papers use where ISO has
none: Kosovo (XK, the code the European Commission and ICAO use), stateless (XXA, ICAO 9303)
and not known (XXX, ICAO 9303's "unspecified nationality").

Languages are the living languages of ISO 639-1, with ISO 639-3 codes for the languages people
referred speak that ISO 639-1 has no code for (Dari, Sylheti, Sorani, Kurmanji, Tigre, British
Sign Language...). Dead, historical and constructed languages (Latin, Avestan, Esperanto) are
left out: nobody is interviewed in them.
"""

from __future__ import annotations

import re
from functools import cache

import pycountry

KOSOVO = "XK"
STATELESS = "XXA"
NATIONALITY_NOT_KNOWN = "XXX"
EXTRA_NATIONALITIES = {
    KOSOVO: "Kosovo",
    STATELESS: "Stateless",
    NATIONALITY_NOT_KNOWN: "Not known",
}

# ISO 639-3 codes of languages of people referred that ISO 639-1 has no code for, with the
# names caseworkers and interpreters use.
EXTRA_LANGUAGES = {
    "acm": "Arabic (Iraqi)",
    "apc": "Arabic (Levantine)",
    "apd": "Arabic (Sudanese)",
    "arz": "Arabic (Egyptian)",
    "ary": "Arabic (Moroccan)",
    "bal": "Balochi",
    "bfi": "British Sign Language",
    "bin": "Edo (Bini)",
    "byn": "Bilen",
    "cdo": "Fuzhounese (Min Dong)",
    "ckb": "Kurdish Sorani",
    "cmn": "Mandarin",
    "ctg": "Chittagonian",
    "din": "Dinka",
    "fil": "Filipino",
    "fvr": "Fur",
    "haz": "Hazaragi",
    "kmr": "Kurdish Kurmanji",
    "kri": "Krio",
    "men": "Mende",
    "mls": "Masalit",
    "nan": "Hokkien (Min Nan)",
    "nus": "Nuer",
    "pcm": "Nigerian Pidgin",
    "prs": "Dari",
    "rhg": "Rohingya",
    "rom": "Romani",
    "sdh": "Kurdish Southern",
    "skr": "Saraiki",
    "snk": "Soninke",
    "ssy": "Saho",
    "syl": "Sylheti",
    "tem": "Temne",
    "tig": "Tigre",
    "yue": "Cantonese",
    "zag": "Zaghawa",
}
# ISO 639-1 names said the way people say them.
LANGUAGE_NAMES = {
    "el": "Greek",
    "ff": "Fula",
    "fa": "Persian (Farsi)",
    "km": "Khmer",
    "pa": "Punjabi",
    "ps": "Pashto",
    "zh": "Chinese",
}


@cache
def country_choices() -> list[tuple[str, str]]:
    """Nationalities: ISO 3166-1 alpha-2 codes with their common names and Kosovo, sorted by
    name, then stateless and not known."""
    countries = [
        (c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries
    ]
    countries.append((KOSOVO, EXTRA_NATIONALITIES[KOSOVO]))
    return [
        *sorted(countries, key=lambda item: item[1]),
        (STATELESS, EXTRA_NATIONALITIES[STATELESS]),
        (NATIONALITY_NOT_KNOWN, EXTRA_NATIONALITIES[NATIONALITY_NOT_KNOWN]),
    ]


def _plain(name: str) -> str:
    return re.sub(r" \((macrolanguage)\)$", "", name)


@cache
def language_choices() -> list[tuple[str, str]]:
    """Living ISO 639-1 languages and the ISO 639-3 ones above, with English names, by name."""
    languages = [
        (lang.alpha_2, LANGUAGE_NAMES.get(lang.alpha_2) or _plain(lang.name))
        for lang in pycountry.languages
        if hasattr(lang, "alpha_2") and getattr(lang, "type", "L") == "L"
    ]
    languages.extend(EXTRA_LANGUAGES.items())
    return sorted(languages, key=lambda item: item[1])


def country_name(code: str) -> str:
    return dict(country_choices()).get(code, code)


def language_name(code: str) -> str:
    """The language's name; one no longer offered (recorded before) keeps its ISO name."""
    name = dict(language_choices()).get(code)
    if name is None:
        found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
        found = found or pycountry.languages.get(alpha_3=code)
        name = _plain(found.name) if found is not None else code
    return name
