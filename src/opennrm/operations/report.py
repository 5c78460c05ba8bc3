"""The operation report (issue 14, item 6): the account of an operation for its lead and
partners, counted from the records, never stored (ADR 0045).

Counts only, no names: how many people were taken in and where each stands now (the board's
`standing_of`), the reasonable and conclusive grounds decisions in effect for their cases, who
was accommodated and how quickly, who was turned away for lack of a suitable place and why, who
went missing, the planned removals recorded while they were protected, and, day by day, the
places they needed against the places there were for them.

Who may read it is the operation's own rule (`selectors.operation_get_for`, ADR 0039): the
caller fetches the operation that way before asking for its report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from opennrm.accommodation.matching import constraint_label
from opennrm.accommodation.models import (
    Bed,
    BedEvent,
    BedHold,
    BedState,
    ExitReason,
    ImmediateNeed,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    SiteAges,
    SiteKind,
    UnmetNeed,
)
from opennrm.cases.choices import Sex
from opennrm.cases.models import Case
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from opennrm.policy.profiles import OutcomeKind
from opennrm.protection.models import PlannedRemoval
from opennrm.referrals.models import DraftStatus
from opennrm.safeguarding.models import ChildrenServicesTask, TaskKind, TaskStatus

from . import forecast as model
from .forecast import DEFAULT_WEEKS_AFTER, MEN, MIXED, WOMEN, NoStays
from .history import load_history
from .models import AgeGroup, Operation, ReceptionRecord
from .selectors import (
    CASE_AGE_GROUPS,
    Standing,
    age_group_now,
    expected_of,
    reception_of,
    refuses_support,
    standing_of,
)

# A placement in which the provider took the person: accepted, lived in, or lived in and ended
# (a placement ends only from "occupied", `accommodation.services.placement_end`).
TAKEN = (PlacementStatus.ACCEPTED, PlacementStatus.OCCUPIED, PlacementStatus.ENDED)
# A request closed by a coordinator records "closed" as its last reason; matching's earlier
# findings for the same request say what was missing, so they are preferred.
CLOSED = "closed"
# The forecast's kinds of adult place, compared with what happened (children's placements are
# the local authority's, not counted day by day here).
ADULT_KINDS = (WOMEN, MEN, MIXED)


@dataclass(frozen=True)
class Decisions:
    """One kind of decision for the operation's cases: each case counted once, by its latest
    decision of the kind in effect (approved where approval was needed, not superseded)."""

    positive: int
    negative: int
    # Closed or paused without a decision (the person missing, or gone abroad).
    not_decided: int
    # No decision of the kind in effect yet (for conclusive grounds: among the cases with a
    # positive reasonable grounds decision in effect).
    awaited: int


@dataclass(frozen=True)
class Waits:
    """How many people were accommodated, and how long those whose wait is known waited, in
    hours from being taken in."""

    people: int
    timed: int
    median_hours: float | None
    longest_hours: float | None


@dataclass(frozen=True)
class BedDay:
    """One day of the operation and the weeks after, as at the end of the day."""

    day: date
    # People of the operation in a place, and adults waiting for one (an open placement
    # request, or a referral not yet submitted for someone who needed a bed that night).
    in_place: int
    waiting: int
    # Beds kept for the operation (surge places in their dates, beds held for it) still free.
    kept_free: int
    # Other free beds at adults' sites in the operation's region, kept for no operation.
    other_free: int
    # in_place + waiting for adults, per kind of place (women, men, mixed), as the forecast.
    needed_by_kind: dict[str, int]

    @property
    def needed(self) -> int:
        return self.in_place + self.waiting

    @property
    def available(self) -> int:
        """The places the operation's people had, and the free ones they could have had."""
        return self.in_place + self.kept_free + self.other_free

    @property
    def short(self) -> int:
        return max(0, self.needed - self.available)


@dataclass(frozen=True)
class KindDay:
    """One kind of place on one day: the places needed, and the forecast's interval."""

    kind: str
    needed: int
    median: int
    lower: int
    upper: int

    @property
    def within(self) -> bool:
        return self.lower <= self.needed <= self.upper


@dataclass(frozen=True)
class ForecastDay:
    day: date
    kinds: tuple[KindDay, ...]

    @property
    def within(self) -> bool:
        return all(kind.within for kind in self.kinds)


@dataclass(frozen=True)
class ForecastCompared:
    """The forecast made again as on the eve of the operation (the history recorded before
    its first day, the plan's expected numbers), beside the places needed each day."""

    level: float
    simulations: int
    days: tuple[ForecastDay, ...]

    @property
    def days_within(self) -> int:
        return sum(day.within for day in self.days)


