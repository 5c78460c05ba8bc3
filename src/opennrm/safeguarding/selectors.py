"""What a safeguarding lead sees of the children in their area, and what they may do.

The local authority's and the child guardian service's safeguarding leads see the children's
cases of their organisation's area (`cases.selectors.cases_visible_to`); only the local
authority's leads act on them (mark a task done, record an age assessment). Everyone else gets
404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor, members_with_role
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import TREATED_AS_CHILD, AgeGroup
from opennrm.cases.models import Case, CaseEvent
from opennrm.cases.selectors import cases_visible_to, safeguarding_lead_areas
from opennrm.cases.selectors import referral_details as referral_details
from opennrm.lib.paging import count_up_to

from .models import AgeAssessment, ChildrenServicesTask, TaskStatus

# A child referred this many days ago or less is "newly referred" on the caseload.
NEWLY_REFERRED_DAYS = 7


def _lead_memberships(actor: Actor, kinds: list[str]) -> QuerySet[Membership]:
    return (
        actor.memberships()
        .filter(role=Role.SAFEGUARDING_LEAD, organisation__kind__in=kinds)
        .exclude(organisation__area="")
    )


def leads_of(kinds: Iterable[str], area: str) -> QuerySet[Membership]:
    """The memberships of the safeguarding leads of the area's organisations of these kinds
    (none for a case with no area): who is told of a child of the area."""
    return (
        members_with_role(None, {Role.SAFEGUARDING_LEAD})
        .filter(organisation__kind__in=list(kinds), organisation__area=area)
        .exclude(organisation__area="")
        .select_related("user")
    )


def area_leads(area: str) -> tuple[list[User], list[User]]:
    """The safeguarding leads of the area's local authorities and of its child guardian
    service, in one read."""
    local_authority: list[User] = []
    guardian_service: list[User] = []
    for m in leads_of(
        [OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE], area
    ).select_related("organisation"):
        kind = m.organisation.kind
        (local_authority if kind == OrganisationKind.LOCAL_AUTHORITY else guardian_service).append(
            m.user
        )
    return local_authority, guardian_service


def children_services_to_alert(case: Case) -> list[User]:
    """Who else hears of a removal planned for a child or an age-disputed person: the
    safeguarding leads of the local authority of their area, whose responsibility they are
    (ADR 0025), and of its child trafficking guardian service, who speaks for the child with
    the immigration authorities. Nobody for an adult. Added to the NRM source's alert
    (`protection.selectors.register_case_alert`, from `SafeguardingConfig.ready`: protection
    may not import safeguarding, ADR 0040); the alert names the case by its
    reference only."""
    if not case.is_child:
        return []
    local_authority, guardian_service = area_leads(case.area)
    return [*local_authority, *guardian_service]


def lead_areas(actor: Actor) -> list[str]:
    """The areas whose children the actor sees as a safeguarding lead."""
    return sorted(set(safeguarding_lead_areas(actor)))


def may_act_for(actor: Actor, case: Case) -> bool:
    """Whether the actor is a safeguarding lead of the local authority of the child's area."""
    return case.is_child and (
        _lead_memberships(actor, [OrganisationKind.LOCAL_AUTHORITY])
        .filter(organisation__area=case.area)
        .exists()
    )


def local_authority_absent(area: str) -> bool:
    """Whether nobody in OpenNRM can answer for the local authority of the area: no
    safeguarding lead of a local authority there (none uses OpenNRM, or nobody there holds the
    role now). A child's task there would otherwise stay open, and the case unclosable, for
    ever (ADR 0025, addendum of stop 40)."""
    return not leads_of([OrganisationKind.LOCAL_AUTHORITY], area).exists()


