"""Every decision on a case. Each service checks the rules of the policy profile in force,
records the decision with that profile's key and version, moves the case through
`cases.services.case_transition` (which refuses illegal moves and simultaneous changes), and
writes one audit event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.services import audit_record
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.selectors import came_of_age_on, referrers_to_tell
from opennrm.cases.services import case_event_record, case_transition, case_version_claim
from opennrm.lib.files import EXTENSIONS, UploadRefused, stored_files_delete, upload_checked
from opennrm.lib.references import new_reference
from opennrm.notifications.services import deliver
from opennrm.policy import clock
from opennrm.policy.negative_reasons import ONLY_FOR_NEGATIVE, catalogue
from opennrm.policy.profiles import (
    NoProfileError,
    OutcomeKind,
    PolicyProfile,
    Reconsiderable,
    Requester,
    active_profiles,
    profile_for,
)

from . import letters
from .models import (
    Decision,
    DecisionKind,
    DecisionState,
    LateRequester,
    Letter,
    LetterOccasion,
    ReconsiderationEvidence,
    ReconsiderationRequest,
    ReconsiderationState,
)
from .selectors import reconsideration_late_refusal

logger = logging.getLogger(__name__)


def _today() -> date:
    return timezone.localdate()


def _profile(case: Case, on: date) -> PolicyProfile:
    try:
        return profile_for(case.jurisdiction, on)
    except NoProfileError as missing:
        raise ValidationError(str(missing)) from None


def _check_decider(user: User, case: Case) -> None:
    if not members_with_role(case.competent_authority_id, DECIDERS).filter(user=user).exists():
        raise ValidationError(
            f"Only decision makers of {case.competent_authority.name} can decide this case"
        )


# A reasonable grounds decision is still to be made: awaited, or suspended while the person
# was missing (found again, they are decided on; known to have left, the case is withdrawn).
REASONABLE_GROUNDS_OPEN = (CaseStatus.AWAITING_REASONABLE_GROUNDS, CaseStatus.RG_SUSPENDED)

AWAITING_APPROVAL_REFUSAL = (
    "A decision on this case is waiting for a second decision maker's approval. "
    "It must be approved or refused first."
)


def _check_nothing_awaiting_approval(case: Case) -> None:
    if Decision.objects.filter(case=case, state=DecisionState.AWAITING_APPROVAL).exists():
        raise ValidationError(AWAITING_APPROVAL_REFUSAL)


def _conclusive_too_early(case: Case, today: date) -> str | None:
    if case.conclusive_grounds_from and today < case.conclusive_grounds_from:
        ends = f"{case.recovery_period_ends:%-d %B %Y}" if case.recovery_period_ends else "later"
        return (
            "A conclusive grounds decision cannot be made before "
            f"{case.conclusive_grounds_from:%-d %B %Y}: the recovery period ends on {ends}"
        )
    return None


def decision_refusal(*, case: Case, stage: DecisionKind) -> str | None:
    """Why a reasonable or conclusive grounds decision cannot be recorded on `case` today, or
    None if it can. The pages ask this before offering the action; the services refuse the same
    things (and also check who is deciding and that the case has not changed meanwhile)."""
    if stage == DecisionKind.REASONABLE_GROUNDS:
        if case.status not in REASONABLE_GROUNDS_OPEN:
            return (
                "A reasonable grounds decision can only be made while the case is awaiting one; "
                f"it is {case.get_status_display().lower()}"
            )
    else:
        if case.status != CaseStatus.RECOVERY_PERIOD:
            return (
                "A conclusive grounds decision can only be made during the recovery period, after "
                "a positive reasonable grounds decision; the case is "
                f"{case.get_status_display().lower()}"
            )
        too_early = _conclusive_too_early(case, _today())
        if too_early:
            return too_early
    if Decision.objects.filter(case=case, state=DecisionState.AWAITING_APPROVAL).exists():
        return AWAITING_APPROVAL_REFUSAL
    return None


def approval_refusal(*, by: User, decision: Decision) -> str | None:
    """Why `by` cannot approve or refuse `decision`, or None if they can."""
    if decision.state != DecisionState.AWAITING_APPROVAL:
        return "This decision is not waiting for approval any more"
    if decision.decided_by_id == by.pk:
        return "A second decision maker must approve: you made this decision"
    return None


def _extension_basis(case: Case) -> tuple[date, PolicyProfile] | str:
    """The day the recovery period of `case` started and the rules it runs under, or why it
    cannot be extended now, whatever the number of days asked."""
    if case.status != CaseStatus.RECOVERY_PERIOD:
        return "Only a recovery period that is running can be extended"
    # A conclusive decision drafted on the first day it could be made, then approved after the
    # period was extended, would take effect inside the period just extended.
    if Decision.objects.filter(case=case, state=DecisionState.AWAITING_APPROVAL).exists():
        return AWAITING_APPROVAL_REFUSAL
    positive = _positive_rg_in_effect(case)
    if positive is None:
        return "This case has no positive reasonable grounds decision to extend from"
    started = timezone.localdate(positive.decided_at)
    try:
        profile = profile_for(case.jurisdiction, started)
    except NoProfileError as missing:
        return str(missing)
    if not profile.recovery_period_extendable:
        return f"{profile} does not allow the recovery period to be extended"
    return started, profile


def extension_refusal(case: Case) -> str | None:
    """Why the recovery period of `case` cannot be extended now (whatever the days asked), or
    None if it can. The case page asks this before offering the extension and the extension
    page before showing its form; `recovery_extend` refuses the same."""
    basis = _extension_basis(case)
    return basis if isinstance(basis, str) else None


# NABA 2022 s.63: a person may be disqualified as "a threat to public order" or because they
# have "claimed to be a victim ... in bad faith" (FACTS 2.6). The code is the decision's outcome.
DISQUALIFICATION_GROUNDS = {
    "public_order": "Disqualified as a threat to public order",
    "bad_faith": "Disqualified for claiming to be a victim in bad faith",
}


def disqualification_refusal(case: Case) -> str | None:
    """Why the person cannot be disqualified on `case` today, or None if they can. The case page
    asks this before offering it and the disqualification page before showing its form;
    `decision_disqualify` refuses the same. FACTS does not say s.63 excludes children, so a
    child is not refused; their letter is a child's (ADR 0017)."""
    try:
        profile = profile_for(case.jurisdiction, _today())
    except NoProfileError as missing:
        return str(missing)
    if not profile.disqualification_available:
        return f"Disqualification does not exist under {profile}"
    if case.status != CaseStatus.RECOVERY_PERIOD:
        return "A person can only be disqualified during the recovery period"
    if Decision.objects.filter(case=case, state=DecisionState.AWAITING_APPROVAL).exists():
        return AWAITING_APPROVAL_REFUSAL
    return None


