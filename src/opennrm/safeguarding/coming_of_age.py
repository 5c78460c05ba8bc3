"""Children who turn 18 while their case is open.

A child referred with a date of birth becomes an adult on their 18th birthday, whatever stage
the case has reached: from that day the adult pathway applies (consent to support, Scotland's
support period, the move-on period after a conclusive decision), letters are written to an
adult, and matching no longer keeps them out of adult settings. The daily task
(`safeguarding.tasks.move_children_turned_18`) makes that change through
`cases.services.case_age_group_change`, as an age assessment would, and tells those acting on
the case. It keeps "a child when the exploitation began" (they were a child when referred).

Only a child referred as one, whose date of birth was given (not an estimated age) and whose age
was never disputed or assessed, is moved by the calendar. A person whose age is disputed, whose
age was estimated, or who is a child by an age assessment (the date of birth recorded is then
the one it set aside) stays treated as a child until an age assessment says otherwise (ADR
0025): their birthday is not known, and guessing it would treat a child as an adult. Children's services' tasks stay open: their duties to a care leaver go on
past 18, and a child living in a children's placement is not moved by this: the local
authority of the area still opens and finishes them (ADR 0025, addendum of stop 41).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import members_with_role
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.services import audit_record
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, CaseEvent, PersonIdentity
from opennrm.cases.selectors import deciders_to_tell, referrers_stand_in, referrers_to_tell
from opennrm.cases.services import case_age_group_change
from opennrm.decisions.services import adult_clocks, adult_dates_letter_issue
from opennrm.notifications.services import Delivery, deliver_all
from opennrm.policy.clock import eighteenth_birthday as eighteenth_birthday
from opennrm.policy.clock import years_later as years_later

from .models import AgeAssessment, ChildrenServicesTask, TaskKind, TaskStatus
from .selectors import area_leads

KIND = "case.turned_18"
AGE_GROUP_CHANGED = "case.age_group_changed"  # the timeline's entry (`case_age_group_change`)


@dataclass(frozen=True)
class Result:
    checked: int  # children whose date of birth was read
    turned_18: int  # cases moved to the adult pathway
    people_told: int


def run(today: date) -> Result:
    """Move every open child's case whose date of birth says they are 18 by `today` to the
    adult pathway, each in its own transaction. Safe to run again: a case already an adult is
    not a candidate."""
    due = _candidates(today)
    turned = told = 0
    for case_id, born in due.items():
        if eighteenth_birthday(born) <= today:
            people = _turn_18(case_id, eighteenth_birthday(born))
            if people is not None:
                turned += 1
                told += people
    return Result(checked=len(due), turned_18=turned, people_told=told)


def _candidates(today: date) -> dict[int, date]:
    """The open children's cases that could be 18 by `today`, with the date of birth recorded.

    The date of birth is encrypted, so it is read only for the children whose age when referred
    (kept in clear for the statistics) says they may be 18 now, or is not recorded: a person
    aged `a` when referred turns 18 no sooner than 17 - a years after the referral."""
    rows = (
        Case.objects.filter(
            age_group=AgeGroup.CHILD,
            person__age_is_estimated=False,
            person__identity__isnull=False,
        )
        .exclude(status=CaseStatus.CLOSED)
        # A child by an age assessment, or after an age dispute: the date of birth recorded is
        # the one the assessment set aside, and says nothing of when they turn 18.
        .exclude(Exists(AgeAssessment.objects.filter(case=OuterRef("pk"))))
        .exclude(Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind=AGE_GROUP_CHANGED)))
        .values_list("pk", "person_id", "person__age_at_referral", "submitted_at")
    )
    maybe: dict[int, list[int]] = {}  # person -> their children's cases
    for case_id, person_id, age, submitted_at in rows.iterator(chunk_size=2000):
        # No age recorded beside the date of birth: read the date of birth to know.
        if age is None or today >= years_later(timezone.localdate(submitted_at), max(0, 17 - age)):
            maybe.setdefault(person_id, []).append(case_id)
    born: dict[int, date] = {}
    people = list(maybe)
    for start in range(0, len(people), 500):  # SQLite's limit on a statement's parameters
        identities = PersonIdentity.objects.filter(person_id__in=people[start : start + 500])
        for identity in identities.only("person_id", "date_of_birth", "row_uuid"):
            if identity.date_of_birth is not None:
                born |= dict.fromkeys(maybe[identity.person_id], identity.date_of_birth)
    return born


@transaction.atomic
def _turn_18(case_id: int, birthday: date) -> int | None:
    """Move one case to the adult pathway and tell those acting on it; how many people were
    told, or None if the case changed meanwhile (closed, or its age group changed). Neither the
    timeline nor a message gives the birthday: the timeline outlives an erasure, and the day
    would give away the date of birth it removed (the entry has its own date, ADR 0025)."""
    case = Case.objects.select_for_update().select_related("referred_by").get(pk=case_id)
    if case.age_group != AgeGroup.CHILD or case.status == CaseStatus.CLOSED:
        return None
    dates = adult_clocks(case, came_of_age_on=birthday)
    case_age_group_change(
        by=None,
        case=case,
        to=AgeGroup.ADULT,
        reason="turned 18, by the date of birth recorded",
        expected_version=case.version,
        dates=dates,
        turned_18=True,
    )
    # The decisions' letters were written to a child and state none of those dates: a later
    # change that moves a date is a new letter (ADR 0017), issued by OpenNRM itself.
    letter = (
        adult_dates_letter_issue(by=None, case=case, dates=dates, cause="turned_18")
        if dates
        else None
    )
    told = _tell(case, dates, lettered=letter is not None)
    audit_record(
        by=None,
        action=KIND,
        obj=case,
        detail={"told": told} | ({"letter": letter.pk} if letter is not None else {}),
    )
    return sum(told.values())


# The adult dates a change of age group starts (`decisions.services.adult_clocks`), as the
# messages about it name them.
ADULT_DATES_SAID = {
    "support_ends": "their adult support from the reasonable grounds decision ends on",
    "move_on_ends": "their move-on support after the conclusive decision ends on",
}


def adult_dates_said(dates: dict[str, date], *, lettered: bool) -> str:
    """The sentences telling those acting on a case the adult dates its move to the adult
    pathway started, or "" if it started none. The decision letters the person holds were
    written to a child and state none of them: a letter stating them is issued with the change
    (`lettered`, unless the person's details were erased), which the message asks them to make
    sure reaches the person; without one, that the person be told."""
    said = [f"{ADULT_DATES_SAID[name]} {day:%-d %B %Y}" for name, day in sorted(dates.items())]
    if not said:
        return ""
    if lettered:
        return (
            f" As an adult, {' and '.join(said)}. A letter telling them so has been issued, on "
            "the case page: make sure they receive it and understand it."
        )
    return (
        f" As an adult, {' and '.join(said)}. The decision letters they hold do not say so: "
        "make sure they are told."
    )


def _tell(case: Case, dates: dict[str, date], *, lettered: bool) -> dict[str, int]:
    """Who must know, by the messages they get (one INSERT); no message names the person.
    Children's services see only children's cases, and this one is now an adult's: their
    message links to their caseload, which they can open, and says how to go on; the local
    authority's to its open task for the person, if any, which it still opens and finishes."""
    url = reverse("cases:detail", args=[case.reference])
    subject = f"Case {case.reference}: the person is now 18"
    body = (
        "By the date of birth recorded, the person has turned 18. The case now follows the "
        "adult pathway: consent to support applies, and adult support periods (the move-on "
        "period after a conclusive decision) are counted."
    ) + adult_dates_said(dates, lettered=lettered)
    no_longer_yours = (
        f" As an adult's case, {case.reference} is no longer among the children of your area, "
        "and its page no longer opens for you: for news of the case, ask its competent "
        f"authority, {case.competent_authority.name}."
    )
    caseload = reverse("safeguarding:caseload")
    local_authority, guardian_service = area_leads(case.area)
    # The council's open task stays its own to finish (`selectors.holds_care_leavers_task`):
    # its message links there, and says so.
    open_tasks = ChildrenServicesTask.objects.filter(case=case, status=TaskStatus.OPEN)
    task = open_tasks.order_by("due_on", "pk").first()
    to_local_authority = (
        (
            reverse("safeguarding:task", args=[task.pk]),
            " Your open children's services task for them still opens for you, from this "
            "message or your caseload: record there what you arranged, or the case cannot close.",
        )
        if task is not None
        else (caseload, "")
    )
    news = {
        "decision_makers": Delivery(deciders_to_tell(case), KIND, subject, body, url, case),
        "referrer": Delivery(
            referrers_to_tell(case),
            KIND,
            subject,
            body,
            url,
            case,
            stand_in=lambda: referrers_stand_in(case),
        ),
        "local_authority": Delivery(
            local_authority,
            KIND,
            subject,
            body + " Your duties to them as a care leaver may go on: nothing here ends a "
            "placement you arranged. Plan their move to adult support with them."
            + no_longer_yours
            + to_local_authority[1],
            to_local_authority[0],
            case,
        ),
        "guardian_service": Delivery(
            guardian_service, KIND, subject, body + no_longer_yours, caseload, case
        ),
    }
    wants_place = open_tasks.filter(kind=TaskKind.ACCOMMODATION).exists()
    if wants_place:
        coordinators = members_with_role(None, {Role.SUPPORT_COORDINATOR}).filter(
            organisation__kind=OrganisationKind.SUPPORT_PROVIDER
        )
        news["coordinators"] = Delivery(
            [m.user for m in coordinators.select_related("user")],
            KIND,
            subject,
            "By the date of birth recorded, the person has turned 18. Children's services were "
            "arranging their accommodation: if they need an adult place, ask for one.",
            reverse("support:request_new"),
            case,
        )
    sent = deliver_all(list(news.values()))
    return {audience: len(notes) for audience, notes in zip(news, sent, strict=True)}
