"""Who may see which case. Every read of a case starts here, from the user."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from opennrm.accounts.models import User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.accounts.selectors import memberships_of

from .choices import AgeGroup
from .models import Case


def _orgs(user: User, roles: set[Role]) -> list[int]:
    return list(
        memberships_of(user).filter(role__in=roles).values_list("organisation_id", flat=True)
    )


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases the user may open, and why:

    - first responders: cases their organisation referred;
    - decision makers: cases routed to their competent authority;
    - safeguarding leads: children's cases in their organisation's area.
    Everyone else sees none (analysts get figures, never cases).
    """
    referrers = _orgs(user, {Role.FIRST_RESPONDER})
    authorities = _orgs(user, {Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER})
    safeguarding_areas = list(
        memberships_of(user)
        .filter(
            role=Role.SAFEGUARDING_LEAD,
            organisation__kind__in=[
                OrganisationKind.LOCAL_AUTHORITY,
                OrganisationKind.CHILD_GUARDIAN_SERVICE,
            ],
        )
        .exclude(organisation__area="")
        .values_list("organisation__area", flat=True)
    )
    condition = Q(pk__in=[])
    if referrers:
        condition |= Q(referring_organisation_id__in=referrers)
    if authorities:
        condition |= Q(competent_authority_id__in=authorities)
    if safeguarding_areas:
        condition |= Q(
            area__in=safeguarding_areas, age_group__in=[AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD]
        )
    return Case.objects.filter(condition)


def cases_referred_by_organisations_of(user: User) -> QuerySet[Case]:
    return Case.objects.filter(
        referring_organisation_id__in=_orgs(user, {Role.FIRST_RESPONDER})
    ).order_by("-submitted_at")


def case_get_for_user(user: User, reference: str) -> Case:
    try:
        return (
            cases_visible_to(user)
            .select_related(
                "person__identity",
                "narrative",
                "referring_organisation",
                "competent_authority",
                "referred_by",
                "screening__catalogue",
            )
            .get(reference=reference)
        )
    except Case.DoesNotExist:
        raise Http404 from None


def may_decide(user: User, case: Case) -> bool:
    return case.competent_authority_id in _orgs(
        user, {Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER}
    )


def may_request_reconsideration(user: User, case: Case) -> bool:
    """The referrer's organisation may ask while a negative decision's window is open."""
    from .choices import CaseStatus

    return (
        case.referring_organisation_id in _orgs(user, {Role.FIRST_RESPONDER})
        and case.status
        in (
            CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
            CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
            CaseStatus.DISQUALIFIED,
        )
        and case.reconsideration_until is not None
    )


def clocks_of(case: Case) -> list[dict[str, object]]:
    """The case's stored deadlines, with days remaining (negative when passed)."""
    from django.utils import timezone

    today = timezone.localdate()
    awaiting_rg = case.status in ("awaiting_rg", "rg_suspended")
    rows = [
        ("Reasonable grounds decision due", case.reasonable_grounds_due if awaiting_rg else None),
        ("Recovery period ends", case.recovery_period_ends),
        ("Conclusive grounds decision possible from", case.conclusive_grounds_from),
        ("Reconsideration can be asked for until", case.reconsideration_until),
        ("Move-on support ends", case.move_on_ends),
    ]
    return [
        {"label": label, "date": day, "days_left": (day - today).days} for label, day in rows if day
    ]
