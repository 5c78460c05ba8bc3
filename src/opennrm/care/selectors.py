"""Who may see and change a person's support plan and missing episodes; the plan's rows; what
the case page says of support; a person's support for their subject access export, and whether
it is still under way (erasure and retention wait for it to end).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from opennrm.accommodation.models import (
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
)
from opennrm.accommodation.selectors import (
    adult_move_on_ends,
    is_coordinator,
    managed_provider_ids,
)
from opennrm.accounts.actor import Actor, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases import models as cases
from opennrm.cases.selectors import came_of_age_on, reconsideration_open, reconsideration_requesters
from opennrm.policy.profiles import Requester
from opennrm.safeguarding.models import ChildrenServicesTask, TaskStatus
from opennrm.safeguarding.selectors import children_acted_for, children_of, lead_areas
from opennrm.safety import selectors as safety

from .models import (
    MEASURES_FOR_EVERYONE,
    ChildMissing,
    Measure,
    MeasureStatus,
    MissingEpisode,
    ServiceDelivery,
    SupportMeasure,
    SupportPlan,
)


@dataclass(frozen=True)
class SupportLine:
    """What a referrer (or anyone who may open the case) is told about support: no site, no
    address, only the provider, the region and the state."""

    what: str
    status: str
    provider: str
    region: str
    since: Any
    # A line shown as written (not lower-cased), such as a person missing now.
    warning: bool = False


def case_support_summary(case: cases.Case) -> list[SupportLine]:
    lines: list[SupportLine] = []
    for request in case.placement_requests.order_by("created_at"):
        live = (
            request.placements.holding_a_bed().select_related("bed__room__site__provider").first()
        )
        if live is None:
            ended = request.placements.filter(status=PlacementStatus.ENDED).first()
            if ended is not None:
                live = ended
        if live is not None:
            site = live.bed.room.site
            lines.append(
                SupportLine(
                    what="Place to stay",
                    status=live.get_status_display(),
                    provider=site.provider.name,
                    region=site.get_region_display(),
                    since=live.reserved_at or live.proposed_at,
                )
            )
        else:
            lines.append(
                SupportLine(
                    what="Place to stay",
                    status=request.get_status_display(),
                    provider="",
                    region="",
                    since=request.created_at,
                )
            )
    missing = MissingEpisode.objects.filter(case=case, returned_on=None).first()
    if missing is not None:
        # Only that the person is missing, and since when: never where they were last seen.
        lines.append(
            SupportLine(
                what="Missing",
                status=f"reported missing since {missing.went_missing_on:%-d %B %Y}",
                provider="",
                region="",
                since=missing.reported_at,
                warning=True,
            )
        )
    return lines


# --- Support plans and missing episodes --------------------------------------------------------
#
# Who: support coordinators, for every case with a placement request; the safe-house managers
# of the provider where the person has a live placement (one that holds a bed). Everyone else
# gets 404. A missing episode reported from a placement stays open to that provider's managers
# after the placement has ended, so they can record the person's return.


def support_cases_for(actor: Actor) -> QuerySet[cases.Case]:
    """The cases whose support plan and missing episodes the actor may see and change."""
    if is_coordinator(actor):
        requested = PlacementRequest.objects.filter(case=OuterRef("pk"))
        return cases.Case.objects.filter(Exists(requested))
    providers = managed_provider_ids(actor)
    if not providers:
        return cases.Case.objects.none()
    live = Placement.objects.holding_a_bed().filter(
        request__case=OuterRef("pk"), bed__room__site__provider_id__in=providers
    )
    return cases.Case.objects.filter(Exists(live))


def cases_supported_now_by(actor: Actor) -> QuerySet[cases.Case]:
    """The cases whose person the actor supports now: a safe-house manager, where their
    provider holds a bed for the person (as `support_cases_for`); a support coordinator, while
    support is under way through a request for a place (one waiting, or a place held), as
    `reconsideration_asker` has it. Once the person has left, or the request is closed, the
    provider no longer supports them. Registered with decisions (`CareConfig.ready`): they read
    the answers to the case's reconsiderations, which tell the person to ask their support
    worker (ADR 0017, addendum of stop 42)."""
    held = Placement.objects.holding_a_bed().filter(request__case=OuterRef("pk"))
    supported = Q(pk__in=[])
    if is_coordinator(actor):
        waiting = PlacementRequest.objects.filter(
            case=OuterRef("pk"), status=PlacementRequestStatus.OPEN
        )
        supported |= Q(Exists(held)) | Q(Exists(waiting))
    providers = managed_provider_ids(actor)
    if providers:
        supported |= Q(Exists(held.filter(bed__room__site__provider_id__in=providers)))
    return cases.Case.objects.filter(supported)


def back_from_missing_of(suspended: QuerySet[cases.Case], since: str) -> QuerySet[cases.Case]:
    """Of `suspended`, each annotated with a moment (the annotation named `since`: when its
    reasonable grounds decision was suspended), those whose person was reported missing at or
    before that moment, whenever the return was recorded, and is missing no longer (no episode
    open now). Registered with decisions (`CareConfig.ready`), whose `back_from_missing` it is:
    decisions cannot import care (ADR 0020)."""
    reported_by_then = MissingEpisode.objects.filter(
        case=OuterRef("pk"), reported_at__lte=OuterRef(since)
    )
    missing_now = MissingEpisode.objects.filter(case=OuterRef("pk"), returned_on=None)
    return suspended.filter(Exists(reported_by_then)).exclude(Exists(missing_now))


def support_case_get(actor: Actor, reference: str) -> cases.Case:
    found = (
        support_cases_for(actor)
        .select_related("person", "referring_organisation", "competent_authority")
        .filter(reference=reference)
        .first()
    )
    if found is None:
        raise Http404
    return found


def live_placement_of(case: cases.Case) -> Placement | None:
    """The placement that holds a bed for the person now, if any: the place they live in (an
    occupied stay) before any offer, then the newest. A person offered a move lives in one
    house and holds a bed in another (ADR 16); taking the newest, the offer, tied a missing
    episode to a house they had never lived in (found in review)."""
    lived_in_first = Case(When(status=PlacementStatus.OCCUPIED, then=Value(0)), default=Value(1))
    return (
        Placement.objects.holding_a_bed()
        .filter(request__case=case)
        .select_related("bed__room__site__provider")
        .order_by(lived_in_first, "-proposed_at", "-pk")
        .first()
    )


def reconsideration_asker(actor: Actor, case: cases.Case) -> Organisation | None:
    """The support provider for which the actor may ask for a negative decision on this case
    to be reconsidered, or None: where the rules in force let support providers ask (the
    profile's `reconsideration_requesters`), while the window is open, for the provider of
    the person's live placement (its safe-house managers) or a support coordinator's own
    organisation. The case is one the actor may support (`support_case_get`)."""
    if not reconsideration_open(case) or consent_problem(case):
        return None
    if Requester.SUPPORT_PROVIDER not in reconsideration_requesters(case):
        return None
    placement = live_placement_of(case)
    if placement is not None:
        provider = placement.bed.room.site.provider
        if provider.pk in managed_provider_ids(actor):
            return provider
    # A coordinator, while support is under way through a request for a place: one waiting,
    # or a place held (not for a person whose adult request was withdrawn when their age was
    # disputed: children's services look after them).
    waiting = PlacementRequest.objects.filter(case=case, status=PlacementRequestStatus.OPEN)
    if is_coordinator(actor) and (placement is not None or waiting.exists()):
        return Organisation.objects.filter(
            pk__in=actor.organisations_as({Role.SUPPORT_COORDINATOR})
        ).first()
    return None


def consent_problem(case: cases.Case) -> str:
    """Why no support plan may be kept for this person, or "" when one may. An adult must have
    consented to support (Convention Art. 12(7): assistance on a consensual, informed basis);
    a child (or someone whose age is disputed and so treated as a child) needs no consent, nor
    is a care leaver refused for want of it (`came_of_age_unasked`)."""
    if case.is_child or case.consent_to_support is True:
        return ""
    if came_of_age_unasked(case):
        return ""
    said = (
        "did not consent to support"
        if case.consent_to_support is False
        else "did not say whether they consent to support"
    )
    return (
        f"No support plan can be kept for this person: they are an adult, and at referral they "
        f"{said}. Support is given only with an adult's informed consent. If they now consent, "
        "ask the first responder who referred them to record it."
    )


def came_of_age_unasked(case: cases.Case) -> bool:
    """Whether the person was referred as a child, so never asked to consent to support, and
    has since turned 18 by the date of birth recorded (`safeguarding.coming_of_age`). Treated as
    refusing, they were housed as an adult (accommodation refuses only a "no") but their plan
    could never be kept, and nothing records consent after referral (found in review, stop 38).

    An adult referred without an answer, or a child found an adult by assessment, is still
    refused (`cases.selectors.came_of_age_on`)."""
    return case.consent_to_support is None and came_of_age_on(case) is not None


def measures_for(case: cases.Case, *, having: Any = ()) -> list[Measure]:
    """The Art. 12(1) measures of this person's plan: education for children only (and kept
    if it was planned while they were treated as a child)."""
    wanted: set[Measure] = set(MEASURES_FOR_EVERYONE)
    if case.is_child or Measure.EDUCATION in set(having):
        wanted.add(Measure.EDUCATION)
    return [m for m in Measure if m in wanted]


@dataclass(frozen=True)
class PlanRow:
    """One measure as the plan page shows it; `from_placement` when the accommodation's
    status, dates and provider come from the person's placement rather than a hand entry."""

    measure: Measure
    status: MeasureStatus
    starts_on: date | None
    ends_on: date | None
    provider: str
    outside_provider: str
    has_notes: bool
    from_placement: bool
    row: SupportMeasure | None


