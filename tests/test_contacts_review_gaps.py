"""Contacts, found by review: a save after an edit conflict goes through once checked; the
address page, and the change page where it shows the address, show how the person may be
contacted safely; an answer about sharing given before the one held does not replace it; an
address's line breaks count once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case, PersonIdentity
from opennrm.contacts import services
from opennrm.contacts.models import AgencyConsent, CaseContacts

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


# --- An older answer, and the safe contact on the change page (stop 37) --------------------


def test_an_older_answer_does_not_overwrite_a_withdrawal_of_consent(
    case: Case, alice: User, bob: User
) -> None:
    """An adult tells Alice today that she no longer agrees to her details going to the police
    (recorded: does not agree, answered today). Bob then types in the paper form from the first
    meeting a week ago, when she agreed. `contacts.services.agency_consent_record` lets whichever
    is recorded last replace the row, whatever the date it was given, so the contacts page now
    says "Agrees" (answered a week ago): her withdrawal is lost, and anyone checking before
    sharing shares against her wishes. Expected: an answer given before the one held does not
    replace it (refused, or the later answer kept)."""
    today = timezone.localdate()
    services.agency_consent_record(
        by=alice,
        case=case,
        agency_kind="police",
        agency_name="Northmoor Police",
        consent_given=False,
        given_on=today,
    )
    with pytest.raises(ValidationError) as refused:
        services.agency_consent_record(
            by=bob,
            case=case,
            agency_kind="police",
            agency_name="Northmoor Police",
            consent_given=True,
            given_on=today - timedelta(days=7),
        )
    assert refused.value.message_dict == {
        "given_on": [
            "A newer answer about sharing with this agency, given on "
            f"{today:%-d %B %Y}, is recorded and stands: an answer given before it cannot "
            "replace it"
        ]
    }
    consent = AgencyConsent.objects.get(case=case)
    assert (consent.consent_given, consent.given_on) == (False, today)
    assert AuditEvent.objects.filter(action="contacts.consent_recorded").count() == 1


def test_an_answer_of_the_same_day_or_later_replaces_the_one_held(case: Case, alice: User) -> None:
    """Asked again (or a slip corrected the same day), the new answer still replaces the row;
    the consent page shows the refusal of an older one beside the date."""
    today = timezone.localdate()
    for given_on, agrees in ((today - timedelta(days=3), True), (today, False), (today, True)):
        services.agency_consent_record(
            by=alice,
            case=case,
            agency_kind="police",
            agency_name="Northmoor Police",
            consent_given=agrees,
            given_on=given_on,
        )
    consent = AgencyConsent.objects.get(case=case)
    assert (consent.consent_given, consent.given_on) == (True, today)
    week_ago = today - timedelta(days=7)
    page = (
        factories.signed_in_client(alice)
        .post(
            reverse("cases:contacts_consent", args=[case.reference]),
            {
                "agency_kind": "police",
                "agency_name": "northmoor police",
                "consent_given": "no",
                "given_on_day": str(week_ago.day),
                "given_on_month": str(week_ago.month),
                "given_on_year": str(week_ago.year),
            },
        )
        .content.decode()
    )
    assert f"given on {today:%-d %B %Y}, is recorded and stands" in page
    assert AgencyConsent.objects.get(case=case).consent_given is True


def test_the_change_page_shows_the_safe_contact_rule_beside_the_address(
    case: Case, bob: User
) -> None:
    """ADR 31's addendum puts the person's safe-contact instruction beside the address
    ("whoever opens the address may be about to visit or phone"), but only on the address page.
    "Change contacts and references" shows the same address, prefilled in its box, with no
    rule: a caseworker there to update a crime reference reads where the person is staying and
    nothing of "Only through Harbour Light Outreach, never call or visit directly", and may turn
    up or phone where the exploiters are watching. Expected: where the change page shows the
    address, the rule is shown too (its read recorded), or the address is not shown there."""
    rule = "Only through Harbour Light Outreach, never call or visit directly"
    identity = PersonIdentity.objects.get(person=case.person)
    identity.safe_contact = rule
    identity.save()
    client = factories.signed_in_client(bob)
    url = reverse("cases:contacts_edit", args=[case.reference])
    # No address shown: no rule, and no read of it.
    assert rule not in client.get(url).content.decode()
    assert not AuditEvent.objects.filter(actor=bob, action="person.viewed").exists()
    services.case_contacts_update(
        by=bob,
        case=case,
        expected_version=1,
        location_type="family_or_friends",
        location_address="12 Example Row, Testshire",
    )
    page = client.get(url).content.decode()
    assert "12 Example Row" in page
    assert rule in page
    read = AuditEvent.objects.filter(actor=bob, action="person.viewed").order_by("pk").last()
    assert read is not None
    assert {"location_address", "safe_contact"} <= set(read.detail["fields"])
    # Shown again after a refusal, with the address typed: the rule is there too, and the
    # address shown again is recorded as read.
    refused = client.post(url, ADULT | {"expected_version": "2", "referrer_phone": "call me"})
    assert "12 Example Row" in refused.content.decode()
    assert rule in refused.content.decode()
    read = AuditEvent.objects.filter(actor=bob, action="person.viewed").order_by("pk").last()
    assert read is not None
    assert {"location_address", "safe_contact"} <= set(read.detail["fields"])


def test_an_address_is_measured_with_its_line_breaks_counted_once(case: Case, bob: User) -> None:
    """The address box is a textarea too: a browser's CR LF counts once, and is stored as LF."""
    lines = ["Flat 2", "x" * 482, "Testshire"]
    assert len("\n".join(lines)) <= 500 < len("\r\n".join(lines))
    response = factories.signed_in_client(bob).post(
        reverse("cases:contacts_edit", args=[case.reference]),
        ADULT | {"location_address": "\r\n".join(lines)},
    )
    assert response.status_code == 302
    assert CaseContacts.objects.get(case=case).location_address == "\n".join(lines)
