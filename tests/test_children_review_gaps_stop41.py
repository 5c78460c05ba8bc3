"""The children's pathway after the stop 41 review: a care leaver's open task stays the council's.

A child's case moves to the adult pathway on their 18th birthday (`safeguarding.coming_of_age`),
and the local authority's children's services tasks stay open (ADR 0025: their duties to a care
leaver go on past 18). But every way the council reached the task (the task page, its caseload,
the service that marks it done) went through "children of your area", so from the birthday the
task could no longer be opened or finished by anyone in OpenNRM, and the case, which does not
close while a children's services task is open, could never be closed. Now the local authority
of the task's area still opens the open task of a person who came of age, sees what the task
needs (and only that: not the case page), and records it done; nobody else gains anything.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, CaseEvent, Person
from opennrm.notifications.models import Notification
from opennrm.safeguarding import coming_of_age, selectors
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.coming_of_age import years_later
from opennrm.safeguarding.models import ChildrenServicesTask, TaskStatus
from opennrm.safety import services as safety

from . import case_factories, factories

RISK = "Her exploiters are looking for her"
OUTCOME = "Staying in her foster placement under Staying Put; personal adviser named."


def _turned_18_with_open_task(
    alice: User, police: Organisation, authority: Organisation
) -> tuple[Case, ChildrenServicesTask]:
    """A child of Testshire referred at 17 with an accommodation task open, who turns 18 today
    and whom the daily task has moved to the adult pathway."""
    today = timezone.localdate()
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=years_later(today, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=child.person_id).update(age_at_referral=17, age_is_estimated=False)
    safety.safety_profile_save(
        by=alice, case=child, expected_version=None, risk_level="high", risk_reasons=RISK
    )
    task, _ = safeguarding.children_accommodation_task_open(
        case=child, needs=["A bed tonight"], due_on=today, by=alice
    )
    assert coming_of_age.run(today).turned_18 == 1
    child.refresh_from_db()
    assert child.age_group == AgeGroup.ADULT
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    return child, task


@pytest.fixture
def farshire_lead(db: None) -> User:
    """Safeguarding lead of another area's council: an outsider to Testshire's children."""
    council = factories.organisation(
        "Farshire Council", OrganisationKind.LOCAL_AUTHORITY, area="Farshire"
    )
    return factories.user("fiona@example.org", organisation=council, role=Role.SAFEGUARDING_LEAD)


@pytest.mark.page("safeguarding:task")
def test_the_local_authority_still_opens_and_finishes_the_task_of_a_child_who_turned_18(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    council: Organisation,
    lena: User,
) -> None:
    """Lena, Testshire council's safeguarding lead, was arranging a place for a child who turned
    18 before she recorded it. The task stays open (care leaving duties go on), so she must
    still reach it: her caseload lists it, the task page opens with what it needs (the safety
    profile, its read audited) but no link to the case page she may no longer open, and she
    records what was arranged: the task is done, with the outcome, the timeline entry and the
    audit event in the council's name."""
    case, task = _turned_18_with_open_task(alice, northmoor_police, authority)
    client = factories.signed_in_client(lena)
    url = reverse("safeguarding:task", args=[task.pk])

    caseload = client.get(reverse("safeguarding:caseload")).content.decode()
    assert url in caseload, "the care leaver's open task is not on the council's caseload"
    # The home page's "waiting for the local authority" counts it (`pages.attention`).
    assert selectors.children_needing_action_count(Actor.of_session(lena)) == 1
    assert reverse("cases:detail", args=[case.reference]) not in caseload

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert RISK in html
    assert "Mark as done" in html
    assert "turned 18" in html
    assert reverse("cases:detail", args=[case.reference]) not in html
    read = AuditEvent.objects.filter(action="person.viewed", actor=lena).last()
    assert read is not None
    assert "safety_risk_reasons" in read.detail["fields"]

    # The newest event's id, not the count: ids are not counts on PostgreSQL (its sequences
    # do not go back when a test's transaction is rolled back).
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.post(url, {"outcome": OUTCOME})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.outcome, task.done_by) == (TaskStatus.DONE, OUTCOME, lena)
    assert [(e.action, e.organisation_id) for e in AuditEvent.objects.filter(pk__gt=before)] == [
        ("children_services_task.done", council.pk)
    ]
    assert CaseEvent.objects.filter(case=case, kind="safeguarding.task_done").exists()
    # Done, the task no longer holds the case open, and is off the caseload.
    assert url not in client.get(reverse("safeguarding:caseload")).content.decode()
    assert selectors.children_needing_action_count(Actor.of_session(lena)) == 0


def test_the_councils_message_on_the_birthday_links_to_the_task_it_can_still_finish(
    alice: User, northmoor_police: Organisation, authority: Organisation, lena: User
) -> None:
    """Told on the birthday that the case is no longer among her children, Lena is told too that
    the open task still is hers to finish, and her message opens it."""
    _case, task = _turned_18_with_open_task(alice, northmoor_police, authority)
    notice = Notification.objects.get(kind=coming_of_age.KIND, recipient=lena)
    assert notice.url == reverse("safeguarding:task", args=[task.pk])
    assert "task for them still opens for you" in notice.body
    assert factories.signed_in_client(lena).get(notice.url).status_code == 200


def test_outsiders_get_404_on_the_task_of_a_child_who_turned_18(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
    gail: User,
    farshire_lead: User,
) -> None:
    """Another area's council (Fiona, Farshire) never opens Testshire's task, before or after the
    birthday; the guardian service (Gail), which works with children only, no longer does once
    the person is an adult. Neither reads anything, nor can record the task done."""
    _case, task = _turned_18_with_open_task(alice, northmoor_police, authority)
    url = reverse("safeguarding:task", args=[task.pk])
    for outsider in (farshire_lead, gail):
        client = factories.signed_in_client(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"outcome": OUTCOME}).status_code == 404
        assert url not in client.get(reverse("safeguarding:caseload")).content.decode()
        assert not AuditEvent.objects.filter(actor=outsider, action="person.viewed").exists()
    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.OPEN, "")
