"""Who may read which notes and tasks of a case, and the tasks waiting for someone.

Notes and tasks are for those who may open the case (`cases.selectors.cases_visible_to`): the
referring organisation's first responders, the competent authority's decision makers, and for a
child's case the safeguarding leads of its area. Each of them works on the case through an
organisation (`parties_of`); a note is read by its author's organisation, and beyond it only as
its `visibility` says; a task is seen by its organisation alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor, memberships_in_force
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.care.selectors import child_safeguarding_leads
from opennrm.cases.choices import TREATED_AS_CHILD
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_visible_to

from .models import CaseNote, CaseTask, TaskStatus, Visibility

# The roles through which someone may open a case (as the access table's CASE_READERS).
CASE_ROLES = DECIDERS | {Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD}
SAFEGUARDING_KINDS = (OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE)


@dataclass(frozen=True)
class Parties:
    """The organisations through which an actor works on one case, by the part they play."""

    referrer: list[int] = field(default_factory=list)
    authority: list[int] = field(default_factory=list)
    safeguarding: list[int] = field(default_factory=list)

    @property
    def all(self) -> list[int]:
        return list(dict.fromkeys(self.referrer + self.authority + self.safeguarding))


def parties_of(actor: Actor, case: Case) -> Parties:
    """Why the actor may open the case, as `cases_visible_to` decides it, by organisation."""
    referrer = list(actor.organisations_as({Role.FIRST_RESPONDER}))
    authorities = list(actor.organisations_as(DECIDERS))
    safeguarding: list[int] = []
    if case.is_child and case.area:
        safeguarding = list(
            actor.memberships()
            .filter(
                role=Role.SAFEGUARDING_LEAD,
                organisation__kind__in=SAFEGUARDING_KINDS,
                organisation__area=case.area,
            )
            .order_by("organisation_id")
            .values_list("organisation_id", flat=True)
        )
    return Parties(
        referrer=[case.referring_organisation_id]
        if case.referring_organisation_id in referrer
        else [],
        authority=[case.competent_authority_id]
        if case.competent_authority_id in authorities
        else [],
        safeguarding=safeguarding,
    )


def acting_organisation(actor: Actor, case: Case) -> Organisation:
    """The organisation a note or task the actor writes on the case belongs to: the referrer,
    else the competent authority, else the first safeguarding organisation of the area."""
    mine = parties_of(actor, case).all
    if not mine:
        raise Http404
    return Organisation.objects.get(pk=mine[0])


def case_get_for_casework(actor: Actor, reference: str) -> Case:
    """The case, if the actor may open it; else 404."""
    try:
        return (
            cases_visible_to(actor)
            .select_related("person", "referring_organisation", "competent_authority")
            .get(reference=reference)
        )
    except Case.DoesNotExist:
        raise Http404 from None


def notes_visible_to(actor: Actor, case: Case) -> QuerySet[CaseNote]:
    """The notes of the case the actor may read, newest first. An own-organisation note only
    to its organisation; one shared with the competent authority also to its decision makers;
    one shared with children's services also to the area's safeguarding leads."""
    parties = parties_of(actor, case)
    condition = Q(organisation_id__in=parties.all)
    if parties.authority:
        condition |= Q(
            visibility__in=[Visibility.COMPETENT_AUTHORITY, Visibility.CHILDRENS_SERVICES]
        )
    if parties.safeguarding:
        condition |= Q(visibility=Visibility.CHILDRENS_SERVICES)
    return (
        CaseNote.objects.filter(case=case)
        .filter(condition)
        .select_related("author", "organisation")
        .order_by("-created_at", "-id")
    )


def visibility_choices(case: Case, organisation: Organisation) -> list[tuple[str, str]]:
    """Who a note written for `organisation` may be shared with, in words."""
    choices = [(Visibility.OWN_ORGANISATION.value, f"Only {organisation.name}")]
    authority = case.competent_authority
    if organisation.pk != case.competent_authority_id:
        choices.append(
            (
                Visibility.COMPETENT_AUTHORITY.value,
                f"{organisation.name} and the competent authority ({authority.name})",
            )
        )
    if case.is_child and child_safeguarding_leads(case):
        # Offered only where someone in children's services reads it: shared with nobody, it
        # would tell its author that children's services know what it says (ADR 15).
        choices.append(
            (
                Visibility.CHILDRENS_SERVICES.value,
                f"{organisation.name}, the competent authority and children's services "
                f"(the safeguarding leads for children in {case.area})",
            )
        )
    return choices


def childrens_services_unreached(case: Case) -> str:
    """For a child's case in an area where nobody in children's services uses OpenNRM, why a
    note cannot be shared with them and what to do instead; else nothing."""
    if not case.is_child or child_safeguarding_leads(case):
        return ""
    area = case.area or "the child's area"
    return (
        f"OpenNRM knows no local authority or child guardian service for {area}: nobody in "
        "children's services there uses OpenNRM, so a note cannot be shared with them. Contact "
        "the area's children's services directly."
    )


def seen_by(note: CaseNote) -> str:
    """Who may read a note, in words, for the note's own line."""
    return {
        Visibility.OWN_ORGANISATION: f"Only {note.organisation.name}",
        Visibility.COMPETENT_AUTHORITY: f"{note.organisation.name} and the competent authority",
        Visibility.CHILDRENS_SERVICES: (
            f"{note.organisation.name}, the competent authority and children's services"
        ),
    }[Visibility(note.visibility)]


