"""Review of stop 40, privacy: what the subject access export holds and gives, and what may be
written about a person after their details were erased (ADR 0021, addendum of stop 40).

- The readable export (a page to read and print) shows every section the JSON export holds, and
  a key added to the export later cannot be left off the page unnoticed.
- The export gives the person's data, not the staff's: no referring officer's, social worker's
  or guardian's own phone, e-mail or name; their organisations are named.
- The export's moments are where the person was (the service's time zone), safety and the
  children's pathway included.
- No age assessment (nor children's services' "what was done") is written for a person whose
  details were erased, and none on a closed case unless the person's age is disputed.
- The retention page counts a person past the period once, not again as passing it soon.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus, Sex
from opennrm.cases.models import Case
from opennrm.contacts.models import AgencyConsent, AgencyKind, CaseContacts
from opennrm.privacy import selectors, services
from opennrm.referrals.models import InformationRequest, ReferralAddition
from opennrm.safeguarding import selectors as safeguarding_selectors
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import (
    AgeAssessment,
    AgeOutcome,
    ChildrenServicesTask,
    TaskKind,
    TaskStatus,
)
from opennrm.safety.models import Dependant, Relationship, SafetyProfile, SafetyProfileVersion

from . import case_factories, factories, linkage_helpers
from .test_erasure_reaches_everything import NAME as TAKEN_IN_NAME
from .test_erasure_reaches_everything import taken_in_referred_and_closed
from .test_late_reconsideration_review import CIRCUMSTANCES, _taken_late

# Quarter past midnight on 15 June 2026 in London: still 14 June in UTC.
JUST_AFTER_MIDNIGHT = datetime(2026, 6, 15, 0, 15, tzinfo=ZoneInfo("Europe/London"))


def _export_page(dpo: User, case: Case, reference: str = "DPR-2") -> str:
    response = factories.signed_in_client(dpo).post(
        f"/privacy/people/{case.person.pk}/export/",
        {"request_reference": reference, "format": "html"},
    )
    assert response.status_code == 200
    return response.content.decode()


def _export_json(dpo: User, case: Case, reference: str = "DPR-1") -> str:
    return (
        factories.signed_in_client(dpo)
        .post(
            f"/privacy/people/{case.person.pk}/export/",
            {"request_reference": reference, "format": "json"},
        )
        .content.decode()
    )


# --- The readable export holds what the JSON export holds ---------------------------------------

ADDITION = "She later said the van came every Thursday from Brackenholt"
QUESTION = "Did she keep her passport at the Brackenholt farm?"
ADDRESS = "14 Quillon Terrace, Ravensmoor"
CRIME_REF = "NM/77/2026/41"
AGENCY = "Ravensmoor Lane Surgery"
ASSESSED = "Two social workers at Kettlewick found her account of her schooling consistent"
ARRANGED = "Placed with foster carers in Ravensmoor the same evening"


def test_the_readable_export_holds_what_the_json_export_holds(
    dpo: User,
    alice: User,
    dmitri: User,
    lena: User,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The page "to read and print", the copy most officers hand to the person, left out the
    information added after submission, the decision maker's questions, the contacts,
    references and consents, and the children's pathway, although the JSON file (and the audit
    event) held them: an incomplete answer to the person's request (GDPR Art. 15) that nobody
    was told of. It shows them now."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
    )
    now = timezone.now()
    asked = InformationRequest.objects.create(
        case=case, asked_by=dmitri, asked_at=now, respond_by=date(2030, 1, 1), question=QUESTION
    )
    ReferralAddition.objects.create(
        case=case, added_by=alice, added_at=now, answers=asked, text=ADDITION
    )
    CaseContacts.objects.create(
        case=case, crime_reference=CRIME_REF, location_type="other", location_address=ADDRESS
    )
    AgencyConsent.objects.create(
        case=case,
        agency_kind=AgencyKind.HEALTH,
        agency_name=AGENCY,
        consent_given=True,
        given_on=date(2026, 1, 10),
        recorded_by=alice,
        recorded_at=now,
    )
    AgeAssessment.objects.create(
        case=case,
        outcome=AgeOutcome.NOT_POSSIBLE,
        assessed_on=timezone.localdate(),
        organisation=council,
        age_group_before=AgeGroup.PRESUMED_CHILD,
        age_group_after=AgeGroup.PRESUMED_CHILD,
        recorded_at=now,
        recorded_by=lena,
        reasons=ASSESSED,
    )
    ChildrenServicesTask.objects.create(
        case=case,
        kind=TaskKind.ACCOMMODATION,
        owner=council,
        area=case.area,
        needs=["Accommodation"],
        due_on=timezone.localdate(),
        status=TaskStatus.DONE,
        raised_at=now,
        done_at=now,
        done_by=lena,
        outcome=ARRANGED,
    )
    held = (ADDITION, QUESTION, ADDRESS, CRIME_REF, AGENCY, ASSESSED, ARRANGED)
    as_json = _export_json(dpo, case)
    assert [text for text in held if text not in as_json] == []
    page = _export_page(dpo, case)
    assert [text for text in held if text not in page] == [], "the readable export leaves out"


def test_every_section_of_the_export_has_its_place_on_the_readable_page(
    dpo: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Each key `privacy.selectors.subject_access_data` returns, and each key of a case, marks
    where the readable page shows it (`data-export`), shown or empty: a key added to the export
    later fails here until the page shows it, rather than being left out of the printed copy
    without anyone noticing."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    data = selectors.subject_access_data(case.person)
    page = _export_page(dpo, case)
    missing = [key for key in data if f'data-export="{key}"' not in page]
    [exported_case] = data["cases"]
    missing += [f"case.{key}" for key in exported_case if f'data-export="case.{key}"' not in page]
    assert missing == [], f"the readable export has no place for {missing}"


def test_the_readable_export_shows_the_reception_and_a_late_reconsideration(
    alice: User,
    dmitri: User,
    sally: User,
    dpo: User,
    case: Case,
    northmoor_police: Organisation,
    routing: Organisation,
    settings: Any,
    tmp_path: Path,
) -> None:
    """What a first responder wrote on taking the person in during an operation (the name or
    description given), and why a late request for reconsideration was taken in, are on the
    printed copy as in the JSON file."""
    settings.PRIVATE_FILES_DIR = tmp_path
    taken_in = taken_in_referred_and_closed(alice, dmitri, northmoor_police)
    page = _export_page(dpo, taken_in)
    assert TAKEN_IN_NAME in page
    assert "Taken in during an operation" in page
    _taken_late(case, dmitri, sally)
    page = _export_page(dpo, case, "DPR-3")
    assert CIRCUMSTANCES in page
    assert "Why it was taken in after the time allowed" in page


# --- The export gives the person's data, not the staff's ----------------------------------------

OFFICER_MOBILE = "07700 900417"
OUT_OF_HOURS = "DC Farrant-Oduya, personal mobile 07700 900418"
SOCIAL_WORKER = "Ines Marwood-Pike"
SOCIAL_WORKER_PHONE = "07700 900419"
SOCIAL_WORKER_EMAIL = "ines.marwood-pike@ravensmoor.example.gov.uk"
GUARDIAN = "Tobiah Quenell"
GUARDIAN_PHONE = "07700 900420"


def test_the_export_does_not_give_out_the_referring_officers_own_phone_numbers(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The referring officer's direct phone and out-of-hours contact (with the name written
    beside it) are the officer's personal data: the export, which promises to leave the staff
    out, handed them to whoever the copy reaches (for a trafficked person, possibly those who
    exploited them). It names the referring organisation and leaves them out."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    CaseContacts.objects.create(
        case=case, referrer_phone=OFFICER_MOBILE, referrer_out_of_hours=OUT_OF_HOURS
    )
    data = services.subject_access_export(by=dpo, person=case.person, request_reference="DPR-7")
    assert "staff who worked on the cases are left out" in data["about"]
    assert data["cases"][0]["referred_by_organisation"] == northmoor_police.name
    text = json.dumps(data, ensure_ascii=False)
    assert [value for value in (OFFICER_MOBILE, OUT_OF_HOURS) if value in text] == []


def test_the_export_names_a_childs_social_worker_and_guardian_by_organisation_only(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A child's social worker and guardian are staff acting for the child, as the referring
    officer is: the export names their local authority and guardian service, never their own
    name, phone or e-mail, in the JSON file, on the printed page or in what the audit event
    says was exported."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    CaseContacts.objects.create(
        case=case,
        crime_reference=CRIME_REF,
        social_worker_name=SOCIAL_WORKER,
        social_worker_local_authority="Ravensmoor Borough Council",
        social_worker_phone=SOCIAL_WORKER_PHONE,
        social_worker_email=SOCIAL_WORKER_EMAIL,
        guardian_name=GUARDIAN,
        guardian_service="Ravensmoor Guardians",
        guardian_phone=GUARDIAN_PHONE,
    )
    staff = (SOCIAL_WORKER, SOCIAL_WORKER_PHONE, SOCIAL_WORKER_EMAIL, GUARDIAN, GUARDIAN_PHONE)
    for copy in (_export_json(dpo, case), _export_page(dpo, case)):
        assert [value for value in staff if value in copy] == []
        for named in (CRIME_REF, "Ravensmoor Borough Council", "Ravensmoor Guardians"):
            assert named in copy
    exported = set(selectors.EXPORTED_FIELDS)
    assert not exported & {"referrer_phone", "social_worker_email", "guardian_name"}
    assert {"crime_reference", "guardian_service", "location_address"} <= exported


# --- The export's moments are local ----------------------------------------------------------


def test_the_export_dates_a_dependant_on_the_day_they_were_recorded(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """`safety.selectors.safety_export` gave the database's UTC moments while the rest of the
    export is local (`privacy.selectors._moment`): the printed page, which reads the day from
    them, said a child recorded at 00:15 on 15 June (British Summer Time) was "5 years old on
    2026-06-14", and dated an earlier version of the safety profile the day before it was
    saved. Both now say 15 June, the dependants an earlier version kept included."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    profile = SafetyProfile.objects.create(
        case=case, created_at=JUST_AFTER_MIDNIGHT, updated_at=JUST_AFTER_MIDNIGHT
    )
    Dependant.objects.create(
        profile=profile,
        relationship=Relationship.CHILD,
        sex=Sex.FEMALE,
        age_years=5,
        added_at=JUST_AFTER_MIDNIGHT,
        added_by=alice,
    )
    kept = {
        "relationship": Relationship.CHILD,
        "sex": Sex.FEMALE,
        "age_years": 5,
        "born_estimate": None,
        "name": "",
        # As `safety.services` keeps it: the database's moment, in UTC.
        "added_at": JUST_AFTER_MIDNIGHT.astimezone(UTC).isoformat(),
    }
    SafetyProfileVersion.objects.create(
        profile=profile,
        version=1,
        values={"risk_level": "standard", "dependants": [kept]},
        saved_at=JUST_AFTER_MIDNIGHT,
        saved_by=alice,
    )
    page = _export_page(dpo, case)
    said = page[page.index("5 years old on") :][:25]
    assert said == "5 years old on 2026-06-15"
    assert "Version 1, saved 2026-06-15" in page
    safety = selectors.subject_access_data(case.person)["cases"][0]["safety"]
    assert safety["updated_at"].startswith("2026-06-15T00:15:00")
    assert safety["dependants"][0]["recorded_at"].startswith("2026-06-15T00:15:00")
    [version] = safety["earlier_versions"]
    assert version["saved_at"].startswith("2026-06-15T00:15:00")
    assert version["dependants"][0]["recorded_at"].startswith("2026-06-15T00:15:00")


