"""What the application's database role may do, on PostgreSQL, when it is not the owner.

The migration role (OPENNRM_MIGRATION_DATABASE_URL) owns the schema and every table; the
application's role (DATABASE_URL) owns nothing. Only an owner can ALTER a table, so only an owner
can switch the audit trail's triggers off; the application's role gets SELECT, INSERT, UPDATE and
DELETE on the tables (never TRUNCATE, TRIGGER or REFERENCES), and on the audit table SELECT and
INSERT only. The same grants cover tables the migration role creates later
(ALTER DEFAULT PRIVILEGES), and `manage.py migrate` applies them again after every run.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLE = "audit_auditevent"
MIGRATIONS_TABLE = "django_migrations"


def statements(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """The SQL, run by the owner, that gives `role` what the application needs and no more."""
    quote = connection.ops.quote_name
    app = quote(role)
    return [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        # The audit trail: append and read, nothing else.
        f"REVOKE UPDATE, DELETE ON {quote(AUDIT_TABLE)} FROM {app}",
        # Which migrations ran is the migration role's business.
        f"REVOKE INSERT, UPDATE, DELETE ON {quote(MIGRATIONS_TABLE)} FROM {app}",
        # Tables and sequences the migration role makes from now on (the database cache's
        # table, a new app's), until the next `migrate` sets them right.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]


def grant_to_application(connection: BaseDatabaseWrapper, role: str) -> None:
    """Run `statements` on `connection`, which must be the owner's."""
    if connection.vendor != "postgresql":
        raise ValueError("database roles are PostgreSQL's; SQLite has none")
    with connection.cursor() as cursor:
        for statement in statements(connection, role):
            cursor.execute(statement)