def _recorded_profile(decision: Decision, case: Case, on: date) -> PolicyProfile:
    """The profile the decision recorded (its rules apply to it), or, should a deployment no
    longer have that version, the one in force on `on`."""
    try:
        return active_profiles().get(decision.policy_profile_version)
    except NoProfileError:
        return _profile(case, on)


def _positive_rg_in_effect(case: Case) -> Decision | None:
    return case.decisions.filter(
        kind=DecisionKind.REASONABLE_GROUNDS,
        outcome_kind=OutcomeKind.POSITIVE,
        state=DecisionState.IN_EFFECT,
    ).last()


def support_after_reasonable_grounds(case: Case) -> date | None:
    """The end of the support an adult has from the positive reasonable grounds decision in
    effect (Scotland's 90 days, s.9 of the 2015 Act), or None: none in this jurisdiction, none
    for a child (children's services look after them), or no such decision."""
    if case.is_child:
        return None
    return _adult_support_after_reasonable_grounds(case, not_before=came_of_age_on(case))


def _adult_support_after_reasonable_grounds(
    case: Case, *, not_before: date | None = None
) -> date | None:
    """`not_before`: count from that day if the decision's day is earlier (`adult_clocks`)."""
    rg = _positive_rg_in_effect(case)
    if rg is None:
        return None
    on = timezone.localdate(rg.took_effect_at or rg.decided_at)
    # The rules the decision recorded, counted from the later day: the profile's own counting
    # (day 1 the decision's day or the day after) applies to that day as to a decision's.
    return clock.clocks_after_positive_rg(
        max(on, not_before or on),
        case.jurisdiction,
        adult=True,
        profile=_recorded_profile(rg, case, on),
    ).support_ends


def adult_clocks(case: Case, *, came_of_age_on: date | None = None) -> dict[str, date]:
    """The adult-only dates the decisions in effect would give `case`, a child (or age
    disputed) when they were made, now found an adult: the support from the positive
    reasonable grounds decision while the recovery period runs, and the move-on period from the
    conclusive decision. Only dates the case lacks (ADR 25: a date it has is kept); computed
    from each decision's own day, under the rules it recorded.

    A child who came of age (`came_of_age_on`, their 18th birthday, given by
    `safeguarding.coming_of_age`) was a child when the decisions were made, rightly given no
    adult period then: theirs count from the birthday (a decision's day if later). Counted from
    a decision months before, they ended before the person became an adult, so the case could
    be closed as "support ended" on the birthday (found in review, stop 38). An assessment that
    finds a child an adult gives no birthday: the decisions' own days stand (ADR 25).

    Either way a date that would already be over today, the day of the change and the day the
    people acting on the case are told of it, counts from today instead, as a move-on period
    does after a refused reconsideration (`_move_on_after_refusal`): an age assessment weeks
    after a negative conclusive decision gave an adult move-on end already gone, so support
    was recorded as ended before anyone could tell the person it would (ADR 25, stop 39)."""
    today = _today()
    dates: dict[str, date] = {}
    if case.status == CaseStatus.RECOVERY_PERIOD and case.support_ends is None:
        support = _not_over(
            lambda start: _adult_support_after_reasonable_grounds(case, not_before=start),
            came_of_age_on,
            today,
        )
        if support is not None:
            dates["support_ends"] = support
    conclusive = case.decisions.filter(
        kind=DecisionKind.CONCLUSIVE_GROUNDS, state=DecisionState.IN_EFFECT
    ).last()
    if conclusive is not None and case.move_on_ends is None:
        on = timezone.localdate(conclusive.took_effect_at or conclusive.decided_at)
        profile = _recorded_profile(conclusive, case, on)

        def move_on_from(start: date | None) -> date | None:
            return clock.clocks_after_conclusive(
                max(on, start or on),
                case.jurisdiction,
                conclusive.outcome,
                adult=True,
                profile=profile,
            ).move_on_ends

        move_on = _not_over(move_on_from, came_of_age_on, today)
        if move_on is not None:
            dates["move_on_ends"] = move_on
    return dates


def _not_over(
    count: Callable[[date | None], date | None], start: date | None, today: date
) -> date | None:
    """The end `count` gives from `start` (None: the decision's own day), or, if that end is
    already over on `today`, the end it gives from `today`."""
    end = count(start)
    if end is not None and end < today:
        return count(today)
    return end


def _record(
    *,
    by: User,
    case: Case,
    kind: DecisionKind,
    profile: PolicyProfile,
    outcome: str,
    outcome_label: str,
    outcome_kind: str,
    reasons: str,
    negative_reason: str = "",
    indicators: Sequence[str] = (),
    evidence: Sequence[int] = (),
    extension_days: int | None = None,
    replaces: Decision | None = None,
) -> Decision:
    if not reasons.strip():
        raise ValidationError({"reasons": "Enter the reasons for the decision"})
    needs_approval = (
        outcome_kind == OutcomeKind.NEGATIVE and profile.negative_decisions_need_second_approval
    )
    return Decision.objects.create(
        case=case,
        kind=kind,
        outcome=outcome,
        outcome_label=outcome_label,
        outcome_kind=outcome_kind,
        negative_reason=negative_reason,
        reasons=reasons.strip(),
        indicators_relied_on=list(indicators),
        evidence_relied_on=list(evidence),
        extension_days=extension_days,
        decided_by=by,
        decided_at=timezone.now(),
        state=DecisionState.AWAITING_APPROVAL if needs_approval else DecisionState.IN_EFFECT,
        policy_profile_key=profile.key,
        policy_profile_version=profile.version,
        replaces=replaces,
    )


