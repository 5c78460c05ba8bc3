"""PostgreSQL: one function that takes the chain's lock and then reads its last hash, so that an
audited write asks the database once, not twice, before its INSERT (issue 10, item 23: every
statement is about a millisecond of a referral's submission with a million cases stored).

The read must come after the lock, on a snapshot taken once the lock is held: a VOLATILE
PL/pgSQL function takes a fresh snapshot for each query it runs (READ COMMITTED), so the SELECT
sees the event of the writer that held the lock before. One SQL statement doing both would read
on the snapshot taken before it waited, and fork the chain. (SQLite takes its write lock
otherwise: audit/services.py.)
"""

from django.db import migrations

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint) RETURNS text
       LANGUAGE plpgsql VOLATILE AS $$
       BEGIN
           PERFORM pg_advisory_xact_lock(lock_key);
           RETURN (SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1);
       END
       $$""",
]
POSTGRESQL_REVERSE = ["DROP FUNCTION IF EXISTS audit_chain_head(bigint)"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_refuse_truncate")]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_REVERSE))]
