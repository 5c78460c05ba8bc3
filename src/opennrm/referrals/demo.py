"""Demo routing rules and a few fictional referrals, made through the real services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case

from . import services, steps
from .models import DutyToNotifyReport, InformationRequest, RoutingRule

CONSENT = {
    "consents_to_referral": "yes",
    "consents_to_support": "yes",
    "explanation_version": "opennrm-consent-2026-1",
    "explanation_language": "en",
}
PERSON = {
    "sex": "female",
    "gender": "Feminine",
    "nationality_1": "RO",
    "language_1": "ro",
    "interpreter_needed": "yes",
    "safe_contact": "Via Harbour Light Outreach only",
}
EXPLOITATION = {
    "types": ["sexual"],
    "location": "both",
    "places": "A flat above a shop (fictional)",
    "area": "Northmoor",
    "in_immigration_detention": "no",
}


def observed(prefix: str) -> list[str]:
    """Codes from the bundled catalogue, as a first responder might tick them."""
    return [f"{prefix}-{dimension}-0{n}" for dimension in ("DR", "EX", "CD") for n in (1, 2)]


REFERRALS: list[dict[str, dict[str, Any]]] = [
    {
        "age": {"under_18": "no"},
        "consent": CONSENT,
        "person": {
            **PERSON,
            "given_names": "Ilinca",
            "family_name": "Demova",
            "estimated_age": "24",
        },
        # Asked of an adult only (ADR 0042): the child below was a child then too.
        "exploitation": {**EXPLOITATION, "under_18_when_began": "no"},
        "indicators": {"observed": observed("AS")},
        "account": {
            "persons_account": "I was promised work in a hotel.",
            "responders_account": "Found during a licensing visit (fictional demo case).",
        },
        "needs": {
            "needs": ["bed_tonight"],
            # Read by the coordinator and turned into constraints before matching (fictional).
            "details": "Women only. Keep her away from Northmoor: the man who controlled her "
            "lives there. Needs her asthma inhaler (fictional demo note).",
        },
    },
    {
        "age": {"under_18": "not_sure", "reason_to_believe_child": "yes"},
        "person": {
            **PERSON,
            "sex": "male",
            "gender": "",
            "given_names": "Tomas",
            "family_name": "Exampleson",
            "estimated_age": "16",
            "nationality_1": "VN",
            "language_1": "vi",
        },
        "exploitation": {
            **EXPLOITATION,
            "types": ["criminal"],
            "location": "uk",
            "area": "Riverside",
        },
        "indicators": {"observed": observed("CL")},
        "account": {
            "persons_account": "",
            "responders_account": "Found at a cannabis grow (fictional demo case).",
        },
        "needs": {"needs": ["none"], "details": ""},
    },
]


# A duty to notify report with intelligence for the police (issue 12, item 8): an adult who
# did not consent; nothing identifies them, and the intelligence is about the exploiters.
REPORT: dict[str, dict[str, Any]] = {
    "age": {"under_18": "no"},
    "consent": {**CONSENT, "consents_to_referral": "no", "consents_to_support": "no"},
    "person": {"sex": "male", "estimated_age": "31", "nationality_1": "AL"},
    "exploitation": {"types": ["labour"], "location": "uk", "area": "Northmoor"},
    "intelligence": {
        "place_1_area": "Northmoor, the industrial estate by the ring road (fictional)",
        "place_1_premises": "car_wash",
        "place_2_area": "Northmoor town centre (fictional)",
        "place_2_premises": "house_or_flat",
        "exploiters": "Two men in their forties who speak Albanian and English; one, called "
        "'the boss' by the workers, has a tattoo of a wolf on his neck (fictional demo note).",
        "vehicle_1_make": "Ford Transit",
        "vehicle_1_colour": "White",
        "vehicle_1_registration": "DE12 MOO",
        "dates": "Every weekday in November 2026: workers collected at 6am and returned after "
        "9pm (fictional).",
    },
}


def _report(responder: User, police: Organisation) -> None:
    if DutyToNotifyReport.objects.filter(organisation=police).exists():
        return
    draft = services.draft_start(by=responder, organisation=police)
    for slug, data in REPORT.items():
        draft = services.draft_save_answers(
            by=responder, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    services.referral_submit(by=responder, draft=draft)


@transaction.atomic
def seed() -> None:
    authority = Organisation.objects.get(name="Eastgate Competent Authority")
    detention = Organisation.objects.get(name="Harbourside Detention Decisions Unit")
    RoutingRule.objects.update_or_create(
        description="People in immigration detention",
        defaults={
            "priority": 10,
            "in_immigration_detention": True,
            "competent_authority": detention,
        },
    )
    RoutingRule.objects.update_or_create(
        description="Everyone else", defaults={"priority": 100, "competent_authority": authority}
    )
    responder = User.objects.get(email="responder@demo.opennrm.test")
    police = Organisation.objects.get(name="Northmoor Constabulary")
    _report(responder, police)
    if not Case.objects.filter(referring_organisation=police).exists():
        for pages in REFERRALS:
            _refer(responder, police, pages)
    seed_after_submission(responder, police)


def _refer(responder: User, police: Organisation, pages: dict[str, dict[str, Any]]) -> None:
    draft = services.draft_start(by=responder, organisation=police)
    for slug, data in pages.items():
        draft = services.draft_save_answers(
            by=responder, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    services.referral_submit(by=responder, draft=draft)


def seed_after_submission(responder: User, police: Organisation) -> None:
    """One request for information answered by an addition (Ilinca's case) and one still
    open (Tomas's), so the case pages, the PDF copy and the home pages' counts show both."""
    if InformationRequest.objects.filter(case__referring_organisation=police).exists():
        return
    decider = User.objects.get(email="decisions@demo.opennrm.test")
    ilinca, tomas = list(
        Case.objects.filter(referring_organisation=police).order_by("submitted_at", "pk")[:2]
    )
    today = timezone.localdate()
    answered = services.information_request_ask(
        by=decider,
        case=ilinca,
        question="Can you tell us how she travelled to the UK and who paid for the journey? "
        "(fictional demo question)",
        respond_by=today + timedelta(days=10),
    )
    services.referral_addition_add(
        by=responder,
        case=ilinca,
        text="She flew to Luton on a ticket bought by the man who recruited her; he kept her "
        "passport from the airport on (fictional demo answer).",
        answers=answered,
        max_bytes=0,
    )
    services.information_request_ask(
        by=decider,
        case=tomas,
        question="Has the local authority carried out an age assessment yet? If so, please add "
        "its outcome and date (fictional demo question).",
        respond_by=today + timedelta(days=5),
    )
