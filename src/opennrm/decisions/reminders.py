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

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

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
    soon_until = today + timedelta(days=DUE_SOON_DAYS)
    _write_reminders(today, soon_until)
    digests: dict[int, Digest] = defaultdict(Digest)
    deciders = _people(DECIDERS)
    seniors = _people({Role.SENIOR_DECISION_MAKER})
    # Tuples, not model instances: a national backlog is a million cases, read every day.
    cases = (
        Case.objects.filter(
            status=CaseStatus.AWAITING_REASONABLE_GROUNDS, reasonable_grounds_due__lte=soon_until
        )
        .values_list(
            "reference", "assigned_to_id", "competent_authority_id", "reasonable_grounds_due"
        )
        .iterator(chunk_size=5000)
    )
    counted = {"due_soon": 0, "overdue": 0}
    for reference, assigned_to_id, authority_id, due in cases:
        # The assignee while they still decide at the authority; once their role is gone (a
        # membership removed) every decision maker there, or nobody who can act hears of it.
        authority_deciders = deciders.get(authority_id, set())
        responsible = (
            {assigned_to_id} if assigned_to_id in authority_deciders else authority_deciders
        )
        if due is not None and due < today:  # never None: the filter compares it
            counted["overdue"] += 1
            for user_id in responsible | seniors.get(authority_id, set()):
                digests[user_id].overdue.add(reference)
        else:
            counted["due_soon"] += 1
            for user_id in responsible:
                digests[user_id].due_soon.add(reference)
    _send(digests)
    return RunResult(ran=True, reminders=counted["due_soon"], escalations=counted["overdue"])


def _write_reminders(today: date, soon_until: date) -> None:
    """One reminder row per case awaiting a reasonable-grounds decision due by `soon_until` (an
    escalation where already overdue), in one statement: rows written on an earlier day for the
    same deadline stay as they are (the unique constraint makes a repeat nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Reminder._meta.db_table} (case_id, kind, due_on, sent_at) "  # noqa: S608 - our own tables
            "SELECT id, CASE WHEN reasonable_grounds_due < %s THEN 'rg_overdue' "
            "ELSE 'rg_due_soon' END, reasonable_grounds_due, %s "
            f"FROM {Case._meta.db_table} "
            "WHERE status = %s AND reasonable_grounds_due <= %s "
            "ON CONFLICT DO NOTHING",
            [today, timezone.now(), CaseStatus.AWAITING_REASONABLE_GROUNDS, soon_until],
        )


def _people(roles: Iterable[Role]) -> dict[int, set[int]]:
    """The user ids holding `roles`, by competent authority."""
    by_authority: dict[int, set[int]] = defaultdict(set)
    for organisation_id, user_id in members_with_role(None, roles).values_list(
        "organisation_id", "user_id"
    ):
        by_authority[organisation_id].add(user_id)
    return by_authority


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