def records_instead(actor: Actor, task: ChildrenServicesTask) -> Organisation | None:
    """The organisation through which the actor may record what the local authority arranged
    on a task that no local authority in OpenNRM can answer (`local_authority_absent`): as a
    safeguarding lead of the area's child guardian service, who meets the child (while the
    person is a child), or as a
    decision maker of the case's competent authority, who must close the case and can ask the
    council. None for anyone else, and while a local authority lead of the area can answer it
    (then only they may, `may_act_for`)."""
    if not local_authority_absent(task.area):
        return None
    guardian = (
        _lead_memberships(actor, [OrganisationKind.CHILD_GUARDIAN_SERVICE])
        .filter(organisation__area=task.area)
        .order_by("organisation_id")
        .first()
    )
    # The guardian service works with children only: once the person is an adult its lead no
    # longer opens their case, nor the task that shows their safety profile.
    if guardian is not None and task.case.is_child:
        return guardian.organisation
    decider = (
        actor.memberships()
        .filter(organisation_id=task.case.competent_authority_id, role__in=list(DECIDERS))
        .first()
    )
    return decider.organisation if decider is not None else None


def may_finish(actor: Actor, task: ChildrenServicesTask) -> bool:
    """Whether the actor may record what was done on this open task: a safeguarding lead of
    the local authority of the child's area, or, where nobody there uses OpenNRM, whoever
    `records_instead` allows."""
    return task.status == TaskStatus.OPEN and (
        may_act_on(actor, task) or records_instead(actor, task) is not None
    )


def holds_care_leavers_task(actor: Actor, task: ChildrenServicesTask) -> bool:
    """Whether the task is of a person who turned 18 with it open (`coming_of_age` leaves
    children's services' tasks open: their duties to a care leaver go on, ADR 0025) and the
    actor is a safeguarding lead of the local authority of its area, which held it while they
    were a child. Their case is an adult's and no longer opens for the council, but the task
    does, until the council records it done (ADR 0025, addendum of stop 41). An assessment
    that finds an adult closes the open tasks, so no other adult's task is open."""
    return (
        not task.case.is_child
        and _lead_memberships(actor, [OrganisationKind.LOCAL_AUTHORITY])
        .filter(organisation__area=task.area)
        .exists()
    )


def may_act_on(actor: Actor, task: ChildrenServicesTask) -> bool:
    """Whether the actor acts on the task for the local authority: a safeguarding lead of the
    local authority of the child's area (`may_act_for`), or of the area's local authority that
    held the task of a person who has since turned 18 (`holds_care_leavers_task`)."""
    return may_act_for(actor, task.case) or holds_care_leavers_task(actor, task)


def care_leavers_tasks(actor: Actor) -> QuerySet[ChildrenServicesTask]:
    """The open tasks of people who turned 18 with them open, for a safeguarding lead of the
    local authority of their area (`holds_care_leavers_task`, for many tasks at once); none for
    anyone else, the guardian service's leads included (it works with children only)."""
    areas = _lead_memberships(actor, [OrganisationKind.LOCAL_AUTHORITY]).values(
        "organisation__area"
    )
    return ChildrenServicesTask.objects.filter(status=TaskStatus.OPEN, area__in=areas).exclude(
        case__age_group__in=TREATED_AS_CHILD
    )


def care_leavers_news_kept(
    user: User, case_ids: set[int]
) -> dict[int, tuple[datetime | None, str]]:
    """Of `case_ids`, the cases of people who turned 18 whose open task the user's council
    still holds (`care_leavers_tasks`), each with when she became a lead of that council's area
    and the page of the task: her news of the case stays hers while the council holds it, told
    since she was a lead there, and opens on the task, as the case page no longer does for her
    (registered with `notifications.case_readers.register_case_news_keeper` from
    `SafeguardingConfig.ready`; ADR 0025, addendum of stop 42). News of a case none of whose
    tasks her council still holds goes, as any news of a case she may no longer open. Two
    queries however many cases."""
    actor = Actor.of_session(user)
    since: dict[str, datetime] = {}
    for area, started in _lead_memberships(actor, [OrganisationKind.LOCAL_AUTHORITY]).values_list(
        "organisation__area", "created_at"
    ):
        since[area] = min(since.get(area, started), started)
    if not since or not case_ids:
        return {}
    kept: dict[int, tuple[datetime | None, str]] = {}
    for task_id, case_id, area in (
        care_leavers_tasks(actor)
        .filter(case_id__in=case_ids)
        .order_by("-due_on", "-pk")
        .values_list("pk", "case_id", "area")
    ):
        # The earliest due task last, so it is the one "Open" goes to.
        kept[case_id] = (since[area], reverse("safeguarding:task", args=[task_id]))
    return kept


