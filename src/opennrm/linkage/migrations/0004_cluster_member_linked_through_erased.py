"""Which erased referral a cluster member is linked through (ADR 0052, addendum of 2026-12-05).

Members whose link went with an erased referral before this migration (their `linked_by`
emptied) are given 0: which erased referral is not known, so they stay joined to one another,
as the code before kept them."""

from django.db import migrations, models


def unknown_group(apps, schema_editor):  # type: ignore[no-untyped-def]
    ClusterMember = apps.get_model("linkage", "ClusterMember")
    ClusterMember.objects.filter(linked_by__isnull=True).update(linked_through_erased=0)


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0003_pair_unlink"),
    ]

    operations = [
        migrations.AddField(
            model_name="clustermember",
            name="linked_through_erased",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(unknown_group, migrations.RunPython.noop),
    ]
