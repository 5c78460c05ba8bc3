"""Writes of operations: plan, change the plan, invite a partner, cancel. Each records exactly
one audit event, against the lead organisation."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from opennrm.accommodation.models import ImmediateNeed
from opennrm.accommodation.surge import bed_hold_release, end_surge_beds, holds_end_by, live_holds
from opennrm.accounts.actor import Actor, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.services import audit_read, audit_record
from opennrm.cases.choices import AgeGroup as CaseAgeGroup
from opennrm.cases.choices import ExploitationType, Sex
from opennrm.cases.models import Case
from opennrm.lib.govuk_forms import StaleVersion
from opennrm.lib.iso import language_choices
from opennrm.lib.references import new_reference
from opennrm.lib.text import single_line_problem
from opennrm.notifications.services import deliver, emails_in_one_task
from opennrm.referrals import steps
from opennrm.referrals.models import DraftStatus, ReferralDraft
from opennrm.safeguarding.selectors import area_leads

from . import history, selectors, surge
from .gap_warning import gap_warn, told_of_shortfall
from .models import (
    PARTNER_KINDS,
    AgeGroup,
    ExpectedGroup,
    HistoryMonth,
    HistoryRollup,
    HistoryStay,
    Operation,
    OperationPartner,
    OperationStatus,
    PartnerRole,
    ReceptionRecord,
)
from .selectors import PLANNING_ROLES, READER_ROLES, operation_is_secret

# (sex, age group, exploitation type) -> how many people are expected.
Expected = Mapping[tuple[str, str, str], int]

# The longest an operation may be planned to last: beyond it, a plan is a typing mistake.
LONGEST_DAYS = 366

# How far from today an operation may start. Dates at the edge of what `date` holds (year 1,
# year 9999) were taken, and then overflowed in the forecast and the report for every reader;
# no raid is planned five years ahead, nor recorded five years late.
START_WITHIN_YEARS = 5

# The most people one operation's plan may expect, in all. The forecast simulates each expected
# person in each of its draws (`forecast.simulate`), so its memory grows with this number: a
# plan of 70,000 people (a typo with extra zeros, which the form took) ran out of memory on
# every view of the operation. Large national operations find hundreds, not thousands; a larger
# one is planned as several.
MOST_EXPECTED = 1_000


def _years_from(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _start_window(today: date) -> tuple[date, date]:
    """The first and last days an operation planned or changed `today` may start on."""
    return _years_from(today, -START_WITHIN_YEARS), _years_from(today, START_WITHIN_YEARS)


def _name_problem(name: str) -> str | None:
    """What is wrong with the operation's name, or None."""
    if not name.strip():
        return "Enter the operation's name"
    # Every message about an operation not secret puts its name in the e-mail's subject, which
    # cannot hold a line break: a name on two lines left every partner un-e-mailed.
    return single_line_problem(name.strip(), "The operation's name")


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
    if problem := _name_problem(name):
        problems.setdefault("name", []).append(problem)
    earliest, latest = _start_window(timezone.localdate())
    if not earliest <= starts_on <= latest:
        problems.setdefault("starts_on", []).append(
            f"The start date must be within {START_WITHIN_YEARS} years of today, between "
            f"{earliest:%-d %B %Y} and {latest:%-d %B %Y}"
        )
    if ends_on < starts_on:
        problems.setdefault("ends_on", []).append("The end date must be on or after the start")
    elif (ends_on - starts_on).days + 1 > LONGEST_DAYS:
        problems.setdefault("ends_on", []).append(
            f"An operation can last at most {LONGEST_DAYS} days"
        )
    if problem := _expected_problem(expected):
        problems.setdefault("expected", []).append(problem)
    offered = dict(language_choices())
    if any(code not in offered for code in languages):
        problems.setdefault("languages", []).append("Select the languages from the list")
    if problems:
        raise ValidationError(problems)


def _expected_problem(expected: Expected) -> str | None:
    known = {
        (sex, age, kind)
        for sex in Sex.values
        for age in AgeGroup.values
        for kind in ExploitationType.values
    }
    if any(group not in known for group in expected) or any(n < 0 for n in expected.values()):
        return "The expected numbers are not valid"
    if sum(expected.values()) == 0:
        return "Enter how many people you expect to find in at least one group"
    if sum(expected.values()) > MOST_EXPECTED:
        return (
            f"An operation can expect at most {MOST_EXPECTED:,} people in all: plan a larger "
            "one as several operations"
        )
    return None


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
        detail={"confidential": confidential, "expected": sum(expected.values())}
        | told_of_shortfall(gap_warn(operation)),
    )
    return operation


