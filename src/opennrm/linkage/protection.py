"""A source of protection from removal (`protection.selectors.register_source`): referrals a
decision maker has confirmed are one person (an identity cluster) protect one another, as a
person's own referrals do. Registered from `LinkageConfig.ready()`: protection may not import
this app. And the referrals that, so linked, make an erasure wait (`linked_referrals_holding`,
`held_by_linked_referral`).

A link reaches people, not only the referrals linked: a referral confirmed as the same person
brings with it every other referral of its `Person` (a person referred again, ADR 0052), and
the person checked or erased brings all of theirs (`linked_cases`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Exists, QuerySet

from opennrm.cases.choices import CaseStatus as S
from opennrm.cases.models import Case
from opennrm.cases.state import TRANSITIONS
from opennrm.protection.rules import nrm_protection
from opennrm.protection.selectors import Finding, case_by_reference, first_protecting


def linked_cases(person: Any) -> QuerySet[Case]:
    """The referrals of other people confirmed as the same person as `person` (an id, or
    `OuterRef` to one): every referral of each person one of whose referrals shares an
    identity cluster with one of `person`'s. May repeat a case (one row per path)."""
    return Case.objects.filter(
        person__cases__identity_cluster__cluster__members__case__person=person
    ).exclude(person=person)


def linked_source(reference: str, on: date) -> Finding | None:
    """None unless the reference's person is linked to others (the person's own referrals are
    `nrm_source`'s); else the first finding among the linked referrals that protects, or the
    case's own."""
    case = case_by_reference(reference)
    if case is None:
        return None
    others = Case.objects.filter(pk__in=linked_cases(case.person_id).values("pk"))
    if not others.exists():
        return None
    return first_protecting(case, others, on)


def _may_protect(status: S) -> bool:
    """Whether a case in `status` protects on some day (`protection.rules.nrm_protection`),
    asked with its dates unknown and with them still to come."""
    return any(
        nrm_protection(
            status=status, on=date.min, recovery_period_ends=end, reconsideration_until=end
        ).protected
        for end in (None, date.max)
    )


def _holding_statuses() -> frozenset[S]:
    """The statuses in which a case protects, or from which the case's state machine
    (`cases.state.TRANSITIONS`) can still reach one that does: a refusal that may be
    reconsidered, say. Not a positive conclusive grounds decision, a withdrawal or a closed
    case: nothing leads from them to protection again."""
    holding = {status for status in S if _may_protect(status)}
    while more := {s for s, then in TRANSITIONS.items() if then & holding} - holding:
        holding |= more
    return frozenset(holding)


# A linked referral in one of these holds the erasure of the person it is linked to.
HOLDING_STATUSES = _holding_statuses()


def _holding(person: Any) -> QuerySet[Case]:
    return linked_cases(person).filter(status__in=HOLDING_STATUSES)


def linked_referrals_holding(person_id: int) -> list[Case]:
    """The referrals confirmed as the same person as `person_id` (whose details are to be
    erased) that protect them from removal, or may again (`HOLDING_STATUSES`), with their
    competent authority, in order of reference. Erasure deletes the links (ADR 0052: a link from
    a pseudonymised referral would identify it again), and with them the protection those
    referrals give the erased one's references (`linked_source`): so erasure waits for them."""
    return list(
        Case.objects.filter(pk__in=_holding(person_id).values("pk"))
        .select_related("competent_authority")
        .order_by("reference")
    )


def held_by_linked_referral(person: Any) -> Exists:
    """Whether a linked referral holds the erasure of `person` (an id, or `OuterRef` to one),
    as `linked_referrals_holding` finds it: for retention, which passes over such a person."""
    return Exists(_holding(person))
