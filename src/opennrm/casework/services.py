"""Every write of casework: a note added, a task added, given to someone else or done, and
erasure of their text.

Notes are never changed once written (ADR 0027). Events name the note or task and who may
read it, never the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_record
from opennrm.cases.models import Case
from opennrm.lib.text import as_lines, single_line_problem

from . import selectors
from .models import CaseNote, CaseTask, TaskStatus, Visibility

MAX_NOTE = 5000
MAX_TITLE = 200
# A due date further ahead than this is more likely a typing slip than a plan.
LONGEST_AHEAD = timedelta(days=2 * 366)


def _organisation_of(by: User, case: Case) -> Organisation:
    """The organisation `by` works on the case through; refused if they may not open it."""
    actor = Actor.of_session(by)
    if not selectors.parties_of(actor, case).all:
        raise ValidationError("Only people who may open this case can add to it")
    return selectors.acting_organisation(actor, case)


def _check_not_erased(case: Case) -> None:
    if hasattr(case.person, "erasure"):
        raise ValidationError("This person's details have been erased: nothing can be added")


@transaction.atomic
def case_note_add(
    *, by: User, case: Case, text: str, visibility: str, submission_key: UUID | None = None
) -> CaseNote:
    """Add a note to the case, for the author's organisation and those it is shared with.

    A note is kept for ever, so the same form sent twice (`submission_key`, the form's one-time
    key) adds it once: the second time, the note the first added is returned, and nothing is
    written or recorded again. Sent again with other words or another visibility (changed after
    going Back), it is another note: added, without the key, never dropped as a repeat.

    Line breaks are stored and counted as LF, as the author sees them: a browser sends each as
    CR LF."""
    organisation = _organisation_of(by, case)
    _check_not_erased(case)
    text = as_lines(text).strip()
    if submission_key is not None:
        # The case's lock: a second click sent at once waits for the first to commit.
        Case.objects.select_for_update().filter(pk=case.pk).exists()
        earlier = CaseNote.objects.filter(author=by, submission_key=submission_key).first()
        if earlier is not None and earlier.case_id == case.pk:
            # The note added with the key, or one the author added to the case since with
            # the same words and readers (this form changed after Back, sent twice): a repeat.
            sent = CaseNote.objects.filter(
                case=case, author=by, created_at__gte=earlier.created_at
            ).order_by("created_at", "id")
            for note in sent:
                if (note.text, note.visibility) == (text, visibility):
                    return note
        if earlier is not None:
            # A key is one form of one case (unique for its author in the database): sent
            # changed, or to another case (a copied or replayed form), the note is added
            # without it rather than dropped, or refused by the constraint as a server error.
            submission_key = None
    problems: dict[str, str] = {}
    if not text:
        problems["text"] = "Enter the note"
    elif len(text) > MAX_NOTE:
        problems["text"] = f"The note must be {MAX_NOTE:,} characters or fewer"
    allowed = [value for value, _ in selectors.visibility_choices(case, organisation)]
    if visibility not in allowed:
        problems["visibility"] = "Select who may read the note"
    if problems:
        raise ValidationError(problems)
    note = CaseNote.objects.create(
        case=case,
        author=by,
        organisation=organisation,
        visibility=visibility,
        text=text,
        created_at=timezone.now(),
        submission_key=submission_key,
    )
    audit_record(
        by=by,
        action="case_note.added",
        obj=note,
        organisation=organisation,
        detail={"case": case.reference, "visibility": Visibility(visibility).value},
    )
    return note


@transaction.atomic
def case_task_add(*, by: User, case: Case, title: str, owner: User, due_on: date) -> CaseTask:
    """Add a task on the case for someone in the creator's organisation, due on a day."""
    organisation = _organisation_of(by, case)
    _check_not_erased(case)
    title = title.strip()
    today = timezone.localdate()
    problems: dict[str, str] = {}
    if not title:
        problems["title"] = "Enter what needs doing"
    elif len(title) > MAX_TITLE:
        problems["title"] = f"What needs doing must be {MAX_TITLE} characters or fewer"
    elif problem := single_line_problem(title, "What needs doing"):
        problems["title"] = problem
    if owner not in selectors.possible_owners(case, organisation):
        problems["owner"] = (
            f"Choose someone in {organisation.name} who can open this case to own the task"
        )
    if due_on < today:
        problems["due_on"] = "The due date must be today or later"
    elif due_on > today + LONGEST_AHEAD:
        problems["due_on"] = "The due date must be within 2 years"
    if problems:
        raise ValidationError(problems)
    task = CaseTask.objects.create(
        case=case,
        organisation=organisation,
        created_by=by,
        created_at=timezone.now(),
        title=title,
        owner=owner,
        due_on=due_on,
    )
    audit_record(
        by=by,
        action="case_task.added",
        obj=task,
        organisation=organisation,
        detail={"case": case.reference, "owner": owner.pk, "due_on": due_on.isoformat()},
    )
    return task


@transaction.atomic
def case_task_done(*, by: User, task: CaseTask) -> CaseTask:
    """Mark a task done: by its owner or anyone in its organisation who works on the case."""
    locked = CaseTask.objects.select_for_update().get(pk=task.pk)
    if locked.organisation_id not in selectors.parties_of(Actor.of_session(by), locked.case).all:
        raise ValidationError("Only people in the task's organisation can mark it done")
    if locked.status == TaskStatus.DONE:
        raise ValidationError("This task has already been marked done")
    locked.status = TaskStatus.DONE
    locked.done_at, locked.done_by = timezone.now(), by
    locked.save(update_fields=["status", "done_at", "done_by"])
    audit_record(
        by=by,
        action="case_task.done",
        obj=locked,
        organisation=locked.organisation,
        detail={"case": locked.case.reference},
    )
    return locked


@transaction.atomic
def case_task_reassign(*, by: User, task: CaseTask, owner: User) -> CaseTask:
    """Give an open task to someone else in its organisation: its owner has left, or cannot do
    it. The checks of adding a task: by someone who works on the case through the task's
    organisation, not once the person's details are erased, to someone there who can open the
    case."""
    locked = CaseTask.objects.select_for_update().select_related("organisation").get(pk=task.pk)
    case = locked.case
    organisation = locked.organisation
    if organisation.pk not in selectors.parties_of(Actor.of_session(by), case).all:
        raise ValidationError("Only people in the task's organisation can give it to someone")
    _check_not_erased(case)
    if locked.status == TaskStatus.DONE:
        raise ValidationError("This task has already been marked done")
    if owner not in selectors.possible_owners(case, organisation):
        raise ValidationError(
            {
                "owner": f"Choose someone in {organisation.name} who can open this case to own "
                "the task"
            }
        )
    if owner.pk == locked.owner_id:
        raise ValidationError({"owner": f"{owner.full_name or owner.email} already owns the task"})
    previous = locked.owner_id
    locked.owner = owner
    locked.save(update_fields=["owner"])
    audit_record(
        by=by,
        action="case_task.reassigned",
        obj=locked,
        organisation=organisation,
        detail={"case": case.reference, "owner": owner.pk, "previous_owner": previous},
    )
    return locked


def casework_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty the text of every note and the title of every task of the cases. Who wrote them,
    when, and the tasks' dates and states stay. Called only inside
    `privacy.services._remove_identifying_records`, whose audit event covers it."""
    return {
        "case_notes": CaseNote.objects.filter(case_id__in=case_ids).update(text=""),
        "case_task_titles": CaseTask.objects.filter(case_id__in=case_ids).update(title=""),
    }