PLAN_CHANGED = (
    "Someone else changed this plan while you were working on it. Your answers are still "
    "here: check them against the operation's page, then save again."
)


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
    expected_version: int | None = None,
) -> Operation:
    """Change the plan of an operation that has neither ended nor been cancelled.

    `expected_version` is the version of the plan the page showed: refused as stale when the
    plan changed since, so that a page opened before another planner's change cannot put back
    what they changed (every value is written). None, only from callers with no page (demo
    data, tests), checks nothing."""
    operation = Operation.objects.select_for_update().get(id=operation.id)
    _refuse_unless_open(operation)
    if expected_version is not None and operation.version != expected_version:
        raise StaleVersion(PLAN_CHANGED, current=operation.version)
    _check_plan(
        lead_organisation=operation.lead_organisation,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        expected=expected,
        languages=languages,
    )
    # Surge places are free from their own first day, which may not come before the
    # operation's (ADR 44): a start moved later would show them in every coordinator's free
    # beds and figures while a confidential operation is secret again. Places ended are gone.
    first_surge = (
        operation.surges.filter(ended_at__isnull=True)
        .order_by("starts_on")
        .values_list("starts_on", flat=True)
        .first()
    )
    if first_surge is not None and starts_on > first_surge:
        raise ValidationError(
            {
                "starts_on": [
                    f"Surge places for this operation start on {first_surge:%-d %B %Y}: the "
                    "start date must be that day or earlier. To start later, the support "
                    "provider ends those places first and adds them again from the new start"
                ]
            }
        )
    # Nor may its end move before the first day of places still agreed: they would keep no bed
    # for its people, yet count against its need (found in review). Refused, as a start moved
    # past them is; holds are shortened instead (a hold has a bed now, which ends with the
    # operation), but places not yet begun have nothing to shorten.
    last_surge = (
        operation.surges.filter(ended_at__isnull=True)
        .order_by("-starts_on")
        .values_list("starts_on", flat=True)
        .first()
    )
    if last_surge is not None and ends_on < last_surge:
        raise ValidationError(
            {
                "ends_on": [
                    f"Surge places for this operation start on {last_surge:%-d %B %Y}: the "
                    "last day must be that day or later. To end sooner, the support provider "
                    "ends those places first"
                ]
            }
        )
    # Nor past the first person taken in: a confidential operation would be secret again with
    # people on its board, and messages about them (children's services told) would name it.
    first_taken_in = (
        operation.reception.order_by("taken_in_at").values_list("taken_in_at", flat=True).first()
    )
    if first_taken_in is not None and starts_on > timezone.localdate(first_taken_in):
        raise ValidationError(
            {
                "starts_on": [
                    f"People were taken in during this operation from "
                    f"{timezone.localdate(first_taken_in):%-d %B %Y}: the start date must be that "
                    "day or earlier"
                ]
            }
        )
    ended_later = operation.ends_on
    operation.name = name.strip()
    operation.confidential = confidential
    operation.starts_on = starts_on
    operation.ends_on = ends_on
    operation.region = region
    operation.languages = list(dict.fromkeys(languages))
    operation.version += 1
    operation.save(
        update_fields=[
            "name",
            "confidential",
            "starts_on",
            "ends_on",
            "region",
            "languages",
            "version",
        ]
    )
    _write_expected(operation, expected)
    audit_record(
        by=by,
        action="operation.changed",
        obj=operation,
        organisation=operation.lead_organisation,
        detail={"confidential": confidential, "expected": sum(expected.values())}
        | (_holds_brought_forward(operation) if ends_on < ended_later else {})
        | told_of_shortfall(gap_warn(operation)),
    )
    return operation


def _holds_brought_forward(operation: Operation) -> dict[str, int]:
    """A hold ends with its operation (`surge.hold_ends_by`): an end moved earlier brings the
    holds that would outlast it forward with it (shortened or, made after that, released), and
    each provider whose beds they are is told when its hold ends now. For the caller's audit
    event: how many holds were brought forward, and how many people told of it."""
    now = timezone.now()
    latest = surge.hold_ends_by(operation)
    # Read before they are brought forward: afterwards nothing tells them from the others.
    cuts = surge.holds_running_past(operation, latest, now)
    brought = holds_end_by(operation.pk, latest, now=now)
    if not brought:
        return {}
    with emails_in_one_task():
        told = sum(_tell_of_holds_cut(operation, cut) for cut in cuts)
    return {"holds_brought_forward": brought} | (
        {"told_of_holds_brought_forward": told} if told else {}
    )


def _beds(n: int) -> str:
    """ "1 bed is", "2 beds are": the count and its verb."""
    return "1 bed is" if n == 1 else f"{n} beds are"


