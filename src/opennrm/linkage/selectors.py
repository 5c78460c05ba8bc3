"""Reads of linkage results, starting from who asks.

A pair is a decision maker's to review when its later referral was routed to a competent
authority they decide for: the authority deciding the repeat referral is the one that must
know of the earlier one (possible re-trafficking), and it sees both records on the pair's page
(each read audited), though not the earlier referral's case page when that went to another
authority. When both went to one authority that is the authority of both. Nobody else learns
that a pair exists (a first responder must learn nothing of another organisation's referral)
(ADR 0049, addendum of stop 39).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor
from opennrm.cases.models import Case, CaseNarrative
from opennrm.cases.selectors import cases_visible_to

from . import charts
from .models import (
    OPEN_STATUSES,
    CandidatePair,
    ClusterMember,
    LinkageModel,
    LinkageRun,
    PairStatus,
)
from .prepare import RawRecord


def pairs_for_review(actor: Actor) -> QuerySet[CandidatePair]:
    """The pairs whose later referral (by submission, then id, as the pair page orders them)
    was routed to an authority the actor decides for. A pair across two authorities is so
    answered by the later referral's, which would otherwise never be told of it, and by a
    decision maker of both; not by one of the earlier referral's alone (ADR 0049, addendum of
    stop 39)."""
    authorities = actor.organisation_ids_as(DECIDERS)
    # `case_a` has the lower id, so on the same submission time `case_b` is the later.
    a_later = Q(case_a__submitted_at__gt=F("case_b__submitted_at"))
    b_later = Q(case_a__submitted_at__lte=F("case_b__submitted_at"))
    return CandidatePair.objects.filter(
        (a_later & Q(case_a__competent_authority_id__in=authorities))
        | (b_later & Q(case_b__competent_authority_id__in=authorities))
    )


def open_pairs_for_review(actor: Actor) -> QuerySet[CandidatePair]:
    """The pairs waiting for the actor's authority's answer, strongest first. Whether each is
    already linked through other referrals the actor may review is `pairs_linked_already`
    (for a page of them)."""
    return (
        pairs_for_review(actor)
        .filter(status__in=OPEN_STATUSES)
        .select_related(
            "case_a__referring_organisation", "case_b__referring_organisation", "run__model"
        )
        .order_by("-match_weight", "id")
    )


def _joined_for(actor: Actor, cluster_id: int) -> tuple[dict[int, int], list[CandidatePair]]:
    """The members of a cluster the actor may know of (routed to an authority they decide
    for, or in a confirmed pair they may review: `pairs_for_review`), grouped by what joins
    them that the actor may review too: the confirmed pairs among them the actor may review,
    and being linked through one erased referral (ADR 0052), for members the actor may open.
    Returns each such case's group (a case id standing for it) and the confirmed pairs. A link
    through a referral the actor may neither open nor review a pair of joins nobody here: the
    actor must not learn that it exists (ADR 0049, addenda of stops 37 and 39)."""
    authorities = set(actor.organisation_ids_as(DECIDERS))
    rows = list(
        ClusterMember.objects.filter(cluster_id=cluster_id).values_list(
            "case_id", "linked_through_erased", "case__competent_authority_id"
        )
    )
    in_cluster = [case_id for case_id, _, _ in rows]
    confirmed = list(
        pairs_for_review(actor)
        .filter(status=PairStatus.CONFIRMED, case_a_id__in=in_cluster, case_b_id__in=in_cluster)
        .select_related("case_a", "case_b")
        .order_by("case_a_id", "case_b_id")
    )
    members = {case_id: token for case_id, token, authority in rows if authority in authorities}
    # The earlier referral of a pair routed to the actor's authority, routed itself to
    # another: known to the actor from that pair's page, but not its links through erased
    # referrals, which they may not see.
    for pair in confirmed:
        for case_id in (pair.case_a_id, pair.case_b_id):
            members.setdefault(case_id, None)
    parent = {case_id: case_id for case_id in members}

    def root(case_id: int) -> int:
        while parent[case_id] != case_id:
            parent[case_id] = parent[parent[case_id]]
            case_id = parent[case_id]
        return case_id

    for pair in confirmed:
        parent[root(pair.case_a_id)] = root(pair.case_b_id)
    first_of: dict[int, int] = {}
    for case_id, token in members.items():
        if token is not None:
            parent[root(case_id)] = root(first_of.setdefault(token, case_id))
    return {case_id: root(case_id) for case_id in members}, confirmed


def _cluster_of_both(one_id: int, other_id: int) -> int | None:
    return (
        ClusterMember.objects.filter(case_id=one_id, cluster__members__case_id=other_id)
        .values_list("cluster_id", flat=True)
        .first()
    )


def linked_through_others(actor: Actor, one_id: int, other_id: int) -> bool:
    """Whether two cases are linked as one person by links the actor may review: a path of
    confirmed pairs (or one erased referral) between them, every pair on it one the actor may
    review (`_joined_for`). What the pair pages say and the answers refused go by this, not by
    the whole cluster, which may hold a referral of another authority (ADR 0049, addenda of
    stops 37 and 39)."""
    cluster_id = _cluster_of_both(one_id, other_id)
    if cluster_id is None:
        return False
    group, _ = _joined_for(actor, cluster_id)
    return one_id in group and group[one_id] == group.get(other_id)


def links_between(actor: Actor, one_id: int, other_id: int) -> list[CandidatePair]:
    """The confirmed pairs the actor may unlink that join two cases linked through others
    (`linked_through_others`): what to unlink before answering "Not the same person". Empty
    when they are not linked so."""
    cluster_id = _cluster_of_both(one_id, other_id)
    if cluster_id is None:
        return []
    group, confirmed = _joined_for(actor, cluster_id)
    if one_id not in group or group[one_id] != group.get(other_id):
        return []
    return [pair for pair in confirmed if group[pair.case_a_id] == group[one_id]]


def pairs_linked_already(actor: Actor, pairs: Iterable[CandidatePair]) -> set[int]:
    """Which of these pairs (a page of the queue) join two cases already linked through other
    referrals the actor may review (`linked_through_others`): they can be answered "Same
    person", but not "Not the same person" until those are unlinked."""
    pairs = list(pairs)
    cluster_of = dict(
        ClusterMember.objects.filter(
            case_id__in={case_id for p in pairs for case_id in (p.case_a_id, p.case_b_id)}
        ).values_list("case_id", "cluster_id")
    )
    found = set()
    groups: dict[int, dict[int, int]] = {}
    for p in pairs:
        cluster_id = cluster_of.get(p.case_a_id)
        if cluster_id is None or cluster_id != cluster_of.get(p.case_b_id):
            continue
        if cluster_id not in groups:
            groups[cluster_id] = _joined_for(actor, cluster_id)[0]
        group = groups[cluster_id]
        if p.case_a_id in group and group[p.case_a_id] == group.get(p.case_b_id):
            found.add(p.pk)
    return found


