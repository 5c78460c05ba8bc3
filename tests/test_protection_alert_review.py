"""Protection found through another referral of the person: the alert names the case its
recipients hold, never a referral they may not open."""

from __future__ import annotations

import pytest
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import CaseStatus as S
from opennrm.linkage import selectors as linkage
from opennrm.linkage.models import PairStatus
from opennrm.linkage.services import candidate_pair_review
from opennrm.notifications.models import Notification
from opennrm.protection.services import planned_removal_record

from . import case_factories, factories, linkage_helpers


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def test_alert_through_a_linked_referral_does_not_reveal_another_organisations_reference(
    alice: User,
    charlie: User,
    dmitri: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
    ivan: User,
) -> None:
    """Northmoor Police's referral (refused) and Southvale Police's (awaiting its RG decision)
    are confirmed one person. A removal planned on Northmoor's reference is now caught through
    Southvale's referral (linkage.protection.linked_source), and Southvale's first responder is
    alerted. Southvale may not open Northmoor's referral, and the case page hides it from them
    ("the other referrals ... that the actor may open", pages.case_page._linked_referrals; ADR
    0049), yet the alert's subject and body name Northmoor's reference: the existence of
    another organisation's referral of the person leaks to a first responder outside it.
    Expected: the alert to the protecting referral's side names the referral they hold."""
    refused = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    awaiting = case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        status=S.AWAITING_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(refused, awaiting)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    assert refused not in list(linkage.linked_cases(Actor.of_session(charlie), awaiting))

    recorded = planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=refused.reference,
        planned_on=timezone.localdate(),
    )
    assert recorded.protection.protected
    told = Notification.objects.filter(recipient=charlie, kind="protection.planned_removal")
    assert told.exists()
    for notification in told:
        assert refused.reference not in notification.subject + notification.body
