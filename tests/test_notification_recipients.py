"""Notifications: every link leads to a page the recipient may open, and nobody whose
membership was taken away is still told about the organisation's cases."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accommodation.models import ExitReason
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.accounts.services import membership_set_active
from opennrm.cases.choices import CaseStatus, CloseReason
from opennrm.cases.models import Case
from opennrm.cases.services import case_close
from opennrm.decisions.services import case_assign
from opennrm.notifications.models import Notification
from opennrm.safeguarding.services import age_dispute_raise
from tests import case_factories, factories
from tests import support_plan_helpers as h


def _follow(user: User, notification: Notification) -> int:
    """Open the notification as its recipient does (POST .../open/), then follow the link."""
    client = factories.signed_in_client(user)
    opened = client.post(f"/notifications/{notification.pk}/open/")
    assert opened.status_code == 302
    return client.get(opened["Location"]).status_code


def test_the_coordinator_told_a_place_was_accepted_can_open_the_link(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    placement = h.offered(cora, maya, provider, case)
    services.placement_respond(by=maya, placement=placement, accept=True)
    told = Notification.objects.get(recipient=cora, kind="placement.accepted")
    assert _follow(cora, told) == 200, f"{told.url} is not found for the coordinator told"
    # The referrer's link stays the case page.
    (referrer,) = Notification.objects.filter(kind="placement.accepted").exclude(recipient=cora)
    assert referrer.url == f"/cases/{case.reference}/"


def test_the_coordinator_told_a_person_left_their_place_can_open_the_link(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    placement = h.living(cora, maya, provider, case)
    services.placement_end(
        by=maya, placement=placement, on=timezone.localdate(), reason=ExitReason.MOVED_ON
    )
    told = Notification.objects.get(recipient=cora, kind="placement.ended")
    assert _follow(cora, told) == 200, f"{told.url} is not found for the coordinator told"


def test_a_referrer_whose_membership_was_removed_is_not_told_of_the_case(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bob = factories.user(
        "bob@example.org", organisation=northmoor_police, role=Role.FIRST_RESPONDER
    )
    withdrawn = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RG_WITHDRAWN,
    )
    # Alice leaves Northmoor Police: her administrator takes her access away.
    membership_set_active(
        by=olivia,
        membership=Membership.objects.get(user=alice, organisation=northmoor_police),
        active=False,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_close(
            by=dmitri,
            case=withdrawn,
            reason=CloseReason.LEFT,
            expected_version=withdrawn.version,
        )
    assert not Notification.objects.filter(recipient=alice, case=withdrawn).exists()
    assert [m for m in mail.outbox if alice.email in m.to] == []
    # The news goes to the first responders still at the organisation.
    told = Notification.objects.filter(case=withdrawn, kind="case.status_changed")
    assert {n.recipient for n in told} == {bob}


def test_an_age_dispute_reaches_the_authoritys_deciders_when_its_assignee_has_left(
    alice: User,
    authority: Organisation,
    case: Case,
    dmitri: User,
    sally: User,
) -> None:
    case = case_assign(by=sally, case=case, assignee=dmitri, expected_version=case.version)
    # Dmitri leaves the competent authority: an administrator there takes his access away.
    admin = factories.user(organisation=authority, role=Role.ORGANISATION_ADMIN)
    membership_set_active(
        by=admin,
        membership=Membership.objects.get(user=dmitri, organisation=authority),
        active=False,
    )
    age_dispute_raise(by=alice, case=case, basis="appearance", expected_version=case.version)

    told = set(
        Notification.objects.filter(case=case, kind="case.age_disputed").values_list(
            "recipient__email", flat=True
        )
    )
    # A decision maker still at the authority must hear the person is now treated as a child;
    # the one who left must not.
    assert sally.email in told, told
    assert dmitri.email not in told, told
