"""Encrypt every identifying value already stored, in place, and fill the blind indexes.

Runs on the columns as plain text (the state the previous migration left), then declares them
encrypted. Rows already encrypted are left as they are, so running it again changes nothing.
Going back decrypts them (the keys that encrypted them must still be configured).
"""

import json
from datetime import date

from django.db import migrations

import opennrm.lib.fields

BATCH = 1000
IDENTITY = ("given_names", "family_name", "aliases", "date_of_birth", "safe_contact")
NARRATIVE = (
    "persons_account",
    "responders_account",
    "exploitation_places",
    "immediate_needs_details",
)


def _plain_json(text):
    # PostgreSQL gives jsonb back as text with its own spacing; store it as the field writes it.
    return json.dumps(json.loads(text or "[]"), ensure_ascii=False, separators=(",", ":"))


def _batches(model):
    rows = []
    for row in model.objects.order_by("pk").iterator(chunk_size=BATCH):
        rows.append(row)
        if len(rows) == BATCH:
            yield rows
            rows = []
    if rows:
        yield rows


def encrypt(apps, schema_editor):
    from opennrm.cases.models import whole_name
    from opennrm.lib import crypto, fields

    ring, index = fields.keyring(), fields.blind_index()

    def seal(row, model_name, names):
        for name in names:
            value = getattr(row, name)
            if value is None or crypto.is_token(value):
                continue
            if name == "aliases":
                value = _plain_json(value)
            setattr(row, name, ring.encrypt_text(value, f"cases.{model_name}.{name}"))

    Identity = apps.get_model("cases", "PersonIdentity")
    for rows in _batches(Identity):
        for row in rows:
            if crypto.is_token(row.given_names):
                continue
            born = date.fromisoformat(row.date_of_birth) if row.date_of_birth else None
            row.name_index = index.of_name(whole_name(row.given_names, row.family_name))
            row.dob_index = index.of_date(born)
            seal(row, "personidentity", IDENTITY)
        Identity.objects.bulk_update(rows, [*IDENTITY, "name_index", "dob_index"])
    Narrative = apps.get_model("cases", "CaseNarrative")
    for rows in _batches(Narrative):
        for row in rows:
            seal(row, "casenarrative", NARRATIVE)
        Narrative.objects.bulk_update(rows, NARRATIVE)


def decrypt(apps, schema_editor):
    from opennrm.lib import crypto, fields

    ring = fields.keyring()

    def open_(row, model_name, names):
        for name in names:
            value = getattr(row, name)
            if crypto.is_token(value):
                setattr(row, name, ring.decrypt_text(value, f"cases.{model_name}.{name}"))

    Identity = apps.get_model("cases", "PersonIdentity")
    for rows in _batches(Identity):
        for row in rows:
            open_(row, "personidentity", IDENTITY)
            row.name_index = row.dob_index = ""
        Identity.objects.bulk_update(rows, [*IDENTITY, "name_index", "dob_index"])
    Narrative = apps.get_model("cases", "CaseNarrative")
    for rows in _batches(Narrative):
        for row in rows:
            open_(row, "casenarrative", NARRATIVE)
        Narrative.objects.bulk_update(rows, NARRATIVE)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_identity_encryption_columns"),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
        migrations.AlterField(
            model_name="personidentity",
            name="given_names",
            field=opennrm.lib.fields.EncryptedCharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="family_name",
            field=opennrm.lib.fields.EncryptedCharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="aliases",
            field=opennrm.lib.fields.EncryptedJSONField(default=list),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="date_of_birth",
            field=opennrm.lib.fields.EncryptedDateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="personidentity",
            name="safe_contact",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="casenarrative",
            name="persons_account",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="casenarrative",
            name="responders_account",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="casenarrative",
            name="exploitation_places",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="casenarrative",
            name="immediate_needs_details",
            field=opennrm.lib.fields.EncryptedTextField(blank=True),
        ),
    ]
