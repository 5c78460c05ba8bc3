"""Load the catalogue shipped with OpenNRM, so every deployment and test database has one.

Reads the JSON file directly (no application code), so this migration keeps working whatever
later happens to the loader; the test suite checks that the same file passes the validator.
A deployment that loads its own licensed list later simply makes that one active.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import migrations

BUNDLED = Path(__file__).resolve().parent.parent / "catalogues" / "opennrm-indicators-v1.json"


def load(apps, schema_editor):
    IndicatorCatalogue = apps.get_model("screening", "IndicatorCatalogue")
    data = json.loads(BUNDLED.read_text(encoding="utf-8"))
    if IndicatorCatalogue.objects.filter(key=data["key"], version=data["version"]).exists():
        return
    IndicatorCatalogue.objects.create(
        key=data["key"],
        version=data["version"],
        title=data["title"],
        source=data["source"],
        data=data,
        # Active only if nothing else is, so a deployment's own list is never displaced.
        is_active=not IndicatorCatalogue.objects.filter(is_active=True).exists(),
    )


def unload(apps, schema_editor):
    IndicatorCatalogue = apps.get_model("screening", "IndicatorCatalogue")
    data = json.loads(BUNDLED.read_text(encoding="utf-8"))
    IndicatorCatalogue.objects.filter(
        key=data["key"], version=data["version"], screenings__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
