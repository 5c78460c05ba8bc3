"""Races found in review (stop 39): two people editing the same record from pages opened at
the same time, and the same form sent twice.

A plan saved from a page opened before another planner's change is refused as out of date
(`Operation.version`, as cases, contacts, safety profiles, placement requests and support
measures do: `lib.govuk_forms.StaleVersion`); a planned removal sent twice is recorded once
and alerts once (a one-time key on the form, or an API `Idempotency-Key`, and a unique
constraint behind it, as case notes, service deliveries and people taken in have)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.operations import selectors as operation_selectors
from opennrm.protection.models import PlannedRemoval

from . import api_helpers, factories
from . import operation_helpers as op
from ._races_forms import form_data


def test_a_plan_saved_from_a_stale_page_does_not_make_a_confidential_operation_public_again(
    alice: User, bob: User, northmoor_police: Organisation
) -> None:
    """Who is hurt: the people an enforcement operation will find, and the officers running it.
    Alice and Bob plan Operation Larkspur for Northmoor Police. Bob opens "Change the plan" to
    correct the end date. Meanwhile Alice learns the raid must stay secret and marks the
    operation confidential. Bob then saves his page, which still shows "No" for confidential.

    Now: Bob's save goes through and silently sets the operation back to not confidential (and
    puts back every other value his page showed): it appears in coordinators' figures and
    anywhere else a non-secret operation shows before it has started (ADR 0039), and nobody
    is told. `operations.services.operation_change` overwrites every field with no version
    check.
    Should: Bob's save is refused as made from a page that is out of date ("changed while you
    were working on it"), his answers kept, and the operation stays confidential."""
    with time_machine.travel(op.BEFORE, tick=False):
        larkspur = op.operation(alice, northmoor_police, confidential=False)
        url = reverse("operations:edit", args=[larkspur.id])
        alices, bobs = factories.signed_in_client(alice), factories.signed_in_client(bob)

        bobs_page = bobs.get(url)
        assert bobs_page.status_code == 200
        bobs_form = form_data(bobs_page.content.decode())
        assert bobs_form["confidential"] == "no"

        alices_form = form_data(alices.get(url).content.decode())
        alices_form["confidential"] = "yes"
        assert alices.post(url, alices_form).status_code == 302
        larkspur.refresh_from_db()
        assert larkspur.confidential
        assert operation_selectors.operation_is_secret(larkspur)

        bobs_form["ends_on_day"] = "15"  # all Bob meant to change
        refused = bobs.post(url, bobs_form)

        larkspur.refresh_from_db()
        assert larkspur.confidential, (
            "a plan saved from a page opened before Alice's change made the operation public "
            "again, without a word to anyone"
        )
        assert operation_selectors.operation_is_secret(larkspur)
        # Refused plainly, his answers kept, what differs named; the page now carries the
        # plan's version, so that saving again once he has checked is accepted.
        assert refused.status_code == 200
        page = refused.content.decode()
        assert "changed this plan while you were working on it" in page
        assert "whether it is confidential and the end date" in page
        kept = form_data(page)
        assert (kept["ends_on_day"], kept["confidential"]) == ("15", "no")
        kept["confidential"] = "yes"
        assert bobs.post(url, kept).status_code == 302
        larkspur.refresh_from_db()
    assert larkspur.confidential
    assert larkspur.ends_on.day == 15
    assert larkspur.version == 3


