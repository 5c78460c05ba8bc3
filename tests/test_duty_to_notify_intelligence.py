"""Duty to notify, usable (issue 12, item 8): the anonymous report can carry intelligence about
the exploitation (places, the exploiters, vehicles, dates) without identifying the person; it is
kept encrypted with the report, sent to the police of the report's area (or, with none, to the
competent authority), and every showing of it is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.referrals import steps
from opennrm.referrals.models import DraftStatus, DutyToNotifyIntelligence, DutyToNotifyReport

from . import api_helpers as a
from . import factories
from . import referral_helpers as r

INTELLIGENCE = {
    "place_1_area": "Testshire town centre",
    "place_1_premises": "car_wash",
    "place_2_area": "",
    "place_2_premises": "",
    "place_3_area": "Old Mill estate",
    "place_3_premises": "house_or_flat",
    "exploiters": "Two men in their forties; one has a scar on his left hand.",
    "vehicle_1_make": "Ford Transit",
    "vehicle_1_colour": "White",
    "vehicle_1_registration": "ab12 cde",
    "dates": "Fridays in March 2026: the van collected workers at 5am.",
}


def _report_with_intelligence(client: Any, intelligence: dict[str, str] = INTELLIGENCE) -> Any:
    draft = r.start(client)
    # The officer typed the person's details first, then consent was refused.
    r.answer(client, draft, "age", r.ADULT)
    r.answer(client, draft, "consent", r.CONSENTS)
    r.answer(client, draft, "person", r.PERSON)
    r.answer(client, draft, "account", r.ACCOUNT)
    r.complete(client, draft, r.DUTY_TO_NOTIFY)
    page = client.get(reverse("referrals:step", args=[draft.public_id, "intelligence"]))
    assert "Do not include anything that could identify the person" in page.content.decode()
    r.complete(client, draft, {"intelligence": intelligence})
    return draft


def test_the_report_carries_intelligence_to_the_areas_police_and_nothing_identifying(
    alice: User, charlie: User, routing: Organisation, council: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = _report_with_intelligence(client)
    check = client.get(reverse("referrals:check_answers", args=[draft.public_id])).content.decode()
    assert "Two men in their forties" in check
    assert "AB12 CDE" in check
    assert "Vehicle 2" not in check  # boxes left empty are not listed
    # Showing the intelligence typed is recorded, against the draft (no person yet).
    read = AuditEvent.objects.filter(actor=alice, action="person.viewed").last()
    assert read is not None
    assert read.person_id is None
    assert "intelligence_exploiters" in read.detail["fields"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        r.submit(client, draft)
    assert not Case.objects.exists()
    report = DutyToNotifyReport.objects.get()
    intelligence = report.intelligence
    assert intelligence.places == [
        {"area": "Testshire town centre", "premises": "car_wash"},
        {"area": "Old Mill estate", "premises": "house_or_flat"},
    ]
    assert intelligence.vehicles == [
        {"make": "Ford Transit", "colour": "White", "registration": "AB12 CDE"}
    ]
    # Encrypted at rest, and nothing of the person survives anywhere.
    assert factories.rows_containing("scar on his left hand") == [
        "referrals_dutytonotifyintelligence.exploiters (decrypted)"
    ]
    assert factories.rows_containing("Zorica") == []
    assert factories.rows_containing("said I owed them money") == []
    draft.refresh_from_db()
    assert draft.status == DraftStatus.REPORTED
    assert draft.answers == {}
    # Routed to the statutory first responders of the report's area (Testshire): both forces.
    assert {o.name for o in intelligence.routed_to.all()} == {
        "Northmoor Police",
        "Southvale Police",
    }
    told = Notification.objects.filter(kind="report.intelligence")
    assert {n.recipient for n in told} == {alice, charlie}
    for message in [*told, *mail.outbox]:
        text = f"{message.subject} {message.body}"
        assert "scar" not in text
        assert "AB12" not in text
    (event,) = AuditEvent.objects.filter(action="referral.duty_to_notify_reported")
    assert event.detail["intelligence"] is True


@pytest.mark.page("referrals:report")
def test_the_police_told_read_the_intelligence_and_the_read_is_recorded(
    alice: User, charlie: User, dmitri: User, routing: Organisation, council: Organisation
) -> None:
    reporter = factories.signed_in_client(alice)
    r.submit(reporter, _report_with_intelligence(reporter))
    report = DutyToNotifyReport.objects.get()
    url = reverse("referrals:report", args=[report.reference])
    # The competent authority was not told (the area has police): not theirs to read.
    assert factories.signed_in_client(dmitri).get(url).status_code == 404
    client = factories.signed_in_client(charlie)
    assert client.post(url).status_code == 405
    page = client.get(url).content.decode()
    assert "scar on his left hand" in page
    assert "white ford transit, registration AB12 CDE".lower() in page.lower()
    assert "Testshire town centre: a car wash" in page
    (read,) = AuditEvent.objects.filter(actor=charlie, action="person.viewed")
    assert read.person_id is None
    assert set(read.detail["fields"]) == {
        "intelligence_places",
        "intelligence_exploiters",
        "intelligence_vehicles",
        "intelligence_dates",
    }


def test_with_no_police_in_the_area_the_competent_authority_is_told(
    alice: User, dmitri: User, routing: Organisation, council: Organisation
) -> None:
    Organisation.objects.filter(kind="statutory_first_responder").update(area="Elsewhere")
    client = factories.signed_in_client(alice)
    draft = _report_with_intelligence(client)
    r.submit(client, draft)
    intelligence = DutyToNotifyIntelligence.objects.get()
    assert list(intelligence.routed_to.all()) == [routing]
    assert Notification.objects.filter(kind="report.intelligence", recipient=dmitri).exists()
    page = factories.signed_in_client(dmitri).get(
        reverse("referrals:report", args=[intelligence.report.reference])
    )
    assert "scar on his left hand" in page.content.decode()


def test_intelligence_is_optional_and_nobody_is_told_without_it(
    alice: User, routing: Organisation, council: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.DUTY_TO_NOTIFY)
    task_list = client.get(reverse("referrals:task_list", args=[draft.public_id])).content.decode()
    assert "Intelligence for the police (optional)" in task_list
    assert "Check answers and submit" in task_list
    r.submit(client, draft)
    report = DutyToNotifyReport.objects.get()
    assert not DutyToNotifyIntelligence.objects.exists()
    assert not Notification.objects.filter(kind="report.intelligence").exists()
    page = client.get(reverse("referrals:report", args=[report.reference])).content.decode()
    assert "The report gave no intelligence" in page
    assert not AuditEvent.objects.filter(
        actor=alice, object_type="referrals.dutytonotifyreport", action="person.viewed"
    ).exists()


def test_a_referral_is_never_asked_for_intelligence(alice: User, routing: Organisation) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    url = reverse("referrals:step", args=[draft.public_id, "intelligence"])
    assert client.get(url).status_code == 404


def test_bad_intelligence_is_explained_and_kept_as_typed(
    alice: User, routing: Organisation, council: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.DUTY_TO_NOTIFY)
    response = r.answer(
        client,
        draft,
        "intelligence",
        INTELLIGENCE
        | {"vehicle_2_registration": "AB-12!", "place_2_premises": "palace", "dates": "x" * 2001},
    )
    page = response.content.decode()
    assert "Vehicle 2: the registration can only include letters and numbers" in page
    assert "Select the type of premises from the list" in page
    assert "Relevant dates must be 2,000 characters or fewer" in page
    assert "Two men in their forties" in page  # what was typed is still there
    draft.refresh_from_db()
    assert draft.answers["intelligence"]["vehicle_2_registration"] == "AB-12!"


def test_the_allow_list_keeps_intelligence_and_nothing_about_the_person() -> None:
    """Every answer a report may keep is one of the anonymous facts or the intelligence, whose
    fields are about places, exploiters, vehicles and dates only."""
    kept = {(slug, name) for slug, names in steps.ANONYMOUS_ANSWERS.items() for name in names}
    identifying_person = {
        (slug, name)
        for slug, names in steps.IDENTIFYING_ANSWERS.items()
        if slug != "intelligence"
        for name in names
    }
    assert kept.isdisjoint(identifying_person)
    assert {name for slug, name in kept if slug == "intelligence"} == set(
        steps.IDENTIFYING_ANSWERS["intelligence"]
    )
    for name in steps.ANONYMOUS_ANSWERS["intelligence"]:
        assert name.split("_")[0] in {"place", "exploiters", "vehicle", "dates"}


def test_the_api_sends_intelligence_with_a_report(
    alice: User, northmoor_police: Organisation, routing: Organisation, council: Organisation
) -> None:
    _, secret = a.token(alice, northmoor_police)
    response = a.post_referral(
        a.client_with(secret), {**r.DUTY_TO_NOTIFY, "intelligence": INTELLIGENCE}
    )
    assert response.status_code == 201, response.json()
    report = DutyToNotifyReport.objects.get(reference=response.json()["reference"])
    assert report.intelligence.exploiters == INTELLIGENCE["exploiters"]
    assert report.intelligence.routed_to.filter(pk=northmoor_police.pk).exists()
    bad = a.post_referral(
        a.client_with(secret),
        {**r.DUTY_TO_NOTIFY, "intelligence": {"vehicle_1_registration": "AB-12!"}},
    )
    assert bad.status_code == 422