def test_the_export_dates_a_childrens_services_task_done_where_the_person_was(
    alice: User,
    lena: User,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """`safeguarding_export` gave when a task was done in UTC: a place found for a child at
    00:15 on 15 June read as found on 14 June."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    ChildrenServicesTask.objects.create(
        case=case,
        kind=TaskKind.ACCOMMODATION,
        owner=council,
        area=case.area,
        needs=[],
        due_on=date(2026, 6, 15),
        status=TaskStatus.DONE,
        raised_at=JUST_AFTER_MIDNIGHT,
        done_at=JUST_AFTER_MIDNIGHT,
        done_by=lena,
        outcome=ARRANGED,
    )
    [task] = selectors.subject_access_data(case.person)["cases"][0]["safeguarding"][
        "childrens_services_tasks"
    ]
    assert task["done_at"] == "2026-06-15T00:15:00+01:00"
    assert task["due_on"] == "2026-06-15"


# --- Nothing written about a person after their details were erased, nor assessed when closed --

REASONS = "Seen by Dr Halvorsen at Kettlewick clinic, said she was born in Durrës in 2009"


def _closed_case(
    alice: User,
    dmitri: User,
    police: Organisation,
    authority: Organisation,
    age_group: AgeGroup = AgeGroup.PRESUMED_CHILD,
) -> Case:
    case = case_factories.withdrawn(
        alice,
        police,
        authority,
        age_group=age_group,
        submitted_at=timezone.now() - timedelta(days=40),
    )
    case = case_factories.closed(case, by=dmitri)
    assert case.status == CaseStatus.CLOSED
    return case


def _assess(lena: User, case: Case) -> int:
    day = timezone.localdate() - timedelta(days=1)
    return (
        factories.signed_in_client(lena)
        .post(
            f"/children/{case.reference}/age-assessment/",
            {
                "outcome": "not_possible",
                "assessed_on_day": day.day,
                "assessed_on_month": day.month,
                "assessed_on_year": day.year,
                "reasons": REASONS,
                "version": case.version,
            },
        )
        .status_code
    )


def test_no_age_assessment_can_be_recorded_for_a_person_whose_details_were_erased(
    alice: User,
    dmitri: User,
    dpo: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """After an erasure, the local authority's safeguarding lead could still record an age
    assessment on the person's case, its reasons free text about them (who assessed them,
    where, what they said of their birth) that nothing would ever remove: the person has had
    their one erasure. The page is refused (404) and the service refuses, as casework,
    contacts, safety and support refuse to add to an erased person."""
    case = _closed_case(alice, dmitri, northmoor_police, authority)
    factories.person_erased(
        case.person,
        recorded_by=dpo,
        request_reference="DPR-2026-0200",
        request_received_on=timezone.localdate(),
    )
    case.refresh_from_db()
    assert _assess(lena, case) == 404
    with pytest.raises(ValidationError, match="erased"):
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="not_possible",
            assessed_on=timezone.localdate(),
            reasons=REASONS,
            expected_version=case.version,
        )
    assert factories.rows_containing("Halvorsen") == []
    assert not AgeAssessment.objects.filter(case=case).exists()
    assert case not in safeguarding_selectors.assessments_outstanding(Actor(lena))


def test_no_age_assessment_is_recorded_on_a_closed_case_of_a_child(
    alice: User,
    dmitri: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A closed case is never reopened (a child found again is referred again, ADR 0025): on
    the closed case of a child whose age nobody disputes, an assessment would only rewrite its
    record and tell people of a case nobody acts on. The page is refused, the service refuses,
    and the case page offers no link."""
    case = _closed_case(alice, dmitri, northmoor_police, authority, AgeGroup.CHILD)
    assert _assess(lena, case) == 404
    with pytest.raises(ValidationError, match="The case is closed"):
        safeguarding.age_assessment_record(
            by=lena,
            case=case,
            outcome="adult",
            assessed_on=timezone.localdate(),
            reasons=REASONS,
            expected_version=case.version,
        )
    case.refresh_from_db()
    assert case.age_group == AgeGroup.CHILD
    assert not AgeAssessment.objects.filter(case=case).exists()
    shown = safeguarding_selectors.case_safeguarding(Actor(lena), case)
    assert shown is not None
    assert not shown.may_record_assessment


