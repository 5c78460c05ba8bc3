"""Review of stop 41, privacy: the subject access export and the removals planned for the person
(ADR 0021, addendum of stop 41).

- A removal an immigration enforcement organisation planned for the person's case reference, or
  for the reception reference they were given when taken in during an operation, is their
  personal data (UK GDPR Art. 15): the JSON export and the printable page hold it, with what
  was planned, when, by which organisation and what the protection check answered.
- The export's audit event names the new section.
- The enforcement officer who recorded it is staff: their name and e-mail are not given out.
- An erased person's export still lists the removal, and brings back nothing erased.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case, Person
from opennrm.operations.models import ReceptionRecord
from opennrm.privacy import selectors, services
from opennrm.protection.models import PlannedRemoval
from opennrm.protection.services import planned_removal_record

from . import case_factories, factories
from .test_erasure_reaches_everything import ERASED_AT, taken_in_referred_and_closed

# Quarter past midnight on 15 June 2026 in London: still 14 June in UTC.
JUST_AFTER_MIDNIGHT = datetime(2026, 6, 15, 0, 15, tzinfo=ZoneInfo("Europe/London"))
PLANNED_ON = date(2026, 7, 2)
OFFICER_NAME = "Ivo Brennack-Saltire"
OFFICER_EMAIL = "ivo.brennack-saltire@enforcement.example.gov.uk"


@pytest.fixture
def ivo(border_enforcement: Organisation) -> User:
    """An immigration enforcement officer of Test Immigration Enforcement."""
    return factories.user(
        OFFICER_EMAIL,
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name=OFFICER_NAME,
    )


def _export_page(dpo: User, case: Case, reference: str = "DPR-41-2") -> str:
    response = factories.signed_in_client(dpo).post(
        f"/privacy/people/{case.person.pk}/export/",
        {"request_reference": reference, "format": "html"},
    )
    assert response.status_code == 200
    return response.content.decode()


def _export_json(dpo: User, case: Case, reference: str = "DPR-41-1") -> dict[str, Any]:
    response = factories.signed_in_client(dpo).post(
        f"/privacy/people/{case.person.pk}/export/",
        {"request_reference": reference, "format": "json"},
    )
    assert response.status_code == 200
    data: dict[str, Any] = json.loads(response.content)
    return data


def _protected_case_with_a_removal_planned(
    alice: User,
    ivo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> Case:
    """A case awaiting its reasonable grounds decision, for which Ivo recorded a removal at a
    quarter past midnight on 15 June 2026 (British Summer Time); and another person's case with
    a removal of its own, and an unknown reference with one, neither of which is this person's."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.AWAITING_REASONABLE_GROUNDS,
    )
    other = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        recorded = planned_removal_record(
            by=ivo, organisation=border_enforcement, reference=case.reference, planned_on=PLANNED_ON
        )
        planned_removal_record(
            by=ivo,
            organisation=border_enforcement,
            reference=other.reference,
            planned_on=date(2026, 8, 9),
        )
        planned_removal_record(
            by=ivo,
            organisation=border_enforcement,
            reference="NRM-UNKNOWN-1",
            planned_on=PLANNED_ON,
        )
    assert recorded.protection.protected
    assert recorded.planned.alerted > 0
    return case


