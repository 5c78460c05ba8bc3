from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_data_protection_officer"),
        ("cases", "0008_case_closed_at"),
        ("screening", "0002_bundled_catalogue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["competent_authority", "status", "age_group", "reasonable_grounds_due"],
                name="case_rg_queue_age_idx",
            ),
        ),
    ]
