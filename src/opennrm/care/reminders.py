"""The daily reminders before move-on support ends: for every person living in a place
(an occupied placement) whose case has a move-on end date, the provider's safe-house managers
and the support coordinators are told 14 days, 7 days and 1 day before it, and on the day it
ends. Where the jurisdiction's own law gives a support period (`Case.support_ends`, named for
the jurisdiction by `policy.own_support`), its end is reminded of too, the earlier of the two:
Scotland's 90 days while the recovery period lasts (a conclusive decision ends them), Northern
Ireland's 45 days after a positive conclusive decision made within them (until the conclusive
decision, s.18 support has no end date to remind of).
A run that missed a day catches up with the most urgent reminder due (never the earlier
ones), and a placement still occupied after its end is reminded once more, never every day.

These periods are adults' (the adult victim care contract's, Scotland's s.9 and Northern
Ireland's s.18 support): a child or a person whose age is disputed (treated as a child, ADR
0025) is never reminded, whatever end date the case still holds from when they were treated
as an adult, and neither is a closed case.

Safe to run any number of times, even at once: each reminder is a unique row (placement, kind,
end date), inserted in a savepoint before anything is sent, so a second run finds it taken (on
PostgreSQL it waits for the first run's commit, then fails on the unique index) and sends
nothing again. A new end date (after a reconsideration, say) is a new set of reminders.
People get one digest each, naming case references, never a person or a site. A provider's
safe-house managers are told of its placements as its news (`deliver(organisation=...)`), one
digest per provider, so the worker e-mails it only while they still hold a role there
(`notifications.tasks._may_still_read`; ADR 0008, addendum of stop 40). Coordinators are told of
every placement, nationally, in a digest of their own with no organisation (as the other news
told to them nationally), which also carries the placements of a provider they manage for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from opennrm.accommodation.models import Placement, PlacementStatus
from opennrm.accommodation.services import members_in_roles, support_coordinators
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.services import audit_record
from opennrm.cases.choices import TREATED_AS_CHILD, CaseStatus
from opennrm.cases.models import Case
from opennrm.notifications.services import deliver
from opennrm.policy.own_support import BY_JURISDICTION, own_support

from .models import MoveOnReminder, MoveOnReminderKind

EARLIEST = 14


def kind_for(days_left: int) -> MoveOnReminderKind | None:
    """The reminder due with `days_left` days until move-on support ends (0: it ends today)."""
    if days_left <= 0:
        return MoveOnReminderKind.ENDS
    if days_left == 1:
        return MoveOnReminderKind.DAYS_1
    if days_left <= 7:
        return MoveOnReminderKind.DAYS_7
    if days_left <= EARLIEST:
        return MoveOnReminderKind.DAYS_14
    return None


MOVE_ON = "move-on support"
# A jurisdiction's own support period where `policy.own_support` does not name it.
OWN_SUPPORT = own_support("").noun
# Jurisdictions whose own support runs until the conclusive decision (Northern Ireland's s.18):
# its date is an end only after a positive one.
UNTIL_CONCLUSIVE = sorted(j for j, own in BY_JURISDICTION.items() if own.until_conclusive_decision)


def support_end(case: Case) -> tuple[date, str] | None:
    """The end of the case's support to remind of, and what support it is: the earlier of the
    move-on end and the jurisdiction's own support period's end, or None. The own support
    period counts in the status where its date is an end: the recovery period where a
    conclusive decision ends it (Scotland; what follows is move-on), after a positive
    conclusive decision where support runs until that decision (Northern Ireland)."""
    named = own_support(case.jurisdiction)
    status = (
        CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
        if named.until_conclusive_decision
        else CaseStatus.RECOVERY_PERIOD
    )
    own = case.support_ends if case.status == status else None
    ends = [
        (day, what)
        for day, what in ((case.move_on_ends, MOVE_ON), (own, named.noun))
        if day is not None
    ]
    return min(ends) if ends else None


@dataclass(frozen=True)
class Line:
    placement_id: int
    reference: str
    ends: date
    days_left: int
    what: str = MOVE_ON

    def __str__(self) -> str:
        if self.days_left < 0:
            return f"{self.reference}: {self.what} ended on {self.ends:%-d %B %Y}"
        if self.days_left == 0:
            return f"{self.reference}: {self.what} ends today ({self.ends:%-d %B %Y})"
        days = "1 day" if self.days_left == 1 else f"{self.days_left} days"
        return f"{self.reference}: {self.what} ends on {self.ends:%-d %B %Y}, in {days}"


@dataclass(frozen=True)
class RunResult:
    reminders: int
    people_told: int


def run(today: date) -> RunResult:
    with transaction.atomic():
        horizon = today + timedelta(days=EARLIEST)
        due = (
            Placement.objects.filter(status=PlacementStatus.OCCUPIED)
            .filter(
                Q(request__case__move_on_ends__lte=horizon)
                | Q(
                    request__case__support_ends__lte=horizon,
                    request__case__status=CaseStatus.RECOVERY_PERIOD,
                )
                # After a positive conclusive decision, Northern Ireland's s.18 end: the 45th
                # day, or the decision's own day if it came later (`decisions.services._effect`);
                # a run on or after it says once that it ended, as for move-on.
                | Q(
                    request__case__support_ends__lte=horizon,
                    request__case__status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
                    request__case__jurisdiction__in=UNTIL_CONCLUSIVE,
                )
            )
            .exclude(request__case__status=CaseStatus.CLOSED)
            # Support runs on while a reconsideration waits (`cases.services.support_running`):
            # no countdown to an end that may not come.
            .exclude(request__case__status=CaseStatus.RECONSIDERATION)
            .exclude(request__case__age_group__in=TREATED_AS_CHILD)
            .select_related("request__case", "bed__room__site")
            .order_by("pk")
        )
        # By (person, the provider whose news it is; None for a coordinator's national digest).
        digests: dict[tuple[int, int | None], list[Line]] = defaultdict(list)
        managers: dict[int, list[User]] = {}
        coordinators = support_coordinators()
        sent = 0
        for placement in due:
            case = placement.request.case
            end = support_end(case)
            if end is None:
                continue
            ends, what = end
            days_left = (ends - today).days
            kind = kind_for(days_left)
            if kind is None:
                continue
            try:
                with transaction.atomic():
                    MoveOnReminder.objects.create(
                        placement=placement, kind=kind, due_on=ends, sent_on=today
                    )
            except IntegrityError:
                continue  # sent already, by an earlier run or one running now
            sent += 1
            provider_id = placement.bed.room.site.provider_id
            if provider_id not in managers:
                managers[provider_id] = members_in_roles([provider_id], {Role.SAFE_HOUSE_MANAGER})
            line = Line(placement.pk, case.reference, ends, days_left, what)
            # Each person once a line: a coordinator as a coordinator (nationally), else a
            # manager as the provider's.
            told: dict[int, int | None] = {user.pk: None for user in coordinators}
            for user in managers[provider_id]:
                told.setdefault(user.pk, provider_id)
            for key in told.items():
                digests[key].append(line)
        users = User.objects.in_bulk({user_id for user_id, _ in digests})
        providers = Organisation.objects.in_bulk({p for _, p in digests if p is not None})
        for (user_id, provider), lines in digests.items():
            _send(users[user_id], lines, providers.get(provider) if provider else None)
        people_told = len(users)
        if sent:
            audit_record(
                by=None,
                action="support.move_on_reminders_sent",
                detail={"reminders": sent, "people_told": people_told, "day": today.isoformat()},
            )
        return RunResult(reminders=sent, people_told=people_told)


def _send(user: User, lines: list[Line], provider: Organisation | None) -> None:
    lines = sorted(lines, key=lambda line: (line.ends, line.reference))
    count = len(lines)
    people = "1 person" if count == 1 else f"{count} people"
    url = (
        reverse("support:placement", args=[lines[0].placement_id])
        if count == 1
        else reverse("support:placements")
    )
    deliver(
        recipients=[user],
        kind="support.move_on_reminder",
        url=url,
        subject=f"{'Move-on support' if all(x.what == MOVE_ON for x in lines) else 'Support'} "
        f"ends soon for {people}",
        body="; ".join(str(line) for line in lines)
        + ". Plan their move on, and record when they leave on the placement page.",
        organisation=provider,
    )
