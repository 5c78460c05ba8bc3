"""What needs each role's attention now: the counts on the home page (ADR 30).

An item is a sentence with a count and a link to the list that shows what it counts. The count
is that list's own selector, counted: the same records the page opens, through the same access,
and never a second filter that could drift from it. A role's home says "Nothing needs your
attention" only when every one of its counts is zero.

To add one: write the count in the app that owns the records (`<app>/selectors.py`, a function
of the `Actor` that counts the queryset its list page shows), then add an `Attention` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from opennrm.accommodation import selectors as accommodation
from opennrm.accounts.access import may_open
from opennrm.accounts.actor import DECIDERS, Actor
from opennrm.accounts.models import Membership
from opennrm.accounts.roles import Role
from opennrm.care import selectors as care
from opennrm.cases.selectors import children_newly_referred_count
from opennrm.casework.selectors import tasks_due_count
from opennrm.decisions import selectors as decisions
from opennrm.lib.paging import counted
from opennrm.linkage import selectors as linkage
from opennrm.notifications.selectors import unread_news
from opennrm.referrals.selectors import (
    additions_unseen_count,
    information_requests_open_count,
    referrals_with_new_outcome_count,
)
from opennrm.safeguarding.selectors import children_needing_action_count


@dataclass(frozen=True)
class Attention:
    role: Role
    # What is counted, for a count of one and for any other ("{n}" is the count).
    one: str
    many: str
    route: str
    count: Callable[[Actor], int]
    # Added to the route's address: the list's filter ("?queue=...") or the table ("#...").
    query: str = ""

    def text(self, n: int) -> str:
        # A queue's count stops at the cap its page counts to (ADR 0055): "More than 10,000".
        return (self.one if n == 1 else self.many).format(n=counted(n))

    def href(self) -> str:
        return reverse(self.route) + self.query


def _queue(
    name: str, *, overdue_only: bool = False, due_today: bool = False
) -> Callable[[Actor], int]:
    """The number of cases the decision queue `name` shows with these filters."""
    filters = decisions.QueueFilter(overdue_only=overdue_only, due_today=due_today)
    return partial(decisions.queue_count, name=name, filters=filters)


def _count(selector: Callable[[Actor], QuerySet[Any]]) -> Callable[[Actor], int]:
    """The number of records a list selector gives the actor: one COUNT query."""
    return lambda actor: selector(actor).count()


def _operation_children_news_count(actor: Actor) -> int:
    """A safeguarding lead's unopened messages of children taken in at operations (taken in,
    found a child at referral, gone missing, found): such a child has no case until the referral
    is submitted, so no caseload count includes them (the list it links to is that query)."""
    return unread_news(actor.user, "operations").count()


def _for_deciders() -> list[Attention]:
    items = []
    for role in sorted(DECIDERS):
        items += [
            Attention(
                role,
                "{n} reasonable grounds decision overdue",
                "{n} reasonable grounds decisions overdue",
                "decisions:queue",
                _queue("reasonable-grounds", overdue_only=True),
                "?queue=reasonable-grounds&overdue=yes",
            ),
            Attention(
                role,
                "{n} reasonable grounds decision due today",
                "{n} reasonable grounds decisions due today",
                "decisions:queue",
                _queue("reasonable-grounds", due_today=True),
                "?queue=reasonable-grounds&due=today",
            ),
            Attention(
                role,
                "{n} conclusive grounds decision that can be made now",
                "{n} conclusive grounds decisions that can be made now",
                "decisions:queue",
                _queue("conclusive-grounds", due_today=True),
                "?queue=conclusive-grounds&due=today",
            ),
            Attention(
                role,
                "{n} reconsideration overdue",
                "{n} reconsiderations overdue",
                "decisions:queue",
                _queue("reconsiderations", overdue_only=True),
                "?queue=reconsiderations&overdue=yes",
            ),
            Attention(
                role,
                "{n} reconsideration due today",
                "{n} reconsiderations due today",
                "decisions:queue",
                _queue("reconsiderations", due_today=True),
                "?queue=reconsiderations&due=today",
            ),
        ]
    return items


ATTENTION: list[Attention] = [
    Attention(
        Role.FIRST_RESPONDER,
        "{n} referral with a new outcome",
        "{n} referrals with a new outcome",
        "notifications:list",
        referrals_with_new_outcome_count,
        "?show=outcomes",
    ),
    Attention(
        Role.FIRST_RESPONDER,
        "{n} question from the competent authority waiting for your answer",
        "{n} questions from the competent authority waiting for your answer",
        "referrals:my_referrals",
        information_requests_open_count,
        "#questions",
    ),
    *_for_deciders(),
    *(
        Attention(
            role,
            "{n} addition to a referral not yet read",
            "{n} additions to referrals not yet read",
            "referrals:additions_unseen",
            additions_unseen_count,
        )
        for role in sorted(DECIDERS)
    ),
    *(
        Attention(
            role,
            "{n} possible earlier referral to review",
            "{n} possible earlier referrals to review",
            "linkage:pairs",
            linkage.open_pairs_count,
        )
        for role in sorted(DECIDERS)
    ),
    Attention(
        Role.SENIOR_DECISION_MAKER,
        "{n} negative decision waiting for your approval",
        "{n} negative decisions waiting for your approval",
        "decisions:queue",
        decisions.approvals_waiting_count,
        "?queue=approvals",
    ),
    Attention(
        Role.SENIOR_DECISION_MAKER,
        "{n} emergency request to see a safe house's address, waiting for a decision",
        "{n} emergency requests to see a safe house's address, waiting for a decision",
        "support:address_access",
        _count(accommodation.address_grants_to_decide),
        "#to-decide",
    ),
    Attention(
        Role.ORGANISATION_ADMIN,
        "{n} request to see one of your sites' addresses, waiting for your decision",
        "{n} requests to see your sites' addresses, waiting for your decision",
        "support:address_access",
        _count(accommodation.address_grants_to_decide),
        "#to-decide",
    ),
    Attention(
        Role.SUPPORT_COORDINATOR,
        "{n} person waiting for a place",
        "{n} people waiting for a place",
        "support:requests",
        _count(accommodation.requests_waiting),
    ),
    Attention(
        Role.SUPPORT_COORDINATOR,
        "{n} proposed place to check and confirm",
        "{n} proposed places to check and confirm",
        "support:proposals",
        _count(accommodation.proposals),
    ),
    Attention(
        Role.SUPPORT_COORDINATOR,
        "{n} place offered and not yet answered by its provider",
        "{n} places offered and not yet answered by their providers",
        "support:placements",
        _count(accommodation.offers_unanswered),
        "#offers-caption",
    ),
    Attention(
        Role.SAFE_HOUSE_MANAGER,
        "{n} place offered to you, waiting for your answer",
        "{n} places offered to you, waiting for your answer",
        "support:placements",
        _count(accommodation.offers_unanswered),
        "#offers-caption",
    ),
    Attention(
        Role.SAFE_HOUSE_MANAGER,
        "{n} arrival expected",
        "{n} arrivals expected",
        "support:placements",
        _count(accommodation.arrivals_expected),
        "#expected-caption",
    ),
    *(
        Attention(
            role,
            "{n} person missing from support, not yet back",
            "{n} people missing from support, not yet back",
            "support:missing_list",
            _count(care.missing_now),
        )
        for role in (Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER)
    ),
    *(
        Attention(
            role,
            "{n} of your tasks due today or overdue",
            "{n} of your tasks due today or overdue",
            "casework:my_tasks",
            tasks_due_count,
        )
        for role in (
            Role.FIRST_RESPONDER,
            Role.DECISION_MAKER,
            Role.SENIOR_DECISION_MAKER,
            Role.SAFEGUARDING_LEAD,
        )
    ),
    Attention(
        Role.SAFEGUARDING_LEAD,
        "{n} child newly referred in your area, not yet looked at",
        "{n} children newly referred in your area, not yet looked at",
        "notifications:list",
        children_newly_referred_count,
        "?show=children",
    ),
    Attention(
        Role.SAFEGUARDING_LEAD,
        "{n} message about children taken in at an operation, not yet opened",
        "{n} messages about children taken in at operations, not yet opened",
        "notifications:list",
        _operation_children_news_count,
        "?show=operations",
    ),
    Attention(
        Role.SAFEGUARDING_LEAD,
        "{n} child in your area missing now",
        "{n} children in your area missing now",
        "safeguarding:caseload",
        _count(care.children_missing_now),
        "#missing",
    ),
    Attention(
        Role.SAFEGUARDING_LEAD,
        "{n} child in your area waiting for the local authority: a task or an age assessment",
        "{n} children in your area waiting for the local authority: a task or an age assessment",
        "safeguarding:caseload",
        children_needing_action_count,
    ),
]


def attention_for(actor: Actor, membership: Membership) -> list[dict[str, object]]:
    """What needs the member's attention in this role and organisation, with the counts that are
    not zero. Counted as the member acting in that organisation alone, so that someone with the
    same role in two organisations sees each one's work under its own heading, once."""
    here = Actor(actor.user, token_organisation_id=membership.organisation_id)
    shown = []
    for item in ATTENTION:
        if item.role != membership.role or not may_open(here, item.route):
            continue
        n = item.count(here)
        if n:
            shown.append({"text": item.text(n), "href": item.href(), "count": n})
    return shown
