"""Who may see which case. Every read of a case starts here, from who is acting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor, members_with_role, role_givers
from opennrm.accounts.models import Membership, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.lib import fields
from opennrm.notifications.selectors import unread_news
from opennrm.notifications.services import StandIn
from opennrm.policy.own_support import own_support
from opennrm.policy.profiles import NoProfileError, Requester, profile_for

from .choices import TREATED_AS_CHILD, AgeGroup, CaseStatus, ExploitationAgeGroup
from .models import Case, CaseEvent, CaseNarrative, Person


def safeguarding_lead_areas(actor: Actor) -> list[str]:
    """The areas whose children the actor safeguards: those of the local authorities and child
    guardian services where they are a safeguarding lead. The one definition, for the cases they
    see here, the local authority's caseload and the dependent children they are told of."""
    return list(_lead_memberships_for_children(actor).values_list("organisation__area", flat=True))


def _lead_memberships_for_children(actor: Actor) -> QuerySet[Membership]:
    """The actor's memberships as a safeguarding lead of a local authority or child guardian
    service with an area (`safeguarding_lead_areas`)."""
    return (
        actor.memberships()
        .filter(
            role=Role.SAFEGUARDING_LEAD,
            organisation__kind__in=[
                OrganisationKind.LOCAL_AUTHORITY,
                OrganisationKind.CHILD_GUARDIAN_SERVICE,
            ],
        )
        .exclude(organisation__area="")
    )


def cases_visible_to(actor: Actor) -> QuerySet[Case]:
    """Cases the actor may open, and why:

    - first responders: cases their organisation referred;
    - decision makers: cases routed to their competent authority;
    - safeguarding leads: children's cases in their organisation's area.
    Everyone else sees none (analysts get figures, never cases).
    """
    referrers = list(actor.organisations_as({Role.FIRST_RESPONDER}))
    authorities = list(actor.organisations_as(DECIDERS))
    safeguarding_areas = safeguarding_lead_areas(actor)
    condition = Q(pk__in=[])
    if referrers:
        condition |= Q(referring_organisation_id__in=referrers)
    if authorities:
        condition |= Q(competent_authority_id__in=authorities)
    if safeguarding_areas:
        condition |= Q(area__in=safeguarding_areas, age_group__in=TREATED_AS_CHILD)
    return Case.objects.filter(condition)


# Roles whose holders are told of cases they may not open, through apps this one may not read
# (a placement, a support plan, a missing episode), and the namespace of the pages that news
# links to (the support pages): their news of a case is theirs by that role only when it is such
# news. Referrer or decider news of a case links to the case's pages, which they cannot open.
_TOLD_OF_CASES_THEY_CANNOT_OPEN = frozenset({Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER})
_WHERE_THEIR_NEWS_LINKS = "support"

# What a safeguarding lead is told of a case of their area whose page they may not open (an
# adult's), and where it links: its dependent children (the children of their area, `safety:`),
# a child who turned 18 or was found an adult (their caseload or open task, `safeguarding:`),
# the return of a person reported missing as a child (the missing episode). Their news of a
# child's case links to its page, which opens for them while the person is treated as a child
# (`cases_visible_to`); any other news of an adult's case is a referrer's or decider's.
_WHERE_LEADS_NEWS_LINKS = frozenset({"safeguarding", "safety"})
_LEADS_PAGES_ELSEWHERE = frozenset({"support:missing_episode"})


def _page_of(link: str) -> tuple[str, str]:
    """The namespace and the view name of the page `link` (a notification's path, perhaps with
    a query) opens; empty for a link that opens none."""
    try:
        match = resolve(urlsplit(link).path)
    except Resolver404:
        return "", ""
    return match.namespace, match.view_name


def _links_to(link: str, namespace: str) -> bool:
    """Whether `link` (a notification's path, perhaps with a query) opens a page of
    `namespace`."""
    return _page_of(link)[0] == namespace


