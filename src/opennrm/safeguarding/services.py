"""Every write of the children's pathway: the local authority's tasks for a child, and age
assessments.

A child's or age-disputed person's accommodation need never becomes a placement request for
adult matching: `accommodation.services` hands it here, and it becomes a task of the local
authority of the child's area, with its safeguarding leads and the child trafficking guardian
service of the area told (docs/adr/0025). Notifications never name the child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.services import audit_record
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.selectors import deciders_to_tell, referrers_stand_in, referrers_to_tell
from opennrm.cases.services import case_age_group_change, case_event_record, case_version_claim
from opennrm.decisions.services import adult_clocks, adult_dates_letter_issue
from opennrm.notifications.services import Delivery, deliver, deliver_all
from opennrm.safety.models import RiskLevel
from opennrm.safety.services import PROFILE_FIELDS, ProfileChange

from . import selectors
from .coming_of_age import adult_dates_said
from .models import (
    AgeAssessment,
    AgeOutcome,
    ChildrenServicesTask,
    DisputeBasis,
    TaskKind,
    TaskStatus,
)

MAX_TEXT = 5000

# What other apps do when a person referred as an adult becomes treated as a child, registered
# from their own AppConfig.ready (safeguarding imports none of them): accommodation withdraws
# the adult places offered and requested (`accommodation.services.adult_places_withdrawn`).
# Each returns counts for the audit event.
AGE_DISPUTE_HOOKS: list[Callable[..., dict[str, int]]] = []
# Who else other apps tell then, registered the same way: care tells the local authority and
# the guardian service of the area that a person missing now is a missing child
# (`care.services.missing_child_age_disputed`). Each returns counts for the event's `told`.
AGE_DISPUTE_TELLERS: list[Callable[..., dict[str, int]]] = []


def local_authority_of(area: str) -> Organisation | None:
    """The local authority of an area, if OpenNRM knows one (the first, if several)."""
    return (
        Organisation.objects.filter(
            kind=OrganisationKind.LOCAL_AUTHORITY, area=area, is_active=True
        )
        .exclude(area="")
        .order_by("pk")
        .first()
    )


def children_services_name(area: str) -> str:
    """How the person who asked is told who arranges the child's accommodation."""
    return _called(local_authority_of(area), area)


def _called(authority: Organisation | None, area: str) -> str:
    return authority.name if authority is not None else f"the local authority for {area}"


def _leads(kinds: Iterable[str], area: str) -> list[User]:
    return [m.user for m in selectors.leads_of(kinds, area)]


def redirect_message(case: Case) -> str:
    """What the person who asked for a place is told, in one sentence: that children's services
    were told only if someone there uses OpenNRM (told means told, ADR 0015)."""
    who = "a child" if case.age_group == AgeGroup.CHILD else "age-disputed, so treated as a child"
    name = children_services_name(case.area)
    local_authority, guardian_service = selectors.area_leads(case.area)
    told = (
        "We have told them and the child trafficking guardian service."
        if local_authority and guardian_service
        else "We have told them."
        if local_authority
        else f"Nobody at {name} children's services uses OpenNRM, so they have not been told: "
        "contact them directly today."
    )
    return (
        f"This is {who}: their accommodation is arranged by {name} children's services, never "
        f"by adult matching. {told}"
    )


def _closed_case_message(case: Case) -> str:
    """Why no children's services task is raised on a closed case, and what to do instead."""
    return (
        f"Case {case.reference} is closed, so children's services cannot be asked through it to "
        "arrange a place for the child. If they need a safe place, contact "
        f"{children_services_name(case.area)} children's services directly. If they may be a "
        "victim of trafficking, refer them again: that opens a new case."
    )