def authority_of(actor: Actor, case: Case) -> Organisation:
    """The local authority through which the actor acts for this child."""
    membership = (
        _lead_memberships(actor, [OrganisationKind.LOCAL_AUTHORITY])
        .filter(organisation__area=case.area)
        .order_by("organisation_id")
        .first()
    )
    if membership is None:
        raise Http404
    return membership.organisation


def children_of(actor: Actor) -> QuerySet[Case]:
    """The children (and age-disputed people) of the actor's areas that the actor may see."""
    areas = lead_areas(actor)
    if not areas:
        return Case.objects.none()
    return cases_visible_to(actor).filter(area__in=areas, age_group__in=TREATED_AS_CHILD)


def children_acted_for(actor: Actor) -> QuerySet[Case]:
    """The children the actor acts for as a safeguarding lead of their area's local authority
    (`may_act_for`, for many cases at once)."""
    areas = _lead_memberships(actor, [OrganisationKind.LOCAL_AUTHORITY]).values(
        "organisation__area"
    )
    return children_of(actor).filter(area__in=areas)


def open_tasks(actor: Actor) -> QuerySet[ChildrenServicesTask]:
    """Open tasks for the children of the actor's areas, and for a local authority's lead
    those of the area's people who turned 18 with a task open (`care_leavers_tasks`), overdue
    first, then by due date."""
    return (
        ChildrenServicesTask.objects.filter(
            Q(status=TaskStatus.OPEN, case__in=children_of(actor).values("pk"))
            | Q(pk__in=care_leavers_tasks(actor).values("pk"))
        )
        .select_related("case", "owner")
        .order_by("due_on", "id")
    )


def open_task_close_refusal(case: Case) -> str | None:
    """Why the case cannot be closed while a children's services task for the child is open
    (closing would leave the local authority's task with no case to answer to), or None.
    Registered with `cases.services.CLOSE_CHECKS` (`safeguarding.apps`). Says who must finish
    the task, never what it is about the child."""
    task = (
        ChildrenServicesTask.objects.filter(case=case, status=TaskStatus.OPEN)
        .select_related("owner")
        .order_by("due_on", "id")
        .first()
    )
    if task is None:
        return None
    who = task.owner.name if task.owner else f"the local authority for {task.area}"
    if local_authority_absent(task.area):
        # Nobody in OpenNRM can answer for the council: the case would stay open for ever.
        # Someone who can reach it records what it arranged (`records_instead`).
        guardians = leads_of([OrganisationKind.CHILD_GUARDIAN_SERVICE], task.area).exists()
        recorders = f"a decision maker of {case.competent_authority.name}" + (
            f" or a safeguarding lead of the child guardian service for {task.area}"
            if guardians
            else ""
        )
        return (
            f"A children's services task for this child is still open (raised "
            f"{timezone.localdate(task.raised_at):%-d %B %Y}), and nobody at {who} uses "
            f"OpenNRM to record what was arranged. Ask them what they arranged for the child, "
            f"then record it on the task (open it from the case page: {recorders} can), then "
            "close the case"
        )
    return (
        f"A children's services task for this child is still open: {who} has not yet "
        f"recorded what was arranged (raised {timezone.localdate(task.raised_at):%-d %B %Y}). "
        f"Ask {who} to record the task as done, then close the case"
    )


# Before any case: an assessment recorded since then answers a dispute raised at referral.
_BEFORE_ANY_CASE = datetime(2000, 1, 1, tzinfo=UTC)


def assessments_outstanding(actor: Actor) -> QuerySet[Case]:
    """Age-disputed people of the actor's areas, their details not erased, with no age
    assessment recorded since their age was last disputed: one found an adult and disputed
    again (a new document, say) waits for a new assessment, and is on the list until it is
    recorded."""
    disputed = (
        CaseEvent.objects.filter(case=OuterRef("pk"), kind="case.age_group_changed")
        .order_by("-at")
        .values("at")[:1]
    )
    assessed = AgeAssessment.objects.filter(
        case=OuterRef("pk"), recorded_at__gte=OuterRef("disputed_at")
    )
    return (
        children_of(actor)
        # Of an erased person, none can be recorded (`assessment_refusal`): none is asked for.
        .filter(age_group=AgeGroup.PRESUMED_CHILD, person__erasure__isnull=True)
        .alias(disputed_at=Coalesce(Subquery(disputed), Value(_BEFORE_ANY_CASE)))
        .exclude(Exists(assessed))
        .order_by("submitted_at", "id")
    )


