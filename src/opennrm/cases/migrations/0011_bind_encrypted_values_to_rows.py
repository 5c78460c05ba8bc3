"""Bind every encrypted value to its row: each row gets a random `row_uuid`, and its values
are encrypted again with it in their associated data (docs/adr/0012-field-encryption.md).

Three steps, so that existing rows each get their own uuid: add the column nullable, fill it
and re-encrypt (`opennrm.lib.fields.bind_to_rows`), then make it unique and required. Going
back re-encrypts the values unbound, as the code before this migration reads them.

Also forgets `KeyRotation` progress, so the next `rotate_keys` checks every row again (it
rewrites any value still unbound), and drops `Person.birth_year`: nothing read it, and the date
of birth it copied is encrypted in `PersonIdentity` (docs/threat-model.md, quasi-identifiers).
"""

from django.db import migrations, models

import opennrm.lib.fields


def forget_rotation_progress(apps, schema_editor):
    apps.get_model("cases", "KeyRotation").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_case_support_ends_and_reconsideration_decide_by")]

    operations = [
        migrations.AddField(
            model_name="personidentity",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="casenarrative",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        opennrm.lib.fields.bind_to_rows("cases", ("PersonIdentity", "CaseNarrative")),
        migrations.AlterField(
            model_name="personidentity",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="casenarrative",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.RunPython(forget_rotation_progress, migrations.RunPython.noop),
        migrations.RemoveField(model_name="person", name="birth_year"),
    ]
