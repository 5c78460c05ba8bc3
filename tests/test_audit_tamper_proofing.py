"""The audit trail against someone with database access: TRUNCATE is refused; the application's
database role cannot truncate, update or delete events nor switch the triggers off (it owns
nothing; `migrate` runs as another role and grants it only what it needs); and anchors kept
outside the database make `verify_audit` fail on a trail emptied, cut short or rewritten by
someone who could."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from opennrm.accounts.models import User
from opennrm.audit import anchor, chain, tasks
from opennrm.audit.models import AuditEvent

from .test_audit_chain import attacker_with_database_access, some_events
from .test_settings import PRODUCTION, run_python

APP_ROLE = "opennrm_app"


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def anchor_now() -> str:
    out = StringIO()
    call_command("schedule", "audit-anchor", "--now", stdout=out)
    return out.getvalue()


@pytest.fixture
def anchor_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit-anchors.jsonl"
    with override_settings(AUDIT_ANCHOR_FILE=str(path)):
        yield path


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("roles and TRUNCATE are PostgreSQL's (CI runs this on PostgreSQL)")


# --- TRUNCATE --------------------------------------------------------------------------------


def test_truncating_the_audit_trail_is_refused_even_for_its_owner(alice: User) -> None:
    needs_postgresql()
    some_events(alice, count=3)
    with connection.cursor() as cursor:
        # Fire the pending foreign-key checks first, or PostgreSQL refuses for that reason.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.count() == 3


# --- The application's role -----------------------------------------------------------------


def _superuser_connection() -> Any:
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user="postgres",
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture
def application_role(transactional_db: None) -> str:
    """A login role that owns nothing. CI creates it (.ci/run); elsewhere the PostgreSQL
    superuser makes it, if this machine lets us be one."""
    needs_postgresql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
        exists = cursor.fetchone() is not None
    if not exists:
        try:
            with _superuser_connection() as superuser:
                superuser.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN')
        except Exception as problem:  # noqa: BLE001 - said below
            pytest.fail(f"the role {APP_ROLE} does not exist and cannot be made: {problem}")
    return APP_ROLE


def _as(role: str) -> Any:
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=role,
        password=settings.get("PASSWORD") or None,
        dbname=settings["NAME"],
        connect_timeout=5,
    )


def refused_to(app: Any, statement: str) -> bool:
    """Whether the database refuses `statement` to the connection's role for want of privilege
    (never for another reason: that would hide a statement that was simply wrong)."""
    from psycopg import errors

    try:
        app.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    finally:
        app.rollback()
    return False


@pytest.mark.django_db(transaction=True)
def test_migrating_as_the_owner_leaves_the_application_role_unable_to_rewrite_the_trail(
    application_role: str, alice: User
) -> None:
    import psycopg

    events = some_events(alice, count=3)
    owner = connection.settings_dict["USER"]
    with connection.cursor() as cursor:  # whatever an earlier run granted, start from nothing
        cursor.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{application_role}"')
    # DATABASE_URL names the application's role, OPENNRM_MIGRATION_DATABASE_URL the owner.
    connection.close()
    connection.settings_dict["USER"] = application_role
    try:
        with override_settings(MIGRATION_DATABASE_CREDENTIALS={"USER": owner, "PASSWORD": ""}):
            out = StringIO()
            call_command("migrate", "--noinput", stdout=out)
    finally:
        connection.close()
        connection.settings_dict["USER"] = owner
    assert f"Migrated as {owner}; {application_role} may read and write" in out.getvalue()

    with _as(application_role) as app:
        # What the application needs still works.
        assert app.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (3,)
        app.execute(
            "INSERT INTO audit_auditevent (at, actor_label, action, object_type, object_id, "
            "request_id, detail, previous_hash, hash) VALUES "
            "(now(), '', 'test.appended', '', '', '', '{}', %s, %s)",
            [events[-1].hash, "0" * 64],
        )
        app.execute("UPDATE accounts_organisation SET name = name")
        app.rollback()
        refused = {
            "TRUNCATE": "TRUNCATE audit_auditevent",
            "UPDATE": "UPDATE audit_auditevent SET actor_label = 'nobody'",
            "DELETE": "DELETE FROM audit_auditevent",
            "DISABLE TRIGGER": "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
            "DROP TRIGGER": "DROP TRIGGER audit_event_no_change ON audit_auditevent",
            "CREATE TRIGGER": "CREATE TRIGGER t BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()",
            "REPLACE FUNCTION": "CREATE OR REPLACE FUNCTION audit_event_refuse_change() "
            "RETURNS trigger AS $$ BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql",
            "migrations": "DELETE FROM django_migrations",
        }
        allowed = [what for what, statement in refused.items() if not refused_to(app, statement)]
        assert allowed == []
    with pytest.raises(psycopg.Error), _as(application_role) as app:
        app.execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.count() == 3
    assert chain.verify().intact


def test_the_migration_url_must_name_the_same_postgresql_database_and_another_role() -> None:
    base = {**PRODUCTION, "DATABASE_URL": "postgres://opennrm_app@db.example:5432/opennrm"}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup()"
    )
    cases = {
        "postgres://opennrm@db.example:5432/other": "its name differs",
        "postgres://opennrm@elsewhere:5432/opennrm": "its host differs",
        "postgres://opennrm_app@db.example:5432/opennrm": "must name another role",
    }
    for url, message in cases.items():
        result = run_python(code, {**base, "OPENNRM_MIGRATION_DATABASE_URL": url})
        assert result.returncode != 0, url
        assert message in result.stderr, result.stderr
    result = run_python(
        code, {**PRODUCTION, "OPENNRM_MIGRATION_DATABASE_URL": "postgres://o@db.example/x"}
    )
    assert "SQLite has no roles" in result.stderr
    result = run_python(
        code + "; from django.conf import settings; print(settings.MIGRATION_DATABASE_CREDENTIALS)",
        {**base, "OPENNRM_MIGRATION_DATABASE_URL": "postgres://opennrm:pw@db.example:5432/opennrm"},
    )
    assert result.returncode == 0, result.stderr
    assert "{'USER': 'opennrm', 'PASSWORD': 'pw'}" in result.stdout


# --- Anchors ----------------------------------------------------------------------------------


def test_an_anchor_records_the_head_and_verify_agrees_with_it(
    alice: User, anchor_file: Path
) -> None:
    events = some_events(alice, count=4)
    assert f"Anchored 4 events, the newest {events[-1].pk}" in anchor_now()
    (line,) = anchor_file.read_text().splitlines()
    written = json.loads(line)
    assert (written["count"], written["last_id"], written["hash"]) == (
        4,
        events[-1].pk,
        events[-1].hash,
    )
    some_events(alice, count=2)  # the trail grows after the anchor: still fine
    assert "It agrees with the 1 anchors" in verify()


@pytest.mark.audit_tampered
def test_an_emptied_trail_fails_when_an_anchor_exists(alice: User, anchor_file: Path) -> None:
    events = some_events(alice, count=3)
    anchor_now()
    with attacker_with_database_access():
        AuditEvent.objects.all().delete()
    with pytest.raises(
        CommandError,
        match=f"the audit trail is empty, but on .* it had 3 events, the newest {events[-1].pk}: "
        "it has been emptied",
    ):
        verify()


@pytest.mark.audit_tampered
def test_a_trail_cut_short_fails(alice: User, anchor_file: Path) -> None:
    events = some_events(alice, count=5)
    anchor_now()
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk__in=[events[3].pk, events[4].pk]).delete()
    with pytest.raises(CommandError, match="events have been removed from its end"):
        verify()


@pytest.mark.audit_tampered
def test_a_trail_cut_short_and_refilled_to_the_same_length_fails(
    alice: User, anchor_file: Path
) -> None:
    events = some_events(alice, count=4)
    anchor_now()
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk=events[3].pk).delete()
    some_events(alice, count=1)  # as many events as anchored, but not the anchored one
    with pytest.raises(CommandError, match=f"event {events[3].pk}, the newest on .* is no longer"):
        verify()


@pytest.mark.audit_tampered
def test_a_trail_rewritten_and_rehashed_from_the_start_fails(
    alice: User, anchor_file: Path
) -> None:
    events = some_events(alice, count=4)
    anchor_now()
    with attacker_with_database_access():
        previous = events[0].hash
        for event in events[1:]:
            stored = AuditEvent.objects.get(pk=event.pk)
            if event is events[1]:
                stored.actor_label = "someone-else@example.org"
            digest = chain.hash_of(chain.event_values(stored), previous)
            AuditEvent.objects.filter(pk=event.pk).update(
                actor_label=stored.actor_label, previous_hash=previous, hash=digest
            )
            previous = digest
    assert chain.verify().intact  # a whole chain: only the anchor can tell
    with pytest.raises(CommandError, match=f"event {events[-1].pk} has the hash .* rewritten"):
        verify()


def test_a_garbled_anchor_file_fails(alice: User, anchor_file: Path) -> None:
    some_events(alice, count=1)
    anchor_now()
    with anchor_file.open("a") as file:
        file.write("not an anchor\n")
    with pytest.raises(CommandError, match="something other than an anchor on line 2"):
        verify()


def test_an_anchor_file_that_is_not_text_fails_with_a_message(alice: User, tmp_path: Path) -> None:
    """An anchor file that is not UTF-8 (corrupted, or tampered with) cannot be trusted: the
    command says so, never a traceback."""
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_bytes(b'{"at": "2026-01-01T00:00:00", "count": 1, \xff\xfe\x00garbage}\n')
    with pytest.raises(CommandError, match=r"anchor file .* is not text"):
        call_command("verify_audit", anchor_file=str(anchors), stdout=StringIO())


def test_an_anchor_file_given_on_the_command_line_is_compared(alice: User, tmp_path: Path) -> None:
    copy = tmp_path / "copy.jsonl"
    copy.write_text(json.dumps({"at": "2026-01-01T00:00:00+00:00", "count": 9, "last_id": 9,
                                "hash": "0" * 64}) + "\n")  # fmt: skip
    some_events(alice, count=2)
    with pytest.raises(CommandError, match="removed from its end"):
        call_command("verify_audit", "--anchor-file", str(copy), stdout=StringIO())


@pytest.mark.audit_tampered
def test_a_broken_chain_is_never_anchored(alice: User, anchor_file: Path) -> None:
    events = some_events(alice, count=3)
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk=events[1].pk).update(actor_label="x@example.org")
    with pytest.raises(CommandError, match="not anchored: the audit trail is broken at event "):
        anchor_now()
    assert not anchor_file.exists()
    assert tasks.anchor_audit_trail.call(reschedule=False)["anchored"] is None


def test_the_task_anchors_the_head(alice: User, anchor_file: Path) -> None:
    events = some_events(alice, count=2)
    result = tasks.anchor_audit_trail.enqueue()
    assert result.return_value == {"anchored": events[-1].pk, "count": 2}
    assert [a.last_id for a in anchor.read(anchor_file)] == [events[-1].pk]


def test_without_an_anchor_file_scheduling_does_nothing_and_verify_says_so(
    alice: User, settings: Any
) -> None:
    settings.AUDIT_ANCHOR_FILE = ""
    some_events(alice, count=1)
    out = StringIO()
    call_command("schedule", "audit-anchor", stdout=out)
    assert "No anchor file is configured" in out.getvalue()
    with pytest.raises(CommandError, match="No anchor file is configured"):
        anchor_now()
    assert "a trail emptied or cut short could not be told apart" in verify()


def test_the_task_schedules_its_next_run_on_the_worker_s_queue(
    alice: User, anchor_file: Path, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.AUDIT_ANCHOR_MINUTES = 15
    some_events(alice, count=1)
    before = timezone.now()
    tasks.anchor_audit_trail.call()
    waiting = DBTaskResult.objects.get(
        task_path=tasks.anchor_audit_trail.module_path, status="READY"
    )
    assert (
        before + timedelta(minutes=15)
        <= waiting.run_after
        <= timezone.now() + timedelta(minutes=15)
    )
    assert len(anchor.read(anchor_file)) == 1
    out = StringIO()
    call_command("schedule", "audit-anchor", stdout=out)
    assert "already scheduled" in out.getvalue()
