"""The decisions API: the competent authority's queues, decisions, approvals, reconsiderations
and assignment, through the same selectors, forms and services as the decision pages.

Every record is found with the decision pages' selectors, from the token's actor (its member's
roles in the token's organisation only: `accounts.actor`), so a decision maker's token reaches
its own competent authority's cases only, even if its member decides elsewhere too. A body is checked by the page's own form, then the page's
service decides: a refusal is 422 naming the field where the service names one, and a case that
changed since the client read it is 409. Nothing here shows who the person is: rows and
decisions carry codes, dates and states, never names or free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from opennrm.accounts.actor import Actor, actor_of
from opennrm.api.schemas import (
    AUTH_ERRORS,
    MAX_OFFSET,
    ErrorsOut,
    error_out,
    field_errors_out,
    refusal,
)
from opennrm.cases import selectors as case_selectors
from opennrm.cases.api import case_for_api
from opennrm.cases.models import Case
from opennrm.policy.profiles import NoProfileError, Outcome, PolicyProfile, profile_for

from . import selectors, services
from .forms import (
    ApprovalForm,
    DecisionForm,
    DisqualificationForm,
    ReconsiderationDecisionForm,
    ReconsiderationRequestForm,
)
from .models import Decision, ReconsiderationRequest, ReconsiderationState

router = Router(tags=["Decisions"])

# The most rows one request returns, as for the referral list.
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
APPROVALS = "approvals"
# Every error response a write can give, besides 401 and 403.
WRITE_ERRORS: dict[int, type[Schema]] = {404: ErrorsOut, 409: ErrorsOut, 422: ErrorsOut}


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


# --- What the API shows of a case and its decisions ---------------------------------------------


ASSIGNED_TO = (
    "The decision maker the case is assigned to; null if nobody decides it: assigned to "
    "nobody, or to someone who has since left the competent authority or no longer decides "
    "there (the queues' `assigned=unassigned` lists both)"
)


class CaseStateOut(Schema):
    reference: str
    status: str = Field(description="The case's status code, e.g. 'awaiting_rg', 'recovery'")
    status_label: str
    version: int = Field(
        description="Changes whenever the case does. Send it back as `expected_version`: if "
        "someone else changed the case meanwhile, the request is refused with 409."
    )
    assigned_to: str | None = Field(description=ASSIGNED_TO)


class DecisionOut(Schema):
    id: int
    kind: str = Field(
        description="reasonable_grounds, conclusive_grounds, disqualification or recovery_extension"
    )
    kind_label: str
    outcome: str = Field(
        description="The outcome's code in the policy profile applied; for a disqualification "
        "its ground, public_order or bad_faith ('disqualified' if recorded without one)"
    )
    outcome_label: str
    outcome_kind: str = Field(description="positive, negative or not_decided")
    negative_reason: str | None = Field(
        description="A negative reasonable or conclusive grounds decision's main reason, a code "
        "of the negative reasons catalogue (e.g. 'no_means', 'not_credible'); '' if it was "
        "decided before reasons were coded (not recorded); null for any other decision"
    )
    negative_reason_label: str | None
    state: str = Field(description="awaiting_approval, in_effect or approval_refused")
    state_label: str
    decided_at: datetime
    approved_at: datetime | None = Field(
        description="When a second decision maker approved or refused it, if that was needed"
    )
    policy_profile_key: str = Field(description="The policy profile the decision applied")
    policy_profile_version: str
    indicators_relied_on: list[str] = Field(description="Indicator codes")
    evidence_relied_on: list[int] = Field(description="Evidence file ids")
    extension_days: int | None = Field(description="For an extension of the recovery period")
    replaces: int | None = Field(
        description="The decision this one replaces, after an accepted reconsideration"
    )


class DecisionMadeOut(DecisionOut):
    case: CaseStateOut = Field(description="The case after the decision")


class ReconsiderationOut(Schema):
    id: int
    decision: int = Field(description="The decision to be reconsidered")
    state: str = Field(description="requested, accepted or refused")
    state_label: str
    requested_at: datetime
    decided_at: datetime | None


class ReconsiderationMadeOut(ReconsiderationOut):
    case: CaseStateOut = Field(description="The case after the request or its decision")


def case_state_out(case: Case) -> CaseStateOut:
    return CaseStateOut(
        reference=case.reference,
        status=case.status,
        status_label=case.get_status_display(),
        version=case.version,
        assigned_to=_decider_name(case, _assignees_gone([case])),
    )


def _assignees_gone(cases: Sequence[Case]) -> set[int]:
    """Which of these cases are assigned to someone who no longer decides at its authority
    (one query, none if no case is assigned)."""
    assigned = [case.pk for case in cases if case.assigned_to_id is not None]
    return selectors.cases_with_assignee_gone(assigned) if assigned else set()


def _decider_name(case: Case, gone: set[int]) -> str | None:
    """The name of the decision maker who decides the case; None if nobody does. Not the name
    of an assignee who has left (`gone`), as the queue page says "Nobody" for them: a system
    that takes a named assignee for "someone is on it" would leave the case undecided while
    its clock runs (found in review)."""
    if case.assigned_to is None or case.pk in gone:
        return None
    return case.assigned_to.full_name


def decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(**_decision_fields(decision))


def _decision_fields(decision: Decision) -> dict[str, Any]:
    # Deliberately not the reasons or the approval note: free text that can name the person.
    return {
        "id": decision.pk,
        "kind": decision.kind,
        "kind_label": decision.get_kind_display(),
        "outcome": decision.outcome,
        "outcome_label": decision.outcome_label,
        "outcome_kind": decision.outcome_kind,
        "negative_reason": (
            decision.negative_reason if decision.negative_reason_label is not None else None
        ),
        "negative_reason_label": decision.negative_reason_label,
        "state": decision.state,
        "state_label": decision.get_state_display(),
        "decided_at": decision.decided_at,
        "approved_at": decision.approved_at,
        "policy_profile_key": decision.policy_profile_key,
        "policy_profile_version": decision.policy_profile_version,
        "indicators_relied_on": list(decision.indicators_relied_on),
        "evidence_relied_on": list(decision.evidence_relied_on),
        "extension_days": decision.extension_days,
        "replaces": decision.replaces_id,
    }


def reconsideration_out(request: ReconsiderationRequest) -> ReconsiderationOut:
    return ReconsiderationOut(**_reconsideration_fields(request))


def _reconsideration_fields(request: ReconsiderationRequest) -> dict[str, Any]:
    # Deliberately not the grounds or the reasons: free text that can name the person.
    return {
        "id": request.pk,
        "decision": request.decision_id,
        "state": request.state,
        "state_label": request.get_state_display(),
        "requested_at": request.requested_at,
        "decided_at": request.decided_at,
    }


def _case_now(case: Case) -> CaseStateOut:
    return case_state_out(Case.objects.select_related("assigned_to").get(pk=case.pk))


def decision_made_out(decision: Decision) -> DecisionMadeOut:
    return DecisionMadeOut(**_decision_fields(decision), case=_case_now(decision.case))


def reconsideration_made_out(request: ReconsiderationRequest) -> ReconsiderationMadeOut:
    return ReconsiderationMadeOut(**_reconsideration_fields(request), case=_case_now(request.case))


# --- One case, with its decisions (the cases API shows its timeline) --------------------------

# The dates stored on a case when its clocks start (never recomputed on reading), in the order
# and with the words of the case page (`selectors.clocks_of`).
# --- One case ---------------------------------------------------------------------------------


class ClockOut(Schema):
    name: str = Field(
        description="reasonable_grounds_due (while awaited), recovery_period_ends, "
        "support_ends (the support the jurisdiction's own law gives: Scotland's s.9, Northern "
        "Ireland's s.18), conclusive_grounds_from, reconsideration_until, "
        "reconsideration_decide_by (while awaited) or move_on_ends; never an adult's "
        "support clock for a child"
    )
    label: str
    date: date
    current: bool = Field(
        description="true if this clock runs in the case's status. A clock that does not is no "
        "deadline now: a date kept from an earlier stage, or one that starts later"
    )
    until_decision: bool = Field(
        description="support_ends only: true while the support runs until the conclusive "
        "grounds decision, still awaited (Northern Ireland's s.18(3)). `date` is then no end, "
        "only the earliest a positive decision would end it"
    )
    days_left: int | None = Field(
        description="Days from today, negative once the date has passed; null when the clock "
        "is not current, as a countdown would misread it (support stopped when it runs on)"
    )


class CaseOut(CaseStateOut):
    submitted_at: datetime
    age_group: str = Field(description="adult, child, or presumed_child (age disputed)")
    jurisdiction: str
    competent_authority: str
    referring_organisation: str
    clocks: list[ClockOut] = Field(description="Only the clocks that have started")
    decisions: list[DecisionOut] = Field(
        description="Oldest first; drafts (awaiting_approval, approval_refused) only for the "
        "competent authority's decision makers"
    )
    reconsiderations: list[ReconsiderationOut] = Field(description="Oldest first")


def clocks_out(case: Case) -> list[ClockOut]:
    """The clocks the case page shows (`cases.selectors.clocks_of`): an adult's support clocks
    never for a child, a decision's target only while it is awaited. As on the page, a countdown
    only for a clock that runs now: "-15 days" for Northern Ireland's s.18 support while the
    conclusive decision is awaited would read as support ended, when it runs on."""
    return [
        ClockOut(
            name=str(row["name"]),
            label=str(row["label"]),
            date=row["date"],  # type: ignore[arg-type]
            current=bool(row["current"]),
            until_decision=bool(row.get("until_decision", False)),
            days_left=int(row["days_left"]) if row["current"] else None,  # type: ignore[call-overload]
        )
        for row in case_selectors.clocks_of(case)
    ]


def case_out(case: Case, actor: Actor) -> CaseOut:
    """The case as `actor` may read it: drafts of decisions only for its decision makers
    (`selectors.decisions_shown`)."""
    return CaseOut(
        reference=case.reference,
        status=case.status,
        status_label=case.get_status_display(),
        version=case.version,
        assigned_to=_decider_name(case, _assignees_gone([case])),
        submitted_at=case.submitted_at,
        age_group=case.age_group,
        jurisdiction=case.jurisdiction,
        competent_authority=case.competent_authority.name,
        referring_organisation=case.referring_organisation.name,
        clocks=clocks_out(case),
        decisions=[decision_out(d) for d in selectors.decisions_shown(actor, case)],
        reconsiderations=[reconsideration_out(r) for r in case.reconsiderations.all()],
    )


@router.get(
    "/cases/{reference}",
    tags=["Cases"],
    url_name="case",
    operation_id="case_get",
    summary="One case: status, clocks and decisions",
    response={200: CaseOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def case_get(request: HttpRequest, reference: str) -> CaseOut:
    """A case the token's member may open on the case pages: its status, the dates its clocks
    set with the days left, and its decisions with their outcome, state and the policy profile
    they applied: every one for the competent authority's decision makers, drafts (waiting for
    approval, or refused it) included; only those that took effect for anyone else. 404 alike
    if there is no such case or the member may not see it."""
    return case_out(case_for_api(request, reference), actor_of(request))


# --- Queues -----------------------------------------------------------------------------------


class PendingDecisionOut(Schema):
    id: int = Field(description="Approve or refuse it at POST /api/v1/decisions/{id}/approval")
    kind: str
    kind_label: str
    outcome: str
    outcome_label: str
    negative_reason_label: str | None = Field(description="The main reason, in words")
    decided_at: datetime


class QueueRowOut(Schema):
    reference: str
    status: str
    status_label: str
    version: int = Field(description="Send it back as `expected_version` to act on the case")
    age_group: str = Field(description="adult, child, or presumed_child (age disputed)")
    submitted_at: datetime
    due_date: date | None = Field(
        description="Awaiting reasonable grounds: the decision's due date. Awaiting conclusive "
        "grounds: the earliest date it may be made. Reconsiderations: the date to decide by. "
        "Null for approvals."
    )
    deadline: Literal["overdue", "due_soon", "can_decide", "none"] = Field(
        description="A queue with a deadline (reasonable grounds, reconsiderations): overdue "
        f"once the due date has passed, due_soon within {selectors.DUE_SOON_DAYS} days of it. "
        "The conclusive grounds queue has no deadline: can_decide once the earliest date has "
        "come. none otherwise"
    )
    assigned_to: str | None = Field(description=ASSIGNED_TO)
    referring_organisation: str
    reconsideration: int | None = Field(
        description="The reconsiderations queue: the open request, to decide at "
        "POST /api/v1/reconsiderations/{id}/decision; null in the other queues",
    )
    decision: PendingDecisionOut | None = Field(
        description="The approvals queue: the decision waiting for approval; null in the other "
        "queues"
    )


class QueuePageOut(Schema):
    items: list[QueueRowOut]
    count: int = Field(description="How many rows the queue has, with these filters")


Deadline = Literal["overdue", "due_soon", "can_decide", "none"]
DEADLINES: tuple[Deadline, ...] = ("overdue", "due_soon", "can_decide")


def _deadline(name: str, due: date | None, awaiting_approval: bool = False) -> Deadline:
    """The queue page's tag of a row (`selectors.queue_tag`), "none" for no tag."""
    tag = selectors.queue_tag(
        name, due, today=timezone.localdate(), awaiting_approval=awaiting_approval
    )
    return next((known for known in DEADLINES if known == tag), "none")


