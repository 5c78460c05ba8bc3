"""A person taken in as a child or as age disputed during an operation (children's services
told at once) is never referred as an adult: only an age assessment after referral can move
them to the adult pathway (ADR 0025)."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.safeguarding.models import ChildrenServicesTask
from tests import factories
from tests import operation_helpers as op
from tests import referral_helpers as r


@pytest.fixture
def taken_in(alice: User, northmoor_police: Organisation, council: Organisation):
    """A person taken in as age disputed, with a bed needed tonight."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    with time_machine.travel(op.DURING, tick=False):
        return operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="girl in grey hoodie",
            sex="female",
            age_group="age_disputed",
            urgent_needs=["bed_tonight"],
            interpreter_needed=True,
        )


def _answer(alice: User, draft, pages) -> object:
    for slug, data in pages.items():
        draft = referrals.draft_save_answers(
            by=alice, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    return draft


def test_the_draft_of_a_person_taken_in_as_age_disputed_is_presumed_a_child(taken_in) -> None:
    assert taken_in.draft.presumed_child is True


def test_a_person_taken_in_as_age_disputed_cannot_be_referred_as_an_adult(
    alice: User, routing: Organisation, taken_in
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        draft = _answer(alice, taken_in.draft, r.ADULT_REFERRAL)
        with pytest.raises(ValidationError, match="treated as a child until an age assessment"):
            referrals.referral_submit(by=alice, draft=draft)
        assert not Case.objects.exists()
        assert not PlacementRequest.objects.exists()
        # Answered as the reception judged: a presumed child, whose need goes to children's
        # services, never to adult matching.
        draft = _answer(alice, draft, {"age": r.AGE_DISPUTED, "person": r.CHILD_PERSON})
        draft = _answer(alice, draft, {"needs": r.NEEDS})
        case = referrals.referral_submit(by=alice, draft=draft).case
    assert case is not None
    assert case.age_group != AgeGroup.ADULT
    assert not PlacementRequest.objects.filter(case=case).exists()
    assert ChildrenServicesTask.objects.filter(case=case).exists()


def test_the_check_answers_page_says_why_the_submission_is_refused(
    alice: User, routing: Organisation, taken_in
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        draft = _answer(alice, taken_in.draft, r.ADULT_REFERRAL)
        response = factories.signed_in_client(alice).post(
            reverse("referrals:check_answers", args=[draft.public_id])
        )
    assert response.status_code == 200
    assert "treated as a child until an age assessment says otherwise" in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert not Case.objects.exists()


def test_a_person_taken_in_as_an_adult_is_referred_as_one(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="man in blue",
            sex="male",
            age_group="adult",
            urgent_needs=[],
            interpreter_needed=False,
        )
        assert record.draft.presumed_child is False
        draft = _answer(alice, record.draft, r.ADULT_REFERRAL)
        case = referrals.referral_submit(by=alice, draft=draft).case
    assert case is not None
    assert case.age_group == AgeGroup.ADULT
