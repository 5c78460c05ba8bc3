"""Demo reads of people's details, so the data-protection officer's page has something to show:
the decision maker and the referrer opening the first demo case, recorded through the real
service. Idempotent: nothing is added once the case has been read."""

from __future__ import annotations

from django.db import transaction

from opennrm.accounts.models import User
from opennrm.cases.models import Case

from .models import AuditEvent
from .services import audit_read


@transaction.atomic
def seed() -> None:
    case = (
        Case.objects.filter(referred_by__email="responder@demo.opennrm.test")
        .select_related("person__identity", "referred_by")
        .order_by("submitted_at")
        .first()
    )
    if case is None or AuditEvent.objects.filter(person_id=case.person_id).exists():
        return
    fields = ["given_names", "family_name", "date_of_birth", "safe_contact", "persons_account"]
    for email in ("responder@demo.opennrm.test", "decisions@demo.opennrm.test"):
        reader = User.objects.get(email=email)
        audit_read(by=reader, person=case.person, obj=case, fields=fields)