def _accommodation_from_placements(case: cases.Case, stored: MeasureStatus) -> PlanRow | None:
    """While a placement holds a bed, the accommodation follows it: arranged when offered or
    accepted, being provided once the person arrived. After an exit, a hand entry wins; with
    none (not assessed), the ended stay shows as provided."""
    live = live_placement_of(case)
    if live is not None:
        occupied = live.status == PlacementStatus.OCCUPIED
        return PlanRow(
            measure=Measure.ACCOMMODATION,
            status=MeasureStatus.BEING_PROVIDED if occupied else MeasureStatus.ARRANGED,
            starts_on=live.arrived_on,
            # A child's stay does not end with an adult's move-on period.
            ends_on=adult_move_on_ends(case),
            provider=live.bed.room.site.provider.name,
            outside_provider="",
            has_notes=False,
            from_placement=True,
            row=None,
        )
    if stored != MeasureStatus.NOT_ASSESSED:
        return None
    ended = (
        Placement.objects.filter(request__case=case, status=PlacementStatus.ENDED)
        .select_related("bed__room__site__provider")
        .order_by("-ended_on", "-pk")
        .first()
    )
    if ended is None:
        return None
    return PlanRow(
        measure=Measure.ACCOMMODATION,
        status=MeasureStatus.PROVIDED,
        starts_on=ended.arrived_on,
        ends_on=ended.ended_on,
        provider=ended.bed.room.site.provider.name,
        outside_provider="",
        has_notes=False,
        from_placement=True,
        row=None,
    )