def _apply(decision: Decision, by: User, expected_version: int) -> None:
    """Put a decision in effect: move the case and start the clocks the profile sets, from the
    day it takes effect (for a negative decision, the day the second decision maker approved
    it, not the day the first one drafted it). The move claims the case's version."""
    case = decision.case
    took_effect = decision.took_effect_at or timezone.now()
    effect_on = timezone.localdate(took_effect)
    label = decision.outcome_label
    to, changes = _effect(decision, case, effect_on)
    case_transition(
        by=by,
        case=case,
        to=to,
        reason=f"{decision.get_kind_display()}: {label}",
        expected_version=expected_version,
        changes=changes,
    )


def _effect(decision: Decision, case: Case, decided_on: date) -> tuple[CaseStatus, dict[str, Any]]:
    """The status and the clock dates a decision in effect from `decided_on` gives the case,
    under the rules (profile) the decision recorded."""
    kind, outcome, outcome_kind = decision.kind, decision.outcome, decision.outcome_kind
    profile = _recorded_profile(decision, case, decided_on)
    if kind == DecisionKind.REASONABLE_GROUNDS:
        if outcome_kind == OutcomeKind.POSITIVE:
            clocks = clock.clocks_after_positive_rg(
                decided_on, case.jurisdiction, adult=not case.is_child, profile=profile
            )
            return CaseStatus.RECOVERY_PERIOD, {
                "recovery_period_ends": clocks.recovery_period_ends,
                "conclusive_grounds_from": clocks.conclusive_grounds_earliest,
                "support_ends": clocks.support_ends,
            }
        if outcome_kind == OutcomeKind.NEGATIVE:
            closes = clock.clocks_after_negative_rg(
                decided_on, case.jurisdiction, profile=profile
            ).reconsideration_closes
            return CaseStatus.NEGATIVE_REASONABLE_GROUNDS, {"reconsideration_until": closes}
        return (CaseStatus.RG_SUSPENDED if outcome == "suspended" else CaseStatus.RG_WITHDRAWN), {}
    if kind == DecisionKind.CONCLUSIVE_GROUNDS:
        clocks = clock.clocks_after_conclusive(
            decided_on, case.jurisdiction, outcome, adult=not case.is_child, profile=profile
        )
        status = (
            CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
            if outcome_kind == OutcomeKind.POSITIVE
            else CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS
        )
        changes: dict[str, Any] = {
            "move_on_ends": clocks.move_on_ends,
            "reconsideration_until": clocks.reconsideration_closes,
        }
        support = profile.support_after_positive_reasonable_grounds
        if case.support_ends and support and support.ends_at_conclusive_decision:
            # Scotland's s.9 period ends with the conclusive decision if that comes sooner.
            changes["support_ends"] = min(case.support_ends, decided_on)
        elif case.support_ends and support:
            # Northern Ireland's s.18: support runs until the conclusive decision, and to the
            # period's end only after a positive one made within it (`policy.own_support`).
            within = outcome_kind == OutcomeKind.POSITIVE and decided_on <= case.support_ends
            if not within:
                changes["support_ends"] = decided_on
        return status, changes
    if kind == DecisionKind.DISQUALIFICATION:
        closes = (
            clock.reconsideration_window_end(decided_on, profile)
            if profile.allows_reconsideration_of(Reconsiderable.DISQUALIFICATION)
            else None
        )
        return CaseStatus.DISQUALIFIED, {"reconsideration_until": closes}
    raise ValueError(f"{kind} does not move a case")


@transaction.atomic
def decision_record_reasonable_grounds(
    *,
    by: User,
    case: Case,
    outcome: str,
    reasons: str,
    expected_version: int,
    negative_reason: str = "",
    indicators: Sequence[str] = (),
    evidence: Sequence[int] = (),
) -> Decision:
    _check_decider(by, case)
    if case.status not in REASONABLE_GROUNDS_OPEN:
        raise ValidationError(
            f"A reasonable grounds decision can only be made while the case is awaiting one; it is "
            f"{case.get_status_display().lower()}"
        )
    if case.status == CaseStatus.RG_SUSPENDED and outcome == "suspended":
        raise ValidationError(
            {"outcome": "The case is already suspended: decide it once the person is found"}
        )
    return _decide(
        by=by,
        case=case,
        kind=DecisionKind.REASONABLE_GROUNDS,
        outcome=outcome,
        reasons=reasons,
        negative_reason=negative_reason,
        expected_version=expected_version,
        indicators=indicators,
        evidence=evidence,
    )


@transaction.atomic
def decision_record_conclusive_grounds(
    *,
    by: User,
    case: Case,
    outcome: str,
    reasons: str,
    expected_version: int,
    negative_reason: str = "",
    indicators: Sequence[str] = (),
    evidence: Sequence[int] = (),
) -> Decision:
    _check_decider(by, case)
    if case.status != CaseStatus.RECOVERY_PERIOD:
        raise ValidationError(
            "A conclusive grounds decision can only be made during the recovery period, after a "
            f"positive reasonable grounds decision; the case is {case.get_status_display().lower()}"
        )
    too_early = _conclusive_too_early(case, _today())
    if too_early:
        raise ValidationError(too_early)
    return _decide(
        by=by,
        case=case,
        kind=DecisionKind.CONCLUSIVE_GROUNDS,
        outcome=outcome,
        reasons=reasons,
        negative_reason=negative_reason,
        expected_version=expected_version,
        indicators=indicators,
        evidence=evidence,
    )


