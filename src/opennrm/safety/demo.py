"""A fictional safety profile for the first demo referral (an adult waiting for a place), made
through the real services after the referrals demo: a high risk with its reasons, a place to
keep away from, medical needs, a women-only house, and a dependent child (which tells the
area's safeguarding leads). Idempotent: a profile that exists is left as it is."""

from __future__ import annotations

from django.db import transaction

from opennrm.accounts.models import User

from . import services
from .models import SafetyProfile

PROFILE = {
    "risk_level": "high",
    "risk_reasons": "Her controller has threatened to find her (fictional demo note).",
    "exploiters": "A man known as 'the landlord', drives a silver estate car (fictional).",
    "keep_away": ["Northmoor"],
    "medical_needs": "Asthma inhaler (fictional demo note).",
    "setting_required": "women_only",
}


@transaction.atomic
def seed() -> None:
    from opennrm.cases.choices import AgeGroup
    from opennrm.cases.models import Case

    case = (
        Case.objects.filter(
            referred_by__email="responder@demo.opennrm.test",
            age_group=AgeGroup.ADULT,
            placement_requests__status="open",
        )
        .order_by("submitted_at")
        .first()
    )
    responder = User.objects.filter(email="responder@demo.opennrm.test").first()
    if case is None or responder is None or SafetyProfile.objects.filter(case=case).exists():
        return
    services.safety_profile_save(by=responder, case=case, expected_version=None, **PROFILE)
    services.dependant_add(
        by=responder,
        case=case,
        expected_version=1,
        relationship="child",
        sex="female",
        age_years=5,
    )