def plan_rows(case: cases.Case) -> list[PlanRow]:
    """Every measure of the person's plan with its status, whether or not a plan was started
    (a measure never touched is "not assessed yet")."""
    plan = SupportPlan.objects.filter(case=case).first()
    stored: dict[str, SupportMeasure] = {}
    if plan is not None:
        stored = {m.measure: m for m in plan.measures.select_related("provider")}
    rows = []
    for measure in measures_for(case, having=stored):
        row = stored.get(measure)
        status = MeasureStatus(row.status) if row else MeasureStatus.NOT_ASSESSED
        if measure == Measure.ACCOMMODATION:
            derived = _accommodation_from_placements(case, status)
            if derived is not None:
                rows.append(replace(derived, has_notes=bool(row and row.notes), row=row))
                continue
        rows.append(
            PlanRow(
                measure=measure,
                status=status,
                starts_on=row.starts_on if row else None,
                ends_on=row.ends_on if row else None,
                provider=row.provider.name if row and row.provider else "",
                outside_provider=row.outside_provider if row else "",
                has_notes=bool(row and row.notes),
                from_placement=False,
                row=row,
            )
        )
    return rows


def deliveries_of(case: cases.Case) -> QuerySet[ServiceDelivery]:
    return ServiceDelivery.objects.filter(plan__case=case).select_related("provider")


def organisations_providing() -> QuerySet[Any]:
    """The organisations a measure or a delivery can name as its provider."""
    from opennrm.accounts.models import Organisation

    return Organisation.objects.filter(is_active=True).order_by("name")


def missing_cases_for(actor: Actor) -> QuerySet[cases.Case]:
    """The cases whose person the actor may report missing: the support cases
    (`support_cases_for`), and for the safeguarding leads of a local authority the children of
    its area, whether or not support arranged their place (a child on the children's pathway is
    housed by the local authority, with no placement request)."""
    return cases.Case.objects.filter(
        Q(pk__in=support_cases_for(actor).values("pk"))
        | Q(pk__in=children_acted_for(actor).values("pk"))
    )


