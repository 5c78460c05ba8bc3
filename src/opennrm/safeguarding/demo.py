"""The demo's children's pathway: the coordinator asked for a place for the age-disputed boy the
demo police referred in Riverside (`referrals.demo`), so his need is an open task of Riverside
Borough Council's children's services, which its demo safeguarding lead sees on the caseload,
with his age assessment still outstanding. Made through the real service; idempotent.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case

from . import services
from .models import ChildrenServicesTask


@transaction.atomic
def seed() -> None:
    child = (
        Case.objects.filter(area="Riverside", age_group=AgeGroup.PRESUMED_CHILD)
        .order_by("pk")
        .first()
    )
    coordinator = User.objects.filter(email="coordinator@demo.opennrm.test").first()
    if child is None or coordinator is None:
        return
    if ChildrenServicesTask.objects.filter(case=child).exists():
        return
    services.children_accommodation_redirect(
        by=coordinator,
        case=child,
        needs=["A safe place to stay tonight"],
        due_on=timezone.localdate(),
    )