def test_the_json_export_holds_the_removal_planned_for_the_persons_case(
    alice: User,
    dpo: User,
    ivo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    """An immigration enforcement officer recorded a removal planned for the person's NRM
    reference while they were protected; the competent authority and the referrer were alerted.
    The person then asked for everything held about them. The JSON file said nothing of the
    removal (`protection.models.PlannedRemoval` is keyed by reference, not by case, and the
    export never looked there). It now lists it on the case: the reference, the day planned,
    when it was recorded (local time), the organisation, and what the check answered. Another
    person's removal, and one for a reference nobody holds, are not in it."""
    case = _protected_case_with_a_removal_planned(
        alice, ivo, northmoor_police, authority, border_enforcement
    )
    data = _export_json(dpo, case)
    [exported] = data["cases"]
    [removal] = exported["planned_removals"]
    assert removal["reference"] == case.reference
    assert removal["planned_for"] == "2026-07-02"
    assert removal["recorded_at"] == "2026-06-15T00:15:00+01:00"
    assert removal["planned_by_organisation"] == border_enforcement.name
    assert removal["protected_on_that_day"] is True
    assert removal["why_protected"] == "A reasonable grounds decision was awaited"
    assert removal["protected_until"] is None
    assert removal["outcome"].startswith("Told that removal must not proceed")
    assert removal["people_alerted"] == PlannedRemoval.objects.get(reference=case.reference).alerted
    assert "2026-08-09" not in json.dumps(data)
    assert "NRM-UNKNOWN-1" not in json.dumps(data)


def test_the_printable_export_shows_the_removal_planned(
    alice: User,
    dpo: User,
    ivo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    """The page to read and print, the copy most officers hand to the person, shows the planned
    removal as the JSON file holds it, in its own marked section (`data-export`), with the day
    planned, the organisation that planned it and what it was told."""
    case = _protected_case_with_a_removal_planned(
        alice, ivo, northmoor_police, authority, border_enforcement
    )
    page = _export_page(dpo, case)
    assert 'data-export="case.planned_removals"' in page
    section = page[page.index('data-export="case.planned_removals"') :]
    section = section[: section.index("</div>\n", section.index("</dl>"))]
    assert "Removals planned" in section
    for text in (
        case.reference,
        "2026-07-02",
        "2026-06-15T00:15:00+01:00",
        border_enforcement.name,
        "A reasonable grounds decision was awaited",
        "Told that removal must not proceed",
    ):
        assert text in section, text


def test_the_export_event_names_the_planned_removals(
    alice: User,
    dpo: User,
    ivo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    """The data-protection officer answering "who was given what" reads the export's
    `person.exported` event: it names each kind of text the copy gave out
    (`privacy.selectors.EXPORTED_FIELDS`), now the planned removals too, and the "who looked at
    this person" page says it in words."""
    case = _protected_case_with_a_removal_planned(
        alice, ivo, northmoor_police, authority, border_enforcement
    )
    services.subject_access_export(by=dpo, person=case.person, request_reference="DPR-41-3")
    (event,) = AuditEvent.objects.filter(action="person.exported")
    assert "planned_removals" in event.detail["fields"]
    assert selectors.FIELD_LABELS["planned_removals"] == "removals planned for them"


def test_the_enforcement_officers_own_details_are_not_given_out(
    alice: User,
    dpo: User,
    ivo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    """The officer who recorded the removal is staff, as the referring officer is: their name
    and e-mail address are theirs, not the person's, and the copy may reach those who exploited
    the person. The export names the enforcement organisation, in the JSON file and on the
    printed page, never the officer."""
    case = _protected_case_with_a_removal_planned(
        alice, ivo, northmoor_police, authority, border_enforcement
    )
    data = _export_json(dpo, case)
    [removal] = data["cases"][0]["planned_removals"]
    assert removal["planned_by_organisation"] == border_enforcement.name
    assert not {"recorded_by", "officer", "submission_key"} & set(removal)
    page = _export_page(dpo, case)
    assert 'data-export="case.planned_removals"' in page
    for copy in (json.dumps(data), page):
        assert [text for text in (OFFICER_NAME, OFFICER_EMAIL) if text in copy] == []
    (event, _) = AuditEvent.objects.filter(action="person.exported")
    assert not {"recorded_by", "submission_key"} & set(event.detail["fields"])


def test_a_removal_planned_for_the_reception_reference_is_exported_before_and_after_erasure(
    alice: User,
    dmitri: User,
    dpo: User,
    ivo: User,
    northmoor_police: Organisation,
    border_enforcement: Organisation,
    routing: Organisation,
    settings: Any,
    tmp_path: Path,
) -> None:
    """A person taken in during an operation was protected by their reception reference before
    any referral; an officer recorded a removal planned for that reference. Once the referral
    became a case, the removal is the person's as much as one for the case's reference: the
    export lists it on the case. After the person's details are erased, the export still lists
    it (a reference, a day and an organisation, nothing erased) and brings back no name."""
    settings.PRIVATE_FILES_DIR = tmp_path
    case = taken_in_referred_and_closed(alice, dmitri, northmoor_police)
    record = ReceptionRecord.objects.get(draft__case=case)
    PlannedRemoval.objects.create(
        reference=record.reference,
        planned_on=PLANNED_ON,
        organisation=border_enforcement,
        recorded_by=ivo,
        protected=True,
        reason="other_source",
        source="operations",
        alerted=2,
    )
    with time_machine.travel(ERASED_AT):
        before = services.subject_access_export(
            by=dpo, person=case.person, request_reference="DPR-41-4"
        )
        [removal] = before["cases"][0]["planned_removals"]
        assert removal["reference"] == record.reference
        assert removal["why_protected"] == (
            "Taken in during an operation, and a referral was being made"
        )
        factories.person_erased(
            case.person,
            recorded_by=dpo,
            request_reference="DPR-41-4",
            request_received_on=date(2027, 5, 20),
        )
        after = services.subject_access_export(
            by=dpo, person=Person.objects.get(pk=case.person_id), request_reference="DPR-41-5"
        )
    assert after["person"]["identity"] is None
    assert after["cases"][0]["taken_in"]["name_or_description"] == ""
    assert after["cases"][0]["planned_removals"] == [removal]
