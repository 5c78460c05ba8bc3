"""A person taken in during an operation is taken in once, however often the submission is sent
(ADR 0043): a double tap on the reception form, or a retry after an answer lost on a poor
connection at 3 a.m., used to make a second person, a second draft and, for a child, a second
message to children's services. The form carries a key new for each empty form; the API takes an
`Idempotency-Key`."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.notifications.models import Notification
from opennrm.operations import services
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord
from opennrm.referrals.models import ReferralDraft

from . import api_helpers as a
from . import factories
from . import operation_helpers as op


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation, council: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    return operation


def page_url(operation: Operation) -> str:
    return reverse("operations:reception", args=[operation.id])


def person(**changes: Any) -> dict[str, Any]:
    return {
        "name_or_description": "Ana Testova",
        "sex": "female",
        "age_group": "child",
        "language": "ro",
        "interpreter_needed": "yes",
        "urgent_needs": ["medical"],
    } | changes


def key_of(page: str) -> str:
    found = re.search(r'name="submission_key" value="([0-9a-f]{32})"', page)
    assert found, "the reception form carries no submission key"
    return found.group(1)


def test_the_same_form_sent_twice_takes_the_child_in_once_and_tells_childrens_services_once(
    larkspur: Operation, alice: User, lena: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        key = key_of(client.get(page_url(larkspur)).content.decode())
        first = client.post(page_url(larkspur), person(submission_key=key), follow=True)
        again = client.post(page_url(larkspur), person(submission_key=key), follow=True)
    assert "Person 1 taken in" in first.content.decode()
    assert "Person 1 taken in" in again.content.decode()
    assert ReceptionRecord.objects.count() == 1
    assert ReferralDraft.objects.count() == 1
    assert Notification.objects.filter(recipient=lena).count() == 1
    assert AuditEvent.objects.filter(action="operations.person_taken_in").count() == 1
    # The empty form after each has a key of its own.
    assert key_of(again.content.decode()) != key


def test_a_used_form_sent_for_someone_else_keeps_what_was_typed_and_takes_them_in_when_sent_again(
    larkspur: Operation, alice: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        key = key_of(client.get(page_url(larkspur)).content.decode())
        client.post(page_url(larkspur), person(submission_key=key))
        refused = client.post(
            page_url(larkspur),
            person(submission_key=key, name_or_description="Man in grey coat", sex="male"),
        )
        page = refused.content.decode()
        assert refused.status_code == 200
        assert "This form was already used to take in person 1" in page
        assert "Man in grey coat" in page
        assert ReceptionRecord.objects.count() == 1
        new_key = key_of(page)
        assert new_key != key
        client.post(
            page_url(larkspur),
            person(submission_key=new_key, name_or_description="Man in grey coat", sex="male"),
        )
    assert [r.name_or_description for r in ReceptionRecord.objects.order_by("sequence")] == [
        "Ana Testova",
        "Man in grey coat",
    ]


def test_without_a_key_each_submission_is_a_person(larkspur: Operation, alice: User) -> None:
    """Two people may give the same description: only a key says it is the same submission."""
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        client.post(page_url(larkspur), person())
        client.post(page_url(larkspur), person())
    assert ReceptionRecord.objects.count() == 2


def api_body(**changes: Any) -> dict[str, Any]:
    return {
        "name_or_description": "Ana Testova",
        "sex": "female",
        "age_group": "child",
        "language": "ro",
        "urgent_needs": ["bed_tonight"],
        "interpreter_needed": True,
    } | changes


def test_the_api_answers_a_retry_with_the_person_already_taken_in(
    larkspur: Operation, alice: User, northmoor_police: Organisation, lena: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=(a.OPERATIONS_READ, a.OPERATIONS_WRITE))
    client = a.client_with(secret)
    url = f"/api/v1/operations/{larkspur.id}/reception"
    headers = {"Idempotency-Key": "c0ffee-1"}
    with time_machine.travel(op.DURING, tick=False):
        first = client.post(url, api_body(), content_type="application/json", headers=headers)
    # The answer was lost; the device sends it again after the operation has closed.
    with time_machine.travel(op.AFTER, tick=False):
        again = client.post(url, api_body(), content_type="application/json", headers=headers)
    assert first.status_code == 201, first.content
    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["sequence"] == first.json()["sequence"] == 1
    assert ReceptionRecord.objects.count() == 1
    assert Notification.objects.filter(recipient=lena).count() == 1
    with time_machine.travel(op.DURING, tick=False):
        other = client.post(
            url,
            api_body(name_or_description="Man in grey coat", sex="male"),
            content_type="application/json",
            headers=headers,
        )
    assert a.errors(other) == [
        {
            "step": None,
            "field": "Idempotency-Key",
            "message": "This Idempotency-Key was already used to take in person 1. Use a new "
            "key for each person.",
        }
    ]
    assert ReceptionRecord.objects.count() == 1


def test_a_key_of_one_operation_is_not_looked_up_in_another(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        other = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        for operation in (larkspur, other):
            services.reception_take_in(
                by=alice,
                operation=operation,
                name_or_description="Ana Testova",
                sex="female",
                age_group="adult",
                submission_key="same-key",
            )
    assert ReceptionRecord.objects.count() == 2


def test_the_fingerprint_goes_with_the_name(larkspur: Operation, alice: User) -> None:
    """The fingerprint is a keyed hash of the name with the rest: once retention empties the
    name of someone whose draft never became a case, nothing derived from it stays."""
    from datetime import date

    from opennrm.privacy import services as privacy

    with time_machine.travel(op.DURING, tick=False):
        record = services.reception_take_in(
            by=alice,
            operation=larkspur,
            name_or_description="Ana Testova",
            sex="female",
            age_group="adult",
            submission_key="k-1",
        )
    assert record.submission_fingerprint
    for day in (date(2037, 6, 1), date(2037, 6, 15)):  # told, then deleted
        with time_machine.travel(f"{day.isoformat()} 10:00:00+00:00", tick=False):
            privacy.retention_apply(today=day)
    record.refresh_from_db()
    assert (record.name_or_description, record.submission_fingerprint) == ("", "")