def _tell_of_holds_cut(operation: Operation, cut: surge.HoldsCut) -> int:
    """Tell the provider's coordinators and safe-house managers (who hold and release its beds
    for the operation, `surge.SURGE_ROLES`) that its holds end sooner. E-mailed, so for an
    operation still secret it says no more than the invitation does (`_tell_the_partner`):
    nothing of the operation, not even that its end moved or how many beds are held for it, and
    no organisation named; only where to look once signed in. Nobody is named."""
    if operation_is_secret(operation):
        subject = "Beds your organisation holds for a confidential operation have changed"
        body = (
            "Sign in to OpenNRM and open Operations to see them. It is confidential until it "
            "starts: do not forward this message or discuss the operation outside the "
            "organisations invited to it."
        )
    else:
        subject = f"{operation.name}: beds you hold for it are held for less time"
        body = "\n\n".join(_holds_cut_lines(operation, cut))
    sent = deliver(
        recipients=[
            m.user
            for m in members_with_role(cut.provider.pk, surge.SURGE_ROLES).select_related("user")
        ],
        kind="operations.holds_shortened",
        subject=subject,
        body=body,
        url=reverse("operations:detail", args=[operation.pk]),
        organisation=cut.provider,
    )
    return len(sent)


def _holds_cut_lines(operation: Operation, cut: surge.HoldsCut) -> list[str]:
    provider = cut.provider.name
    lines = [
        f"{operation.name} now ends on {operation.ends_on:%-d %B %Y}. Beds are held for an "
        f"operation until {surge.HOLD_DAYS_AFTER_END} days after its last day at the latest."
    ]
    if cut.shortened:
        lines.append(
            f"Of the beds {provider} holds for it, {_beds(cut.shortened)} now held until the "
            f"end of {surge.hold_last_day(operation):%-d %B %Y}. After that they are free for "
            "anyone again."
        )
    if cut.released:
        lines.append(
            f"Of the beds {provider} held for it after its new end, {_beds(cut.released)} "
            "released: they are free for anyone now."
        )
    return lines


@transaction.atomic
def operation_partner_invite(
    *, by: User, operation: Operation, organisation: Organisation, role: str
) -> OperationPartner:
    """Invite an organisation to the operation in a role that fits its kind."""
    operation = Operation.objects.select_for_update().get(id=operation.id)
    partner_role = PartnerRole(role)
    # Children's services may still be invited once the operation is over if children were
    # taken in: they must hear of them (`_tell_of_children_so_far`), however late.
    if not (
        partner_role in selectors.CHILDREN_SERVICES_ROLES and selectors.children_taken_in(operation)
    ):
        _refuse_unless_open(operation)
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
    # A support provider invited while places are short hears of it at once; children's
    # services invited once children have been taken in, of them.
    shortfall = (
        gap_warn(operation, newly_invited=organisation)
        if partner_role == PartnerRole.SUPPORT_PROVIDER
        else 0
    )
    children = (
        {"children_services_told": _tell_of_children_so_far(operation, organisation)}
        if partner_role in selectors.CHILDREN_SERVICES_ROLES
        else {}
    )
    audit_record(
        by=by,
        action="operation.partner_invited",
        obj=operation,
        organisation=operation.lead_organisation,
        detail={
            "partner_organisation": organisation.id,
            "role": partner_role.value,
            "told": told,
        }
        | told_of_shortfall(shortfall)
        | children,
    )
    return partner


def _tell_of_children_so_far(operation: Operation, organisation: Organisation) -> int:
    """Children's services invited after children (or age-disputed people) were taken in, or
    found to be children at referral, were not there to be told of each (`_tell_children_services`):
    their safeguarding leads hear at once how many, naming nobody (else the partner's stand-in
    that news waits); how many leads were told."""
    children = selectors.children_taken_in(operation)
    if not children:
        return 0
    people = "1 person taken in" if children == 1 else f"{children} people taken in"
    treated = "is treated as a child" if children == 1 else "are treated as children"
    # People are taken in only once an operation has started, and its start cannot move past
    # them (`operation_change`); were it secret all the same, the message would not name it.
    secret = operation_is_secret(operation)
    named = "an operation" if secret else operation.name
    leads = [
        membership.user
        for membership in members_with_role(
            organisation.pk, {Role.SAFEGUARDING_LEAD}
        ).select_related("user")
    ]
    return _tell_each_partner(
        operation,
        {organisation: leads},
        kind="operations.children_so_far",
        subject="Children taken in before you were invited"
        + ("" if secret else f": {operation.name}"),
        body=(
            f"{people} during {named} before {organisation.name} was invited "
            f"{treated} (under 18, or their age is disputed). Their accommodation is arranged "
            "by children's services, never by adult matching. Open the operation's board to "
            "see who they are and where their referrals stand."
        ),
    )


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
        organisation=partner.organisation,
    )
    return len(sent)


CANCEL_AFTER_TAKING_IN = (
    "People have been taken in during this operation, so it cannot be cancelled: that would "
    "give away the beds kept for them. To close it early, change the plan so that its last day "
    "is today; the beds held for it stay kept for its people until the holds end"
)


