"""The test database on SQLite: migrated once, then copied into every test process.

Migrating from nothing takes about half a minute, and every pytest process (each xdist worker
too) used to do it. On SQLite the first process to need the database now migrates it exactly as
before (Django's own `create_test_db`, in memory) and saves a copy of the result as a template
in pytest's cache folder (`.pytest_cache/d/test-database/`). Every later process, and every other
worker of the same run, creates the same in-memory database and fills it from the template with
SQLite's backup API, as Django's own parallel test runner clones in-memory databases; then
Django's `create_test_db` runs as ever, its `migrate` finding nothing left to apply. The copy
holds everything the migrations made: the tables, the audit trail's triggers, the bundled
screening catalogue, the cache table. Connection settings (IMMEDIATE transactions) belong to the
connection, not the file, and are as before.

The template is named by a hash of what migrating produces: every file in every installed app's
migrations folder, the data files a migration may load (the JSON under `src/opennrm`), Django's
version and SQLite's. A new or changed migration therefore gets a new template, never a stale
one; older templates are deleted when a new one is saved. `--create-db` rebuilds the template.
A change that alters what `migrate` produces without touching a migration (a custom field's
column type, say) also needs `--create-db` once.

Everywhere else pytest-django's own setup runs unchanged: on PostgreSQL (CI runs the suite there
with `--create-db`), with `--reuse-db`, with `--no-migrations`, and when pytest's cache is off.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import django
import pytest
from pytest_django import fixtures as pytest_django_fixtures

# pytest-django's own fixture, run as it is wherever the template does not apply.
_pytest_django_db_setup: Callable[..., Generator[None]] = (
    pytest_django_fixtures.django_db_setup.__wrapped__
)

SOURCE = Path(__file__).resolve().parent.parent / "src" / "opennrm"


def migrations_key() -> str:
    """A hash of everything that decides what `migrate` makes of an empty database."""
    from django.apps import apps

    files: list[Path] = []
    for app in apps.get_app_configs():
        folder = Path(app.path) / "migrations"
        if folder.is_dir():
            files += [f for f in folder.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
    files += SOURCE.rglob("*.json")
    digest = hashlib.sha256(f"django {django.__version__} sqlite {sqlite3.sqlite_version}".encode())
    for path in sorted(files):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One process at a time builds or reads a template: xdist's workers start together, and the
    first builds it while the others wait to copy it rather than each migrating."""
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _create_test_db_from(template: Path, rebuild: bool) -> Callable[..., str]:
    """Django's `create_test_db` for an in-memory SQLite database, filled from the template
    first when there is one; else migrated as ever and saved as the template."""
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    create_and_migrate = connection.creation.create_test_db

    def create_test_db(verbosity: int = 1, autoclobber: bool = False, **kwargs: Any) -> str:
        with _locked(template.parent):
            if rebuild or not template.exists():
                name = create_and_migrate(verbosity, autoclobber, **kwargs)
                for old in template.parent.glob("migrated-*"):
                    old.unlink()
                # What migrating looked up about the connection and kept (whether SQLite has
                # JSON, say), for the copies to look up too: tests without database access
                # that run the system checks rely on it.
                looked_up = [name for name in vars(connection.features) if name != "connection"]
                template.with_suffix(".features").write_text("\n".join(looked_up))
                partial = template.with_suffix(".partial")
                with closing(sqlite3.connect(partial)) as target:
                    connection.connection.backup(target)
                partial.replace(template)  # whole or not at all, for the next process
                return name
            # Connect to the in-memory database as create_test_db does, and copy the template
            # in. (Closing an in-memory SQLite connection keeps it: Django never closes one.)
            name = connection.creation._get_test_db_name()
            settings.DATABASES[connection.alias]["NAME"] = name
            connection.settings_dict["NAME"] = name
            connection.ensure_connection()
            with closing(sqlite3.connect(template)) as source:
                source.backup(connection.connection)
            for feature in template.with_suffix(".features").read_text().split():
                getattr(connection.features, feature)
        # Then Django's own create_test_db, as ever: its migrate finds every migration applied
        # and does the rest of what migrating does in this process (connection features it
        # looks up and keeps, which later tests without database access rely on).
        return create_and_migrate(verbosity, autoclobber, **kwargs)

    return create_test_db


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Generator[None]:
    """pytest-django's `django_db_setup`, with an SQLite database in memory migrated once."""
    from django.db import connections

    setup = _pytest_django_db_setup(
        request,
        django_test_environment,
        django_db_blocker,
        django_db_use_migrations,
        django_db_keepdb,
        django_db_createdb,
        django_db_modify_db_settings,
    )
    creation = connections["default"].creation
    cache = getattr(request.config, "cache", None)
    in_memory = connections["default"].vendor == "sqlite" and creation.is_in_memory_db(
        creation._get_test_db_name()
    )
    if in_memory and cache is not None and django_db_use_migrations and not django_db_keepdb:
        template = cache.mkdir("test-database") / f"migrated-{migrations_key()}.sqlite3"
        creation.create_test_db = _create_test_db_from(template, rebuild=django_db_createdb)  # type: ignore[method-assign]
        try:
            next(setup)
        finally:
            del creation.create_test_db  # the class's own again
    else:
        next(setup)
    yield
    next(setup, None)
