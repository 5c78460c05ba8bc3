"""Roles, organisation kinds and scopes: who may do what is data, read from these tables."""

from __future__ import annotations

from django.db import models


class OrganisationKind(models.TextChoices):
    STATUTORY_FIRST_RESPONDER = "statutory_first_responder", "Statutory first responder"
    NON_STATUTORY_FIRST_RESPONDER = "non_statutory_first_responder", "Non-statutory first responder"
    COMPETENT_AUTHORITY = "competent_authority", "Competent authority"
    SUPPORT_PROVIDER = "support_provider", "Support provider"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    CHILD_GUARDIAN_SERVICE = "child_guardian_service", "Child guardian service"
    ANALYSIS_MONITORING = "analysis_monitoring", "Analysis and monitoring"
    SERVICE_OPERATOR = "service_operator", "Service operator"
    # Checks, before a removal, whether a person is protected by the NRM; sees nothing else.
    IMMIGRATION_ENFORCEMENT = "immigration_enforcement", "Immigration enforcement"


class Jurisdiction(models.TextChoices):
    ENGLAND_AND_WALES = "england_and_wales", "England and Wales"
    SCOTLAND = "scotland", "Scotland"
    NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"


class Role(models.TextChoices):
    FIRST_RESPONDER = "first_responder", "First responder"
    DECISION_MAKER = "decision_maker", "Decision maker"
    SENIOR_DECISION_MAKER = "senior_decision_maker", "Senior decision maker"
    SUPPORT_COORDINATOR = "support_coordinator", "Support coordinator"
    SAFE_HOUSE_MANAGER = "safe_house_manager", "Safe-house manager"
    SAFEGUARDING_LEAD = "safeguarding_lead", "Local authority safeguarding lead"
    ANALYST = "analyst", "Analyst"
    ORGANISATION_ADMIN = "organisation_admin", "Organisation administrator"
    SYSTEM_ADMIN = "system_admin", "System administrator"
    DATA_PROTECTION_OFFICER = "data_protection_officer", "Data protection officer"
    IMMIGRATION_ENFORCEMENT = "immigration_enforcement", "Immigration enforcement officer"


class Scope(models.TextChoices):
    """Which records a role reaches: those linked to the member's organisation, or all."""

    ORGANISATION = "organisation", "My organisation's records"
    ALL = "all", "All records"


ROLE_SCOPE: dict[Role, Scope] = {
    Role.FIRST_RESPONDER: Scope.ORGANISATION,
    Role.DECISION_MAKER: Scope.ORGANISATION,
    Role.SENIOR_DECISION_MAKER: Scope.ORGANISATION,
    # Coordinators place people in beds anywhere in the country.
    Role.SUPPORT_COORDINATOR: Scope.ALL,
    Role.SAFE_HOUSE_MANAGER: Scope.ORGANISATION,
    Role.SAFEGUARDING_LEAD: Scope.ORGANISATION,
    # Analysts see every record, but only ever in anonymised, aggregated form.
    Role.ANALYST: Scope.ALL,
    Role.ORGANISATION_ADMIN: Scope.ORGANISATION,
    Role.SYSTEM_ADMIN: Scope.ALL,
    # The data-protection officer sees who looked at any person's data, never the data itself.
    Role.DATA_PROTECTION_OFFICER: Scope.ALL,
    # An immigration enforcement officer checks any reference they are given, but learns only
    # whether removal must not proceed (protection.selectors, ADR 0040).
    Role.IMMIGRATION_ENFORCEMENT: Scope.ALL,
}

_FIRST_RESPONDER_KINDS = {
    OrganisationKind.STATUTORY_FIRST_RESPONDER,
    OrganisationKind.NON_STATUTORY_FIRST_RESPONDER,
    OrganisationKind.LOCAL_AUTHORITY,
}

# Which roles make sense in which kind of organisation. An organisation administrator can exist
# anywhere; a decision maker only in a competent authority.
ROLES_BY_KIND: dict[OrganisationKind, frozenset[Role]] = {
    OrganisationKind.STATUTORY_FIRST_RESPONDER: frozenset(
        {Role.FIRST_RESPONDER, Role.ORGANISATION_ADMIN}
    ),
    OrganisationKind.NON_STATUTORY_FIRST_RESPONDER: frozenset(
        {Role.FIRST_RESPONDER, Role.ORGANISATION_ADMIN}
    ),
    OrganisationKind.COMPETENT_AUTHORITY: frozenset(
        {Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER, Role.ORGANISATION_ADMIN}
    ),
    OrganisationKind.SUPPORT_PROVIDER: frozenset(
        {Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER, Role.ORGANISATION_ADMIN}
    ),
    OrganisationKind.LOCAL_AUTHORITY: frozenset(
        {Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD, Role.ORGANISATION_ADMIN}
    ),
    OrganisationKind.CHILD_GUARDIAN_SERVICE: frozenset(
        {Role.SAFEGUARDING_LEAD, Role.ORGANISATION_ADMIN}
    ),
    OrganisationKind.ANALYSIS_MONITORING: frozenset({Role.ANALYST, Role.ORGANISATION_ADMIN}),
    # The data-protection officer belongs to the service operator only: the role's scope is the
    # whole service, which no other organisation's officer should have (see ADR 0011).
    OrganisationKind.SERVICE_OPERATOR: frozenset(
        {Role.SYSTEM_ADMIN, Role.ORGANISATION_ADMIN, Role.DATA_PROTECTION_OFFICER}
    ),
    OrganisationKind.IMMIGRATION_ENFORCEMENT: frozenset(
        {Role.IMMIGRATION_ENFORCEMENT, Role.ORGANISATION_ADMIN}
    ),
}

# Kinds whose public-body status carries the duty to notify (used by the referral journey).
DUTY_TO_NOTIFY_KINDS = frozenset(
    {OrganisationKind.STATUTORY_FIRST_RESPONDER, OrganisationKind.LOCAL_AUTHORITY}
)

# Roles allowed to administer the members of their own organisation (or every organisation).
ADMIN_ROLES = frozenset({Role.ORGANISATION_ADMIN, Role.SYSTEM_ADMIN})

# Who acts for a support provider in its work with people (adding and holding places for an
# operation, asking for a reconsideration and reading back what was sent with it): its support
# coordinators and safe-house managers, never its organisation administrators alone.
SUPPORT_PROVIDER_STAFF = frozenset({Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER})


def roles_allowed_in(kind: str) -> list[Role]:
    allowed = ROLES_BY_KIND[OrganisationKind(kind)]
    return [role for role in Role if role in allowed]