@transaction.atomic
def operation_cancel(*, by: User, operation: Operation) -> Operation:
    """Call the operation off (before or while it is under way); its record stays. Its surge
    places end today and its held beds are released, so no bed stays kept for an operation
    that will not happen; anyone already placed keeps their place (ADR 44).

    Refused once anyone has been taken in: the operation happened, and the people found may be
    waiting for exactly those beds. It is ended today instead (`operation_change` with `ends_on`
    today), which keeps its holds until `surge.hold_ends_by` (ADR 43, addendum stop 37)."""
    operation = Operation.objects.select_for_update().get(id=operation.id)
    _refuse_unless_open(operation)
    if operation.reception.exists():
        raise ValidationError(CANCEL_AFTER_TAKING_IN)
    now = timezone.now()
    operation.cancelled_at = now
    operation.cancelled_by = by
    operation.save(update_fields=["cancelled_at", "cancelled_by"])
    withdrawn = 0
    for surge_places in operation.surges.filter(ended_at=None).select_related("room"):
        withdrawn += end_surge_beds(surge_places.room, timezone.localdate(now))
        surge_places.ended_at, surge_places.ended_by = now, by
        surge_places.save(update_fields=["ended_at", "ended_by"])
    holds = list(live_holds(now).filter(operation_id=operation.pk))
    for hold in holds:
        bed_hold_release(hold, by=by, now=now)
    audit_record(
        by=by,
        action="operation.cancelled",
        obj=operation,
        organisation=operation.lead_organisation,
        detail={"surge_places_withdrawn": withdrawn, "holds_released": len(holds)},
    )
    return operation


# --- Reception: people taken in on the day (ADR 0043) -----------------------------------------

# Two responders saving at the same instant may both read the same highest number; the
# constraint refuses the second, which takes the next number. More clashes than this in a row
# is not contention but a fault.
SEQUENCE_ATTEMPTS = 5

REFERENCE_PREFIX = "OPR"


def _draft_answers(
    *, name: str, sex: str, age_group: str, language: str, needs: list[str], interpreter: bool
) -> dict[str, dict[str, Any]]:
    """What the reception record already answers of the referral journey, as raw values typed
    (ADR 0006). A child, or a person whose age is disputed, is a child from the first page."""
    age = {
        AgeGroup.ADULT: {"under_18": "no"},
        AgeGroup.CHILD: {"under_18": "yes"},
        AgeGroup.AGE_DISPUTED: {"under_18": "not_sure", "reason_to_believe_child": "yes"},
    }[AgeGroup(age_group)]
    person: dict[str, Any] = {"sex": sex, "interpreter_needed": "yes" if interpreter else "no"}
    if name:
        person["given_names"] = name
    if language:
        person["language_1"] = language
    answers: dict[str, dict[str, Any]] = {"age": age, "person": person}
    if needs:
        answers["needs"] = {"needs": list(needs)}
    return answers


def _children_services_leads(operation: Operation) -> dict[Organisation, list[User]]:
    """Who is told when a child (or age-disputed person) is taken in: the safeguarding leads of
    each of the operation's local authority and child guardian service partners (none, for a
    partner with no safeguarding lead left: its stand-in is told instead)."""
    partners = Organisation.objects.filter(
        pk__in=selectors.children_services_partners(operation)
    ).order_by("pk")
    leads: dict[int, list[User]] = {partner.pk: [] for partner in partners}
    for membership in (
        members_with_role(None, {Role.SAFEGUARDING_LEAD})
        .filter(organisation_id__in=list(leads))
        .select_related("user")
    ):
        leads[membership.organisation_id].append(membership.user)
    return {partner: leads[partner.pk] for partner in partners}


def _tell_children_services(
    operation: Operation,
    record: ReceptionRecord,
    leads: Mapping[Organisation, list[User]],
    *,
    said: str | None = None,
) -> int:
    """A child (or age-disputed person) taken in: children's services are told at once. There is
    no case yet, so no children's services task (ADR 0025) can be raised: it is raised, as for
    any child, when the draft is submitted. The message names nobody. `said`: taken in as an
    adult, what the age page of their referral has said since ("they are under 18").

    Each partner is told on its own, so one with no safeguarding lead left is not silently
    passed over because another has one: its administrators hear that news waits
    (`selectors.safeguarding_leads_stand_in`), and are not counted as told."""
    if said is None:
        who = "A child" if record.age_group == AgeGroup.CHILD else "A person whose age is disputed"
        subject = f"{operation.name}: a child taken in (person {record.sequence})"
        body = f"{who} was taken in during {operation.name} and is treated as a child. "
    else:
        subject = f"{operation.name}: a person taken in is a child (person {record.sequence})"
        body = (
            f"Person {record.sequence} was taken in during {operation.name} as an adult. Their "
            f"referral now says {said}, so they are treated as a child. "
        )
    body += (
        "Their accommodation is arranged by children's services, never by adult matching. "
        "The referral is being made."
    )
    return _tell_each_partner(
        operation, leads, kind="operations.child_taken_in", subject=subject, body=body
    )


