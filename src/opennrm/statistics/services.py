"""Writes of the statistics app: a differentially private question answered and charged to the
analyst's privacy budget (ADR 0035), and the audit event of each extract downloaded (ADR 0034)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.audit.services import audit_record

from . import dp, selectors
from .models import PrivacyLedgerEntry


class BudgetSpent(ValidationError):
    """The question would spend more than is left of the analyst's budget: nothing is charged."""


@dataclass(frozen=True)
class DpAnswer:
    answer: dp.Answer
    entry: PrivacyLedgerEntry
    budget: selectors.Budget  # after this question's charge


@transaction.atomic
def dp_query_answer(*, by: Actor, query: dp.Query) -> DpAnswer:
    """Answer an analyst's question with noise and charge its epsilon to their budget for the
    month, both or neither. The analyst's user row is locked first, so two questions asked at
    once are charged one after the other and can never together spend more than the budget.
    Raises Http404 for anyone who is not an analyst, ValidationError for a bad question and
    BudgetSpent when the budget left is less than the question's epsilon."""
    organisation = selectors.analyst_organisation(by)
    problems = query.problems()
    if problems:
        raise ValidationError(problems)
    User.objects.select_for_update().filter(pk=by.user.pk).first()
    today = timezone.localdate()
    budget = selectors.budget_of(by.user, today)
    if query.epsilon > budget.left:
        raise BudgetSpent(
            {
                "epsilon": f"Your privacy budget for {budget.label} is spent: "
                f"{selectors.epsilon_text(budget.left)} of {selectors.epsilon_text(budget.total)} left; "
                f"this question needs {selectors.epsilon_text(query.epsilon)}"
            }
        )
    answer = dp.answer(query)
    entry = PrivacyLedgerEntry.objects.create(
        analyst=by.user,
        organisation=organisation,
        period=budget.period,
        epsilon=query.epsilon,
        dimensions=list(query.dimensions),
        description=query.describe(),
    )
    audit_record(
        by=by.user,
        action="statistics.dp_query",
        obj=entry,
        organisation=organisation,
        detail={
            "epsilon": str(query.epsilon),
            "dimensions": list(query.dimensions),
            "start": query.start.isoformat(),
            "end": query.end.isoformat(),
            "period": budget.period,
        },
    )
    return DpAnswer(
        answer=answer,
        entry=entry,
        budget=selectors.Budget(
            period=budget.period,
            label=budget.label,
            total=budget.total,
            spent=budget.spent + query.epsilon,
        ),
    )


@transaction.atomic
def extract_download_record(
    *, by: User, kind: str, period: str, rows: int, k: int, suppressed: int, total: int
) -> None:
    """One download of the de-identified extract (`kind` "extract" or "ctdc"): its period, its
    row count, k, and how many referrals were suppressed. It names no person: there is none in
    the file."""
    audit_record(
        by=by,
        action="statistics.extract_downloaded",
        detail={
            "kind": kind,
            "period": period,
            "rows": rows,
            "k": k,
            "suppressed": suppressed,
            "referrals": total,
        },
    )
