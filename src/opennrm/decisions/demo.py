"""A demo decision: the first demo referral gets a positive reasonable grounds decision, so the
conclusive grounds queue and the case page's clocks have something to show, and then an
extension of its recovery period, so the case has two letters: the first as it was issued,
the second with the new date."""

from __future__ import annotations

from django.db import transaction

from opennrm.accounts.models import User
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case

from . import services


@transaction.atomic
def seed() -> None:
    decider = User.objects.get(email="decisions@demo.opennrm.test")
    case = (
        Case.objects.filter(
            referred_by__email="responder@demo.opennrm.test",
            age_group=AgeGroup.ADULT,
            status=CaseStatus.AWAITING_REASONABLE_GROUNDS,
        )
        .order_by("submitted_at")
        .first()
    )
    if case is None or case.decisions.exists():
        return
    services.decision_record_reasonable_grounds(
        by=decider,
        case=case,
        outcome="positive",
        reasons="A consistent account of deception about work and of control by debt, with the "
        "first responder's observations of restricted movement (fictional demo decision).",
        expected_version=case.version,
    )
    case.refresh_from_db()
    services.recovery_extend(
        by=decider,
        case=case,
        days=14,
        reasons="Hospital treatment booked for the last week of the recovery period "
        "(fictional demo extension).",
        expected_version=case.version,
    )
