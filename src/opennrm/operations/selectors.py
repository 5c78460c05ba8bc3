"""Reads of operations, always starting from who asks.

`operations_visible_to(actor)` is the one rule of who sees an operation (ADR 0039): the members
of its lead organisation and of the organisations invited to it, in a role that works on
operations (`READER_ROLES`). Every page, API route, count and list of operations starts from
it; everyone else gets 404, exactly as for an operation that does not exist.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.access import OPERATION_READERS
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import OrganisationKind, Role

from .forecast import expected_by_group
from .history import OperationForecast, operation_forecast
from .models import PARTNER_KINDS, AgeGroup, ExpectedGroup, Operation, OperationPartner
from .surge import surge_by_kind

# Who plans an operation, by the kind of organisation that leads it: a police force (a
# statutory first responder) through its first responders, a competent authority through its
# senior decision makers (ADR 0039).
PLANNING_ROLES: dict[OrganisationKind, frozenset[Role]] = {
    OrganisationKind.STATUTORY_FIRST_RESPONDER: frozenset({Role.FIRST_RESPONDER}),
    OrganisationKind.COMPETENT_AUTHORITY: frozenset({Role.SENIOR_DECISION_MAKER}),
}

# The roles through which a member of the lead or of an invited organisation sees it (the access
# table's rule for the operations pages). Analysts, administrators and the data-protection
# officer have no operational need to know.
READER_ROLES: frozenset[Role] = OPERATION_READERS.roles


def organisations_planning_for(actor: Actor) -> QuerySet[Organisation]:
    """The organisations the actor may plan an operation for (lead)."""
    ids = [
        membership.organisation_id
        for membership in actor.memberships()
        if membership.role in PLANNING_ROLES.get(OrganisationKind(membership.organisation.kind), ())
    ]
    return Organisation.objects.filter(id__in=ids)


def operations_visible_to(actor: Actor) -> QuerySet[Operation]:
    """Every operation the actor may see: led by, or invited to, one of the organisations in
    which they hold a reader role. Confidential or not, no one else sees an operation."""
    organisations = actor.organisations_as(READER_ROLES)
    invited = OperationPartner.objects.filter(organisation_id__in=organisations).values(
        "operation_id"
    )
    return Operation.objects.filter(
        Q(lead_organisation_id__in=organisations) | Q(id__in=invited)
    ).select_related("lead_organisation")


def operation_get_for(actor: Actor, operation_id: int) -> Operation:
    """One operation the actor may see; 404 alike if it does not exist or is not theirs."""
    operation = operations_visible_to(actor).filter(id=operation_id).first()
    if operation is None:
        raise Http404
    return operation


def operation_get_for_lead(actor: Actor, operation_id: int) -> Operation:
    """One operation the actor may change: they plan for its lead organisation. 404 otherwise
    (a partner learns nothing from trying)."""
    operation = operation_get_for(actor, operation_id)
    if not organisations_planning_for(actor).filter(id=operation.lead_organisation_id).exists():
        raise Http404
    return operation


def is_lead(actor: Actor, operation: Operation) -> bool:
    return organisations_planning_for(actor).filter(id=operation.lead_organisation_id).exists()


def operation_is_secret(operation: Operation, on: date | None = None) -> bool:
    """A confidential operation before its start: nothing about it may appear outside its own
    pages (no figure, list, search or message for anyone but its lead and partners)."""
    today = on or timezone.localdate()
    return operation.confidential and today < operation.starts_on


def operations_not_secret(on: date | None = None) -> QuerySet[Operation]:
    """Operations that may be counted or mentioned outside their own pages (capacity figures,
    statistics): every one but the confidential ones not yet started. Who may see one in
    detail is still `operations_visible_to`."""
    today = on or timezone.localdate()
    return Operation.objects.exclude(confidential=True, starts_on__gt=today)


def partners_of(operation: Operation) -> QuerySet[OperationPartner]:
    return operation.partners.select_related("organisation")


def expected_of(operation: Operation) -> QuerySet[ExpectedGroup]:
    return operation.expected.all()


def expected_total(operation: Operation) -> int:
    return operation.expected.aggregate(total=Sum("number"))["total"] or 0


def organisations_to_invite(operation: Operation) -> QuerySet[Organisation]:
    """Active organisations that could be invited: of a kind some partner role fits, not the
    lead, not already invited."""
    kinds = set(PARTNER_KINDS.values())
    return (
        Organisation.objects.filter(is_active=True, kind__in=kinds)
        .exclude(id=operation.lead_organisation_id)
        .exclude(operation_partnerships__operation=operation)
    )


# The operation's age groups as the cases record them: age disputed is the case's "presumed
# child" (treated as a child until assessed), so the forecast learns from the same people.
CASE_AGE_GROUPS = {
    AgeGroup.ADULT: "adult",
    AgeGroup.CHILD: "child",
    AgeGroup.AGE_DISPUTED: "presumed_child",
}


def operation_bed_forecast(operation: Operation) -> OperationForecast | None:
    """The places the operation's people are forecast to need each day, against the places
    free now in its region (ADR 41); None when nobody is expected. Raises `NoStays` when the
    history has no stay to learn from."""
    groups = list(expected_of(operation))
    if not groups:
        return None
    expected = expected_by_group(
        (g.sex, CASE_AGE_GROUPS[AgeGroup(g.age_group)], g.number) for g in groups
    )
    return operation_forecast(
        expected,
        first_day=operation.starts_on,
        operation_days=operation.days,
        region=operation.region,
        # The surge places agreed and beds held for it (ADR 0044); `free_places` leaves out
        # every bed kept for an operation, so none is counted twice.
        surge=surge_by_kind(operation),
    )
