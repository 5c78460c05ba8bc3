"""Widen the identifying columns to text, ready for ciphertext, and add the blind indexes and
the key rotation progress table. The data is encrypted by the next migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_assignment_queues"),
    ]

    operations = [
        migrations.AlterField(
            model_name="personidentity",
            name="given_names",
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="family_name",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="aliases",
            field=models.TextField(default="[]"),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="date_of_birth",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="personidentity",
            name="name_index",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="personidentity",
            name="dob_index",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
        migrations.AddIndex(
            model_name="personidentity",
            index=models.Index(fields=["name_index"], name="identity_name_index_idx"),
        ),
        migrations.AddIndex(
            model_name="personidentity",
            index=models.Index(fields=["dob_index"], name="identity_dob_index_idx"),
        ),
        migrations.CreateModel(
            name="KeyRotation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("target", models.CharField(max_length=120)),
                ("key_id", models.CharField(max_length=32)),
                ("index_key_id", models.CharField(max_length=32)),
                ("last_pk", models.BigIntegerField(default=0)),
                ("checked", models.PositiveBigIntegerField(default=0)),
                ("rewritten", models.PositiveBigIntegerField(default=0)),
                ("missing", models.PositiveBigIntegerField(default=0)),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("target", "key_id", "index_key_id"), name="key_rotation_once"
                    )
                ],
            },
        ),
    ]