def _links_where_leads_are_told(link: str) -> bool:
    """Whether `link` opens a page a safeguarding lead is sent about an adult's case of their
    area (`_WHERE_LEADS_NEWS_LINKS`, `_LEADS_PAGES_ELSEWHERE`)."""
    namespace, view_name = _page_of(link)
    return namespace in _WHERE_LEADS_NEWS_LINKS or view_name in _LEADS_PAGES_ELSEWHERE


def may_hear_of_case(user: User, case_id: int, link: str = "") -> bool:
    """Whether news of the case, linking to `link`, is still `user`'s to hear of:
    `cases_heard_of` asked of one pair (told at some moment)."""
    return (case_id, link) in cases_heard_of(user, {(case_id, link)})


def _lead_since(actor: Actor) -> dict[str, datetime]:
    """The areas whose children the actor safeguards (`safeguarding_lead_areas`), each with
    when they first became a safeguarding lead there among the memberships they hold now."""
    since: dict[str, datetime] = {}
    for area, started in _lead_memberships_for_children(actor).values_list(
        "organisation__area", "created_at"
    ):
        since[area] = min(since.get(area, started), started)
    return since


def cases_heard_of(
    user: User, pairs: set[tuple[int, str]]
) -> dict[tuple[int, str], datetime | None]:
    """Of `pairs` (a case's id, the link of news of it), those whose news is still `user`'s
    (registered with `notifications.case_readers` by this app's `AppConfig.ready()`; the
    notifications page, its counts and the worker's e-mail all ask it): they may open the case
    (`cases_visible_to`); or the news is what a safeguarding lead is told of a case of their
    area whose page they may not open (it links to the children of their area, their caseload or
    task, or a missing episode: an adult's dependent children, a child who has turned 18 or was
    found an adult, the return of a person reported missing as a child) and they are a
    safeguarding lead of its area; or the news is what a support coordinator or safe-house
    manager is told (it links to the support pages: a placement, a support plan, a missing
    episode) and they hold one of those roles. Someone who moved to another organisation holds
    a role in force, but not one through which the case they were told of is theirs: not them.
    A first responder who became a support provider's coordinator, or the safeguarding lead of
    her area, does not hear her old force's news of an adult's case: it links to the case's
    pages, which do not open for her. Nor does a lead hear, once the person is an adult, the
    news of their case she was sent while they were a child: it links to the case page too
    (she was told of the change with a link to her caseload; while her council holds their
    children's services task the safeguarding app keeps it for her, ADR 0025, addendum of stop
    42).

    Each pair heard comes with the moment from which news told is theirs (None: whenever).
    What a lead hears by the area rule alone was told her as a lead, so only from when she
    became a lead of the case's area: a support coordinator told of an adult's missing episode
    who later became the council's lead for the area does not keep that news, which was a
    coordinator's (and whose episode may not open for her); ADR 0008, addendum of stop 42.

    Coordinators are told nationally (they place people anywhere), so any coordinator may
    hear a coordinator's news; a safe-house manager who moved to another provider is still
    let through for the first provider's, as nothing here says which provider's it was
    (ADR 0008, addendum of stop 38).

    Asked once for all the pairs, in a fixed number of queries however many there are (the
    actor's roles, the cases among them they may open, those of their areas among the rest that
    link where leads are told); the links are read in memory (ADR 0008, addenda of stop 41)."""
    if not pairs:
        return {}
    actor = Actor.of_session(user)
    heard: dict[tuple[int, str], datetime | None] = {}
    if actor.has_any_role(_TOLD_OF_CASES_THEY_CANNOT_OPEN):
        heard = dict.fromkeys(pair for pair in pairs if _links_to(pair[1], _WHERE_THEIR_NEWS_LINKS))
    asked = {case_id for case_id, _link in pairs - set(heard)}
    if not asked:
        return heard
    theirs = set(cases_visible_to(actor).filter(pk__in=asked).values_list("pk", flat=True))
    heard |= dict.fromkeys(pair for pair in pairs if pair[0] in theirs)
    leads_news = {pair for pair in pairs - set(heard) if _links_where_leads_are_told(pair[1])}
    since = _lead_since(actor) if leads_news else {}
    if since:
        area_of = dict(
            Case.objects.filter(
                pk__in={case_id for case_id, _link in leads_news}, area__in=list(since)
            ).values_list("pk", "area")
        )
        heard |= {pair: since[area_of[pair[0]]] for pair in leads_news if pair[0] in area_of}
    return heard


