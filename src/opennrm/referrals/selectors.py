from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor
from opennrm.accounts.models import Membership, Organisation
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_referred_by_organisations_of, is_referrer, may_decide
from opennrm.notifications.selectors import unread_news
from opennrm.screening.models import IndicatorCatalogue, Screening
from opennrm.screening.selectors import active_catalogue

from . import steps
from .models import (
    DraftStatus,
    DutyToNotifyReport,
    EvidenceFile,
    InformationRequest,
    InformationRequestStatus,
    ReferralAddition,
    ReferralDraft,
)
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


def start_of(day: date) -> datetime:
    """The first moment of `day` in the service's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def draft_deleted_on(draft: ReferralDraft, today: date) -> date:
    """The first day retention deletes the draft if nobody saves it before: the draft period
    after its last save, and never sooner than the notice period after its author was told
    (`services.drafts_deletion_warn`; a draft not yet told is told today at the earliest)."""
    after_save = timezone.localdate(draft.updated_at) + timedelta(
        days=settings.RETENTION_DRAFT_DAYS + 1
    )
    warned = draft.deletion_warned_at
    told_on = (
        timezone.localdate(warned)
        if warned and warned >= draft.updated_at
        else max(today, after_save - timedelta(days=settings.RETENTION_DRAFT_NOTICE_DAYS))
    )
    return max(after_save, told_on + timedelta(days=settings.RETENTION_DRAFT_NOTICE_DAYS))


def drafts_to_warn(today: date) -> QuerySet[ReferralDraft]:
    """Unsubmitted drafts whose deletion is the notice period away or nearer, and whose author
    has not been told since the draft was last saved."""
    days = settings.RETENTION_DRAFT_DAYS - settings.RETENTION_DRAFT_NOTICE_DAYS
    return ReferralDraft.objects.filter(
        status=DraftStatus.DRAFT, updated_at__lt=start_of(today - timedelta(days=days))
    ).filter(Q(deletion_warned_at__isnull=True) | Q(deletion_warned_at__lt=F("updated_at")))


def drafts_to_delete(today: date) -> QuerySet[ReferralDraft]:
    """Unsubmitted drafts past their period since the last save, whose author was told at
    least the notice period ago (and has not saved since)."""
    return ReferralDraft.objects.filter(
        status=DraftStatus.DRAFT,
        updated_at__lt=start_of(today - timedelta(days=settings.RETENTION_DRAFT_DAYS)),
        deletion_warned_at__gte=F("updated_at"),
        deletion_warned_at__lt=start_of(
            today - timedelta(days=settings.RETENTION_DRAFT_NOTICE_DAYS - 1)
        ),
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


def draft_from_screening(screening: Screening) -> ReferralDraft | None:
    """The referral started from this screening, being written or submitted (a duty to notify
    report keeps no link to it), if there is one."""
    return (
        ReferralDraft.objects.filter(source_screening=screening)
        .select_related("created_by")
        .order_by("created_at", "id")
        .first()
    )


def draft_catalogue(draft: ReferralDraft) -> IndicatorCatalogue:
    """The catalogue version the draft's indicators are shown from and checked against: the
    one its indicators page was answered from (ADR 0007), or, before that page is saved, the
    active one."""
    return draft.indicators_catalogue or active_catalogue()


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


# --- After submission (ADR 28) ------------------------------------------------------------------


def information_requests_open(actor: Actor) -> QuerySet[InformationRequest]:
    """Requests for information waiting for an answer from the actor's organisations, where the
    actor refers: the referrals page lists them, answer-by date first."""
    return (
        InformationRequest.objects.filter(
            status=InformationRequestStatus.OPEN,
            case__referring_organisation_id__in=actor.organisations_as({Role.FIRST_RESPONDER}),
            case__closed_at__isnull=True,
        )
        .select_related("case", "case__competent_authority")
        .order_by("respond_by", "pk")
    )


def information_requests_open_count(actor: Actor) -> int:
    """How many the referrals page lists (a first responder's home page)."""
    return information_requests_open(actor).count()


def additions_unseen(actor: Actor) -> QuerySet[ReferralAddition]:
    """Information added to referrals of the actor's competent authorities that no decision
    maker there has marked read, oldest first (the page `referrals:additions_unseen`)."""
    return (
        ReferralAddition.objects.filter(
            seen_at__isnull=True,
            case__competent_authority_id__in=actor.organisations_as(DECIDERS),
        )
        .select_related("case", "case__referring_organisation", "answers")
        .order_by("added_at", "pk")
    )


def additions_unseen_count(actor: Actor) -> int:
    """How many that page lists (a decision maker's home page)."""
    return additions_unseen(actor).count()


def information_request_for_decider(
    actor: Actor, case: Case, request_id: int
) -> InformationRequest:
    """A request on `case` (already fetched through `case_get_for_user`) for a decision maker
    of its competent authority; 404 for anyone else."""
    if not may_decide(actor, case):
        raise Http404
    return _request_of(case, request_id)


def information_request_for_referrer(
    actor: Actor, case: Case, request_id: int
) -> InformationRequest:
    """A request on `case` for a first responder of the organisation that referred it."""
    if not is_referrer(actor, case):
        raise Http404
    return _request_of(case, request_id)


def _request_of(case: Case, request_id: int) -> InformationRequest:
    try:
        return case.information_requests.select_related("asked_by").get(pk=request_id)
    except InformationRequest.DoesNotExist:
        raise Http404 from None


def addition_for_decider(actor: Actor, case: Case, addition_id: int) -> ReferralAddition:
    if not may_decide(actor, case):
        raise Http404
    try:
        return case.additions.get(pk=addition_id)
    except ReferralAddition.DoesNotExist:
        raise Http404 from None


def after_submission(case: Case) -> list[InformationRequest | ReferralAddition]:
    """The case's requests for information and additions, in the order they happened (an
    addition that answers a request comes after it). For a reader `case_get_for_user` let in."""
    requests = list(case.information_requests.select_related("asked_by"))
    additions = list(
        case.additions.select_related("added_by", "seen_by", "answers").prefetch_related("evidence")
    )
    items: list[InformationRequest | ReferralAddition] = [*requests, *additions]
    return sorted(
        items,
        key=lambda item: (
            item.asked_at if isinstance(item, InformationRequest) else item.added_at,
            isinstance(item, ReferralAddition),
            item.pk,
        ),
    )


def evidence_as_submitted(case: Case) -> QuerySet[EvidenceFile]:
    """The evidence the referral was submitted with, apart from any added after."""
    return case.evidence.filter(addition__isnull=True)


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


def draft_treats_as_child(draft: ReferralDraft) -> bool:
    """Whether the draft treats the person as a child or as age disputed: taken in so at an
    operation (`presumed_child`), or said so on its age page since (someone who looked adult
    and then told the first responder they are 16). Such a person cannot decline a referral,
    and never waits for an adult's bed."""
    return draft.presumed_child or steps.age_group(draft.answers) not in (None, AgeGroup.ADULT)


def childrens_services_told(case: Case) -> set[str]:
    """Which of the child's area's children's services were told of the child referred (the
    organisation kinds, local authority and child guardian service, whose safeguarding leads were
    notified): the confirmation page says who was told, and who must be contacted directly."""
    told = case.notifications.filter(kind="case.child_referred").values("recipient")
    return set(
        Membership.objects.filter(
            user__in=told,
            organisation__area=case.area,
            organisation__kind__in=CHILDRENS_SERVICES,
        ).values_list("organisation__kind", flat=True)
    )


def childrens_services_reached(case: Case) -> tuple[list[str], list[str]]:
    """For a child (or age-disputed person) referred: the kinds of children's services of the
    child's area that were told, and those that were not (nobody there uses OpenNRM, so the
    referrer must contact them directly today), in `CHILDRENS_SERVICES` order. Both empty for
    an adult. The confirmation page and the API's answer to a submission say the same."""
    if not case.is_child:
        return [], []
    reached = childrens_services_told(case)
    told = [str(kind) for kind in CHILDRENS_SERVICES if kind in reached]
    untold = [str(kind) for kind in CHILDRENS_SERVICES if kind not in reached]
    return told, untold


CHILDRENS_SERVICES = (OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE)