def _tell_each_partner(
    operation: Operation,
    leads: Mapping[Organisation, list[User]],
    *,
    kind: str,
    subject: str,
    body: str,
    already: Iterable[int] = (),
) -> int:
    """Tell the safeguarding leads of each children's services partner; how many were told.
    `already`: the users told the same news another way (an age dispute's own message to the
    leads of the case's area), who are not told twice; a partner all of whose leads were is
    passed over, stand-in and all."""
    skipped = set(already)
    told: set[int] = set(skipped)
    with emails_in_one_task():
        for partner, partner_leads in leads.items():
            # A lead of two partners (a local authority's and a guardian service's) is told,
            # and counted, once; the second partner has a lead, so no stand-in either.
            fresh = [user for user in partner_leads if user.pk not in told]
            if partner_leads and not fresh:
                continue
            sent = deliver(
                recipients=fresh,
                kind=kind,
                subject=subject,
                body=body,
                url=reverse("operations:board", args=[operation.id]),
                stand_in=partial(selectors.safeguarding_leads_stand_in, partner),
                organisation=partner,
            )
            told |= {notification.recipient_id for notification in sent}
    return len(told - skipped)


def _tell_children_services_missing(record: ReceptionRecord, missing: bool) -> int:
    """A child taken in (or found a child at referral) has gone missing before the referral
    was submitted, or been found: the children's services partners are told, naming nobody.
    Before a case exists nothing else reaches them (the caseload reads cases' episodes)."""
    operation = record.operation
    if missing:
        subject = f"Urgent: {operation.name}: a child taken in has gone missing (person {record.sequence})"
        body = (
            f"Person {record.sequence}, taken in during {operation.name} and treated as a "
            "child, has gone missing before their referral was submitted. A missing child is at "
            "serious risk of harm: this is urgent. Contact the operation's lead for when and "
            "where they were last seen."
        )
    else:
        subject = f"{operation.name}: the child reported missing is back (person {record.sequence})"
        body = (
            f"Person {record.sequence}, taken in during {operation.name} and treated as a "
            "child, who had gone missing, has been found."
        )
    return _tell_each_partner(
        operation,
        _children_services_leads(operation),
        kind="operations.child_missing" if missing else "operations.child_found",
        subject=subject,
        body=body,
    )


def _child_found_at_referral(draft: ReferralDraft) -> int | None:
    """The age page of the draft of a person taken in as an adult has just said they are under
    18, or that their age is disputed: from now they are a child, and the operation's children's
    services are told, as they would have been at reception; how many. Only the first time
    (`found_child_at`): None when they were told already, were taken in as a child (told then),
    or the draft is not one of a person taken in. Registered with referrals (which never imports
    this app) from `apps.OperationsConfig.ready`, and called inside
    `referrals.services.draft_save_answers`, whose audit event records how many were told."""
    # Not locked: the caller holds the draft locked, and the record is the draft's own, so two
    # saves of it cannot both come here; locking the record (or its operation) after the draft
    # would take the locks in the opposite order to `reception_draft_hand_over`, and deadlock.
    record = ReceptionRecord.objects.select_related("operation").filter(draft_id=draft.pk).first()
    if record is None or record.is_child or record.found_child_at is not None:
        return None
    record.found_child_at = timezone.now()
    record.save(update_fields=["found_child_at"])
    said = (
        "they are under 18"
        if steps.answered_age_group(draft.answers) == CaseAgeGroup.CHILD
        else "their age is disputed"
    )
    operation = record.operation
    return _tell_children_services(
        operation, record, _children_services_leads(operation), said=said
    )


def _age_disputed_on_case(*, case: Case, by: User) -> dict[str, int]:
    """An age dispute raised on the case of a person taken in at an operation (after their
    referral, as an adult): from now they are a child, and each of the operation's children's
    services partners is told, as it would have been had they been taken in as one
    (`_tell_children_services`), with the same need to know: each partner's safeguarding leads,
    for that partner (its stand-in if it has none left), a message naming nobody and linking to
    the operation's board, never while the operation is secret. The leads of the case's area,
    told by the dispute itself (`safeguarding.services._tell_age_disputed`), are not told twice.
    Registered with `safeguarding.services.AGE_DISPUTE_TELLERS` from `apps.OperationsConfig`
    (safeguarding imports nothing of this app); the count goes into the dispute's audit event.
    ADR 0039, addendum of stop 42."""
    records = ReceptionRecord.objects.filter(draft__case=case).select_related("operation")
    local_authority, guardian_service = area_leads(case.area)
    already = {user.pk for user in (*local_authority, *guardian_service)}
    told = 0
    for record in records.order_by("pk"):
        operation = record.operation
        if operation_is_secret(operation):
            continue
        told += _tell_each_partner(
            operation,
            _children_services_leads(operation),
            kind="operations.age_disputed",
            subject=f"{operation.name}: a person taken in is now treated as a child "
            f"(person {record.sequence})",
            body=f"Person {record.sequence}, taken in during {operation.name} and referred as "
            "an adult, may be under 18: their age is now disputed, so they are treated as a "
            "child until an age assessment says otherwise. Their accommodation is arranged by "
            "children's services, never by adult matching. The local authority of their area "
            "has been asked to arrange the age assessment.",
            already=already,
        )
    return {"operation_partners": told} if told else {}


