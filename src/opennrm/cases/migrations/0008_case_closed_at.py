"""When a case was closed, stored so the retention period can be found with one indexed query.
Cases closed before this migration take the time of their last change to "closed"."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Change = apps.get_model("cases", "CaseStatusChange")
    for case in Case.objects.filter(status="closed", closed_at__isnull=True).iterator():
        last = Change.objects.filter(case=case, to_status="closed").order_by("-at").first()
        case.closed_at = last.at if last else case.submitted_at
        case.save(update_fields=["closed_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_encrypt_identities"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="closed_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
