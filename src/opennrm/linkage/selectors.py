"""Reads of linkage results, starting from who asks.

A pair is a decision maker's to review when both its referrals were routed to a competent
authority they decide for: they may already see both cases. Nobody else learns that a pair
exists (a first responder must learn nothing of another organisation's referral).
"""

from __future__ import annotations

from django.db.models import QuerySet

from opennrm.accounts.actor import DECIDERS, Actor

from .models import OPEN_STATUSES, CandidatePair, LinkageModel


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
