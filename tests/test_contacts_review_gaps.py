"""Contacts, found by review: a save after an edit conflict goes through once checked; the
address page shows how the person may be contacted safely."""

from __future__ import annotations

import re

from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, PersonIdentity
from opennrm.contacts import services
from opennrm.contacts.models import CaseContacts

from . import factories

ADULT = {
    "expected_version": "1",
    "referrer_phone": "01632 960 001",
    "referrer_out_of_hours": "Force control room",
    "police_force": "british-transport",
    "crime_reference": "13/45678/26",
    "home_office_reference": "A1234567",
    "location_type": "family_or_friends",
    "location_address": "12 Example Row, Testshire",
}


def test_after_a_conflict_saving_again_keeps_what_was_typed(
    case: Case, alice: User, bob: User
) -> None:
    """Alice (first responder) is told "Someone else changed these contacts ... Your answers are
    still here: check them, then save again" (contacts.services.case_contacts_update). Doing
    exactly that must save. The re-rendered form still carries the stale hidden
    expected_version, so every further save is refused the same way, for ever: the only way
    out is to reload the page, which throws away everything she typed (lost input)."""
    services.case_contacts_update(
        by=bob, case=case, expected_version=1, referrer_phone="01632 960 009"
    )
    client = factories.signed_in_client(alice)
    url = reverse("cases:contacts_edit", args=[case.reference])
    first = client.post(url, ADULT).content.decode()
    assert "Someone else changed these contacts" in first
    # Save again, as told, with the form exactly as the page gives it back.
    version = re.search(r'name="expected_version" value="(\d+)"', first)
    assert version is not None
    again = client.post(url, ADULT | {"expected_version": version.group(1)})
    assert again.status_code == 302, "saving again after checking is refused again"
    assert CaseContacts.objects.get(case=case).referrer_phone == "01632 960 001"


def test_the_address_page_shows_the_persons_safe_contact_rule(case: Case, bob: User) -> None:
    """The address page is where staff learn where to find the person ("someone may need to
    find the person", ADR 31). The person's own safe-contact instruction, given at referral
    ("Only contact details that the people who exploited them do not know or control",
    referrals.forms), e.g. "Only through Harbour Light Outreach, never call or visit
    directly", is shown only on the case page: a caseworker who opens the address from the
    contacts page acts on it without seeing the rule, and may turn up or phone where the
    exploiters are watching. Expected: the rule is shown beside the address (its read
    recorded, naming safe_contact)."""
    rule = "Only through Harbour Light Outreach, never call or visit directly"
    identity = PersonIdentity.objects.get(person=case.person)
    identity.safe_contact = rule
    identity.save()
    services.case_contacts_update(
        by=bob,
        case=case,
        expected_version=1,
        location_type="family_or_friends",
        location_address="12 Example Row, Testshire",
    )
    page = (
        factories.signed_in_client(bob)
        .get(reverse("cases:contacts_address", args=[case.reference]))
        .content.decode()
    )
    assert "12 Example Row" in page
    assert rule in page
    read = AuditEvent.objects.filter(actor=bob, action="person.viewed").last()
    assert read is not None
    assert "safe_contact" in read.detail["fields"]
