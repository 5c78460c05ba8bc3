"""The accommodation models, taken over from `support` as they are: their tables (`support_site`
and the rest) were made by `support`'s migrations, so this changes the migration state only
(ADR 0019)."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import opennrm.lib.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("support", "0008_bind_encrypted_values_to_rows"),
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
                    name="Bed",
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
                        ("label", models.CharField(max_length=30)),
                        ("out_of_service_since", models.DateTimeField(blank=True, null=True)),
                        ("out_of_service_reason", models.CharField(blank=True, max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "support_bed",
                        "ordering": ["room", "label"],
                    },
                ),
                migrations.CreateModel(
                    name="Room",
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
                        ("name", models.CharField(max_length=50)),
                        ("takes_dependants", models.PositiveSmallIntegerField(default=0)),
                        ("wheelchair_accessible", models.BooleanField(default=False)),
                    ],
                    options={
                        "db_table": "support_room",
                        "ordering": ["site", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="PlacementRequest",
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
                        ("needs", models.JSONField(default=list)),
                        (
                            "urgency",
                            models.CharField(
                                choices=[
                                    ("emergency", "Emergency: today"),
                                    ("urgent", "Urgent: within 3 days"),
                                    ("routine", "Routine"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("needed_from", models.DateField()),
                        (
                            "status",
                            models.CharField(
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
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("accepted_settings", models.JSONField(default=list)),
                        ("dependants", models.PositiveSmallIntegerField(default=0)),
                        ("needs_wheelchair", models.BooleanField(default=False)),
                        ("languages", models.JSONField(blank=True, default=list)),
                        ("interpreter_needed", models.BooleanField(default=False)),
                        ("required_specialisms", models.JSONField(blank=True, default=list)),
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        (
                            "keep_away",
                            opennrm.lib.fields.EncryptedJSONField(blank=True, default=list),
                        ),
                        (
                            "excluded_areas",
                            opennrm.lib.fields.EncryptedJSONField(blank=True, default=list),
                        ),
                        ("preferred_regions", models.JSONField(blank=True, default=list)),
                        ("near_school", models.BooleanField(default=False)),
                        ("wanted_specialisms", models.JSONField(blank=True, default=list)),
                        ("closed_at", models.DateTimeField(blank=True, null=True)),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("details_to_review", models.BooleanField(default=False)),
                        ("details_reviewed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="placement_requests",
                                to="cases.case",
                            ),
                        ),
                        (
                            "details_reviewed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "raised_by",
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
                        "db_table": "support_placementrequest",
                        "ordering": ["needed_from", "created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Placement",
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
                            "status",
                            models.CharField(
                                choices=[
                                    (
                                        "proposed",
                                        "Proposed by matching: waiting for the coordinator",
                                    ),
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
                        (
                            "bed",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="placements",
                                to="accommodation.bed",
                            ),
                        ),
                        (
                            "proposed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "responded_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "request",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="placements",
                                to="accommodation.placementrequest",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_placement",
                        "ordering": ["-proposed_at", "-id"],
                    },
                ),
                migrations.AddField(
                    model_name="bed",
                    name="room",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="beds",
                        to="accommodation.room",
                    ),
                ),
                migrations.CreateModel(
                    name="Service",
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
                            "public_id",
                            models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("description", models.TextField(blank=True)),
                        ("is_active", models.BooleanField(default=True)),
                        ("eligible_sexes", models.JSONField(blank=True, default=list)),
                        ("minimum_age", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("maximum_age", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("exploitation_types", models.JSONField(blank=True, default=list)),
                        ("languages", models.JSONField(blank=True, default=list)),
                        ("accessibility", models.CharField(blank=True, max_length=300)),
                        (
                            "provider",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="support_services",
                                to="accounts.organisation",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_service",
                        "ordering": ["provider__name", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="Site",
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
                            "public_id",
                            models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                        ),
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
                        (
                            "ages",
                            models.CharField(
                                choices=[
                                    ("adults", "Adults (18 and over)"),
                                    ("children", "Children (under 18, or whose age is disputed)"),
                                ],
                                default="adults",
                                max_length=10,
                            ),
                        ),
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        ("address", opennrm.lib.fields.EncryptedTextField()),
                        ("postcode", opennrm.lib.fields.EncryptedTextField(blank=True)),
                        ("location", opennrm.lib.fields.EncryptedJSONField(blank=True, null=True)),
                        ("staff_languages", models.JSONField(blank=True, default=list)),
                        ("specialisms", models.JSONField(blank=True, default=list)),
                        ("near_school", models.BooleanField(default=False)),
                        ("is_active", models.BooleanField(default=True)),
                        (
                            "provider",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="support_sites",
                                to="accounts.organisation",
                            ),
                        ),
                        (
                            "services",
                            models.ManyToManyField(
                                blank=True, related_name="sites", to="accommodation.service"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_site",
                        "ordering": ["provider__name", "name"],
                    },
                ),
                migrations.AddField(
                    model_name="room",
                    name="site",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rooms",
                        to="accommodation.site",
                    ),
                ),
                migrations.CreateModel(
                    name="AddressGrant",
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
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        ("reason", opennrm.lib.fields.EncryptedTextField()),
                        ("emergency", models.BooleanField(default=False)),
                        ("requested_at", models.DateTimeField()),
                        ("approved", models.BooleanField(blank=True, null=True)),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "membership",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="address_grants",
                                to="accounts.membership",
                            ),
                        ),
                        (
                            "revoked_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "site",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="address_grants",
                                to="accommodation.site",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_addressgrant",
                        "ordering": ["-requested_at", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="SiteAssignment",
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
                        ("assigned_at", models.DateTimeField()),
                        (
                            "assigned_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "membership",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="site_assignments",
                                to="accounts.membership",
                            ),
                        ),
                        (
                            "site",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="assignments",
                                to="accommodation.site",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_siteassignment",
                    },
                ),
                migrations.CreateModel(
                    name="UnmetNeed",
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
                        ("on", models.DateField()),
                        ("constraint", models.CharField(max_length=30)),
                        ("row_uuid", opennrm.lib.fields.RowUUIDField()),
                        ("reason", opennrm.lib.fields.EncryptedTextField()),
                        ("region", models.CharField(blank=True, max_length=30)),
                        ("area", models.CharField(blank=True, max_length=120)),
                        (
                            "request",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="unmet_needs",
                                to="accommodation.placementrequest",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_unmetneed",
                        "ordering": ["-on", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="BedEvent",
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
                        (
                            "bed",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="accommodation.bed",
                            ),
                        ),
                        (
                            "by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "placement",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="accommodation.placement",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "support_bedevent",
                        "ordering": ["at", "id"],
                        "indexes": [models.Index(fields=["bed", "at"], name="bed_event_idx")],
                    },
                ),
                migrations.AddIndex(
                    model_name="placementrequest",
                    index=models.Index(
                        fields=["status", "needed_from"], name="placement_request_idx"
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
                migrations.AddConstraint(
                    model_name="bed",
                    constraint=models.UniqueConstraint(
                        fields=("room", "label"), name="bed_label_unique"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="site",
                    constraint=models.UniqueConstraint(
                        fields=("provider", "name"), name="site_name_unique"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="room",
                    constraint=models.UniqueConstraint(
                        fields=("site", "name"), name="room_name_unique"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="addressgrant",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("approved", True),
                                ("decided_at__isnull", False),
                                ("expires_at__isnull", False),
                            ),
                            models.Q(("approved", False), ("decided_at__isnull", False)),
                            models.Q(("approved", None), ("decided_at", None)),
                            _connector="OR",
                        ),
                        name="address_grant_decided_with_expiry",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="siteassignment",
                    constraint=models.UniqueConstraint(
                        fields=("membership", "site"), name="one_assignment_per_site"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="unmetneed",
                    constraint=models.UniqueConstraint(
                        fields=("request", "on"), name="unmet_need_once_a_day"
                    ),
                ),
            ],
        ),
    ]
