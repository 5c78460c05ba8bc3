"""Review of the pages every user lands on (home, notifications, caseload), as a safeguarding
lead: a child taken in at an operation, before their referral is submitted, must not drop out
of what the local authority's safeguarding lead is shown as needing their attention."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.notifications.models import Notification
from opennrm.operations import services
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord

from . import factories
from . import operation_helpers as op

NOTHING = "Nothing needs your attention"


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation, council: Organisation) -> Operation:
    """A confidential operation led by Northmoor Police, the council (Lena its safeguarding lead)
    invited as the local authority."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    return operation


def take_in_child(by: User, operation: Operation) -> ReceptionRecord:
    values: dict[str, Any] = {
        "name_or_description": "Mira Testova",
        "sex": "female",
        "age_group": "child",
        "language": "ro",
        "urgent_needs": ["bed_tonight"],
        "interpreter_needed": True,
    }
    with time_machine.travel(op.DURING, tick=False):
        return services.reception_take_in(by=by, operation=operation, **values)


def home(user: User) -> str:
    response = factories.signed_in_client(user).get("/")
    assert response.status_code == 200
    return response.content.decode()


def needs(page: str) -> list[str]:
    block = page.split("Needs your attention", 1)
    if len(block) == 1:
        return []
    items = block[1].split("</ul>", 1)[0]
    return [
        html_lib.unescape(text)
        for text in re.findall(r'<a class="[^"]*" href="[^"]+">([^<]+)</a>', items)
    ]


def test_a_child_taken_in_at_an_operation_shows_on_the_leads_home(
    larkspur: Operation, alice: User, lena: User
) -> None:
    """Lena is told at once that a child was taken in (`operations.child_taken_in`), and has not
    opened the message; her home page still says "Nothing needs your attention": the only
    children's item counts `case.child_referred` notifications, and the caseload counts cases,
    of which there is none until the referral is submitted (days later, perhaps). The child's
    accommodation is hers to arrange from the night they are taken in (ADR 0043)."""
    take_in_child(alice, larkspur)
    assert Notification.objects.filter(
        recipient=lena, kind="operations.child_taken_in", read_at=None
    ).exists()

    with time_machine.travel(op.DURING, tick=False):
        page = home(lena)

    assert NOTHING not in page, (
        "A child taken in at an operation, whose message the lead has not opened, left the "
        "lead's home saying nothing needs their attention"
    )


def test_a_child_taken_in_who_goes_missing_before_referral_reaches_the_lead(
    larkspur: Operation, alice: User, lena: User
) -> None:
    """A child taken in at an operation slips away before their referral is submitted and is
    recorded missing on the reception record (`operations.services.reception_missing`). The
    local authority's safeguarding lead, told of the child when taken in, is neither told the
    child is missing nor shown them among "children in your area missing now" (that list and its
    home count read only the cases' missing episodes): nothing on the lead's home or in their
    notifications says a child is missing."""
    record = take_in_child(alice, larkspur)
    # Lena has read the message that the child was taken in.
    Notification.objects.filter(recipient=lena).update(read_at="2027-03-12T10:05:00Z")
    before = set(Notification.objects.filter(recipient=lena).values_list("pk", flat=True))

    with time_machine.travel(op.DURING, tick=False):
        services.reception_missing(by=alice, record=record, missing=True)
        page = home(lena)

    told_missing = Notification.objects.filter(recipient=lena).exclude(pk__in=before).exists()
    shown_missing = any("missing" in text.lower() for text in needs(page))
    assert told_missing or shown_missing, (
        "A child taken in at an operation went missing before referral; the local authority's "
        "safeguarding lead was not told and their home shows no child missing"
    )