@pytest.fixture
def officer(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def _removal_form(client: Client, case: Case, days_ahead: int = 14) -> dict[str, Any]:
    page = client.get(reverse("protection:planned_removal"), {"reference": case.reference})
    assert page.status_code == 200
    planned_on = timezone.localdate() + timedelta(days=days_ahead)
    return form_data(page.content.decode()) | {
        "reference": case.reference,
        "planned_on_day": str(planned_on.day),
        "planned_on_month": str(planned_on.month),
        "planned_on_year": str(planned_on.year),
    }


def test_a_planned_removal_sent_twice_is_recorded_once_and_alerts_once(
    case: Case, officer: User, alice: User
) -> None:
    """Who is hurt: the public record, and the people alerted. An immigration enforcement
    officer records a removal planned for Zorica (protected: awaiting a reasonable grounds
    decision) and clicks "Record" twice.

    Now: two planned removals are recorded; the referrer and the competent authority are
    alerted twice ("Removal planned for a protected person") and the case's timeline says so
    twice; and the operation report and the public operation account, which count planned
    removal rows ("removals of protected people should be zero"), publish two where one was
    planned. `protection.services.planned_removal_record` creates a row on every send.
    Should: the second send of the same form records nothing new and alerts nobody again
    (it shows the answer already recorded)."""
    client = factories.signed_in_client(officer)
    url = reverse("protection:planned_removal")
    data = _removal_form(client, case)

    assert client.post(url, data).status_code == 200
    assert PlannedRemoval.objects.filter(reference=case.reference, protected=True).count() == 1
    again = client.post(url, data)  # the same form, sent again

    assert PlannedRemoval.objects.filter(reference=case.reference).count() == 1, (
        "one removal planned, two recorded: counted twice in the operation's public account"
    )
    assert (
        Notification.objects.filter(kind="protection.planned_removal", recipient=alice).count() == 1
    )
    assert case.events.filter(kind="protection.removal_planned").count() == 1
    assert again.status_code == 200
    assert 'id="already-recorded"' in again.content.decode()
    assert "Removal must not proceed" in again.content.decode()


def test_a_used_removal_form_changed_for_another_day_is_refused_then_recorded_under_a_new_key(
    case: Case, officer: User
) -> None:
    """Back to a form already sent, the day changed: another removal, not a repeat. Refused
    once, what was typed kept under a new key; sent again, it is recorded."""
    client = factories.signed_in_client(officer)
    url = reverse("protection:planned_removal")
    data = _removal_form(client, case)
    assert client.post(url, data).status_code == 200

    later = timezone.localdate() + timedelta(days=20)
    changed = data | {"planned_on_day": str(later.day), "planned_on_month": str(later.month)}
    changed["planned_on_year"] = str(later.year)
    refused = client.post(url, changed)
    assert PlannedRemoval.objects.count() == 1
    assert "This form was already used" in refused.content.decode()
    resent = form_data(refused.content.decode())
    assert resent["submission_key"] != data["submission_key"]
    assert resent["planned_on_day"] == str(later.day)
    assert client.post(url, resent).status_code == 200
    assert list(
        PlannedRemoval.objects.order_by("planned_on").values_list("planned_on", flat=True)
    ) == [
        timezone.localdate() + timedelta(days=14),
        later,
    ]


def test_the_api_records_a_planned_removal_once_whatever_the_retries_with_its_key(
    case: Case, officer: User, border_enforcement: Organisation, alice: User
) -> None:
    """A retry with the same `Idempotency-Key` answers with the removal already recorded
    (`Idempotent-Replayed`), alerting nobody again; the key sent for another day is 422."""
    _, secret = api_helpers.token(
        officer, border_enforcement, scopes=[api_helpers.PROTECTION_CHECK]
    )
    client = api_helpers.client_with(secret)
    url = f"/api/v1/protection/{case.reference}/planned-removals"
    planned_on = timezone.localdate() + timedelta(days=5)
    body = {"planned_on": planned_on.isoformat()}

    def send(body: dict[str, str], key: str = "removal-1") -> Any:
        return client.post(
            url, body, content_type="application/json", headers={"Idempotency-Key": key}
        )

    first, retry = send(body), send(body)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert PlannedRemoval.objects.count() == 1
    assert (
        Notification.objects.filter(kind="protection.planned_removal", recipient=alice).count() == 1
    )
    other_day = send({"planned_on": (planned_on + timedelta(days=1)).isoformat()})
    assert [e["field"] for e in api_helpers.errors(other_day)] == ["Idempotency-Key"]
    assert send(body, key="removal-2").status_code == 201
    assert PlannedRemoval.objects.count() == 2