def children_accommodation_task_open(
    *,
    case: Case,
    needs: Sequence[str],
    due_on: date,
    by: User | None,
    at: datetime | None = None,
    even_if_closed: bool = False,
) -> tuple[ChildrenServicesTask, dict[str, int]]:
    """The accommodation need of a child (or age-disputed person), as a task of the local
    authority of their area, its safeguarding leads and the area's child trafficking guardian
    service told; and how many were told. Called inside a service whose audit event covers it:
    the referral's (`accommodation.services.placement_request_for_referral`),
    `children_accommodation_redirect` or `age_dispute_raise`. Refuses an adult: an adult's need
    is a placement request. Refuses a closed case: a case cannot close while its task is open
    (`selectors.open_task_close_refusal`) nor be reopened, so the task would answer to nobody.
    The callers hold the case locked (or have just created it), so it cannot close meanwhile.
    `even_if_closed`: a child found still living in an adult house after the case closed (an
    age dispute) must be moved whatever the case's state: the task is raised, and the local
    authority answers it from its own list."""
    if not case.is_child:
        raise ValueError("only a child's or age-disputed person's need is a children's task")
    if case.status == CaseStatus.CLOSED and not even_if_closed:
        raise ValidationError({"case": _closed_case_message(case)})
    authority = local_authority_of(case.area)
    called = _called(authority, case.area)
    task = ChildrenServicesTask.objects.create(
        case=case,
        kind=TaskKind.ACCOMMODATION,
        owner=authority,
        area=case.area,
        needs=list(needs),
        due_on=due_on,
        raised_at=at or timezone.now(),
        raised_by=by,
    )
    due = f"{due_on:%-d %B %Y}"
    subject = f"Case {case.reference}: a child in {case.area} needs accommodation"
    local_authority, guardian_service = selectors.area_leads(case.area)
    told_local_authority, told_guardian_service = deliver_all(
        [
            Delivery(
                local_authority,
                "children.accommodation_needed",
                subject,
                "A child (or a person whose age is disputed, treated as a child) needs a safe "
                f"place to stay, arranged by children's services by {due}. They are never "
                "placed in adult accommodation. Open the task to record what was arranged.",
                url=reverse("safeguarding:task", args=[task.pk]),
                case=case,
            ),
            Delivery(
                guardian_service,
                "children.accommodation_needed",
                subject,
                f"The accommodation need was sent to {called} children's services, to arrange "
                f"by {due}.",
                url=reverse("cases:detail", args=[case.reference]),
                case=case,
            ),
        ]
    )
    case_event_record(
        case=case,
        kind="safeguarding.accommodation_task",
        description=_accommodation_task_told(
            called, case.area, bool(told_local_authority), bool(told_guardian_service)
        ),
        by=by,
        at=at,
    )
    told = {
        "local_authority": len(told_local_authority),
        "guardian_service": len(told_guardian_service),
    }
    return task, told


def _accommodation_task_told(
    called: str, area: str, local_authority: bool, guardian_service: bool
) -> str:
    """The timeline's words for a child's accommodation task: who OpenNRM told, and who it
    could not (told means told, ADR 0015), so that nobody reading it takes a referral to
    children's services or the guardian service as made when it was not."""
    if local_authority:
        sent = f"Accommodation need sent to {called} children's services"
    else:
        sent = (
            f"Accommodation need recorded for {called} children's services, not told: nobody "
            "there uses OpenNRM"
        )
    if guardian_service:
        return f"{sent}; the child guardian service told"
    return f"{sent}; no child guardian service for {area or 'the area'} in OpenNRM, so none told"


