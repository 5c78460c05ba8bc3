"""A safe house's address is shown only to its own staff and to coordinators holding an explicit
permission (issue 6). Everyone else, whatever their role, gets no response that contains it:
this walks every page route with real ids (a site, a bed, a placement, a request, a case) for a
person in every role, and checks the notifications, the audit trail and the logs too."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from opennrm.accommodation import selectors, services
from opennrm.accommodation.models import ADDRESS_GRANT_DAYS, AddressGrant, Placement, Site
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification

from . import case_factories, factories
from . import support_factories as s

ACCESS = "/support/address-access/"
ADDRESS_PARTS = [s.ADDRESS, "Quietwater", "Hollowmere", s.POSTCODE]
# Pages that end the session: visiting them would end the walk for that person.
SESSION_ENDERS = {"accounts:sign_out", "accounts:signed_out_idle"}


def _routes(patterns: list, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((f"{namespace}{pattern.name}", route))
    return found


def leaks(text: str) -> list[str]:
    return [part for part in ADDRESS_PARTS if part.casefold() in text.casefold()]


@pytest.fixture
def placed(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> tuple[Site, Placement, Case]:
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    site = s.site(maya, provider)
    bed, _ = s.beds(maya, site, 2)
    placement = services.placement_make(by=cora, request=s.request(case), bed=bed)
    services.placement_respond(by=maya, placement=placement, accept=True)
    services.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    return site, placement, case


def _paths(site: Site, placement: Placement, case: Case) -> list[tuple[str, str]]:
    values = {
        "site_id": site.pk,
        "bed_id": placement.bed_id,
        "placement_id": placement.pk,
        "request_id": placement.request_id,
        "reference": case.reference,
        "person_id": case.person_id,
    }
    paths = []
    for name, route in _routes(get_resolver().url_patterns):
        if name.startswith(("admin:", "api:")) or name in SESSION_ENDERS:
            continue  # the API is walked on its own; signing out would end the walk
        if "<" in route and not all(
            param in values for param in re.findall(r"<(?:\w+:)?(\w+)>", route)
        ):
            continue
        filled = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
        paths.append((name, "/" + filled))
    return paths


def test_nobody_without_the_permission_is_ever_shown_the_address(
    placed: tuple[Site, Placement, Case],
    people_in_every_role: dict[Role, User],
    alice: User,
    cora: User,
    omar: User,
    dmitri: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site, placement, case = placed
    caplog.set_level(logging.DEBUG)
    paths = _paths(site, placement, case)
    assert {"support:site", "support:placement", "support:sites", "cases:detail"} <= {
        name for name, _ in paths
    }
    # Everyone but the site's own staff (the safe-house manager in every role's set works at
    # the same provider, so stands in for Maya and is left out).
    people = [
        *(p for role, p in people_in_every_role.items() if role != Role.SAFE_HOUSE_MANAGER),
        alice,
        cora,
        omar,
        dmitri,
    ]
    shown: set[tuple[str, str]] = set()
    for person in people:
        client = factories.signed_in_client(person)
        for name, path in paths:
            response = client.get(path)
            if response.status_code == 200 and not response.streaming:
                shown.add((person.email, name))
                body = response.content.decode(errors="replace")
                assert leaks(body) == [], (person.email, name)
    # The walk reached the pages that show a site, as people who may open them.
    assert {
        (cora.email, "support:site"),
        (cora.email, "support:placement"),
        (cora.email, "support:sites"),
        (cora.email, "support:request"),
        (omar.email, "support:sites"),
        (alice.email, "cases:detail"),
        (dmitri.email, "cases:detail"),
        (alice.email, "support:directory"),
    } <= shown
    # Neither notifications, nor the audit trail, nor the logs carry it.
    for notification in Notification.objects.all():
        assert leaks(notification.subject + notification.body) == []
    for event in AuditEvent.objects.all():
        assert leaks(str(event.detail)) == []
    assert leaks(caplog.text) == []


@pytest.mark.page("support:address_access")
def test_the_sites_manager_and_a_coordinator_its_provider_allowed_see_it_and_are_recorded(
    placed: tuple[Site, Placement, Case],
    maya: User,
    cora: User,
    provider: Organisation,
) -> None:
    site, placement, _ = placed
    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    page = factories.signed_in_client(cora).get(f"/support/sites/{site.pk}/")
    assert leaks(page.content.decode()) == [], "not before the request is approved"
    # Cora asks, through the page, saying why.
    coordinator = factories.signed_in_client(cora)
    refused = coordinator.post(
        ACCESS, {"action": "request", "site": site.pk, "reason": ""}
    ).content.decode()
    assert "Say why you need this address" in refused
    coordinator.post(
        ACCESS, {"action": "request", "site": site.pk, "reason": "To arrange the journey"}
    )
    grant = AddressGrant.objects.get()
    assert grant.approved is None
    assert "Waiting for a decision" in coordinator.get(ACCESS).content.decode()
    assert leaks(coordinator.get(f"/support/sites/{site.pk}/").content.decode()) == []
    # The provider's administrator approves it.
    admin_client = factories.signed_in_client(admin)
    waiting = admin_client.get(ACCESS).content.decode()
    assert "Cora Coordinator" in waiting
    assert "To arrange the journey" in waiting
    admin_client.post(ACCESS, {"action": "approve", "grant": grant.pk})
    for person in (maya, cora):
        client = factories.signed_in_client(person)
        for path in (f"/support/sites/{site.pk}/", f"/support/placements/{placement.pk}/"):
            assert s.ADDRESS in client.get(path).content.decode(), (person.email, path)
    assert AuditEvent.objects.filter(action="site.address_viewed", actor=cora).count() == 2
    assert AuditEvent.objects.filter(action="address_grant.requested", actor=cora).exists()
    assert AuditEvent.objects.filter(action="address_grant.approved", actor=admin).exists()

    admin_client.post(ACCESS, {"action": "revoke", "grant": grant.pk})
    page = factories.signed_in_client(cora).get(f"/support/sites/{site.pk}/")
    assert leaks(page.content.decode()) == []
    assert AuditEvent.objects.filter(action="address_grant.revoked", actor=admin).exists()


def test_an_administrator_cannot_grant_themselves_nor_another_providers_addresses(
    placed: tuple[Site, Placement, Case],
    provider: Organisation,
    omar: User,
    sysadmin: User,
) -> None:
    """Issue 10: a provider's administrator, also a coordinator, gave themselves the permission
    and read every provider's safe houses. Now a grant is for one site, approved by that site's
    provider, never by the one who asked, never by a system administrator's role."""
    own_site, _, _ = placed
    other_provider = Membership.objects.get(user=omar).organisation
    other_site = s.site(omar, other_provider, name="Elsewhere House")
    ada = factories.user(
        "ada@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN, full_name="Ada"
    )
    Membership.objects.create(user=ada, organisation=provider, role=Role.SUPPORT_COORDINATOR)
    client = factories.signed_in_client(ada)
    for site in (own_site, other_site):
        client.post(ACCESS, {"action": "request", "site": site.pk, "reason": "Just looking"})
    own, other = (AddressGrant.objects.get(site=site) for site in (own_site, other_site))
    # Her own requests are not hers to decide, on the page or in the service.
    assert "Requests waiting for your decision" not in client.get(ACCESS).content.decode()
    for grant in (own, other):
        assert client.post(ACCESS, {"action": "approve", "grant": grant.pk}).status_code == 404
        with pytest.raises(ValidationError, match="your own request"):
            services.address_grant_decide(by=ada, grant=grant, approve=True)
    # A system administrator alone decides nothing.
    with pytest.raises(ValidationError, match="Only an administrator of Other Shelter"):
        services.address_grant_decide(by=sysadmin, grant=other, approve=True)
    assert factories.signed_in_client(sysadmin).get(ACCESS).status_code == 404
    for site in (own_site, other_site):
        assert leaks(client.get(f"/support/sites/{site.pk}/").content.decode()) == []
    assert not selectors.may_see_address(Actor.of_session(ada), other_site)
    # Other Shelter's administrator approves for its one site: Ada sees that one only.
    other_admin = factories.user(
        "other-admin@example.org", organisation=other_provider, role=Role.ORGANISATION_ADMIN
    )
    services.address_grant_decide(by=other_admin, grant=other, approve=True)
    assert selectors.may_see_address(Actor.of_session(ada), other_site)
    assert not selectors.may_see_address(Actor.of_session(ada), own_site)
    third = s.site(omar, other_provider, name="Third House")
    assert not selectors.may_see_address(Actor.of_session(ada), third)