def missing_case_get(actor: Actor, reference: str) -> cases.Case:
    found = (
        missing_cases_for(actor)
        .select_related("person", "referring_organisation", "competent_authority")
        .filter(reference=reference)
        .first()
    )
    if found is None:
        raise Http404
    return found


def missing_action_for(actor: Actor, case: cases.Case) -> dict[str, Any] | None:
    """What the case page offers of missing episodes to those who may report the person missing
    (`missing_cases_for`): the open episode, to record their return, or else the report; None
    for anyone else."""
    if not missing_cases_for(actor).filter(pk=case.pk).exists():
        return None
    return {"open": open_missing_episode(case)}


def _local_authority_areas(actor: Actor) -> QuerySet[Any]:
    """The areas of the local authorities for which the actor is a safeguarding lead."""
    return (
        actor.memberships()
        .filter(role=Role.SAFEGUARDING_LEAD, organisation__kind=OrganisationKind.LOCAL_AUTHORITY)
        .exclude(organisation__area="")
        .values("organisation__area")
    )


def missing_episodes_visible_to(actor: Actor) -> QuerySet[MissingEpisode]:
    episodes = MissingEpisode.objects.select_related("case", "placement__bed__room__site__provider")
    if is_coordinator(actor):
        return episodes
    # The local authority's safeguarding leads see the episodes of the children of their area,
    # and record their return; and those of a person reported missing as a child of their area
    # who has since turned 18 or been assessed an adult, while still missing: they were told
    # of that child, and may record the return (`MissingEpisode.child_missing`), but an
    # adult's episode once they are back is no longer theirs to read (ADR 15).
    seen = Q(case__in=children_acted_for(actor).values("pk")) | Q(
        child_missing=ChildMissing.PERSON,
        case__area__in=_local_authority_areas(actor),
        returned_on=None,
    )
    providers = managed_provider_ids(actor)
    if providers:
        # A provider's staff see the episodes of the people placed with them now, and those
        # still open from a stay with them (to record the return); not the closed ones of people
        # long gone, whose last-seen notes are no longer theirs to read.
        seen |= Q(placement__bed__room__site__provider_id__in=providers, returned_on=None) | Q(
            case__in=support_cases_for(actor)
        )
    return episodes.filter(seen)


def missing_episode_get(actor: Actor, episode_id: int) -> MissingEpisode:
    found = missing_episodes_visible_to(actor).filter(pk=episode_id).first()
    if found is None:
        raise Http404
    return found


def open_missing_episode(case: cases.Case) -> MissingEpisode | None:
    return MissingEpisode.objects.filter(case=case, returned_on=None).first()


def last_return_of(case: cases.Case) -> MissingEpisode | None:
    """The person's episode with the latest return recorded, if they have been missing before."""
    return (
        MissingEpisode.objects.filter(case=case)
        .exclude(returned_on=None)
        .order_by("-returned_on", F("returned_time").desc(nulls_last=True), "-pk")
        .first()
    )


def child_safeguarding_leads(case: cases.Case) -> dict[str, list[User]]:
    """Who is told at once that a child is missing: the safeguarding leads of the local
    authority and of the child guardian service of the child's area, by the kind of their
    organisation (a kind OpenNRM knows nobody in is left out)."""
    leads: dict[str, list[User]] = {}
    if not case.area:
        return leads
    for membership in (
        members_with_role(None, {Role.SAFEGUARDING_LEAD})
        .filter(
            organisation__area=case.area,
            organisation__is_active=True,
            organisation__kind__in=[
                OrganisationKind.LOCAL_AUTHORITY,
                OrganisationKind.CHILD_GUARDIAN_SERVICE,
            ],
        )
        .select_related("user", "organisation")
        .order_by("organisation__kind", "pk")
    ):
        leads.setdefault(membership.organisation.kind, []).append(membership.user)
    return leads


def child_missing_if_reported(case: cases.Case) -> ChildMissing:
    """What a missing report made now says of a child, and so whether children's services are
    told: the person is a child (or treated as one), or an adult whose safety profile records a
    dependent child under 18, taken to be missing with them (`dependent_children_of`)."""
    if case.is_child:
        return ChildMissing.PERSON
    return ChildMissing.WITH_THEM if dependent_children_of(case) else ChildMissing.NO