def _next_sequence(operation: Operation) -> int:
    highest = ReceptionRecord.objects.filter(operation=operation).aggregate(
        highest=Max("sequence")
    )["highest"]
    return (highest or 0) + 1


def _check_reception(
    *, name: str, sex: str, age_group: str, language: str, needs: Iterable[str]
) -> None:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name_or_description"] = ["Enter their name, or describe them"]
    if sex not in Sex.values:
        problems["sex"] = ["Select their sex"]
    if age_group not in AgeGroup.values:
        problems["age_group"] = ["Select whether they look like an adult or a child"]
    if language and language not in dict(language_choices()):
        problems["language"] = ["Select their language from the list"]
    if any(need not in ImmediateNeed.values for need in needs):
        problems["urgent_needs"] = ["Select urgent needs from the list"]
    if problems:
        raise ValidationError(problems)


class AlreadyTakenIn(ValidationError):
    """A submission with the key of one already taken in (`ReceptionRecord.submission_key`):
    `record` is the person it took in; `same` says whether it said the same (a retry, nothing
    to do) or something else (the key of a used form or request, sent for someone else)."""

    def __init__(self, record: ReceptionRecord, *, same: bool) -> None:
        super().__init__(
            f"This form was already sent: it took in person {record.sequence}"
            if same
            else f"This form was already used to take in person {record.sequence}. If this is "
            "someone else, send it again: it is now a new form"
        )
        self.record = record
        self.same = same


