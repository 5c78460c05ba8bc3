"""A source of protection from removal (`protection.selectors.register_source`): referrals a
decision maker has confirmed are one person (an identity cluster) protect one another, as a
person's own referrals do. Registered from `LinkageConfig.ready()`: protection may not import
this app."""

from __future__ import annotations

from datetime import date

from opennrm.cases.models import Case
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
