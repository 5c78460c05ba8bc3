"""A demo decision: the first demo referral gets a positive reasonable grounds decision, so the
conclusive grounds queue and the case page's clocks have something to show, and then an
extension of its recovery period, so the case has two letters: the first as it was issued,
the second with the new date."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case

from . import services


@transaction.atomic
def seed() -> None:
    decider = User.objects.get(email="decisions@demo.opennrm.test")
    # The first adult the demo responder referred, whatever has happened to it since: on a
    # second run, the next one still awaiting a decision is someone else (the demo operation's
    # people, `pages.demo_operation`), who must keep the story they were given.
    case = (
        Case.objects.filter(
            referred_by__email="responder@demo.opennrm.test", age_group=AgeGroup.ADULT
        )
        .order_by("submitted_at")
        .first()
    )
    if (
        case is None
        or case.status != CaseStatus.AWAITING_REASONABLE_GROUNDS
        or case.decisions.exists()
    ):
        return
    services.decision_record_reasonable_grounds(
        by=decider,
        case=case,
        outcome="positive",
        reasons="A consistent account of deception about work and of control by debt, with the "
        "first responder's observations of restricted movement (fictional demo decision).",
        expected_version=case.version,
    )
    case.refresh_from_db()
    services.recovery_extend(
        by=decider,
        case=case,
        days=14,
        reasons="Hospital treatment booked for the last week of the recovery period "
        "(fictional demo extension).",
        expected_version=case.version,
    )


# Fictional past decisions for the support history's people (written directly, dated in the
# past: the services stamp every change with the present). Demo mode only.
HISTORY_REASONS = "Indicators of deception and control at work, consistent with the account "
HISTORY_REASONS += "given (fictional demo decision)."
HISTORY_NEGATIVE_REASONS = "The account gives no detail of what was done to the person or why, "
HISTORY_NEGATIVE_REASONS += "and nothing else was provided (fictional demo decision)."


def decided_in_the_past(
    case: Case,
    *,
    referred: datetime,
    reasonable_grounds: tuple[str, date] | None,
    conclusive_grounds: tuple[str, date] | None = None,
    negative_reason: str = "insufficient_information",
) -> None:
    """Date the case's referral `referred`, and give it the decisions named, on the days named
    ((outcome code, day)), with the case's clocks as they would have run from those days; a
    negative one with `negative_reason` as its main reason."""
    from opennrm.accounts.actor import DECIDERS, members_with_role
    from opennrm.cases.models import CaseStatusChange
    from opennrm.cases.services import case_event_record, case_events_backdate
    from opennrm.policy import clock
    from opennrm.policy.profiles import profile_for

    from .models import Decision, DecisionKind, DecisionState

    referred_on = timezone.localdate(referred)
    deciders = members_with_role(None, DECIDERS).order_by("pk")
    # A decision maker of the case's authority (an authority without one in the demo, such as
    # the detention unit, borrows the first demo decision maker's name).
    decider = (
        deciders.filter(organisation_id=case.competent_authority_id).values_list("user", flat=True)
        or deciders.values_list("user", flat=True)
    ).first()
    changes: dict[str, object] = {
        "submitted_at": referred,
        "reasonable_grounds_due": clock.reasonable_grounds_due(referred_on, case.jurisdiction),
    }
    case_events_backdate(case=case, at=referred)
    status = CaseStatus.AWAITING_REASONABLE_GROUNDS
    steps = [
        (DecisionKind.REASONABLE_GROUNDS, reasonable_grounds),
        (DecisionKind.CONCLUSIVE_GROUNDS, conclusive_grounds),
    ]
    for kind, made in steps:
        if made is None or decider is None:
            continue
        code, on = made
        profile = profile_for(case.jurisdiction, on)
        if kind == DecisionKind.REASONABLE_GROUNDS:
            outcome = profile.reasonable_grounds_outcome(code)
            if outcome.kind == "positive":
                clocks = clock.clocks_after_positive_rg(on, case.jurisdiction)
                to = CaseStatus.RECOVERY_PERIOD
                changes |= {
                    "recovery_period_ends": clocks.recovery_period_ends,
                    "conclusive_grounds_from": clocks.conclusive_grounds_earliest,
                }
            else:
                to = CaseStatus.NEGATIVE_REASONABLE_GROUNDS
                changes["reconsideration_until"] = clock.clocks_after_negative_rg(
                    on, case.jurisdiction
                ).reconsideration_closes
        else:
            outcome = profile.conclusive_grounds_outcome(code)
            clocks = clock.clocks_after_conclusive(
                on, case.jurisdiction, code, adult=not case.is_child
            )
            to = (
                CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
                if outcome.kind == "positive"
                else CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS
            )
            changes |= {
                "move_on_ends": clocks.move_on_ends,
                "reconsideration_until": clocks.reconsideration_closes,
            }
        at = timezone.make_aware(datetime.combine(on, time(11, 0)))
        Decision.objects.create(
            case=case,
            kind=kind,
            outcome=outcome.code,
            outcome_label=outcome.label,
            outcome_kind=outcome.kind,
            negative_reason=negative_reason if outcome.kind == "negative" else "",
            reasons=HISTORY_NEGATIVE_REASONS if outcome.kind == "negative" else HISTORY_REASONS,
            decided_by_id=decider,
            decided_at=at,
            state=DecisionState.IN_EFFECT,
            policy_profile_key=profile.key,
            policy_profile_version=profile.version,
        )
        reason = f"{kind.label}: {outcome.label}"
        CaseStatusChange.objects.create(
            case=case, from_status=status, to_status=to, at=at, by_id=decider, reason=reason
        )
        case_event_record(
            case=case,
            at=at,
            kind="case.status_changed",
            description=reason,
            by=User(pk=decider),
            data={"from": status, "to": to},
        )
        status = to
    changes["status"] = status
    Case.objects.filter(pk=case.pk).update(**changes)
