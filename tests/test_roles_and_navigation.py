"""Each role sees only its own navigation and pages; everything else is 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.accounts.roles import Role

from . import factories

ADMIN_PAGES = {"accounts:organisation_list"}
SYSTEM_ADMIN_PAGES = {"accounts:organisation_create", "audit:search"}
DATA_PROTECTION_PAGES = {
    "audit:search",
    "privacy:person_reads",
    "privacy:find",
    "privacy:retention",
}

EXPECTED_NAV = {
    Role.FIRST_RESPONDER: [
        "Home",
        "Find a case",
        "Referrals",
        "Screening",
        "Operations",
        "Notifications",
    ],
    Role.DECISION_MAKER: [
        "Home",
        "Find a case",
        "Decisions",
        "Earlier referrals",
        "Operations",
        "Notifications",
    ],
    Role.SENIOR_DECISION_MAKER: [
        "Home",
        "Find a case",
        "Decisions",
        "Earlier referrals",
        "Operations",
        "Notifications",
    ],
    Role.SUPPORT_COORDINATOR: [
        "Home",
        "Waiting for a place",
        "Placements",
        "Sites and beds",
        "Capacity",
        "Operations",
        "Notifications",
    ],
    Role.SAFE_HOUSE_MANAGER: [
        "Home",
        "Placements",
        "Sites and beds",
        "Capacity",
        "Operations",
        "Notifications",
    ],
    Role.SAFEGUARDING_LEAD: ["Home", "Find a case", "Screening", "Operations", "Notifications"],
    Role.ANALYST: [
        "Home",
        "Capacity",
        "Official tables",
        "Releases",
        "Private counts",
        "Notifications",
    ],
    Role.ORGANISATION_ADMIN: ["Home", "Organisations and users", "Notifications"],
    Role.SYSTEM_ADMIN: ["Home", "Organisations and users", "Audit trail", "Notifications"],
    Role.DATA_PROTECTION_OFFICER: [
        "Home",
        "Audit trail",
        "Data access",
        "Data requests",
        "Retention",
        "Notifications",
    ],
    # Nothing of any case: the protection check, and what every signed-in user has.
    Role.IMMIGRATION_ENFORCEMENT: ["Home", "Protection checks", "Notifications"],
}


def nav_texts(html: str) -> list[str]:
    nav = re.search(r'<ul class="govuk-service-navigation__list"[^>]*>(.*?)</ul>', html, re.S)
    if not nav:
        return []
    texts = re.findall(
        r'class="govuk-service-navigation__link"[^>]*>\s*(?:<strong[^>]*>)?\s*([^<]+?)\s*<',
        nav.group(1),
    )
    return texts


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_only_its_navigation(
    people_in_every_role: dict[Role, User], role: Role
) -> None:
    client = factories.signed_in_client(people_in_every_role[role])
    response = client.get(reverse("pages:home"))
    assert response.status_code == 200
    assert nav_texts(response.content.decode()) == EXPECTED_NAV[role]
    assert role.label in response.content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_opens_only_its_pages(people_in_every_role: dict[Role, User], role: Role) -> None:
    client = factories.signed_in_client(people_in_every_role[role])
    allowed = set()
    if role in (Role.ORGANISATION_ADMIN, Role.SYSTEM_ADMIN):
        allowed |= ADMIN_PAGES
    if role == Role.SYSTEM_ADMIN:
        allowed |= SYSTEM_ADMIN_PAGES
    if role == Role.DATA_PROTECTION_OFFICER:
        allowed |= DATA_PROTECTION_PAGES
    for route in ADMIN_PAGES | SYSTEM_ADMIN_PAGES | DATA_PROTECTION_PAGES:
        status = client.get(reverse(route)).status_code
        assert status == (200 if route in allowed else 404), (role, route, status)


def test_django_admin_is_for_system_administrators_only(
    people_in_every_role: dict[Role, User],
) -> None:
    for role, person in people_in_every_role.items():
        person.is_staff = True
        person.save()
        status = factories.signed_in_client(person).get("/django-admin/").status_code
        assert status == (200 if role == Role.SYSTEM_ADMIN else 404), role


def test_a_user_without_any_membership_sees_nothing_but_home(db: None) -> None:
    nobody = factories.user("nobody@example.org")
    client = factories.signed_in_client(nobody)
    response = client.get(reverse("pages:home"))
    assert response.status_code == 200
    assert "not part of any organisation" in response.content.decode()
    assert client.get(reverse("accounts:organisation_list")).status_code == 404


def test_a_removed_membership_takes_the_role_away(olivia: User) -> None:
    client = factories.signed_in_client(olivia)
    assert client.get(reverse("accounts:organisation_list")).status_code == 200
    olivia.memberships.update(is_active=False)
    assert client.get(reverse("accounts:organisation_list")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(db: None) -> None:
    from django.test import Client

    response = Client().get(reverse("accounts:organisation_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_only_the_deepest_matching_navigation_item_is_current(
    people_in_every_role: dict[Role, User],
) -> None:
    client = factories.signed_in_client(people_in_every_role[Role.DATA_PROTECTION_OFFICER])
    html = client.get(reverse("privacy:person_reads")).content.decode()
    current = re.findall(
        r'class="govuk-service-navigation__item govuk-service-navigation__item--active"[^>]*>'
        r"\s*<a[^>]*>\s*(?:<strong[^>]*>)?\s*([^<]+?)\s*<",
        html,
    )
    assert current == ["Data access"]


def test_the_data_protection_officer_belongs_to_the_service_operator_only() -> None:
    from opennrm.accounts.roles import ROLES_BY_KIND, OrganisationKind

    assert [
        kind for kind, roles in ROLES_BY_KIND.items() if Role.DATA_PROTECTION_OFFICER in roles
    ] == [OrganisationKind.SERVICE_OPERATOR]
