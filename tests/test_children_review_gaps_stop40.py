"""The children's pathway after the stop 40 review: who acts for a child hears of what happens.

- A change of a child's case's status (a decision above all: a negative one ends the child's
  protection from removal and opens the reconsideration window) reaches the safeguarding leads
  of the area's local authority and child guardian service, not the referrer alone
  (`safeguarding.services._child_status_changed_told`, registered with
  `cases.services.STATUS_CHANGE_TELLERS`).
- A child's accommodation task in an area where no local authority uses OpenNRM no longer holds
  the case open for ever: the area's guardian service lead or the case's decision maker records
  what the council arranged (`safeguarding.selectors.records_instead`), saying so on the task,
  the timeline and the audit trail (ADR 0025, addendum of stop 40).
- A child's safety profile change reaches the area's guardian service as well as the local
  authority, nobody twice (`safeguarding.services._child_safety_changed_told`).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, CaseEvent
from opennrm.notifications.models import Notification
from opennrm.referrals import steps
from opennrm.safeguarding import selectors
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import ChildrenServicesTask
from opennrm.safety import services as safety

from . import case_factories, factories

# The child's name: no message may carry it.
NAME = "Arben"


def _child(alice: User, police: Organisation, authority: Organisation, **fields: object) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        given_names=NAME,
        **fields,
    )


# --- A decision on a child's case --------------------------------------------------------------


def test_a_negative_reasonable_grounds_decision_on_a_child_reaches_childrens_services(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
    gail: User,
) -> None:
    """A negative reasonable grounds decision on a child (here referred by the police) reached
    the referrer alone: the local authority (Lena) and the guardian (Gail), who speaks for the
    child with the immigration authorities, learnt of it only by opening the case, perhaps
    after the reconsideration window had closed. Both are told now, once each, with the
    window's end, naming nobody, linked to the case page they can open."""
    child = _child(alice, northmoor_police, authority)
    Notification.objects.all().delete()

    refused = case_factories.refused_at_reasonable_grounds(child, decider=dmitri, approver=sally)

    assert refused.status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
    assert Notification.objects.filter(recipient=alice, case=refused).exists()
    told = list(
        Notification.objects.filter(case=refused, kind="children.case_status_changed").order_by(
            "recipient__email"
        )
    )
    assert [notice.recipient for notice in told] == [gail, lena]
    assert refused.reconsideration_until is not None
    until = f"{refused.reconsideration_until:%-d %B %Y}"
    for notice in told:
        assert "negative reasonable grounds" in notice.subject
        assert f"reconsideration of the decision can be asked for until {until}" in notice.body
        assert NAME not in notice.subject + notice.body
        assert factories.signed_in_client(notice.recipient).get(notice.url).status_code == 200


