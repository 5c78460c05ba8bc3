"""An age assessment is never dated before the referral that asked for it (the local date of
the case's `submitted_at`), through the page and the service alike: a date without a lower
bound (tests/test_date_bounds.py), an assessment "of 1 January 1900", must not move a presumed
child to the adult pathway."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.safeguarding import services
from opennrm.safeguarding.forms import AgeAssessmentForm
from opennrm.safeguarding.models import AgeAssessment
from tests import case_factories, factories

REASONS = "A Merton-compliant assessment by two social workers."


@pytest.fixture
def disputed(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """A presumed child referred 40 days ago."""
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
        submitted_at=timezone.now() - timedelta(days=40),
    )


def _post(client: Any, case: Case, day: date, outcome: str = "adult") -> Any:
    return client.post(
        f"/children/{case.reference}/age-assessment/",
        {
            "outcome": outcome,
            "assessed_on_day": day.day,
            "assessed_on_month": day.month,
            "assessed_on_year": day.year,
            "reasons": REASONS,
            "version": case.version,
        },
    )


def test_an_age_assessment_dated_1900_is_refused_and_the_child_stays_a_child(
    lena: User, disputed: Case
) -> None:
    referred = timezone.localdate(disputed.submitted_at)
    response = _post(factories.signed_in_client(lena), disputed, date(1900, 1, 1))
    disputed.refresh_from_db()
    assert response.status_code == 200, "an assessment dated 1900 was accepted"
    html = response.content.decode()
    assert (
        f"The date of the assessment cannot be before the referral ({referred:%-d %B %Y})" in html
    )
    assert REASONS in html  # what was typed is kept
    assert disputed.age_group == AgeGroup.PRESUMED_CHILD
    assert not AgeAssessment.objects.exists()


def test_the_service_refuses_a_day_before_the_referral_on_the_date_field(
    lena: User, disputed: Case
) -> None:
    referred = timezone.localdate(disputed.submitted_at)
    with pytest.raises(ValidationError) as refused:
        services.age_assessment_record(
            by=lena,
            case=disputed,
            outcome="adult",
            assessed_on=referred - timedelta(days=1),
            reasons=REASONS,
            expected_version=disputed.version,
        )
    assert refused.value.message_dict == {
        "assessed_on": [
            f"The date of the assessment cannot be before the referral ({referred:%-d %B %Y})"
        ]
    }
    disputed.refresh_from_db()
    assert disputed.age_group == AgeGroup.PRESUMED_CHILD
    assert not AgeAssessment.objects.exists()


def test_the_form_refuses_a_day_before_the_referral_it_is_given() -> None:
    referred = date(2026, 3, 27)
    data = {
        "outcome": "adult",
        "assessed_on_day": "26",
        "assessed_on_month": "3",
        "assessed_on_year": "2026",
        "reasons": REASONS,
        "version": "1",
    }
    form = AgeAssessmentForm(data, referred_on=referred)
    assert not form.is_valid()
    assert form.errors["assessed_on"] == [
        "The date of the assessment cannot be before the referral (27 March 2026)"
    ]
    assert AgeAssessmentForm({**data, "assessed_on_day": "27"}, referred_on=referred).is_valid()


def test_an_assessment_on_the_day_of_the_referral_is_recorded(lena: User, disputed: Case) -> None:
    referred = timezone.localdate(disputed.submitted_at)
    response = _post(factories.signed_in_client(lena), disputed, referred, outcome="child")
    assert response.status_code == 302
    assert AgeAssessment.objects.get().assessed_on == referred
    disputed.refresh_from_db()
    assert disputed.age_group == AgeGroup.CHILD
