from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404

from opennrm.accounts.actor import DECIDERS, Actor
from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup

from .models import DraftStatus, DutyToNotifyReport, EvidenceFile, ReferralDraft
from .routing import competent_authority_for


def referring_organisations(actor: Actor) -> QuerySet[Organisation]:
    """Organisations in which the actor may refer: those where they are a first responder."""
    ids = actor.organisations_as({Role.FIRST_RESPONDER})
    return Organisation.objects.filter(pk__in=ids)


def drafts_of(actor: Actor) -> QuerySet[ReferralDraft]:
    """Unfinished drafts: each belongs to the person who started it, and only to them."""
    return ReferralDraft.objects.filter(
        created_by=actor.user,
        status=DraftStatus.DRAFT,
        organisation__in=referring_organisations(actor),
    )


def draft_get_for_user(actor: Actor, public_id: UUID, *, submitted: bool = False) -> ReferralDraft:
    """The user's own draft (or, with submitted=True, their submitted one); 404 otherwise."""
    drafts = ReferralDraft.objects.filter(
        created_by=actor.user, organisation__in=referring_organisations(actor)
    ).select_related("organisation", "case", "report")
    drafts = (
        drafts.exclude(status=DraftStatus.DRAFT)
        if submitted
        else drafts.filter(status=DraftStatus.DRAFT)
    )
    try:
        return drafts.get(public_id=public_id)
    except ReferralDraft.DoesNotExist:
        raise Http404 from None


def evidence_get_for_draft(draft: ReferralDraft, evidence_id: int) -> EvidenceFile:
    try:
        return draft.evidence.get(pk=evidence_id)
    except EvidenceFile.DoesNotExist:
        raise Http404 from None


def reports_of_organisations(actor: Actor) -> QuerySet[DutyToNotifyReport]:
    return DutyToNotifyReport.objects.filter(
        organisation__in=referring_organisations(actor)
    ).order_by("-submitted_at")


def police_for(report: DutyToNotifyReport) -> list[Organisation]:
    """Who a report's intelligence goes to: the statutory first responders of its area (the
    police there), or, where there are none, the competent authority that would decide a
    referral of an adult from the reporting organisation's jurisdiction."""
    police = list(
        Organisation.objects.filter(
            kind=OrganisationKind.STATUTORY_FIRST_RESPONDER, area=report.area, is_active=True
        )
    )
    if police:
        return police
    return [
        competent_authority_for(
            jurisdiction=report.jurisdiction,
            in_immigration_detention=False,
            age_group=AgeGroup.ADULT,
        )
    ]


def report_get_for(actor: Actor, reference: str) -> DutyToNotifyReport:
    """A duty to notify report, for the first responders of the organisation that made it and
    for those its intelligence was sent to (the first responders of a police organisation, the
    decision makers of a competent authority); 404 for anyone else."""
    referrers = list(actor.organisations_as({Role.FIRST_RESPONDER}))
    told = list(actor.organisations_as({Role.FIRST_RESPONDER, *DECIDERS}))
    found = (
        DutyToNotifyReport.objects.filter(
            Q(organisation_id__in=referrers) | Q(intelligence__routed_to__in=told)
        )
        .filter(reference=reference)
        .select_related("organisation", "intelligence")
        .distinct()
        .first()
    )
    if found is None:
        raise Http404
    return found