def cases_referred_by_organisations_of(actor: Actor) -> QuerySet[Case]:
    return Case.objects.filter(
        referring_organisation_id__in=list(actor.organisations_as({Role.FIRST_RESPONDER}))
    ).order_by("-submitted_at")


def children_newly_referred_count(actor: Actor) -> int:
    """Children's cases in the safeguarding lead's area referred since they last looked: those
    whose notification they have not opened yet (the list it links to,
    `notifications:list?show=children`, is that query). What the local authority must do for
    them is counted by the caseload (`safeguarding.selectors.children_needing_action_count`)."""
    children = cases_visible_to(actor).filter(age_group__in=TREATED_AS_CHILD)
    return (
        unread_news(actor.user, "children")
        .filter(case__in=children)
        .values("case")
        .distinct()
        .count()
    )


def case_get_for_user(actor: Actor, reference: str) -> Case:
    try:
        return (
            cases_visible_to(actor)
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
    actor: Actor, *, name: str | None = None, date_of_birth: date | None = None
) -> QuerySet[Person]:
    """People in cases the actor may open whose whole name and/or date of birth match exactly,
    ignoring case, accents and spacing, found through the blind indexes: nothing is decrypted.

    The name is compared whole ("given names family name"); aliases are not indexed. Digests
    under every configured blind-index key are accepted, so a search keeps working while
    `rotate_keys` recomputes them under a new key. With neither criterion, nobody matches.
    """
    condition = identity_match(name=name, date_of_birth=date_of_birth)
    if condition is None:
        return Person.objects.none()
    visible = cases_visible_to(actor).values("person_id")
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


# How many cases one page of search results shows.
SEARCH_PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseSearch:
    """What to look for: every criterion given must match (an empty one is left out). The
    reference is compared exactly; the name (whole: given names and family name) and the date
    of birth through the blind indexes, exactly but ignoring case, accents and spacing."""

    reference: str = ""
    name: str = ""
    date_of_birth: date | None = None
    nationality: str = ""
    status: str = ""

    @property
    def names_a_person(self) -> bool:
        """Whether the search picks out a person (by reference, name or date of birth), as
        against a list of cases by nationality or status."""
        return bool(self.reference or self.name or self.date_of_birth)

    @property
    def criteria(self) -> list[str]:
        """The criteria used, by name (never their values): for the audit trail."""
        given = {
            "reference": self.reference,
            "name": self.name,
            "date_of_birth": self.date_of_birth,
            "nationality": self.nationality,
            "status": self.status,
        }
        return [name for name, value in given.items() if value]


def cases_matching(actor: Actor, search: CaseSearch) -> QuerySet[Case]:
    """The cases the actor may open (`cases_visible_to`) that match the search, newest first;
    none when the search has no criterion. Nothing is decrypted to search: the name and date
    of birth go through the blind indexes (`identity_match`), and aliases are not searched.

    A nationality matches either of the person's two nationalities (the referral records at
    most two)."""
    if not search.criteria:
        return Case.objects.none()
    found = cases_visible_to(actor)
    if search.reference:
        found = found.filter(reference=search.reference.strip().upper())
    if search.name or search.date_of_birth:
        condition = identity_match(name=search.name or None, date_of_birth=search.date_of_birth)
        if condition is None:
            return Case.objects.none()
        found = found.filter(person__in=Person.objects.filter(condition))
    if search.nationality:
        found = found.filter(
            Q(person__nationalities__0=search.nationality)
            | Q(person__nationalities__1=search.nationality)
        )
    if search.status:
        found = found.filter(status=search.status)
    return found.order_by("-submitted_at", "-pk")