@dataclass(frozen=True)
class OperationReport:
    as_of: date
    taken_in: int
    # (sex, age group) -> people, the operation's own age groups, every pair present (0 too):
    # the group on the night, or child / age disputed if found to be one since (`age_group_now`).
    by_sex_and_age: dict[tuple[str, str], int]
    standings: dict[Standing, int]
    cases: int
    reasonable_grounds: Decisions
    conclusive_grounds: Decisions
    # Adults whose place a provider accepted (or whose request was met), and how quickly.
    placed: Waits
    # Children and age-disputed people whose accommodation the local authority recorded done.
    children_accommodated: Waits
    # People whose request for a place was closed with no suitable place, by reason code.
    turned_away: dict[str, int]
    missing_now: int
    left_without_notice: int
    # Planned removals recorded for their references while the answer was "protected".
    planned_removals_while_protected: int
    people_with_planned_removal_while_protected: int
    days: tuple[BedDay, ...]
    forecast: ForecastCompared | None
    # Why there is no forecast to compare with ("" when there is one).
    no_forecast: str

    @property
    def turned_away_total(self) -> int:
        return sum(self.turned_away.values())

    @property
    def turned_away_labelled(self) -> list[tuple[str, str, int]]:
        return [(code, constraint_label(code), n) for code, n in self.turned_away.items()]

    @property
    def peak_short(self) -> int:
        return max((day.short for day in self.days), default=0)


def hours_text(hours: float | None) -> str:
    """A wait in words: "under an hour", "5 hours", "3 days 2 hours"."""
    if hours is None:
        return "not known"
    whole = int(hours)
    if whole < 1:
        return "under an hour"
    days, rest = divmod(whole, 24)
    parts = []
    if days:
        parts.append(f"{days} day" + ("" if days == 1 else "s"))
    if rest:
        parts.append(f"{rest} hour" + ("" if rest == 1 else "s"))
    return " ".join(parts)


def _waits(people: int, hours: list[float]) -> Waits:
    if not hours:
        return Waits(people, 0, None, None)
    return Waits(people, len(hours), float(median(hours)), max(hours))


def _hours(start: datetime, end: datetime) -> float:
    # Never negative: a place accepted before the person was recorded as taken in (a clock
    # difference, a record typed late) is accommodated at once, not before.
    return max(0.0, (end - start).total_seconds() / 3600)


def _decisions(cases: list[int], kind: DecisionKind, among: set[int] | None = None) -> Decisions:
    latest: dict[int, str] = {}
    for case_id, outcome in (
        Decision.objects.filter(case_id__in=cases, kind=kind, state=DecisionState.IN_EFFECT)
        .order_by("case_id", "decided_at", "id")
        .values_list("case_id", "outcome_kind")
    ):
        latest[case_id] = outcome  # the last in (decided_at, id) order wins
    counted = Counter(latest.values())
    eligible = set(cases) if among is None else among
    return Decisions(
        positive=counted[OutcomeKind.POSITIVE],
        negative=counted[OutcomeKind.NEGATIVE],
        not_decided=counted[OutcomeKind.NOT_DECIDED],
        awaited=len(eligible - set(latest)),
    )


def _positive_rg(cases: list[int]) -> set[int]:
    latest: dict[int, str] = {}
    for case_id, outcome in (
        Decision.objects.filter(
            case_id__in=cases,
            kind=DecisionKind.REASONABLE_GROUNDS,
            state=DecisionState.IN_EFFECT,
        )
        .order_by("case_id", "decided_at", "id")
        .values_list("case_id", "outcome_kind")
    ):
        latest[case_id] = outcome
    return {case_id for case_id, outcome in latest.items() if outcome == OutcomeKind.POSITIVE}


