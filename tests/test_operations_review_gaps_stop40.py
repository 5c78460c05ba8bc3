"""Gaps found in review at stop 40 (ADR 0043 addendum of stop 40): what the board, the reception
API and the public account of an operation say of a person now.

Protected here:
- the reception API gives the age group as known now (`selectors.age_group_now`), not the
  night's impression: a person found to be a child at the referral is not "adult";
- "Placed" means a placement accepted or lived in now: a person who left their place and has a
  new request open is waiting for a bed (`selectors.standing_of`);
- a suspended (or withdrawn) reasonable grounds decision decided nothing: the public account
  counts the person as awaiting it, never as negative (`public_account._in_effect`);
- a person treated as a child on their case since the referral (an age dispute raised there) is
  never counted or shown as an adult (`selectors.age_group_now`, the board's "Child" tag).
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from opennrm.operations import selectors
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole
from opennrm.operations.public_account import SOURCE
from opennrm.policy.profiles import OutcomeKind, profile_for
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.safeguarding.models import DisputeBasis
from opennrm.safeguarding.services import age_dispute_raise
from opennrm.statistics import operation_account

from . import api_helpers as api
from . import case_factories, factories
from . import operation_helpers as op
from . import support_factories as s

pytestmark = pytest.mark.django_db


def test_the_reception_api_says_a_person_found_to_be_a_child_is_a_child(
    alice: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """A person taken in as looking adult who says on the referral's age page that they are
    under 18 is a child from then: `GET /api/v1/operations/<id>/reception`, which the police's
    and the local authority's systems read, says so, as the board and the report do (a system
    must not route a child to an adult bed or pathway)."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    with time_machine.travel(op.DURING, tick=False):
        record = op.taken_in_as_adult(alice, operation, urgent_needs=("bed_tonight",))
        referrals.draft_save_answers(
            by=alice, draft=record.draft, step=steps.STEP_BY_SLUG["age"], data={"under_18": "yes"}
        )
        record.refresh_from_db()
        assert record.treated_as_child  # the board's "Child" tag

        _, secret = api.token(alice, northmoor_police, scopes=api.EVERY_SCOPE)
        response = api.client_with(secret).get(f"/api/v1/operations/{operation.pk}/reception")
    assert response.status_code == 200, response.content
    (row,) = response.json()["items"]
    assert row["age_group"] == "child"


def test_a_person_who_left_their_place_and_needs_another_is_not_shown_placed(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
) -> None:
    """A request stays `placed` after its stay ends. A woman placed who left her safe house
    (or was moved on) is not "Placed" any more; once a coordinator raises a new request for her,
    she is "Waiting for a bed" on the board, in the reception API and in every count by
    standing, so that the lead looking for who still needs a bed does not pass her over."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = op.taken_in_as_adult(alice, operation, urgent_needs=("bed_tonight",))
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        op.submitted_as(record, case)

        (bed,) = s.beds(maya, s.site(maya, provider), 1)
        stay = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
        accommodation.placement_respond(by=maya, placement=stay, accept=True)
        today = timezone.localdate()
        accommodation.placement_arrive(by=maya, placement=stay, on=today)
        assert selectors.standing_of(record) == selectors.Standing.PLACED

        # She leaves without notice the same night: no longer placed, though her request is.
        accommodation.placement_end(by=maya, placement=stay, on=today, reason="left")
        record = selectors.reception_of(operation).get(pk=record.pk)
        assert selectors.standing_of(record) == selectors.Standing.REFERRED

        # Found the next morning, she needs a bed.
        accommodation.placement_request_raise(
            by=cora, case=case, urgency="emergency", needed_from=today
        )
        record = selectors.reception_of(operation).get(pk=record.pk)
        assert selectors.standing_of(record) == selectors.Standing.WAITING_FOR_BED


def test_a_suspended_reasonable_grounds_decision_is_not_published_as_negative(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A decision maker who cannot decide because the person went missing records a reasonable
    grounds decision "suspended" (outcome kind `not_decided`): nothing was decided, and the case
    waits for them. The operation's public account counts them as awaiting the reasonable
    grounds decision (as the operations report counts them not decided), never in the row
    "Negative reasonable grounds" nor in the main points' negative figure."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = op.taken_in_as_adult(alice, operation)
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            status=CaseStatus.RG_SUSPENDED,
        )
        op.submitted_as(record, case)
        profile = profile_for(case.jurisdiction, date(2027, 3, 12))
        suspended = next(o for o in profile.reasonable_grounds_outcomes if o.code == "suspended")
        assert suspended.kind == OutcomeKind.NOT_DECIDED
        Decision.objects.create(
            case=case,
            kind=DecisionKind.REASONABLE_GROUNDS,
            outcome=suspended.code,
            outcome_label=suspended.label,
            outcome_kind=suspended.kind,
            reasons="The person went missing before the decision.",
            decided_by=alice,
            decided_at=case.submitted_at,
            state=DecisionState.IN_EFFECT,
            policy_profile_key=profile.key,
            policy_profile_version=profile.version,
        )

    (person,) = SOURCE.account(operation.pk, date(2027, 4, 1)).people
    assert (person.rg, person.cg) == ("awaiting", operation_account.NO_CG_DUE)
    assert operation_account.decisions_of(person) == "rg_awaiting"


def test_a_person_whose_age_is_disputed_on_the_case_is_not_counted_or_shown_as_an_adult(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A person taken in as looking adult is referred as an adult; on the case, their first
    responder then records that their age is disputed (they say they are 16): the case is
    treated as a child's from then. The operation counts them as age disputed, never as an
    adult: in the public account's table by age group, in the reception API, and with the
    board's "Child" tag."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = op.taken_in_as_adult(alice, operation)
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=AgeGroup.ADULT,
        )
        op.submitted_as(record, case)
    with time_machine.travel("2027-03-20 10:00:00+00:00", tick=False):
        case.refresh_from_db()
        age_dispute_raise(
            by=alice, case=case, basis=DisputeBasis.SAYS_SO, expected_version=case.version
        )
        case.refresh_from_db()
        assert case.is_child  # treated as a child on the case from now

        record = selectors.reception_of(operation).get(pk=record.pk)
        assert selectors.age_group_now(record) == "age_disputed"

        _, secret = api.token(alice, northmoor_police, scopes=api.EVERY_SCOPE)
        response = api.client_with(secret).get(f"/api/v1/operations/{operation.pk}/reception")
        assert response.status_code == 200, response.content
        assert [row["age_group"] for row in response.json()["items"]] == ["age_disputed"]

        board = factories.signed_in_client(alice).get(
            reverse("operations:board", args=[operation.pk])
        )
        assert 'govuk-tag--red">Child</strong>' in board.content.decode()

    (person,) = SOURCE.account(operation.pk, date(2027, 4, 1)).people
    assert person.age_group == "age_disputed"
