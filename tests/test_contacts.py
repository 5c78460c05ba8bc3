"""A case's contacts and agency references (issue 12, item 7): who may see and change them,
what is checked, what each page records, consent to share (never asked of a child), and their
part in erasure and subject access."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.contacts import services
from opennrm.contacts.models import AgencyConsent, CaseContacts
from opennrm.privacy import selectors as privacy_selectors
from opennrm.privacy import services as privacy

from . import case_factories, factories

ADULT_CONTACTS = {
    "expected_version": "1",
    "referrer_phone": "01632 960 001",
    "referrer_out_of_hours": "Force control room, quote NRM",
    "police_force": "british-transport",
    "crime_reference": "13/45678/26",
    "home_office_reference": "A1234567",
    "location_type": "family_or_friends",
    "location_address": "12 Example Row, Testshire",
}


# A day the person answered: a few days after the referral (made today by the factories).
ANSWERED = timezone.localdate() - timedelta(days=3)


def _reads(user: User) -> list[dict[str, Any]]:
    return [
        event.detail
        for event in AuditEvent.objects.filter(actor=user, action="person.viewed").order_by("pk")
    ]


@pytest.fixture
def child_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
        given_names="Mira Testova",
    )


def _record(by: User, case: Case, **values: str) -> CaseContacts:
    return services.case_contacts_update(
        by=by, case=case, expected_version=_version(case), **values
    )


def _version(case: Case) -> int:
    found = CaseContacts.objects.filter(case=case).first()
    return found.version if found else 1


# --- The pages ----------------------------------------------------------------------------


@pytest.mark.page("cases:contacts_edit")
def test_the_referrer_records_contacts_references_and_where_the_person_stays(
    case: Case, alice: User, charlie: User
) -> None:
    url = reverse("cases:contacts_edit", args=[case.reference])
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    assert factories.signed_in_client(charlie).post(url, ADULT_CONTACTS).status_code == 404
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    page = client.get(url).content.decode()
    assert "British Transport Police" in page
    # An adult's case asks for no social worker or guardian.
    assert "social_worker_name" not in page
    response = client.post(url, ADULT_CONTACTS)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:contacts", args=[case.reference])
    saved = CaseContacts.objects.get(case=case)
    assert saved.referrer_phone == "01632 960 001"
    assert saved.police_force_name == "British Transport Police"
    assert saved.crime_reference == "13/45678/26"
    assert saved.location_address == "12 Example Row, Testshire"
    assert saved.version == 2
    # Encrypted at rest: nothing of it is stored in the clear.
    assert factories.rows_containing("Example Row") == [
        "contacts_casecontacts.location_address (decrypted)"
    ]
    (event,) = AuditEvent.objects.filter(action="contacts.updated")
    assert event.actor == alice
    assert "location_address" in event.detail["fields"]
    assert "Example Row" not in str(event.detail)
    # Shown again for changing: the read names every field shown, the address too.
    client.get(url)
    assert set(_reads(alice)[-1]["fields"]) >= {
        "referrer_phone",
        "crime_reference",
        "location_address",
    }


@pytest.mark.page("cases:contacts")
def test_whoever_may_open_the_case_sees_its_contacts_and_the_read_is_recorded(
    case: Case, alice: User, dmitri: User, charlie: User, lena: User
) -> None:
    _record(alice, case, **{k: v for k, v in ADULT_CONTACTS.items() if k != "expected_version"})
    url = reverse("cases:contacts", args=[case.reference])
    for outsider in (charlie, lena):  # another force; a safeguarding lead, for an adult
        assert factories.signed_in_client(outsider).get(url).status_code == 404
    assert not _reads(charlie)
    assert factories.signed_in_client(dmitri).post(url).status_code == 405
    page = factories.signed_in_client(dmitri).get(url).content.decode()
    assert "01632 960 001" in page
    assert "13/45678/26" in page
    assert "British Transport Police" in page
    assert "With family or friends" in page
    # The address is not on the page: it is shown only when asked for.
    assert "Example Row" not in page
    assert "Show the address" in page
    fields = _reads(dmitri)[-1]["fields"]
    assert "referrer_phone" in fields
    assert "home_office_reference" in fields
    assert "location_address" not in fields


@pytest.mark.page("cases:contacts_address")
def test_the_address_is_shown_only_when_asked_for_and_each_showing_recorded(
    case: Case, alice: User, bob: User, charlie: User
) -> None:
    _record(alice, case, location_type="hospital", location_address="Ward 7, Test General")
    url = reverse("cases:contacts_address", args=[case.reference])
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    client = factories.signed_in_client(bob)
    assert client.post(url).status_code == 405
    page = client.get(url).content.decode()
    assert "Ward 7, Test General" in page
    assert "Hospital" in page
    assert _reads(bob) == [{"fields": ["location_address"]}]
    (read,) = AuditEvent.objects.filter(actor=bob, action="person.viewed")
    assert read.person_id == case.person_id


@pytest.mark.page("cases:contacts_consent")
def test_an_adults_consent_to_share_is_recorded_per_agency(
    case: Case, alice: User, charlie: User
) -> None:
    url = reverse("cases:contacts_consent", args=[case.reference])
    answer = {
        "agency_kind": "health",
        "agency_name": "Testshire  Health Centre",
        "consent_given": "yes",
        "given_on_day": str(ANSWERED.day),
        "given_on_month": str(ANSWERED.month),
        "given_on_year": str(ANSWERED.year),
    }
    assert factories.signed_in_client(charlie).post(url, answer).status_code == 404
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    assert "Does the person agree" in client.get(url).content.decode()
    response = client.post(url, answer)
    assert response["Location"] == reverse("cases:contacts", args=[case.reference])
    consent = AgencyConsent.objects.get(case=case)
    assert (consent.agency_name, consent.consent_given, consent.given_on) == (
        "Testshire Health Centre",
        True,
        ANSWERED,
    )
    assert consent.recorded_by == alice
    # Asked again about the same agency, the new answer replaces the old.
    client.post(url, answer | {"agency_name": "testshire health centre", "consent_given": "no"})
    consent = AgencyConsent.objects.get(case=case)
    assert consent.consent_given is False
    page = client.get(reverse("cases:contacts", args=[case.reference])).content.decode()
    assert "testshire health centre" in page
    assert "agencies_consented" in _reads(alice)[-1]["fields"]
    assert AuditEvent.objects.filter(action="contacts.consent_recorded").count() == 2


GP = "Dunmarsh Lane Surgery"


def test_the_agency_a_person_agreed_to_share_with_is_not_stored_in_the_clear(
    case: Case, alice: User
) -> None:
    """The form invites "the person's GP surgery", whose name can say where someone lives:
    encrypted at rest like outside services' names (ADR 15), and not repeated in the message
    kept in the session after recording it."""
    client = factories.signed_in_client(alice)
    answer = {
        "agency_kind": "health",
        "agency_name": GP,
        "consent_given": "yes",
        "given_on_day": str(ANSWERED.day),
        "given_on_month": str(ANSWERED.month),
        "given_on_year": str(ANSWERED.year),
    }
    client.post(reverse("cases:contacts_consent", args=[case.reference]), answer)
    assert AgencyConsent.objects.get(case=case).agency_name == GP
    clear = [row for row in factories.rows_containing(GP) if "(decrypted)" not in row]
    assert clear == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_agency_names_already_stored(case: Case, alice: User) -> None:
    services.agency_consent_record(
        by=alice,
        case=case,
        agency_kind="health",
        agency_name=GP,
        consent_given=True,
        given_on=timezone.localdate(),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("contacts", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT agency_name FROM contacts_agencyconsent")
        assert cursor.fetchall() == [(GP,)]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert AgencyConsent.objects.get(case=case).agency_name == GP
    assert [row for row in factories.rows_containing(GP) if "(decrypted)" not in row] == []


# --- Children ------------------------------------------------------------------------------


def test_a_childs_case_asks_no_consent_and_records_none(
    child_case: Case, alice: User, lena: User
) -> None:
    url = reverse("cases:contacts_consent", args=[child_case.reference])
    client = factories.signed_in_client(alice)
    page = client.get(url).content.decode()
    assert "A child needs no consent" in page
    assert "treated as one while their age is not known" in page
    assert "<form" not in page.split("main")[1]
    client.post(
        url,
        {
            "agency_kind": "police",
            "agency_name": "Test Police",
            "consent_given": "yes",
            "given_on_day": str(ANSWERED.day),
            "given_on_month": str(ANSWERED.month),
            "given_on_year": str(ANSWERED.year),
        },
    )
    assert not AgencyConsent.objects.exists()
    with pytest.raises(ValidationError, match="A child needs no consent"):
        services.agency_consent_record(
            by=alice,
            case=child_case,
            agency_kind="police",
            agency_name="Test Police",
            consent_given=True,
            given_on=timezone.localdate(),
        )
    # The contacts page says so, and offers no way to record one.
    contacts = factories.signed_in_client(lena).get(
        reverse("cases:contacts", args=[child_case.reference])
    )
    assert contacts.status_code == 200
    assert "A child needs no consent" in contacts.content.decode()
    assert "Record consent to share" not in contacts.content.decode()


def test_a_childs_social_worker_and_guardian_are_recorded_by_the_safeguarding_lead(
    child_case: Case, lena: User
) -> None:
    client = factories.signed_in_client(lena)
    url = reverse("cases:contacts_edit", args=[child_case.reference])
    assert "Social worker" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "expected_version": "1",
            "social_worker_name": "Sam Social",
            "social_worker_local_authority": "Test Council",
            "social_worker_phone": "+44 7700 900 982",
            "social_worker_email": "sam.social@example.gov.uk",
            "guardian_name": "Gail Grant",
            "guardian_service": "Testshire Guardians",
            "guardian_phone": "01632 960 002",
            "location_type": "local_authority",
        },
    )
    assert response.status_code == 302
    saved = CaseContacts.objects.get(case=child_case)
    assert (saved.social_worker_name, saved.guardian_name) == ("Sam Social", "Gail Grant")
    page = client.get(reverse("cases:contacts", args=[child_case.reference])).content.decode()
    assert "sam.social@example.gov.uk" in page
    assert {"social_worker_name", "guardian_phone"} <= set(_reads(lena)[-1]["fields"])


def test_an_adults_case_keeps_no_social_worker(case: Case, alice: User) -> None:
    with pytest.raises(ValidationError) as refused:
        _record(alice, case, social_worker_name="Sam Social")
    assert "Only a child's case" in str(refused.value)


# --- Bad input ----------------------------------------------------------------------------


def test_bad_input_is_explained_field_by_field_and_nothing_typed_is_lost(
    case: Case, alice: User
) -> None:
    client = factories.signed_in_client(alice)
    url = reverse("cases:contacts_edit", args=[case.reference])
    typed = ADULT_CONTACTS | {
        "referrer_phone": "call me",
        "crime_reference": "13/45678/26 <b>",
        "home_office_reference": "X" * 41,
        "police_force": "atlantis",
        "location_type": "safe_house",
        "location_address": "The refuge on Test Lane",
        "referrer_out_of_hours": "Control room 0300 000 0000",
    }
    response = client.post(url, typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "The referrer&#39;s phone number must be a phone number" in page
    assert "The crime reference can only include letters, numbers" in page
    assert "Home Office reference must be 40 characters or fewer" in page
    assert "Select the police force from the list" in page
    assert "Do not record an address for" in page
    assert "Safe house" in page
    # What was typed is still there.
    assert "call me" in page
    assert "The refuge on Test Lane" in page
    assert "Control room 0300 000 0000" in page
    assert not CaseContacts.objects.exists()
    short = client.post(url, ADULT_CONTACTS | {"referrer_phone": "01632 96"})
    assert "too short" in short.content.decode()


def test_someone_elses_change_meanwhile_is_not_overwritten(
    case: Case, alice: User, bob: User
) -> None:
    _record(bob, case, referrer_phone="01632 960 009")
    response = factories.signed_in_client(alice).post(
        reverse("cases:contacts_edit", args=[case.reference]), ADULT_CONTACTS
    )
    page = response.content.decode()
    assert "Someone else changed these contacts" in page
    assert "01632 960 001" in page  # Alice's answers, still there
    assert CaseContacts.objects.get(case=case).referrer_phone == "01632 960 009"


def test_a_consent_needs_an_agency_an_answer_and_a_past_date(case: Case, alice: User) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    page = (
        factories.signed_in_client(alice)
        .post(
            reverse("cases:contacts_consent", args=[case.reference]),
            {
                "agency_kind": "police",
                "agency_name": "",
                "given_on_day": str(tomorrow.day),
                "given_on_month": str(tomorrow.month),
                "given_on_year": str(tomorrow.year),
            },
        )
        .content.decode()
    )
    assert "Enter the name of the agency" in page
    assert "Select whether the person agrees" in page
    with pytest.raises(ValidationError, match="today or earlier"):
        services.agency_consent_record(
            by=alice,
            case=case,
            agency_kind="police",
            agency_name="Test Police",
            consent_given=True,
            given_on=tomorrow,
        )


def test_moving_somewhere_without_an_address_empties_it(case: Case, alice: User) -> None:
    _record(alice, case, location_type="family_or_friends", location_address="1 Test Row")
    saved = _record(alice, case, location_type="detention")
    assert saved.location_address == "1 Test Row"  # detention may keep an address
    saved = _record(alice, case, location_type="safe_house")
    assert saved.location_address == ""


def test_an_outsider_cannot_change_contacts_through_the_service(case: Case, charlie: User) -> None:
    with pytest.raises(ValidationError, match="Only those who may open this case"):
        _record(charlie, case, referrer_phone="01632 960 001")


# --- Audit: one event per write service ------------------------------------------------------

WRITES = {
    "case_contacts_update": lambda case, by: _record(by, case, crime_reference="AB/1"),
    "agency_consent_record": lambda case, by: services.agency_consent_record(
        by=by,
        case=case,
        agency_kind="police",
        agency_name="Test Police",
        consent_given=True,
        given_on=timezone.localdate(),
    ),
}
# Called only inside privacy's erasure, whose event (person.erased) covers it.
NOT_WRITES = {"contact_problems", "contacts_pseudonymise"}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_each_write_service_records_exactly_one_event(name: str, case: Case, alice: User) -> None:
    before = AuditEvent.objects.count()
    WRITES[name](case, alice)
    assert AuditEvent.objects.count() == before + 1


def test_every_contacts_service_is_covered() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__ and not name.startswith("_")
    }
    assert public == set(WRITES) | NOT_WRITES


# --- Erasure and subject access --------------------------------------------------------------


def test_subject_access_exports_the_contacts_and_erasure_removes_them(
    alice: User, northmoor_police: Organisation, authority: Organisation, dpo: User
) -> None:
    closed = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.CLOSED,
    )
    _record(
        alice,
        closed,
        home_office_reference="HO-99",
        location_type="other",
        location_address="A room above 3 Test Parade",
    )
    services.agency_consent_record(
        by=alice,
        case=closed,
        agency_kind="legal",
        agency_name="Test Law Centre",
        consent_given=True,
        given_on=timezone.localdate(),
    )
    exported = privacy.subject_access_export(
        by=dpo, person=closed.person, request_reference="SAR-1"
    )
    contacts = exported["cases"][0]["contacts"]
    assert contacts["home_office_reference"] == "HO-99"
    assert contacts["location_type"] == "Somewhere else"
    assert contacts["location_address"] == "A room above 3 Test Parade"
    assert contacts["consent_to_share"][0]["agency"] == "Test Law Centre"
    assert "location_address" in privacy_selectors.EXPORTED_FIELDS
    erasure = factories.person_erased(
        closed.person,
        recorded_by=dpo,
        request_reference="DPR-1",
        request_received_on=timezone.localdate(),
    )
    assert erasure.removed["contacts"] == 1
    assert erasure.removed["agency_consents"] == 1
    assert factories.rows_containing("Test Parade") == []
    assert factories.rows_containing("HO-99") == []
    page = factories.signed_in_client(alice).get(reverse("cases:contacts", args=[closed.reference]))
    assert "were removed" in page.content.decode()
    edit = factories.signed_in_client(alice).get(
        reverse("cases:contacts_edit", args=[closed.reference])
    )
    assert edit.status_code == 302


def test_the_case_page_links_to_the_contacts(case: Case, alice: User) -> None:
    page = factories.signed_in_client(alice).get(reverse("cases:detail", args=[case.reference]))
    assert reverse("cases:contacts", args=[case.reference]) in page.content.decode()