@transaction.atomic
def children_accommodation_redirect(
    *, by: User, case: Case, needs: Sequence[str] = (), due_on: date
) -> ChildrenServicesTask:
    """Someone asked for a place for a child or an age-disputed person (a coordinator, on the
    page or in a service): instead of a placement request, the local authority's task. Refused
    while an accommodation task for the case is still open."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not locked.is_child:
        raise ValueError("an adult's need is a placement request")
    open_task = ChildrenServicesTask.objects.filter(
        case=locked, kind=TaskKind.ACCOMMODATION, status=TaskStatus.OPEN
    ).first()
    if open_task is not None:
        raise ValidationError(
            {
                "case": f"{redirect_message(locked)} They already have the task, since "
                f"{timezone.localdate(open_task.raised_at):%-d %B %Y}."
            }
        )
    task, told = children_accommodation_task_open(case=locked, needs=needs, due_on=due_on, by=by)
    audit_record(
        by=by,
        action="children_services_task.raised",
        obj=task,
        organisation=task.owner,
        detail={"kind": task.kind, "told": told},
    )
    return task


@transaction.atomic
def children_services_task_done(
    *, by: User, task: ChildrenServicesTask, outcome: str
) -> ChildrenServicesTask:
    """The local authority's safeguarding lead records what was done, and the task is done:
    while the person is a child, and after they turned 18 with the task open (their case is then
    an adult's, but care leaving duties go on and the task is still the council's to finish,
    `selectors.holds_care_leavers_task`). Where nobody in OpenNRM can answer for the local authority of the area, a safeguarding lead
    of the area's child guardian service or a decision maker of the case's competent authority
    records what the council told them it arranged (`selectors.records_instead`): else the task
    would stay open, and the case unclosable, for ever. The task, the timeline and the audit
    event then say who recorded it, and for whom."""
    locked = ChildrenServicesTask.objects.select_for_update().select_related("case").get(pk=task.pk)
    actor = Actor.of_session(by)
    instead = None
    # The local authority of the area, for a child or for one who turned 18 with the task open.
    if not selectors.may_act_on(actor, locked):
        instead = selectors.records_instead(actor, locked)
        if instead is None:
            raise ValidationError(
                "Only a safeguarding lead of the local authority for the child's area can do this"
            )
    if locked.status != TaskStatus.OPEN:
        raise ValidationError("This task is already done")
    if hasattr(locked.case.person, "erasure"):
        # What was done is free text about the person, which nothing would ever remove: they
        # have had their one erasure (a task left open on a case closed before closing waited
        # for it, ADR 0025).
        raise ValidationError("This person's details have been erased: nothing can be added")
    outcome = outcome.strip()
    if not outcome:
        raise ValidationError({"outcome": "Enter what was done"})
    if len(outcome) > MAX_TEXT:
        raise ValidationError(
            {"outcome": f"What was done must be {MAX_TEXT:,} characters or fewer"}
        )
    done = f"Children's services task done: {locked.get_kind_display().lower()}"
    if instead is not None:
        # Nobody reading the task or the timeline takes it for the council's own word.
        called = _called(locked.owner, locked.area)
        said = f"recorded by {instead.name}, as nobody at {called} uses OpenNRM"
        outcome = f"{said[0].upper()}{said[1:]}: {outcome}"
        done = f"{done}, {said}"
    locked.status, locked.outcome = TaskStatus.DONE, outcome
    locked.done_at, locked.done_by = timezone.now(), by
    locked.save(update_fields=["status", "outcome", "done_at", "done_by"])
    case_event_record(
        case=locked.case, kind="safeguarding.task_done", description=done[:300], by=by
    )
    audit_record(
        by=by,
        action="children_services_task.done",
        obj=locked,
        organisation=locked.owner if instead is None else instead,
        detail={"kind": locked.kind}
        | ({"recorded_instead_of_local_authority": instead.pk} if instead is not None else {}),
    )
    return locked


# What each outcome makes of the age group: a child is a child; an adult moves to the adult
# pathway; "not possible to say" leaves it as it was (an age-disputed person is still treated as
# a child, CETS art. 10(3)).
AGE_GROUP_AFTER: dict[str, str | None] = {
    AgeOutcome.CHILD: AgeGroup.CHILD,
    AgeOutcome.ADULT: AgeGroup.ADULT,
    AgeOutcome.NOT_POSSIBLE: None,
}


def _assessed_before_referral(assessed_on: date, case: Case) -> str | None:
    """Why an age assessment's date is refused as too early, or None: it is the assessment
    this case's referral asked for, so it is never dated before the referral (the local date
    of `submitted_at`). Without that bound a mistyped year (1 January 1900) would move a
    presumed child to the adult pathway on a date that means nothing."""
    referred_on = timezone.localdate(case.submitted_at)
    if assessed_on < referred_on:
        return f"The date of the assessment cannot be before the referral ({referred_on:%-d %B %Y})"
    return None


def _check_may_assess(actor: Actor, case: Case) -> None:
    if not selectors.may_act_for(actor, case):
        raise ValidationError(
            "Only a safeguarding lead of the local authority for the child's area can record "
            "an age assessment"
        )
    if refusal := selectors.assessment_refusal(case):
        raise ValidationError(refusal)


@transaction.atomic
def age_assessment_record(
    *,
    by: User,
    case: Case,
    outcome: str,
    assessed_on: date,
    reasons: str,
    expected_version: int,
) -> AgeAssessment:
    """Record an age assessment's outcome. Found to be an adult: the case moves to the adult
    pathway (its age group changes, through `cases.services.case_age_group_change`), its open
    children's services tasks close saying so, and the decision maker, the referrer and the
    guardian service are told, and the support coordinators if a place was wanted. Found to be a
    child: the age group becomes "child". Not possible to say: nothing changes, and the person
    is still treated as a child.

    Refused once the person's details were erased, and on a closed case unless the person's
    age is disputed (`selectors.assessment_refusal`): checked again on the locked case, which
    may have closed since the page was opened."""
    actor = Actor.of_session(by)
    _check_may_assess(actor, case)
    if outcome not in AgeOutcome.values:
        raise ValidationError({"outcome": "Select what the assessment found"})
    if assessed_on > timezone.localdate():
        raise ValidationError(
            {"assessed_on": "The date of the assessment must be today or earlier"}
        )
    if problem := _assessed_before_referral(assessed_on, case):
        raise ValidationError({"assessed_on": problem})
    reasons = reasons.strip()
    if not reasons:
        raise ValidationError({"reasons": "Enter the reasons the assessment gave"})
    if len(reasons) > MAX_TEXT:
        raise ValidationError({"reasons": f"The reasons must be {MAX_TEXT:,} characters or fewer"})
    locked = Case.objects.select_for_update().select_related("referred_by").get(pk=case.pk)
    if refusal := selectors.assessment_refusal(locked):
        raise ValidationError(refusal)
    authority = selectors.authority_of(actor, locked)
    before = locked.age_group
    after = AGE_GROUP_AFTER[outcome] or before
    said = f"age assessment of {assessed_on:%-d %B %Y} by {authority.name}"
    # Found an adult: the dates the decisions in effect give an adult and gave none to a child
    # start now, in the same change (Scotland's support from the reasonable grounds decision,
    # the move-on period after a conclusive one), each from its decision's day, or from today
    # if that end has already passed (`adult_clocks`).
    dates = adult_clocks(locked) if after == AgeGroup.ADULT and after != before else {}
    letter = None
    if after != before:
        case_age_group_change(
            by=by,
            case=locked,
            to=after,
            reason=said,
            expected_version=expected_version,
            dates=dates,
        )
        # The decisions' letters were written to a child and state none of those dates: a
        # later change that moves a date is a new letter (ADR 0017).
        if dates:
            letter = adult_dates_letter_issue(
                by=by, case=locked, dates=dates, cause="age_assessment"
            )
    else:
        case_version_claim(case=locked, expected_version=expected_version)
        case_event_record(
            case=locked,
            kind="safeguarding.age_assessed",
            description=f"Age assessment recorded ({AgeOutcome(outcome).label.lower()}): {said}",
            by=by,
        )
    assessment = AgeAssessment.objects.create(
        case=locked,
        outcome=outcome,
        assessed_on=assessed_on,
        organisation=authority,
        age_group_before=before,
        age_group_after=after,
        recorded_at=timezone.now(),
        recorded_by=by,
        reasons=reasons,
    )
    told = (
        _tell_age_group_changed(locked, by, after, said, dates, lettered=letter is not None)
        if after != before
        else {}
    )
    audit_record(
        by=by,
        action="age_assessment.recorded",
        obj=assessment,
        organisation=authority,
        detail={"outcome": outcome, "from": before, "to": after, "told": told}
        | ({"letter": letter.pk} if letter is not None else {}),
    )
    return assessment


@transaction.atomic
def age_dispute_raise(*, by: User, case: Case, basis: str, expected_version: int) -> Case:
    """Record that a person referred as an adult may be a child: from now they are treated as
    a child until an age assessment says otherwise (CETS art. 10(3); ADR 0025). Their adult
    places offered are cancelled and their requests withdrawn (`AGE_DISPUTE_HOOKS`); if a
    place was wanted or held, their need goes to the local authority of their area as an
    urgent children's services task; the local authority and the guardian service of the area
    (who assess the age), the decision maker and the referrer are told (and, if the person is
    missing now, the area's leads that a child is missing: `AGE_DISPUTE_TELLERS`). The timeline
    says whether children's services were told, or that nobody there uses OpenNRM
    (`selectors.age_dispute_told` gives the words to the page)."""
    if not selectors.may_dispute_age(Actor.of_session(by), case):
        raise ValidationError(
            "Only a decision maker of the case's competent authority, or a first responder of "
            "the organisation that referred the person, can record that their age is disputed"
        )
    if basis not in DisputeBasis.values:
        raise ValidationError({"basis": "Select why the person may be under 18"})
    locked = Case.objects.select_for_update().select_related("referred_by").get(pk=case.pk)
    if locked.is_child:
        raise ValidationError("The person is already treated as a child")
    case_age_group_change(
        by=by,
        case=locked,
        to=AgeGroup.PRESUMED_CHILD,
        reason=f"age disputed ({DisputeBasis(basis).label.lower()}): treated as a child until "
        "an age assessment",
        expected_version=expected_version,
    )
    places: dict[str, int] = {}
    for hook in AGE_DISPUTE_HOOKS:
        places |= hook(case=locked, by=by)
    now = timezone.now()
    task = None
    if any(places.values()):
        task, _ = children_accommodation_task_open(
            case=locked,
            needs=["A place for a child: their age is disputed, and adult places were withdrawn"],
            due_on=timezone.localdate(now),
            by=by,
            at=now,
            # Closing the case ended no placement: a child may still live in an adult house.
            even_if_closed=True,
        )
    told = _tell_age_disputed(locked)
    # Told means told (ADR 0015): the timeline, and the page that recorded the dispute, say
    # whether children's services heard, so nobody takes an assessment as asked for when
    # nobody there uses OpenNRM.
    case_event_record(
        case=locked,
        kind=selectors.AGE_DISPUTE_TOLD,
        description=_age_dispute_told(locked, told),
        by=by,
        at=now,
        data={key: told[key] for key in ("local_authority", "guardian_service")},
    )
    for teller in AGE_DISPUTE_TELLERS:
        told |= teller(case=locked, by=by)
    audit_record(
        by=by,
        action="age_dispute.raised",
        obj=locked,
        detail={
            "basis": basis,
            "places": places,
            "accommodation_task": task.pk if task else None,
            "told": told,
        },
    )
    return locked


def _age_dispute_told(case: Case, told: dict[str, int]) -> str:
    """Whom an age dispute told of children's services, in words for its timeline entry and
    the page that recorded it (`selectors.age_dispute_told`), as `redirect_message` says it."""
    name = children_services_name(case.area)
    if told["local_authority"]:
        sent = f"{name} children's services have been told, and asked to arrange an age assessment"
    else:
        sent = (
            f"Nobody at {name} children's services uses OpenNRM, so they have not been told: "
            "contact them directly today to arrange an age assessment"
        )
    if told["guardian_service"]:
        return f"{sent}. The child trafficking guardian service has been told."[:300]
    return (
        f"{sent}. No child trafficking guardian service for {case.area or 'the area'} uses "
        "OpenNRM, so none has been told."
    )[:300]


def _tell_age_disputed(case: Case) -> dict[str, int]:
    """Who must know that an adult's case is now a presumed child's. The messages name nobody."""
    url = reverse("cases:detail", args=[case.reference])
    subject = f"Case {case.reference}: age disputed, now treated as a child"
    body = (
        "A person referred as an adult may be under 18. They are treated as a child until an "
        "age assessment says otherwise: never placed in adult accommodation."
    )
    # The local authority is asked to assess; the others are told where the case stands.
    audiences = {
        "local_authority": (
            _leads([OrganisationKind.LOCAL_AUTHORITY], case.area),
            reverse("safeguarding:age_assessment", args=[case.reference]),
            body + " Arrange an age assessment.",
        ),
        "guardian_service": (
            _leads([OrganisationKind.CHILD_GUARDIAN_SERVICE], case.area),
            url,
            body,
        ),
        "decision_makers": (deciders_to_tell(case), url, body),
        "referrer": (referrers_to_tell(case), url, body),
    }
    return {
        audience: len(
            deliver(
                recipients=recipients,
                kind="case.age_disputed",
                case=case,
                url=link,
                subject=subject,
                body=text,
                # A referring organisation with no first responder left: its administrators
                # are told that news waits, never the news.
                stand_in=(lambda: referrers_stand_in(case)) if audience == "referrer" else None,
            )
        )
        for audience, (recipients, link, text) in audiences.items()
    }


def _tell_age_group_changed(
    case: Case, by: User, after: str, said: str, dates: dict[str, date], *, lettered: bool
) -> dict[str, Any]:
    """`lettered`: a letter stating the adult `dates` was issued to the person."""
    url = reverse("cases:detail", args=[case.reference])
    told: dict[str, Any] = {}
    if after == AgeGroup.ADULT:
        still_open = list(
            ChildrenServicesTask.objects.select_for_update().filter(
                case=case, status=TaskStatus.OPEN
            )
        )
        # A place was wanted if children's services were ever asked for one, whether they are
        # still arranging it or have provided it (a task done): a child's placement, a duty
        # owed to a child only, ends, so adult support must pick the person up either way.
        wanted_place = ChildrenServicesTask.objects.filter(
            case=case, kind=TaskKind.ACCOMMODATION
        ).exists()
        for task in still_open:
            task.status, task.done_at, task.done_by = TaskStatus.DONE, timezone.now(), by
            task.outcome = f"Closed: found to be an adult ({said}). The adult pathway takes over."
            task.save(update_fields=["status", "done_at", "done_by", "outcome"])
        told["tasks_closed"] = len(still_open)
        subject = f"Case {case.reference}: found to be an adult"
        body = (
            f"The {said} found the person to be an adult. The case now follows the adult "
            "pathway: consent to support applies, and their accommodation is a matter for "
            "adult support."
        ) + adult_dates_said(dates, lettered=lettered)
        if wanted_place:
            told["coordinators"] = len(
                deliver(
                    recipients=[
                        m.user
                        for m in members_with_role(None, {Role.SUPPORT_COORDINATOR})
                        .filter(organisation__kind=OrganisationKind.SUPPORT_PROVIDER)
                        .select_related("user")
                    ],
                    kind="case.age_group_changed",
                    case=case,
                    url=reverse("support:request_new"),
                    subject=subject,
                    body=f"The {said} found the person to be an adult. Children's services were "
                    "asked to accommodate them, as a child: if they need a place, ask for one now.",
                )
            )
    else:
        subject = f"Case {case.reference}: found to be a child"
        body = f"The {said} found the person to be a child. They are safeguarded as a child."
    told["decision_makers"] = len(
        deliver(
            recipients=deciders_to_tell(case),
            kind="case.age_group_changed",
            case=case,
            url=url,
            subject=subject,
            body=body,
        )
    )
    told["referrer"] = len(
        deliver(
            recipients=referrers_to_tell(case),
            kind="case.age_group_changed",
            case=case,
            url=url,
            subject=subject,
            body=body,
            stand_in=lambda: referrers_stand_in(case),
        )
    )
    # The guardian service sees only children's cases: found an adult, the case page no longer
    # opens for it, so its message links to its caseload and says whom to ask instead.
    to_guardian_service = (url, body)
    if after == AgeGroup.ADULT:
        to_guardian_service = (
            reverse("safeguarding:caseload"),
            body + f" As an adult's case, {case.reference} is no longer among the children of "
            "your area, and its page no longer opens for you: for news of the case, ask its "
            f"competent authority, {case.competent_authority.name}.",
        )
    told["guardian_service"] = len(
        deliver(
            recipients=_leads([OrganisationKind.CHILD_GUARDIAN_SERVICE], case.area),
            kind="case.age_group_changed",
            case=case,
            url=to_guardian_service[0],
            subject=subject,
            body=to_guardian_service[1],
        )
    )
    return told


# --- A child's case changed status ----------------------------------------------------------------

# The decisions that stand against the person until a reconsideration is asked for in time.
_RECONSIDERABLE = (
    CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
    CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
    CaseStatus.DISQUALIFIED,
)


def _child_status_changed_told(case: Case, reason: str, told: set[int]) -> None:
    """A child's (or age-disputed person's) case changed status (a decision, a suspension, a
    reconsideration, its closure): the safeguarding leads of the local authority and of the
    child guardian service of their area are told, as they were of the referral. A negative
    decision ends the child's protection from removal and opens a window for a reconsideration
    that they may need to ask for with the child. Registered with
    `cases.services.STATUS_CHANGE_TELLERS` (`safeguarding.apps`); `told` holds who was already
    told of this change (the referrer), and gains those told here. The message names nobody
    and links to the case page, which they may open while the person is treated as a child."""
    if not case.is_child:
        return
    local_authority, guardian_service = selectors.area_leads(case.area)
    status = CaseStatus(case.status).label.lower()
    window = ""
    # Only while the window is open: a refused reconsideration leaves the old last day on the
    # case, and offering a day already past would mislead whoever acts for the child.
    until = case.reconsideration_until
    if case.status in _RECONSIDERABLE and until and until >= timezone.localdate():
        window = (
            " A reconsideration of the decision can be asked for until "
            f"{case.reconsideration_until:%-d %B %Y}."
        )
    sent = deliver(
        recipients=[user for user in [*local_authority, *guardian_service] if user.pk not in told],
        kind="children.case_status_changed",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=f"Case {case.reference}: {status}",
        body="The case of a child of your area (or of a person whose age is disputed, treated "
        f"as a child) is now: {status}. {reason.rstrip('.')}.{window}",
    )
    told.update(notification.recipient_id for notification in sent)


# --- A child's safety profile changed -----------------------------------------------------------


def _child_safety_changed_told(change: ProfileChange, told: set[int]) -> dict[str, int]:
    """A child's (or age-disputed person's) safety profile changed (a risk that rose, a place
    to keep away from): the safeguarding leads of the local authority of their area, which
    arranges their accommodation, and of the area's child guardian service, which meets the
    child and goes with them to interviews and appointments, are told at once, with a link to
    its open task for the child (which shows the profile) or else the case; how many of each
    were told. A dependant is told of apart (`safety.services`: a dependent child). Registered
    with `safety.services.PROFILE_CHANGE_TELLERS` (`safeguarding.apps`); `told` holds who was
    already told of this change, and gains those told here (nobody is told twice). Never names
    the child, a place or anyone who exploited them.

    A person who turned 18 with a children's services task open (a care leaver): the council
    of the task's area still holds it and arranges where they stay (`selectors.
    holds_care_leavers_task`, ADR 0025, stop 41), so its safeguarding leads are told the same,
    with a link to that task; the guardian service, which works with children only, is not."""
    case = change.case
    if not change.fields & set(PROFILE_FIELDS):
        return {}
    task = (
        ChildrenServicesTask.objects.filter(case=case, status=TaskStatus.OPEN)
        .order_by("-raised_at", "-pk")
        .first()
    )
    if not case.is_child and task is None:
        return {}
    person = "a child" if case.is_child else "a care leaver"
    area = case.area if case.is_child or task is None else task.area
    if change.risk_raised:
        level = RiskLevel(change.risk_level).label.lower()
        subject = f"Case {case.reference}: the risk to {person} in {area} is now {level}"
    else:
        subject = f"Case {case.reference}: {person}'s safety profile in {area} has changed"
    url = (
        reverse("safeguarding:task", args=[task.pk])
        if task is not None
        else reverse("cases:detail", args=[case.reference])
    )
    about = (
        "What is recorded about the safety of a child (or a person whose age is disputed, "
        "treated as a child) "
        if case.is_child
        else "What is recorded about the safety of a person who has turned 18, "
    )
    local_authority, guardian_service = selectors.area_leads(area)
    counts: dict[str, int] = {}
    for audience, recipients, body in (
        (
            "local_authority",
            local_authority,
            f"{about}whose accommodation your children's services arrange"
            f"{'' if case.is_child else ' (their task is still open)'} has changed. Read it "
            "today, and check that where they stay still keeps them safe.",
        ),
        (
            "guardian_service",
            # A child's: the guardian service works with children only.
            guardian_service if case.is_child else [],
            f"{about}for whom your guardian service acts has changed. Read it today, before you "
            "next meet them or go with them anywhere.",
        ),
    ):
        sent = deliver(
            recipients=[user for user in recipients if user.pk not in told],
            kind="children.safety_changed",
            case=case,
            url=url,
            subject=subject,
            body=body,
        )
        told.update(notification.recipient_id for notification in sent)
        counts[audience] = len(sent)
    return counts


# --- Erasure ------------------------------------------------------------------------------------


def safeguarding_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty the free text of the children's pathway about these cases: what each task's
    outcome says and each age assessment's reasons. Outcomes, dates and statuses stay, for the
    figures. Called only inside `privacy.services`' erasure, whose audit event covers it."""
    return {
        "children_task_outcomes": ChildrenServicesTask.objects.filter(case_id__in=case_ids).update(
            outcome=""
        ),
        "age_assessment_reasons": AgeAssessment.objects.filter(case_id__in=case_ids).update(
            reasons=""
        ),
    }
