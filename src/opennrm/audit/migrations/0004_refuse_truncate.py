"""PostgreSQL refuses TRUNCATE of the audit table too: a statement-level trigger, since the
row-level one of 0002 never sees a TRUNCATE. (SQLite has no TRUNCATE.)

The table's owner can still switch triggers off; the application's role owns nothing and has no
TRUNCATE privilege (audit/roles.py), and the anchors outside the database show a trail emptied or
cut short by someone who can (audit/anchor.py).
"""

from django.db import migrations

POSTGRESQL = [
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_hash_chain")]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_REVERSE))]
