"""The home page and work queues, found by review: a task set for oneself reaches someone after
its owner leaves; the waiting list puts the place needed soonest first, marked; a child's
referral says children's services were told only when they were."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from opennrm.accounts.actor import Actor, memberships_in_force
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.casework import selectors as casework_selectors
from opennrm.casework import services as casework

from . import case_factories, factories
from . import referral_helpers as r
from . import support_factories as s
from .test_home_attention import NOTHING, home


def today(offset: int = 0) -> Any:
    return timezone.localdate() + timedelta(days=offset)


def a_case(alice: User, police: Organisation, authority: Organisation, **fields: Any) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=police, authority=authority, **fields
    )


# --- Casework: a task nobody is left to act on ---------------------------------------------


def test_a_task_set_for_oneself_still_reaches_someone_after_its_owner_leaves(
    case: Case, alice: User, bob: User, olivia: User, northmoor_police: Organisation
) -> None:
    """ADR 27 addendum: "A task belongs to its organisation so that its work outlives a member's
    departure"; a task whose owner left must be in someone's "My tasks" and home count. The task
    form gives the task to its writer by default (casework.views.task_add), so owner and creator
    are usually the same person. Alice sets herself a task due today and then leaves Northmoor
    Police: Bob, still there and working the case, is told nothing, and the task is in nobody's
    "My tasks" (casework.selectors.tasks_for falls back only to the creator, who left too)."""
    task = casework.case_task_add(
        by=alice, case=case, title="Ring the safe contact today", owner=alice, due_on=today()
    )
    case_factories.leaves(alice, northmoor_police, by=olivia)
    still_here = {
        m.user
        for m in memberships_in_force().filter(
            organisation=northmoor_police, role__in=list(casework_selectors.CASE_ROLES)
        )
    }
    assert bob in still_here
    reaching = [
        u for u in still_here if task in list(casework_selectors.tasks_for(Actor.of_session(u)))
    ]
    assert reaching, "an open task due today is in nobody's 'My tasks' once its owner-creator left"
    assert NOTHING not in home(bob)


# --- Support coordinator: the waiting list --------------------------------------------------


def test_a_request_needed_today_comes_before_one_needed_next_month(
    cora: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The waiting list (accommodation.selectors.requests_waiting) sorts by urgency, then by when
    the request was raised, never by when the place is needed. Of two routine requests, the one
    raised first but needed in a month sits above one needed from today (or already overdue):
    the coordinator working from the top places the person who can wait, while the person who
    needs a bed tonight is further down and nothing marks them as due. Expected: within one
    urgency, the place needed soonest comes first."""
    later = s.request(
        a_case(alice, northmoor_police, authority), urgency="routine", needed_from=today(30)
    )
    now = s.request(
        a_case(alice, northmoor_police, authority), urgency="routine", needed_from=today(-1)
    )
    assert later.urgency == now.urgency
    page = factories.signed_in_client(cora).get("/support/requests/").content.decode()
    assert page.index(now.case.reference) < page.index(later.case.reference), (
        "a place needed since yesterday is listed below one not needed for a month"
    )


# --- A child referred where no safeguarding lead uses OpenNRM ------------------------------


def test_a_child_referral_does_not_claim_the_local_authority_was_told_when_nobody_was(
    alice: User, routing: Organisation
) -> None:
    """A child referred in an area where no safeguarding lead uses OpenNRM reaches nobody's
    caseload and no notification goes to children's services (referrals.services
    ._record_and_notify finds no leads). The confirmation page still tells the first responder
    "the local authority and the child guardian service for Testshire have been told", so they
    do not phone children's services themselves. ADR 15 "told means told"; children must be
    safeguarded first (FACTS: ATHub, Medway SCP). Expected: say nobody there uses OpenNRM and to
    contact children's services directly, as casework.selectors.childrens_services_unreached
    does for notes."""
    from opennrm.notifications.models import Notification

    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.CHILD_REFERRAL)
    confirmation = client.get(r.submit(client, draft)["Location"]).content.decode()
    assert not Notification.objects.filter(kind="case.child_referred").exists()
    assert "have been told" not in confirmation, (
        "the referrer is told children's services know of the child when nobody was told"
    )
    assert "uses OpenNRM, so they have not been told" in confirmation


def test_a_coordinator_is_not_told_children_s_services_know_when_nobody_there_uses_opennrm(
    cora: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A place asked for a child in an area where no safeguarding lead uses OpenNRM: the task is
    raised but reaches nobody, so the coordinator is told to contact children's services
    directly, not that they were told (`safeguarding.services.redirect_message`)."""
    child = a_case(alice, northmoor_police, authority, age_group="child")
    day = today(2)
    response = factories.signed_in_client(cora).post(
        "/support/requests/new/",
        {
            "reference": child.reference,
            "urgency": "urgent",
            "needed_from_day": day.day,
            "needed_from_month": day.month,
            "needed_from_year": day.year,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "We have told them" not in page
    assert "so they have not been told: contact them directly today" in page
