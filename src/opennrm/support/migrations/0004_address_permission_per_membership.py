"""Address permissions belong to the coordinator's membership, not to the person, so that one
ends when they leave the organisation or the role. Live permissions move to the person's active
coordinator membership; one with no such membership is withdrawn."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def to_memberships(apps, schema_editor):
    Permission = apps.get_model("support", "AddressPermission")
    Membership = apps.get_model("accounts", "Membership")
    for permission in Permission.objects.all():
        membership = (
            Membership.objects.filter(
                user_id=permission.user_id, role="support_coordinator", is_active=True
            ).first()
            or Membership.objects.filter(user_id=permission.user_id).first()
        )
        if membership is None:
            permission.delete()
            continue
        permission.membership = membership
        if permission.revoked_at is None and not (
            membership.is_active and membership.role == "support_coordinator"
        ):
            permission.revoked_at = timezone.now()
        permission.save()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_data_protection_officer"),
        ("support", "0003_plans_missing_move_on_reminders"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="addresspermission", name="one_live_address_permission"
        ),
        migrations.AddField(
            model_name="addresspermission",
            name="membership",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="address_permissions",
                to="accounts.membership",
            ),
        ),
        migrations.RunPython(to_memberships, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="addresspermission", name="user"),
        migrations.AlterField(
            model_name="addresspermission",
            name="membership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="address_permissions",
                to="accounts.membership",
            ),
        ),
        migrations.AddConstraint(
            model_name="addresspermission",
            constraint=models.UniqueConstraint(
                condition=models.Q(("revoked_at", None)),
                fields=("membership",),
                name="one_live_address_permission",
            ),
        ),
    ]
