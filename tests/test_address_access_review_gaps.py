"""Paths to a safe house's address that skipped the site's provider, found by a review of
accounts and roles, and closed (ADR 18, addendum of 2026-12-05).

Threat model row 11: an address is shown to the managers assigned to the site and to coordinators
holding a live grant, approved by the site's provider, "ended by leaving or changing role", and
row 31: nobody gives themselves access alone.
"""

from __future__ import annotations

import pytest

from opennrm.accommodation import selectors, services
from opennrm.accommodation.models import AddressGrant, SiteAssignment
from opennrm.accounts import services as accounts
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent

from . import factories
from . import support_factories as s

ACCESS = "/support/address-access/"


def test_a_provider_administrator_who_is_also_a_manager_cannot_assign_themselves_to_a_site(
    provider: Organisation, maya: User
) -> None:
    """Ada administers Test Refuge and is also one of its safe-house managers. Assigning managers
    to sites is the administrator's act, and the assignment shows the site's address. She
    assigns herself, alone, to a site she was not given, and can then read its address: the
    self-grant that issue 10 closed for address grants, through the other door: refused
    (`accommodation.services.site_assignment_set` compares `membership.user` with `by`)."""
    site = s.site(maya, provider, name="Quietwater House")
    ada = factories.user(
        "ada.admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    own_manager_membership = Membership.objects.create(
        user=ada, organisation=provider, role=Role.SAFE_HOUSE_MANAGER
    )
    assert not selectors.may_see_address(Actor.of_session(ada), site)
    client = factories.signed_in_client(ada)
    response = client.post(
        ACCESS,
        {"action": "assign", "manager": own_manager_membership.pk, "site": site.pk},
        follow=True,
    )
    assert (
        "You cannot assign yourself to Quietwater House: another administrator of "
        f"{provider.name} must assign you"
    ) in response.content.decode()
    assert not SiteAssignment.objects.filter(membership=own_manager_membership).exists(), (
        "an administrator assigned themselves to a safe house, with nobody else's decision"
    )
    assert not selectors.may_see_address(Actor.of_session(ada), site)


def test_an_administrator_may_still_take_themselves_off_a_site(
    provider: Organisation, maya: User
) -> None:
    """Giving up an address needs nobody else: another administrator assigned Ada, and she
    takes herself off."""
    site = s.site(maya, provider, name="Quietwater House")
    ada, other = (
        factories.user(email, organisation=provider, role=Role.ORGANISATION_ADMIN)
        for email in ("ada.admin@example.org", "other.admin@example.org")
    )
    own_manager_membership = Membership.objects.create(
        user=ada, organisation=provider, role=Role.SAFE_HOUSE_MANAGER
    )
    services.site_assignment_set(
        by=other, membership=own_manager_membership, site=site, assigned=True
    )
    assert selectors.may_see_address(Actor.of_session(ada), site)
    services.site_assignment_set(
        by=ada, membership=own_manager_membership, site=site, assigned=False
    )
    assert not selectors.may_see_address(Actor.of_session(ada), site)


@pytest.fixture
def elsewhere_site(omar: User) -> object:
    """A safe house of another provider (Other Shelter), whose administrator decides grants."""
    other_provider = Membership.objects.get(user=omar).organisation
    return s.site(omar, other_provider, name="Elsewhere House")


@pytest.fixture
def refuge_admins(provider: Organisation) -> tuple[User, User]:
    return (
        factories.user(
            "first.admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
        ),
        factories.user(
            "second.admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
        ),
    )


def test_an_address_grant_ended_by_removing_the_coordinator_does_not_come_back_with_them(
    cora: User, elsewhere_site, refuge_admins: tuple[User, User]
) -> None:
    """Cora (a Test Refuge coordinator) was allowed Elsewhere House's address by Other Shelter.
    Test Refuge removes her access, which ends the grant ("ended by leaving"). When Test Refuge
    gives her access back, Other Shelter has decided nothing new, so the old grant must stay
    ended: `live_address_grants` filters on the membership's *current* state, so it used to be
    only hidden, never ended."""
    s.grant_address(cora, elsewhere_site)
    assert selectors.may_see_address(Actor.of_session(cora), elsewhere_site)
    first, second = refuge_admins
    membership = Membership.objects.get(user=cora, role=Role.SUPPORT_COORDINATOR)
    accounts.membership_set_active(by=first, membership=membership, active=False)
    assert not selectors.may_see_address(Actor.of_session(cora), elsewhere_site)
    # Ended, by whoever removed her, and the removal's event says how many.
    assert AddressGrant.objects.get(membership=membership).revoked_by == first
    event = AuditEvent.objects.filter(action="membership.deactivated").latest("pk")
    assert event.detail["address_grants_ended"] == 1
    accounts.membership_set_active(by=second, membership=membership, active=True)
    assert not selectors.may_see_address(Actor.of_session(cora), elsewhere_site), (
        "a grant ended by removing the coordinator came back without the site's provider"
    )


def test_an_address_grant_ended_by_a_role_change_does_not_come_back_with_the_role(
    cora: User, elsewhere_site, refuge_admins: tuple[User, User]
) -> None:
    """The same through a role change: coordinator -> safe-house manager ends the grant ("ended
    by changing role"); changed back to coordinator, the old grant must not show the address
    again."""
    s.grant_address(cora, elsewhere_site)
    first, _ = refuge_admins
    membership = Membership.objects.get(user=cora, role=Role.SUPPORT_COORDINATOR)
    accounts.membership_change_role(by=first, membership=membership, role=Role.SAFE_HOUSE_MANAGER)
    assert not selectors.may_see_address(Actor.of_session(cora), elsewhere_site)
    assert AddressGrant.objects.get(membership=membership).revoked_by == first
    event = AuditEvent.objects.filter(action="membership.role_changed").latest("pk")
    assert event.detail["address_grants_ended"] == 1
    membership.refresh_from_db()
    accounts.membership_change_role(by=first, membership=membership, role=Role.SUPPORT_COORDINATOR)
    assert not selectors.may_see_address(Actor.of_session(cora), elsewhere_site), (
        "a grant ended by changing role came back when the role was changed back"
    )
