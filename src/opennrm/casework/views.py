"""Pages of casework: a case's notes and tasks (add a note, add a task, mark one done), served
under the case's routes (`cases:`, pages/case_urls.py), and the signed-in user's own tasks and
the giving of a task to someone else (`casework:`).

For those who may open the case (`selectors.case_get_for_casework`); anyone else gets 404.
Notes' text and tasks' titles are about the person: they are shown on the case's notes page
and the user's task list only, each time after `audit_read`. The case page shows counts only.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, services
from .forms import NoteForm, TaskForm, TaskOwnerForm
from .models import CaseNote, CaseTask, TaskStatus


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _owner_form(task: CaseTask, owners: list[User], data: object = None) -> TaskOwnerForm:
    """The form that gives one task to someone else, its ids the task's own on a page of many."""
    return TaskOwnerForm(
        data,
        owners=[user for user in owners if user.pk != task.owner_id],
        organisation_name=task.organisation.name,
        auto_id=f"task-{task.pk}-%s",
    )


@require_safe
def notes(request: HttpRequest, reference: str) -> HttpResponse:
    actor = actor_of(request)
    case = selectors.case_get_for_casework(actor, reference)
    shown_notes = list(selectors.notes_visible_to(actor, case))
    tasks = list(selectors.tasks_on_case(actor, case))
    fields = []
    if any(note.text for note in shown_notes):
        fields.append("case_notes")
    if any(task.title for task in tasks):
        fields.append("task_titles")
    if fields:
        audit_read(by=_user(request), person=case.person, obj=case, fields=fields)
    owners: dict[int, list[User]] = {}
    owner_forms = {}
    for task in tasks:
        if task.status == TaskStatus.OPEN:
            if task.organisation_id not in owners:
                owners[task.organisation_id] = selectors.possible_owners(case, task.organisation)
            owner_forms[task.pk] = _owner_form(task, owners[task.organisation_id])
    return render(
        request,
        "casework/notes.html",
        {
            "title": f"Notes and tasks for case {case.reference}",
            "case": case,
            "notes": [(note, selectors.seen_by(note)) for note in shown_notes],
            "tasks": tasks,
            "owner_forms": owner_forms,
            "today": timezone.localdate(),
            "erased": hasattr(case.person, "erasure"),
            "organisation": selectors.acting_organisation(actor, case),
        },
    )


def _note_message(note: CaseNote, key: UUID | None, sent_at: datetime) -> str:
    """What happened to the note sent: added, already there (the form sent twice), or added
    as another note (the form sent again changed, after going Back)."""
    if note.created_at < sent_at:
        return "This note had already been added: it is not added twice"
    if key is not None and note.submission_key != key:
        return (
            "Note added as a new note. The note sent before from this page is kept as it was: "
            "a note cannot be changed"
        )
    return "Note added"


@require_http_methods(["GET", "POST"])
def note_add(request: HttpRequest, reference: str) -> HttpResponse:
    actor = actor_of(request)
    case = selectors.case_get_for_casework(actor, reference)
    organisation = selectors.acting_organisation(actor, case)
    choices = selectors.visibility_choices(case, organisation)
    form = NoteForm(request.POST or None, visibility=choices)
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data["submission_key"]
        sent_at = timezone.now()
        try:
            note = services.case_note_add(
                by=_user(request),
                case=case,
                text=form.cleaned_data["text"],
                visibility=form.cleaned_data["visibility"],
                submission_key=key,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _note_message(note, key, sent_at))
            return redirect("cases:notes", case.reference)
    if form.is_bound and form.data.get("text", "").strip():
        # The note typed, shown again after a refusal: free text about the person.
        audit_read(by=_user(request), person=case.person, obj=case, fields=["case_notes"])
    return render(
        request,
        "casework/note_add.html",
        {
            "title": "Add a note",
            "case": case,
            "form": form,
            "organisation": organisation,
            "childrens_services_unreached": selectors.childrens_services_unreached(case),
        },
    )


@require_http_methods(["GET", "POST"])
def task_add(request: HttpRequest, reference: str) -> HttpResponse:
    actor = actor_of(request)
    case = selectors.case_get_for_casework(actor, reference)
    organisation = selectors.acting_organisation(actor, case)
    form = TaskForm(
        request.POST or None,
        owners=selectors.possible_owners(case, organisation),
        organisation_name=organisation.name,
        initial={"owner": str(actor.user.pk)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_task_add(
                by=_user(request),
                case=case,
                title=form.cleaned_data["title"],
                owner=form.chosen_owner(),
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Task added")
            return redirect("cases:notes", case.reference)
    if form.is_bound and form.data.get("title", "").strip():
        # The task's title typed, shown again after a refusal: about the person.
        audit_read(by=_user(request), person=case.person, obj=case, fields=["task_titles"])
    return render(
        request,
        "casework/task_add.html",
        {"title": "Add a task", "case": case, "form": form, "organisation": organisation},
    )


@require_POST
def task_done(request: HttpRequest, reference: str, task_id: int) -> HttpResponse:
    actor = actor_of(request)
    case = selectors.case_get_for_casework(actor, reference)
    task = selectors.task_get_for_user(actor, case, task_id)
    try:
        services.case_task_done(by=_user(request), task=task)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Task marked done")
    return redirect("cases:notes", case.reference)


@require_POST
def task_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_of(request)
    task = selectors.task_get_for_casework(actor, task_id)
    case = task.case
    form = _owner_form(task, selectors.possible_owners(case, task.organisation), request.POST)
    back = reverse("cases:notes", args=[case.reference]) + f"#task-{task.pk}"
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["owner"]))
        return redirect(back)
    try:
        owner = services.case_task_reassign(
            by=_user(request), task=task, owner=form.chosen_owner()
        ).owner
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Task given to {owner.full_name or owner.email}")
    return redirect(back)


@require_safe
def my_tasks(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tasks = list(selectors.tasks_for(actor_of(request)))
    # A title may name someone: each person whose tasks are listed is a read of their details.
    read: set[int] = set()
    for task in tasks:
        if task.title and task.case_id not in read:
            read.add(task.case_id)
            audit_read(by=user, person=task.case.person, obj=task.case, fields=["task_titles"])
    return render(
        request,
        "casework/my_tasks.html",
        {"title": "My tasks", "tasks": tasks, "today": timezone.localdate()},
    )