def newly_referred(actor: Actor) -> QuerySet[Case]:
    since = timezone.now() - timedelta(days=NEWLY_REFERRED_DAYS)
    return children_of(actor).filter(submitted_at__gte=since).order_by("-submitted_at", "-id")


def children_needing_action_count(actor: Actor) -> int:
    """How many children of the actor's areas need the local authority to act: an open task,
    or an age assessment outstanding; counted up to the lists' cap (`paging.count_up_to`: more
    than the cap is "More than 10,000"). Zero for anyone who is not a safeguarding lead.

    Two counts, not one with OR: with OR, PostgreSQL tested every child of the area for an
    open task (400 ms for an area of 225,000 children); apart, the few open tasks are joined
    to their cases, and the age-disputed read from the area's index."""
    with_open_task = ChildrenServicesTask.objects.filter(status=TaskStatus.OPEN).values("case_id")
    # A person who turned 18 with a task open still waits for the local authority to finish it.
    came_of_age = care_leavers_tasks(actor).values("case_id").distinct().count()
    return (
        children_of(actor).filter(pk__in=with_open_task).count()
        + came_of_age
        + count_up_to(assessments_outstanding(actor).exclude(pk__in=with_open_task))
    )


def task_get(actor: Actor, task_id: int) -> ChildrenServicesTask:
    """A task for a child of the actor's areas; or an open task of a person who turned 18 with
    it open, for the local authority of its area that must still finish it
    (`holds_care_leavers_task`); or, for a decision maker of the case's competent authority, an
    open task they may record instead of a local authority not in OpenNRM (`records_instead`):
    they must close the case, which the task holds open. 404 otherwise."""
    tasks = ChildrenServicesTask.objects.select_related("case", "owner", "raised_by", "done_by")
    found = tasks.filter(pk=task_id, case__in=children_of(actor).values("pk")).first()
    if found is None:
        found = tasks.filter(pk=task_id, status=TaskStatus.OPEN).first()
        if found is None or not (
            holds_care_leavers_task(actor, found) or records_instead(actor, found) is not None
        ):
            raise Http404
    return found


def may_open_case(actor: Actor, case: Case) -> bool:
    """Whether the case page opens for the actor: a task page links to it only then (not for
    the local authority finishing the task of a person who has since turned 18)."""
    return cases_visible_to(actor).filter(pk=case.pk).exists()


def assessment_refusal(case: Case) -> str | None:
    """Why no age assessment can be recorded on the case, or None.

    Never once the person's details were erased: its reasons are free text about them (who
    assessed them, where, what they said of their birth), and nothing would ever remove them,
    as the person has had their one erasure. On a closed case only while the person's age is
    disputed: a dispute is recorded on a closed case for someone found still living in an adult
    house after it closed (`services.age_dispute_raise`), the local authority is asked to assess
    them, and only an assessment ends their being treated as a child. A closed case of anyone
    else is never reopened (a child found again is referred again, ADR 0025), and an assessment
    would only change its record and tell people of a case nobody acts on (ADR 0021, addendum
    of stop 40)."""
    if hasattr(case.person, "erasure"):
        return "This person's details have been erased: nothing can be added to their case"
    if case.closed_at is not None and case.age_group != AgeGroup.PRESUMED_CHILD:
        return (
            "The case is closed: an age assessment can be recorded on a closed case only while "
            "the person's age is disputed"
        )
    return None


def case_to_assess(actor: Actor, reference: str) -> Case:
    """A child's case whose age assessment the actor may record, or 404: none for a person
    whose details were erased, nor on a closed case unless their age is disputed
    (`assessment_refusal`)."""
    found = children_of(actor).filter(reference=reference).select_related("person").first()
    if found is None or not may_act_for(actor, found) or assessment_refusal(found):
        raise Http404
    return found


