"""A delivery's stand-in notice (to the referring organisation's administrators, when no first
responder is left) is not counted in the service's audit event as the referrer told: the event
is the record of who was told the news (`deliver` writes no event of its own), and nobody on the
referring side was. Found in review: it said the referring side heard of an age dispute."""

from __future__ import annotations

import pytest

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.services import membership_set_active
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services as safeguarding

pytestmark = pytest.mark.django_db


def test_the_age_dispute_event_does_not_count_the_administrators_as_the_referrer_told(
    alice: User, olivia: User, northmoor_police: Organisation, dmitri: User, case: Case
) -> None:
    membership_set_active(
        by=olivia,
        membership=Membership.objects.get(user=alice, organisation=northmoor_police),
        active=False,
    )
    safeguarding.age_dispute_raise(
        by=dmitri, case=case, basis="appearance", expected_version=case.version
    )
    # Only the stand-in notice went to the referring side: Olivia, an administrator.
    assert Notification.objects.filter(recipient=olivia, case=None).count() == 1
    assert not Notification.objects.filter(case=case, recipient__in=[alice, olivia]).exists()
    event = AuditEvent.objects.get(action="age_dispute.raised")
    assert event.detail["told"]["referrer"] == 0, (
        f"the audit event says {event.detail['told']['referrer']} on the referring side were "
        "told of the age dispute; the only one told was an administrator, of no case"
    )
