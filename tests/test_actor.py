"""Who is acting: the one definition of the memberships in force, and of a token's narrowing."""

from __future__ import annotations

import pytest

from opennrm.accounts import access
from opennrm.accounts.actor import DECIDERS, Actor, members_with_role
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.api.selectors import token_actor

from . import api_helpers as a
from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_hats(northmoor_police: Organisation, provider: Organisation) -> User:
    """A first responder at Northmoor Police who also coordinates support at Test Refuge."""
    person = factories.user(
        "two.hats@example.org", organisation=northmoor_police, role=Role.FIRST_RESPONDER
    )
    Membership.objects.create(
        user=person, organisation=provider, role=Role.SUPPORT_COORDINATOR, is_active=True
    )
    return person


def test_a_session_acts_through_every_membership_in_force(
    two_hats: User, northmoor_police: Organisation, provider: Organisation
) -> None:
    actor = Actor.of_session(two_hats)
    assert actor.roles == {Role.FIRST_RESPONDER, Role.SUPPORT_COORDINATOR}
    assert set(actor.organisations_as({Role.SUPPORT_COORDINATOR})) == {provider.pk}


def test_a_token_acts_only_through_its_organisation(
    two_hats: User, northmoor_police: Organisation, provider: Organisation
) -> None:
    token, _ = a.token(two_hats, northmoor_police)
    actor = token_actor(token)
    assert actor.roles == {Role.FIRST_RESPONDER}
    assert not access.may_use(actor, access.COORDINATORS)
    assert access.may_use(Actor.of_session(two_hats), access.COORDINATORS)


def test_a_membership_of_an_inactive_organisation_is_not_in_force(
    two_hats: User, provider: Organisation
) -> None:
    provider.is_active = False
    provider.save(update_fields=["is_active"])
    assert Actor.of_session(two_hats).roles == {Role.FIRST_RESPONDER}
    assert not members_with_role(provider.pk, {Role.SUPPORT_COORDINATOR}).exists()


def test_an_inactive_user_holds_no_role(two_hats: User, northmoor_police: Organisation) -> None:
    two_hats.is_active = False
    two_hats.save(update_fields=["is_active"])
    assert Actor.of_session(two_hats).roles == frozenset()
    assert not members_with_role(northmoor_police.pk, {Role.FIRST_RESPONDER}).exists()


def test_the_decision_makers_are_one_set_everywhere() -> None:
    assert {Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER} == DECIDERS
    assert access.DECIDERS.roles == DECIDERS
    assert access.CASE_READERS.roles >= DECIDERS
