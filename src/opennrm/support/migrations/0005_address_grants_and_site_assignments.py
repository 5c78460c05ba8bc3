"""Safe-house addresses per site and time-limited (issue 10): the national, open-ended
AddressPermission is dropped, not carried over (nobody may keep seeing every provider's safe
houses on one administrator's say; its grants and withdrawals stay in the audit trail);
coordinators ask again, site by site. Managers are assigned to sites: each active manager starts
assigned to every site of their own provider, as they saw before, until its administrator
narrows that."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import opennrm.lib.fields


def assign_managers(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    Site = apps.get_model("support", "Site")
    SiteAssignment = apps.get_model("support", "SiteAssignment")
    now = timezone.now()
    for membership in Membership.objects.filter(role="safe_house_manager", is_active=True):
        for site in Site.objects.filter(provider_id=membership.organisation_id):
            SiteAssignment.objects.create(membership=membership, site=site, assigned_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_data_protection_officer"),
        ("support", "0004_address_permission_per_membership"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AddressGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", opennrm.lib.fields.EncryptedTextField()),
                ("emergency", models.BooleanField(default=False)),
                ("requested_at", models.DateTimeField()),
                ("approved", models.BooleanField(blank=True, null=True)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-requested_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="SiteAssignment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("assigned_at", models.DateTimeField()),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="addresspermission",
            name="one_live_address_permission",
        ),
        migrations.AddField(
            model_name="addressgrant",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="addressgrant",
            name="membership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="address_grants",
                to="accounts.membership",
            ),
        ),
        migrations.AddField(
            model_name="addressgrant",
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
            model_name="addressgrant",
            name="site",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="address_grants",
                to="support.site",
            ),
        ),
        migrations.AddField(
            model_name="siteassignment",
            name="assigned_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="siteassignment",
            name="membership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="site_assignments",
                to="accounts.membership",
            ),
        ),
        migrations.AddField(
            model_name="siteassignment",
            name="site",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to="support.site",
            ),
        ),
        migrations.RunPython(assign_managers, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(
            model_name="addresspermission",
            name="granted_by",
        ),
        migrations.RemoveField(
            model_name="addresspermission",
            name="membership",
        ),
        migrations.RemoveField(
            model_name="addresspermission",
            name="revoked_by",
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
        migrations.DeleteModel(
            name="AddressPermission",
        ),
    ]
