"""Review of stop 43, privacy: a public service still erased a person in one step.

Erasure takes two data-protection officers since stop 42 (ADR 0014): one records the request,
another approves it. `privacy.services.person_erase`, kept for the tests, erased at once with
one officer, and being public it could have been wired to a page, a command or the API. It is
gone, and tests erase a person the way the product does,
`factories.person_erased`.
"""

from __future__ import annotations

import contextlib
import inspect

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.privacy import services
from opennrm.privacy.models import Erasure, ErasureRequest, ErasureRequestStatus

from . import case_factories, factories


def _closed(alice: User, police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=police,
        authority=authority,
        status=CaseStatus.CLOSED,
        closed_at=timezone.now(),
    )


def test_no_public_privacy_service_erases_a_request_with_one_officer(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Every public service of privacy that takes a person's request to erase (a person, the
    request's reference and the day it was received), called by one officer, erases nothing:
    before, `person_erase` erased at once."""
    case = _closed(alice, northmoor_police, authority)
    takes_a_request = {
        name: fn
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__
        and not name.startswith("_")
        and {"person", "request_reference", "request_received_on"}
        <= set(inspect.signature(fn).parameters)
    }
    assert "erasure_request_record" in takes_a_request
    for name, fn in takes_a_request.items():
        # Refused (a request already awaiting) is fine too: what matters is nothing erased.
        with contextlib.suppress(ValidationError):
            fn(
                by=dpo,
                person=case.person,
                request_reference=f"DPR-{name}",
                request_received_on=timezone.localdate(),
            )
        assert not Erasure.objects.exists(), f"{name} erased with one officer"


def test_the_factory_erases_through_two_officers(
    alice: User,
    dpo: User,
    second_dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """`factories.person_erased` takes the product's route: the request recorded by one
    officer, approved by another, who erases; the audit trail says so."""
    case = _closed(alice, northmoor_police, authority)
    erasure = factories.person_erased(
        case.person, recorded_by=dpo, approved_by=second_dpo, request_reference="DPR-43"
    )
    assert (erasure.by, erasure.request_reference) == (second_dpo, "DPR-43")
    request = ErasureRequest.objects.get(person=case.person)
    assert (request.status, request.requested_by, request.decided_by, request.erasure) == (
        ErasureRequestStatus.CARRIED_OUT,
        dpo,
        second_dpo,
        erasure,
    )
    assert AuditEvent.objects.get(action="person.erasure_requested").actor == dpo
    erased = AuditEvent.objects.get(action="person.erased")
    assert (erased.actor, erased.detail["requested_by"]) == (second_dpo, dpo.pk)


def test_the_factory_refused_then_called_again_approves_the_request_awaiting(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Refused while a case is open, the request stays awaiting and nothing is erased; once the
    case is closed the next call approves that request (by a second officer the factory makes),
    rather than failing to record another."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    with pytest.raises(ValidationError, match=f"must close case {case.reference}"):
        factories.person_erased(case.person, recorded_by=dpo)
    assert not Erasure.objects.exists()
    assert ErasureRequest.objects.get().status == ErasureRequestStatus.AWAITING_APPROVAL

    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=timezone.now())
    erasure = factories.person_erased(case.person, recorded_by=dpo)
    request = ErasureRequest.objects.get()
    assert (request.status, request.requested_by, request.erasure) == (
        ErasureRequestStatus.CARRIED_OUT,
        dpo,
        erasure,
    )
    assert erasure.by not in (None, dpo)
