"""Erasure, on request or when the retention period ends, reaches every app that holds what
identifies the person (each empties its own tables, `*_pseudonymise`; privacy orchestrates),
and waits while support is still under way, a child's included (docs/adr/0014, 0025, 0043)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation.models import PlacementRequest, PlacementRequestStatus
from opennrm.accounts.models import Organisation, User
from opennrm.cases import services as case_services
from opennrm.cases.choices import CloseReason
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.operations import services as operations
from opennrm.operations.models import ReceptionRecord
from opennrm.privacy import selectors, services
from opennrm.privacy.models import Erasure
from opennrm.referrals import services as referral_services
from opennrm.referrals import steps
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import ChildrenServicesTask, TaskStatus

from . import factories
from . import operation_helpers as op
from . import referral_helpers as r

NAME = "Wendeloria Quarstenbrook"
CLOSED_AT = datetime(2027, 5, 3, 10, 0, tzinfo=timezone.get_fixed_timezone(0))
ERASED_AT = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


# --- Taken in during an operation ------------------------------------------------------------


def taken_in_referred_and_closed(alice: User, dmitri: User, police: Organisation) -> Case:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, police)
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description=NAME,
            sex="female",
            age_group="adult",
            language="ro",
        )
        draft = record.draft
        assert draft is not None
        pages = {
            **r.ADULT_REFERRAL,
            "person": {**r.PERSON, "given_names": "Wendeloria", "family_name": "Quarstenbrook"},
        }
        for slug, data in pages.items():
            draft = referral_services.draft_save_answers(
                by=alice, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
            )
        case = referral_services.referral_submit(by=alice, draft=draft).case
    assert case is not None
    PlacementRequest.objects.filter(case=case).update(status=PlacementRequestStatus.WITHDRAWN)
    with time_machine.travel(CLOSED_AT, tick=False):
        decisions.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="withdrawn", reasons="Left.", expected_version=1
        )
        case.refresh_from_db()
        return case_services.case_close(
            by=dmitri, case=case, reason=CloseReason.LEFT, expected_version=case.version
        )


def test_the_name_given_when_taken_in_is_exported_then_erased(
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    routing: Organisation,
    settings,
    tmp_path: Path,
) -> None:
    """A person taken in during an operation keeps their name (or a description of them) in the
    operation's reception record: the subject access export shows it, and erasure empties it;
    the record itself stays, for the operation's figures."""
    settings.PRIVATE_FILES_DIR = tmp_path
    case = taken_in_referred_and_closed(alice, dmitri, northmoor_police)
    assert factories.rows_containing(NAME), "the name was stored"
    with time_machine.travel(ERASED_AT):
        data = services.subject_access_export(
            by=dpo, person=case.person, request_reference="DPR-2027-0001"
        )
        taken_in = data["cases"][0]["taken_in"]
        assert taken_in["name_or_description"] == NAME
        assert taken_in["taken_in_by_organisation"] == northmoor_police.name
        assert taken_in["sex"] == "Female"
        assert alice.full_name not in str(data)
        erasure = factories.person_erased(
            case.person,
            recorded_by=dpo,
            request_reference="DPR-2027-0001",
            request_received_on=date(2027, 5, 20),
        )
    assert erasure.removed["reception_names"] == 1
    assert factories.rows_containing(NAME) == []
    record = ReceptionRecord.objects.get(draft__case=case)
    assert (record.name_or_description, record.sex, record.language) == ("", "female", "ro")
    with time_machine.travel(ERASED_AT):
        data = services.subject_access_export(
            by=dpo, person=case.person, request_reference="DPR-2027-0002"
        )
    assert data["cases"][0]["taken_in"]["name_or_description"] == ""


def test_a_case_not_taken_in_during_an_operation_exports_no_reception(
    dpo: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    from . import case_factories

    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    data = services.subject_access_export(by=dpo, person=case.person, request_reference="DPR-4")
    assert data["cases"][0]["taken_in"] is None


# --- A child whose accommodation children's services are still arranging -----------------------


def child_referred_then_closed(alice: User, dmitri: User, police: Organisation) -> Case:
    pages = {**r.CHILD_REFERRAL, "needs": r.NEEDS}
    draft = r.draft_through_services(alice, police, pages)
    case = referral_services.referral_submit(by=alice, draft=draft).case
    assert case is not None
    decisions.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="withdrawn", reasons="Left.", expected_version=1
    )
    case.refresh_from_db()
    # A child's case is closed only once children's services have done their task; a case
    # closed before that rule (or data upgraded from before it) can still have one open.
    tasks = ChildrenServicesTask.objects.filter(case=case, status=TaskStatus.OPEN)
    open_ids = list(tasks.values_list("pk", flat=True))
    tasks.update(status=TaskStatus.DONE, done_at=timezone.now())
    closed = case_services.case_close(
        by=dmitri, case=case, reason=CloseReason.LEFT, expected_version=case.version
    )
    ChildrenServicesTask.objects.filter(pk__in=open_ids).update(
        status=TaskStatus.OPEN, done_at=None
    )
    return closed


def test_a_childs_details_wait_until_children_services_have_housed_them(
    alice: User,
    dmitri: User,
    dpo: User,
    lena: User,
    northmoor_police: Organisation,
    routing: Organisation,
) -> None:
    """A child's accommodation is children's services' task, not a request for a place (ADR
    25): while that task is open they are still arranging the child's safe place and need the
    child's identity, contacts and safety profile, so neither a request nor the retention period
    erases them. Once the task is done, erasure goes ahead."""
    case = child_referred_then_closed(alice, dmitri, northmoor_police)
    assert case.is_child
    task = ChildrenServicesTask.objects.get(case=case, status=TaskStatus.OPEN)
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="children's services are still arranging their"):
        factories.person_erased(
            case.person,
            recorded_by=dpo,
            request_reference="DPR-2026-0002",
            request_received_on=today,
        )
    long_after = today.replace(year=today.year + 10)
    assert not selectors.people_past_retention(long_after).filter(pk=case.person_id).exists()
    assert services.retention_apply(today=long_after).people_pseudonymised == 0
    assert not Erasure.objects.exists()

    safeguarding.children_services_task_done(by=lena, task=task, outcome="Foster placement")
    assert selectors.people_past_retention(long_after).filter(pk=case.person_id).exists()
    factories.person_erased(
        case.person, recorded_by=dpo, request_reference="DPR-2026-0002", request_received_on=today
    )
    assert Erasure.objects.filter(person=case.person).exists()