def cases_search_page(actor: Actor, search: CaseSearch, page: int = 1) -> tuple[list[Case], bool]:
    """One page of `cases_matching` (from 1), and whether more follow. Not counted: a count of
    every match would read them all, at a million cases. The person's identity is fetched with
    the cases only when the search names a person, the only results that show it."""
    start = (max(page, 1) - 1) * SEARCH_PAGE_SIZE
    found = cases_matching(actor, search)
    if search.names_a_person:
        found = found.select_related("person__identity")
    rows = list(found[start : start + SEARCH_PAGE_SIZE + 1])
    return rows[:SEARCH_PAGE_SIZE], len(rows) > SEARCH_PAGE_SIZE


def may_decide(actor: Actor, case: Case) -> bool:
    return case.competent_authority_id in actor.organisations_as(DECIDERS)


# The timeline entries about drafts of decisions (`decisions.services`: awaiting a second decision
# maker's approval, or refused it): the competent authority's drafts, not decisions (ADR 0017,
# addendum of stop 37), shown to the same readers as the drafts themselves.
DRAFT_EVENT_KINDS = ("decision.awaiting_approval", "decision.not_approved")


def timeline_shown(actor: Actor | None, case: Case) -> QuerySet[CaseEvent]:
    """The case's timeline as `actor` may read it: every entry for the decision makers of its
    competent authority, the others without the entries about drafts. None: a reader who never
    decides (the referring organisation through its API)."""
    events = case.events.all()
    if actor is None or not may_decide(actor, case):
        events = events.exclude(kind__in=DRAFT_EVENT_KINDS)
    return events


def came_of_age_on(case: Case) -> date | None:
    """The day the case moved to the adult pathway because the person turned 18
    (`safeguarding.coming_of_age`), or None. Coming of age is the case's first change of age
    group, child to adult, and leaves "a child when the exploitation began"
    (`services.case_age_group_change`); an assessment finding a child an adult leaves "not
    known" or what the referrer answered before (ADR 0042). The adult periods of a care leaver
    count from this day (`decisions.services`), a consent they were never asked is not a
    refusal (`care.selectors.came_of_age_unasked`); `statistics.dp` reads the same in SQL."""
    if case.age_group != AgeGroup.ADULT:
        return None
    if case.age_group_at_exploitation != ExploitationAgeGroup.CHILD:
        return None
    first = case.events.filter(kind="case.age_group_changed").order_by("at", "pk").first()
    if first is None or (first.data.get("from"), first.data.get("to")) != (
        AgeGroup.CHILD,
        AgeGroup.ADULT,
    ):
        return None
    return timezone.localdate(first.at)


def is_referrer(actor: Actor, case: Case) -> bool:
    """Whether the actor refers for the organisation that referred the case."""
    return case.referring_organisation_id in actor.organisations_as({Role.FIRST_RESPONDER})


def referrers_to_tell(case: Case) -> list[User]:
    """Who hears news of a case on the referring side: the first responder who referred it,
    while they still refer for that organisation; once their membership has been removed, the
    organisation's first responders instead, so that the news reaches someone who may act on it
    and never someone who no longer may (the link would be a 404 for them)."""
    responders = members_with_role(case.referring_organisation_id, {Role.FIRST_RESPONDER})
    if responders.filter(user_id=case.referred_by_id).exists():
        return [case.referred_by]
    return [m.user for m in responders.select_related("user")]


def referrers_stand_in(case: Case) -> StandIn:
    """Who is told instead, when the referring organisation has no first responder left to
    hear news of the case (`referrers_to_tell` is empty), and what: its administrators, who can
    give someone the role (else the system administrators, who can in any organisation), that
    news of its referrals waits for a first responder. They may not open the case, so the
    notice names no case, status or person and links to the organisation's members (ADR 8).
    For `notifications.services.deliver(stand_in=...)`."""
    organisation = case.referring_organisation
    return StandIn(
        recipients=role_givers(organisation.pk),
        kind="referrals.no_first_responder",
        subject=f"{organisation.name} has no first responder to hear news of its referrals",
        body=f"There is news of a case that {organisation.name} referred, but nobody there has "
        "the first responder role now, so nobody could be told. Give a member the first "
        "responder role: they will see the organisation's cases and what has happened on them. "
        "This message says no more because only a first responder may read a case.",
        url=reverse("accounts:member_list", args=[organisation.pk]),
    )