def _turned_away(cases: list[int]) -> dict[str, int]:
    """Each person once, by the reason of their latest request closed unmet: the last reason
    matching found for it, else the coordinator's "closed"."""
    latest_request: dict[int, int] = {}
    for case_id, request_id in (
        PlacementRequest.objects.filter(case_id__in=cases, status=PlacementRequestStatus.UNMET)
        .order_by("case_id", "closed_at", "id")
        .values_list("case_id", "id")
    ):
        latest_request[case_id] = request_id
    reasons: dict[int, str] = {}
    for request_id, constraint in (
        UnmetNeed.objects.filter(request_id__in=latest_request.values())
        .order_by("request_id", "on", "id")
        .values_list("request_id", "constraint")
    ):
        if constraint != CLOSED or request_id not in reasons:
            reasons[request_id] = constraint
    counted = Counter(reasons.get(request_id, CLOSED) for request_id in latest_request.values())
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def report_days(operation: Operation, today: date) -> list[date]:
    """From the first day to the end of the weeks the forecast covers after the last, up to
    today (none before the operation starts)."""
    last = min(today, operation.ends_on + timedelta(weeks=DEFAULT_WEEKS_AFTER))
    return [
        operation.starts_on + timedelta(days=n)
        for n in range((last - operation.starts_on).days + 1)
    ]


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def _waiting_before_a_case(
    record: ReceptionRecord, case: Case | None
) -> tuple[date, date | None] | None:
    """Before a case exists, an adult who needed a bed that night waits from the day they were
    taken in until the referral is submitted (its request takes over from then), or for as
    long as the draft stays a draft. A declined or reported person has no referral: nothing
    says how long they waited, so they are not counted. Nor is an adult who refused support
    (on the draft, or on the case it became): no bed is sought for them (stop 42)."""
    draft = record.draft
    if (
        draft is None
        or record.treated_as_child
        or ImmediateNeed.BED_TONIGHT not in record.urgent_needs
        or draft.status == DraftStatus.REPORTED
        or refuses_support(draft)
        or (case is not None and not case.is_child and case.consent_to_support is False)
    ):
        return None
    if case is not None:
        return timezone.localdate(record.taken_in_at), timezone.localdate(case.submitted_at)
    if draft.status == DraftStatus.DRAFT:
        return timezone.localdate(record.taken_in_at), None
    return None


def _need_per_day(
    records: list[ReceptionRecord], cases: dict[int, Case], days: list[date]
) -> tuple[list[int], list[int], dict[str, list[int]]]:
    """People of the operation in a place, and adults waiting for one, at the end of each day;
    and the two together per the forecast's adult kinds of place (by the sex recorded at
    reception)."""
    in_place = [0] * len(days)
    waiting = [0] * len(days)
    by_kind = {kind: [0] * len(days) for kind in ADULT_KINDS}
    stays: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for case_id, arrived, ended in Placement.objects.filter(
        request__case_id__in=list(cases), arrived_on__isnull=False
    ).values_list("request__case_id", "arrived_on", "ended_on"):
        if arrived is not None:  # always, by the filter: for the type checker
            stays[case_id].append((arrived, ended))
    requests: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for case_id, created, closed in PlacementRequest.objects.filter(
        case_id__in=list(cases)
    ).values_list("case_id", "created_at", "closed_at"):
        requests[case_id].append((timezone.localdate(created), _local_day(closed)))
    for record in records:
        draft = record.draft
        case = cases.get(draft.case_id) if draft is not None and draft.case_id else None
        pending = _waiting_before_a_case(record, case)
        for n, day in enumerate(days):
            placed = case is not None and any(
                arrived <= day and (ended is None or ended > day)
                for arrived, ended in stays[case.pk]
            )
            kind = model.Group(record.sex, model.ADULT).kind
            if placed:
                in_place[n] += 1
                if not record.treated_as_child:
                    by_kind[kind][n] += 1
                continue
            open_request = case is not None and any(
                created <= day and (closed is None or closed > day)
                for created, closed in requests[case.pk]
            )
            before_case = (
                pending is not None
                and pending[0] <= day
                and (pending[1] is None or pending[1] > day)
            )
            if open_request or before_case:
                waiting[n] += 1
                if not record.treated_as_child:
                    by_kind[kind][n] += 1
    return in_place, waiting, by_kind


