"""The steps the decision tests take over and over: a case read afresh, and a positive
reasonable grounds decision made through the real service."""

from __future__ import annotations

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.decisions import services


def fresh(case: Case) -> Case:
    """The case as stored now (its version and dates moved on by the services)."""
    return Case.objects.get(pk=case.pk)


def positive_rg(case: Case, by: User) -> Case:
    services.decision_record_reasonable_grounds(
        by=by,
        case=case,
        outcome="positive",
        reasons="Credible account and indicators.",
        expected_version=case.version,
    )
    return fresh(case)
