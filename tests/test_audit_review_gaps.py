"""The audit trail, found by review: a search keeps only its filters, and verify_audit walks
every row, whatever its id."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.audit import chain
from opennrm.audit.models import AuditEvent

from . import factories
from .test_audit_chain import some_events


def test_a_search_records_only_the_filters_not_any_text_sent_with_it(sysadmin: User) -> None:
    """`audit.views.search` writes every query parameter, known or not, into the
    `audit.searched` event. Anything appended to the URL (a person's name and date of birth,
    100 KB of text) is then kept for ever in an append-only trail that erasure never touches,
    though ADR 11 says the trail "must not become a second copy of the data" and events hold
    field names and ids, no values. Expected: only the form's filters (and the page) are
    recorded."""
    factories.signed_in_client(sysadmin).get(
        reverse("audit:search"),
        {"actor": "alice", "note": "Zorica Testova born 1 1 1990", "blob": "x" * 20_000},
    )
    event = AuditEvent.objects.filter(action="audit.searched").latest("id")
    assert set(event.detail["filters"]) <= {
        "actor",
        "action",
        "object_type",
        "object_id",
        "ip_address",
        "date_from",
        "date_to",
        "page",
    }


@pytest.mark.audit_tampered
def test_verify_audit_fails_on_an_event_outside_the_walk(alice: User) -> None:
    """Someone with the table owner's credentials (ADR 11's attacker) inserts a forged event
    with id 0: "alice viewed the person" at a time of their choosing. `chain._rows` starts
    after id 0, so the forged row is never read and `verify_audit` reports the trail intact
    while the search page shows the forgery. Expected: every row of the trail is checked
    (or the command fails when the table holds rows the walk did not see)."""
    events = some_events(alice, count=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (id, at, actor_id, actor_label, action, object_type, "
            "object_id, ip_address, request_id, detail, person_id, previous_hash, hash) "
            "VALUES (0, %s, %s, %s, 'person.viewed', '', '', NULL, '', '{}', 1, '', 'forged')",
            [events[0].at, alice.pk, alice.email],
        )
    assert AuditEvent.objects.count() == 4
    assert not chain.verify().intact
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=StringIO())