def open_pairs_count(actor: Actor) -> int:
    """How many pairs wait for the actor's answer (the home page's count of the queue)."""
    return pairs_for_review(actor).filter(status__in=OPEN_STATUSES).count()


def open_pairs_of_case(actor: Actor, case: Case) -> QuerySet[CandidatePair]:
    """The open pairs with this case in them that the actor may review: the "possible earlier
    referral" flag. Empty for anyone who may not review them (a first responder above all)."""
    return open_pairs_for_review(actor).filter(Q(case_a=case) | Q(case_b=case))


def cases_openable(actor: Actor, case_ids: Iterable[int]) -> set[int]:
    """Which of these cases the actor may open: the pair page links only those to their case
    page (the earlier referral of a pair across two authorities stays the other's)."""
    return set(cases_visible_to(actor).filter(pk__in=list(case_ids)).values_list("pk", flat=True))


def cases_with_open_pairs(actor: Actor, case_ids: list[int]) -> set[int]:
    """Which of these cases are in a pair the actor may review and nobody has answered."""
    found = (
        pairs_for_review(actor)
        .filter(status__in=OPEN_STATUSES)
        .filter(Q(case_a_id__in=case_ids) | Q(case_b_id__in=case_ids))
        .values_list("case_a_id", "case_b_id")
    )
    return {case_id for pair in found for case_id in pair} & set(case_ids)


def linked_cases(actor: Actor, case: Case) -> QuerySet[Case]:
    """The other referrals in the case's identity cluster that the actor may open (whoever
    may see both sees the link). Of a referral they may not open, only the earlier one of a
    confirmed pair they may review is named, by `linked_elsewhere`."""
    cluster = ClusterMember.objects.filter(case=case).values("cluster_id")
    members = ClusterMember.objects.filter(cluster_id__in=cluster).exclude(case=case)
    return (
        cases_visible_to(actor)
        .filter(pk__in=members.values("case_id"))
        .select_related("referring_organisation")
        .order_by("submitted_at", "pk")
    )