def dependent_children_of(case: cases.Case) -> int:
    """How many dependants under 18 the person's safety profile records. A dependant comes with
    the person and is placed with them, or not at all (`safety.models.Dependant`): a parent who
    goes missing is taken to have gone with them, a missing child known to the local
    authority (ADR 26)."""
    profile = safety.profile_of(case)
    if profile is None:
        return 0
    today = timezone.localdate()
    return sum(1 for dependant in profile.dependants.all() if dependant.is_child_on(today))


def children_missing_now(actor: Actor) -> QuerySet[MissingEpisode]:
    """The children of the safeguarding lead's areas missing now, longest missing first, and
    those reported missing as a child there who have since turned 18 or been assessed an adult
    (children's services were told of the child, and hear of the return): the local authority's
    caseload lists them (`care.views.caseload_extras`)."""
    return (
        MissingEpisode.objects.filter(returned_on=None)
        .filter(
            Q(case__in=children_of(actor).values("pk"))
            | Q(child_missing=ChildMissing.PERSON, case__area__in=lead_areas(actor))
        )
        .select_related("case")
        .order_by("went_missing_on", "went_missing_time", "pk")
    )


def missing_now(actor: Actor) -> QuerySet[MissingEpisode]:
    """Everyone the actor may see who is missing now, longest missing first."""
    return (
        missing_episodes_visible_to(actor)
        .filter(returned_on=None)
        .order_by("went_missing_on", "went_missing_time", "pk")
    )


def support_export(case: cases.Case) -> dict[str, Any]:
    """The person's support plan, services delivered and missing episodes, in words, for a
    subject access export (`privacy.selectors.subject_access_data`, which is audited)."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    def clock(value: Any) -> str | None:
        return value.strftime("%H:%M") if value else None

    plan = SupportPlan.objects.filter(case=case).first()
    return {
        "support_plan": None
        if plan is None
        else [
            {
                "measure": Measure(item.measure).label,
                "status": MeasureStatus(item.status).label,
                "starts_on": day(item.starts_on),
                "ends_on": day(item.ends_on),
                "provided_by": item.provider.name if item.provider else item.outside_provider,
                "notes": item.notes,
            }
            for item in plan.measures.select_related("provider").order_by("pk")
        ],
        "services_delivered": [
            {
                "delivered_on": day(item.delivered_on),
                "measure": Measure(item.measure).label,
                "delivered_by": item.provider.name if item.provider else item.outside_provider,
                "what": item.description,
            }
            for item in deliveries_of(case).order_by("delivered_on", "pk")
        ],
        "missing_episodes": [
            {
                "went_missing_on": day(item.went_missing_on),
                "went_missing_time": clock(item.went_missing_time),
                "last_seen": item.last_seen,
                "returned_on": day(item.returned_on),
                "returned_time": clock(item.returned_time),
            }
            for item in case.missing_episodes.order_by("went_missing_on", "pk")
        ],
        "places_to_keep_away_from": sorted(
            {
                str(zone.get("place") or zone.get("label") or "")
                for request in case.placement_requests.all()
                for zone in request.keep_away or []
            }
            | {area for request in case.placement_requests.all() for area in request.excluded_areas}
        ),
    }


def support_under_way(person: Any) -> dict[str, Exists]:
    """The ways support can still be under way for a person (an id, or `OuterRef` to one), in
    words: a request waiting for a place, a place offered or lived in, an open missing episode,
    or, for a child, children's services' open task to arrange their accommodation (a child's
    place is never a request for a place: ADR 25). Erasure and the retention period wait for
    all to end: the person's details and the places they must keep away from protect them
    until then."""
    from .models import MissingEpisode

    return {
        "a request for a place is open": Exists(
            PlacementRequest.objects.filter(case__person=person, status=PlacementRequestStatus.OPEN)
        ),
        "a place is offered or lived in": Exists(
            Placement.objects.holding_a_bed().filter(request__case__person=person)
        ),
        "they are reported missing": Exists(
            MissingEpisode.objects.filter(case__person=person, returned_on=None)
        ),
        "children's services are still arranging their accommodation": Exists(
            ChildrenServicesTask.objects.filter(case__person=person, status=TaskStatus.OPEN)
        ),
    }


def live_support_of(person_id: int) -> str:
    """What support is still under way for a person, in words ("" when none), in one query."""
    ways = list(support_under_way(person_id).items())
    found = (
        cases.Person.objects.filter(pk=person_id)
        .values(**{f"way_{n}": exists for n, (_, exists) in enumerate(ways)})
        .first()
        or {}
    )
    return "; ".join(words for n, (words, _) in enumerate(ways) if found.get(f"way_{n}"))
