"""A fictional support plan for the first demo referral, made through the real services, after
the accommodation demo (`accommodation.demo`) has made its providers. Idempotent: a plan that
exists is left as it is.
"""

from __future__ import annotations

from django.db import transaction

from opennrm.accounts.models import Organisation, User

from . import services

# A support plan for the first demo referral (an adult who consented to support, waiting for a
# place), so the coordinator has a plan to look at: (measure, status, days from today that it
# started and ended, organisation, outside service, notes). Everything in it is fictional.
PLAN: list[tuple[str, str, int | None, int | None, str, str, str]] = [
    (
        "emergency_medical",
        "provided",
        0,
        0,
        "",
        "Demo Town Walk-in Centre (fictional)",
        "Seen for a hand injury on the day of referral (fictional demo note).",
    ),
    (
        "translation",
        "being_provided",
        0,
        None,
        "",
        "Demo Interpreting Co-operative (fictional)",
        "Romanian interpreter, a woman, at every appointment (fictional demo note).",
    ),
    (
        "counselling",
        "arranged",
        3,
        None,
        "Lanternhouse Refuge Trust",
        "",
        "Information on her rights and on the decisions to come, in Romanian (fictional).",
    ),
    ("psychological_material", "needed", None, None, "", "", ""),
    (
        "criminal_proceedings",
        "declined",
        None,
        None,
        "",
        "",
        "Does not want to speak to the police for now; her support does not depend on it "
        "(fictional demo note).",
    ),
]


@transaction.atomic
def seed() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from opennrm.cases.choices import AgeGroup
    from opennrm.cases.models import Case

    from .models import SupportPlan

    case = (
        Case.objects.filter(
            referred_by__email="responder@demo.opennrm.test",
            age_group=AgeGroup.ADULT,
            consent_to_support=True,
            # Waiting for a place: the first demo referral, not the history's people.
            placement_requests__status="open",
        )
        .order_by("submitted_at")
        .first()
    )
    coordinator = User.objects.filter(email="coordinator@demo.opennrm.test").first()
    if case is None or coordinator is None or SupportPlan.objects.filter(case=case).exists():
        return
    today = timezone.localdate()
    for measure, status, starts, ends, organisation, outside, notes in PLAN:
        services.support_measure_update(
            by=coordinator,
            case=case,
            measure=measure,
            expected_version=1,
            status=status,
            starts_on=None if starts is None else today + timedelta(days=starts),
            ends_on=None if ends is None else today + timedelta(days=ends),
            provider=Organisation.objects.get(name=organisation) if organisation else None,
            outside_provider=outside,
            notes=notes,
        )
    services.service_delivery_record(
        by=coordinator,
        case=case,
        measure="translation",
        delivered_on=today,
        outside_provider="Demo Interpreting Co-operative (fictional)",
        description="Interpreting by telephone for the first conversation with the "
        "coordinator, one hour (fictional demo entry).",
    )
