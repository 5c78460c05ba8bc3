"""The steps the decision tests take over and over: a case read afresh, and a positive
reasonable grounds decision made through the real service."""

from __future__ import annotations

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.decisions import services


def fresh(case: Case) -> Case:
    """The case as stored now (its version and dates moved on by the services)."""
    return Case.objects.get(pk=case.pk)


def rg(case: Case, by: User, outcome: str, reasons: str = "Reasons given.") -> Case:
    """A reasonable grounds decision on the case as stored now; the case after it."""
    case = fresh(case)
    services.decision_record_reasonable_grounds(
        by=by, case=case, outcome=outcome, reasons=reasons, expected_version=case.version
    )
    return fresh(case)


def positive_rg(case: Case, by: User) -> Case:
    return rg(case, by, "positive", "Credible account and indicators.")
