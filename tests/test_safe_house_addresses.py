"""A safe house's address is shown only to its own staff and to coordinators holding an explicit
permission (issue 6). Everyone else, whatever their role, gets no response that contains it:
this walks every page route with real ids (a site, a bed, a placement, a request, a case) for a
person in every role, and checks the notifications, the audit trail and the logs too."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.support import services
from opennrm.support.models import Placement, Site

from . import case_factories, factories
from . import support_factories as s

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


def test_the_sites_own_staff_and_a_permitted_coordinator_see_it_and_are_recorded(
    placed: tuple[Site, Placement, Case],
    maya: User,
    cora: User,
    provider: Organisation,
) -> None:
    site, placement, _ = placed
    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    for person in (maya, cora):
        page = factories.signed_in_client(person).get(f"/support/sites/{site.pk}/")
        if person == cora:
            assert leaks(page.content.decode()) == [], "not before the permission is granted"
    admin_client = factories.signed_in_client(admin)
    assert "Cora Coordinator" in admin_client.get("/support/address-access/").content.decode()
    admin_client.post("/support/address-access/", {"user": cora.pk, "action": "grant"})
    for person in (maya, cora):
        client = factories.signed_in_client(person)
        for path in (f"/support/sites/{site.pk}/", f"/support/placements/{placement.pk}/"):
            assert s.ADDRESS in client.get(path).content.decode(), (person.email, path)
    assert AuditEvent.objects.filter(action="site.address_viewed", actor=cora).count() == 2
    assert AuditEvent.objects.filter(action="address_permission.granted", actor=admin).exists()

    admin_client.post("/support/address-access/", {"user": cora.pk, "action": "revoke"})
    page = factories.signed_in_client(cora).get(f"/support/sites/{site.pk}/")
    assert leaks(page.content.decode()) == []


def test_only_an_administrator_of_the_coordinators_organisation_may_grant(
    cora: User, olivia: User, maya: User
) -> None:
    from django.core.exceptions import ValidationError

    for person in (olivia, maya, cora):
        with pytest.raises(ValidationError, match="organisations you administer"):
            services.address_permission_grant(by=person, coordinator=cora)


def test_the_address_is_encrypted_at_rest(placed: tuple[Site, Placement, Case]) -> None:
    site, _, _ = placed
    assert Site.objects.get(pk=site.pk).address == s.ADDRESS
    found = [row for part in ADDRESS_PARTS for row in factories.rows_containing(part)]
    assert found
    assert all(row.endswith("(decrypted)") for row in found)


def test_the_permission_ends_when_the_coordinator_leaves_or_changes_role(
    placed: tuple[Site, Placement, Case], cora: User, provider: Organisation
) -> None:
    from opennrm.accounts.models import Membership
    from opennrm.support import selectors

    site, _, _ = placed
    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    services.address_permission_grant(by=admin, coordinator=cora)
    assert selectors.may_see_address(cora, site)
    membership = Membership.objects.get(user=cora, organisation=provider)
    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    # A coordinator again, elsewhere: the permission stayed with the old membership.
    elsewhere = factories.organisation("Elsewhere Shelter", "support_provider")
    Membership.objects.create(user=cora, organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    assert not selectors.may_see_address(cora, site)
    page = factories.signed_in_client(cora).get(f"/support/sites/{site.pk}/")
    assert leaks(page.content.decode()) == []
    # The administrator can still withdraw it for the record.
    services.address_permission_revoke(by=admin, coordinator=cora)
    assert AuditEvent.objects.filter(action="address_permission.revoked").exists()


def test_the_form_to_change_a_site_shows_its_address_and_records_that(
    placed: tuple[Site, Placement, Case], maya: User
) -> None:
    site, _, _ = placed
    page = factories.signed_in_client(maya).get(f"/support/sites/{site.pk}/change/")
    assert "Quietwater" in page.content.decode()
    assert AuditEvent.objects.filter(
        action="site.address_viewed", actor=maya, object_id=str(site.pk)
    ).exists()
