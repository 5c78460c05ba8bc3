"""Support records and data protection: everything support keeps that could identify a person
(plan notes, outside services' names, what was delivered, where they were last seen, places they
must keep away from) is in their subject access export, and is gone after erasure or the
retention period, anywhere in the database, decrypted or not; the statuses and dates stay for
the figures."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accounts.models import Organisation, User
from opennrm.care import services as care_services
from opennrm.care.models import MissingEpisode, ServiceDelivery, SupportMeasure
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.privacy import services as privacy
from opennrm.privacy.models import Erasure

from . import case_factories, factories
from . import support_factories as s
from . import support_plan_helpers as h

NOTE = "Wants help finding her sister Perpetua in Gallowmere"
OUTSIDE = "Thornquist Family Practice"
DELIVERED = "Accompanied to the Vellacourt hearing"
LAST_SEEN = "Last seen at the Ashdown Road laundrette"
SECRETS = ["Perpetua", "Gallowmere", "Thornquist", "Vellacourt", "Ashdown Road", "Leeds"]
CLOSED_ON = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.get_fixed_timezone(0))


@pytest.fixture
def supported(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> Case:
    """A person with a plan, a delivery, a missing episode and a place to keep away from, who
    then left; their case closed on CLOSED_ON."""
    with time_machine.travel(CLOSED_ON - timedelta(days=20), tick=False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            consent_to_support=True,
        )
        placement = h.living(cora, maya, provider, case)
        placement.request.keep_away = [
            {"label": "Leeds", "place": "Leeds", "lat": 53.8, "lon": -1.55, "km": 80}
        ]
        placement.request.save(update_fields=["keep_away"])
        care_services.support_measure_update(
            by=maya,
            case=case,
            measure="emergency_medical",
            expected_version=1,
            status="arranged",
            outside_provider=OUTSIDE,
            notes=NOTE,
        )
        care_services.service_delivery_record(
            by=maya,
            case=case,
            measure="criminal_proceedings",
            delivered_on=timezone.localdate(),
            outside_provider=OUTSIDE,
            description=DELIVERED,
        )
        episode = care_services.missing_report(
            by=maya, case=case, went_missing_on=timezone.localdate(), last_seen=LAST_SEEN
        )
        care_services.missing_return(by=maya, episode=episode, returned_on=timezone.localdate())
        services.placement_end(
            by=maya, placement=placement, on=timezone.localdate(), reason="moved_on"
        )
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=CLOSED_ON)
    return case


def found_anywhere() -> list[str]:
    return [
        f"{secret}: {where}" for secret in SECRETS for where in factories.rows_containing(secret)
    ]


def test_the_export_holds_the_support_records(dpo: User, supported: Case) -> None:
    client = factories.signed_in_client(dpo)
    person = supported.person_id
    page = client.post(
        f"/privacy/people/{person}/export/",
        {"request_reference": "SAR-1", "format": "html"},
    ).content.decode()
    for secret in (NOTE, OUTSIDE, DELIVERED, LAST_SEEN, "Leeds"):
        assert secret in page, secret
    assert "Support plan" in page
    assert "Reported missing" in page
    data = json.loads(
        client.post(
            f"/privacy/people/{person}/export/",
            {"request_reference": "SAR-1", "format": "json"},
        ).content
    )
    [case] = data["cases"]
    [measure] = case["support"]["support_plan"]
    assert measure == {
        "measure": "Emergency medical treatment",
        "status": "Arranged",
        "starts_on": None,
        "ends_on": None,
        "provided_by": OUTSIDE,
        "notes": NOTE,
    }
    assert case["support"]["services_delivered"][0]["what"] == DELIVERED
    assert case["support"]["missing_episodes"][0]["last_seen"] == LAST_SEEN
    assert case["support"]["places_to_keep_away_from"] == ["Leeds"]


def test_erasure_removes_them_and_keeps_the_figures(dpo: User, supported: Case) -> None:
    assert {secret.split(":")[0] for secret in found_anywhere()} == set(SECRETS)
    factories.person_erased(
        supported.person,
        recorded_by=dpo,
        request_reference="ER-1",
        request_received_on=date(2026, 3, 3),
    )
    assert found_anywhere() == []
    measure = SupportMeasure.objects.get()
    assert (measure.measure, measure.status) == ("emergency_medical", "arranged")
    delivery = ServiceDelivery.objects.get()
    assert (delivery.measure, delivery.description) == ("criminal_proceedings", "")
    episode = MissingEpisode.objects.get()
    assert episode.went_missing_on is not None
    assert episode.last_seen == ""
    removed = Erasure.objects.get(person_id=supported.person_id).removed
    assert removed["support_notes"] == 1
    assert removed["services_delivered"] == 1
    assert removed["missing_last_seen"] == 1
    assert removed["places_to_keep_away_from"] == 1
    # And the export afterwards has none of it.
    page = (
        factories.signed_in_client(dpo)
        .post(
            f"/privacy/people/{supported.person_id}/export/",
            {"request_reference": "SAR-2", "format": "html"},
        )
        .content.decode()
    )
    assert [secret for secret in SECRETS if secret in page] == []


def test_the_retention_period_removes_them_too(supported: Case) -> None:
    privacy.retention_apply(today=date(2033, 3, 3))
    assert Erasure.objects.filter(person_id=supported.person_id).exists()
    assert found_anywhere() == []
    # The safe house's address belongs to the provider, not to the person: it stays.
    assert factories.rows_containing(s.ADDRESS)
