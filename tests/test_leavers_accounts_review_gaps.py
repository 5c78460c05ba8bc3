"""Gaps found by a review of leavers and movers (accounts, notifications, casework, the
decision queue), and closed.

A first responder who moved to another force was still e-mailed news of her old force's case
(ADR 0008, addendum of stop 36). A task whose owner moved to a role that cannot open its case
was in nobody's list (ADR 0027's rule, `casework.selectors._still_works_there`). A case whose
assignee left the competent authority was hidden from "Nobody yet" (ADR 0030, addendum of stop
36). An invitation asked for by a system administrator who left could be approved, and one sent
by an administrator who left was shown as "Sent" (ADR 0018, addendum of stop 36).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts import services as accounts
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.accounts.services import membership_change_role
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.casework import selectors as casework_selectors
from opennrm.casework import services as casework
from opennrm.decisions import selectors as decision_selectors
from opennrm.decisions.services import case_assign
from opennrm.notifications import tasks
from opennrm.notifications.models import Notification
from opennrm.referrals import services as referrals

from . import case_factories, factories

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def test_the_worker_does_not_email_a_referrer_who_moved_to_another_force_before_it_ran(
    alice: User,
    bob: User,
    olivia: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    case: Case,
    dmitri: User,
) -> None:
    """Dmitri asks Northmoor Police for more information on Alice's referral; the notices to
    Alice and Bob wait for the worker. Meanwhile Alice moves from Northmoor Police to Southvale
    Police: Olivia takes her Northmoor membership away and she joins Southvale as a first
    responder. When the worker runs, Alice is still e-mailed "More information asked for on
    <case>" with a link to a Northmoor case she can no longer open: `tasks._may_still_read`
    asks only whether she holds *some* role in force anywhere, and she does (at Southvale).
    Its own docstring says nobody "who left their organisation" is e-mailed; a leaver who moved
    on is one. Expected: the worker e-mails a notification about a case only to someone who may
    still open that case (or, at least, still holds a role in the organisation it was sent for);
    here, Bob alone."""
    with override_settings(TASKS=DUMMY_TASKS):
        referrals.information_request_ask(
            by=dmitri,
            case=case,
            question="When was she first recruited?",
            respond_by=timezone.localdate() + timedelta(days=7),
        )
    sent = list(Notification.objects.filter(kind="information.requested"))
    assert {n.recipient for n in sent} == {alice, bob}
    case_factories.leaves(alice, northmoor_police, by=olivia)
    Membership.objects.create(user=alice, organisation=southvale_police, role=Role.FIRST_RESPONDER)
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in sent])
    received = sorted(m.to[0] for m in mail.outbox)
    assert received == [bob.email], (
        f"a first responder who moved to another force was e-mailed news of a case of the "
        f"force she left: {received}"
    )


def test_a_task_whose_owner_moved_to_a_role_that_cannot_open_the_case_reaches_someone(
    council: Organisation, authority: Organisation
) -> None:
    """A local authority's first responder (Fay) refers an adult; her colleague Finn is given
    a task on the case. The council's administrator then moves Finn from first responder to
    safeguarding lead (a role the council may have). A safeguarding lead sees children's cases
    only, so Finn can no longer open this adult's case: the task leaves his "My tasks". But
    `_still_works_there` only asks whether he holds *some* case role at the council, so the
    task is not flagged as needing a new owner: it is not in Fay's list either, nor in anyone
    else's, and the case page does not say it needs a new owner. The work is silently orphaned.
    Expected: a task whose owner can no longer open its case through its organisation is
    flagged (needs_new_owner) and reaches its creator, as when the owner leaves."""
    fay = factories.user(organisation=council, role=Role.FIRST_RESPONDER, full_name="Fay First")
    finn = factories.user(organisation=council, role=Role.FIRST_RESPONDER, full_name="Finn F")
    admin = factories.user(organisation=council, role=Role.ORGANISATION_ADMIN)
    adult: Case = case_factories.case(
        referred_by=fay, referring_organisation=council, authority=authority
    )
    task = casework.case_task_add(
        by=fay,
        case=adult,
        title="Send the crime report to the competent authority",
        owner=finn,
        due_on=timezone.localdate(),
    )
    membership_change_role(
        by=admin,
        membership=Membership.objects.get(user=finn, organisation=council),
        role=Role.SAFEGUARDING_LEAD,
    )
    reaching = [
        user
        for user in (fay, finn)
        if task.pk in {t.pk for t in casework_selectors.tasks_for(Actor.of_session(user))}
    ]
    assert reaching, "an open task whose owner can no longer open the case is in nobody's list"
    flagged = casework_selectors.tasks_on_case(Actor.of_session(fay), adult).get(pk=task.pk)
    assert flagged.needs_new_owner, "the case page does not say the task needs a new owner"


def test_a_case_whose_assignee_left_is_among_those_assigned_to_nobody(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Sally assigns a conclusive grounds case to Dmitri. Dmitri leaves the competent authority
    (its administrator removes his membership). The conclusive grounds queue has no deadline and
    no daily reminder, so the case now waits on someone who will never decide it: the queue says
    "Assigned to Dmitri Dane", and the "Assigned to: Nobody yet" filter, which decision makers
    use to pick up work, leaves it out (`decisions.selectors.queue` filters
    `assigned_to__isnull=True`). Everywhere else OpenNRM treats an assignee who left as nobody
    (`cases.selectors.deciders_to_tell`, the reminders' "once their role is gone ... every
    decision maker there"). Expected: a case whose assignee no longer decides at the authority is
    listed with the cases assigned to nobody (or is unassigned when they leave)."""
    admin = factories.user(organisation=authority, role=Role.ORGANISATION_ADMIN)
    waiting: Case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
    )
    waiting = case_assign(by=sally, case=waiting, assignee=dmitri, expected_version=waiting.version)
    case_factories.leaves(dmitri, authority, by=admin)
    unassigned = decision_selectors.queue(
        Actor.of_session(sally),
        "conclusive-grounds",
        decision_selectors.QueueFilter(assigned="unassigned"),
    )
    everyone = decision_selectors.queue(
        Actor.of_session(sally), "conclusive-grounds", decision_selectors.QueueFilter()
    )
    assert waiting in list(everyone)
    assert waiting in list(unassigned), (
        "a case assigned to a decision maker who has left is not among the cases assigned to "
        "nobody: nobody picking up unassigned work finds it"
    )