def may_dispute_age(actor: Actor, case: Case) -> bool:
    """Whether the actor may record that a person referred as an adult may be a child: a
    decision maker of the case's competent authority, or a first responder of the organisation
    that referred them (those who meet the person and decide on them; the local authority sees
    the case once the person is treated as a child)."""
    if case.is_child:
        return False
    return any(
        (organisation == case.competent_authority_id and role in DECIDERS)
        or (organisation == case.referring_organisation_id and role == Role.FIRST_RESPONDER)
        for organisation, role in actor.held
    )


def case_to_dispute(actor: Actor, reference: str) -> Case:
    """An adult's case whose age the actor may record as disputed, or 404."""
    found = cases_visible_to(actor).filter(reference=reference).first()
    if found is None or not may_dispute_age(actor, found):
        raise Http404
    return found


@dataclass(frozen=True)
class CaseSafeguarding:
    """What the case page shows of the children's pathway."""

    assessments: list[AgeAssessment]
    tasks: list[ChildrenServicesTask]
    may_assess: bool
    may_dispute: bool = False
    # Whether the actor may record an age assessment on the case now: acting for the child
    # (`may_assess`, which also opens its tasks), unless `assessment_refusal` says why not.
    may_record_assessment: bool = False
    # The tasks the actor may record instead of a local authority not in OpenNRM: linked.
    recordable: frozenset[int] = frozenset()


def case_safeguarding(actor: Actor, case: Case) -> CaseSafeguarding | None:
    """The case's age assessments and children's services tasks, for anyone who may open the
    case; None if it has neither and the actor cannot record one."""
    assessments = list(case.age_assessments.select_related("organisation", "recorded_by"))
    tasks = list(case.children_services_tasks.select_related("owner"))
    may_assess = may_act_for(actor, case)
    may_dispute = may_dispute_age(actor, case)
    if not (assessments or tasks or may_assess or may_dispute):
        return None
    recordable = frozenset(
        task.pk
        for task in tasks
        if task.status == TaskStatus.OPEN
        and not may_assess
        and records_instead(actor, task) is not None
    )
    return CaseSafeguarding(
        assessments=assessments,
        tasks=tasks,
        may_assess=may_assess,
        may_dispute=may_dispute,
        may_record_assessment=may_assess and assessment_refusal(case) is None,
        recordable=recordable,
    )


def safeguarding_export(case: Case) -> dict[str, Any]:
    """The children's pathway of a case in words, for a subject access export
    (`privacy.selectors`, which is audited): its age assessments and the local authority's
    tasks. Days as they are; the moment a task was done where the person was (the service's
    time zone), as the rest of the export gives it (`privacy.selectors._moment`), not in the
    database's UTC, which dates a task done just after midnight in summer the day before."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    def moment(value: datetime | None) -> str | None:
        return timezone.localtime(value).isoformat(timespec="seconds") if value else None

    return {
        "age_assessments": [
            {
                "outcome": item.get_outcome_display(),
                "assessed_on": day(item.assessed_on),
                "by": item.organisation.name,
                "age_group_before": AgeGroup(item.age_group_before).label,
                "age_group_after": AgeGroup(item.age_group_after).label,
                "reasons": item.reasons,
            }
            for item in case.age_assessments.select_related("organisation")
        ],
        "childrens_services_tasks": [
            {
                "task": item.get_kind_display(),
                "for": item.owner.name if item.owner else f"The local authority for {item.area}",
                "needs": item.needs,
                "due_on": day(item.due_on),
                "status": item.get_status_display(),
                "done_at": moment(item.done_at),
                "what_was_done": item.outcome,
            }
            for item in case.children_services_tasks.select_related("owner")
        ],
    }


# The timeline entry that says whom an age dispute told of children's services
# (`services.age_dispute_raise`).
AGE_DISPUTE_TOLD = "safeguarding.age_dispute_told"


def age_dispute_told(case: Case) -> str:
    """What the latest age dispute of the case told children's services, in the words its
    timeline entry records (`services.age_dispute_raise`): the page that recorded it says the
    same, never that they were told when nobody there uses OpenNRM (ADR 0015)."""
    entry = (
        CaseEvent.objects.filter(case=case, kind=AGE_DISPUTE_TOLD).order_by("-at", "-pk").first()
    )
    return entry.description if entry is not None else ""
