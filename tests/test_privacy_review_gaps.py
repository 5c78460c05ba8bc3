"""Review of the privacy app and the audit views (data-protection officer and penetration
tester). Each test here fails on the current code and names a real defect."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.care import services as care
from opennrm.care.models import ChildMissing
from opennrm.cases.choices import AgeGroup
from opennrm.cases.choices import CaseStatus as S
from opennrm.cases.models import Case, Person
from opennrm.decisions import services as decisions
from opennrm.linkage.models import PairStatus
from opennrm.linkage.services import candidate_pair_review
from opennrm.operations import services as operations
from opennrm.operations.models import ReceptionRecord
from opennrm.privacy import selectors, services
from opennrm.protection.selectors import protection_for_reference
from opennrm.protection.services import planned_removal_record, protection_check
from opennrm.referrals.models import DraftStatus
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding.coming_of_age import years_later

from . import api_helpers, case_factories, factories, linkage_helpers
from . import operation_helpers as op
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


# --- Review of stop 36 (dpo and diff2): a linked referral holding an erasure, reads of a
# reception record, an adult's missing episode, the recovery period's end in the API ---------


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def _old_linked_to_open(
    case: Case, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> Case:
    """An earlier referral, closed seven years ago, that a decision maker confirmed is the same
    person as `case`, which is open and awaiting its reasonable grounds decision."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(old, case)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    linkage_helpers.closed(old, timezone.now() - timedelta(days=7 * 366))
    return old


