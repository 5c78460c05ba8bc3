"""A planned removal in the demo: the enforcement officer recorded one for a person in their
recovery period, so the decision makers and the referrer have the alert to show (ADR 0040)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case

from .models import PlannedRemoval
from .services import planned_removal_record


def seed() -> None:
    officer = User.objects.filter(email="enforcement@demo.opennrm.test").first()
    organisation = Organisation.objects.filter(name="Westport Immigration Enforcement").first()
    today = timezone.localdate()
    case = (
        Case.objects.filter(
            referred_by__email="responder@demo.opennrm.test",
            status=CaseStatus.RECOVERY_PERIOD,
            recovery_period_ends__gte=today + timedelta(days=10),
        )
        .order_by("submitted_at")
        .first()
    )
    if officer is None or organisation is None or case is None:
        return
    if PlannedRemoval.objects.exists():
        return
    planned_removal_record(
        by=officer,
        organisation=organisation,
        reference=case.reference,
        planned_on=today + timedelta(days=7),
    )