def _free_per_day(operation: Operation, days: list[date]) -> tuple[list[int], list[int]]:
    """Free beds at the end of each day: those kept for the operation (a surge place within its
    dates, a bed held for it then), and the others at adults' sites in its region kept for no
    operation. A bed's state is its last `BedEvent` of the day, as the capacity figures read it."""
    if not days:
        return [], []
    holds: list[Hold] = list(
        # Only the holds that may have counted at the end of one of the days.
        BedHold.objects.filter(
            held_at__lt=_start_of(days[-1] + timedelta(days=1)),
            expires_at__gt=_start_of(days[0] + timedelta(days=1)),
        ).values_list("bed_id", "operation_id", "held_at", "expires_at", "released_at")
    )
    held_beds = {bed_id for bed_id, *_ in holds}
    # Kept for the operation or not, a bed counts only at an active adults' site with beds, as
    # the capacity figures and the forecast count it: a surge place or held bed at a closed or
    # children's site was room nobody of the operation could have (found in review).
    usable = Q(room__site__ages=SiteAges.ADULTS, room__site__is_active=True) & ~Q(
        room__site__kind=SiteKind.OUTREACH
    )
    beds = {
        bed_id: (operation_id, surge_from, surge_until)
        for bed_id, operation_id, surge_from, surge_until in Bed.objects.filter(usable)
        .filter(
            Q(room__site__region=operation.region, operation_id=None)
            | Q(operation_id=operation.pk)
            | Q(pk__in=[b for b, o, *_ in holds if o == operation.pk])
        )
        .values_list("pk", "operation_id", "surge_from", "surge_until")
    }
    ends = [_start_of(day + timedelta(days=1)) for day in days]
    start = _start_of(days[0])
    # Each bed's state when the first day began, then its changes over the days.
    before = (
        BedEvent.objects.filter(bed=OuterRef("pk"), at__lt=start)
        .order_by("-at", "-pk")
        .values("state")[:1]
    )
    initial = dict(
        Bed.objects.filter(pk__in=list(beds))
        .annotate(was=Subquery(before))
        .values_list("pk", "was")
    )
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for bed_id, at, state in (
        BedEvent.objects.filter(bed_id__in=list(beds), at__gte=start, at__lt=ends[-1])
        .order_by("bed_id", "at", "id")
        .values_list("bed_id", "at", "state")
    ):
        events[bed_id].append((at, state))
    kept_free = [0] * len(days)
    other_free = [0] * len(days)
    for bed_id, (bed_operation, surge_from, surge_until) in beds.items():
        history = events.get(bed_id, [])
        bed_holds = [h for h in holds if h[0] == bed_id] if bed_id in held_beds else []
        i, state = 0, initial.get(bed_id) or ""
        for n, (day, end) in enumerate(zip(days, ends, strict=True)):
            while i < len(history) and history[i][0] < end:
                state = history[i][1]
                i += 1
            if state != BedState.AVAILABLE:
                continue
            kept = _kept_for(
                operation.pk, day, end, bed_operation, surge_from, surge_until, bed_holds
            )
            if kept is True:
                kept_free[n] += 1
            elif kept is None:
                other_free[n] += 1
    return kept_free, other_free


Hold = tuple[int, int, datetime, datetime, datetime | None]


def _kept_for(
    operation_id: int,
    day: date,
    end: datetime,
    bed_operation: int | None,
    surge_from: date | None,
    surge_until: date | None,
    holds: list[Hold],
) -> bool | None:
    """Whether a free bed was, at `end` (the end of `day`), kept for the operation (True),
    kept for another or a surge place outside its dates (False: free for nobody of ours), or
    open to anyone (None)."""
    held_for = {
        hold_operation
        for _, hold_operation, held_at, expires_at, released_at in holds
        if held_at < end and expires_at > end and (released_at is None or released_at > end)
    }
    if bed_operation is not None:
        # A surge place counts within its dates only, and only for its own operation.
        within = surge_from is not None and surge_from <= day <= (surge_until or day)
        return bed_operation == operation_id and within
    if held_for:
        return operation_id in held_for
    return None


def forecast_on_the_eve(operation: Operation) -> model.Forecast | None:
    """The bed forecast as it would have been made the day before the operation began: the
    plan's expected numbers (as they stand) and the history recorded before its first day, so
    that the operation's own people do not teach the forecast of themselves. None when nobody
    is expected; raises `NoStays` when that history has no stay."""
    groups = list(expected_of(operation))
    if not groups:
        return None
    expected = model.expected_by_group(
        (g.sex, CASE_AGE_GROUPS[AgeGroup(g.age_group)], g.number) for g in groups
    )
    return model.forecast(
        expected,
        load_history(region=operation.region, before=operation.starts_on),
        first_day=operation.starts_on,
        operation_days=operation.days,
    )


def _compared(
    made: model.Forecast, days: list[date], needed: dict[str, list[int]]
) -> ForecastCompared:
    rows = []
    for n, day in enumerate(days[: len(made.days)]):
        rows.append(
            ForecastDay(
                day,
                tuple(
                    KindDay(
                        kind,
                        needed[kind][n],
                        made.kinds[kind].median[n],
                        made.kinds[kind].lower[n],
                        made.kinds[kind].upper[n],
                    )
                    for kind in ADULT_KINDS
                ),
            )
        )
    return ForecastCompared(made.level, made.simulations, tuple(rows))


def _forecast_beside(
    operation: Operation, days: list[date], needed: dict[str, list[int]]
) -> tuple[ForecastCompared | None, str]:
    """The forecast beside the places needed, or why there is none."""
    if not days:
        return None, ""
    try:
        made = forecast_on_the_eve(operation)
    except NoStays as why:
        return None, str(why)
    if made is None:
        return None, "Nobody was expected"
    return _compared(made, days, needed), ""