@pytest.mark.page("decisions:queue")
def test_the_queue_row_of_a_case_whose_assignee_left_says_nobody_will_decide_it(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """The same case in the queue's table: the row named Dmitri as its assignee, so a decision
    maker scanning the queue took the case as in hand. Expected: the row says nobody will decide
    it, naming who no longer decides there; a case still assigned to a decider keeps the name."""
    admin = factories.user(organisation=authority, role=Role.ORGANISATION_ADMIN)
    waiting: Case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
    )
    waiting = case_assign(by=sally, case=waiting, assignee=dmitri, expected_version=waiting.version)
    held: Case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
    )
    case_assign(by=sally, case=held, assignee=sally, expected_version=held.version)
    case_factories.leaves(dmitri, authority, by=admin)
    page = (
        factories.signed_in_client(sally)
        .get(reverse("decisions:queue"), {"queue": "conclusive-grounds"})
        .content.decode()
    )
    row = re.search(rf"{waiting.reference}.*?</tr>", page, re.S)
    assert row is not None
    assert "Nobody: Dmitri Dane no longer decides here" in row.group(0)
    kept = re.search(rf"{held.reference}.*?</tr>", page, re.S)
    assert kept is not None
    assert f'<td class="govuk-table__cell">{sally.full_name}</td>' in kept.group(0)


def test_an_invitation_asked_for_by_a_system_administrator_who_left_cannot_be_approved(
    sysadmin: User, operator: Organisation, provider: Organisation
) -> None:
    """Sam, a system administrator, asks for an invitation of a support coordinator to Test
    Refuge; it waits for approval. Sam then leaves: a second system administrator removes his
    access. Test Refuge's administrator, seeing the invitation "Waiting for approval" on the
    members page, approves it: `invitation_approve` accepts (it checks only that the approver is
    not the asker), e-mails the invitee a link, and the invitee's click is then refused ("sent by
    someone who no longer manages access ... ask for a new one", `_refuse_unvouched`). The
    approver was asked to vouch for a request that could no longer give a role, and the invitee
    is sent a link that cannot work. Expected: the approval is refused with the reason (or the
    invitation is withdrawn when its asker leaves), and no link is e-mailed."""
    second = factories.user(organisation=operator, role=Role.SYSTEM_ADMIN)
    refuge_admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
    invitation, token = accounts.invitation_create(
        by=sysadmin,
        organisation=provider,
        email="new.coord@example.org",
        role=Role.SUPPORT_COORDINATOR,
    )
    assert invitation.waiting_for_approval
    assert token == ""
    accounts.membership_set_active(
        by=second, membership=Membership.objects.get(user=sysadmin), active=False
    )
    mail.outbox.clear()
    with pytest.raises(ValidationError):
        accounts.invitation_approve(by=refuge_admin, invitation=invitation)
    assert not [m for m in mail.outbox if "new.coord@example.org" in m.to], (
        "the invitee was e-mailed a link that the service will refuse"
    )


def test_an_invitation_sent_by_an_administrator_who_left_is_not_shown_as_sent(
    olivia: User, northmoor_police: Organisation
) -> None:
    """Olivia, Northmoor's administrator, invites a new first responder, then leaves (Otto, the
    other administrator, removes her access). The link can no longer give a role
    (`_refuse_unvouched`), and ADR 18's addendum says it is left unused "so a current
    administrator sees it and sends another". But the members page still lists it as "Sent",
    exactly like one that works: Otto has no way to know the new responder is waiting on a dead
    link. Expected: the members page says the invitation no longer works (its inviter left) so
    that a current administrator sends another (or it is withdrawn when the inviter leaves)."""
    otto = factories.user(organisation=northmoor_police, role=Role.ORGANISATION_ADMIN)
    accounts.invitation_create(
        by=olivia,
        organisation=northmoor_police,
        email="new.responder@example.org",
        role=Role.FIRST_RESPONDER,
    )
    accounts.membership_set_active(by=otto, membership=olivia.memberships.get(), active=False)
    page = factories.signed_in_client(otto).get(
        reverse("accounts:member_list", args=[northmoor_police.pk])
    )
    html = page.content.decode()
    row = html[html.index("new.responder@example.org") :]
    row = row[: row.index("</tr>")]
    tag = re.search(r"govuk-tag[^>]*>\s*([^<]*?)\s*</strong>", row)
    assert tag is not None
    assert tag.group(1) != "Sent", (
        "an invitation that can no longer be accepted (its inviter left) is shown as 'Sent'"
    )
