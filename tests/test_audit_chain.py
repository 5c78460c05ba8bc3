"""The audit trail's hash chain: each event follows the one before it, `verify_audit` checks
the whole chain, and an attacker who gets past the database's refusal (by disabling the
trigger, as the owner of the table can) and edits or deletes an event is found out."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from opennrm.accounts.models import User
from opennrm.audit import chain, context
from opennrm.audit.models import AuditEvent
from opennrm.audit.services import audit_read, audit_record

from . import case_factories


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def some_events(alice: User, count: int = 5) -> list[AuditEvent]:
    token = context.set_current(context.RequestContext("2001:db8::7", "f" * 32))
    try:
        return [
            audit_record(
                by=alice if n % 2 else None,
                action=f"test.event_{n}",
                obj=alice,
                detail={"n": n, "ratio": 1.0, "small": 0.1, "big": 1e20, "text": "Zoë ✓"},
            )
            for n in range(count)
        ]
    finally:
        context.reset(token)


@contextmanager
def attacker_with_database_access() -> Iterator[None]:
    """Switch off the append-only trigger, as someone holding the table owner's credentials
    could, for the length of the block."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fire the pending foreign-key checks now: PostgreSQL refuses ALTER TABLE on a
            # table with checks deferred to the end of the transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_change")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_change")
            else:
                cursor.execute(
                    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent "
                    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
                )


def test_each_event_follows_the_one_before(alice: User) -> None:
    events = some_events(alice)
    assert events[0].previous_hash == chain.GENESIS
    for before, after in itertools.pairwise(events):
        assert after.previous_hash == before.hash
        assert len(after.hash) == 64
    # Hashed as written and as read back: floats, non-ASCII text, an IPv6 address.
    stored = AuditEvent.objects.get(pk=events[-1].pk)
    assert chain.hash_of(chain.event_values(stored), stored.previous_hash) == stored.hash


def test_reads_are_chained_too(alice: User, dmitri: User, northmoor_police, authority) -> None:
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    first = audit_record(by=None, action="test.first")
    read = audit_read(by=dmitri, person=case.person, obj=case, fields=["given_names"])
    assert read.previous_hash == first.hash
    assert "The audit trail is intact: 2 events" in verify()


def test_verify_audit_reports_the_count_and_the_newest_hash(alice: User) -> None:
    events = some_events(alice)
    output = verify()
    assert f"intact: 5 events, the newest {events[-1].pk} with hash {events[-1].hash}" in output


def test_an_empty_trail_is_intact(db: None) -> None:
    assert "empty" in verify()


@pytest.mark.audit_tampered
def test_an_edited_event_is_found(alice: User) -> None:
    events = some_events(alice)
    victim = events[2]
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk=victim.pk).update(actor_label="someone-else@example.org")
    with pytest.raises(CommandError, match=f"at event {victim.pk}: event {victim.pk} has been "):
        verify()


@pytest.mark.audit_tampered
def test_an_edit_that_rehashes_the_event_breaks_the_next_link(alice: User) -> None:
    events = some_events(alice)
    victim = events[2]
    victim.detail = {"n": 99}
    forged = chain.hash_of(chain.event_values(victim), victim.previous_hash)
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk=victim.pk).update(detail={"n": 99}, hash=forged)
    with pytest.raises(CommandError, match=f"event {events[3].pk} does not follow"):
        verify()


@pytest.mark.audit_tampered
def test_a_deleted_event_leaves_a_gap_that_is_found(alice: User) -> None:
    events = some_events(alice)
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk=events[2].pk).delete()
    with pytest.raises(
        CommandError,
        match=f"at event {events[3].pk}: event {events[3].pk} does not follow event "
        f"{events[1].pk}: an event between them was deleted",
    ):
        verify()
    result = chain.verify(batch_size=2)
    assert result.broken is not None
    assert result.broken.event_id == events[3].pk
    assert result.count == 2


@pytest.mark.audit_tampered
def test_deleting_the_first_events_is_found(alice: User) -> None:
    events = some_events(alice)
    with attacker_with_database_access():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
    with pytest.raises(CommandError, match="the events before it were deleted"):
        verify()


def test_verification_walks_in_batches(alice: User, django_assert_num_queries) -> None:
    some_events(alice, count=7)
    with django_assert_num_queries(3):  # 3 + 3 + 1 events: a short batch is the last
        result = chain.verify(batch_size=3)
    assert (result.count, result.intact) == (7, True)


def test_the_database_still_refuses_to_change_an_event(alice: User) -> None:
    from django.db import DatabaseError, transaction

    event = some_events(alice, count=1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(hash="0" * 64)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    """Many threads, each with its own connection, write at once: every event still follows
    exactly one other. (PostgreSQL only: SQLite's in-memory test database is shared by the
    threads' connections and refuses concurrent writers outright.)"""
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                audit_record(by=None, action=f"test.thread_{n}_{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.count() == 80
    previous = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert len(set(previous)) == 80
    assert chain.verify().intact


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_events_written_before_the_chain() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0002_append_only")])
    try:
        with connection.cursor() as cursor:
            for n in range(3):
                cursor.execute(
                    "INSERT INTO audit_auditevent (at, actor_label, action, object_type, "
                    "object_id, ip_address, request_id, detail) VALUES "
                    "(%s, '', %s, '', '', %s, '', %s)",
                    [
                        f"2026-01-0{n + 1} 10:00:00.00012{n}+00:00",
                        f"test.old_{n}",
                        "192.0.2.1" if n else None,
                        '{"n": 1.0}',
                    ],
                )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert "intact: 3 events" in verify()
    # And the chain carries on from them, with the triggers back in place.
    audit_record(by=None, action="test.new")
    assert "intact: 4 events" in verify()
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(action="test.rewritten")


def test_an_audited_write_asks_the_database_once_before_its_insert(db: None) -> None:
    """PostgreSQL: the chain's lock and its last hash in one call (audit migration 0005), a
    statement fewer for every audited write; the race test above shows the chain still never
    forks."""
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes its write lock with a statement of its own")
    first = audit_record(by=None, action="test.first")
    with CaptureQueriesContext(connection) as queries:
        second = audit_record(by=None, action="test.second")
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements
    assert statements[0].startswith("SELECT audit_chain_head(")
    assert second.previous_hash == first.hash
