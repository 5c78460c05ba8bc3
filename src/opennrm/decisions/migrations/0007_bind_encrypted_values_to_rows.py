"""Bind every encrypted value to its row: each row gets a random `row_uuid`, and its values
are encrypted again with it in their associated data (docs/adr/0012-field-encryption.md).

Three steps, so that existing rows each get their own uuid: add the column nullable, fill it
and re-encrypt (`opennrm.lib.fields.bind_to_rows`), then make it unique and required. Going
back re-encrypts the values unbound, as the code before this migration reads them.
"""

import importlib

from django.db import migrations, models

import opennrm.lib.fields

# SQLite alters a column by copying the table, which drops its triggers: the letters' trigger
# (decisions 0004) is made again after row_uuid is altered.
_letters = importlib.import_module("opennrm.decisions.migrations.0004_letters_are_records")


def _refreeze_letters(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _letters.SQLITE_REVERSE + _letters.SQLITE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("decisions", "0006_recount_stored_clocks")]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="reconsiderationrequest",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="letter",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        opennrm.lib.fields.bind_to_rows(
            "decisions", ("Decision", "ReconsiderationRequest", "Letter")
        ),
        migrations.AlterField(
            model_name="decision",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="reconsiderationrequest",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="letter",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.RunPython(_refreeze_letters, migrations.RunPython.noop),
    ]