def test_the_retention_page_does_not_promise_to_pseudonymise_a_person_it_must_pass_over(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """What the DPO did: opened Retention after the nightly run, with one person past the
    retention period whose earlier referral a decision maker confirmed is the same person as a
    referral still awaiting its decision (so `_erase` refuses them and the run passes over them,
    night after night, ADR 0052 addendum).

    What happened: the run pseudonymised nobody and recorded nothing about the person it passed
    over, yet the page still says "1 person is past the retention period and will be
    pseudonymised at the next run" (`privacy.selectors.people_past_retention` knows nothing of
    the linked hold, unlike support under way, which it excludes). It says so every night for
    as long as the other referral is open: the DPO is told of a removal that will not happen and
    is never told why, nor which referral to ask about.

    What should happen: a person whose erasure waits for a linked referral is not counted as
    "will be pseudonymised at the next run" (excluded as support under way is, or counted apart
    as waiting, naming why)."""
    _old_linked_to_open(case, alice, dmitri, northmoor_police, authority)
    result = services.retention_apply(today=timezone.localdate())
    assert result.people_pseudonymised == 0  # refused: the linked referral is open

    html = factories.signed_in_client(dpo).get(reverse("privacy:retention")).content.decode()
    assert (
        "1 person is past the retention period and will be pseudonymised at the next run"
        not in (html)
    ), "the page promises a pseudonymisation the run refuses every night"


def test_the_retention_page_does_not_promise_to_pseudonymise_a_person_the_run_refuses(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """What the DPO did: opened the retention page the night after the run. A person's only
    referral was closed seven years ago (past the six-year retention period), but a decision
    maker confirmed it is the same person as a new referral still awaiting its reasonable
    grounds decision.

    What happened: the run refuses to erase them (`_erase`: a linked referral still protects
    them, ADR 52 addendum of stop 36) and passes over them every night, yet the page still says
    "1 person is past the retention period and will be pseudonymised at the next run":
    `privacy.selectors.people_past_retention` (which the page counts) leaves out people with
    live support, whom the run would refuse, but not those a linked referral holds.

    What should happen: the page's "will be pseudonymised at the next run" counts only the
    people the run will pseudonymise (those held by a linked referral left out or told apart,
    as live support is)."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(old, case)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    linkage_helpers.closed(old, timezone.now() - timedelta(days=7 * 366))

    assert services.retention_apply(today=timezone.localdate()).people_pseudonymised == 0
    assert case.person_id != old.person_id

    html = factories.signed_in_client(dpo).get(reverse("privacy:retention")).content.decode()
    assert "will be pseudonymised at the next run" in html
    assert "1 person is past the retention period and will be pseudonymised" not in html


def test_the_retention_run_and_page_count_the_person_a_linked_referral_holds(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The person the run passes over is counted apart, with the reason, on the page and in the
    run's audit event; once the linked referral is closed the run pseudonymises them."""
    old = _old_linked_to_open(case, alice, dmitri, northmoor_police, authority)
    today = timezone.localdate()
    assert not selectors.people_past_retention(today).exists()
    assert list(selectors.people_held_past_retention(today)) == [old.person]

    services.retention_apply(today=today)
    event = AuditEvent.objects.filter(action="retention.applied").latest("id")
    assert event.detail["people_waiting_for_linked_referrals"] == 1, event.detail
    assert event.detail["people_refused"] == 0, event.detail
    html = factories.signed_in_client(dpo).get(reverse("privacy:retention")).content.decode()
    assert "1 person is past it but will not be pseudonymised yet" in html

    linkage_helpers.closed(case)
    assert services.retention_apply(today=today).people_pseudonymised == 1
    event = AuditEvent.objects.filter(action="retention.applied").latest("id")
    assert event.detail["people_waiting_for_linked_referrals"] == 0, event.detail


def test_the_person_page_says_a_linked_referral_holds_the_erasure_before_the_officer_tries(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """What the DPO did: answering an erasure request, found the person (every case of theirs
    closed) and opened their page and then "Erase their identifying details".

    What happened: the person page says "Every case is closed. The identifying details will be
    removed on or soon after <date>" (a date already past: retention will not remove them while
    the linked referral is open), and the erase page offers the form with its warning as if
    the erasure could go ahead; only after the officer types the request's reference, the date
    and confirms is it refused. For an open case of their own the erase page says up front which
    case must be closed and by whom; for the linked referral nothing on either page names it.

    What should happen: the person page or the erase page names the referral confirmed as the
    same person that holds the erasure (as it names the person's own open cases), before the
    officer fills the form in, and the person page does not promise a removal date."""
    _old_linked_to_open(case, alice, dmitri, northmoor_police, authority)
    client = factories.signed_in_client(dpo)
    old_person = Case.objects.exclude(pk=case.pk).get().person_id
    person_page = client.get(reverse("privacy:person", args=[old_person])).content.decode()
    erase_page = client.get(reverse("privacy:erase", args=[old_person])).content.decode()
    assert case.reference in person_page + erase_page, (
        "neither page says which referral holds the erasure"
    )
    # Both name it with its competent authority; no removal date, no form.
    for page in (person_page, erase_page):
        assert case.reference in page
        assert authority.name in page
    assert "will be removed on or soon after" not in person_page
    assert "Erase the details" not in erase_page
    # The refusal says who must act, in plain words.
    with pytest.raises(ValidationError) as refused:
        factories.person_erased(
            Person.objects.get(pk=old_person),
            recorded_by=dpo,
            request_reference="DP-2027-003",
            request_received_on=timezone.localdate(),
        )
    [message] = refused.value.messages
    assert f"must close referral {case.reference} ({authority.name})" in message, message
    assert "still open or still protects" not in message


def test_a_link_to_a_referral_whose_person_was_referred_again_protects_and_holds_the_erasure(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    ivan: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The records: referral A (refused at reasonable grounds, closed) was confirmed by a decision
    maker as the same person as referral B (refused, closed). B's person was then referred
    again: referral C, one `Person` with B, awaiting its reasonable grounds decision. One human,
    three references; enforcement holds A's.

    What happened: checking A answers "No NRM protection recorded". `linkage.protection.
    linked_source` looks only at A's cluster (B, unprotected), never at B's person's other
    referrals (C), and `nrm_source` only at A's own person. So while C awaits its decision the
    officer may remove the person (threat model 35: "a person referred again, or confirmed
    linked to another referral, is protected whichever of their references is given"). And the
    DPO, asked to erase A's person, is not stopped: `linked_referrals_holding` looks at the same
    cluster only, so the erasure goes ahead and deletes the only link from A to C's person.

    What should happen: a referral confirmed as the same person brings that person's other
    referrals with it: A is protected while C is, and A's erasure waits for C, as it would for
    B."""
    a = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    b = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(a, b)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    linkage_helpers.closed(a)
    linkage_helpers.closed(b)
    # C (the `case` fixture, awaiting its reasonable grounds decision) is B's person again.
    Case.objects.filter(pk=case.pk).update(person=b.person)
    assert protection_check(by=ivan, reference=b.reference).protected  # B answers for C

    assert protection_check(by=ivan, reference=a.reference).protected, (
        "A, confirmed the same person as B, is unprotected while B's person's referral C "
        "awaits its decision"
    )
    with pytest.raises(ValidationError, match=case.reference):
        factories.person_erased(
            a.person,
            recorded_by=dpo,
            request_reference="DP-2027-002",
            request_received_on=timezone.localdate(),
        )


def test_a_referral_of_a_linked_persons_own_other_referral_is_protected_too(
    case: Case,
    alice: User,
    dmitri: User,
    ivan: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The mirror of the above: the person's *other* referral A2 (not the one checked, A) is
    the one confirmed as the same person as C, which awaits its decision. A is protected too."""
    a, a2 = (
        linkage_helpers.closed(
            case_factories.case(
                referred_by=alice,
                referring_organisation=northmoor_police,
                authority=authority,
                status=S.NEGATIVE_REASONABLE_GROUNDS,
            )
        )
        for _ in range(2)
    )
    Case.objects.filter(pk=a.pk).update(person=a2.person)
    pair = linkage_helpers.pair_of(a2, case)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    assert protection_check(by=ivan, reference=a.reference).protected


def test_a_linked_referral_that_can_never_protect_again_does_not_hold_the_erasure(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A linked referral holds the erasure while it protects, or while its status can still
    lead to protection (`cases.state.TRANSITIONS` to a status `protection.rules` protects): a
    refusal that may be reconsidered. An open positive conclusive grounds decision or a
    withdrawn referral never protects again, so it does not hold it."""
    from opennrm.linkage.protection import HOLDING_STATUSES

    assert {
        S.AWAITING_REASONABLE_GROUNDS,
        S.RG_SUSPENDED,
        S.NEGATIVE_REASONABLE_GROUNDS,
        S.RECOVERY_PERIOD,
        S.NEGATIVE_CONCLUSIVE_GROUNDS,
        S.RECONSIDERATION,
        S.DISQUALIFIED,
    } == HOLDING_STATUSES
    old = _old_linked_to_open(case, alice, dmitri, northmoor_police, authority)
    for status in (S.NEGATIVE_CONCLUSIVE_GROUNDS, S.DISQUALIFIED):  # may be reconsidered
        Case.objects.filter(pk=case.pk).update(status=status, reconsideration_until=None)
        assert selectors.people_held_past_retention(timezone.localdate()).exists()
    for status in (S.POSITIVE_CONCLUSIVE_GROUNDS, S.RG_WITHDRAWN):  # open, but never again
        Case.objects.filter(pk=case.pk).update(status=status)
        assert list(selectors.people_past_retention(timezone.localdate())) == [old.person]
    factories.person_erased(
        old.person,
        recorded_by=dpo,
        request_reference="DP-2027-004",
        request_received_on=timezone.localdate(),
    )


def test_the_council_does_not_keep_reading_an_adults_missing_episode_once_they_are_back(
    alice: User,
    cora: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """What happened to the person: reported missing at 17 by the council's safeguarding lead
    (Lena), back three days later (recorded by the support coordinator), and 18 a month after
    that: the case moved to the adult pathway and is no longer the council's to open.

    What the DPO found on "Who looked at this person": Lena, months later, still opening the
    adult's missing episode page, which shows where they were last seen and their current
    safety profile (risk, medical needs, places to keep away from). `care.selectors.
    missing_episodes_visible_to` lets the area's local authority leads open every episode with
    `child_missing == PERSON` for ever, returned or not; ADR 15's addendum keeps them "to record
    the return", and a provider's staff lose a closed episode once the person has left
    ("whose last-seen notes are no longer theirs to read").

    What should happen: once the return is recorded and the person is an adult, the council's
    leads no longer open the episode (404, as for the adult's case), unless the person is one of
    the children they act for."""
    today = timezone.localdate()
    birthday = today + timedelta(days=30)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=years_later(birthday, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    episode = care.missing_report(
        by=lena,
        case=case,
        went_missing_on=today - timedelta(days=3),
        last_seen="Left the children's home with an older man in a grey van",
    )
    assert episode.child_missing == ChildMissing.PERSON
    care.missing_return(by=cora, episode=episode, returned_on=today)

    with time_machine.travel(birthday + timedelta(days=60), tick=False):
        assert coming_of_age.run(timezone.localdate()).turned_18 == 1
        assert Case.objects.get(pk=case.pk).age_group == AgeGroup.ADULT
        client = factories.signed_in_client(lena)
        assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 404
        response = client.get(reverse("support:missing_episode", args=[episode.pk]))
        read = AuditEvent.objects.filter(
            actor=lena, person_id=case.person_id, action="person.viewed"
        )
        assert response.status_code == 404, (
            "the council still reads the adult's missing episode, months after their return "
            f"({read.count()} read(s) recorded)"
        )


def test_a_check_of_a_reception_reference_is_on_the_dpos_page_once_the_person_has_a_case(
    case: Case,
    alice: User,
    dpo: User,
    ivan: User,
    northmoor_police: Organisation,
    border_enforcement: Organisation,
) -> None:
    """What the officers did: during an operation a person was taken in (reception reference
    OPR-...); the next day an immigration enforcement officer checked that reception reference
    and recorded a removal planned for it ("Removal must not proceed: taken in during an
    operation..."); the first responder then submitted the person's referral, which became a
    case. Later the person made a subject access request and the DPO opened "Who looked at a
    person's data" for the case.

    What happened: neither the check nor the planned removal's read (new today, ADR 0040
    addendum: "a planned removal is a read") is listed. Both were recorded by
    `protection.services._record_reads` against the ReceptionRecord (`finding.record`, person
    None, since there was no person yet), and `privacy.selectors.person_reads_get` gathers only
    reads by person id, of the person's drafts and of operation boards: never of a reception
    record. Threat model 35 promises "every check, and every planned removal ... is a read
    event ... listed on the data-protection officer's page".

    What should happen: the page for the case lists the officer's check and planned removal of
    the reception reference that became it (e.g. `person_reads_get` also takes reads whose
    object is the person's reception record, as `reception_reads` takes board reads)."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="Ana Testova",
            sex="female",
            age_group="adult",
            language="ro",
            urgent_needs=[],
            interpreter_needed=False,
        )
        assert protection_check(by=ivan, reference=record.reference).protected
        planned_removal_record(
            by=ivan,
            organisation=border_enforcement,
            reference=record.reference,
            planned_on=date(2027, 3, 20),
        )
    # The referral is submitted: the draft becomes the case.
    draft = record.draft
    assert draft is not None
    draft.status, draft.case, draft.answers = DraftStatus.SUBMITTED, case, {}
    draft.save()

    # Both were recorded, as reads of the reception record (no person yet).
    assert (
        AuditEvent.objects.filter(
            actor=ivan, action="person.viewed", object_type="operations.receptionrecord"
        ).count()
        == 2
    )
    html = (
        factories.signed_in_client(dpo)
        .get(reverse("privacy:person_reads"), {"reference": case.reference})
        .content.decode()
    )
    assert "Checked protection from removal" in html, (
        "the officer's check of the reception reference is not on the person's page"
    )
    # Both listed, against the reception reference; and the export names the recipient.
    found = selectors.person_reads_get(Actor.of_session(dpo), case.reference)
    assert found is not None
    rows = found.describe(found.events.filter(actor=ivan))
    assert [row.record for row in rows] == [
        f"Taken in as {record.reference} (now case {case.reference})"
    ] * 2
    data = services.subject_access_export(by=dpo, person=case.person, request_reference="D-3")
    assert {"organisation": border_enforcement.name, "times": 2} == {
        key: value
        for row in data["shown_to"]
        if row["organisation"] == border_enforcement.name
        for key, value in row.items()
        if key != "last"
    }, data["shown_to"]


def test_the_api_gives_the_recovery_periods_end_apart_from_until(
    ivan: User, border_enforcement: Organisation, case: Case
) -> None:
    """`until` is null in the recovery period (protection lasts until the conclusive grounds
    decision); the recovery period's last day, which the answer names, is given apart as
    `recovery_period_ends`, so a machine need not read it from the words."""
    ends = timezone.localdate() + timedelta(days=10)
    Case.objects.filter(pk=case.pk).update(status=S.RECOVERY_PERIOD, recovery_period_ends=ends)
    _, secret = api_helpers.token(ivan, border_enforcement, scopes=[api_helpers.PROTECTION_CHECK])
    body = api_helpers.client_with(secret).get(f"/api/v1/protection/{case.reference}").json()
    assert body["until"] is None
    assert body["recovery_period_ends"] == ends.isoformat(), body
    after = protection_for_reference(case.reference, ends + timedelta(days=1)).protection
    assert after.protected
    assert after.recovery_period_ends is None
