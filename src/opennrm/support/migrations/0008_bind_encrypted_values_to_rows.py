"""Bind every encrypted value to its row: each row gets a random `row_uuid`, and its values
are encrypted again with it in their associated data (docs/adr/0012-field-encryption.md).

Three steps, so that existing rows each get their own uuid: add the column nullable, fill it
and re-encrypt (`opennrm.lib.fields.bind_to_rows`), then make it unique and required. Going
back re-encrypts the values unbound, as the code before this migration reads them.
"""

from django.db import migrations, models

import opennrm.lib.fields


class Migration(migrations.Migration):
    dependencies = [("support", "0007_placement_request_details_review")]

    operations = [
        migrations.AddField(
            model_name="site",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="unmetneed",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="supportmeasure",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="servicedelivery",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="missingepisode",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="addressgrant",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        opennrm.lib.fields.bind_to_rows(
            "support",
            (
                "Site",
                "PlacementRequest",
                "UnmetNeed",
                "SupportMeasure",
                "ServiceDelivery",
                "MissingEpisode",
                "AddressGrant",
            ),
        ),
        migrations.AlterField(
            model_name="site",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="placementrequest",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="unmetneed",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="supportmeasure",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="servicedelivery",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="missingepisode",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
        migrations.AlterField(
            model_name="addressgrant",
            name="row_uuid",
            field=opennrm.lib.fields.RowUUIDField(),
        ),
    ]