def linked_elsewhere(actor: Actor, case: Case) -> list[Case]:
    """The other referrals linked to the case as one person that the actor may not open but
    knows of: joined to it by confirmed pairs the actor may review (`linked_through_others`),
    so held by another competent authority, the earlier referral of a pair across two
    authorities (ADR 0049, addenda of stops 39 and 41). Their case pages stay their own
    authority's; the case page names them, who referred them, when and where they are held,
    never a detail of the person. Empty for anyone who reviews no such pair (a first
    responder above all), and a referral joined only through a pair the actor may not review
    is not named."""
    cluster_id = (
        ClusterMember.objects.filter(case=case).values_list("cluster_id", flat=True).first()
    )
    if cluster_id is None:
        return []
    group, _ = _joined_for(actor, cluster_id)
    if case.pk not in group:
        return []
    joined = [
        case_id for case_id, root in group.items() if root == group[case.pk] and case_id != case.pk
    ]
    hidden = set(joined) - cases_openable(actor, joined)
    if not hidden:
        return []
    return list(
        Case.objects.filter(pk__in=hidden)
        .select_related("referring_organisation", "competent_authority")
        .order_by("submitted_at", "pk")
    )


def cases_linked(one_id: int, other_id: int) -> bool:
    """Whether two cases are in one identity cluster: a decision maker has said they are one
    person, by a pair between them or through other referrals. For the services and the tests:
    what a page tells a user goes by `linked_through_others`, which leaves out links they may
    not review."""
    return ClusterMember.objects.filter(case_id=one_id, cluster__members__case_id=other_id).exists()


def links_export(case: Case) -> list[dict[str, Any]]:
    """The other referrals a decision maker has said are of the same person as `case` (its
    identity cluster), for the person's subject access export: each one's reference, whether a
    decision maker confirmed the two directly or they are linked through other referrals, and
    when the direct link was confirmed. Nothing else of the other referral (its organisation,
    its details): the export names the person's own referrals by reference, and a wrong link
    must not hand someone else's record over. Proposed, rejected and undone pairs are not
    links and are left out: they would name referrals nobody has said are this person's."""
    cluster = ClusterMember.objects.filter(case=case).values("cluster_id")
    others = (
        ClusterMember.objects.filter(cluster_id__in=cluster)
        .exclude(case=case)
        .select_related("case")
        .order_by("case__submitted_at", "case_id")
    )
    direct = {
        (first if second == case.pk else second): reviewed_at
        for first, second, reviewed_at in CandidatePair.objects.filter(
            Q(case_a=case) | Q(case_b=case), status=PairStatus.CONFIRMED
        ).values_list("case_a_id", "case_b_id", "reviewed_at")
    }
    return [
        {
            "reference": member.case.reference,
            "how": "Confirmed by a decision maker as the same person"
            if member.case_id in direct
            else "Linked through other referrals confirmed as the same person",
            "confirmed_at": timezone.localtime(direct[member.case_id]).isoformat(timespec="seconds")
            if direct.get(member.case_id)
            else None,
        }
        for member in others
    ]


def confirmed_pair_between(actor: Actor, one: Case, other: Case) -> CandidatePair | None:
    """The confirmed pair that links two cases directly, if the actor may review it."""
    first, second = sorted((one.pk, other.pk))
    return (
        pairs_for_review(actor)
        .filter(case_a_id=first, case_b_id=second, status=PairStatus.CONFIRMED)
        .first()
    )


# Match-probability bands for the quality page, lower bound included.
BANDS = [(0.0, 0.8), (0.8, 0.9), (0.9, 0.99), (0.99, 1.01)]


@dataclass(frozen=True)
class Tally:
    found: int
    open: int
    confirmed: int
    rejected: int
    unsure: int
    unlinked: int

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.rejected + self.unsure + self.unlinked

    @property
    def judged(self) -> int:
        """Answers that say whether the model was right: same person, or not (a link later
        undone counts as not)."""
        return self.confirmed + self.rejected + self.unlinked

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.judged if self.judged else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return charts.wilson(self.confirmed, self.judged)


def _tally(pairs: QuerySet[CandidatePair]) -> Tally:
    by_status = dict(pairs.values_list("status").annotate(n=Count("id")).order_by())
    return Tally(
        found=sum(by_status.values()),
        open=by_status.get(PairStatus.PROPOSED, 0),
        confirmed=by_status.get(PairStatus.CONFIRMED, 0),
        rejected=by_status.get(PairStatus.REJECTED, 0),
        unsure=by_status.get(PairStatus.UNSURE, 0),
        unlinked=by_status.get(PairStatus.UNLINKED, 0),
    )


