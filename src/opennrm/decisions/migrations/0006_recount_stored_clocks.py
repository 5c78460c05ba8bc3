"""Bring the clock dates stored on existing cases in line with issue 10 (items 12 to 14).

- Recovery periods under the Nationality and Borders Act profiles (`*-2023-01-30`) are counted
  "beginning with the day" of the positive decision: the period ends a day earlier than was
  stored. The earliest conclusive date does not change (it is the day after the new end).
- Scottish adults with a positive reasonable grounds decision from 1 Apr 2018 get the end of
  their 90 days of support under the 2015 Act s.9 (cut short by a conclusive decision).
- A negative decision's windows run from the day it took effect (its approval), not the day it
  was drafted: reconsideration windows and negative move-on periods are moved accordingly.
- A decision whose reconsideration was accepted is marked superseded.
- A case waiting for a reconsideration decision gets the day it should be decided by.

Decisions made under the 45-day rules between 13 Dec 2022 and 29 Jan 2023 are left as they are:
each records the profile it applied, and their dates have long passed.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from django.db import migrations
from django.utils import timezone

NABA_VERSIONS = ("ew-2023-01-30", "sct-2023-01-30", "ni-2023-01-30")
CHILDREN = ("child", "presumed_child")


def _day(moment: Any) -> date:
    return timezone.localdate(moment)


def _naba_counting(Case: Any, positives: Any) -> None:
    for decision in positives.filter(policy_profile_version__in=NABA_VERSIONS):
        case = decision.case
        if (
            case.recovery_period_ends
            and case.conclusive_grounds_from
            and case.recovery_period_ends == case.conclusive_grounds_from
        ):
            Case.objects.filter(pk=case.pk).update(
                recovery_period_ends=case.conclusive_grounds_from - timedelta(days=1)
            )


def _scottish_support(Case: Any, Decision: Any, positives: Any) -> None:
    for decision in positives.filter(case__jurisdiction="scotland").exclude(
        case__age_group__in=CHILDREN
    ):
        started = _day(decision.decided_at)
        if started < date(2018, 4, 1):
            continue
        ends = started + timedelta(days=89)
        conclusive = (
            Decision.objects.filter(case_id=decision.case_id, kind="conclusive_grounds")
            .exclude(state__in=["awaiting_approval", "approval_refused"])
            .order_by("decided_at")
            .first()
        )
        if conclusive is not None:
            ends = min(ends, _day(conclusive.approved_at or conclusive.decided_at))
        Case.objects.filter(pk=decision.case_id).update(support_ends=ends)


def _from_approval(Case: Any, Decision: Any) -> None:
    from opennrm.policy import clock
    from opennrm.policy.profiles import NoProfileError, active_profiles

    for decision in Decision.objects.filter(state="in_effect", approved_at__isnull=False):
        drafted, took_effect = _day(decision.decided_at), _day(decision.approved_at)
        case = decision.case
        latest = (
            Decision.objects.filter(case_id=case.pk)
            .exclude(state__in=["awaiting_approval", "approval_refused"])
            .order_by("-decided_at", "-id")
            .first()
        )
        if took_effect <= drafted or latest is None or latest.pk != decision.pk:
            continue  # nothing to move, or a later decision set the case's clocks
        try:
            profile = active_profiles().get(decision.policy_profile_version)
        except NoProfileError:
            continue
        changes: dict[str, Any] = {}
        if case.reconsideration_until:
            changes["reconsideration_until"] = case.reconsideration_until + (took_effect - drafted)
        if decision.kind == "conclusive_grounds" and case.move_on_ends:
            with contextlib.suppress(clock.NotInProfile):
                changes["move_on_ends"] = clock.move_on_end(took_effect, profile, positive=False)
        if changes:
            Case.objects.filter(pk=case.pk).update(**changes)


def _reconsiderations(Case: Any, Decision: Any, Request: Any) -> None:
    from opennrm.policy import clock
    from opennrm.policy.profiles import NoProfileError, profile_for

    for request in Request.objects.filter(state="accepted").select_related("decision"):
        if request.decision.state == "in_effect":
            Decision.objects.filter(pk=request.decision_id).update(state="superseded")
    for request in Request.objects.filter(state="requested", case__status="reconsideration"):
        requested = _day(request.requested_at)
        try:
            due = clock.reconsideration_decision_due(
                requested, profile_for(request.case.jurisdiction, requested)
            )
        except NoProfileError:
            continue
        Case.objects.filter(pk=request.case_id).update(reconsideration_decide_by=due)


def recount(apps: Any, schema_editor: Any) -> None:
    Case = apps.get_model("cases", "Case")
    Decision = apps.get_model("decisions", "Decision")
    Request = apps.get_model("decisions", "ReconsiderationRequest")
    positives = Decision.objects.filter(
        kind="reasonable_grounds", outcome_kind="positive", state="in_effect"
    )
    _naba_counting(Case, positives)
    _scottish_support(Case, Decision, positives)
    _from_approval(Case, Decision)
    _reconsiderations(Case, Decision, Request)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_case_support_ends_and_reconsideration_decide_by"),
        ("decisions", "0005_decision_state_superseded"),
    ]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