def test_an_emergency_grant_from_a_senior_decision_maker_lasts_a_day(
    placed: tuple[Site, Placement, Case], cora: User, authority: Organisation
) -> None:
    site, _, _ = placed
    senior = factories.user(
        "senior@example.org", organisation=authority, role=Role.SENIOR_DECISION_MAKER
    )
    routine = services.address_grant_request(
        by=cora, site=site, reason="Routine move", emergency=False
    )
    with pytest.raises(ValidationError, match="Only an administrator of Test Refuge can decide"):
        services.address_grant_decide(by=senior, grant=routine, approve=True)
    services.address_grant_revoke(by=cora, grant=routine)
    urgent = services.address_grant_request(
        by=cora, site=site, reason="Tonight, provider unreachable", emergency=True
    )
    senior_page = factories.signed_in_client(senior).get(ACCESS).content.decode()
    assert "Tonight, provider unreachable" in senior_page
    factories.signed_in_client(senior).post(ACCESS, {"action": "approve", "grant": urgent.pk})
    assert selectors.may_see_address(Actor.of_session(cora), site)
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        assert not selectors.may_see_address(Actor.of_session(cora), site)


def test_a_normal_grant_ends_by_itself(placed: tuple[Site, Placement, Case], cora: User) -> None:
    site, _, _ = placed
    s.grant_address(cora, site)
    assert selectors.may_see_address(Actor.of_session(cora), site)
    with time_machine.travel(timezone.now() + timedelta(days=ADDRESS_GRANT_DAYS, minutes=1)):
        assert not selectors.may_see_address(Actor.of_session(cora), site)


