from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Role
from opennrm.cases.selectors import cases_referred_by_organisations_of
from opennrm.notifications.selectors import unread_news

from .models import DraftStatus, DutyToNotifyReport, EvidenceFile, ReferralDraft


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


def referrals_with_new_outcome_count(actor: Actor) -> int:
    """The referrals of the actor's organisations whose change of status (a decision's outcome,
    above all) the actor has been told of and not yet opened: the unread notifications that
    `notifications:list?show=outcomes` lists, counted by case."""
    return (
        unread_news(actor.user, "outcomes")
        .filter(case__in=cases_referred_by_organisations_of(actor).order_by())
        .values("case")
        .distinct()
        .count()
    )
