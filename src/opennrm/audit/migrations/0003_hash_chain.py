"""The hash chain and reads of a person's data: `person_id`, `previous_hash` and `hash`, and the
hashes of the events written before the chain existed.

The append-only triggers refuse the UPDATE that fills in the hashes, so they are dropped for the
length of this migration, which runs in one transaction, and created again at its end. (On
SQLite, adding a column with a default rebuilds the table, which drops its triggers anyway.)

The canonical form below is a frozen copy of version 1 in `opennrm.audit.chain`: a migration
must keep doing what it did when it was written, whatever the code does later.
"""

import hashlib
import ipaddress
import json
from datetime import UTC

from django.db import migrations, models

TRIGGERS = {
    "sqlite": (
        [
            """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
               BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
        ],
        ["DROP TRIGGER IF EXISTS audit_event_no_update"],
    ),
    "postgresql": (
        [
            """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
               FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""",
        ],
        ["DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent"],
    ),
}

HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "organisation_id",
    "ip_address",
    "request_id",
    "detail",
)


def _plain(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _address(value):
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).exploded
    except ValueError:
        return value


def _hash_v1(values, previous_hash):
    form = {
        "v": 1,
        "previous_hash": previous_hash,
        **{name: values[name] for name in HASHED_FIELDS},
        "at": values["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ip_address": _address(values["ip_address"]),
        "detail": _plain(values["detail"]),
    }
    data = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _execute(index):
    def run(apps, schema_editor):
        for statement in TRIGGERS.get(schema_editor.connection.vendor, ([], []))[index]:
            schema_editor.execute(statement)

    return run


create_triggers, drop_triggers = _execute(0), _execute(1)


def hash_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    previous, after = "", 0
    while True:
        batch = list(
            AuditEvent.objects.filter(id__gt=after)
            .order_by("id")
            .values_list("id", *HASHED_FIELDS)[:2000]
        )
        for event_id, *fields in batch:
            digest = _hash_v1(dict(zip(HASHED_FIELDS, fields, strict=True)), previous)
            AuditEvent.objects.filter(pk=event_id).update(previous_hash=previous, hash=digest)
            previous = digest
        if len(batch) < 2000:
            return
        after = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="person_id",
            field=models.BigIntegerField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(hash_existing_events, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