def pairs_quality(actor: Actor) -> dict[str, Any]:
    """The actor's authority's pairs counted by answer, overall and by match-probability band,
    with the precision the reviews estimate (confirmed over confirmed and rejected)."""
    pairs = pairs_for_review(actor)
    bands = []
    for low, high in BANDS:
        tally = _tally(pairs.filter(match_probability__gte=low, match_probability__lt=high))
        bands.append({"low": low, "high": min(high, 1.0), "tally": tally})
    return {"all": _tally(pairs), "bands": bands}


def linkage_runs_latest(limit: int = 10) -> QuerySet[LinkageRun]:
    """The latest runs with their counts (counts and versions only: nothing about anyone)."""
    return LinkageRun.objects.select_related("model", "by")[:limit]


def model_parameters(model: LinkageModel) -> list[dict[str, Any]]:
    """Each comparison's levels in the model, with m and u probabilities and match weight as
    stored (a level with no estimate shows none; its weight is then splink's default, read
    by `engine.level_weights` as scoring reads it)."""
    from . import engine

    weights = engine.level_weights(model.splink_settings)["comparisons"]
    found = []
    for comparison in model.splink_settings.get("comparisons", []):
        name = comparison["output_column_name"]
        levels = []
        for level, read in zip(
            comparison["comparison_levels"], weights.get(name, []), strict=False
        ):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else read["match_weight"]
            levels.append(
                {
                    "label": level.get("label_for_charts", ""),
                    "m": m,
                    "u": u,
                    "match_weight": weight,
                    "bayes_factor": math.pow(2, weight),
                }
            )
        found.append({"name": charts.comparison_name(name), "levels": levels})
    return found


def model_prior(model: LinkageModel) -> float | None:
    prior = model.splink_settings.get("probability_two_random_records_match")
    return float(prior) if prior is not None else None


def pair_get_for_review(actor: Actor, pair_id: int) -> CandidatePair:
    """The pair, if the actor may review it; `CandidatePair.DoesNotExist` otherwise (missing
    and not allowed look the same)."""
    return pairs_for_review(actor).select_related("case_a", "case_b").get(pk=pair_id)


def linkage_model_current() -> LinkageModel | None:
    """The newest trained model: the one runs score with unless told to train."""
    return LinkageModel.objects.order_by("-version").first()


def linkable_cases() -> QuerySet[Case]:
    return Case.objects.filter(person__identity__isnull=False)


def identities_of(**where: Any) -> dict[int, int]:
    """The identity row of each linkable case `where` selects, by case id (the key a linkage
    key is stored under)."""
    return dict(linkable_cases().filter(**where).values_list("pk", "person__identity__id"))


def exploitation_places(case: Case) -> str:
    """The free text of where the person was exploited, or "" when the case has none."""
    try:
        return case.narrative.exploitation_places
    except CaseNarrative.DoesNotExist:
        return ""


def raw_record(case: Case) -> RawRecord:
    """A case's values for linkage, decrypted (its person's identity must exist)."""
    person = case.person
    identity = person.identity
    return RawRecord(
        record_id=case.pk,
        person_id=person.pk,
        given_names=identity.given_names,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        age_at_referral=person.age_at_referral,
        age_is_estimated=person.age_is_estimated,
        sex=person.sex,
        nationalities=list(person.nationalities or []),
        safe_contact=identity.safe_contact,
        area=case.area,
        first_contact=timezone.localdate(case.submitted_at),
        referring_organisation=str(case.referring_organisation_id),
        places=exploitation_places(case),
    )


def linkage_records(ids: list[int] | None = None) -> Iterator[RawRecord]:
    """For the linkage job and the check at submission only, never for a user: every referral
    (or those of `ids`) whose person still has an identity, decrypted one batch at a time. A
    pseudonymised person (identity erased) has nothing to link and is left out."""
    cases = (
        linkable_cases().select_related("person", "person__identity", "narrative").order_by("pk")
    )
    if ids is not None:
        cases = cases.filter(pk__in=ids)
    for case in cases.iterator(chunk_size=2000):
        yield raw_record(case)


# --- Uses of the links (ADR 0052) ---------------------------------------------------------


def cluster_people() -> list[tuple[int, int]]:
    """(person id, identity cluster id) for every case in a cluster: which people a decision
    maker has said are one. For the statistics' count of people; ids only, nothing decrypted."""
    from .models import ClusterMember

    return list(ClusterMember.objects.values_list("case__person_id", "cluster_id"))