def deciders_to_tell(case: Case) -> list[User]:
    """Who hears news a decision maker must act on: the one the case is assigned to, while they
    still decide at its competent authority; otherwise every decision maker there."""
    deciders = members_with_role(case.competent_authority_id, DECIDERS)
    if case.assigned_to_id is not None and deciders.filter(user_id=case.assigned_to_id).exists():
        return [case.assigned_to]  # type: ignore[list-item]
    return [m.user for m in deciders.select_related("user")]


def reconsideration_open(case: Case) -> bool:
    """Whether a negative decision's window for asking is open today (not offered once it has
    closed: the request would be refused)."""
    return (
        case.status
        in (
            CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
            CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
            CaseStatus.DISQUALIFIED,
        )
        and case.reconsideration_until is not None
        and timezone.localdate() <= case.reconsideration_until
    )


def reconsideration_requesters(case: Case) -> tuple[Requester, ...]:
    """Who may ask for a reconsideration of this case's decisions under the rules in force
    today (the profile's `reconsideration_requesters`); nobody where no profile is in force."""
    try:
        return profile_for(case.jurisdiction, timezone.localdate()).reconsideration_requesters
    except NoProfileError:
        return ()


def may_request_reconsideration(actor: Actor, case: Case) -> bool:
    """The referrer's organisation may ask while a negative decision's window is open, where
    the rules let referrers ask. (A support provider asks from the support plan:
    `care.views.reconsideration_request`.)"""
    return (
        is_referrer(actor, case)
        and reconsideration_open(case)
        and Requester.REFERRER in reconsideration_requesters(case)
    )


# The clocks that run in each status, in the order they fall due: the case page marks them as
# current and the referral list shows the first still ahead as the case's next deadline.
# `support_ends`, the jurisdiction's own support period, is current where its date is an end in
# the case's status (`own_support_ends`), which depends on the jurisdiction too.
CURRENT_CLOCKS: dict[str, tuple[str, ...]] = {
    CaseStatus.AWAITING_REASONABLE_GROUNDS: ("reasonable_grounds_due",),
    CaseStatus.RG_SUSPENDED: ("reasonable_grounds_due",),
    CaseStatus.RECOVERY_PERIOD: ("recovery_period_ends", "conclusive_grounds_from"),
    CaseStatus.NEGATIVE_REASONABLE_GROUNDS: ("reconsideration_until",),
    CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS: ("reconsideration_until", "move_on_ends"),
    CaseStatus.DISQUALIFIED: ("reconsideration_until",),
    CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS: ("move_on_ends",),
    CaseStatus.RECONSIDERATION: ("reconsideration_decide_by",),
}

# An adult's support (move-on after a conclusive decision, the jurisdiction's own period from a
# positive reasonable grounds decision: Scotland's s.9, Northern Ireland's s.18): not shown to
# run for a child or a person whose age is disputed, whose support is the local authority's.
# Kept on the case, not cleared: an age assessment that finds an adult brings them back.
ADULT_SUPPORT_CLOCKS = frozenset({"move_on_ends", "support_ends"})

CLOCK_LABELS: dict[str, str] = {
    "reasonable_grounds_due": "Reasonable grounds decision due",
    "recovery_period_ends": "Recovery period ends",
    "conclusive_grounds_from": "Conclusive grounds decision possible from",
    "reconsideration_until": "Reconsideration can be asked for until",
    "reconsideration_decide_by": "Reconsideration to be decided by",
    "move_on_ends": "Move-on support ends",
    # Named for the case's jurisdiction (`policy.own_support`) by `clocks_of`.
    "support_ends": "Support under the jurisdiction's own law ends",
}


