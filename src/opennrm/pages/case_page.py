"""The case page: the case, and what other apps hold about it (decisions and their letters,
the referral's evidence and screening, support, how many notes and tasks), composed here above those apps so that
`cases` does not depend on them. Its route keeps its name, `cases:detail` (pages/case_urls.py).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.care.selectors import case_support_summary as support_summary
from opennrm.care.selectors import missing_action_for
from opennrm.cases.choices import CaseStatus, ExploitationType
from opennrm.cases.models import Case
from opennrm.cases.selectors import (
    case_get_for_user,
    clocks_of,
    is_referrer,
    may_decide,
    may_request_reconsideration,
    reconsideration_open,
    timeline_shown,
)
from opennrm.cases.views import may_close
from opennrm.casework.selectors import casework_counts
from opennrm.decisions.models import (
    Decision,
    DecisionKind,
    DecisionState,
    Letter,
    LetterOccasion,
)
from opennrm.decisions.selectors import (
    decisions_shown,
    may_take_in_reconsideration,
)
from opennrm.decisions.services import (
    REASONABLE_GROUNDS_OPEN,
    approval_refusal,
    decision_refusal,
    disqualification_refusal,
    extension_refusal,
)
from opennrm.lib.iso import country_name, language_name
from opennrm.linkage import selectors as linkage
from opennrm.policy.profiles import OutcomeKind
from opennrm.referrals.models import InformationRequest
from opennrm.referrals.selectors import after_submission, evidence_as_submitted
from opennrm.safeguarding.selectors import case_safeguarding
from opennrm.safety import selectors as safety


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# The identifying fields the case page shows, by the record that holds them. Each view of the
# page is audited with those that had a value (templates/cases/detail.html shows them).
CASE_PAGE_FIELDS = {
    "identity": ("given_names", "family_name", "aliases", "date_of_birth", "safe_contact"),
    "narrative": ("persons_account", "responders_account"),
}


def _fields_shown(case: Case, decisions: QuerySet[Decision]) -> list[str]:
    records = {
        "identity": getattr(case.person, "identity", None),
        "narrative": getattr(case, "narrative", None),
    }
    shown = []
    for relation, names in CASE_PAGE_FIELDS.items():
        record = records[relation]
        shown += [name for name in names if getattr(record, name, None) not in (None, "", [])]
    if case.evidence.exists():
        shown.append("evidence_names")
    if decisions.exists():
        # Decision makers' reasons are free text about the person.
        shown.append("decision_reasons")
    if case.age_assessments.exists():
        # So are an age assessment's reasons.
        shown.append("age_assessment_reasons")
    # Questions asked and information added after submission (ADR 28): free text too.
    if case.information_requests.exists():
        shown.append("information_requests")
    if case.additions.exists():
        shown.append("additions")
    return shown


def _after_submission(case: Case) -> list[dict[str, object]]:
    """The requests for information and additions, in order, each with its kind for the
    template (templates/referrals/_after_submission.html)."""
    return [
        {"kind": "request" if isinstance(item, InformationRequest) else "addition", "item": item}
        for item in after_submission(case)
    ]


def _actions_refused(actor: Actor, case: Case) -> dict[str, object]:
    """Why each decision action would be refused now, so the page offers only those that would
    succeed and says why the others are not offered."""
    if not may_decide(actor, case):
        return {}
    if (
        case.status == CaseStatus.RECOVERY_PERIOD
        and case.conclusive_grounds_from
        and timezone.localdate() < case.conclusive_grounds_from
    ):
        early = f"The conclusive grounds decision can be made from {case.conclusive_grounds_from:%-d %B %Y}"
    else:
        early = None
    return {
        "reasonable_grounds": decision_refusal(case=case, stage=DecisionKind.REASONABLE_GROUNDS)
        # A suspended decision is made from the case too, once the person is back (ADR 0010).
        if case.status in REASONABLE_GROUNDS_OPEN
        else None,
        "conclusive_grounds": early
        or decision_refusal(case=case, stage=DecisionKind.CONCLUSIVE_GROUNDS)
        if case.status == CaseStatus.RECOVERY_PERIOD
        else None,
        # The recovery period's other actions: extending it, and disqualifying the person where
        # the rules in force have disqualification (NABA 2022 s.63).
        "extension": extension_refusal(case) if case.status == CaseStatus.RECOVERY_PERIOD else None,
        "disqualification": disqualification_refusal(case)
        if case.status == CaseStatus.RECOVERY_PERIOD
        else None,
        "approval": {
            d.pk: approval_refusal(by=actor.user, decision=d)
            for d in case.decisions.filter(state=DecisionState.AWAITING_APPROVAL)
        },
    }


def _linked_referrals(actor: Actor, case: Case) -> list[dict[str, object]]:
    """The other referrals of the same person (one identity cluster) that the actor may open,
    and those held by another competent authority that the actor knows of through confirmed
    pairs they may review (the earlier referral of a pair across two authorities, named
    without a link to its case page: `linkage.linked_elsewhere`, ADR 0049 addendum of stop
    41), in order of submission; each with its confirmed pair when the actor may review it (to
    undo the link), and whether it had a positive conclusive grounds decision before this
    referral was submitted: a repeat referral after it is possible re-trafficking (ADR 0049)."""
    openable = list(linkage.linked_cases(actor, case))
    elsewhere = linkage.linked_elsewhere(actor, case)
    linked = sorted(openable + elsewhere, key=lambda other: (other.submitted_at, other.pk))
    if not linked:
        return []
    recognised_before = set(
        Decision.objects.filter(
            case__in=linked,
            kind=DecisionKind.CONCLUSIVE_GROUNDS,
            outcome_kind=OutcomeKind.POSITIVE,
            state=DecisionState.IN_EFFECT,
            decided_at__lt=case.submitted_at,
        ).values_list("case_id", flat=True)
    )
    return [
        {
            "case": other,
            "may_open": other in openable,
            "pair": linkage.confirmed_pair_between(actor, case, other),
            "recognised_before": other.pk in recognised_before,
        }
        for other in linked
    ]


def _reconsideration_letters(case: Case) -> dict[int, list[Letter]]:
    """The letters issued when reconsiderations of the case's decisions were decided, by the
    decision reconsidered (the words still there: none once the details are erased)."""
    found: dict[int, list[Letter]] = {}
    for letter in Letter.objects.filter(
        case=case, reconsideration__isnull=False, text__isnull=False
    ).select_related("reconsideration"):
        found.setdefault(letter.decision_id, []).append(letter)
    return found


def _adult_dates_letters(case: Case) -> dict[int, list[Letter]]:
    """The letters stating the adult dates a change of age group gave the case, by the decision
    whose dates they are (ADR 0017, stop 39), the words still there."""
    found: dict[int, list[Letter]] = {}
    for letter in Letter.objects.filter(
        case=case, occasion=LetterOccasion.ADULT_DATES, text__isnull=False
    ):
        found.setdefault(letter.decision_id, []).append(letter)
    return found


@require_safe
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    actor = actor_of(request)
    case = case_get_for_user(actor, reference)
    # The safety profile's section (safety.selectors), with the fields it shows.
    profile = safety.profile_of(case)
    # Drafts of decisions (awaiting approval, or refused it) only for those who decide.
    decisions = decisions_shown(actor, case)
    events = timeline_shown(actor, case).select_related("actor")
    shown = _fields_shown(case, decisions) + [
        f"safety_{name}" for name in safety.fields_shown(profile)
    ]
    audit_read(by=user, person=case.person, obj=case, fields=shown)
    linked = _linked_referrals(actor, case)
    return render(
        request,
        "cases/detail.html",
        {
            "title": f"Case {case.reference}",
            "case": case,
            "identity": getattr(case.person, "identity", None),
            "erasure": getattr(case.person, "erasure", None),
            "nationalities": [country_name(c) for c in case.person.nationalities],
            "exploitation": [
                ExploitationType(t).label if t in ExploitationType.values else t
                for t in case.exploitation_types
            ],
            "languages": [language_name(c) for c in case.person.languages],
            "events": events,
            # As submitted; evidence added after is shown with its addition.
            "evidence": evidence_as_submitted(case),
            "after_submission": _after_submission(case),
            "is_referrer": is_referrer(actor, case),
            "screening": case.screening,
            "decisions": decisions.select_related("decided_by", "approved_by").annotate(
                # A decision in effect has the letter issued then, until the details are erased.
                has_letter=Exists(
                    Letter.objects.filter(
                        decision=OuterRef("pk"),
                        reconsideration__isnull=True,
                        occasion=LetterOccasion.DECISION,
                        text__isnull=False,
                    )
                )
            ),
            # The letters of its reconsiderations decided, beside it, by decision.
            "reconsideration_letters": _reconsideration_letters(case),
            # The letters of the adult dates it gives since a change of age group, beside it.
            "adult_dates_letters": _adult_dates_letters(case),
            "clocks": clocks_of(case),
            "may_decide": may_decide(actor, case),
            "may_request_reconsideration": may_request_reconsideration(actor, case),
            "may_take_in_reconsideration": may_take_in_reconsideration(actor, case),
            "reconsideration_open": reconsideration_open(case),
            "may_close": may_close(actor, case),
            "refused": _actions_refused(actor, case),
            "open_reconsideration": case.reconsiderations.filter(state="requested").last(),
            "notifications_sent": case.notifications.select_related("recipient").order_by(
                "-created_at"
            )[:50]
            if may_decide(actor, case)
            else [],
            "screening_result": case.screening.result_object() if case.screening else None,
            # Support in the words anyone who may open the case may read: provider and
            # region, never the site or its address.
            "support": support_summary(case),
            # Reporting the person missing, for those who may (a child's local authority).
            "missing_action": missing_action_for(actor, case),
            # Counts only: the notes' text and tasks' titles are on their own page, read there.
            "casework": casework_counts(actor, case),
            # The children's pathway: age assessments and the local authority's tasks.
            "safeguarding": case_safeguarding(actor, case),
            "safety_profile": profile,
            "safety_dependants": safety.dependants_of(profile),
            # Record linkage (ADR 0049): a pair waiting for the authority's answer, shown only
            # to those who may review it; linked referrals to those who may open both.
            "possible_earlier": list(linkage.open_pairs_of_case(actor, case)),
            "linked_referrals": linked,
            "possible_retrafficking": any(row["recognised_before"] for row in linked),
        },
    )
