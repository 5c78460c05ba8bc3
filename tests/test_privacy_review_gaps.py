"""Review of the privacy app and the audit views (data-protection officer and penetration
tester). Each test here fails on the current code and names a real defect."""

from __future__ import annotations

import json

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, Person
from opennrm.privacy import selectors, services

from . import factories
from .test_retention_and_erasure import closed_case, closed_person, files  # noqa: F401


def test_searching_the_audit_trail_is_itself_recorded(
    sysadmin: User,
    dpo: User,
    alice: User,
    closed_case: Case,  # noqa: F811
) -> None:
    """The audit search can be filtered to one case's record and shows who looked at it, when and
    from where: the same knowledge `privacy:person_reads` records each look-up of ("so the trail
    also shows who watched"). A system administrator or the officer using the search instead
    leaves no trace."""
    factories.signed_in_client(alice).get(f"/cases/{closed_case.reference}/")
    for watcher in (sysadmin, dpo):
        before = AuditEvent.objects.filter(actor=watcher).count()
        response = factories.signed_in_client(watcher).get(
            "/audit/", {"object_type": "cases.case", "object_id": str(closed_case.pk)}
        )
        assert response.status_code == 200
        assert "alice@example.org" in response.content.decode()
        assert AuditEvent.objects.filter(actor=watcher).count() > before, (
            f"{watcher.email} searched the audit trail and was not recorded"
        )


def test_the_reads_page_does_not_call_a_subject_access_export_a_pdf_download(
    dpo: User,
    closed_person: Person,  # noqa: F811
) -> None:
    """The officer's own subject access export is recorded as `person.exported` on the Person
    (no document). `PersonReads._describe` shows it as "Downloaded a document (PDF)" and looks
    the person's id up among the case ids, so the officer reading who saw a person is told a
    PDF was downloaded, of a record that is either a bare number or, when the ids collide, a case
    reference it was not."""
    services.subject_access_export(by=dpo, person=closed_person, request_reference="DPR-9")
    reference = closed_person.cases.get().reference
    found = selectors.person_reads_get(factories_actor(dpo), reference)
    assert found is not None
    export = found.events.get(action="person.exported", actor=dpo)
    [row] = found.describe([export])
    assert "PDF" not in row.what, row.what
    assert "document" not in row.what, row.what
    assert row.record not in (str(closed_person.pk), reference), row.record


def test_the_export_names_only_the_organisations_that_were_shown_the_details(
    dpo: User,
    alice: User,
    closed_person: Person,  # noqa: F811
) -> None:
    """`_recipients` credits every read to every organisation the reader has a membership in,
    now or ever (inactive ones, ones joined later), not to the organisation they read it for.
    A first responder who later joins a charity makes the export tell the person (GDPR Art.
    15(1)(c)) that the charity was shown their details: false, and it names an organisation
    connected to their case that never was."""
    case = closed_person.cases.get()
    factories.signed_in_client(alice).get(f"/cases/{case.reference}/")
    later = factories.organisation("Riverside Outreach Charity")
    Membership.objects.create(user=alice, organisation=later, role=Role.FIRST_RESPONDER)
    old = factories.organisation("Old Employer Trust")
    Membership.objects.create(
        user=alice, organisation=old, role=Role.FIRST_RESPONDER, is_active=False
    )
    data = services.subject_access_export(by=dpo, person=closed_person, request_reference="DPR-3")
    shown_to = [row["organisation"] for row in data["shown_to"]]
    assert "Northmoor Police" in shown_to
    assert "Riverside Outreach Charity" not in shown_to, json.dumps(data["shown_to"])
    assert "Old Employer Trust" not in shown_to, json.dumps(data["shown_to"])


def factories_actor(user: User) -> Actor:
    return Actor.of_session(user)
