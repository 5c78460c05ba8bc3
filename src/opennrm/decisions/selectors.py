"""Reads for decision makers: their authority's queues, one case, approvals, workload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor, members_with_role
from opennrm.accounts.models import User
from opennrm.accounts.roles import SUPPORT_PROVIDER_STAFF
from opennrm.cases import selectors as case_selectors
from opennrm.cases.choices import TREATED_AS_CHILD, AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_visible_to
from opennrm.lib.paging import count_up_to

from .models import (
    Decision,
    DecisionKind,
    DecisionState,
    LateRequester,
    Letter,
    LetterOccasion,
    ReconsiderationEvidence,
    ReconsiderationRequest,
    ReconsiderationState,
)

# A deadline within this many days is "due soon".
DUE_SOON_DAYS = 2


def authorities_of(actor: Actor) -> list[int]:
    return actor.organisation_ids_as(DECIDERS)


def cases_for_decider(actor: Actor) -> QuerySet[Case]:
    return Case.objects.filter(competent_authority_id__in=authorities_of(actor))


def case_get_for_decider(actor: Actor, reference: str) -> Case:
    try:
        return (
            cases_for_decider(actor)
            .select_related("competent_authority", "screening", "assigned_to")
            .get(reference=reference)
        )
    except Case.DoesNotExist:
        raise Http404 from None


QUEUES: dict[str, tuple[str, CaseStatus, str]] = {
    # name: (title, status, the date that orders it)
    "reasonable-grounds": (
        "Awaiting reasonable grounds",
        CaseStatus.AWAITING_REASONABLE_GROUNDS,
        "reasonable_grounds_due",
    ),
    "conclusive-grounds": (
        "Awaiting conclusive grounds",
        CaseStatus.RECOVERY_PERIOD,
        "conclusive_grounds_from",
    ),
    "reconsiderations": (
        "Reconsiderations",
        CaseStatus.RECONSIDERATION,
        "reconsideration_decide_by",
    ),
}

# Cases a queue also holds, in a status of their own, listed apart on its page (`queue(...,
# apart=True)`): a case suspended while the person was missing still waits for its reasonable
# grounds decision (`services.REASONABLE_GROUNDS_OPEN`; found again, the person is decided on).
# They are few. Sorted with the rest, two statuses would make the page sort the whole queue
# (the queue's index orders the cases of one status by date: ADR 55).
HELD_APART: dict[str, CaseStatus] = {"reasonable-grounds": CaseStatus.RG_SUSPENDED}


def statuses_of(name: str) -> tuple[CaseStatus, ...]:
    """Every status queue `name` holds: its own and the one it lists apart."""
    own = QUEUES[name][1]
    return (own, HELD_APART[name]) if name in HELD_APART else (own,)


# The queues whose date is a deadline. The conclusive grounds queue's date is the earliest day
# the decision may lawfully be made (the recovery period's minimum; ADR 30): a case in it can be
# decided from then on, and is never overdue or due.
DEADLINE_QUEUES = ("reasonable-grounds", "reconsiderations")


# What decisions reads of the care app, which imports this one (ADR 0020): care registers it
# from `CareConfig.ready`, importing these functions, so the link is an import the import graph
# shows (`make imports`: care -> decisions), not a relation of the case read by its name.
#
# Of suspended cases annotated with the moment their suspension took effect (the annotation
# named by the second argument), those whose person was reported missing by then and is missing
# no longer (`care.selectors.back_from_missing_of`). Care's alone: the first registered is read.
BackFromMissing = Callable[[QuerySet[Case], str], QuerySet[Case]]
BACK_FROM_MISSING: list[BackFromMissing] = []
# The cases whose person the actor supports now (`care.selectors.cases_supported_now_by`): they
# read the answers to the case's reconsiderations, which tell the person to ask their support
# worker (`reconsideration_letter_get_for_reader`).
SupportedNow = Callable[[Actor], QuerySet[Case]]
SUPPORTED_NOW: list[SupportedNow] = []


def register_back_from_missing(finder: BackFromMissing) -> None:
    """Called by the care app from its `AppConfig.ready()`."""
    if finder not in BACK_FROM_MISSING:
        BACK_FROM_MISSING.append(finder)


def register_supported_now(finder: SupportedNow) -> None:
    """Called by the care app from its `AppConfig.ready()`."""
    if finder not in SUPPORTED_NOW:
        SUPPORTED_NOW.append(finder)


def back_from_missing() -> QuerySet[Case]:
    """The cases whose reasonable grounds decision was suspended while the person was missing
    and whose person is back: at least one missing episode reported on or before the suspension
    took effect, whenever its return was recorded (`care.services.missing_return`, even just
    before the suspension, by someone who had not seen it), and no missing episode open now.
    Found again, the person is decided on as one never missing would be (ADR 0010). A case
    missing now is not back; one with no missing episode reported by the suspension was
    suspended for another reason and is not either. One rule for every reader (the reminders,
    the operations board): a queryset of cases, filtered further by the caller. The missing
    episodes are read through what care registers (`register_back_from_missing`); without it
    nobody is recorded missing, so nobody is back."""
    suspended = Case.objects.filter(status=CaseStatus.RG_SUSPENDED)
    if not BACK_FROM_MISSING:
        return suspended.none()
    suspended_at = Subquery(
        Decision.objects.filter(
            case=OuterRef("pk"),
            kind=DecisionKind.REASONABLE_GROUNDS,
            outcome="suspended",
            state=DecisionState.IN_EFFECT,
        )
        .order_by("-decided_at", "-id")
        .values("decided_at")[:1]
    )
    back = BACK_FROM_MISSING[0](suspended.annotate(suspended_at=suspended_at), "suspended_at")
    return suspended.filter(pk__in=back.values("pk"))


def reminded(name: str, until: date) -> tuple[QuerySet[Case], ...]:
    """The cases of deadline queue `name` whose deadline is on or before `until`, as the daily
    reminders read them: those in the queue's own status, and of those it lists apart
    (`HELD_APART`) the ones that can be decided now (`back_from_missing`). Their deadline is
    the queue's date, the one its rows and the case page show (`QUEUES`; `cases.selectors.
    clocks_of`): it does not stop while the person is missing. Two reads, not one with an OR:
    each goes through the index on status and date."""
    _title, status, deadline = QUEUES[name]
    due = {f"{deadline}__lte": until}
    own = Case.objects.filter(status=status, **due)
    if name not in HELD_APART:
        return (own,)
    return own, back_from_missing().filter(**due)


def overdue(name: str, *, via: str = "") -> Q:
    """The cases of queue `name` past its deadline: what its "Overdue only" shows and what the
    workload counts, one definition for both. Nothing is overdue in a queue without a
    deadline. `via` reaches the case through a relation ("assigned_cases__")."""
    if name not in DEADLINE_QUEUES:
        return Q(**{f"{via}pk__in": []})
    deadline = QUEUES[name][2]
    return Q(
        **{f"{via}status__in": statuses_of(name), f"{via}{deadline}__lt": timezone.localdate()}
    )


def awaiting_approval() -> Exists:
    """Whether a decision on the case is made and waiting for a second decision maker's
    approval: until it is approved or refused no other decision can be recorded
    (`services.decision_refusal`), so the case is not one that "can be decided now"."""
    return Exists(
        Decision.objects.filter(case=OuterRef("pk"), state=DecisionState.AWAITING_APPROVAL)
    )


@dataclass(frozen=True)
class QueueFilter:
    assigned: str = "all"  # all, me, unassigned
    age_group: str = ""  # adult, child (children include age-disputed)
    overdue_only: bool = False
    # The deadline is today; in the conclusive grounds queue, which has no deadline, the
    # decision may be made today (the earliest date for it is today or has passed, and no
    # decision on the case is waiting for approval).
    due_today: bool = False


def queue(actor: Actor, name: str, filters: QueueFilter, *, apart: bool = False) -> QuerySet[Case]:
    """The cases of queue `name` in its own status, or with `apart` those it lists apart
    (`HELD_APART`; none if it has none), filtered, oldest date first."""
    _title, status, order = QUEUES[name]
    if apart:
        status = HELD_APART.get(name, status)
    cases = cases_for_decider(actor).filter(status=status)
    if apart and name not in HELD_APART:
        cases = cases.none()
    if filters.assigned == "me":
        cases = cases.filter(assigned_to=actor.user)
    elif filters.assigned == "unassigned":
        # Assigned to nobody, or to someone who no longer decides at the case's authority (who
        # left it, or moved to another role): nobody will decide it, as `deciders_to_tell` has
        # it. One EXISTS on memberships per case; no membership matches a case assigned to
        # nobody.
        cases = cases.filter(~_assignee_still_decides())
    if filters.age_group == "adult":
        cases = cases.filter(age_group=AgeGroup.ADULT)
    elif filters.age_group == "child":
        # "IN", not "NOT adult": the queue's age-group index can then count it from the index.
        cases = cases.filter(age_group__in=TREATED_AS_CHILD)
    if filters.overdue_only:
        cases = cases.filter(overdue(name))
    if filters.due_today and name in DEADLINE_QUEUES:
        cases = cases.filter(**{order: timezone.localdate()})
    elif filters.due_today:
        cases = cases.filter(~awaiting_approval(), **{f"{order}__lte": timezone.localdate()})
    return (
        cases.select_related("assigned_to", "referring_organisation")
        .only(
            "reference",
            "age_group",
            "status",
            "submitted_at",
            "reasonable_grounds_due",
            "conclusive_grounds_from",
            "recovery_period_ends",
            "reconsideration_decide_by",
            "version",
            "assigned_to__full_name",
            "referring_organisation__name",
        )
        .order_by(order, "submitted_at", "id")
    )


def deadline_tag(due: date | None, *, today: date | None = None) -> str:
    if due is None:
        return ""
    today = today or timezone.localdate()
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return ""


def queue_tag(name: str, when: date | None, *, today: date, awaiting_approval: bool = False) -> str:
    """The tag of a row of queue `name` dated `when`: its deadline's, or in a queue without a
    deadline, whether the decision can be made now (a later date is in the row already; a
    decision made and `awaiting_approval`, `cases_awaiting_approval` says, blocks any other)."""
    if name in DEADLINE_QUEUES:
        return deadline_tag(when, today=today)
    return "can_decide" if when is not None and when <= today and not awaiting_approval else ""


def _assignee_still_decides() -> Exists:
    """Whether the case's assignee still decides at its authority: false for a case assigned to
    nobody, and for one whose assignee left the authority or moved to another role."""
    return Exists(
        members_with_role(None, DECIDERS).filter(
            user=OuterRef("assigned_to"), organisation=OuterRef("competent_authority")
        )
    )


def cases_with_assignee_gone(case_ids: list[int]) -> set[int]:
    """Which of these cases are assigned to someone who no longer decides at the case's
    authority: the queue says nobody will decide them rather than name the one who left."""
    return set(
        Case.objects.filter(pk__in=case_ids, assigned_to__isnull=False)
        .filter(~_assignee_still_decides())
        .values_list("pk", flat=True)
    )


def cases_awaiting_approval(case_ids: list[int]) -> set[int]:
    """Which of these cases (a page of a queue, already read through the actor's access) have
    a decision waiting for approval: one query, however many rows."""
    return set(
        Decision.objects.filter(
            case_id__in=case_ids, state=DecisionState.AWAITING_APPROVAL
        ).values_list("case_id", flat=True)
    )


def approvals_pending(actor: Actor) -> QuerySet[Decision]:
    return (
        Decision.objects.filter(
            state=DecisionState.AWAITING_APPROVAL,
            case__competent_authority_id__in=authorities_of(actor),
        )
        .select_related("case", "decided_by")
        .order_by("decided_at")
    )


def queue_count(actor: Actor, name: str, filters: QueueFilter) -> int:
    """How many cases the queue page shows with these filters (its own selector, counted, and
    the cases it lists apart), up to the cap its page counts to (ADR 0055): at a million cases
    the exact count of those overdue took 133 ms of the home page. Above the cap, the sum says
    "more than" as each count does."""
    apart = count_up_to(queue(actor, name, filters, apart=True)) if name in HELD_APART else 0
    return count_up_to(queue(actor, name, filters)) + apart


def approvals_waiting_count(actor: Actor) -> int:
    """Negative decisions the actor may approve: those waiting on the approvals tab, less their
    own (another decision maker must approve those)."""
    return approvals_pending(actor).exclude(decided_by=actor.user).count()


def decision_get_for_decider(actor: Actor, decision_id: int) -> Decision:
    try:
        return Decision.objects.select_related("case", "decided_by").get(
            pk=decision_id, case__competent_authority_id__in=authorities_of(actor)
        )
    except Decision.DoesNotExist:
        raise Http404 from None


# The states of a decision that took effect: in effect, or superseded once a reconsideration of
# it was accepted. A decision waiting for a second decision maker's approval, or refused it, is a
# draft of the competent authority: it may never take effect.
TOOK_EFFECT = (DecisionState.IN_EFFECT, DecisionState.SUPERSEDED)


def decisions_shown(actor: Actor, case: Case) -> QuerySet[Decision]:
    """The decisions on `case` the actor may read (ADR 0017, addendum 2026-12-05, stop 37): all
    of them, drafts marked as such, for the decision makers of its competent authority; for
    everyone else who may open the case (the referrer, support, the local authority) only those
    that took effect. A negative decision awaiting approval is not a decision yet, and one
    refused approval never will be: its outcome and reasons are not the authority's finding."""
    decisions = case.decisions.all()
    if case_selectors.may_decide(actor, case):
        return decisions
    return decisions.filter(state__in=TOOK_EFFECT)


RECONSIDERABLE = (
    CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
    CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
    CaseStatus.DISQUALIFIED,
)


def may_take_in_reconsideration(actor: Actor, case: Case) -> bool:
    """Whether the actor decides for the case's competent authority and may take in a request
    for reconsideration that reached it by letter or e-mail (`services.reconsideration_take_late`):
    a negative decision that can be reconsidered, while the window is open (a request that
    reached the authority in time) and after it (in time, or late in exceptional circumstances:
    the day it arrived says which)."""
    return (
        case_selectors.may_decide(actor, case)
        and case.status in RECONSIDERABLE
        and case.reconsideration_until is not None
    )


def reconsideration_late_refusal(case: Case) -> str | None:
    """Why a request for reconsideration made through OpenNRM today is refused as late, or None
    if it is not late (in time, or there is nothing to reconsider: `services` says so). The
    referrer or support provider whose window closed while they wrote is shown it with what
    they typed, not a page not found (ADR 0017, addendum 2026-12-05, stop 37)."""
    until = case.reconsideration_until
    if case.status not in RECONSIDERABLE or until is None or timezone.localdate() <= until:
        return None
    return (
        f"Reconsideration could be asked for until {until:%-d %B %Y}, "
        "and that time has passed. The competent authority takes a late request only in "
        f"exceptional circumstances: write to {case.competent_authority.name} directly, "
        "giving them. The person may also take legal advice on a judicial review."
    )


def letter_get_for_reader(actor: Actor, decision_id: int) -> Letter:
    """The letter issued for a decision, for those who may see its case: the decision makers
    who send it and the referrer who explains it. Once the person's details are erased the
    letter's text is gone, and so is the letter, as far as anyone can open it."""
    try:
        return Letter.objects.select_related("decision", "case__person").get(
            decision_id=decision_id,
            reconsideration__isnull=True,
            occasion=LetterOccasion.DECISION,
            case__in=cases_visible_to(actor),
            text__isnull=False,
        )
    except Letter.DoesNotExist:
        raise Http404 from None


def adult_dates_letter_get_for_reader(actor: Actor, letter_id: int) -> Letter:
    """A letter stating the adult dates a change of age group gave the case
    (`LetterOccasion.ADULT_DATES`), for the readers of the decision's own letter
    (`letter_get_for_reader`), and gone with the person's details as it is."""
    try:
        return Letter.objects.select_related("decision", "case__person").get(
            pk=letter_id,
            occasion=LetterOccasion.ADULT_DATES,
            case__in=cases_visible_to(actor),
            text__isnull=False,
        )
    except Letter.DoesNotExist:
        raise Http404 from None


def _supported_now(actor: Actor) -> Q:
    """Letters of the cases whose person the actor supports now (`SUPPORTED_NOW`, registered by
    care); none without it."""
    return reduce(or_, (Q(case__in=finder(actor)) for finder in SUPPORTED_NOW), Q(pk__in=[]))


def _support_readers(actor: Actor) -> Q:
    """The answers to reconsiderations a support provider's staff read (ADR 0017, addenda of
    stops 39 and 42): those their provider asked for, and those of the cases whose person they
    support now, whoever asked: every answer tells the person to ask their support worker to
    help them find a solicitor, or what support they can get now, and that worker is today's
    (the support plan links them). Never the decision's own letter."""
    return _supported_now(actor) | Q(
        reconsideration__support_provider_id__in=actor.organisations_as(SUPPORT_PROVIDER_STAFF)
    )


def reconsideration_letter_get_for_reader(actor: Actor, request_id: int) -> Letter:
    """The letter issued when a reconsideration was decided, for the same readers as the
    decision's letter (`letter_get_for_reader`) and for the support provider that asked for it
    or supports the person now (`_support_readers`), and gone with the person's details as it
    is."""
    readers = Q(case__in=cases_visible_to(actor)) | _support_readers(actor)
    try:
        return Letter.objects.select_related("decision", "reconsideration", "case__person").get(
            readers, reconsideration_id=request_id, text__isnull=False
        )
    except Letter.DoesNotExist:
        raise Http404 from None


def reconsideration_letters_for_provider(actor: Actor, case: Case) -> QuerySet[Letter]:
    """The letters answering the reconsiderations of `case` that the actor reads as one who
    acts for a support provider (`SUPPORT_PROVIDER_STAFF`, who ask from the support plan): those
    their provider asked for, as they read back the evidence it sent, and, while it supports
    the person, the answers to every request (`_support_readers`), oldest first. A refusal tells
    the person to ask their support worker to help them find a solicitor. Never the decision's
    own letter."""
    return Letter.objects.filter(
        _support_readers(actor), case=case, reconsideration__isnull=False, text__isnull=False
    ).select_related("reconsideration__decision")


def reconsideration_get_for_decider(actor: Actor, request_id: int) -> ReconsiderationRequest:
    try:
        return ReconsiderationRequest.objects.select_related(
            "case", "decision", "requested_by"
        ).get(pk=request_id, case__competent_authority_id__in=authorities_of(actor))
    except ReconsiderationRequest.DoesNotExist:
        raise Http404 from None


def reconsideration_evidence_get(
    actor: Actor, case: Case, evidence_id: int
) -> ReconsiderationEvidence:
    """A file sent with a reconsideration of `case` (fetched through `case_get_for_user`): any,
    for a decider of its authority; for a first responder of the organisation that referred
    it, only what the referrer sent (a support provider's files can say where the person
    lives, which a referrer is never told): a late request taken in by a decision maker is
    theirs only if the first responder asked (`LateRequester`)."""
    files = ReconsiderationEvidence.objects.filter(request__case=case)
    if not case_selectors.may_decide(actor, case):
        if not case_selectors.is_referrer(actor, case):
            raise Http404
        files = files.filter(
            Q(request__late_asked_by="") | Q(request__late_asked_by=LateRequester.FIRST_RESPONDER),
            request__support_provider__isnull=True,
        )
    try:
        return files.get(pk=evidence_id)
    except ReconsiderationEvidence.DoesNotExist:
        raise Http404 from None


def reconsideration_evidence_sent_by_provider(actor: Actor) -> QuerySet[ReconsiderationEvidence]:
    """The files sent with reconsideration requests by the support providers the actor still
    works at as one who acts for them (`SUPPORT_PROVIDER_STAFF`, who ask from the support
    plan: `care.selectors.reconsideration_asker`): theirs to read back, and none of the case's
    other evidence. A provider that stops supporting the person keeps what it sent; erasing
    the person's details deletes it."""
    return ReconsiderationEvidence.objects.filter(
        request__support_provider_id__in=actor.organisations_as(SUPPORT_PROVIDER_STAFF)
    )


def reconsideration_evidence_get_for_provider(
    actor: Actor, reference: str, evidence_id: int
) -> ReconsiderationEvidence:
    try:
        return (
            reconsideration_evidence_sent_by_provider(actor)
            .select_related("request__case__person")
            .get(pk=evidence_id, request__case__reference=reference)
        )
    except ReconsiderationEvidence.DoesNotExist:
        raise Http404 from None


def open_reconsideration(case: Case) -> ReconsiderationRequest | None:
    return case.reconsiderations.filter(state=ReconsiderationState.REQUESTED).last()


def workload(actor: Actor) -> list[dict[str, object]]:
    """Open cases per decision maker of the actor's authorities, busiest first: the cases of
    those authorities only, which the actor's queues show (a decision maker of two authorities
    has, at each, that one's cases)."""
    open_statuses = [status for name in QUEUES for status in statuses_of(name)]
    authorities = authorities_of(actor)
    deciders = (
        members_with_role(None, DECIDERS)
        .filter(organisation_id__in=authorities)
        .values_list("user_id", flat=True)
    )
    own = Q(assigned_cases__competent_authority_id__in=authorities)
    rows = (
        User.objects.filter(pk__in=deciders)
        .annotate(
            open_cases=Count(
                "assigned_cases", filter=own & Q(assigned_cases__status__in=open_statuses)
            ),
            # Past the deadline of whichever queue the case is in, as its "Overdue only" shows.
            overdue=Count(
                "assigned_cases",
                filter=own
                & reduce(or_, (overdue(name, via="assigned_cases__") for name in DEADLINE_QUEUES)),
            ),
        )
        .order_by("-open_cases", "full_name")
    )
    return [{"user": u, "open_cases": u.open_cases, "overdue": u.overdue} for u in rows]


def deciders_of(case: Case) -> QuerySet[User]:
    ids = members_with_role(case.competent_authority_id, DECIDERS).values_list("user_id", flat=True)
    return User.objects.filter(pk__in=ids).order_by("full_name")
