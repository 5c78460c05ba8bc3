"""Reads of linkage results, starting from who asks.

A pair is a decision maker's to review when both its referrals were routed to a competent
authority they decide for: they may already see both cases. Nobody else learns that a pair
exists (a first responder must learn nothing of another organisation's referral).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, Actor
from opennrm.cases.models import Case

from .models import OPEN_STATUSES, CandidatePair, LinkageModel
from .prepare import RawRecord


def pairs_for_review(actor: Actor) -> QuerySet[CandidatePair]:
    authorities = actor.organisations_as(DECIDERS)
    return CandidatePair.objects.filter(
        case_a__competent_authority_id__in=authorities,
        case_b__competent_authority_id__in=authorities,
    )


def open_pairs_for_review(actor: Actor) -> QuerySet[CandidatePair]:
    return pairs_for_review(actor).filter(status__in=OPEN_STATUSES)


def pair_get_for_review(actor: Actor, pair_id: int) -> CandidatePair:
    """The pair, if the actor may review it; `CandidatePair.DoesNotExist` otherwise (missing
    and not allowed look the same)."""
    return pairs_for_review(actor).select_related("case_a", "case_b").get(pk=pair_id)


def linkage_model_current() -> LinkageModel | None:
    """The newest trained model: the one runs score with unless told to train."""
    return LinkageModel.objects.order_by("-version").first()


def linkable_cases() -> QuerySet[Case]:
    return Case.objects.filter(person__identity__isnull=False)


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
    )


def linkage_records(ids: list[int] | None = None) -> Iterator[RawRecord]:
    """For the linkage job and the check at submission only, never for a user: every referral
    (or those of `ids`) whose person still has an identity, decrypted one batch at a time. A
    pseudonymised person (identity erased) has nothing to link and is left out."""
    cases = linkable_cases().select_related("person", "person__identity").order_by("pk")
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
