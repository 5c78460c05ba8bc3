"""What each role can do from its home page. Links come from the access table, so a task is
listed only when its page exists and the user may open it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from opennrm.accounts.access import may_open
from opennrm.accounts.actor import Actor
from opennrm.accounts.roles import Role


@dataclass(frozen=True)
class Task:
    text: str
    route: str
    description: str
    # For a task that only some holders of the role have (None: all of them).
    applies: Callable[[Actor], bool] | None = None


def _administers_a_provider(actor: Actor) -> bool:
    from opennrm.accommodation.selectors import may_manage_addresses

    return may_manage_addresses(actor)


ROLE_SUMMARY: dict[Role, str] = {
    Role.FIRST_RESPONDER: "You screen and refer people who may have been trafficked, "
    "and follow your referrals.",
    Role.DECISION_MAKER: "You make reasonable and conclusive grounds decisions on the cases "
    "routed to your authority.",
    Role.SENIOR_DECISION_MAKER: "You make decisions, approve negative decisions and oversee "
    "your team's deadlines.",
    Role.SUPPORT_COORDINATOR: "You match people who need support to safe-house places "
    "across the country.",
    Role.SAFE_HOUSE_MANAGER: "You manage your safe house's beds and the people placed with you.",
    Role.SAFEGUARDING_LEAD: "You are told at once about every child referred in your area.",
    Role.ANALYST: "You see anonymised figures about the mechanism, never a person's details.",
    Role.ORGANISATION_ADMIN: "You invite people to your organisation and manage their roles.",
    Role.SYSTEM_ADMIN: "You run the service: organisations, users and the audit trail.",
    Role.DATA_PROTECTION_OFFICER: "You check who has looked at people's details across the "
    "whole service, answer people's requests for a copy of their data or its erasure, and "
    "watch the retention rules. You see a person's details only in an export you make for "
    "their request, and that is recorded.",
    Role.IMMIGRATION_ENFORCEMENT: "You check whether removal must not proceed for a reference, "
    "and record planned removals. You see nothing else about anyone, and every check is "
    "recorded.",
}

# Casework: the tasks someone owns on the cases they may open (casework.selectors.tasks_for).
MY_TASKS = Task(
    "My tasks", "casework:my_tasks", "Your open tasks on cases, overdue and due today first."
)

# Record linkage (ADR 0049): the pairs to review and how well the model does.
LINKAGE_TASKS = [
    Task(
        "Possible earlier referrals",
        "linkage:pairs",
        "Referrals the linkage model thinks may be of one person: compare them and say "
        "whether they are.",
    ),
    Task(
        "Record linkage quality",
        "linkage:quality",
        "Pairs found and answered, the precision the answers estimate, the runs and the "
        "model's parameters.",
    ),
]

ROLE_TASKS: dict[Role, list[Task]] = {
    Role.FIRST_RESPONDER: [
        Task(
            "Screen for indicators of trafficking",
            "screening:start",
            "Check what you have seen against the indicator rule. Guidance, not a decision.",
        ),
        MY_TASKS,
    ],
    Role.DECISION_MAKER: [MY_TASKS, *LINKAGE_TASKS],
    Role.SENIOR_DECISION_MAKER: [MY_TASKS, *LINKAGE_TASKS],
    Role.SUPPORT_COORDINATOR: [
        Task(
            "Waiting for a place",
            "support:requests",
            "Everyone who needs a place to stay, most urgent first. Find places for them all.",
        ),
        Task("Placements", "support:placements", "Places offered, accepted and lived in."),
        Task(
            "People missing",
            "support:missing_list",
            "People reported missing from support who are not back yet.",
        ),
        Task("Sites and beds", "support:sites", "Every site and the state of its beds."),
        Task("Support directory", "support:directory", "Providers, their services and sites."),
        Task(
            "Capacity",
            "support:capacity",
            "How many more people the free beds can take now, by region and provider; "
            "occupancy, the waiting list and unmet need over time.",
        ),
        Task(
            "Safe-house addresses",
            "support:address_access",
            "Ask a provider to let you see one of its sites' addresses, for a few days.",
        ),
    ],
    Role.SAFE_HOUSE_MANAGER: [
        Task(
            "Placements",
            "support:placements",
            "Answer places offered to you; record arrivals and departures.",
        ),
        Task(
            "People missing",
            "support:missing_list",
            "People reported missing from your places who are not back yet.",
        ),
        Task("Sites and beds", "support:sites", "Your sites, rooms and beds, and their state."),
        Task("Capacity", "support:capacity", "Free beds across the country, and over time."),
    ],
    Role.SAFEGUARDING_LEAD: [
        Task(
            "Children in your area",
            "safeguarding:caseload",
            "What needs doing today: children missing now, children's services tasks "
            "(overdue first), age assessments outstanding and children newly referred.",
        ),
        MY_TASKS,
    ],
    Role.ANALYST: [
        Task(
            "Capacity",
            "support:capacity",
            "Free beds, occupancy, the waiting list, unmet need and length of stay: figures "
            "only, each table downloadable as CSV.",
        ),
        Task(
            "Official tables",
            "statistics:tables",
            "Referrals and the people they were about, decisions, waiting times and support "
            "for a quarter or a year, with small counts suppressed as a release would publish "
            "them.",
        ),
        Task(
            "Releases",
            "statistics:releases",
            "Prepare a quarterly or yearly release, approve another analyst's, or revise a "
            "published one.",
        ),
        Task(
            "De-identified extract",
            "statistics:extract",
            "One row per referral for researchers, k-anonymous, as CSV or in CTDC's columns.",
        ),
    ],
    Role.ORGANISATION_ADMIN: [
        Task(
            "Manage users",
            "accounts:organisation_list",
            "Invite people, change roles and remove access.",
        ),
        Task(
            "Safe-house addresses",
            "support:address_access",
            "Decide coordinators' requests to see your sites' addresses, and assign your "
            "safe-house managers to sites.",
            applies=_administers_a_provider,
        ),
    ],
    Role.IMMIGRATION_ENFORCEMENT: [
        Task(
            "Check protection from removal",
            "protection:check",
            "Enter a reference: you are told whether removal must not proceed, and why.",
        ),
        Task(
            "Record a planned removal",
            "protection:planned_removal",
            "If the person is protected on that day, the competent authority and the referrer "
            "are told at once.",
        ),
    ],
    Role.SYSTEM_ADMIN: [
        Task(
            "Organisations and users",
            "accounts:organisation_list",
            "Add organisations and manage anyone's access.",
        ),
        Task("Audit trail", "audit:search", "Search who did what, when and from where."),
    ],
    Role.DATA_PROTECTION_OFFICER: [
        Task(
            "Who looked at a person's data",
            "privacy:person_reads",
            "Look up a person by case reference: who saw their details, when, which ones, "
            "and from where.",
        ),
        Task(
            "Data requests",
            "privacy:find",
            "Find a person's records to export everything held about them, or to erase their "
            "details when they ask.",
        ),
        Task(
            "Retention",
            "privacy:retention",
            "The retention rules, who is due to be pseudonymised, and the nightly runs.",
        ),
        Task("Audit trail", "audit:search", "Search who did what, when and from where."),
    ],
}


def tasks_for(actor: Actor, role: Role) -> list[dict[str, str]]:
    return [
        {"text": task.text, "href": reverse(task.route), "description": task.description}
        for task in ROLE_TASKS.get(role, [])
        if may_open(actor, task.route) and (task.applies is None or task.applies(actor))
    ]
