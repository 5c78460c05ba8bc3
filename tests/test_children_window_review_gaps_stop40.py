"""Found in review of stop 40's change: a child's case status message to children's services."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.notifications.models import Notification

from . import case_factories


def test_a_refused_reconsideration_does_not_offer_a_window_that_has_closed(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    lena: User,
    gail: User,
) -> None:
    """Who is hurt: the child and those who act for them (the local authority's lead Lena and
    the guardian Gail). A negative reasonable grounds decision is made on a child; the referrer
    asks in time for a reconsideration; the competent authority refuses it weeks later, after
    the last day to ask has passed (a usual order of events: the answer is due long after the
    window closes).

    What happens now: `safeguarding.services._child_status_changed_told` adds "A
    reconsideration of the decision can be asked for until <reconsideration_until>" whenever
    the case is back in a negative status, so Lena and Gail are told, today, that a
    reconsideration can still be asked for until a date already past; they may plan on a right
    that has ended (the referrer's own form would refuse it as late).

    What should happen: the sentence is added only while the window is still open
    (`reconsideration_until >= today`); after it has closed the message says nothing of it,
    or says that it has closed."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    refused = case_factories.refused_at_reasonable_grounds(child, decider=dmitri, approver=sally)
    until = refused.reconsideration_until
    assert until is not None
    asked = decisions.reconsideration_request(
        by=alice,
        case=refused,
        grounds="New evidence from her school",
        expected_version=refused.version,
    )
    assert Case.objects.get(pk=child.pk).status == CaseStatus.RECONSIDERATION

    later = timezone.make_aware(datetime.combine(until + timedelta(days=20), time(11)))
    with time_machine.travel(later, tick=False):
        assert timezone.localdate() > until
        Notification.objects.all().delete()
        case = Case.objects.get(pk=child.pk)
        decisions.reconsideration_decide(
            by=dmitri,
            request=asked,
            accept=False,
            reasons="The new evidence does not change the decision.",
            expected_version=case.version,
        )
        assert Case.objects.get(pk=child.pk).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
        told = list(Notification.objects.filter(kind="children.case_status_changed", case=child))
        assert {n.recipient for n in told} == {lena, gail}
        for notice in told:
            assert f"can be asked for until {until:%-d %B %Y}" not in notice.body, (
                f"{notice.recipient.email} is told on {timezone.localdate():%-d %B %Y} that a "
                f"reconsideration can be asked for until {until:%-d %B %Y}: {notice.body}"
            )
