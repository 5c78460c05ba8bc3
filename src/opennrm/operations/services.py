"""Writes of operations: plan, change the plan, invite a partner, cancel. Each records exactly
one audit event, against the lead organisation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind
from opennrm.audit.services import audit_record
from opennrm.cases.choices import ExploitationType, Sex
from opennrm.lib.iso import language_choices
from opennrm.notifications.services import deliver

from .models import (
    PARTNER_KINDS,
    AgeGroup,
    ExpectedGroup,
    Operation,
    OperationPartner,
    OperationStatus,
    PartnerRole,
)
from .selectors import PLANNING_ROLES, READER_ROLES, operation_is_secret

# (sex, age group, exploitation type) -> how many people are expected.
Expected = Mapping[tuple[str, str, str], int]

# The longest an operation may be planned to last: beyond it, a plan is a typing mistake.
LONGEST_DAYS = 366


def _check_plan(
    *,
    lead_organisation: Organisation,
    name: str,
    starts_on: date,
    ends_on: date,
    expected: Expected,
    languages: Iterable[str],
) -> None:
    problems: dict[str, list[str]] = {}
    if OrganisationKind(lead_organisation.kind) not in PLANNING_ROLES:
        problems.setdefault("lead_organisation", []).append(
            f"{lead_organisation.name} cannot lead an operation: only a police force or a "
            "competent authority can"
        )
    if not name.strip():
        problems.setdefault("name", []).append("Enter the operation's name")
    if ends_on < starts_on:
        problems.setdefault("ends_on", []).append("The end date must be on or after the start")
    elif (ends_on - starts_on).days + 1 > LONGEST_DAYS:
        problems.setdefault("ends_on", []).append(
            f"An operation can last at most {LONGEST_DAYS} days"
        )
    known = {
        (sex, age, kind)
        for sex in Sex.values
        for age in AgeGroup.values
        for kind in ExploitationType.values
    }
    if any(group not in known for group in expected) or any(n < 0 for n in expected.values()):
        problems.setdefault("expected", []).append("The expected numbers are not valid")
    elif sum(expected.values()) == 0:
        problems.setdefault("expected", []).append(
            "Enter how many people you expect to find in at least one group"
        )
    offered = dict(language_choices())
    if any(code not in offered for code in languages):
        problems.setdefault("languages", []).append("Select the languages from the list")
    if problems:
        raise ValidationError(problems)


def _write_expected(operation: Operation, expected: Expected) -> None:
    operation.expected.all().delete()
    ExpectedGroup.objects.bulk_create(
        ExpectedGroup(
            operation=operation, sex=sex, age_group=age, exploitation_type=kind, number=number
        )
        for (sex, age, kind), number in sorted(expected.items())
        if number > 0
    )


@transaction.atomic
def operation_plan(
    *,
    by: User,
    lead_organisation: Organisation,
    name: str,
    confidential: bool,
    starts_on: date,
    ends_on: date,
    region: str,
    expected: Expected,
    languages: list[str],
) -> Operation:
    """Record a planned operation led by `lead_organisation` (which the caller has checked
    `by` may plan for: selectors.organisations_planning_for)."""
    _check_plan(
        lead_organisation=lead_organisation,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        expected=expected,
        languages=languages,
    )
    operation = Operation.objects.create(
        name=name.strip(),
        lead_organisation=lead_organisation,
        confidential=confidential,
        starts_on=starts_on,
        ends_on=ends_on,
        region=region,
        languages=list(dict.fromkeys(languages)),
        planned_by=by,
    )
    _write_expected(operation, expected)
    audit_record(
        by=by,
        action="operation.planned",
        obj=operation,
        organisation=lead_organisation,
        detail={"confidential": confidential, "expected": sum(expected.values())},
    )
    return operation


def _refuse_unless_open(operation: Operation) -> None:
    status = operation.status_on(timezone.localdate())
    if status == OperationStatus.CANCELLED:
        raise ValidationError("This operation was cancelled: it cannot change")
    if status == OperationStatus.ENDED:
        raise ValidationError("This operation has ended: it cannot change")


@transaction.atomic
def operation_change(
    *,
    by: User,
    operation: Operation,
    name: str,
    confidential: bool,
    starts_on: date,
    ends_on: date,
    region: str,
    expected: Expected,
    languages: list[str],
) -> Operation:
    """Change the plan of an operation that has neither ended nor been cancelled."""
    operation = Operation.objects.select_for_update().get(id=operation.id)
    _refuse_unless_open(operation)
    _check_plan(
        lead_organisation=operation.lead_organisation,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        expected=expected,
        languages=languages,
    )
    operation.name = name.strip()
    operation.confidential = confidential
    operation.starts_on = starts_on
    operation.ends_on = ends_on
    operation.region = region
    operation.languages = list(dict.fromkeys(languages))
    operation.save(
        update_fields=["name", "confidential", "starts_on", "ends_on", "region", "languages"]
    )
    _write_expected(operation, expected)
    audit_record(
        by=by,
        action="operation.changed",
        obj=operation,
        organisation=operation.lead_organisation,
        detail={"confidential": confidential, "expected": sum(expected.values())},
    )
    return operation


@transaction.atomic
def operation_partner_invite(
    *, by: User, operation: Operation, organisation: Organisation, role: str
) -> OperationPartner:
    """Invite an organisation to the operation in a role that fits its kind."""
    operation = Operation.objects.select_for_update().get(id=operation.id)
    _refuse_unless_open(operation)
    partner_role = PartnerRole(role)
    if organisation.id == operation.lead_organisation_id:
        raise ValidationError({"organisation": ["The lead organisation is already in it"]})
    if not organisation.is_active:
        raise ValidationError({"organisation": ["Select an organisation from the list"]})
    if organisation.kind != PARTNER_KINDS[partner_role]:
        raise ValidationError(
            {
                "role": [
                    f"{organisation.name} is not a {partner_role.label.lower()}: choose the "
                    "role that fits it"
                ]
            }
        )
    if operation.partners.filter(organisation=organisation).exists():
        raise ValidationError({"organisation": [f"{organisation.name} is already invited"]})
    partner = OperationPartner.objects.create(
        operation=operation, organisation=organisation, role=partner_role, invited_by=by
    )
    told = _tell_the_partner(operation, partner)
    audit_record(
        by=by,
        action="operation.partner_invited",
        obj=operation,
        organisation=operation.lead_organisation,
        detail={
            "partner_organisation": organisation.id,
            "role": partner_role.value,
            "told": told,
        },
    )
    return partner


def _tell_the_partner(operation: Operation, partner: OperationPartner) -> int:
    """Tell the invited organisation's members who work on operations. A message is e-mailed,
    so for an operation still secret it says nothing of it (no name, date or place): only
    where to look, once signed in."""
    members = [
        membership.user
        for membership in members_with_role(partner.organisation_id, READER_ROLES).select_related(
            "user"
        )
    ]
    if operation_is_secret(operation):
        subject = "Your organisation has been invited to a confidential operation"
        body = (
            "Sign in to OpenNRM and open Operations to see it. It is confidential until it "
            "starts: do not forward this message or discuss the operation outside the "
            "organisations invited to it."
        )
    else:
        subject = f"Your organisation has been invited to {operation.name}"
        body = (
            f"{operation.lead_organisation.name} has invited {partner.organisation.name} as "
            f"{partner.get_role_display().lower()}, from {operation.starts_on:%-d %B %Y} to "
            f"{operation.ends_on:%-d %B %Y}."
        )
    sent = deliver(
        recipients=members,
        kind="operation.invited",
        subject=subject,
        body=body,
        url=reverse("operations:detail", args=[operation.id]),
    )
    return len(sent)


@transaction.atomic
def operation_cancel(*, by: User, operation: Operation) -> Operation:
    """Call the operation off (before or while it is under way); its record stays."""
    operation = Operation.objects.select_for_update().get(id=operation.id)
    _refuse_unless_open(operation)
    operation.cancelled_at = timezone.now()
    operation.cancelled_by = by
    operation.save(update_fields=["cancelled_at", "cancelled_by"])
    audit_record(
        by=by,
        action="operation.cancelled",
        obj=operation,
        organisation=operation.lead_organisation,
    )
    return operation
