"""The rows of an operation's public account (issue 14, item 6; ADR 0046), handed to the
statistics app, which makes, protects and publishes the tables (`statistics.operation_account`).

Registered from `OperationsConfig.ready()`: statistics may not import this app (operations
already imports `statistics.capacity`, ADR 0020). Only an operation that took place and has
ended, and was not cancelled, is ever read here; for any other the answer is the same refusal,
so that an analyst (who has no need to know of a planned operation) learns nothing from asking.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from opennrm.accommodation.models import (
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    Region,
)
from opennrm.care.models import MissingEpisode
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from opennrm.policy.profiles import OutcomeKind
from opennrm.protection.models import PlannedRemoval
from opennrm.referrals.models import DraftStatus
from opennrm.statistics import operation_account as account
from opennrm.statistics.tables import NOT_KNOWN

from .models import Operation, ReceptionRecord
from .selectors import Standing, age_group_now, operation_is_secret, reception_of, standing_of

NOT_RELEASABLE = (
    "Only an operation that took place and has ended can have its account published: choose "
    "one of the operations listed."
)


def _published(standing: Standing) -> str:
    """A standing as the public account names it: an adult who refused support on a draft
    is a referral not yet submitted ("draft"), the standing the account has for them."""
    return Standing.DRAFT.value if standing == Standing.SUPPORT_REFUSED else standing.value


def _releasable(today: date) -> QuerySet[Operation]:
    # Ended (the day after its last day) and not cancelled: it took place, so a confidential
    # one has started and may be counted (`operation_is_secret` is checked again below).
    return Operation.objects.filter(cancelled_at__isnull=True, ends_on__lt=today)


def _summary(operation: Operation) -> account.Summary:
    return account.Summary(
        id=operation.pk,
        name=operation.name,
        starts_on=operation.starts_on,
        ends_on=operation.ends_on,
        region_label=Region(operation.region).label,
    )


def _outcome(record: ReceptionRecord) -> str:
    draft = record.draft
    if draft is None:
        # The draft was deleted: no referral and no report. An adult declined; a child or
        # age-disputed person cannot decline (they are referred without consent), so their draft
        # went only by retention: not referred, never "declined" (ADR 0043, 0046).
        return account.CHILD_NOT_REFERRED if record.treated_as_child else "declined"
    if draft.status == DraftStatus.REPORTED:
        return "duty_to_notify"
    if draft.case_id is not None:
        return "referred"
    return "not_yet_submitted"


def _in_effect(decisions: list[Decision], kind: str) -> str | None:
    """The outcome kind ("positive", "negative") of the latest decision of `kind` in effect;
    None when there is none, or when the latest decided nothing (outcome kind `not_decided`:
    suspended because the person went missing, withdrawn because they left the country). Such
    a decision is never published as a negative one: the person counts as awaiting the decision,
    as the operations report counts them as not decided (ADR 0046, stop 40)."""
    found = [d for d in decisions if d.kind == kind]
    if not found:
        return None
    latest = max(found, key=lambda d: (d.decided_at, d.pk))
    if latest.outcome_kind == OutcomeKind.POSITIVE:
        return "positive"
    if latest.outcome_kind == OutcomeKind.NEGATIVE:
        return "negative"
    return None


class OperationsSource:
    """The operations app's answer to `statistics.operation_account.Source`."""

    def releasable(self, today: date) -> list[account.Summary]:
        return [
            _summary(operation)
            for operation in _releasable(today).order_by("-ends_on", "name", "pk")
            if not operation_is_secret(operation, today)
        ]

    def account(self, operation_id: int, today: date) -> account.Account:
        operation = _releasable(today).filter(pk=operation_id).first()
        if operation is None or operation_is_secret(operation, today):
            raise account.NotReleasable(NOT_RELEASABLE)
        records = list(reception_of(operation))
        cases = {r.draft.case_id: r for r in records if r.draft and r.draft.case_id is not None}
        decisions: dict[int, list[Decision]] = {}
        for decision in Decision.objects.filter(
            case_id__in=cases,
            state=DecisionState.IN_EFFECT,
            kind__in=(DecisionKind.REASONABLE_GROUNDS, DecisionKind.CONCLUSIVE_GROUNDS),
        ):
            decisions.setdefault(decision.case_id, []).append(decision)
        missing = set(
            MissingEpisode.objects.filter(case_id__in=cases).values_list("case_id", flat=True)
        )
        requests = list(
            PlacementRequest.objects.filter(case_id__in=cases).prefetch_related(
                "placements", "unmet_needs"
            )
        )
        arrived: dict[int, date] = {}
        for request in requests:
            for placement in request.placements.all():
                if placement.arrived_on is None or placement.status in (
                    PlacementStatus.DECLINED,
                    PlacementStatus.CANCELLED,
                ):
                    continue
                first = arrived.get(request.case_id)
                arrived[request.case_id] = (
                    min(first, placement.arrived_on) if first else (placement.arrived_on)
                )
        people = []
        for record in records:
            case_id = record.draft.case_id if record.draft else None
            outcome = _outcome(record)
            if outcome == "referred" and case_id is not None:
                on_case = decisions.get(case_id, [])
                rg = _in_effect(on_case, DecisionKind.REASONABLE_GROUNDS) or "awaiting"
                cg = _in_effect(on_case, DecisionKind.CONCLUSIVE_GROUNDS) or (
                    "awaiting" if rg == "positive" else account.NO_CG_DUE
                )
            else:
                rg, cg = account.NOT_REFERRED, account.NO_CG_DUE
            found_on = timezone.localdate(record.taken_in_at)
            placed_on = arrived.get(case_id) if case_id is not None else None
            people.append(
                account.Person(
                    sex=record.sex,
                    # Found to be a child since the night: never published as an adult.
                    age_group=age_group_now(record).value,
                    outcome=outcome,
                    # The account's standings predate "support refused" (stop 42): such a
                    # person's referral is not yet submitted, as its "draft" row says.
                    standing=_published(standing_of(record)),
                    rg=rg,
                    cg=cg,
                    days_to_place=None
                    if placed_on is None
                    else max(0, (placed_on - found_on).days),
                    # A missing episode of their case, or recorded missing on the reception
                    # record before a case existed (ADR 0043), as the board and report count.
                    went_missing=case_id in missing or record.missing_since is not None,
                )
            )
        # A removal is planned by the reference the enforcement organisation holds: the
        # reception record's, or the case's once there is one (ADR 0040, 0043).
        references = [r.reference for r in records] + [
            r.draft.case.reference for r in records if r.draft and r.draft.case is not None
        ]
        return account.Account(
            operation=_summary(operation),
            as_of=today,
            people=tuple(people),
            turned_away=tuple(reason for request in requests if (reason := _unmet(request))),
            planned_removals=tuple(
                PlannedRemoval.objects.filter(reference__in=references)
                .order_by("pk")
                .values_list("protected", flat=True)
            ),
        )


def _unmet(request: PlacementRequest) -> str | None:
    """Why the request was turned away for lack of a suitable bed, once: the reason of the first
    day it was found unmet; "not known" if it was closed as unmet with none recorded."""
    unmet = sorted(request.unmet_needs.all(), key=lambda u: (u.on, u.pk))
    if unmet:
        return unmet[0].constraint or NOT_KNOWN
    if request.status == PlacementRequestStatus.UNMET:
        return NOT_KNOWN
    return None


SOURCE = OperationsSource()
