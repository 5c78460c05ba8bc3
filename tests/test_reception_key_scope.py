"""The reception `Idempotency-Key` (operations 0009) is unique per operation only."""

from __future__ import annotations

from typing import Any

import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.operations import services
from opennrm.operations.models import PartnerRole, ReceptionRecord
from opennrm.referrals.models import ReferralDraft

from . import api_helpers as a
from . import operation_helpers as op


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "name_or_description": "Man, about 30, grey coat",
        "sex": "male",
        "age_group": "adult",
        "language": "ro",
        "urgent_needs": ["bed_tonight"],
        "interpreter_needed": True,
    } | changes


def test_another_organisations_client_using_the_same_key_still_takes_its_person_in(
    alice: User, lena: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """Northmoor Police (the lead) and the council (invited as local authority) each take
    people in through their own API client, and each client numbers its requests with its own
    counter as Idempotency-Key ("1", "2", ...). Both meet a man described the same way
    ("Man, about 30, grey coat": two different men; ADR 0043 says two people may give the same
    description). The council's request is answered 201 with `Idempotent-Replayed: true` and
    the police's person 1 (`services._check_not_sent` looks the key up across the whole
    operation), so the council's man is never taken in and its responder has no draft to refer
    him from. Expected: a key is one client's (scoped to the organisation or the user that
    sent it, as Idempotency-Key conventionally is), and the council's man becomes person 2
    with a draft of Lena's."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
        _, police_secret = a.token(
            alice, northmoor_police, scopes=(a.OPERATIONS_READ, a.OPERATIONS_WRITE)
        )
        _, council_secret = a.token(lena, council, scopes=(a.OPERATIONS_READ, a.OPERATIONS_WRITE))
    url = f"/api/v1/operations/{operation.id}/reception"
    headers = {"Idempotency-Key": "1"}
    with time_machine.travel(op.DURING, tick=False):
        police = a.client_with(police_secret).post(
            url, _body(), content_type="application/json", headers=headers
        )
        ours = a.client_with(council_secret).post(
            url, _body(), content_type="application/json", headers=headers
        )
    assert police.status_code == 201, police.content
    assert ours.status_code == 201, ours.content
    assert ReceptionRecord.objects.filter(operation=operation).count() == 2, (
        f"the council's man was not taken in: answered with the police's person "
        f"{ours.json().get('sequence')} (replayed: {ours.get('Idempotent-Replayed')})"
    )
    assert ReferralDraft.objects.filter(created_by=lena).exists()
