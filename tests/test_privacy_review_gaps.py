"""Review of the privacy app and the audit views (data-protection officer and penetration
tester). Each test here fails on the current code and names a real defect."""

from __future__ import annotations

import json

import time_machine

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, Person
from opennrm.decisions import services as decisions
from opennrm.operations import services as operations
from opennrm.operations.models import ReceptionRecord
from opennrm.privacy import selectors, services

from . import factories
from .test_erasure_reaches_everything import taken_in_referred_and_closed
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


def _board_reads(found: selectors.PersonReads, user: User) -> list[AuditEvent]:
    return [
        event
        for event in found.events
        if event.actor_id == user.pk
        and "reception.name_or_description" in (event.detail or {}).get("fields", [])
    ]


def test_reads_of_the_name_on_an_operations_board_appear_on_the_persons_reads_page(
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    routing: Organisation,
    settings,
    tmp_path,
) -> None:
    """A person taken in during an operation has their name (or description) shown on the
    operation's board (and the reception API) to the lead's first responders; each showing is
    audited (`operations.services.reception_names_shown`) against the operation, before the
    person has a person record. The officer's "who looked at this person" page, and the
    export's recipients, must still find those reads through the reception record (its draft,
    and so its case); a showing of only other people's names is not theirs."""
    settings.PRIVATE_FILES_DIR = tmp_path
    case = taken_in_referred_and_closed(alice, dmitri, northmoor_police)
    record = ReceptionRecord.objects.get(draft__case=case)
    before = services.subject_access_export(by=dpo, person=case.person, request_reference="D-1")
    with time_machine.travel(case.closed_at):
        operations.reception_names_shown(
            by=alice, operation=record.operation, sequences=[record.sequence]
        )
        operations.reception_names_shown(
            by=dmitri, operation=record.operation, sequences=[record.sequence + 1]
        )
    found = selectors.person_reads_get(Actor.of_session(dpo), case.reference)
    assert found is not None
    [shown] = _board_reads(found, alice)
    assert not _board_reads(found, dmitri), "another person's showing is listed"
    [row] = found.describe([shown])
    assert row.what == "Shown on an operation's reception board", row.what
    assert row.record == f"Taken in as {record.reference} (now case {case.reference})", row.record
    assert row.fields == "the name or description given when taken in", row.fields

    after = services.subject_access_export(by=dpo, person=case.person, request_reference="D-2")
    lead = record.operation.lead_organisation.name

    def times(data: dict) -> int:
        return sum(row["times"] for row in data["shown_to"] if row["organisation"] == lead)

    assert times(after) == times(before) + 1, after["shown_to"]


def test_the_reads_page_names_a_downloaded_copy_of_the_referral(
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    routing: Organisation,
    settings,
    tmp_path,
) -> None:
    """The referrer's PDF copy of the whole referral (`referrals.views.referral_copy`) is
    audited with the draft as its document: the page must say the referral was exported, not
    "a document" with a draft's internal id."""
    settings.PRIVATE_FILES_DIR = tmp_path
    case = taken_in_referred_and_closed(alice, dmitri, northmoor_police)
    response = factories.signed_in_client(alice).get(f"/cases/{case.reference}/referral-copy.pdf")
    assert response.status_code == 200, response.status_code
    found = selectors.person_reads_get(Actor.of_session(dpo), case.reference)
    assert found is not None
    [row] = found.describe(found.events.filter(action="person.exported", actor=alice))
    assert row.what == "Downloaded the referral as submitted (PDF copy)", row.what


def test_the_reads_page_names_a_reconsiderations_letter_and_evidence() -> None:
    """A reconsideration's letter (its document is the request) and the files sent with it are
    named for what they are, not "a document"."""
    reads = selectors.PersonReads(
        reference="X",
        case_references={},
        draft_cases={},
        events=AuditEvent.objects.none(),
        receptions={},
    )
    letter = AuditEvent(
        action="person.exported",
        object_type="cases.case",
        object_id="1",
        detail={"document": {"type": "decisions.reconsiderationrequest", "id": 4}},
    )
    evidence = AuditEvent(
        action="evidence.downloaded",
        object_type="cases.case",
        object_id="1",
        detail={"document": {"type": "decisions.reconsiderationevidence", "id": 5}},
    )
    assert [read.what for read in reads.describe([letter, evidence])] == [
        "Downloaded reconsideration letter 4 (PDF)",
        "Downloaded reconsideration evidence 5",
    ]


def test_the_second_decision_makers_note_is_in_the_subject_access_export(
    dmitri: User, sally: User, dpo: User, case: Case
) -> None:
    """A second decision maker's note on refusing to approve a negative decision
    (`Decision.approval_note`) is an opinion about the person's case: the subject access export
    gives it, labelled, beside the decision's reasons (and only where there is one)."""
    note = "Her account of the Ferngully shed is consistent; the refusal is not justified"
    drafted = decisions.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Not enough information.",
        expected_version=case.version,
    )
    decisions.decision_approve(by=sally, decision=drafted, approve=False, note=note)
    data = services.subject_access_export(by=dpo, person=case.person, request_reference="DPR-1")
    [decision] = data["cases"][0]["decisions"]
    assert decision["second_decision_makers_note"] == note, decision
    page = (
        factories.signed_in_client(dpo)
        .post(
            f"/privacy/people/{case.person_id}/export/",
            {"request_reference": "DPR-2", "format": "html"},
        )
        .content.decode()
    )
    assert "Second decision maker&#39;s note" in page or "Second decision maker's note" in page
    assert "Ferngully" in page
