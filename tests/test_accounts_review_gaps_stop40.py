"""Review gaps of stop 40 in accounts and in what ends, or is told, when someone leaves.

What is protected:
- the two-person rule of threat 31 for the roles that govern the service (system administrator,
  data-protection officer: `accounts.selectors.SERVICE_WIDE_ROLES`): given only by an invitation
  a second system administrator approves, whoever asks, never by a role change or by giving a
  removed membership back, and an invitation sent on one person's word does not work;
- a member's open invitations, which pressing "Change role" with the role unchanged leaves alone;
- the records an API token reaches: a member's tokens are revoked when their membership is
  taken away or given another role, so giving it back revives no old secret (threat 15);
- news of one organisation's cases that names no single case (a deadline digest, a move-on
  digest, a police force's notice of duty-to-notify intelligence): e-mailed only to someone
  still in force in that organisation when the worker sends it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts import selectors as account_selectors
from opennrm.accounts import services as accounts
from opennrm.accounts.models import Invitation, Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.api.models import ApiToken
from opennrm.audit.models import AuditEvent
from opennrm.care import reminders as move_on_reminders
from opennrm.cases.choices import CaseStatus
from opennrm.decisions import reminders
from opennrm.notifications import tasks
from opennrm.notifications.models import Notification

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r
from . import support_plan_helpers as h
from .test_duty_to_notify_intelligence import _report_with_intelligence

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def _invite(client: Any, organisation: Organisation, email: str, role: str) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("accounts:member_invite", args=[organisation.pk]),
            {"email": email, "role": role},
        )


def _link_to(email: str) -> str | None:
    bodies = [m.body for m in mail.outbox if email in m.to]
    return re.search(r"http://\S+/join/\S+/", bodies[-1]).group(0) if bodies else None


def _moves(who: User, left: Organisation, to: Organisation, role: Role) -> None:
    """`who` leaves `left` (an administrator there removes the membership) and holds `role` at
    `to`."""
    admin = factories.user(organisation=left, role=Role.ORGANISATION_ADMIN)
    case_factories.leaves(who, left, by=admin)
    Membership.objects.create(user=who, organisation=to, role=role)


# --- The roles that govern the service: two people's word ------------------------------------


def test_an_organisation_administrator_of_the_service_operator_cannot_make_a_system_administrator_alone(
    operator: Organisation, sysadmin: User
) -> None:
    """An organisation administrator of the service operator asks for a system administrator:
    the invitation waits, with no link, as a system administrator's own does. Otherwise two
    addresses of one insider approve each other's invitations to any organisation."""
    opadmin = factories.user(
        "opadmin@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    mail.outbox.clear()
    _invite(factories.signed_in_client(opadmin), operator, "friend@example.org", Role.SYSTEM_ADMIN)
    invitation = Invitation.objects.get(email="friend@example.org")
    assert invitation.waiting_for_approval
    assert _link_to("friend@example.org") is None, (
        "one organisation administrator of the service operator sent a working link that makes "
        "a system administrator, with nobody else approving"
    )


def test_only_another_system_administrator_approves_a_role_that_governs_the_service(
    operator: Organisation, sysadmin: User
) -> None:
    """A second organisation administrator of the operator cannot approve it (nor sees the
    button); a system administrator can, and only then does the link go out and work."""
    opadmin = factories.user(
        "opadmin@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    second = factories.user(
        "second@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    _invite(factories.signed_in_client(opadmin), operator, "friend@example.org", Role.SYSTEM_ADMIN)
    invitation = Invitation.objects.get(email="friend@example.org")

    members_page = factories.signed_in_client(second).get(
        reverse("accounts:member_list", args=[operator.pk])
    )
    assert "Approve" not in members_page.content.decode()
    with pytest.raises(ValidationError, match="Only another system administrator"):
        accounts.invitation_approve(by=second, invitation=invitation)

    members_page = factories.signed_in_client(sysadmin).get(
        reverse("accounts:member_list", args=[operator.pk])
    )
    assert "Approve" in members_page.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        accounts.invitation_approve(by=sysadmin, invitation=invitation)
    link = _link_to("friend@example.org")
    assert link is not None
    token = link.rstrip("/").rsplit("/", 1)[-1]
    sent = account_selectors.invitation_get_by_token_hash(accounts.hash_token(token))
    assert sent is not None
    friend = accounts.invitation_accept_as_new_user(
        invitation=sent, full_name="Fred Friend", password="a long passphrase 123"
    )
    assert Membership.objects.filter(user=friend, role=Role.SYSTEM_ADMIN, is_active=True).exists()


def test_a_system_administrator_who_administers_the_operator_still_needs_a_second_one(
    operator: Organisation, sysadmin: User
) -> None:
    """Being both system administrator and the operator's administrator is still one person:
    an invitation as data-protection officer waits for another system administrator."""
    Membership.objects.create(user=sysadmin, organisation=operator, role=Role.ORGANISATION_ADMIN)
    invitation, token = accounts.invitation_create(
        by=sysadmin,
        organisation=operator,
        email="officer@example.org",
        role=Role.DATA_PROTECTION_OFFICER,
    )
    assert invitation.waiting_for_approval
    assert token == ""
    with pytest.raises(ValidationError, match="someone else must approve"):
        accounts.invitation_approve(by=sysadmin, invitation=invitation)


def test_nobody_makes_a_system_administrator_by_changing_a_role_or_giving_access_back(
    operator: Organisation, sysadmin: User, dpo: User
) -> None:
    """A role change and giving a removed membership back are one person's act, so neither
    gives a role that governs the service; the page says to invite instead, and that
    invitation waits for another system administrator."""
    Membership.objects.create(user=sysadmin, organisation=operator, role=Role.ORGANISATION_ADMIN)
    staff = factories.user("staff@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN)
    staff_membership = Membership.objects.get(user=staff)
    response = factories.signed_in_client(sysadmin).post(
        reverse("accounts:membership_edit", args=[staff_membership.pk]),
        {"action": "role", "role": Role.SYSTEM_ADMIN},
    )
    assert "a second system administrator must agree" in response.content.decode()
    staff_membership.refresh_from_db()
    staff.refresh_from_db()
    assert staff_membership.role == Role.ORGANISATION_ADMIN
    assert not staff.is_superuser

    officer = Membership.objects.get(user=dpo)
    accounts.membership_set_active(by=sysadmin, membership=officer, active=False)
    page = factories.signed_in_client(sysadmin).get(
        reverse("accounts:membership_edit", args=[officer.pk])
    )
    assert "Give access back" in page.content.decode()  # the heading, with no button
    assert 'value="reactivate"' not in page.content.decode()
    with pytest.raises(ValidationError, match="a second system administrator must agree"):
        accounts.membership_set_active(by=sysadmin, membership=officer, active=True)
    officer.refresh_from_db()
    assert not officer.is_active

    # The way back: an invitation another system administrator approves.
    invitation, _ = accounts.invitation_create(
        by=sysadmin, organisation=operator, email=dpo.email, role=Role.DATA_PROTECTION_OFFICER
    )
    second = factories.user(organisation=operator, role=Role.SYSTEM_ADMIN)
    accounts.invitation_approve(by=second, invitation=invitation)
    accounts.invitation_accept_as_existing_user(invitation=invitation, user=dpo)
    officer.refresh_from_db()
    assert officer.is_active


def test_an_invitation_to_govern_the_service_sent_on_one_persons_word_no_longer_works(
    operator: Organisation, sysadmin: User
) -> None:
    """One sent before stop 40 by an organisation administrator of the operator alone (its
    link already out): the members page says it no longer works, and accepting it is
    refused."""
    opadmin = factories.user(
        "opadmin@example.org", organisation=operator, role=Role.ORGANISATION_ADMIN
    )
    invitation = Invitation.objects.create(
        email="friend@example.org",
        organisation=operator,
        role=Role.SYSTEM_ADMIN,
        token_hash=accounts.hash_token("sent-before-stop-40"),
        invited_by=opadmin,
        expires_at=timezone.now() + timedelta(days=7),
        needs_approval=False,
    )
    (listed,) = account_selectors.pending_invitations(operator)
    assert not listed.still_works
    with pytest.raises(ValidationError, match="no longer manages access"):
        accounts.invitation_accept_as_new_user(
            invitation=invitation, full_name="Fred Friend", password="a long passphrase 123"
        )
    assert not User.objects.filter(email="friend@example.org").exists()


# --- "Change role" with the role unchanged ----------------------------------------------------


def test_pressing_change_role_without_changing_it_withdraws_nothing(
    olivia: User, alice: User, northmoor_police: Organisation
) -> None:
    """A second administrator presses "Change role" on Alice's page with her current role
    still selected (or a stale tab sends it): nothing is recorded and the promotion she has not
    accepted yet is not withdrawn; the page says the role is already hers."""
    second_admin = factories.user(
        "second.admin@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    _invite(
        factories.signed_in_client(olivia), northmoor_police, alice.email, Role.ORGANISATION_ADMIN
    )
    link = _link_to(alice.email)
    promotion = Invitation.objects.get(email=alice.email, role=Role.ORGANISATION_ADMIN)
    membership = Membership.objects.get(user=alice, organisation=northmoor_police)

    response = factories.signed_in_client(second_admin).post(
        reverse("accounts:membership_edit", args=[membership.pk]),
        {"action": "role", "role": Role.FIRST_RESPONDER},
    )

    assert "They already have this role" in response.content.decode()
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()
    promotion.refresh_from_db()
    assert promotion.revoked_at is None, (
        "re-submitting a member's unchanged role withdrew her open invitation to another role"
    )
    factories.signed_in_client(alice).post(link)
    assert Membership.objects.filter(
        user=alice, organisation=northmoor_police, role=Role.ORGANISATION_ADMIN, is_active=True
    ).exists()


# --- A member's API tokens end with the membership or the role ---------------------------------


def test_a_removed_members_api_token_does_not_come_back_with_the_access(
    alice: User, olivia: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    """Alice leaves: removing her access revokes the token that acts for her there (counted in
    the membership's audit event), so giving the access back revives no secret that may have
    left with her."""
    token, secret = a.token(alice, northmoor_police)
    membership = Membership.objects.get(user=alice, organisation=northmoor_police)
    accounts.membership_set_active(by=olivia, membership=membership, active=False)
    assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    (event,) = AuditEvent.objects.filter(action="membership.deactivated")
    assert event.detail["api_tokens_revoked"] == 1

    second_admin = factories.user(
        "second.admin@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    accounts.membership_set_active(by=second_admin, membership=membership, active=True)
    assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 401, (
        "the API token of a member whose access was removed works again once it is given back"
    )


def test_a_members_token_ends_with_their_role_and_their_other_tokens_stay(
    dmitri: User, sally: User, authority: Organisation, northmoor_police: Organisation
) -> None:
    """A token acts with its member's roles in its organisation: once a decision maker is made
    a senior decision maker it would approve decisions nobody chose it to. Changing the role
    revokes it (the audit event counts it); a token of theirs in another organisation, and
    another member's, stay."""
    admin = factories.user(organisation=authority, role=Role.ORGANISATION_ADMIN)
    theirs, _ = a.token(dmitri, authority, scopes=["decisions:read"])
    hers, _ = a.token(sally, authority, scopes=["decisions:read"])
    Membership.objects.create(user=dmitri, organisation=northmoor_police, role=Role.FIRST_RESPONDER)
    elsewhere, _ = a.token(dmitri, northmoor_police)
    accounts.membership_change_role(
        by=admin,
        membership=Membership.objects.get(user=dmitri, organisation=authority),
        role=Role.SENIOR_DECISION_MAKER,
    )
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=hers.pk).revoked_at is None
    assert ApiToken.objects.get(pk=elsewhere.pk).revoked_at is None
    (event,) = AuditEvent.objects.filter(action="membership.role_changed")
    assert event.detail["api_tokens_revoked"] == 1


# --- News of one organisation's cases is e-mailed only to its members --------------------------


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_the_worker_does_not_email_a_deadline_digest_to_a_decider_who_moved_to_another_authority(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """Dmitri's digest of this authority's overdue cases is written, then he moves to another
    competent authority before the worker runs: the digest is the authority's news, so he is
    not e-mailed its cases (he holds a role in force elsewhere, which is not enough)."""
    case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        reasonable_grounds_due=date(2026, 3, 2),
        assigned_to=dmitri,
    )
    with override_settings(TASKS=DUMMY_TASKS):
        reminders.run(date(2026, 3, 4))
    (digest,) = Notification.objects.filter(recipient=dmitri)
    assert digest.emailed_at is None
    assert digest.organisation == authority

    elsewhere = factories.organisation(
        "Other Competent Authority", OrganisationKind.COMPETENT_AUTHORITY
    )
    _moves(dmitri, authority, elsewhere, Role.DECISION_MAKER)

    mail.outbox.clear()
    tasks.email_notifications.call([digest.pk])
    received = [m for m in mail.outbox if dmitri.email in m.to]
    assert not received, (
        "a decision maker who moved to another authority was e-mailed the overdue cases of the "
        f"one he left: {[m.body for m in received]}"
    )


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_a_decider_at_two_authorities_gets_a_digest_for_each(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """Each digest names one authority's cases and is that authority's news."""
    other = factories.organisation(
        "Other Competent Authority", OrganisationKind.COMPETENT_AUTHORITY
    )
    Membership.objects.create(user=dmitri, organisation=other, role=Role.DECISION_MAKER)
    for where in (authority, other):
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=where,
            reasonable_grounds_due=date(2026, 3, 2),
            assigned_to=dmitri,
        )
    reminders.run(date(2026, 3, 4))
    digests = Notification.objects.filter(recipient=dmitri)
    assert {n.organisation for n in digests} == {authority, other}
    assert all(n.body.startswith(f"Cases of {n.organisation.name}.") for n in digests)


def test_the_worker_does_not_email_a_move_on_digest_to_a_manager_who_moved_to_another_provider(
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
) -> None:
    """Maya manages the provider's houses when the move-on digest is written; she moves to
    another provider before the worker runs: the digest is her old provider's, so she is not
    e-mailed it. The coordinators are told nationally, with no provider (ADR 0008, stop 38)."""
    case = case_factories.consenting(
        alice,
        northmoor_police,
        authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        submitted_at=timezone.now(),
        move_on_ends=timezone.localdate() + timedelta(days=7),
    )
    h.living(cora, maya, provider, case)
    with override_settings(TASKS=DUMMY_TASKS):
        move_on_reminders.run(timezone.localdate())
    digests = Notification.objects.filter(kind="support.move_on_reminder")
    assert {(n.recipient, n.organisation) for n in digests} == {
        (maya, provider),
        (cora, None),
    }

    other = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    _moves(maya, provider, other, Role.SAFE_HOUSE_MANAGER)
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in digests])
    assert [m.to for m in mail.outbox] == [[cora.email]]


def test_the_worker_does_not_email_an_intelligence_notice_to_an_officer_who_moved_force(
    alice: User, charlie: User, southvale_police: Organisation, routing: Organisation
) -> None:
    """A duty-to-notify report's intelligence is told to the police of its area; Charlie moves
    from Southvale Police to a force elsewhere before the worker runs, and is not e-mailed."""
    client = factories.signed_in_client(alice)
    draft = _report_with_intelligence(client)
    with override_settings(TASKS=DUMMY_TASKS):
        r.submit(client, draft)
    notice = Notification.objects.get(kind="report.intelligence", recipient=charlie)
    assert notice.organisation == southvale_police

    elsewhere = factories.organisation("Far Away Police", area="Elsewhere")
    _moves(charlie, southvale_police, elsewhere, Role.FIRST_RESPONDER)
    mail.outbox.clear()
    tasks.email_notifications.call([notice.pk])
    assert not [m for m in mail.outbox if charlie.email in m.to]
