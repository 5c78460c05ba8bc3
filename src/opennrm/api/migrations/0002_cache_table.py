"""Create the database cache table where the API's rate limits are counted (settings.CACHES),
so that a deployment that migrates has it: without it every API request would fail. Django's
own `createcachetable` does the work; it skips a table that exists, so running it again (or
the test runner running it too) changes nothing."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False),
    ]
