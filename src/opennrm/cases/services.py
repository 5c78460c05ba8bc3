"""Changes to a case. `case_transition` is the only code that changes a case's status."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.notifications.services import deliver

from . import state
from .choices import CaseStatus, CloseReason
from .models import Case, CaseEvent, CaseStatusChange


class CaseChanged(ValidationError):
    """Someone else changed the case since the page was loaded."""

    def __init__(self) -> None:
        super().__init__(
            "This case changed while you were working on it: someone else recorded something "
            "on it. Your answers are still here. Check the case, then submit again."
        )


def case_transition(
    *,
    by: User | None,
    case: Case,
    to: CaseStatus,
    reason: str,
    expected_version: int,
    changes: dict[str, Any] | None = None,
) -> Case:
    """Move `case` to status `to`, with a history row and a timeline entry.

    Called inside the service that decides (which holds the transaction and writes the audit
    event). The UPDATE only succeeds if the case is still at `expected_version` and in the
    status it was read in, so of two people acting at once exactly one succeeds; the other
    gets `CaseChanged`. `changes` sets other fields (stored clock dates) in the same UPDATE.
    """
    problem = state.refusal(case.status, to)
    if problem:
        raise ValidationError(problem)
    now = timezone.now()
    changes = dict(changes or {})
    if to == CaseStatus.CLOSED:
        changes["closed_at"] = now
    updated = Case.objects.filter(pk=case.pk, version=expected_version, status=case.status).update(
        status=to, version=F("version") + 1, **changes
    )
    if updated != 1:
        raise CaseChanged
    CaseStatusChange.objects.create(
        case=case, from_status=case.status, to_status=to, at=now, by=by, reason=reason
    )
    CaseEvent.objects.create(
        case=case,
        at=now,
        kind="case.status_changed",
        actor=by,
        description=reason,
        data={"from": case.status, "to": to},
    )
    case.refresh_from_db()
    # The referrer hears of every change of status (never with the person's details).
    deliver(
        recipients=[case.referred_by],
        kind="case.status_changed",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=f"Case {case.reference}: {CaseStatus(to).label.lower()}",
        body=f"The case you referred is now: {CaseStatus(to).label.lower()}. {reason}",
    )
    return case


def close_refusal(case: Case, reason: CloseReason | None = None) -> str | None:
    """Why the case cannot be closed today (for `reason`, if given), or None if it can. The
    close page asks this before offering the action or a reason; `case_close` refuses the same."""
    problem = state.refusal(case.status, CaseStatus.CLOSED)
    if problem:
        return problem
    today = timezone.localdate()
    negative = (
        CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
        CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
        CaseStatus.DISQUALIFIED,
    )
    if (
        case.status in negative
        and case.reconsideration_until
        and today <= case.reconsideration_until
    ):
        return (
            "Reconsideration can still be asked for, until "
            f"{case.reconsideration_until:%-d %B %Y}: close the case after that date"
        )
    if reason == CloseReason.SUPPORT_ENDED and support_running(case, today):
        return (
            f"Move-on support runs until {case.move_on_ends:%-d %B %Y}: support has not ended, "
            "so the case cannot be closed for that reason before then"
        )
    return None


def support_running(case: Case, today: date) -> bool:
    """Whether the move-on support a conclusive decision started is still running."""
    return case.move_on_ends is not None and today <= case.move_on_ends


@transaction.atomic
def case_close(*, by: User, case: Case, reason: CloseReason, expected_version: int) -> Case:
    """The competent authority closes a case whose process has ended. Closing starts the
    retention period of the person's identifying details (privacy.retention)."""
    from .selectors import may_decide

    if not may_decide(Actor.of_session(by), case):
        raise ValidationError(
            "Only a decision maker of the case's competent authority can close it"
        )
    problem = close_refusal(case, reason)
    if problem:
        raise ValidationError(problem)
    closed = case_transition(
        by=by,
        case=case,
        to=CaseStatus.CLOSED,
        reason=f"Case closed: {CloseReason(reason).label.lower()}",
        expected_version=expected_version,
    )
    audit_record(
        by=by,
        action="case.closed",
        obj=closed,
        organisation=closed.competent_authority,
        detail={"reason": str(reason)},
    )
    return closed
