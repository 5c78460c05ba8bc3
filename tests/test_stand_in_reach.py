"""News that reaches someone who can act, and never a task with nobody to answer for it.

- Placement news for the referring side (a place offered, accepted, declined, cancelled; the
  person arrived or left) and the alert of a removal planned while protected: when the
  referring organisation has no first responder left, its administrators are told that news
  waits (`cases.selectors.referrers_stand_in`), never the news: no case, provider, place, day or
  enforcement organisation.
- A children's services task is never raised on a closed case: closing is refused while one is
  open, and a closed case cannot be reopened, so the task would answer to nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import DeclineReason, ExitReason, Placement
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.protection.services import planned_removal_record
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import ChildrenServicesTask

from . import case_factories, factories
from . import support_plan_helpers as h

STAND_IN = "referrals.no_first_responder"


def _last_first_responder_leaves(alice: User, olivia: User, police: Organisation) -> None:
    """Alice, Northmoor Police's only first responder, leaves; Olivia administers it."""
    case_factories.leaves(alice, police, by=olivia)
    Notification.objects.all().delete()


def _says_nothing_of(notice: Notification, *details: str) -> None:
    shown = f"{notice.subject} {notice.body} {notice.url}"
    assert notice.case_id is None
    for detail in details:
        assert detail not in shown, detail


# --- 1. Placement news ------------------------------------------------------------------------


def _offer(cora: User, maya: User, provider: Organisation, case: Case) -> Placement:
    return h.offered(cora, maya, provider, case)


def _accepted(cora: User, maya: User, provider: Organisation, case: Case) -> Placement:
    placement = _offer(cora, maya, provider, case)
    return accommodation.placement_respond(by=maya, placement=placement, accept=True)


# Each step: what is done before the first responder leaves, then the news itself.
Step = tuple[
    Callable[[User, User, Organisation, Case], Placement | None],
    Callable[[User, User, Placement | None, Organisation, Case], object],
]
STEPS: dict[str, Step] = {
    "offered": (
        lambda cora, maya, provider, case: None,
        lambda cora, maya, placement, provider, case: _offer(cora, maya, provider, case),
    ),
    "accepted": (
        _offer,
        lambda cora, maya, placement, provider, case: accommodation.placement_respond(
            by=maya, placement=placement, accept=True
        ),
    ),
    "declined": (
        _offer,
        lambda cora, maya, placement, provider, case: accommodation.placement_respond(
            by=maya, placement=placement, accept=False, reason=DeclineReason.BED_NOT_READY
        ),
    ),
    "cancelled": (
        _offer,
        lambda cora, maya, placement, provider, case: accommodation.placement_cancel(
            by=cora, placement=placement
        ),
    ),
    "arrived": (
        _accepted,
        lambda cora, maya, placement, provider, case: accommodation.placement_arrive(
            by=maya, placement=placement, on=timezone.localdate()
        ),
    ),
    "ended": (
        lambda cora, maya, provider, case: h.living(cora, maya, provider, case),
        lambda cora, maya, placement, provider, case: accommodation.placement_end(
            by=maya, placement=placement, on=timezone.localdate(), reason=ExitReason.MOVED_ON
        ),
    ),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_placement_news_with_no_first_responder_left_reaches_the_administrators_only(
    step: str,
    alice: User,
    olivia: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    case: Case,
) -> None:
    before, news = STEPS[step]
    placement = before(cora, maya, provider, case)
    _last_first_responder_leaves(alice, olivia, northmoor_police)

    news(cora, maya, placement, provider, case)

    (notice,) = Notification.objects.filter(recipient=olivia)
    assert notice.kind == STAND_IN
    assert notice.url == f"/organisations/{northmoor_police.pk}/"
    held = Placement.objects.select_related("bed__room__site").get(request__case=case)
    site = held.bed.room.site
    _says_nothing_of(notice, case.reference, provider.name, site.name, site.get_region_display())
    assert "place" not in f"{notice.subject} {notice.body}".lower()
    assert not Notification.objects.filter(recipient=alice).exists()


# --- 2. The alert of a removal planned while protected ----------------------------------------


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    """An immigration enforcement officer."""
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def test_a_protection_alert_with_no_first_responder_left_tells_the_administrators_news_waits(
    alice: User,
    olivia: User,
    dmitri: User,
    ivan: User,
    northmoor_police: Organisation,
    border_enforcement: Organisation,
    case: Case,
) -> None:
    _last_first_responder_leaves(alice, olivia, northmoor_police)
    planned_on = timezone.localdate() + timedelta(days=3)

    recorded = planned_removal_record(
        by=ivan, organisation=border_enforcement, reference=case.reference, planned_on=planned_on
    )

    # The competent authority is alerted as ever; the referring side's administrator is told
    # only that news waits for a first responder.
    assert recorded.protection.protected
    alerts = Notification.objects.filter(kind="protection.planned_removal")
    assert {n.recipient for n in alerts} == {dmitri}
    assert recorded.planned.alerted == 1
    (notice,) = Notification.objects.filter(recipient=olivia)
    assert notice.kind == STAND_IN
    _says_nothing_of(
        notice,
        case.reference,
        border_enforcement.name,
        f"{planned_on:%B}",
        "removal",
        "Removal",
        "protected",
    )
    (event,) = AuditEvent.objects.filter(action="removal.planned")
    assert event.detail["alerted"] == [dmitri.pk]
    assert event.detail["told_instead"] == [olivia.pk]


def test_no_stand_in_for_a_protection_alert_while_the_referrer_can_be_told(
    alice: User,
    olivia: User,
    ivan: User,
    border_enforcement: Organisation,
    case: Case,
) -> None:
    planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=case.reference,
        planned_on=timezone.localdate() + timedelta(days=3),
    )
    assert Notification.objects.filter(recipient=alice, kind="protection.planned_removal").exists()
    assert not Notification.objects.filter(recipient=olivia).exists()