def test_a_closure_tells_each_lead_once_and_an_adults_decision_tells_none(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    """A lead who is also the child's referrer (a council worker with the first responder
    role at the police, say) hears of a change once; an adult's case tells children's services
    nothing."""
    Membership.objects.create(user=lena, organisation=northmoor_police, role=Role.FIRST_RESPONDER)
    child = case_factories.withdrawn(
        lena, northmoor_police, authority, age_group=AgeGroup.CHILD, given_names=NAME
    )
    adult = case_factories.withdrawn(alice, northmoor_police, authority)
    Notification.objects.all().delete()

    case_factories.closed(child, by=dmitri)
    case_factories.closed(adult, by=dmitri)

    told = Notification.objects.filter(case=child).values_list("recipient__email", flat=True)
    assert sorted(told) == [gail.email, lena.email]
    assert not Notification.objects.filter(case=adult, recipient__in=[lena, gail]).exists()


# --- A task no local authority in OpenNRM can answer --------------------------------------------


@pytest.fixture
def farshire_guardians(db: None) -> Organisation:
    return factories.organisation(
        "Farshire Guardians", OrganisationKind.CHILD_GUARDIAN_SERVICE, area="Farshire"
    )


@pytest.fixture
def grace(farshire_guardians: Organisation) -> User:
    """Safeguarding lead of the child guardian service for Farshire, whose council is not in
    OpenNRM."""
    return factories.user(
        "grace@example.org", organisation=farshire_guardians, role=Role.SAFEGUARDING_LEAD
    )


def _farshire_task(alice: User, police: Organisation, authority: Organisation) -> tuple[Case, int]:
    # The referral form offers Farshire: it has a guardian service in OpenNRM.
    assert "Farshire" in steps.areas()
    child = case_factories.withdrawn(
        alice, police, authority, age_group=AgeGroup.CHILD, area="Farshire", given_names=NAME
    )
    task, _ = safeguarding.children_accommodation_task_open(
        case=child, needs=["A bed tonight"], due_on=timezone.localdate(), by=alice
    )
    assert task.owner is None
    return child, task.pk


def test_a_childs_case_whose_task_nobody_can_finish_can_still_be_closed(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
    grace: User,
) -> None:
    """A child referred in Farshire, where only the guardian service uses OpenNRM, asked for a
    bed tonight. Nobody could mark the task done, so once the child had left the case could
    never be closed (its retention never starting), and the refusal asked for something
    nobody in OpenNRM could do. Now the refusal names who can record what the council
    arranged, and once the guardian's lead (Grace) has, the decision maker closes the case;
    the task, the timeline and the audit trail say who recorded it, and for whom."""
    child, task_id = _farshire_task(alice, northmoor_police, authority)
    task = ChildrenServicesTask.objects.get(pk=task_id)
    # Testshire's council acts for Testshire's children only.
    assert not selectors.may_act_for(Actor.of_session(lena), child)
    with pytest.raises(ValidationError):
        safeguarding.children_services_task_done(by=lena, task=task, outcome="Placed")

    with pytest.raises(ValidationError) as refused:
        case_factories.closed(child, by=dmitri)
    said = " ".join(refused.value.messages)
    assert "nobody at the local authority for Farshire uses OpenNRM" in said
    assert "a decision maker of Test Competent Authority" in said
    assert "the child guardian service for Farshire" in said

    # The guardian's lead records it on the task page, which says for whom.
    client = factories.signed_in_client(grace)
    url = reverse("safeguarding:task", args=[task_id])
    page = client.get(url)
    assert page.status_code == 200
    assert "Nobody at the local authority for Farshire uses OpenNRM" in page.content.decode()
    done = client.post(url, {"outcome": "Foster placement by Farshire"})
    assert done.status_code == 302

    task.refresh_from_db()
    assert task.status == "done"
    assert task.done_by == grace
    assert task.outcome == (
        "Recorded by Farshire Guardians, as nobody at the local authority for Farshire uses "
        "OpenNRM: Foster placement by Farshire"
    )
    entry = CaseEvent.objects.filter(case=child, kind="safeguarding.task_done").get()
    assert "recorded by Farshire Guardians" in entry.description
    event = AuditEvent.objects.filter(action="children_services_task.done").latest("pk")
    assert (
        event.detail["recorded_instead_of_local_authority"]
        == Membership.objects.get(user=grace).organisation_id
    )

    case_factories.closed(child, by=dmitri)
    assert Case.objects.get(pk=child.pk).status == CaseStatus.CLOSED


def test_the_decision_maker_records_it_where_no_guardian_service_is_in_opennrm_either(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    grace: User,
) -> None:
    """With the guardian service's lead gone too, the decision maker who must close the case
    asks the council and records what it arranged, from a link on the case page."""
    child, task_id = _farshire_task(alice, northmoor_police, authority)
    Membership.objects.filter(user=grace).update(is_active=False)

    with pytest.raises(ValidationError) as refused:
        case_factories.closed(child, by=dmitri)
    assert "guardian service" not in " ".join(refused.value.messages)

    actor = Actor.of_session(dmitri)
    task = selectors.task_get(actor, task_id)
    assert selectors.may_finish(actor, task)
    shown = selectors.case_safeguarding(actor, child)
    assert shown is not None
    assert shown.recordable == {task_id}

    safeguarding.children_services_task_done(by=dmitri, task=task, outcome="Placed in foster care")
    task.refresh_from_db()
    assert task.outcome.startswith("Recorded by Test Competent Authority")
    case_factories.closed(child, by=dmitri)
    assert Case.objects.get(pk=child.pk).status == CaseStatus.CLOSED


def test_once_a_local_authority_lead_is_in_opennrm_only_they_record_the_task(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    grace: User,
) -> None:
    """Recording for the council is a fallback only: once Farshire's council has a
    safeguarding lead in OpenNRM, the guardian service and the decision maker may not record
    its task for it, and the refusal names the council again."""
    child, task_id = _farshire_task(alice, northmoor_police, authority)
    farshire = factories.organisation(
        "Farshire Council", OrganisationKind.LOCAL_AUTHORITY, area="Farshire"
    )
    fiona = factories.user("fiona@example.org", organisation=farshire, role=Role.SAFEGUARDING_LEAD)
    task = ChildrenServicesTask.objects.get(pk=task_id)

    for someone in (grace, dmitri):
        with pytest.raises(ValidationError):
            safeguarding.children_services_task_done(by=someone, task=task, outcome="Placed")
    with pytest.raises(ValidationError) as refused:
        case_factories.closed(child, by=dmitri)
    assert "Ask the local authority for Farshire to record the task" in " ".join(
        refused.value.messages
    )

    safeguarding.children_services_task_done(by=fiona, task=task, outcome="Placed")
    task.refresh_from_db()
    assert task.outcome == "Placed"


# --- A child's safety profile changed -----------------------------------------------------------


def test_a_risk_to_a_child_raised_to_very_high_reaches_the_guardian_service(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
    gail: User,
) -> None:
    """The referrer records that the men who exploited a child were seen outside his school:
    the local authority (Lena) was told, the guardian (Gail), who meets the child one to one
    and goes with them to interviews, was not. Both are told now, once each, naming neither
    the child nor a place."""
    child = _child(alice, northmoor_police, authority)
    Membership.objects.create(
        user=lena,
        organisation=Membership.objects.get(user=gail).organisation,
        role=Role.SAFEGUARDING_LEAD,
    )
    Notification.objects.all().delete()

    safety.safety_profile_save(
        by=alice,
        case=child,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The men who exploited him were seen outside his school",
        keep_away=["Dunmarsh"],
    )

    told = list(Notification.objects.filter(case=child).order_by("recipient__email"))
    assert [notice.recipient for notice in told] == [gail, lena]
    for notice in told:
        assert "very high" in notice.subject
        for secret in (NAME, "Dunmarsh", "school"):
            assert secret not in notice.subject + notice.body
        assert factories.signed_in_client(notice.recipient).get(notice.url).status_code == 200
    assert "guardian service acts" in told[0].body