def _still_works_there(who: str = "owner") -> Q:
    """Whether the task's owner (or `who`: its creator) may still open the task's case through
    the task's organisation, as `parties_of` decides it (and so `possible_owners`): a
    membership in force there as a first responder of the referring organisation, a decision
    maker of the competent authority, or, for a child's case, a safeguarding lead of its area.
    Someone moved there to a role that cannot open the case no longer works it, as if they had
    left."""
    mine = memberships_in_force().filter(user=OuterRef(who), organisation=OuterRef("organisation"))
    referrer_or_authority = mine.filter(
        Q(role=Role.FIRST_RESPONDER, organisation=OuterRef("case__referring_organisation"))
        | Q(role__in=list(DECIDERS), organisation=OuterRef("case__competent_authority"))
    )
    safeguarding = mine.filter(
        role=Role.SAFEGUARDING_LEAD,
        organisation__kind__in=SAFEGUARDING_KINDS,
        organisation__area=OuterRef("case__area"),
    )
    return Q(Exists(referrer_or_authority)) | (
        Q(case__age_group__in=TREATED_AS_CHILD) & ~Q(case__area="") & Q(Exists(safeguarding))
    )


def tasks_on_case(actor: Actor, case: Case) -> QuerySet[CaseTask]:
    """The case's tasks the actor may see: those of the organisations they work on it through.
    Open first, by due date. Each says whether its owner has left its organisation
    (`needs_new_owner`, open tasks only): someone there must give it to someone else."""
    return (
        CaseTask.objects.filter(case=case, organisation_id__in=parties_of(actor, case).all)
        .annotate(
            needs_new_owner=Q(status=TaskStatus.OPEN) & ~_still_works_there(),
        )
        .select_related("owner", "done_by", "organisation")
        .order_by("-status", "due_on", "id")  # "open" sorts after "done": open first
    )


def task_get_for_user(actor: Actor, case: Case, task_id: int) -> CaseTask:
    try:
        return tasks_on_case(actor, case).get(pk=task_id)
    except CaseTask.DoesNotExist:
        raise Http404 from None


def task_get_for_casework(actor: Actor, task_id: int) -> CaseTask:
    """The task, if the actor may open its case and sees its organisation's tasks; else 404."""
    reference = (
        CaseTask.objects.filter(pk=task_id).values_list("case__reference", flat=True).first()
    )
    if reference is None:
        raise Http404
    return task_get_for_user(actor, case_get_for_casework(actor, reference), task_id)


def possible_owners(case: Case, organisation: Organisation) -> list[User]:
    """Who may own a task of `organisation` on the case: its members in force who may open the
    case through it, by name."""
    members = (
        memberships_in_force()
        .filter(organisation=organisation, role__in=list(CASE_ROLES))
        .select_related("user")
        .order_by("user__full_name", "user_id")
    )
    found: dict[int, User] = {}
    for membership in members:
        user = membership.user
        if user.pk in found:
            continue
        if organisation.pk in parties_of(Actor.of_session(user), case).all:
            found[user.pk] = user
    return list(found.values())


def tasks_for(actor: Actor) -> QuerySet[CaseTask]:
    """The open tasks the actor owns, and those they created whose owner has since left the
    task's organisation, on cases they may still open, through organisations they still work
    cases for: overdue first (by due date), then by case reference.

    A task belongs to its organisation so that its work outlives a member's departure
    (ADR 0027): until someone gives it a new owner (`services.case_task_reassign`), it is its
    creator's to act on, or, if they have left too (a task set for oneself), everyone's who
    works cases there; else it would be in nobody's list."""
    if not actor.user.is_authenticated:
        return CaseTask.objects.none()
    # Through a role that works cases: an organisation administrator's membership alone does
    # not show a task of that organisation.
    organisations = (
        actor.memberships()
        .filter(role__in=list(CASE_ROLES))
        .values_list("organisation_id", flat=True)
    )
    return (
        CaseTask.objects.filter(
            status=TaskStatus.OPEN,
            organisation_id__in=organisations,
            case__in=cases_visible_to(actor),
        )
        .annotate(
            needs_new_owner=~_still_works_there(),
            creator_left=~_still_works_there("created_by"),
        )
        .filter(
            Q(owner=actor.user)
            | Q(needs_new_owner=True, created_by=actor.user)
            | Q(needs_new_owner=True, creator_left=True)
        )
        .select_related("case", "case__person", "organisation", "owner")
        .order_by("due_on", "case__reference", "id")
    )


def tasks_due_count(actor: Actor) -> int:
    """How many of the actor's open tasks are due today or overdue."""
    return tasks_for(actor).filter(due_on__lte=timezone.localdate()).count()


def casework_counts(actor: Actor, case: Case) -> dict[str, int]:
    """For the case page's links: the notes the actor may read, and the open tasks they see."""
    return {
        "notes": notes_visible_to(actor, case).count(),
        "tasks": tasks_on_case(actor, case).filter(status=TaskStatus.OPEN).count(),
    }


def casework_export(case: Case) -> dict[str, list[dict[str, object]]]:
    """Every note and task of the case, for the person's subject access export: all of them,
    whoever wrote them and whoever may read them."""
    return {
        "notes": [
            {
                "written_at": timezone.localtime(note.created_at).isoformat(timespec="seconds"),
                "organisation": note.organisation.name,
                "shared": Visibility(note.visibility).label,
                "text": note.text,
            }
            for note in CaseNote.objects.filter(case=case)
            .select_related("organisation")
            .order_by("created_at", "id")
        ],
        "tasks": [
            {
                "title": task.title,
                "organisation": task.organisation.name,
                "due_on": task.due_on.isoformat(),
                "status": TaskStatus(task.status).label,
            }
            for task in CaseTask.objects.filter(case=case)
            .select_related("organisation")
            .order_by("created_at", "id")
        ],
    }
