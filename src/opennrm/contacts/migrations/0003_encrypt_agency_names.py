"""Encrypt the names of the agencies a person agreed to share with, bound to their rows.

A GP surgery's or a local charity's name can say where someone lives, as outside services'
names do (docs/adr/0015). Each row gets a random `row_uuid` and its name is encrypted with it
in the associated data (docs/adr/0012). Names already encrypted are left as they are, so
running it again changes nothing; going back decrypts them (the keys must still be
configured).
"""

import uuid

from django.db import migrations

CONTEXT = "contacts.agencyconsent.agency_name"


def encrypt(apps, schema_editor):
    from opennrm.lib import crypto, fields

    ring = fields.keyring()
    model = apps.get_model("contacts", "AgencyConsent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, agency_name FROM contacts_agencyconsent ORDER BY id")
        rows = cursor.fetchall()
    for key, name in rows:
        if crypto.is_token(name):
            continue
        row = uuid.uuid4()
        model.objects.filter(pk=key).update(row_uuid=row)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_agencyconsent SET agency_name = %s WHERE id = %s",
                [ring.encrypt_text(name or "", CONTEXT, str(row)), key],
            )


def decrypt(apps, schema_editor):
    from opennrm.lib import crypto, fields

    ring = fields.keyring()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, row_uuid, agency_name FROM contacts_agencyconsent")
        rows = cursor.fetchall()
    for key, row, token in rows:
        if not crypto.is_token(token):
            continue
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_agencyconsent SET agency_name = %s WHERE id = %s",
                [ring.decrypt_text(token, CONTEXT, str(uuid.UUID(str(row)))), key],
            )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_agency_name_as_text")]

    operations = [migrations.RunPython(encrypt, decrypt)]
