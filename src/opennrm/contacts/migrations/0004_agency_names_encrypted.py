"""The encrypted names' columns in their final form: `agency_name` an encrypted field and
`row_uuid` required and unique (after `0003` filled both)."""

from django.db import migrations

import opennrm.lib.fields


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_encrypt_agency_names")]

    operations = [
        migrations.AlterField(
            model_name="agencyconsent",
            name="agency_name",
            field=opennrm.lib.fields.EncryptedCharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="agencyconsent",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
    ]