def _decide(
    *,
    by: User,
    case: Case,
    kind: DecisionKind,
    outcome: str,
    reasons: str,
    negative_reason: str,
    expected_version: int,
    indicators: Sequence[str],
    evidence: Sequence[int],
) -> Decision:
    """Record a reasonable or conclusive grounds decision whose stage checks have passed."""
    _check_nothing_awaiting_approval(case)
    today = _today()
    profile = _profile(case, today)
    if kind == DecisionKind.REASONABLE_GROUNDS:
        chosen = _outcome(profile.reasonable_grounds_outcomes, outcome, "reasonable grounds")
    else:
        chosen = _outcome(profile.conclusive_grounds_outcomes, outcome, "conclusive grounds")
    _check_negative_reason(case, today, chosen.kind, negative_reason)
    # After an accepted reconsideration, the new decision names the one it replaces: one no
    # decision replaces yet, but for a redraft whose approval was refused (it took no effect).
    replacing = Decision.objects.filter(replaces=OuterRef("pk")).exclude(
        state=DecisionState.APPROVAL_REFUSED
    )
    superseded = (
        case.decisions.filter(kind=kind, state=DecisionState.SUPERSEDED)
        .exclude(Exists(replacing))
        .last()
    )
    decision = _record(
        by=by,
        case=case,
        kind=kind,
        profile=profile,
        outcome=chosen.code,
        outcome_label=chosen.label,
        outcome_kind=chosen.kind,
        reasons=reasons,
        negative_reason=negative_reason,
        indicators=indicators,
        evidence=evidence,
        replaces=superseded,
    )
    _after_recording(decision, by, expected_version)
    return decision


@transaction.atomic
def decision_disqualify(
    *, by: User, case: Case, reasons: str, expected_version: int, ground: str = ""
) -> Decision:
    """Disqualify the person during the recovery period on a ground of NABA 2022 s.63
    (`DISQUALIFICATION_GROUNDS`), where the rules in force have it. `ground` "" records neither
    ground apart, as every disqualification did before the ground was asked."""
    _check_decider(by, case)
    refused = disqualification_refusal(case)
    if refused:
        raise ValidationError(refused)
    if ground and ground not in DISQUALIFICATION_GROUNDS:
        raise ValidationError({"ground": "Select the ground for disqualification"})
    decision = _record(
        by=by,
        case=case,
        kind=DecisionKind.DISQUALIFICATION,
        profile=_profile(case, _today()),
        outcome=ground or "disqualified",
        outcome_label=DISQUALIFICATION_GROUNDS.get(
            ground, "Disqualified on public order or bad faith grounds"
        ),
        outcome_kind=OutcomeKind.NEGATIVE,
        reasons=reasons,
    )
    _after_recording(decision, by, expected_version)
    return decision


MAX_EXTENSION_DAYS = 365


@transaction.atomic
def recovery_extend(
    *, by: User, case: Case, days: int, reasons: str, expected_version: int
) -> Decision:
    """Extend the recovery period (and so the earliest conclusive date) by `days`, where
    `extension_refusal` allows it."""
    _check_decider(by, case)
    basis = _extension_basis(case)
    if isinstance(basis, str):
        raise ValidationError(basis)
    started, profile = basis
    if days < 1 or days > MAX_EXTENSION_DAYS:
        raise ValidationError(
            {"days": f"Enter an extension between 1 and {MAX_EXTENSION_DAYS} days"}
        )
    earlier = sum(
        d.extension_days or 0 for d in case.decisions.filter(kind=DecisionKind.RECOVERY_EXTENSION)
    )
    total = earlier + days
    clocks = clock.clocks_after_positive_rg(started, case.jurisdiction, extension_days=total)
    today, ends = _today(), clocks.recovery_period_ends
    if ends is not None and ends < today:
        # Counted from the positive decision, an extension of a period already over could end
        # before it is granted: a letter stating an end already past protects nobody. One that
        # ends today is not past: the period runs all of its last day (ADR 0017, stop 41).
        needed = days + (today - ends).days
        if needed > MAX_EXTENSION_DAYS:
            raise ValidationError(
                {
                    "days": f"The recovery period ended on {case.recovery_period_ends:%-d %B %Y}, "
                    f"too long ago to extend: no extension of up to {MAX_EXTENSION_DAYS} days "
                    "would make it run to today. The conclusive grounds decision may be made "
                    "now"
                }
            )
        raise ValidationError(
            {
                "days": f"The recovery period ended on {case.recovery_period_ends:%-d %B %Y}: "
                f"{days} more days would end it on {ends:%-d %B %Y}, "
                f"which has passed. Extend it by at least {needed} days"
            }
        )
    decision = _record(
        by=by,
        case=case,
        kind=DecisionKind.RECOVERY_EXTENSION,
        profile=profile,
        outcome="extended",
        outcome_label=f"Recovery period extended by {days} days",
        outcome_kind=OutcomeKind.POSITIVE,
        reasons=reasons,
        extension_days=days,
    )
    case_version_claim(
        case=case,
        expected_version=expected_version,
        changes={
            "recovery_period_ends": clocks.recovery_period_ends,
            "conclusive_grounds_from": clocks.conclusive_grounds_earliest,
        },
    )
    case_event_record(
        case=case,
        at=decision.decided_at,
        kind="decision.in_effect",
        by=by,
        description=f"Recovery period extended by {days} days, to {clocks.recovery_period_ends:%-d %B %Y}",
    )
    audit_record(
        by=by,
        action="decision.recovery_extended",
        obj=decision,
        organisation=case.competent_authority,
        detail={"days": days, "profile": profile.version},
    )
    # A letter of its own: the letter of the first decision keeps the dates it stated.
    letter_issue(by=by, decision=decision)
    return decision


def _check_negative_reason(case: Case, on: date, outcome_kind: str, code: str) -> None:
    """A negative decision names its main reason, one the catalogue has for this case today
    (never `no_means` for a child, a person whose age is disputed, or a person exploited as a
    child); no other decision does."""
    if outcome_kind != OutcomeKind.NEGATIVE:
        if code:
            raise ValidationError({"negative_reason": ONLY_FOR_NEGATIVE})
        return
    refusal = catalogue().refusal(
        code,
        case.jurisdiction,
        on,
        child=case.is_child,
        exploited_as_child=case.exploited_as_child,
    )
    if refusal:
        raise ValidationError({"negative_reason": refusal})


def _check_reason_still_fits(decision: Decision) -> None:
    """A negative decision's reason is checked again at approval, against the case as it is
    then: a person whose age became disputed while the decision waited is a presumed child, and
    `no_means` is never a reason for them. (A decision drafted with no reason, such as a
    disqualification, has none to check.)"""
    if not decision.negative_reason:
        return
    try:
        _check_negative_reason(
            decision.case, timezone.localdate(), decision.outcome_kind, decision.negative_reason
        )
    except ValidationError as refusal:
        reason = " ".join(refusal.messages)
        raise ValidationError(
            f"This decision cannot take effect as drafted: {reason}. Do not approve it, so that "
            "a new decision can be made"
        ) from refusal


