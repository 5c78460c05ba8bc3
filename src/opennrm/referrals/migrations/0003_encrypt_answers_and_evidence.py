"""Encrypt the draft answers, evidence file names and evidence files already stored, in place.

Runs on the columns as plain text (the state the previous migration left), then declares them
encrypted. Values and files already encrypted are left as they are, so running it again changes
nothing. Going back decrypts them (the keys that encrypted them must still be configured).
"""

import json
import os
import tempfile
from pathlib import Path

from django.db import migrations

import opennrm.lib.fields

BATCH = 1000


def _replace(path, data):
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".encrypting-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def _files(storage, evidence, transform):
    for row in evidence.objects.order_by("pk").iterator(chunk_size=BATCH):
        path = Path(storage.path(row.file.name)) if row.file.name else None
        if path is None or not path.is_file():
            continue  # a file already gone cannot leak; nothing to do
        data = path.read_bytes()
        changed = transform(data, storage.context_for(row.file.name))
        if changed is not None:
            _replace(path, changed)


def encrypt(apps, schema_editor):
    from opennrm.lib import crypto, fields

    ring = fields.keyring()
    Draft = apps.get_model("referrals", "ReferralDraft")
    rows = []
    for row in Draft.objects.order_by("pk").iterator(chunk_size=BATCH):
        if not crypto.is_token(row.answers):
            plain = json.dumps(
                json.loads(row.answers or "{}"), ensure_ascii=False, separators=(",", ":")
            )
            row.answers = ring.encrypt_text(plain, "referrals.referraldraft.answers")
            rows.append(row)
        if len(rows) == BATCH:
            Draft.objects.bulk_update(rows, ["answers"])
            rows = []
    Draft.objects.bulk_update(rows, ["answers"])

    Evidence = apps.get_model("referrals", "EvidenceFile")
    rows = []
    for row in Evidence.objects.order_by("pk").iterator(chunk_size=BATCH):
        if not crypto.is_token(row.original_name):
            row.original_name = ring.encrypt_text(
                row.original_name, "referrals.evidencefile.original_name"
            )
            rows.append(row)
    Evidence.objects.bulk_update(rows, ["original_name"], batch_size=BATCH)

    def seal(data, context):
        return None if data.startswith(crypto.FILE_MAGIC) else ring.encrypt_file(data, context)

    _files(fields.EncryptedFileSystemStorage("evidence"), Evidence, seal)


def decrypt(apps, schema_editor):
    from opennrm.lib import crypto, fields

    ring = fields.keyring()
    Draft = apps.get_model("referrals", "ReferralDraft")
    for row in Draft.objects.order_by("pk").iterator(chunk_size=BATCH):
        if crypto.is_token(row.answers):
            row.answers = ring.decrypt_text(row.answers, "referrals.referraldraft.answers")
            row.save(update_fields=["answers"])
    Evidence = apps.get_model("referrals", "EvidenceFile")
    for row in Evidence.objects.order_by("pk").iterator(chunk_size=BATCH):
        if crypto.is_token(row.original_name):
            row.original_name = ring.decrypt_text(
                row.original_name, "referrals.evidencefile.original_name"
            )
            row.save(update_fields=["original_name"])

    def open_(data, context):
        return ring.decrypt_file(data, context) if data.startswith(crypto.FILE_MAGIC) else None

    _files(fields.EncryptedFileSystemStorage("evidence"), Evidence, open_)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_encryption_columns"),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
        migrations.AlterField(
            model_name="referraldraft",
            name="answers",
            field=opennrm.lib.fields.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="evidencefile",
            name="original_name",
            field=opennrm.lib.fields.EncryptedCharField(max_length=255),
        ),
    ]
