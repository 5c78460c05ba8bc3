"""Django's `migrate`, run as the migration role when OPENNRM_MIGRATION_DATABASE_URL is set, and
followed by the application role's grants (audit/roles.py). Without that variable (SQLite, the
demo, the tests) it is Django's `migrate` unchanged."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from opennrm.audit import roles


class Command(migrate.Command):
    help = (
        migrate.Command.help
        + " With OPENNRM_MIGRATION_DATABASE_URL set, connects as that role (the schema's owner) "
        "and then grants DATABASE_URL's role what the application needs and no more."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        credentials = getattr(settings, "MIGRATION_DATABASE_CREDENTIALS", None)
        connection = connections[options["database"]]
        if not credentials or options["database"] != "default":
            super().handle(*args, **options)
            return
        application_role = connection.settings_dict["USER"]
        saved = {key: connection.settings_dict.get(key) for key in credentials}
        connection.close()
        connection.settings_dict.update(credentials)
        try:
            super().handle(*args, **options)
            roles.grant_to_application(connection, application_role)
            if options["verbosity"] >= 1:
                self.stdout.write(
                    f"Migrated as {credentials['USER']}; {application_role} may read and write "
                    "the tables, and only append to the audit trail."
                )
        finally:
            connection.close()
            connection.settings_dict.update(saved)
