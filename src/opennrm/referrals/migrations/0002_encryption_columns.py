"""Make the draft answers and evidence file names plain text columns, ready for ciphertext.
The data is encrypted by the next migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="referraldraft",
            name="answers",
            field=models.TextField(blank=True, default="{}"),
        ),
        migrations.AlterField(
            model_name="evidencefile",
            name="original_name",
            field=models.TextField(),
        ),
    ]