def _outcome(outcomes: Sequence[Any], code: str, stage: str) -> Any:
    for outcome in outcomes:
        if outcome.code == code:
            return outcome
    raise ValidationError({"outcome": f"Select the {stage} decision"})


def _after_recording(decision: Decision, by: User, expected_version: int) -> None:
    """Put the decision just recorded in effect, or ask for its approval; either way the case's
    version is claimed once, so of two decision makers acting at once only one succeeds."""
    case = decision.case
    if decision.state == DecisionState.IN_EFFECT:
        _apply(decision, by, expected_version)
    else:
        case_version_claim(case=case, expected_version=expected_version)
        case_event_record(
            case=case,
            at=decision.decided_at,
            kind="decision.awaiting_approval",
            by=by,
            description=f"{decision.get_kind_display()} ({decision.outcome_label}) waiting for approval",
        )
        approvers = [
            m.user
            for m in members_with_role(case.competent_authority_id, DECIDERS)
            .exclude(user=by)
            .select_related("user")
        ]
        deliver(
            recipients=approvers,
            kind="decision.approval_needed",
            case=case,
            url=reverse("decisions:approval", args=[decision.pk]),
            subject=f"Approval needed: {decision.get_kind_display().lower()} on {case.reference}",
            body="A negative decision needs a second decision maker's approval before it takes effect.",
        )
    audit_record(
        by=by,
        action=f"decision.{decision.kind}",
        obj=decision,
        organisation=case.competent_authority,
        detail={
            "outcome": decision.outcome,
            "state": decision.state,
            "profile": decision.policy_profile_version,
            **({"negative_reason": decision.negative_reason} if decision.negative_reason else {}),
        },
    )
    if decision.state == DecisionState.IN_EFFECT:
        letter_issue(by=by, decision=decision)


@transaction.atomic
def decision_approve(*, by: User, decision: Decision, approve: bool, note: str = "") -> Decision:
    """A second decision maker approves (it takes effect) or refuses (the case stays as it was)."""
    locked = Decision.objects.select_for_update().select_related("case").get(pk=decision.pk)
    refusal = approval_refusal(by=by, decision=locked)
    if refusal:
        raise ValidationError(refusal)
    _check_decider(by, locked.case)
    if not approve and not note.strip():
        raise ValidationError({"note": "Enter why you do not approve the decision"})
    if approve:
        _check_reason_still_fits(locked)
        if locked.kind == DecisionKind.CONCLUSIVE_GROUNDS:
            # It takes effect now, so never inside a recovery period extended since it was made.
            too_early = _conclusive_too_early(locked.case, _today())
            if too_early:
                raise ValidationError(too_early)
    locked.state = DecisionState.IN_EFFECT if approve else DecisionState.APPROVAL_REFUSED
    locked.approved_by = by
    locked.approved_at = timezone.now()
    locked.approval_note = note.strip()
    locked.save(update_fields=["state", "approved_by", "approved_at", "approval_note"])
    if approve:
        _apply(locked, by, locked.case.version)
    else:
        case_event_record(
            case=locked.case,
            at=locked.approved_at,
            kind="decision.not_approved",
            by=by,
            description=f"{locked.get_kind_display()} not approved; a new decision is needed",
        )
    audit_record(
        by=by,
        action="decision.approved" if approve else "decision.not_approved",
        obj=locked,
        organisation=locked.case.competent_authority,
    )
    if approve:
        letter_issue(by=by, decision=locked)
    return locked


@transaction.atomic
def letter_issue(*, by: User, decision: Decision) -> Letter | None:
    """Write the letter of a decision that has just taken effect, once, and keep it as issued:
    dated today, stating the case's dates as they are now, in the person's language. A later
    change is a later decision with its own letter; this one is never rewritten. Without the
    person's identity (erased) there is nobody to address, and no letter."""
    if decision.state != DecisionState.IN_EFFECT:
        raise ValidationError("A letter is issued only for a decision in effect")
    if Letter.objects.filter(
        decision=decision, reconsideration__isnull=True, occasion=LetterOccasion.DECISION
    ).exists():
        raise ValidationError("This decision's letter has already been issued")
    return _letter_store(by=by, decision=decision)


@transaction.atomic
def adult_dates_letter_issue(
    *, by: User | None, case: Case, dates: dict[str, date], cause: str
) -> Letter | None:
    """Write the letter telling a person the adult dates a change of age group has just given
    their case (`dates`, from `adult_clocks`, already recorded on it): found an adult by an age
    assessment (`cause` "age_assessment") or turned 18 ("turned_18"; `by` None, the daily
    task). The letter of the decision that gives them was written to a child and states none
    of them, saying children's services look after them; a later change that moves a date is a
    new letter (ADR 0017, addendum of stop 39), so this one sits beside it, restating the
    decision and stating the dates as the case has them today. None if the change started no
    date, or without the person's identity (erased: nobody to address)."""
    decision = _adult_dates_decision(case, dates)
    if decision is None:
        return None
    return _letter_store(by=by, decision=decision, adult_dates_cause=cause)


def _adult_dates_decision(case: Case, dates: dict[str, date]) -> Decision | None:
    """The decision in effect whose adult dates `dates` are (`adult_clocks`): the conclusive
    decision's move-on end, or the support from the positive reasonable grounds decision."""
    if "move_on_ends" in dates:
        return case.decisions.filter(
            kind=DecisionKind.CONCLUSIVE_GROUNDS, state=DecisionState.IN_EFFECT
        ).last()
    if "support_ends" in dates:
        return _positive_rg_in_effect(case)
    return None


NEGATIVE_STATUS = {
    CaseStatus.NEGATIVE_REASONABLE_GROUNDS: DecisionKind.REASONABLE_GROUNDS,
    CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS: DecisionKind.CONCLUSIVE_GROUNDS,
    CaseStatus.DISQUALIFIED: DecisionKind.DISQUALIFICATION,
}


