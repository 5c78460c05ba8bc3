"""The care models, taken over from `support` as they are: their tables (`support_supportplan`
and the rest) were made by `support`'s migrations, so this changes the migration state only
(ADR 0019)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import opennrm.lib.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("support", "0008_bind_encrypted_values_to_rows"),
        ("accommodation", "0001_initial"),
        ("accounts", "0003_invitation_approval"),
        ("cases", "0011_bind_encrypted_values_to_rows"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # State only: the tables exist already, made by `support`'s migrations (ADR 0019).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SupportPlan",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("started_at", models.DateTimeField()),
                        (
                            "case",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="support_plan",
                                to="cases.case",
                            ),
                        ),
                        (
                            "started_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_supportplan",
                    },
                ),
                migrations.CreateModel(
                    name="ServiceDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "measure",
                            models.CharField(
                                choices=[
                                    ("accommodation", "Appropriate and secure accommodation"),
                                    (
                                        "psychological_material",
                                        "Psychological and material assistance",
                                    ),
                                    ("emergency_medical", "Emergency medical treatment"),
                                    ("translation", "Translation and interpretation"),
                                    (
                                        "counselling",
                                        "Counselling and information on legal rights and services, in a language they understand",
                                    ),
                                    ("criminal_proceedings", "Assistance in criminal proceedings"),
                                    ("education", "Access to education"),
                                ],
                                max_length=30,
                            ),
                        ),
                        ("delivered_on", models.DateField()),
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        (
                            "outside_provider",
                            opennrm.lib.fields.EncryptedCharField(
                                blank=True, default="", max_length=200
                            ),
                        ),
                        ("description", opennrm.lib.fields.EncryptedTextField()),
                        ("recorded_at", models.DateTimeField()),
                        (
                            "provider",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="accounts.organisation",
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="care.supportplan",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_servicedelivery",
                        "ordering": ["-delivered_on", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="MissingEpisode",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("went_missing_on", models.DateField()),
                        ("went_missing_time", models.TimeField(blank=True, null=True)),
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        (
                            "last_seen",
                            opennrm.lib.fields.EncryptedTextField(blank=True, default=""),
                        ),
                        ("reported_at", models.DateTimeField()),
                        ("returned_on", models.DateField(blank=True, null=True)),
                        ("returned_time", models.TimeField(blank=True, null=True)),
                        ("return_recorded_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="missing_episodes",
                                to="cases.case",
                            ),
                        ),
                        (
                            "placement",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="missing_episodes",
                                to="accommodation.placement",
                            ),
                        ),
                        (
                            "reported_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "return_recorded_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_missingepisode",
                        "ordering": ["-went_missing_on", "-id"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("returned_on", None)),
                                fields=("case",),
                                name="one_open_missing_episode",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("returned_on", None),
                                    ("returned_on__gte", models.F("went_missing_on")),
                                    _connector="OR",
                                ),
                                name="missing_returns_after_it_starts",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="MoveOnReminder",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("days_14", "14 days before move-on support ends"),
                                    ("days_7", "7 days before move-on support ends"),
                                    ("days_1", "The day before move-on support ends"),
                                    ("ends", "The day move-on support ends"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("due_on", models.DateField()),
                        ("sent_on", models.DateField()),
                        ("sent_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "placement",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="move_on_reminders",
                                to="accommodation.placement",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_moveonreminder",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("placement", "kind", "due_on"), name="move_on_reminder_once"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SupportMeasure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "measure",
                            models.CharField(
                                choices=[
                                    ("accommodation", "Appropriate and secure accommodation"),
                                    (
                                        "psychological_material",
                                        "Psychological and material assistance",
                                    ),
                                    ("emergency_medical", "Emergency medical treatment"),
                                    ("translation", "Translation and interpretation"),
                                    (
                                        "counselling",
                                        "Counselling and information on legal rights and services, in a language they understand",
                                    ),
                                    ("criminal_proceedings", "Assistance in criminal proceedings"),
                                    ("education", "Access to education"),
                                ],
                                max_length=30,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("not_assessed", "Not assessed yet"),
                                    ("needed", "Needed"),
                                    ("arranged", "Arranged"),
                                    ("being_provided", "Being provided"),
                                    ("provided", "Provided"),
                                    ("declined", "Declined by the person"),
                                    ("not_needed", "Not needed"),
                                ],
                                default="not_assessed",
                                max_length=20,
                            ),
                        ),
                        ("starts_on", models.DateField(blank=True, null=True)),
                        ("ends_on", models.DateField(blank=True, null=True)),
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        (
                            "outside_provider",
                            opennrm.lib.fields.EncryptedCharField(
                                blank=True, default="", max_length=200
                            ),
                        ),
                        ("notes", opennrm.lib.fields.EncryptedTextField(blank=True, default="")),
                        ("updated_at", models.DateTimeField(blank=True, null=True)),
                        ("version", models.PositiveIntegerField(default=1)),
                        (
                            "provider",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="accounts.organisation",
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="measures",
                                to="care.supportplan",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_supportmeasure",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("plan", "measure"), name="one_row_per_measure"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("starts_on", None),
                                    ("ends_on", None),
                                    ("ends_on__gte", models.F("starts_on")),
                                    _connector="OR",
                                ),
                                name="measure_ends_after_it_starts",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
