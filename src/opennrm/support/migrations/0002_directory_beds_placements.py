import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import opennrm.lib.fields

# A frozen copy of support.services.settings_for at the time of this migration.
WOMEN = {"Feminine", "TransgenderFeminine"}
MEN = {"Masculine", "TransgenderMasculine"}


def _settings_for(sex, gender):
    if gender in WOMEN or (not gender and sex == "female"):
        return ["women_only", "mixed"]
    if gender in MEN or (not gender and sex == "male"):
        return ["men_only", "mixed"]
    return ["mixed"]


def fill_constraints(apps, schema_editor):
    """Requests raised before this migration get the hard constraints their person implies."""
    Request = apps.get_model("support", "PlacementRequest")
    for request in Request.objects.select_related("case__person").iterator():
        person = request.case.person
        request.accepted_settings = _settings_for(person.sex, person.gender)
        request.languages = list(person.languages)
        request.interpreter_needed = person.interpreter_needed
        request.save(update_fields=["accepted_settings", "languages", "interpreter_needed"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_data_protection_officer"),
        ("cases", "0008_case_closed_at"),
        ("support", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AddressPermission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("granted_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="Bed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=30)),
                ("out_of_service_since", models.DateTimeField(blank=True, null=True)),
                ("out_of_service_reason", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["room", "label"],
            },
        ),
        migrations.CreateModel(
            name="BedEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField()),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("available", "Available"),
                            ("reserved", "Reserved"),
                            ("occupied", "Occupied"),
                            ("out_of_service", "Out of service"),
                        ],
                        max_length=20,
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200)),
            ],
            options={
                "ordering": ["at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Placement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("proposed", "Proposed by matching: waiting for the coordinator"),
                            ("reserved", "Offered: waiting for the provider"),
                            ("accepted", "Accepted: waiting for the person to arrive"),
                            ("occupied", "Living there"),
                            ("declined", "Declined by the provider"),
                            ("cancelled", "Cancelled"),
                            ("ended", "Ended"),
                        ],
                        max_length=20,
                    ),
                ),
                ("why", models.TextField(blank=True)),
                ("proposed_at", models.DateTimeField()),
                ("reserved_at", models.DateTimeField(blank=True, null=True)),
                ("responded_at", models.DateTimeField(blank=True, null=True)),
                (
                    "decline_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("needs_not_met", "We cannot meet the person's needs"),
                            ("safety", "A risk to the person or to other residents"),
                            ("bed_not_ready", "The bed is not ready"),
                            ("other", "Another reason"),
                        ],
                        max_length=20,
                    ),
                ),
                ("arrived_on", models.DateField(blank=True, null=True)),
                ("ended_on", models.DateField(blank=True, null=True)),
                (
                    "exit_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("moved_on", "Moved on to other accommodation"),
                            ("move_on_ended", "Move-on support ended"),
                            ("returned_home", "Returned to their home country"),
                            ("transferred", "Transferred to another place"),
                            ("left", "Left without notice"),
                            ("other", "Another reason"),
                        ],
                        max_length=20,
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1)),
            ],
            options={
                "ordering": ["-proposed_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Room",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
                ("takes_dependants", models.PositiveSmallIntegerField(default=0)),
                ("wheelchair_accessible", models.BooleanField(default=False)),
            ],
            options={
                "ordering": ["site", "name"],
            },
        ),
        migrations.CreateModel(
            name="Service",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("name", models.CharField(max_length=200)),
                ("description", models.TextField(blank=True)),
                ("is_active", models.BooleanField(default=True)),
                ("eligible_sexes", models.JSONField(blank=True, default=list)),
                ("minimum_age", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("maximum_age", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("exploitation_types", models.JSONField(blank=True, default=list)),
                ("languages", models.JSONField(blank=True, default=list)),
                ("accessibility", models.CharField(blank=True, max_length=300)),
            ],
            options={
                "ordering": ["provider__name", "name"],
            },
        ),
        migrations.CreateModel(
            name="Site",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("name", models.CharField(max_length=100)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("safe_house", "Safe house"),
                            ("dispersed", "Dispersed accommodation (flats)"),
                            ("outreach", "Outreach office (no beds)"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "region",
                    models.CharField(
                        choices=[
                            ("north_east", "North East"),
                            ("north_west", "North West"),
                            ("yorkshire", "Yorkshire and the Humber"),
                            ("east_midlands", "East Midlands"),
                            ("west_midlands", "West Midlands"),
                            ("east", "East of England"),
                            ("london", "London"),
                            ("south_east", "South East"),
                            ("south_west", "South West"),
                            ("wales", "Wales"),
                            ("scotland", "Scotland"),
                            ("northern_ireland", "Northern Ireland"),
                        ],
                        max_length=30,
                    ),
                ),
                ("area", models.CharField(max_length=120)),
                (
                    "setting",
                    models.CharField(
                        choices=[
                            ("women_only", "Women only"),
                            ("men_only", "Men only"),
                            ("mixed", "Mixed"),
                        ],
                        max_length=20,
                    ),
                ),
                ("address", opennrm.lib.fields.EncryptedTextField()),
                ("postcode", opennrm.lib.fields.EncryptedTextField(blank=True)),
                ("location", opennrm.lib.fields.EncryptedJSONField(blank=True, null=True)),
                ("staff_languages", models.JSONField(blank=True, default=list)),
                ("specialisms", models.JSONField(blank=True, default=list)),
                ("near_school", models.BooleanField(default=False)),
                ("is_active", models.BooleanField(default=True)),
            ],
            options={
                "ordering": ["provider__name", "name"],
            },
        ),
        migrations.CreateModel(
            name="UnmetNeed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("on", models.DateField()),
                ("constraint", models.CharField(max_length=30)),
                ("reason", opennrm.lib.fields.EncryptedTextField()),
                ("region", models.CharField(blank=True, max_length=30)),
                ("area", models.CharField(blank=True, max_length=120)),
            ],
            options={
                "ordering": ["-on", "id"],
            },
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="accepted_settings",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="dependants",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="excluded_areas",
            field=opennrm.lib.fields.EncryptedJSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="interpreter_needed",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="keep_away",
            field=opennrm.lib.fields.EncryptedJSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="languages",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="near_school",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="needs_wheelchair",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="preferred_regions",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="raised_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="required_specialisms",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="placementrequest",
            name="wanted_specialisms",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name="placementrequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Waiting for a place"),
                    ("placed", "Placed"),
                    ("unmet", "Closed: no suitable place"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="open",
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="placementrequest",
            index=models.Index(fields=["status", "needed_from"], name="placement_request_idx"),
        ),
        migrations.AddField(
            model_name="addresspermission",
            name="granted_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="addresspermission",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="addresspermission",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="address_permissions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="bedevent",
            name="bed",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="events", to="support.bed"
            ),
        ),
        migrations.AddField(
            model_name="bedevent",
            name="by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="placement",
            name="bed",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="placements",
                to="support.bed",
            ),
        ),
        migrations.AddField(
            model_name="placement",
            name="proposed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="placement",
            name="request",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="placements",
                to="support.placementrequest",
            ),
        ),
        migrations.AddField(
            model_name="placement",
            name="responded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="bedevent",
            name="placement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="support.placement",
            ),
        ),
        migrations.AddField(
            model_name="bed",
            name="room",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="beds", to="support.room"
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="provider",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="support_services",
                to="accounts.organisation",
            ),
        ),
        migrations.AddField(
            model_name="site",
            name="provider",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="support_sites",
                to="accounts.organisation",
            ),
        ),
        migrations.AddField(
            model_name="site",
            name="services",
            field=models.ManyToManyField(blank=True, related_name="sites", to="support.service"),
        ),
        migrations.AddField(
            model_name="room",
            name="site",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="rooms", to="support.site"
            ),
        ),
        migrations.AddField(
            model_name="unmetneed",
            name="request",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="unmet_needs",
                to="support.placementrequest",
            ),
        ),
        migrations.AddConstraint(
            model_name="addresspermission",
            constraint=models.UniqueConstraint(
                condition=models.Q(("revoked_at", None)),
                fields=("user",),
                name="one_live_address_permission",
            ),
        ),
        migrations.AddIndex(
            model_name="placement",
            index=models.Index(fields=["status", "bed"], name="placement_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["reserved", "accepted", "occupied"])),
                fields=("bed",),
                name="one_live_placement_per_bed",
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("status__in", ["proposed", "reserved", "accepted", "occupied"])
                ),
                fields=("request",),
                name="one_live_placement_per_request",
            ),
        ),
        migrations.AddIndex(
            model_name="bedevent",
            index=models.Index(fields=["bed", "at"], name="bed_event_idx"),
        ),
        migrations.AddConstraint(
            model_name="bed",
            constraint=models.UniqueConstraint(fields=("room", "label"), name="bed_label_unique"),
        ),
        migrations.AddConstraint(
            model_name="site",
            constraint=models.UniqueConstraint(
                fields=("provider", "name"), name="site_name_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="room",
            constraint=models.UniqueConstraint(fields=("site", "name"), name="room_name_unique"),
        ),
        migrations.AddConstraint(
            model_name="unmetneed",
            constraint=models.UniqueConstraint(
                fields=("request", "on"), name="unmet_need_once_a_day"
            ),
        ),
        migrations.RunPython(fill_constraints, migrations.RunPython.noop, elidable=False),
    ]