def test_a_closed_case_whose_age_is_disputed_still_takes_its_assessment(
    alice: User,
    dmitri: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A dispute is recorded on a closed case for someone still living in an adult house after
    it closed (`age_dispute_raise`, tests/test_age_dispute_closed_case.py), and the local
    authority is asked to assess them: only an assessment ends their being treated as a child,
    so a closed case whose age is disputed is listed as waiting for one and takes it."""
    case = _closed_case(alice, dmitri, northmoor_police, authority, AgeGroup.PRESUMED_CHILD)
    actor = Actor(lena)
    assert case in safeguarding_selectors.assessments_outstanding(actor)
    shown = safeguarding_selectors.case_safeguarding(actor, case)
    assert shown is not None
    assert shown.may_record_assessment
    assert _assess(lena, case) == 302
    assert AgeAssessment.objects.filter(case=case).count() == 1
    assert case not in safeguarding_selectors.assessments_outstanding(actor)


def test_nothing_done_is_recorded_on_an_erased_persons_task(
    alice: User,
    dmitri: User,
    dpo: User,
    lena: User,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A children's services task left open on a case closed before closing waited for it: once
    the person's details were erased, what was done (free text about the child) cannot be
    written on it."""
    case = _closed_case(alice, dmitri, northmoor_police, authority)
    factories.person_erased(
        case.person,
        recorded_by=dpo,
        request_reference="DPR-2026-0201",
        request_received_on=timezone.localdate(),
    )
    task = ChildrenServicesTask.objects.create(
        case=case,
        kind=TaskKind.ACCOMMODATION,
        owner=council,
        area=case.area,
        needs=[],
        due_on=timezone.localdate(),
        raised_at=timezone.now(),
    )
    with pytest.raises(ValidationError, match="erased"):
        safeguarding.children_services_task_done(by=lena, task=task, outcome=REASONS)
    assert factories.rows_containing("Halvorsen") == []


# --- The retention page counts each person once -------------------------------------------------


def test_a_person_already_past_the_period_is_not_also_counted_as_passing_it_soon(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """One person whose only case closed seven years ago was counted "past the retention
    period" and again as "will pass it within 90 days" (`people_due_within` counted everyone
    past it on day today + 90): the officer planning the quarter read two people where there
    was one. "Soon" counts only those not past it today; one whose case closed six years less
    30 days ago is counted there."""
    past = case_factories.withdrawn(alice, northmoor_police, authority)
    linkage_helpers.closed(past, timezone.now() - timedelta(days=7 * 366))
    soon = case_factories.withdrawn(alice, northmoor_police, authority)
    linkage_helpers.closed(soon, timezone.now() - timedelta(days=6 * 365 - 30))
    summary = selectors.retention_summary(Actor(dpo), timezone.localdate())
    assert (summary["due_now"], summary["due_soon"]) == (1, 1)
    html = factories.signed_in_client(dpo).get(reverse("privacy:retention")).content.decode()
    assert "1 person is past the retention period and will be pseudonymised" in html
    assert "1 person will pass it within 90 days" in html