def _queue_row(
    case: Case,
    due: date | None,
    name: str,
    awaiting_approval: bool,
    *,
    gone: set[int],
    reconsideration: int | None,
    decision: PendingDecisionOut | None,
) -> QueueRowOut:
    """One row; `reconsideration` and `decision` are always sent (null where the queue has
    none), so the OpenAPI document marks them required. `gone`: the page's cases whose
    assignee no longer decides (`_assignees_gone`)."""
    return QueueRowOut(
        reference=case.reference,
        status=case.status,
        status_label=case.get_status_display(),
        version=case.version,
        age_group=case.age_group,
        submitted_at=case.submitted_at,
        due_date=due,
        deadline=_deadline(name, due, awaiting_approval),
        assigned_to=_decider_name(case, gone),
        referring_organisation=case.referring_organisation.name,
        reconsideration=reconsideration,
        decision=decision,
    )


def _due_field(name: str) -> str:
    """The date a case queue is ordered by, as the queue page shows it."""
    _title, _status, order = selectors.QUEUES[name]
    return order


def _case_rows(
    actor: Actor,
    name: str,
    filters: selectors.QueueFilter,
    limit: int,
    offset: int,
    *,
    apart: bool = False,
) -> QueuePageOut:
    cases: QuerySet[Case] = selectors.queue(actor, name, filters, apart=apart)
    if name == "reconsiderations":
        cases = cases.annotate(
            open_request=Subquery(
                ReconsiderationRequest.objects.filter(
                    case=OuterRef("pk"), state=ReconsiderationState.REQUESTED
                )
                .order_by("-requested_at", "-id")
                .values("pk")[:1]
            )
        )
    due_field = _due_field(name)
    page = list(cases[offset : offset + limit])
    waiting = selectors.cases_awaiting_approval([case.pk for case in page])
    gone = _assignees_gone(page)
    rows = [
        _queue_row(
            case,
            getattr(case, due_field),
            name,
            case.pk in waiting,
            gone=gone,
            reconsideration=getattr(case, "open_request", None),
            decision=None,
        )
        for case in page
    ]
    return QueuePageOut(items=rows, count=cases.count())


