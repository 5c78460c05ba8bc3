"""Reads of operations, always starting from who asks.

`operations_visible_to(actor)` is the one rule of who sees an operation (ADR 0039): the members
of its lead organisation and of the organisations invited to it, in a role that works on
operations (`READER_ROLES`). Every page, API route, count and list of operations starts from
it; everyone else gets 404, exactly as for an operation that does not exist.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.models import ImmediateNeed, PlacementRequestStatus, PlacementStatus
from opennrm.accounts.access import OPERATION_READERS
from opennrm.accounts.actor import Actor, members_with_role, role_givers
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import TREATED_AS_CHILD, CaseStatus
from opennrm.cases.choices import AgeGroup as CaseAgeGroup
from opennrm.cases.models import Case
from opennrm.decisions.selectors import back_from_missing
from opennrm.notifications.services import StandIn
from opennrm.referrals import steps
from opennrm.referrals.models import DraftStatus, ReferralDraft
from opennrm.referrals.selectors import draft_treats_as_child

# The module, not its function: surge -> gap_warning -> selectors -> surge is a cycle, and the
# function is read only when called.
from . import surge
from .forecast import expected_by_group
from .history import OperationForecast, operation_forecast
from .models import (
    PARTNER_KINDS,
    AgeGroup,
    ExpectedGroup,
    Operation,
    OperationPartner,
    PartnerRole,
    ReceptionRecord,
)

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
        surge=surge.surge_by_kind(operation),
    )


# --- Reception and the board (ADR 0043) -------------------------------------------------------

# Who takes people in: a first responder or a safeguarding lead...
RECEPTION_ROLES = frozenset({Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD})
# ...of the lead, or of a partner invited as police or as the local authority.
RECEPTION_PARTNER_ROLES = frozenset({PartnerRole.POLICE, PartnerRole.LOCAL_AUTHORITY})


def reception_organisation(actor: Actor, operation: Operation) -> Organisation | None:
    """The organisation through which the actor may take people in for the operation, if any
    (an API token's: its own organisation only)."""
    organisations = set(actor.organisations_as(RECEPTION_ROLES))
    if operation.lead_organisation_id in organisations:
        return operation.lead_organisation
    partner = (
        operation.partners.filter(
            organisation_id__in=organisations, role__in=list(RECEPTION_PARTNER_ROLES)
        )
        .select_related("organisation")
        .first()
    )
    return partner.organisation if partner is not None else None


class Standing(StrEnum):
    """Where a person taken in stands, derived from their draft, case and placements."""

    DRAFT = "draft"
    REFERRED = "referred"
    DUTY_TO_NOTIFY = "duty_to_notify"
    DECLINED = "declined"
    # A child or age-disputed person's draft gone (only retention deletes one): never "declined",
    # a child does not consent to a referral.
    NOT_REFERRED = "not_referred"
    PLACED = "placed"
    WAITING_FOR_BED = "waiting_for_bed"
    # An adult whose draft says they do not consent to support (or to a referral): no bed is
    # sought for them, so they never wait for one (stop 42).
    SUPPORT_REFUSED = "support_refused"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return STANDING_LABELS[self]


STANDING_LABELS = {
    Standing.DRAFT: "Draft referral",
    Standing.REFERRED: "Referred",
    Standing.DUTY_TO_NOTIFY: "Duty to notify only",
    Standing.DECLINED: "Declined: draft deleted",
    Standing.NOT_REFERRED: "Not referred: the draft was deleted",
    Standing.PLACED: "Placed",
    Standing.WAITING_FOR_BED: "Waiting for a bed",
    Standing.SUPPORT_REFUSED: "Support refused: no bed sought",
    Standing.MISSING: "Missing",
}

# A placement that has a person in a bed, or one they are on their way to.
_PLACED = [PlacementStatus.ACCEPTED, PlacementStatus.OCCUPIED]


# The name of `reception_of`'s annotation: whether the record's case is back from missing.
_BACK = "case_back_from_missing"


def _back_from_missing(record: ReceptionRecord, case: Case) -> bool:
    """Whether the person of a case suspended while they were missing is back
    (`decisions.selectors.back_from_missing`, the one rule the reminders read): from
    `reception_of`'s annotation, with no query per row; one query for a record read otherwise."""
    back = getattr(record, _BACK, None)
    if back is None:
        return back_from_missing().filter(pk=case.pk).exists()
    return bool(back)


def refuses_support(draft: ReferralDraft) -> bool:
    """Whether an adult's draft says they do not consent to support, or to a referral at all:
    no place is sought for them (as `accommodation.services` seeks none for a case whose
    person refused support), so they are not waiting for a bed, nor counted as needing one. A
    child, or a person whose age is disputed, is never asked to consent: never so."""
    if draft_treats_as_child(draft):
        return False
    consent = draft.answers.get("consent") or {}
    return consent.get("consents_to_support") == "no" or steps.refused(draft.answers)


def standing_of(record: ReceptionRecord) -> Standing:
    """Where the person stands now. Before a case exists, only the draft is known: an adult who
    needs a bed tonight waits for one (no placement request can be made without a case); a
    person who went missing before then is missing as recorded on the reception record."""
    draft = record.draft
    if record.missing_since is not None and (draft is None or draft.case_id is None):
        # Gone before a case existed: recorded on the reception record (no RG to suspend).
        return Standing.MISSING
    if draft is None:
        return Standing.NOT_REFERRED if record.treated_as_child else Standing.DECLINED
    if draft.status == DraftStatus.REPORTED:
        return Standing.DUTY_TO_NOTIFY
    case = draft.case
    if draft.status == DraftStatus.DRAFT or case is None:
        # A person who looked adult may say at the referral that they are under 18: from then
        # the draft's age page says so, and a child never waits for an adult's bed.
        child = record.treated_as_child or draft_treats_as_child(draft)
        if not child and refuses_support(draft):
            return Standing.SUPPORT_REFUSED
        needs_bed = ImmediateNeed.BED_TONIGHT in record.urgent_needs
        return Standing.WAITING_FOR_BED if needs_bed and not child else Standing.DRAFT
    if case.status == CaseStatus.RG_SUSPENDED and not _back_from_missing(record, case):
        # Suspended while missing, and not back: no return recorded since, or missing again.
        # Back, they stand where their placements say, as the reminders treat them (stop 41).
        return Standing.MISSING
    requests = case.placement_requests.all()
    # Placed only while a placement is accepted (on their way) or lived in: a request stays
    # `placed` after its stay ends, so a person who left their place (or was moved on) is not
    # placed any more; with a new request open, they wait for a bed (ADR 0043, stop 40).
    if any(
        placement.status in _PLACED
        for request in requests
        for placement in request.placements.all()
    ):
        return Standing.PLACED
    if any(request.status == PlacementRequestStatus.OPEN for request in requests):
        return Standing.WAITING_FOR_BED
    return Standing.REFERRED


# The case's age groups as the operation names them (age disputed: the case's presumed child).
_CASE_CHILD_GROUPS = {
    CaseAgeGroup.CHILD: AgeGroup.CHILD,
    CaseAgeGroup.PRESUMED_CHILD: AgeGroup.AGE_DISPUTED,
}


def age_group_now(record: ReceptionRecord) -> AgeGroup:
    """The person's age group as the operation counts them now (its report, public account and
    reception API): the case's, once a case treats them as a child (an age dispute raised on
    it, an assessment finding a child: the case is the latest word on their age); else the one
    recorded on the night, unless they were found to be a child at the referral since
    (`found_child_at`): then a child if the draft's age page says under 18, else age disputed
    (the page says so, or the draft is gone and only the finding is known). Never an adult once
    found to be a child (ADR 0043, 0046): not adult exactly when `record.treated_as_child`."""
    draft = record.draft
    case = draft.case if draft is not None else None
    if case is not None and case.is_child:
        return _CASE_CHILD_GROUPS[CaseAgeGroup(case.age_group)]
    if record.found_child_at is None:
        return AgeGroup(record.age_group)
    if draft is not None and steps.answered_age_group(draft.answers) == CaseAgeGroup.CHILD:
        return AgeGroup.CHILD
    return AgeGroup.AGE_DISPUTED


def reception_of(operation: Operation) -> QuerySet[ReceptionRecord]:
    """Everyone taken in during the operation, by number, with what their standing needs
    (whether a suspended case's person is back from missing too: `standing_of`)."""
    return (
        operation.reception.select_related("draft__case", "taken_in_by")
        .prefetch_related("draft__case__placement_requests__placements")
        .annotate(**{_BACK: Exists(back_from_missing().filter(pk=OuterRef("draft__case_id")))})
        .order_by("sequence")
    )


def _receives_for(actor: Actor, record: ReceptionRecord) -> bool:
    """Whether the actor still takes people in for the organisation that took this person in
    (a role of `RECEPTION_ROLES` in force there): what the responder who took them in, or the
    draft's holder, holds only while they do. One who left it, or moved to another role or to
    a partner of the operation, no longer acts for it (ADR 0043)."""
    return record.organisation_id in actor.organisation_ids_as(RECEPTION_ROLES)


def may_see_name(actor: Actor, record: ReceptionRecord, lead_responder: bool) -> bool:
    """The name or description of a person taken in shows only to the responder who took them
    in, while they still take people in for the organisation they took them in for, and to the
    lead's first responders; every other reader sees the number and standing."""
    if lead_responder:
        return True
    return record.taken_in_by_id == actor.user.pk and _receives_for(actor, record)


def may_hand_over(
    actor: Actor,
    record: ReceptionRecord,
    draft: ReferralDraft,
    safeguarding_lead_of: set[int] | None = None,
) -> bool:
    """Who may hand a reception draft to another first responder: the draft's holder, while
    they still take people in for the organisation that took the person in, or a safeguarding
    lead of that organisation (`safeguarding_lead_of`: the actor's organisations as one, read
    once for a whole board)."""
    if draft.created_by_id == actor.user.pk and _receives_for(actor, record):
        return True
    if safeguarding_lead_of is None:
        safeguarding_lead_of = set(actor.organisations_as([Role.SAFEGUARDING_LEAD]))
    return record.organisation_id in safeguarding_lead_of


def draft_receivers(draft: ReferralDraft) -> QuerySet[User]:
    """Who may be handed a reception draft: the first responders of its organisation, since a
    draft is completed and submitted in the organisation that started it."""
    ids = members_with_role(draft.organisation_id, {Role.FIRST_RESPONDER}).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("full_name", "email")


def is_lead_responder(actor: Actor, operation: Operation) -> bool:
    return operation.lead_organisation_id in set(actor.organisations_as([Role.FIRST_RESPONDER]))


def reception_record_for_reference(reference: str) -> ReceptionRecord | None:
    return (
        ReceptionRecord.objects.select_related("operation", "draft__case__person", "taken_in_by")
        .filter(reference=reference)
        .first()
    )


def lead_first_responders(operation: Operation) -> list[User]:
    """The lead organisation's first responders (told of a planned removal of a person taken
    in before their case exists)."""
    return [
        membership.user
        for membership in members_with_role(
            operation.lead_organisation_id, {Role.FIRST_RESPONDER}
        ).select_related("user")
    ]


# The partner roles told of a child taken in.
CHILDREN_SERVICES_ROLES = (PartnerRole.LOCAL_AUTHORITY, PartnerRole.CHILD_GUARDIAN_SERVICE)


def children_taken_in(operation: Operation) -> int:
    """How many people taken in during the operation are treated as children
    (`ReceptionRecord.treated_as_child`, counted in the database): taken in as a child or as
    age disputed, found to be one at referral since (`found_child_at`), or treated as one on
    their case since (an age dispute raised there)."""
    return operation.reception.filter(
        ~Q(age_group=AgeGroup.ADULT)
        | Q(found_child_at__isnull=False)
        | Q(draft__case__age_group__in=TREATED_AS_CHILD)
    ).count()


def children_untold(operation: Operation) -> int:
    """The children taken in when no local authority or child guardian service is invited to
    hear of them: the lead must invite one, even once the operation has ended."""
    return 0 if children_services_partners(operation) else children_taken_in(operation)


def children_services_partners(operation: Operation) -> list[int]:
    """The organisations invited to the operation as local authority or child guardian service:
    those told at once of a child taken in (services.reception_take_in)."""
    return list(
        operation.partners.filter(role__in=CHILDREN_SERVICES_ROLES).values_list(
            "organisation_id", flat=True
        )
    )


def safeguarding_leads_stand_in(organisation: Organisation) -> StandIn:
    """Who is told instead, when a children's services partner of an operation has no
    safeguarding lead left to hear of a child taken in (`services._tell_children_services`), and
    what: its administrators, who can give someone the role (else the system administrators,
    who can in any organisation), that news waits for a safeguarding lead. They do not work on
    the operation and may not read of it, which may be confidential: the notice names no
    operation, person or child, and links to the organisation's members (ADR 8, 39).
    For `notifications.services.deliver(stand_in=...)`."""
    return StandIn(
        recipients=role_givers(organisation.pk),
        kind="operations.no_safeguarding_lead",
        subject=f"{organisation.name} has no safeguarding lead to hear news of an operation",
        body=f"There is news for {organisation.name} from an enforcement operation it is invited "
        "to, but nobody there has the safeguarding lead role now, so nobody could be told. Give "
        "a member the safeguarding lead role: they will see the operation and what has happened "
        "in it. This message says no more because only the people working on the operation may "
        "read of it.",
        url=reverse("accounts:member_list", args=[organisation.pk]),
    )


def taken_in_message(operation: Operation, record: ReceptionRecord) -> str:
    """What the responder is told once a person is taken in (the page and the API)."""
    if not record.is_child:
        return f"Person {record.sequence} taken in"
    if children_services_partners(operation):
        return f"Person {record.sequence} taken in and treated as a child: children's services told"
    # Never a silent gap for a child: say who has not been told, and what to do.
    return (
        f"Person {record.sequence} taken in and treated as a child. No local authority or child "
        "guardian service is invited to this operation, so none has been told yet: ask the lead "
        "to invite the local authority now (it is told at once of every child taken in so far). "
        "Submitting the referral tells the local authority of the area."
    )