# What `adult_support_end` calls the support a conclusive decision starts.
MOVE_ON = "move-on support"


def own_support_ends(case: Case) -> date | None:
    """`Case.support_ends` where, in the case's status, it is the end of the support the
    jurisdiction's own law gives (`policy.own_support`): in the recovery period where a
    conclusive decision cuts it short (Scotland's s.9), after a positive conclusive decision
    where support runs until that decision (Northern Ireland's s.18: before it, the date is no
    end). None otherwise."""
    ends_in = (
        CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
        if own_support(case.jurisdiction).until_conclusive_decision
        else CaseStatus.RECOVERY_PERIOD
    )
    return case.support_ends if case.status == ends_in else None


def adult_support_end(case: Case) -> tuple[date, str] | None:
    """The last day of the adult support running in the case's status, and what support it is:
    the move-on support a conclusive decision started, or the jurisdiction's own support where
    its date is then an end (`own_support_ends`; Northern Ireland's profiles set no move-on, so
    after a positive conclusive decision s.18 is the support that runs). None for a person
    treated as a child, whose support is the local authority's (`ADULT_SUPPORT_CLOCKS`), or
    when no adult support period applies."""
    if case.is_child:
        return None
    ends = [
        (day, what)
        for day, what in (
            (case.move_on_ends, MOVE_ON),
            (own_support_ends(case), own_support(case.jurisdiction).noun),
        )
        if day is not None
    ]
    return max(ends) if ends else None


def clocks_of(case: Case) -> list[dict[str, object]]:
    """The case's stored deadlines, with days remaining (negative when passed), each marked
    `current` if it runs in the case's status."""
    today = timezone.localdate()
    current = list(CURRENT_CLOCKS.get(case.status, ()))
    own = own_support(case.jurisdiction)
    if own_support_ends(case) is not None:
        current.append("support_ends")
    rows = []
    for name, label in CLOCK_LABELS.items():
        day = getattr(case, name)
        if day is None:
            continue
        if name == "reasonable_grounds_due" and name not in current:
            continue  # a target met or overtaken: only shown while the decision is awaited
        if name == "reconsideration_decide_by" and name not in current:
            continue
        if name in ADULT_SUPPORT_CLOCKS and case.is_child:
            continue
        row: dict[str, object] = {
            "name": name,
            "label": label,
            "date": day,
            "days_left": (day - today).days,
            "current": name in current,
        }
        if name == "support_ends":
            row["label"] = own.clock_label
            if own.note:
                row["note"] = own.note
            # Support runs until the conclusive decision, still awaited: the date is no end yet
            # (Northern Ireland's s.18(3)), only the least a positive decision would give.
            row["until_decision"] = (
                own.until_conclusive_decision and case.status == CaseStatus.RECOVERY_PERIOD
            )
        rows.append(row)
    return rows


def next_deadline(case: Case) -> dict[str, object] | None:
    """The clock the case is running now: the first current one not yet passed, else the last
    current one (passed). The referral list shows it, so it always matches the case page."""
    current = [row for row in clocks_of(case) if row["current"]]
    if not current:
        return None
    ahead = [row for row in current if int(row["days_left"]) >= 0]  # type: ignore[call-overload]
    if ahead:
        return min(ahead, key=lambda row: int(row["days_left"]))  # type: ignore[call-overload]
    return current[-1]


def referral_details(case: Case) -> str:
    """What the first responder wrote under immediate needs ("women only; keep away from
    ..."): free text about the person, shown to whoever places them (the coordinator, the
    provider, the local authority for a child), so whoever shows it calls `audit_read` with the
    field `immediate_needs_details`. "" when nothing was written."""
    try:
        narrative = case.narrative  # select_related("...case__narrative") saves a query a row
    except CaseNarrative.DoesNotExist:
        return ""
    return narrative.immediate_needs_details.strip()
