"""Encrypt the free text of decisions and reconsiderations already stored, in place.

Decision makers' reasons and notes, and a referrer's grounds for reconsideration, are written
about the person and often name them: they are identifying, like the accounts. The columns are
already text, so no widening is needed. Values already encrypted are left as they are, so
running it again changes nothing; going back decrypts them (the keys must still be configured).
"""

from django.db import migrations

import opennrm.lib.fields

BATCH = 1000

COLUMNS = {
    "Decision": ("reasons", "approval_note"),
    "ReconsiderationRequest": ("grounds", "decision_reasons"),
}


def _transform(apps, change):
    from opennrm.lib import fields

    ring = fields.keyring()
    for model_name, names in COLUMNS.items():
        model = apps.get_model("decisions", model_name)
        rows = []
        for row in model.objects.order_by("pk").iterator(chunk_size=BATCH):
            changed = False
            for name in names:
                context = f"decisions.{model_name.lower()}.{name}"
                value = change(ring, getattr(row, name), context)
                if value is not None:
                    setattr(row, name, value)
                    changed = True
            if changed:
                rows.append(row)
            if len(rows) == BATCH:
                model.objects.bulk_update(rows, list(names))
                rows = []
        model.objects.bulk_update(rows, list(names), batch_size=BATCH)


def encrypt(apps, schema_editor):
    from opennrm.lib import crypto

    def seal(ring, value, context):
        return None if crypto.is_token(value) else ring.encrypt_text(value or "", context)

    _transform(apps, seal)


def decrypt(apps, schema_editor):
    from opennrm.lib import crypto

    def open_(ring, value, context):
        return ring.decrypt_text(value, context) if crypto.is_token(value) else None

    _transform(apps, open_)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0002_reminder_runs"),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
        migrations.AlterField(
            model_name="decision",
            name="reasons",
            field=opennrm.lib.fields.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="decision",
            name="approval_note",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="reconsiderationrequest",
            name="grounds",
            field=opennrm.lib.fields.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="reconsiderationrequest",
            name="decision_reasons",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
    ]
