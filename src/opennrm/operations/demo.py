"""A fictional operation for the demo: Operation Harbour Lights, confidential while it was
planned and under way now, led by the demo police force, 167 people expected over a week
(mostly women; sexual and labour exploitation; some children), with the demo's safe-house
provider, local authority and competent authority invited. Made through the real services.
Idempotent: an operation of that name already led by the force is left as it is.

Every name and number here is invented; the total echoes the 167 people Operation Pentameter 2
found in 2007, which is the story OpenNRM started from.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import Organisation, User

from . import services
from .models import Operation

NAME = "Operation Harbour Lights (fictional)"

# (sex, age group, exploitation type) -> people expected: 167 in all, 127 of them women or
# girls, 16 children or age disputed.
EXPECTED: dict[tuple[str, str, str], int] = {
    ("female", "adult", "sexual"): 88,
    ("female", "adult", "labour"): 22,
    ("female", "adult", "domestic_servitude"): 6,
    ("female", "child", "sexual"): 6,
    ("female", "age_disputed", "sexual"): 4,
    ("female", "child", "labour"): 1,
    ("male", "adult", "labour"): 28,
    ("male", "adult", "criminal"): 5,
    ("male", "child", "criminal"): 3,
    ("male", "age_disputed", "labour"): 2,
    ("unknown", "adult", "sexual"): 2,
}
LANGUAGES = ["ro", "sq", "vi", "zh", "pl"]
PARTNERS = [
    ("Lanternhouse Refuge Trust", "support_provider"),
    ("Riverside Borough Council", "local_authority"),
    ("Eastgate Competent Authority", "competent_authority"),
]


@transaction.atomic
def seed() -> None:
    responder = User.objects.get(email="responder@demo.opennrm.test")
    police = Organisation.objects.get(name="Northmoor Constabulary")
    if Operation.objects.filter(name=NAME, lead_organisation=police).exists():
        return
    today = timezone.localdate()
    operation = services.operation_plan(
        by=responder,
        lead_organisation=police,
        name=NAME,
        confidential=True,
        # Started two days ago, a week long: confidential until then, under way now.
        starts_on=today - timedelta(days=2),
        ends_on=today + timedelta(days=4),
        region="north_east",
        expected=EXPECTED,
        languages=LANGUAGES,
    )
    for name, role in PARTNERS:
        services.operation_partner_invite(
            by=responder,
            operation=operation,
            organisation=Organisation.objects.get(name=name),
            role=role,
        )
