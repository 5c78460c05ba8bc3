"""Who may see which case. Every read of a case starts here, from the user."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from opennrm.accounts.models import User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.accounts.selectors import memberships_of
from opennrm.lib import fields

from .choices import AgeGroup
from .models import Case, Person


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


def people_matching(
    user: User, *, name: str | None = None, date_of_birth: date | None = None
) -> QuerySet[Person]:
    """People in cases the user may open whose whole name and/or date of birth match exactly,
    ignoring case, accents and spacing, found through the blind indexes: nothing is decrypted.

    The name is compared whole ("given names family name"); aliases are not indexed. Digests
    under every configured blind-index key are accepted, so a search keeps working while
    `rotate_keys` recomputes them under a new key. With neither criterion, nobody matches.
    """
    condition = identity_match(name=name, date_of_birth=date_of_birth)
    if condition is None:
        return Person.objects.none()
    visible = cases_visible_to(user).values("person_id")
    return Person.objects.filter(condition, pk__in=visible).order_by("pk")


def identity_match(*, name: str | None = None, date_of_birth: date | None = None) -> Q | None:
    """The condition on `Person` that the blind indexes give for an exact name and/or date of
    birth, or None when nothing can match. For selectors that have already checked who may
    search (`people_matching`, and the data-protection officer's `privacy.selectors`)."""
    index = fields.blind_index()
    condition = Q()
    if name is not None:
        candidates = index.name_candidates(name)
        if not candidates:
            return None
        condition &= Q(identity__name_index__in=candidates)
    if date_of_birth is not None:
        condition &= Q(identity__dob_index__in=index.date_candidates(date_of_birth))
    return condition or None


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