@pytest.mark.page("support:site")
def test_safe_house_managers_see_only_the_sites_they_are_assigned_to(
    placed: tuple[Site, Placement, Case], maya: User, provider: Organisation
) -> None:
    site, _, _ = placed
    second = s.site(maya, provider, name="Second House")
    mo = factories.user(
        "mo@example.org", organisation=provider, role=Role.SAFE_HOUSE_MANAGER, full_name="Mo"
    )
    client = factories.signed_in_client(mo)
    for each in (site, second):
        assert client.get(f"/support/sites/{each.pk}/").status_code == 404
        assert not selectors.may_see_address(Actor.of_session(mo), each)
    assert "Second House" not in client.get("/support/sites/").content.decode()
    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    membership = Membership.objects.get(user=mo)
    admin_client = factories.signed_in_client(admin)
    assert "Mo" in admin_client.get(ACCESS).content.decode()
    admin_client.post(ACCESS, {"action": "assign", "manager": membership.pk, "site": second.pk})
    page = client.get(f"/support/sites/{second.pk}/").content.decode()
    assert s.ADDRESS in page
    assert client.get(f"/support/sites/{site.pk}/").status_code == 404
    assert client.get(f"/support/sites/{site.pk}/change/").status_code == 404
    assert AuditEvent.objects.filter(action="site.manager_assigned", actor=admin).exists()
    admin_client.post(ACCESS, {"action": "unassign", "manager": membership.pk, "site": second.pk})
    assert client.get(f"/support/sites/{second.pk}/").status_code == 404
    # Maya, who added both sites, runs both.
    assert all(selectors.may_see_address(Actor.of_session(maya), each) for each in (site, second))


def test_the_address_is_encrypted_at_rest(placed: tuple[Site, Placement, Case]) -> None:
    site, _, _ = placed
    assert Site.objects.get(pk=site.pk).address == s.ADDRESS
    found = [row for part in ADDRESS_PARTS for row in factories.rows_containing(part)]
    assert found
    assert all(row.endswith("(decrypted)") for row in found)


def test_the_grant_ends_when_the_coordinator_leaves_or_changes_role(
    placed: tuple[Site, Placement, Case], cora: User, provider: Organisation
) -> None:
    site, _, _ = placed
    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    grant = s.grant_address(cora, site, by=admin)
    assert selectors.may_see_address(Actor.of_session(cora), site)
    membership = Membership.objects.get(user=cora, organisation=provider)
    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    # A coordinator again, elsewhere: the grant stayed with the old membership.
    elsewhere = factories.organisation("Elsewhere Shelter", "support_provider")
    Membership.objects.create(user=cora, organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    assert not selectors.may_see_address(Actor.of_session(cora), site)
    page = factories.signed_in_client(cora).get(f"/support/sites/{site.pk}/")
    assert leaks(page.content.decode()) == []
    # The administrator can still withdraw it for the record.
    services.address_grant_revoke(by=admin, grant=grant)
    assert AuditEvent.objects.filter(action="address_grant.revoked").exists()


def test_the_form_to_change_a_site_shows_its_address_and_records_that(
    placed: tuple[Site, Placement, Case], maya: User
) -> None:
    site, _, _ = placed
    page = factories.signed_in_client(maya).get(f"/support/sites/{site.pk}/change/")
    assert "Quietwater" in page.content.decode()
    assert AuditEvent.objects.filter(
        action="site.address_viewed", actor=maya, object_id=str(site.pk)
    ).exists()
