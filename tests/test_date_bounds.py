"""Dates without a lower bound are refused: every date is bounded by the record it belongs to
(the referral, the place offered, the arrival), through the pages and the services alike."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accommodation.models import PlacementStatus
from opennrm.accounts.models import Organisation, User
from opennrm.care import services as care_services
from opennrm.care.models import MissingEpisode
from opennrm.cases.models import Case

from . import case_factories, factories
from . import support_plan_helpers as h


def _parts(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


@pytest.fixture
def case_40_days_old(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        consent_to_support=True,
        submitted_at=timezone.now() - timedelta(days=40),
    )


def test_an_arrival_before_the_place_was_offered_is_refused(
    cora: User, maya: User, provider: Organisation, case_40_days_old: Case
) -> None:
    placement = h.offered(cora, maya, provider, case_40_days_old)
    services.placement_respond(by=maya, placement=placement, accept=True)
    page = factories.signed_in_client(maya).post(
        f"/support/placements/{placement.pk}/arrived/", _parts("arrived_on", date(1900, 1, 1))
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "The day they arrived cannot be before the place was offered" in html
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ACCEPTED
    assert placement.arrived_on is None


def test_missing_since_before_the_referral_is_refused(
    cora: User, maya: User, provider: Organisation, case_40_days_old: Case
) -> None:
    h.living(cora, maya, provider, case_40_days_old)
    with pytest.raises(ValidationError, match="cannot be before they were referred"):
        care_services.missing_report(
            by=cora,
            case=case_40_days_old,
            went_missing_on=date(1950, 5, 1),
            last_seen="At the bus station",
        )
    assert not MissingEpisode.objects.exists()


def test_the_missing_page_names_the_day_of_the_referral(
    cora: User, maya: User, provider: Organisation, case_40_days_old: Case
) -> None:
    h.living(cora, maya, provider, case_40_days_old)  # arrived today, referred 40 days ago
    referred = timezone.localdate(case_40_days_old.submitted_at)
    page = factories.signed_in_client(maya).post(
        f"/support/people/{case_40_days_old.reference}/missing/",
        {
            **_parts("went_missing_on", referred - timedelta(days=1)),
            "last_seen": "At the bus station",
        },
    )
    assert page.status_code == 200
    assert (
        f"The day they went missing cannot be before they were referred ({referred:%-d %B %Y})"
        in page.content.decode()
    )
    assert not MissingEpisode.objects.exists()


def test_a_service_delivered_before_the_referral_is_refused(
    cora: User, maya: User, provider: Organisation, case_40_days_old: Case
) -> None:
    h.living(cora, maya, provider, case_40_days_old)
    with pytest.raises(ValidationError, match="cannot be before they were referred"):
        care_services.service_delivery_record(
            by=cora,
            case=case_40_days_old,
            measure="translation",
            delivered_on=date(1900, 1, 1),
            description="Interpreter",
            outside_provider="Demo interpreters",
        )
