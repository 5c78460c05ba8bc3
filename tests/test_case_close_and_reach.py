"""Closing a child's case, and news for a referring organisation with no first responder left.

- A case is never closed while the local authority's children's services task for the child is
  open: closing it would leave the task orphaned. The decision maker is told why and what to do;
  once the task is done, the case closes.
- News of a case whose referring organisation has no first responder left reaches its
  administrators (who can give someone the role), and says nothing of the case: no reference,
  no status, no link to a page they may not open.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus, CloseReason
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import ChildrenServicesTask

from . import case_factories, factories


@pytest.fixture
def child_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """A child's case the decision maker may close: withdrawn before a decision."""
    return case_factories.withdrawn(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)


def _accommodation_task(case: Case) -> ChildrenServicesTask:
    task, _told = safeguarding.children_accommodation_task_open(
        case=case, needs=["A safe place to stay tonight"], due_on=timezone.localdate(), by=None
    )
    return task


# --- 1. A child's case with an open children's services task stays open ----------------------


def test_a_childs_case_with_an_open_childrens_services_task_cannot_be_closed(
    dmitri: User, lena: User, council: Organisation, child_case: Case
) -> None:
    task = _accommodation_task(child_case)

    with pytest.raises(ValidationError) as refused:
        case_factories.closed(child_case, by=dmitri)
    message = " ".join(refused.value.messages)
    # Why, and what to do about it.
    assert "children's services task" in message
    assert council.name in message
    assert "done" in message
    assert Case.objects.get(pk=child_case.pk).status == CaseStatus.RG_WITHDRAWN

    # The local authority records what was arranged: nothing is left open, and the case closes.
    safeguarding.children_services_task_done(by=lena, task=task, outcome="With foster carers.")
    assert case_factories.closed(child_case, by=dmitri).status == CaseStatus.CLOSED


def test_the_close_page_says_why_and_refuses_the_post(
    dmitri: User, council: Organisation, child_case: Case
) -> None:
    _accommodation_task(child_case)
    client = factories.signed_in_client(dmitri)
    url = f"/cases/{child_case.reference}/close/"

    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "This case cannot be closed now" in text
    assert council.name in text

    posted = client.post(url, {"reason": CloseReason.LEFT, "expected_version": child_case.version})
    assert posted.status_code == 200
    assert Case.objects.get(pk=child_case.pk).status == CaseStatus.RG_WITHDRAWN


# --- 2. News for an organisation with no first responder left --------------------------------


def _follow(user: User, notification: Notification) -> int:
    client = factories.signed_in_client(user)
    opened = client.post(f"/notifications/{notification.pk}/open/")
    assert opened.status_code == 302
    return client.get(opened["Location"]).status_code


def _says_nothing_of(notification: Notification, case: Case) -> None:
    shown = f"{notification.subject} {notification.body} {notification.url}"
    assert case.reference not in shown
    assert notification.case_id is None
    for status in CaseStatus:
        assert status.label.lower() not in shown.lower(), status


def test_news_with_no_first_responder_left_reaches_the_administrators_without_the_case(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    withdrawn = case_factories.withdrawn(alice, northmoor_police, authority)
    # Alice, Northmoor Police's only first responder, leaves.
    case_factories.leaves(alice, northmoor_police, by=olivia)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_factories.closed(withdrawn, by=dmitri)

    (notice,) = Notification.objects.filter(recipient=olivia)
    assert "first responder" in notice.body
    _says_nothing_of(notice, withdrawn)
    # The link is where she gives someone the role, and it opens for her.
    assert notice.url == f"/organisations/{northmoor_police.pk}/"
    assert _follow(olivia, notice) == 200
    (sent,) = [m for m in mail.outbox if olivia.email in m.to]
    assert withdrawn.reference not in f"{sent.subject} {sent.body}"
    listed = factories.signed_in_client(olivia).get("/notifications/").content.decode()
    assert withdrawn.reference not in listed
    # Olivia could not open the case itself.
    assert (
        factories.signed_in_client(olivia).get(f"/cases/{withdrawn.reference}/").status_code == 404
    )
    assert not Notification.objects.filter(recipient=alice).exists()


def test_the_administrators_are_not_told_while_a_first_responder_remains(
    alice: User,
    bob: User,
    olivia: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    withdrawn = case_factories.withdrawn(alice, northmoor_police, authority)
    case_factories.leaves(alice, northmoor_police, by=olivia)
    case_factories.closed(withdrawn, by=dmitri)
    assert Notification.objects.filter(recipient=bob, case=withdrawn).exists()
    assert not Notification.objects.filter(recipient=olivia).exists()


def test_with_no_administrator_either_the_system_administrators_are_told(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sysadmin: User,
) -> None:
    withdrawn = case_factories.withdrawn(alice, northmoor_police, authority)
    case_factories.leaves(alice, northmoor_police, by=sysadmin)
    case_factories.closed(withdrawn, by=dmitri)

    (notice,) = Notification.objects.filter(recipient=sysadmin)
    assert northmoor_police.name in notice.body
    _says_nothing_of(notice, withdrawn)
    assert _follow(sysadmin, notice) == 200


def test_an_age_dispute_reaches_the_administrators_when_no_first_responder_is_left(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    dmitri: User,
    case: Case,
) -> None:
    case_factories.leaves(alice, northmoor_police, by=olivia)
    safeguarding.age_dispute_raise(
        by=dmitri, case=case, basis="appearance", expected_version=case.version
    )
    (notice,) = Notification.objects.filter(recipient=olivia)
    _says_nothing_of(notice, case)
    assert "child" not in f"{notice.subject} {notice.body}"