def _approval_rows(actor: Actor, limit: int, offset: int, *, apart: bool) -> QueuePageOut:
    """The decisions waiting for approval; with `apart` (`suspended=true`) none, as in every
    queue that lists no cases apart (`selectors.queue`)."""
    decisions = selectors.approvals_pending(actor).select_related(
        "case__assigned_to", "case__referring_organisation"
    )
    if apart:
        decisions = decisions.none()
    pending = list(decisions[offset : offset + limit])
    gone = _assignees_gone([d.case for d in pending])
    rows = [
        _queue_row(
            d.case,
            None,
            "",
            False,
            gone=gone,
            reconsideration=None,
            decision=PendingDecisionOut(
                id=d.pk,
                kind=d.kind,
                kind_label=d.get_kind_display(),
                outcome=d.outcome,
                outcome_label=d.outcome_label,
                negative_reason_label=d.negative_reason_label,
                decided_at=d.decided_at,
            ),
        )
        for d in pending
    ]
    return QueuePageOut(items=rows, count=decisions.count())


@router.get(
    "/queues/{name}",
    url_name="queue",
    operation_id="queue_list",
    summary="One of the competent authority's decision queues",
    response={200: QueuePageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def queue_list(
    request: HttpRequest,
    name: str,
    assigned: Literal["all", "me", "unassigned"] = Query(
        "all",
        description="me: assigned to the token's member; unassigned: to nobody, or to someone who no "
        "longer decides at the case's authority",
    ),
    age_group: Literal["adult", "child"] | None = Query(
        None, description="child includes people whose age is disputed"
    ),
    overdue: bool = Query(
        False,
        description="Only cases past their deadline (the reasonable grounds due date, the "
        "reconsideration's decide-by date); none in the conclusive grounds queue, which has no "
        "deadline",
    ),
    suspended: bool = Query(
        False,
        description="reasonable-grounds only: the cases whose decision was suspended because "
        "the person went missing, which the page lists apart (none in any other queue)",
    ),
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> QueuePageOut:
    """The queue `name`, as the decision pages show it: `reasonable-grounds`,
    `reconsiderations` list cases, oldest deadline first, and `conclusive-grounds` the cases
    that may be decided soonest first;
    `approvals` lists negative decisions waiting for a second decision maker, oldest first (the
    filters apply to the three case queues, as on the page; with `suspended=true` it lists
    nothing, as every queue but reasonable grounds does). 404 for any other name."""
    actor = actor_of(request)
    limit = min(limit, MAX_LIMIT)
    if name == APPROVALS:
        return _approval_rows(actor, limit, offset, apart=suspended)
    if name not in selectors.QUEUES:
        raise Http404
    filters = selectors.QueueFilter(
        assigned=assigned, age_group=age_group or "", overdue_only=overdue
    )
    return _case_rows(actor, name, filters, limit, offset, apart=suspended)


# --- Decisions --------------------------------------------------------------------------------


class DecisionIn(_In):
    stage: Literal["reasonable_grounds", "conclusive_grounds"]
    outcome: str = Field(
        description="The outcome's code in the policy profile in force, e.g. 'positive', "
        "'negative', 'suspended', 'withdrawn' (reasonable grounds) or "
        "'recognised_trafficking' (conclusive grounds)"
    )
    reasons: str = Field(
        description="Which indicators and evidence were relied on, and why. The person is told "
        "these reasons. Never returned by the API."
    )
    negative_reason: str = Field(
        default="",
        description="Required for a negative outcome, ignored for any other: its main reason, "
        "a code of the negative reasons catalogue in force for the case ('no_action', "
        "'no_means', 'no_purpose', 'forced_labour_elements_not_met' (England and Wales), "
        "'not_credible', 'insufficient_information'). 'no_means' is refused for a child, a "
        "person whose age is disputed, or a person exploited as a child: a child needs no "
        "means.",
    )
    expected_version: int = Field(description="The case's `version` when it was read")
    indicators: list[str] = Field(
        default_factory=list, description="Codes of indicators observed at screening"
    )
    evidence: list[int] = Field(default_factory=list, description="Ids of the case's evidence")


STAGES = {
    "reasonable_grounds": services.decision_record_reasonable_grounds,
    "conclusive_grounds": services.decision_record_conclusive_grounds,
}


def _outcomes(profile: PolicyProfile, stage: str) -> tuple[Outcome, ...]:
    if stage == "reasonable_grounds":
        return profile.reasonable_grounds_outcomes
    return profile.conclusive_grounds_outcomes


@router.post(
    "/cases/{reference}/decisions",
    url_name="case_decisions",
    operation_id="decision_record",
    summary="Record a reasonable or conclusive grounds decision",
    response={201: DecisionMadeOut, **AUTH_ERRORS, **WRITE_ERRORS},
)
def decision_record(request: HttpRequest, reference: str, body: DecisionIn) -> Status[Any]:
    """Record a decision on the case, under the policy profile in force today, exactly as the
    decision page does. A negative decision that the profile says needs a second decision
    maker's approval is stored as `awaiting_approval` and the case does not move until it is
    approved. Refused with 422 (saying why) if the case is not at that stage, or a conclusive
    decision comes before the earliest date; 409 if the case changed since `expected_version`.
    """
    actor = actor_of(request)
    case = selectors.case_get_for_decider(actor, reference)
    try:
        profile = profile_for(case.jurisdiction, timezone.localdate())
    except NoProfileError as missing:
        return Status(422, error_out(str(missing)))
    form = DecisionForm(
        {
            "outcome": body.outcome,
            "reasons": body.reasons,
            "negative_reason": body.negative_reason,
            "indicators": body.indicators,
            "evidence": [str(pk) for pk in body.evidence],
            "expected_version": body.expected_version,
        },
        outcomes=_outcomes(profile, body.stage),
        case=case,
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        decision = STAGES[body.stage](
            by=actor.user,
            case=case,
            outcome=form.cleaned_data["outcome"],
            reasons=form.cleaned_data["reasons"],
            negative_reason=form.cleaned_data["negative_reason"],
            expected_version=form.cleaned_data["expected_version"],
            indicators=form.cleaned_data["indicators"],
            evidence=[int(pk) for pk in form.cleaned_data["evidence"]],
        )
    except ValidationError as error:
        return refusal(error)
    return Status(201, decision_made_out(decision))


class DisqualificationIn(_In):
    ground: Literal["public_order", "bad_faith"] = Field(
        description="public_order: the person is a threat to public order; bad_faith: they "
        "claimed to be a victim in bad faith (Nationality and Borders Act 2022 s.63). The "
        "decision's `outcome` is this code."
    )
    reasons: str = Field(
        description="What the decision relies on and why. The person is told these reasons. "
        "Never returned by the API."
    )
    expected_version: int = Field(description="The case's `version` when it was read")


@router.post(
    "/cases/{reference}/disqualification",
    url_name="case_disqualification",
    operation_id="decision_disqualify",
    summary="Disqualify the person on public order or bad faith grounds",
    response={201: DecisionMadeOut, **AUTH_ERRORS, **WRITE_ERRORS},
)
def decision_disqualify(
    request: HttpRequest, reference: str, body: DisqualificationIn
) -> Status[Any]:
    """Disqualify the person during the recovery period, where the policy profile in force has
    disqualification (from 30 January 2023 in the UK), exactly as the disqualification page
    does. A negative decision: where the profile says so it is stored as `awaiting_approval`
    and the case does not move until a second decision maker approves it; in effect, the case
    is `disqualified` and the decision may be reconsidered as the profile allows. Refused with
    422 (saying why) outside the recovery period, under rules without disqualification, or
    while another decision waits for approval; 409 if the case changed since
    `expected_version`."""
    actor = actor_of(request)
    case = selectors.case_get_for_decider(actor, reference)
    form = DisqualificationForm(
        {"ground": body.ground, "reasons": body.reasons, "expected_version": body.expected_version}
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        decision = services.decision_disqualify(
            by=actor.user,
            case=case,
            ground=form.cleaned_data["ground"],
            reasons=form.cleaned_data["reasons"],
            expected_version=form.cleaned_data["expected_version"],
        )
    except ValidationError as error:
        return refusal(error)
    return Status(201, decision_made_out(decision))


class ApprovalIn(_In):
    approve: bool = Field(description="true: it takes effect now; false: a new decision is needed")
    note: str = Field("", description="Required when not approving. Never returned by the API.")


@router.post(
    "/decisions/{decision_id}/approval",
    url_name="decision_approval",
    operation_id="decision_approve",
    summary="Approve or refuse a decision waiting for a second decision maker",
    response={200: DecisionMadeOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut, 409: ErrorsOut},
)
def decision_approve(request: HttpRequest, decision_id: int, body: ApprovalIn) -> Status[Any]:
    """A second decision maker (not the one who made it) approves a negative decision, which
    then takes effect, or refuses it with a note, and the case stays as it was."""
    actor = actor_of(request)
    decision = selectors.decision_get_for_decider(actor, decision_id)
    form = ApprovalForm({"approve": "yes" if body.approve else "no", "note": body.note})
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        approved = services.decision_approve(
            by=actor.user,
            decision=decision,
            approve=body.approve,
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        return refusal(error)
    return Status(200, decision_made_out(approved))


class ReconsiderationDecisionIn(_In):
    accept: bool = Field(description="true: the decision will be made again; false: it stands")
    reasons: str = Field(description="Never returned by the API")
    expected_version: int = Field(description="The case's `version` when it was read")


@router.post(
    "/reconsiderations/{request_id}/decision",
    url_name="reconsideration_decision",
    operation_id="reconsideration_decide",
    summary="Accept or refuse a request for reconsideration",
    response={200: ReconsiderationMadeOut, **AUTH_ERRORS, **WRITE_ERRORS},
)
def reconsideration_decide(
    request: HttpRequest, request_id: int, body: ReconsiderationDecisionIn
) -> Status[Any]:
    """Accepted, the question is open again and a new decision follows (the case goes back to
    awaiting that decision); refused, the decision stands."""
    actor = actor_of(request)
    item = selectors.reconsideration_get_for_decider(actor, request_id)
    form = ReconsiderationDecisionForm(
        {
            "accept": "yes" if body.accept else "no",
            "reasons": body.reasons,
            "expected_version": body.expected_version,
        }
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        decided = services.reconsideration_decide(
            by=actor.user,
            request=item,
            accept=body.accept,
            reasons=form.cleaned_data["reasons"],
            expected_version=form.cleaned_data["expected_version"],
        )
    except ValidationError as error:
        return refusal(error)
    return Status(200, reconsideration_made_out(decided))


# --- Assignment -------------------------------------------------------------------------------


class AssignmentIn(_In):
    assignee_email: str | None = Field(
        description="The e-mail address of a decision maker of the competent authority; null "
        "to leave the case unassigned"
    )
    expected_version: int = Field(description="The case's `version` when it was read")


@router.post(
    "/cases/{reference}/assignment",
    url_name="case_assignment",
    operation_id="case_assign",
    summary="Assign a case to a decision maker, or to nobody",
    response={200: CaseStateOut, **AUTH_ERRORS, **WRITE_ERRORS},
)
def case_assign(request: HttpRequest, reference: str, body: AssignmentIn) -> Status[Any]:
    actor = actor_of(request)
    case = selectors.case_get_for_decider(actor, reference)
    assignee = None
    if body.assignee_email is not None:
        wanted = body.assignee_email.strip().lower()
        assignee = next((d for d in selectors.deciders_of(case) if d.email.lower() == wanted), None)
        if assignee is None:
            return Status(
                422,
                field_errors_out(
                    {
                        "assignee_email": [
                            f"No decision maker of {case.competent_authority.name} has this "
                            "e-mail address"
                        ]
                    }
                ),
            )
    try:
        services.case_assign(
            by=actor.user,
            case=case,
            assignee=assignee,
            expected_version=body.expected_version,
        )
    except ValidationError as error:
        return refusal(error, {"assignee": "assignee_email"})
    return Status(200, _case_now(case))


# --- The referrer asks for reconsideration ------------------------------------------------------


class ReconsiderationRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    grounds: str = Field(
        description="The new evidence, or how the decision did not follow the guidance. Never "
        "returned by the API."
    )
    expected_version: int = Field(description="The case's `version` when it was read")


@router.post(
    "/cases/{reference}/reconsideration",
    tags=["Cases"],
    url_name="case_reconsideration",
    operation_id="reconsideration_request",
    summary="Ask for a negative decision to be reconsidered",
    response={
        201: ReconsiderationMadeOut,
        **AUTH_ERRORS,
        404: ErrorsOut,
        409: ErrorsOut,
        422: ErrorsOut,
    },
)
def reconsideration_request(
    request: HttpRequest, reference: str, body: ReconsiderationRequestIn
) -> Status[Any]:
    """The organisation that referred the case asks for a negative decision (or a
    disqualification) to be looked at again, within the window the rules allow: 422, giving the
    last day, once it has closed. 404 for a case the organisation did not refer."""
    actor = actor_of(request)
    case = case_for_api(request, reference)
    if not case_selectors.is_referrer(actor, case):
        raise Http404
    form = ReconsiderationRequestForm(
        {"grounds": body.grounds, "expected_version": body.expected_version}
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        made = services.reconsideration_request(
            by=actor.user,
            case=case,
            grounds=form.cleaned_data["grounds"],
            expected_version=form.cleaned_data["expected_version"],
        )
    except ValidationError as error:
        return refusal(error)
    return Status(201, reconsideration_made_out(made))
