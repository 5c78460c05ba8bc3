"""A source of protection from removal (`protection.selectors.register_source`): referrals a
decision maker has confirmed are one person (an identity cluster) protect one another, as a
person's own referrals do. Registered from `LinkageConfig.ready()`: protection may not import
this app. And the referrals that, so linked, make an erasure wait (`linked_referrals_holding`)."""

from __future__ import annotations

from datetime import date

from opennrm.cases.models import Case
from opennrm.protection.rules import nrm_protection
from opennrm.protection.selectors import Finding, case_by_reference, first_protecting

from .models import ClusterMember


def linked_source(reference: str, on: date) -> Finding | None:
    """None unless the reference's referral is linked to others (the case's own finding is
    `nrm_source`'s); else the first finding among them that protects, or the case's own."""
    case = case_by_reference(reference)
    if case is None:
        return None
    cluster = ClusterMember.objects.filter(case=case).values("cluster_id")
    members = ClusterMember.objects.filter(cluster_id__in=cluster).exclude(case=case)
    others = Case.objects.filter(pk__in=members.values("case_id"))
    if not others.exists():
        return None
    return first_protecting(case, others, on)


def linked_referrals_holding(case_ids: list[int], on: date) -> list[str]:
    """The references of the referrals confirmed as the same person as any of `case_ids` (one
    person's, whose details are to be erased) that are still open or still protect them from
    removal on `on`, in order. Erasure deletes the links (ADR 0052: a link from a pseudonymised
    referral would identify it again), and with them the protection those referrals give the
    erased one's reference (`linked_source`): so erasure waits for them."""
    clusters = ClusterMember.objects.filter(case_id__in=case_ids).values("cluster_id")
    members = ClusterMember.objects.filter(cluster_id__in=clusters).values("case_id")
    linked = Case.objects.filter(pk__in=members).exclude(pk__in=case_ids).order_by("reference")
    return [
        case.reference
        for case in linked
        if case.closed_at is None
        or nrm_protection(
            status=case.status,
            on=on,
            recovery_period_ends=case.recovery_period_ends,
            reconsideration_until=case.reconsideration_until,
        ).protected
    ]