@transaction.atomic
def reconsideration_request(
    *,
    by: User,
    case: Case,
    grounds: str,
    expected_version: int,
    uploads: Sequence[UploadedFile] = (),
    max_bytes: int = 0,
    support_provider: Organisation | None = None,
) -> ReconsiderationRequest:
    """The referrer, or the `support_provider` supporting the person, asks for a negative
    decision to be looked at again, where the rules in force let them
    (`reconsideration_requesters`), with evidence files if they have them (checked and stored as
    a referral's evidence is; `max_bytes` is the size limit of each). The caller has checked
    that `by` acts for the referrer or for that provider."""
    requester = Requester.SUPPORT_PROVIDER if support_provider else Requester.REFERRER
    if requester not in _profile(case, _today()).reconsideration_requesters:
        raise ValidationError(
            f"Under the rules in force, {'a support provider' if support_provider else 'the referrer'} "
            "cannot ask for a reconsideration"
        )
    _reconsideration_until(case)  # refused if there is no decision to reconsider
    too_late = reconsideration_late_refusal(case)
    if too_late:
        raise ValidationError(too_late)
    return _reconsideration_open(
        by=by,
        case=case,
        grounds=grounds,
        expected_version=expected_version,
        checked=_uploads_checked(uploads, max_bytes),
        support_provider=support_provider,
    )


@transaction.atomic
def reconsideration_take_late(
    *,
    by: User,
    case: Case,
    asked_by: str,
    received_on: date,
    grounds: str,
    circumstances: str,
    expected_version: int,
    uploads: Sequence[UploadedFile] = (),
    max_bytes: int = 0,
) -> ReconsiderationRequest:
    """A decision maker of the competent authority takes in a request for reconsideration that
    reached it by letter or e-mail rather than through OpenNRM, from the person, their legal
    representative, their support provider or the first responder (`LateRequester`), on
    `received_on`. One that reached it by the last day to ask (`reconsideration_until`) is in
    time, whenever it is entered. One that reached it later is taken in only because of the
    exceptional circumstances they record (Modern Slavery Statutory Guidance: a late request is
    considered only in exceptional circumstances), and is marked late. From then it is a
    reconsideration like any other, decided by `reconsideration_decide`."""
    _check_decider(by, case)
    until = _reconsideration_until(case)
    if asked_by not in LateRequester.values:
        raise ValidationError({"asked_by": "Select who asked for the reconsideration"})
    if received_on > _today():
        raise ValidationError(
            {"received_on": "The date the request arrived must be today or earlier"}
        )
    decided = _decision_reconsidered(case)
    took_effect = timezone.localdate(decided.took_effect_at or decided.decided_at)
    if received_on < took_effect:
        raise ValidationError(
            {
                "received_on": "The date the request arrived cannot be before the decision took "
                f"effect ({took_effect:%-d %B %Y})"
            }
        )
    # Judged by the day it reached the authority, not the day it is entered: a request that
    # came in time is not held to the exceptional test because it was typed in later.
    late = received_on > until
    circumstances = circumstances.strip() if late else ""
    if late and not circumstances:
        raise ValidationError(
            {
                "circumstances": "Enter the exceptional circumstances for taking the request "
                f"late: it reached you after {until:%-d %B %Y}, the last day to ask"
            }
        )
    return _reconsideration_open(
        by=by,
        case=case,
        grounds=grounds,
        expected_version=expected_version,
        checked=_uploads_checked(uploads, max_bytes),
        taken_in={
            "late": late,
            "late_asked_by": asked_by,
            "late_received_on": received_on,
            "late_circumstances": circumstances,
        },
    )


def _reconsideration_until(case: Case) -> date:
    """The last day to ask for a reconsideration of the decision in effect; refused if the case
    has no decision that can be reconsidered."""
    if case.status not in NEGATIVE_STATUS:
        raise ValidationError("Only a negative decision or a disqualification can be reconsidered")
    if case.reconsideration_until is None:
        raise ValidationError(
            "The rules this decision was made under allow no reconsideration of it"
        )
    return case.reconsideration_until


def _decision_reconsidered(case: Case) -> Decision:
    decision = case.decisions.filter(
        kind=NEGATIVE_STATUS[CaseStatus(case.status)], state=DecisionState.IN_EFFECT
    ).last()
    if decision is None:
        raise ValidationError("There is no decision in effect to reconsider")
    return decision


def _uploads_checked(
    uploads: Sequence[UploadedFile], max_bytes: int
) -> list[tuple[UploadedFile, str, str, str]]:
    checked = []
    for upload in uploads:
        try:
            checked.append((upload, *upload_checked(upload, max_bytes)))
        except UploadRefused as refused:
            raise ValidationError({"evidence": f"{upload.name or 'A file'}: {refused}"}) from None
    return checked


def _reconsideration_open(
    *,
    by: User,
    case: Case,
    grounds: str,
    expected_version: int,
    checked: list[tuple[UploadedFile, str, str, str]],
    support_provider: Organisation | None = None,
    taken_in: dict[str, Any] | None = None,
) -> ReconsiderationRequest:
    """Record the request and its evidence, move the case to reconsideration with its decision
    due, and tell the competent authority's decision makers. `taken_in`: the fields of a
    request a decision maker took in (`reconsideration_take_late`), late or in time."""
    if not grounds.strip():
        raise ValidationError(
            {"grounds": "Enter the new evidence, or how the decision did not follow the guidance"}
        )
    decision = _decision_reconsidered(case)
    late = bool(taken_in and taken_in["late"])
    if late:
        reason = "Late reconsideration request taken in: exceptional circumstances"
    elif taken_in:
        reason = "Reconsideration request taken in: it reached the competent authority in time"
    else:
        reason = "Reconsideration requested"
    # The target runs from the day the request reached the authority, as its lateness does: one
    # that came by letter and was typed in days later has been waiting since it came.
    arrived = taken_in["late_received_on"] if taken_in else _today()
    # The case's version is claimed before any file is written: a request refused as stale
    # (or any other refusal) leaves nothing on disk that no row points at.
    case_transition(
        by=by,
        case=case,
        to=CaseStatus.RECONSIDERATION,
        reason=reason,
        expected_version=expected_version,
        changes={
            "reconsideration_decide_by": clock.reconsideration_decision_due(
                arrived, _profile(case, arrived)
            )
        },
    )
    request = ReconsiderationRequest.objects.create(
        case=case,
        decision=decision,
        requested_by=by,
        support_provider=support_provider,
        requested_at=timezone.now(),
        grounds=grounds.strip(),
        **(taken_in or {}),
    )
    written: list[ReconsiderationEvidence] = []
    try:
        for upload, content_type, sha256, name in checked:
            evidence = ReconsiderationEvidence(
                request=request,
                uploaded_by=by,
                original_name=name,
                content_type=content_type,
                size=upload.size or 0,
                sha256=sha256,
            )
            # The stored name is random: the original name may identify someone.
            evidence.file.save(
                new_reference("EV", 12) + EXTENSIONS[content_type], upload, save=False
            )
            written.append(evidence)
            evidence.save()
        _reconsideration_announce(by, case, request, support_provider, files=len(checked))
    except BaseException:
        # The transaction rolls back: no row will point at the files written, so they go too.
        stored_files_delete(written)
        raise
    return request


