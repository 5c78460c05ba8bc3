"""The daily reminders: deadlines coming up go to the case's decision maker; deadlines passed
are escalated to the authority's senior decision makers as well. Two queues have deadlines
(`selectors.DEADLINE_QUEUES`): reasonable grounds decisions (`reasonable_grounds_due`) and
reconsiderations (`reconsideration_decide_by`); both are reminded of (`REMINDED`).

Safe to run any number of times, even at once: each day's run first inserts its `ReminderRun`
row inside the run's transaction, so a second run waits for the first and then finds the day
taken. People get one digest each (how many cases, in which queue, with a link to each), not
one message per case or per queue: one for each competent authority whose cases it names,
recorded as that authority's news, so the worker e-mails it only while they still hold a role
there (`notifications.tasks._may_still_read`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.notifications.services import deliver

from . import selectors
from .models import Reminder, ReminderRun
from .selectors import DUE_SOON_DAYS, QUEUES


@dataclass(frozen=True)
class Reminded:
    """A decision queue whose deadline is reminded of: the prefix of its `Reminder.kind`s
    ("rg_due_soon", "rg_overdue"), its name in a digest's subject, and the sentence before its
    cases in the body."""

    kind: str
    subject: str
    cases: str


# In the order a digest lists them. The cases are those `selectors.reminded` reads: the queue's
# own status, and of a case listed apart (`selectors.HELD_APART`: suspended while the person was
# missing) only one whose person is back (`selectors.back_from_missing`); not while missing.
REMINDED: dict[str, Reminded] = {
    "reasonable-grounds": Reminded(
        "rg", "reasonable grounds decisions", "Cases needing a reasonable grounds decision"
    ),
    "reconsiderations": Reminded("rc", "reconsiderations", "Reconsiderations to decide"),
}


@dataclass
class Digest:
    """One person's cases of one competent authority in one queue, each with its deadline
    (reference: date)."""

    due_soon: dict[str, date] = field(default_factory=dict)
    overdue: dict[str, date] = field(default_factory=dict)


# The cases a digest names on each line; the rest are counted ("and 3 more").
NAMED = 10


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
    deciders = _people(DECIDERS)
    seniors = _people({Role.SENIOR_DECISION_MAKER})
    # By queue, then by (person, authority): a digest names one authority's cases only.
    digests: dict[str, dict[tuple[int, int], Digest]] = {}
    counted = {"due_soon": 0, "overdue": 0}
    for queue, reminded in REMINDED.items():
        deadline = QUEUES[queue][2]
        queued: dict[tuple[int, int], Digest] = defaultdict(Digest)
        digests[queue] = queued
        read = selectors.reminded(queue, soon_until)
        for due_by in read:
            _write_reminders(reminded.kind, due_by, deadline, today)
        # Tuples, not model instances: a national backlog is a million cases, read every day.
        cases = chain.from_iterable(
            due_by.values_list(
                "reference", "assigned_to_id", "competent_authority_id", deadline
            ).iterator(chunk_size=5000)
            for due_by in read
        )
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
                    queued[user_id, authority_id].overdue[reference] = due
            else:
                counted["due_soon"] += 1
                for user_id in responsible:
                    queued[user_id, authority_id].due_soon[reference] = due
    _send(digests)
    return RunResult(ran=True, reminders=counted["due_soon"], escalations=counted["overdue"])


def _write_reminders(kind: str, cases: QuerySet[Case], deadline: str, today: date) -> None:
    """One reminder row per case of `cases` (due by the run's last day: `selectors.reminded`),
    an escalation where its `deadline` has passed, in one statement: rows written on an earlier
    day for the same deadline stay as they are (the unique constraint makes a repeat nothing)."""
    due_by, params = (
        cases.order_by().values(case_id=F("pk"), due_on=F(deadline)).query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Reminder._meta.db_table} (case_id, kind, due_on, sent_at) "  # noqa: S608 - our own tables and the ORM's SQL
            "SELECT case_id, CASE WHEN due_on < %s THEN %s ELSE %s END, due_on, %s "
            f"FROM ({due_by}) AS due_by "
            # SQLite reads an upsert after a SELECT with no WHERE as a join's ON.
            "WHERE true "
            "ON CONFLICT DO NOTHING",
            [today, f"{kind}_overdue", f"{kind}_due_soon", timezone.now(), *params],
        )


def _people(roles: Iterable[Role]) -> dict[int, set[int]]:
    """The user ids holding `roles`, by competent authority."""
    by_authority: dict[int, set[int]] = defaultdict(set)
    for organisation_id, user_id in members_with_role(None, roles).values_list(
        "organisation_id", "user_id"
    ):
        by_authority[organisation_id].add(user_id)
    return by_authority


def _named(cases: dict[str, date]) -> str:
    """The cases by their deadline, the oldest (or soonest) first, each with its date: the first
    `NAMED`, and how many more."""
    ordered = sorted(cases.items(), key=lambda item: (item[1], item[0]))
    named = ", ".join(f"{reference} (due {due:%-d %B})" for reference, due in ordered[:NAMED])
    more = len(ordered) - NAMED
    return named + (f" and {more} more" if more > 0 else "")


def _send(digests: dict[str, dict[tuple[int, int], Digest]]) -> None:
    """One message to each person for each authority, whatever the queues: the subject counts
    each queue's cases, the body names them with a link to each queue (when there are two), and
    the message opens the first queue with a case overdue (else the first). A queue's overdue
    cases have a line of their own, before those only due soon, so the reader starts with them.

    The message is the authority's news (`deliver(organisation=...)`): someone who has left it
    by the time the worker e-mails (moved to another authority, where they hold a role in
    force) is not e-mailed its cases. So a person who decides at two authorities gets one
    message for each, its body opening with the authority's name."""
    told = sorted({key for queued in digests.values() for key in queued})
    users = User.objects.in_bulk({user_id for user_id, _ in told})
    authorities = Organisation.objects.in_bulk({authority_id for _, authority_id in told})
    digests_each = Counter(user_id for user_id, _ in told)
    queue_url = reverse("decisions:queue")
    for key in told:
        user_id, authority_id = key
        user, authority = users[user_id], authorities[authority_id]
        theirs = [(queue, queued[key]) for queue, queued in digests.items() if key in queued]
        counts: list[str] = []
        sentences = [f"Cases of {authority.name}."] if digests_each[user_id] > 1 else []
        for queue, digest in theirs:
            parts = []
            if digest.overdue:
                parts.append(f"{len(digest.overdue)} overdue")
            if digest.due_soon:
                parts.append(f"{len(digest.due_soon)} due within {DUE_SOON_DAYS} days")
            counts.append(f"{REMINDED[queue].subject}: {', '.join(parts)}")
            if digest.overdue:
                sentences.append(f"{REMINDED[queue].cases}, overdue: {_named(digest.overdue)}.")
            if digest.due_soon:
                sentences.append(
                    f"{REMINDED[queue].cases}, due within {DUE_SOON_DAYS} days: "
                    f"{_named(digest.due_soon)}."
                )
            if len(theirs) > 1:
                sentences.append(f"{settings.SITE_URL}{queue_url}?queue={queue}")
        subject = "; ".join(counts)
        opens = next((queue for queue, digest in theirs if digest.overdue), theirs[0][0])
        deliver(
            recipients=[user],
            kind="decision.escalation"
            if any(digest.overdue for _queue, digest in theirs)
            else "decision.reminder",
            url=f"{queue_url}?queue={opens}",
            subject=subject[0].upper() + subject[1:],
            body="\n".join(sentences),
            organisation=authority,
        )