def test_a_protection_alert_asks_once_who_on_the_referring_side_is_told(
    alice: User,
    olivia: User,
    ivan: User,
    northmoor_police: Organisation,
    border_enforcement: Organisation,
    case: Case,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The referring side is one audience of the alert, delivered with its stand-in as every
    other piece of news of a case is (`deliver(stand_in=...)`): who is on it is asked once,
    not again to learn whether the stand-in is needed."""
    from opennrm.protection import selectors as protection

    asked: list[Case] = []
    real = protection.referrers_to_tell

    def counted(case: Case) -> list[User]:
        asked.append(case)
        return real(case)

    monkeypatch.setattr(protection, "referrers_to_tell", counted)
    _last_first_responder_leaves(alice, olivia, northmoor_police)
    planned_removal_record(
        by=ivan,
        organisation=border_enforcement,
        reference=case.reference,
        planned_on=timezone.localdate() + timedelta(days=3),
    )
    assert len(asked) == 1
    assert Notification.objects.filter(recipient=olivia, kind=STAND_IN).count() == 1


# --- 3. No children's services task on a closed case ------------------------------------------


@pytest.fixture
def closed_child_case(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> Case:
    withdrawn = case_factories.withdrawn(
        alice, northmoor_police, authority, age_group=AgeGroup.CHILD
    )
    return case_factories.closed(withdrawn, by=dmitri)


def _refused_as_closed(
    refused: pytest.ExceptionInfo[ValidationError], council: Organisation
) -> None:
    message = " ".join(refused.value.messages)
    assert "is closed" in message
    assert council.name in message  # who to contact instead
    assert "refer" in message
    assert not ChildrenServicesTask.objects.exists()


def test_no_childrens_services_task_is_raised_on_a_closed_case(
    cora: User, council: Organisation, closed_child_case: Case
) -> None:
    with pytest.raises(ValidationError) as refused:
        safeguarding.children_accommodation_redirect(
            by=cora, case=closed_child_case, due_on=timezone.localdate()
        )
    _refused_as_closed(refused, council)


def test_a_coordinator_asking_for_a_place_for_a_closed_childs_case_is_refused(
    cora: User, council: Organisation, closed_child_case: Case
) -> None:
    with pytest.raises(ValidationError) as refused:
        accommodation.placement_request_raise(
            by=cora,
            case=closed_child_case,
            urgency="emergency",
            needed_from=timezone.localdate(),
        )
    _refused_as_closed(refused, council)


def test_an_age_dispute_on_a_closed_case_with_a_place_held_is_recorded_and_raises_its_task(
    alice: User,
    dmitri: User,
    cora: User,
    maya: User,
    provider: Organisation,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    withdrawn = case_factories.withdrawn(alice, northmoor_police, authority)
    h.offered(cora, maya, provider, withdrawn)
    closed = case_factories.closed(withdrawn, by=dmitri)
    # Closing the case ended no place: a child must be moved whatever the case's state, so the
    # dispute is recorded and children's services get their task (found in review: the whole
    # dispute was refused, leaving the person an adult).
    safeguarding.age_dispute_raise(
        by=dmitri, case=closed, basis="appearance", expected_version=closed.version
    )
    assert Case.objects.get(pk=closed.pk).age_group == AgeGroup.PRESUMED_CHILD
    task = ChildrenServicesTask.objects.get(case=closed)
    assert task.owner == council


# --- 4. Asked for more information, with nobody left to answer --------------------------------


def test_a_request_for_information_with_no_first_responder_left_reaches_the_administrators(
    alice: User, olivia: User, dmitri: User, northmoor_police: Organisation, case: Case
) -> None:
    """The question waits for a first responder; whoever can give someone the role is told so,
    and learns nothing of the case or the question."""
    from opennrm.referrals import services as referrals

    _last_first_responder_leaves(alice, olivia, northmoor_police)
    asked = referrals.information_request_ask(
        by=dmitri,
        case=case,
        question="When did she arrive in the UK?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    [notice] = Notification.objects.filter(recipient=olivia)
    assert notice.kind == STAND_IN
    _says_nothing_of(notice, case.reference, "arrive", "information")
    event = AuditEvent.objects.get(action="information_request.asked")
    assert event.detail["notified"] == 0  # nobody on the referring side heard the question
    Notification.objects.all().delete()
    referrals.information_request_withdraw(by=dmitri, request=asked)
    assert Notification.objects.filter(recipient=olivia, kind=STAND_IN).count() == 1


def test_no_placement_request_is_raised_on_an_adults_closed_case(
    alice: User, dmitri: User, cora: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    from opennrm.accommodation.models import PlacementRequest

    withdrawn = case_factories.withdrawn(
        alice, northmoor_police, authority, consent_to_support=True
    )
    closed = case_factories.closed(withdrawn, by=dmitri)
    with pytest.raises(ValidationError, match="is closed, so no place can be sought"):
        accommodation.placement_request_raise(
            by=cora, case=closed, urgency="urgent", needed_from=timezone.localdate()
        )
    assert not PlacementRequest.objects.filter(case=closed).exists()