def _reconsideration_announce(
    by: User,
    case: Case,
    request: ReconsiderationRequest,
    support_provider: Organisation | None,
    *,
    files: int,
) -> None:
    """Tell the competent authority's decision makers of a request just made, and audit it."""
    if request.late_asked_by:
        asker = LateRequester(request.late_asked_by).label
        said = (
            f"{asker} asked for a decision on this case to be reconsidered, after the time to ask "
            f"had passed; {by.full_name} took the request in because of exceptional circumstances"
            if request.late
            else f"{asker} asked for a decision on this case to be reconsidered, in time; "
            f"{by.full_name} took the request in"
        )
    elif support_provider:
        said = f"{support_provider.name}, supporting the person, has asked for a decision on this case to be reconsidered"
    else:
        said = "The referrer has asked for a decision on this case to be reconsidered"
    deliver(
        recipients=[
            m.user
            for m in members_with_role(case.competent_authority_id, DECIDERS).select_related("user")
            if m.user_id != by.pk
        ],
        kind="reconsideration.requested",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=f"Reconsideration requested on {case.reference}",
        body=said + (f", with {files} evidence file{'s' if files != 1 else ''}." if files else "."),
    )
    if request.late_asked_by:
        action = "reconsideration.taken_late" if request.late else "reconsideration.taken_in"
    else:
        action = "reconsideration.requested"
    audit_record(
        by=by,
        action=action,
        obj=request,
        organisation=case.competent_authority
        if request.late_asked_by
        else support_provider or case.referring_organisation,
        detail={"evidence_files": files} if files else {},
    )


@transaction.atomic
def reconsideration_decide(
    *, by: User, request: ReconsiderationRequest, accept: bool, reasons: str, expected_version: int
) -> ReconsiderationRequest:
    locked = (
        ReconsiderationRequest.objects.select_for_update()
        .select_related("case", "decision")
        .get(pk=request.pk)
    )
    case = locked.case
    _check_decider(by, case)
    if locked.state != ReconsiderationState.REQUESTED:
        raise ValidationError("This reconsideration has already been decided")
    if not reasons.strip():
        raise ValidationError({"reasons": "Enter the reasons for accepting or refusing"})
    about = locked.decision.kind
    changes: dict[str, Any] = {"reconsideration_decide_by": None}
    if accept:
        # An accepted reconsideration reopens the question: a new decision follows, and the
        # decision reconsidered no longer stands.
        today = _today()
        changes["reconsideration_until"] = None
        if about == DecisionKind.REASONABLE_GROUNDS:
            to = CaseStatus.AWAITING_REASONABLE_GROUNDS
            # A new reasonable grounds decision, due as one would be on a referral made today.
            changes["reasonable_grounds_due"] = clock.clocks_after_referral(
                today, case.jurisdiction, profiles=active_profiles()
            ).reasonable_grounds_due
        else:
            # Back in the recovery period: the move-on support a negative conclusive decision
            # started is not running any more.
            to = CaseStatus.RECOVERY_PERIOD
            changes["move_on_ends"] = None
            # Support that ended with the decision (Scotland's s.9) runs again to its own end:
            # the decision no longer stands.
            changes["support_ends"] = support_after_reasonable_grounds(case)
        locked.decision.state = DecisionState.SUPERSEDED
        locked.decision.save(update_fields=["state"])
        reason = "Reconsideration accepted: a new decision will be made"
    else:
        to = {
            DecisionKind.REASONABLE_GROUNDS: CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
            DecisionKind.CONCLUSIVE_GROUNDS: CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
            DecisionKind.DISQUALIFICATION: CaseStatus.DISQUALIFIED,
        }[DecisionKind(about)]
        reason = "Reconsideration refused: the decision stands"
        if about == DecisionKind.CONCLUSIVE_GROUNDS:
            # Move-on support ran on while the request waited; it must not have ended before
            # the person hears the answer: the negative decision's move-on period counts again
            # from the refusal, unless its first end is later (ADR 0017, stop 35).
            changes |= _move_on_after_refusal(case, locked.decision)
    locked.state = ReconsiderationState.ACCEPTED if accept else ReconsiderationState.REFUSED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_reasons = reasons.strip()
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_reasons"])
    case_transition(
        by=by,
        case=case,
        to=to,
        reason=reason,
        expected_version=expected_version,
        changes=changes,
    )
    if provider_told := _support_provider_to_tell(locked, case):
        # A support provider who asked hears the answer too (the referring side hears of every
        # change of status), on the support plan they asked from.
        deliver(
            recipients=provider_told,
            kind="reconsideration.decided",
            case=case,
            url=reverse("support:plan", args=[case.reference]),
            subject=f"Reconsideration {'accepted' if accept else 'refused'} on {case.reference}",
            body=reason,
            # Told as that provider's staff: e-mailed only while they still work there (ADR 0008).
            organisation=locked.support_provider,
        )
    audit_record(
        by=by,
        action="reconsideration.accepted" if accept else "reconsideration.refused",
        obj=locked,
        organisation=case.competent_authority,
    )
    _reconsideration_letter_issue(by=by, request=locked)
    return locked


