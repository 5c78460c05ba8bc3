"""Make room to encrypt the names of the agencies a person agreed to share with: each row gets
a nullable `row_uuid`, the name becomes text, and the unique constraint on the name goes
(ciphertexts differ each time, so `contacts.services` keeps one row per agency itself).

The encryption is `0003` and the columns' final form `0004`: three migrations, because
PostgreSQL refuses to alter a table in the transaction that updated its rows ("pending trigger
events"), in either direction.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="agencyconsent", name="one_consent_per_agency"),
        migrations.AlterModelOptions(
            name="agencyconsent", options={"ordering": ["agency_kind", "pk"]}
        ),
        migrations.AddField(
            model_name="agencyconsent",
            name="row_uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="agencyconsent",
            name="agency_name",
            field=models.TextField(),
        ),
    ]
