"""Fictional organisations and one account per role, for demonstrations and browser tests.

No organisation or person here is real. Later features add their own `seed` steps, called from
the `demo_data` command after this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from opennrm.audit.services import audit_record

from .models import Membership, Organisation, User
from .roles import Jurisdiction, OrganisationKind, Role

DEMO_PASSWORD = "opennrm-demo-only"  # noqa: S105 - printed for demo mode, refused elsewhere


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    kind: OrganisationKind
    area: str
    jurisdiction: Jurisdiction = Jurisdiction.ENGLAND_AND_WALES


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    organisation: str
    role: Role


ORGANISATIONS = [
    DemoOrganisation(
        "police", "Northmoor Constabulary", OrganisationKind.STATUTORY_FIRST_RESPONDER, "Northmoor"
    ),
    DemoOrganisation(
        "council", "Riverside Borough Council", OrganisationKind.LOCAL_AUTHORITY, "Riverside"
    ),
    DemoOrganisation(
        "charity",
        "Harbour Light Outreach",
        OrganisationKind.NON_STATUTORY_FIRST_RESPONDER,
        "Northmoor",
    ),
    DemoOrganisation(
        "authority",
        "Eastgate Competent Authority",
        OrganisationKind.COMPETENT_AUTHORITY,
        "National",
    ),
    DemoOrganisation(
        "detention",
        "Harbourside Detention Decisions Unit",
        OrganisationKind.COMPETENT_AUTHORITY,
        "National",
    ),
    DemoOrganisation(
        "county", "Northmoor County Council", OrganisationKind.LOCAL_AUTHORITY, "Northmoor"
    ),
    DemoOrganisation(
        "provider", "Lanternhouse Refuge Trust", OrganisationKind.SUPPORT_PROVIDER, "North"
    ),
    DemoOrganisation(
        "guardians",
        "Riverside Child Guardian Service",
        OrganisationKind.CHILD_GUARDIAN_SERVICE,
        "Riverside",
    ),
    DemoOrganisation(
        "analysts", "Open Figures Monitoring Unit", OrganisationKind.ANALYSIS_MONITORING, "National"
    ),
    DemoOrganisation(
        "operator", "OpenNRM Service Desk", OrganisationKind.SERVICE_OPERATOR, "National"
    ),
    DemoOrganisation(
        "enforcement",
        "Westport Immigration Enforcement",
        OrganisationKind.IMMIGRATION_ENFORCEMENT,
        "National",
    ),
]

ACCOUNTS = [
    DemoAccount("responder@demo.opennrm.test", "Dana Whitfield", "police", Role.FIRST_RESPONDER),
    DemoAccount("outreach@demo.opennrm.test", "Sam Okafor", "charity", Role.FIRST_RESPONDER),
    DemoAccount("decisions@demo.opennrm.test", "Priya Lancaster", "authority", Role.DECISION_MAKER),
    DemoAccount(
        "senior@demo.opennrm.test", "Tom Haverley", "authority", Role.SENIOR_DECISION_MAKER
    ),
    DemoAccount(
        "coordinator@demo.opennrm.test", "Grace Ellery", "provider", Role.SUPPORT_COORDINATOR
    ),
    DemoAccount(
        "safehouse@demo.opennrm.test", "Marta Quinlan", "provider", Role.SAFE_HOUSE_MANAGER
    ),
    DemoAccount(
        "safeguarding@demo.opennrm.test", "Ravi Dunmore", "council", Role.SAFEGUARDING_LEAD
    ),
    DemoAccount("guardian@demo.opennrm.test", "Nell Ashby", "guardians", Role.SAFEGUARDING_LEAD),
    DemoAccount("analyst@demo.opennrm.test", "Owen Petrakis", "analysts", Role.ANALYST),
    # A second analyst: a release needs one to prepare it and another to approve it (ADR 36).
    DemoAccount("analyst2@demo.opennrm.test", "Hana Brightwater", "analysts", Role.ANALYST),
    DemoAccount("orgadmin@demo.opennrm.test", "Lucy Farrant", "police", Role.ORGANISATION_ADMIN),
    DemoAccount("sysadmin@demo.opennrm.test", "Jordan Keel", "operator", Role.SYSTEM_ADMIN),
    DemoAccount("dpo@demo.opennrm.test", "Imogen Sallow", "operator", Role.DATA_PROTECTION_OFFICER),
    # A second officer: an erasure needs one to record the request and another to approve it
    # (ADR 14, addendum of stop 42).
    DemoAccount(
        "dpo2@demo.opennrm.test", "Rowan Featherstone", "operator", Role.DATA_PROTECTION_OFFICER
    ),
    # Checks protection from removal by reference, and sees nothing else (ADR 40).
    DemoAccount(
        "enforcement@demo.opennrm.test",
        "Callum Reyes",
        "enforcement",
        Role.IMMIGRATION_ENFORCEMENT,
    ),
]


@transaction.atomic
def seed() -> list[DemoAccount]:
    """Create or refresh the demo organisations and accounts. Safe to run any number of times."""
    organisations: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        organisations[spec.key], _ = Organisation.objects.update_or_create(
            name=spec.name,
            defaults={"kind": spec.kind, "jurisdiction": spec.jurisdiction, "area": spec.area},
        )
    created = 0
    for account in ACCOUNTS:
        is_admin = account.role == Role.SYSTEM_ADMIN
        user, was_created = User.objects.get_or_create(
            email=account.email,
            defaults={"full_name": account.full_name, "is_demo_account": True},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            created += 1
        user.full_name = account.full_name
        user.is_demo_account = True
        user.is_staff = user.is_superuser = is_admin
        user.save()
        Membership.objects.update_or_create(
            user=user,
            organisation=organisations[account.organisation],
            role=account.role,
            defaults={"is_active": True},
        )
    audit_record(by=None, action="demo_data.loaded", detail={"accounts_created": created})
    return ACCOUNTS
