"""Record which support provider asked for a reconsideration, so that its staff may read back
the evidence it sent (the referrer reads back its own through `cases:reconsideration_evidence`).

Requests already made name the organisation they were made for only in their audit event
(`reconsideration.requested`): the referring organisation, or the support provider that asked.
Where that event names another organisation than the case's referrer, the provider is copied
from it. An organisation that both referred the case and supports the person is taken as the
referrer, whose staff read back what it sent through `cases:reconsideration_evidence`.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def providers_from_the_audit_trail(apps: Any, schema_editor: Any) -> None:
    Request = apps.get_model("decisions", "ReconsiderationRequest")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    asked = AuditEvent.objects.filter(
        action="reconsideration.requested",
        object_type="decisions.reconsiderationrequest",
        organisation__isnull=False,
    ).values_list("object_id", "organisation_id")
    for object_id, organisation_id in asked.iterator():
        Request.objects.filter(pk=int(object_id), support_provider__isnull=True).exclude(
            case__referring_organisation_id=organisation_id
        ).update(support_provider_id=organisation_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_immigration_enforcement"),
        ("audit", "0004_refuse_truncate"),
        ("decisions", "0010_decision_case_kind_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="reconsiderationrequest",
            name="support_provider",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(providers_from_the_audit_trail, migrations.RunPython.noop),
    ]