def _fingerprint(values: Mapping[str, object]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return salted_hmac("opennrm.operations.reception", canonical, algorithm="sha256").hexdigest()


def _check_not_sent(operation: Operation, by: User, key: str, fingerprint: str) -> None:
    if not key:
        return
    earlier = operation.reception.filter(taken_in_by=by, submission_key=key).first()
    if earlier is not None:
        raise AlreadyTakenIn(earlier, same=earlier.submission_fingerprint == fingerprint)


def reception_take_in(
    *,
    by: User,
    operation: Operation,
    name_or_description: str,
    sex: str,
    age_group: str,
    language: str = "",
    urgent_needs: Iterable[str] = (),
    interpreter_needed: bool = False,
    today: date | None = None,
    actor: Actor | None = None,
    submission_key: str = "",
) -> ReceptionRecord:
    """Take one person in: the short record, numbered next in the operation, and a referral draft
    for the responder with what is known filled in. A child or age-disputed person is treated
    as a child at once (children's services told). One audit event. `actor` is who acts when it
    is not `by`'s session: an API token acts through its own organisation only.

    `submission_key` (the reception form's hidden key, or an API `Idempotency-Key`): raises
    `AlreadyTakenIn` instead of taking anyone in when a record of the operation was made with
    it, so a submission sent twice takes the person in once."""
    needs = list(dict.fromkeys(urgent_needs))
    fingerprint = _fingerprint(
        {
            "name": name_or_description.strip(),
            "sex": sex,
            "age_group": age_group,
            "language": language,
            "needs": sorted(needs),
            "interpreter": interpreter_needed,
        }
    )
    _check_reception(
        name=name_or_description, sex=sex, age_group=age_group, language=language, needs=needs
    )
    organisation = selectors.reception_organisation(actor or Actor.of_session(by), operation)
    if organisation is None:
        raise PermissionDenied("Only the operation's first responders may take people in")
    # Before the operation's dates: a retry of a submission made in time finds its record.
    _check_not_sent(operation, by, submission_key, fingerprint)
    if operation.status_on(today or timezone.localdate()) != OperationStatus.UNDER_WAY:
        raise ValidationError("People can be taken in only while the operation is under way")
    for attempt in range(1, SEQUENCE_ATTEMPTS + 1):
        try:
            return _take_in(
                by=by,
                operation=operation,
                organisation=organisation,
                name=name_or_description.strip(),
                sex=sex,
                age_group=age_group,
                language=language,
                needs=needs,
                interpreter=interpreter_needed,
                submission=(submission_key, fingerprint),
            )
        except IntegrityError:
            # Another responder took the same number in the same instant (or, one time in
            # 10**12, the same reference; or the same submission arrived twice at once, which
            # the next attempt finds): try again.
            if attempt == SEQUENCE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _take_in(
    *,
    by: User,
    operation: Operation,
    organisation: Organisation,
    name: str,
    sex: str,
    age_group: str,
    language: str,
    needs: list[str],
    interpreter: bool,
    submission: tuple[str, str],
) -> ReceptionRecord:
    # The draft first: it needs no number, and everything written before the lock below is
    # time the other responders do not wait for.
    draft = ReferralDraft.objects.create(
        created_by=by,
        organisation=organisation,
        operation_id=operation.pk,
        presumed_child=age_group != AgeGroup.ADULT,
        answers=_draft_answers(
            name=name,
            sex=sex,
            age_group=age_group,
            language=language,
            needs=needs,
            interpreter=interpreter,
        ),
    )
    # One of 10**12: not looked up first (a statement less per person on a busy night); the
    # unique constraint refuses the rare repeat, and reception_take_in tries again.
    reference = new_reference(REFERENCE_PREFIX)
    leads = _children_services_leads(operation) if age_group != AgeGroup.ADULT else {}
    # On PostgreSQL the lock makes responders take numbers in turn (held to the commit); SQLite
    # serialises writers anyway. The unique constraint is what guarantees no two people share
    # a number.
    Operation.objects.select_for_update().filter(pk=operation.pk).first()
    _check_not_sent(operation, by, *submission)
    record = ReceptionRecord.objects.create(
        operation=operation,
        sequence=_next_sequence(operation),
        reference=reference,
        taken_in_by=by,
        taken_in_at=timezone.now(),
        organisation=organisation,
        name_or_description=name,
        sex=sex,
        age_group=age_group,
        language=language,
        urgent_needs=needs,
        interpreter_needed=interpreter,
        draft=draft,
        submission_key=submission[0],
        submission_fingerprint=submission[1] if submission[0] else "",
    )
    told = _tell_children_services(operation, record, leads) if record.is_child else 0
    audit_record(
        by=by,
        action="operations.person_taken_in",
        obj=record,
        organisation=operation.lead_organisation,
        detail={
            "sequence": record.sequence,
            "age_group": age_group,
            "draft": str(draft.public_id),
            "children_services_told": told,
            "needs_bed": ImmediateNeed.BED_TONIGHT in needs,
        },
    )
    return record


@transaction.atomic
def reception_missing(*, by: User, record: ReceptionRecord, missing: bool) -> ReceptionRecord:
    """Record that a person taken in has gone missing before their referral was submitted, or
    that they were found again. Only someone who may see who they are (the responder who took
    them in, or a lead responder) records it. Once a case exists, going missing is the case's
    to record: the decision maker suspends the RG, and the board reads that."""
    record = ReceptionRecord.objects.select_for_update().get(pk=record.pk)
    actor = Actor.of_session(by)
    lead_responder = selectors.is_lead_responder(actor, record.operation)
    if not selectors.may_see_name(actor, record, lead_responder):
        raise PermissionDenied("Only the responder who took them in or the lead's may record it")
    if record.draft is not None and record.draft.case_id is not None:
        raise ValidationError(
            "Their referral has been submitted: the competent authority records it on the case"
        )
    if missing == (record.missing_since is not None):
        raise ValidationError(
            "They are already recorded as missing"
            if missing
            else "They are not recorded as missing"
        )
    record.missing_since = timezone.now() if missing else None
    record.missing_recorded_by = by if missing else None
    record.save(update_fields=["missing_since", "missing_recorded_by"])
    child = record.is_child or record.found_child_at is not None
    audit_record(
        by=by,
        action="operations.person_missing" if missing else "operations.person_found",
        obj=record,
        organisation=record.operation.lead_organisation,
        detail={"operation": record.operation_id, "sequence": record.sequence}
        | (
            {"children_services_told": _tell_children_services_missing(record, missing)}
            if child
            else {}
        ),
    )
    return record


@transaction.atomic
def reception_draft_hand_over(*, by: User, record: ReceptionRecord, to: User) -> ReceptionRecord:
    """Give the referral draft of a person taken in to another first responder of the
    organisation that took them in, to complete (ADR 0043). A safeguarding lead may take people
    in but does not make referrals, so the draft they start is handed to a first responder; a
    responder going off shift hands theirs over too. Only the draft's holder, while they still
    take people in for its organisation (`selectors.may_hand_over`), or a safeguarding lead of
    that organisation hands it over, and only while it is a draft. The new holder is told
    (naming nobody); one audit event."""
    record = (
        ReceptionRecord.objects.select_for_update().select_related("operation").get(pk=record.pk)
    )
    draft = (
        ReferralDraft.objects.select_for_update().filter(pk=record.draft_id).first()
        if record.draft_id is not None
        else None
    )
    if draft is None or not selectors.may_hand_over(Actor.of_session(by), record, draft):
        raise PermissionDenied("Only the draft's holder or a safeguarding lead may hand it over")
    if draft.status != DraftStatus.DRAFT:
        raise ValidationError(
            {"to": "Their referral has been submitted: there is no draft left to hand over"}
        )
    if to.pk == draft.created_by_id:
        raise ValidationError({"to": "Choose someone other than who holds the draft now"})
    if not selectors.draft_receivers(draft).filter(pk=to.pk).exists():
        raise ValidationError(
            {"to": "Choose a first responder of the organisation that took the person in"}
        )
    previous = draft.created_by_id
    draft.created_by = to
    # Its new holder has not been told when retention deletes it: the count starts again, so
    # they are told with the full notice (referrals.services.drafts_deletion_warn).
    draft.deletion_warned_at = None
    draft.save(update_fields=["created_by", "deletion_warned_at"])
    operation = record.operation
    deliver(
        recipients=[to],
        kind="operations.draft_handed_over",
        subject=f"{operation.name}: a referral to complete (person {record.sequence})",
        body=f"The referral draft of person {record.sequence} taken in during {operation.name} "
        "was handed to you to complete. It is in Your referrals.",
        url=reverse("referrals:task_list", args=[draft.public_id]),
        organisation=draft.organisation,
    )
    audit_record(
        by=by,
        action="operations.draft_handed_over",
        obj=record,
        organisation=operation.lead_organisation,
        detail={
            "operation": record.operation_id,
            "sequence": record.sequence,
            "draft": str(draft.public_id),
            "from": previous,
            "to": to.pk,
        },
    )
    return record


def reception_names_shown(*, by: User, operation: Operation, sequences: Iterable[int]) -> None:
    """Record that `by` is being shown the names or descriptions of these people taken in (the
    board, the reception API), before they are; nothing if none is."""
    shown = sorted(set(sequences))
    if shown:
        audit_read(
            by=by,
            person=None,
            fields=["reception.name_or_description"],
            obj=operation,
            organisation=operation.lead_organisation,
            context={"reception_sequences": shown},
        )


def reception_names_unreferred_delete(*, taken_in_before: Any) -> int:
    """Empty the name or description of each person taken in before `taken_in_before` who has
    no case: their draft deleted (an adult who declined, or left unsubmitted until retention
    deleted it) or sent as a duty-to-notify report, which holds no identity. No erasure can
    reach them (there is no person record); the draft's retention period is theirs. How many.
    Called only by `privacy.services.retention_apply`, whose audit event covers it."""
    unreferred = ReceptionRecord.objects.filter(taken_in_at__lt=taken_in_before).filter(
        Q(draft__isnull=True) | Q(draft__status=DraftStatus.REPORTED)
    )
    # The name is encrypted, so "still there" is read here, not asked of the database: people
    # taken in are hundreds, not millions.
    named = [
        pk for pk, name in unreferred.values_list("pk", "name_or_description").iterator() if name
    ]
    return ReceptionRecord.objects.filter(pk__in=named).update(
        name_or_description="", submission_fingerprint=""
    )


def reception_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty the name or description of each person taken in whose draft became one of these
    cases. The operation, sequence, sex, age group, language and needs stay, for the figures.
    Called only inside `privacy.services`' erasure, whose audit event covers it."""
    # The submission's fingerprint is a keyed hash of the name too (`_fingerprint`): it goes
    # with it.
    return {
        "reception_names": ReceptionRecord.objects.filter(draft__case_id__in=case_ids).update(
            name_or_description="", submission_fingerprint=""
        ),
    }


@transaction.atomic
def history_rollup_rebuild(today: date | None = None) -> int:
    """Count the forecast's history ahead (ADR 0053): every case submitted before today, with
    all recorded of it now, per month, sex, age group and area (`HistoryMonth`), and its stays
    by length (`HistoryStay`), replacing the last count in one transaction (a forecast made
    meanwhile reads the old count or the new, never half of each). Returns the rows written.
    Run by the morning task (`tasks.check_operation_shortfalls`)."""
    today = today or timezone.localdate()
    referrals, stays = history.counted_ahead(today)
    months = [
        HistoryMonth(
            month=row["month"],
            sex=row["person__sex"],
            age_group=row["age_group"],
            area_key=row["area_key"],
            referred=row["referred"],
            needed=row["needed"],
        )
        for row in referrals
    ]
    lengths = [
        HistoryStay(
            month=row["month"],
            sex=row["request__case__person__sex"],
            age_group=row["request__case__age_group"],
            area_key=row["area_key"],
            days=history.days_of(row["length"]),
            ongoing=row["ongoing"],
            n=row["n"],
        )
        for row in stays
    ]
    HistoryMonth.objects.all().delete()
    HistoryStay.objects.all().delete()
    HistoryMonth.objects.bulk_create(months, batch_size=2000)
    HistoryStay.objects.bulk_create(lengths, batch_size=2000)
    HistoryRollup.objects.all().delete()
    HistoryRollup.objects.create(built_at=timezone.now(), covers_before=today)
    audit_record(
        by=None,
        action="operations.history_counted",
        detail={
            "months_rows": len(months),
            "stays_rows": len(lengths),
            "covers_before": today.isoformat(),
        },
    )
    return len(months) + len(lengths)