def _reconsideration_letter_issue(*, by: User, request: ReconsiderationRequest) -> Letter | None:
    """Write the letter telling the person how their reconsideration was decided, with its
    reasons, once, as `letter_issue` does for a decision: a refusal is what a judicial review
    is brought against, so what it said and when must stay as sent. The decision reconsidered
    keeps its own letter; this one sits beside it. No identity (erased), no letter."""
    return _letter_store(by=by, decision=request.decision, reconsideration=request)


def _letter_store(
    *,
    by: User | None,
    decision: Decision,
    reconsideration: ReconsiderationRequest | None = None,
    adult_dates_cause: str | None = None,
) -> Letter | None:
    """Compose the letter of `decision` (or of its `reconsideration`, or of the adult dates it
    gives since a change of age group, `adult_dates_cause`) dated today, in the person's
    language, and store it as issued, with its audit event; None without the person's identity
    (erased: nobody to address)."""
    case = Case.objects.select_related("person__identity", "competent_authority").get(
        pk=decision.case_id
    )
    if getattr(case.person, "identity", None) is None:
        return None
    now = timezone.now()
    on = timezone.localdate(now)
    if reconsideration is not None:
        composed = letters.compose_reconsideration(reconsideration, case, on)
    elif adult_dates_cause is not None:
        composed = letters.compose_adult_dates(decision, case, on, cause=adult_dates_cause)
    else:
        composed = letters.compose(decision, case, on)
    occasion = LetterOccasion.DECISION if adult_dates_cause is None else LetterOccasion.ADULT_DATES
    letter = Letter.objects.create(
        decision=decision,
        reconsideration=reconsideration,
        occasion=occasion,
        case=case,
        kind=decision.kind,
        language=composed.text.language,
        issued_by=by,
        issued_at=now,
        issued_on=on,
        dates_stated={name: day.isoformat() for name, day in composed.dates_stated.items()},
        text=composed.text.as_json(),
    )
    audit_record(
        by=by,
        action="letter.issued",
        obj=letter,
        organisation=case.competent_authority,
        detail={
            "decision": decision.pk,
            **({"reconsideration": reconsideration.pk} if reconsideration else {}),
            **({"occasion": occasion} if occasion != LetterOccasion.DECISION else {}),
            "language": letter.language,
        },
    )
    return letter


def _move_on_after_refusal(case: Case, decision: Decision) -> dict[str, Any]:
    """The move-on end after a reconsideration of a negative conclusive decision is refused
    today: the decision's move-on period counted from today, or the end the case has if that
    is later; nothing for a person treated as a child (their support is the local
    authority's) or where the rules give no move-on period."""
    today = _today()
    again = clock.clocks_after_conclusive(
        today,
        case.jurisdiction,
        decision.outcome,
        adult=not case.is_child,
        profile=_recorded_profile(decision, case, today),
    ).move_on_ends
    if again is None or (case.move_on_ends is not None and case.move_on_ends >= again):
        return {}
    return {"move_on_ends": again}


def _support_provider_to_tell(request: ReconsiderationRequest, case: Case) -> list[User]:
    """Who at the support provider that asked hears the answer: the one who asked, while they
    are still a support coordinator or safe-house manager there; once they have left it (or
    hold the role only at another provider), its coordinators and safe-house managers, who can
    open the plan, instead (ADR 8: nobody who has left is told). Nobody when the referrer
    asked, and never someone told already as the referring side (`referrers_to_tell`)."""
    if request.support_provider_id is None:
        return []
    acting = members_with_role(
        request.support_provider_id, {Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER}
    ).select_related("user")
    told_already = {user.pk for user in referrers_to_tell(case)}
    if acting.filter(user_id=request.requested_by_id).exists():
        return [] if request.requested_by_id in told_already else [request.requested_by]
    return list({m.user_id: m.user for m in acting if m.user_id not in told_already}.values())


@transaction.atomic
def case_assign(*, by: User, case: Case, assignee: User | None, expected_version: int) -> Case:
    _check_decider(by, case)
    if assignee is not None:
        _check_decider(assignee, case)
    case_version_claim(
        case=case, expected_version=expected_version, changes={"assigned_to": assignee}
    )
    case.refresh_from_db()
    case_event_record(
        case=case,
        kind="case.assigned",
        by=by,
        description=f"Assigned to {assignee.full_name}" if assignee else "Unassigned",
    )
    audit_record(
        by=by,
        action="case.assigned",
        obj=case,
        organisation=case.competent_authority,
        detail={"assignee": assignee.pk if assignee else None},
    )
    return case


def decision_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty the free text of the decisions on these cases, the words of their letters and
    the grounds of reconsideration requests; outcomes, kinds, languages and dates stay, for
    the figures. Called only inside `privacy.services`' erasure, whose audit event covers it."""
    return {
        "decision_reasons": Decision.objects.filter(case_id__in=case_ids).update(
            reasons="", approval_note=""
        ),
        # Letters greet the person by name and quote the reasons: their words go, the record
        # of what was issued when (kind, language, dates) stays.
        "letters": Letter.objects.filter(case_id__in=case_ids, text__isnull=False).update(
            text=None
        ),
        "reconsideration_grounds": ReconsiderationRequest.objects.filter(
            case_id__in=case_ids
        ).update(grounds="", decision_reasons="", late_circumstances=""),
        "reconsideration_evidence": _evidence_delete(
            ReconsiderationEvidence.objects.filter(request__case_id__in=case_ids)
        ),
    }


def _evidence_delete(evidence: Any) -> int:
    """Delete these evidence rows now and their stored files once committed (until then the
    rows may come back); how many."""
    files = [(item.file.storage, item.file.name) for item in evidence if item.file.name]

    def delete_files() -> None:
        for storage, name in files:
            try:
                storage.delete(name)
            except OSError:
                # The row is gone, so nothing can serve the file; say so for the operator.
                logger.warning("could not delete an erased evidence file", extra={"file": name})

    transaction.on_commit(delete_files)
    return int(evidence.delete()[0])
