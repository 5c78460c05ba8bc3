"""Fictional contacts and references for the two demo referrals, made through the real services
after `referrals.demo` has made them. Idempotent: a case with contacts is left as it is.

Phone numbers are from the ranges Ofcom keeps for drama (01632 960xxx, 07700 900xxx), so none
reaches anyone.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_visible_to

from . import services
from .models import CaseContacts

ADULT = {
    "referrer_phone": "01632 960 118",
    "referrer_out_of_hours": "Northmoor Constabulary control room, 01632 960 999: ask for the "
    "modern slavery duty officer (fictional)",
    "police_force": "british-transport",
    "crime_reference": "DEMO/00417/26",
    "home_office_reference": "DEMO-HO-20417",
    "location_type": "other",
    "location_address": "Harbour Light night shelter, 1 Fiction Street, Northmoor (fictional)",
}
CHILD = {
    "social_worker_name": "Joss Merriweather (fictional)",
    "social_worker_local_authority": "Riverside Borough Council",
    "social_worker_phone": "01632 960 245",
    "social_worker_email": "joss.merriweather@demo.opennrm.test",
    "guardian_name": "Nell Ashby",
    "guardian_service": "Riverside Child Guardian Service",
    "guardian_phone": "07700 900 312",
    "location_type": "local_authority",
}
CONSENTS = [
    ("police", "British Transport Police", True),
    ("health", "Northmoor Walk-in Centre (fictional)", True),
    ("home_office", "Home Office", False),
]


@transaction.atomic
def seed() -> None:
    responder = User.objects.get(email="responder@demo.opennrm.test")
    lead = User.objects.get(email="safeguarding@demo.opennrm.test")
    cases = Case.objects.filter(referred_by=responder).order_by("submitted_at", "pk")
    adult = cases.filter(age_group="adult").first()
    # The demo's first child the demo safeguarding lead may open (its support history adds
    # children of other areas, some dated earlier, whose contacts are not the lead's to record).
    child = (
        cases_visible_to(Actor.of_session(lead))
        .filter(referred_by=responder)
        .exclude(age_group="adult")
        .order_by("submitted_at", "pk")
        .first()
    )
    if adult is not None and not CaseContacts.objects.filter(case=adult).exists():
        services.case_contacts_update(by=responder, case=adult, expected_version=1, **ADULT)
        for kind, name, given in CONSENTS:
            services.agency_consent_record(
                by=responder,
                case=adult,
                agency_kind=kind,
                agency_name=name,
                consent_given=given,
                given_on=timezone.localdate() - timedelta(days=1),
            )
    if child is not None and not CaseContacts.objects.filter(case=child).exists():
        services.case_contacts_update(by=lead, case=child, expected_version=1, **CHILD)