def operation_report(operation: Operation, today: date | None = None) -> OperationReport:
    """The report of `operation` as the records stand on `today` (for its days up to then)."""
    today = today or timezone.localdate()
    records = list(reception_of(operation))
    cases: dict[int, Case] = {
        r.draft.case.pk: r.draft.case
        for r in records
        if r.draft is not None and r.draft.case is not None
    }
    case_ids = list(cases)

    by_sex_and_age = {(sex, age): 0 for sex in Sex.values for age in AgeGroup.values}
    for record in records:
        # Found to be a child since the night: counted as one, never as the adult they looked.
        by_sex_and_age[(record.sex, age_group_now(record))] += 1
    standings = Counter(standing_of(record) for record in records)

    # When each case's person was taken in, to time their accommodation from then.
    taken_in_at = {
        r.draft.case_id: r.taken_in_at
        for r in records
        if r.draft is not None and r.draft.case_id is not None
    }
    taken = Placement.objects.filter(request__case_id__in=case_ids, status__in=TAKEN)
    first_accepted: dict[int, datetime] = {}
    for case_id, responded_at in (
        taken.filter(responded_at__isnull=False)
        .order_by("request__case_id", "responded_at", "id")
        .values_list("request__case_id", "responded_at")
    ):
        if responded_at is not None:  # by the filter: for the type checker
            first_accepted.setdefault(case_id, responded_at)
    # A request met with no placement row left to time it (placed elsewhere, then tidied): the
    # person was accommodated at some point, so counted as placed here (ever placed), though the
    # board, which says where each stands now, may show them otherwise; their wait is not known.
    met = set(
        PlacementRequest.objects.filter(
            case_id__in=case_ids, status=PlacementRequestStatus.PLACED
        ).values_list("case_id", flat=True)
    )
    placed_hours = [
        _hours(taken_in_at[case_id], accepted) for case_id, accepted in first_accepted.items()
    ]
    placed_people = set(taken.values_list("request__case_id", flat=True)) | met
    placed = _waits(len(placed_people), placed_hours)

    children_done: dict[int, datetime] = {}
    for case_id, done_at in (
        ChildrenServicesTask.objects.filter(
            case_id__in=case_ids, kind=TaskKind.ACCOMMODATION, status=TaskStatus.DONE
        )
        .order_by("case_id", "done_at")
        .values_list("case_id", "done_at")
    ):
        if done_at is not None:  # always, for a task done (a database constraint)
            children_done.setdefault(case_id, done_at)
    children = _waits(
        len(children_done),
        [_hours(taken_in_at[case_id], done_at) for case_id, done_at in children_done.items()],
    )

    left = (
        Placement.objects.filter(
            request__case_id__in=case_ids,
            status=PlacementStatus.ENDED,
            exit_reason=ExitReason.LEFT,
        )
        .values("request__case_id")
        .distinct()
        .count()
    )

    # Every reference a person of the operation is known by: their reception record's, and
    # their case's once the draft became one.
    person_of: dict[str, int] = {record.reference: record.pk for record in records}
    for record in records:
        if record.draft is not None and record.draft.case is not None:
            person_of[record.draft.case.reference] = record.pk
    removals = list(
        PlannedRemoval.objects.filter(reference__in=list(person_of), protected=True).values_list(
            "reference", flat=True
        )
    )

    days = report_days(operation, today)
    in_place, waiting, by_kind = _need_per_day(records, cases, days)
    kept_free, other_free = _free_per_day(operation, days)
    compared, no_forecast = _forecast_beside(operation, days, by_kind)

    return OperationReport(
        as_of=today,
        taken_in=len(records),
        by_sex_and_age=by_sex_and_age,
        standings={standing: standings[standing] for standing in Standing},
        cases=len(case_ids),
        reasonable_grounds=_decisions(case_ids, DecisionKind.REASONABLE_GROUNDS),
        conclusive_grounds=_decisions(
            case_ids, DecisionKind.CONCLUSIVE_GROUNDS, among=_positive_rg(case_ids)
        ),
        placed=placed,
        children_accommodated=children,
        turned_away=_turned_away(case_ids),
        missing_now=standings[Standing.MISSING],
        left_without_notice=left,
        planned_removals_while_protected=len(removals),
        people_with_planned_removal_while_protected=len({person_of[r] for r in removals}),
        days=tuple(
            BedDay(
                day,
                in_place[n],
                waiting[n],
                kept_free[n],
                other_free[n],
                {kind: by_kind[kind][n] for kind in ADULT_KINDS},
            )
            for n, day in enumerate(days)
        ),
        forecast=compared,
        no_forecast=no_forecast,
    )
