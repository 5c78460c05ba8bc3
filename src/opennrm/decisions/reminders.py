"""The daily reminders: deadlines coming up go to the case's decision maker; deadlines passed
are escalated to the authority's senior decision makers as well.

Safe to run any number of times, even at once: each day's run first inserts its `ReminderRun`
row inside the run's transaction, so a second run waits for the first and then finds the day
taken. People get one digest each (how many cases, which queue), not one message per case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse

from opennrm.accounts.actor import DECIDERS, members_with_role
from opennrm.accounts.models import User
from opennrm.accounts.roles import Role
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.notifications.services import deliver

from .models import Reminder, ReminderRun
from .selectors import DUE_SOON_DAYS


@dataclass
class Digest:
    due_soon: set[str] = field(default_factory=set)
    overdue: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RunResult:
    ran: bool
    reminders: int = 0
    escalations: int = 0


def run(today: date) -> RunResult:
    try:
        with transaction.atomic():
            day = ReminderRun.objects.create(day=today)
            result = _remind(today)
            day.reminders, day.escalations = result.reminders, result.escalations
            day.save(update_fields=["reminders", "escalations"])
            return result
    except IntegrityError:
        return RunResult(ran=False)


def _remind(today: date) -> RunResult:
    awaiting = Case.objects.filter(status=CaseStatus.AWAITING_REASONABLE_GROUNDS)
    due_soon = awaiting.filter(
        reasonable_grounds_due__gte=today,
        reasonable_grounds_due__lte=today + timedelta(days=DUE_SOON_DAYS),
    )
    overdue = awaiting.filter(reasonable_grounds_due__lt=today)
    digests: dict[int, Digest] = defaultdict(Digest)
    deciders = _people(DECIDERS)
    seniors = _people({Role.SENIOR_DECISION_MAKER})
    rows: list[Reminder] = []
    fields = (
        "id",
        "reference",
        "assigned_to_id",
        "competent_authority_id",
        "reasonable_grounds_due",
    )
    for case in due_soon.only(*fields).iterator(chunk_size=2000):
        rows.append(
            Reminder(case_id=case.pk, kind="rg_due_soon", due_on=case.reasonable_grounds_due)  # type: ignore[misc]
        )
        for user_id in _responsible(case, deciders):
            digests[user_id].due_soon.add(case.reference)
    escalations = 0
    for case in overdue.only(*fields).iterator(chunk_size=2000):
        rows.append(
            Reminder(case_id=case.pk, kind="rg_overdue", due_on=case.reasonable_grounds_due)  # type: ignore[misc]
        )
        escalations += 1
        for user_id in _responsible(case, deciders) | seniors.get(
            case.competent_authority_id, set()
        ):
            digests[user_id].overdue.add(case.reference)
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    _send(digests)
    return RunResult(ran=True, reminders=len(rows) - escalations, escalations=escalations)


def _people(roles: Iterable[Role]) -> dict[int, set[int]]:
    """The user ids holding `roles`, by competent authority."""
    by_authority: dict[int, set[int]] = defaultdict(set)
    for organisation_id, user_id in members_with_role(None, roles).values_list(
        "organisation_id", "user_id"
    ):
        by_authority[organisation_id].add(user_id)
    return by_authority


def _responsible(case: Case, deciders: dict[int, set[int]]) -> set[int]:
    """The assigned decision maker, or every decision maker of the authority if nobody is."""
    if case.assigned_to_id:
        return {case.assigned_to_id}
    return deciders.get(case.competent_authority_id, set())


def _send(digests: dict[int, Digest]) -> None:
    users = User.objects.in_bulk(list(digests))
    queue_url = reverse("decisions:queue")
    for user_id, digest in digests.items():
        user = users.get(user_id)
        if user is None:
            continue
        parts = []
        if digest.overdue:
            parts.append(f"{len(digest.overdue)} overdue")
        if digest.due_soon:
            parts.append(f"{len(digest.due_soon)} due within {DUE_SOON_DAYS} days")
        examples = sorted(digest.overdue)[:10] + sorted(digest.due_soon)[:10]
        deliver(
            recipients=[user],
            kind="decision.reminder" if not digest.overdue else "decision.escalation",
            url=f"{queue_url}?queue=reasonable-grounds",
            subject=f"Reasonable grounds decisions: {', '.join(parts)}",
            body="Cases needing a reasonable grounds decision: "
            + ", ".join(examples)
            + (" and more." if len(digest.overdue) + len(digest.due_soon) > len(examples) else "."),
        )
