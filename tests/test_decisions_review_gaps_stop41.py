"""Review (decision maker, senior decision maker): the daily deadline reminders left out every
case whose reasonable grounds decision was suspended while the person was missing, even after
the person came back. Back, the decision can be made (ADR 0010), the queue lists the case apart
with its deadline tagged as any other (ADR 0030), and the care service tells the authority so;
but `decisions.reminders` read the queue's own status only, so nobody was reminded of such a
case falling due, nor escalated once it was overdue. A case whose person is still missing is
not reminded of: there is nobody to decide on yet.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date

import time_machine
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.care.models import MissingEpisode
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import reminders
from opennrm.decisions.models import Reminder
from opennrm.notifications.models import Notification

from . import case_factories, factories

RUN_DAY = date(2026, 3, 4)


def _suspended(
    *,
    alice: User,
    police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    due: date,
    back: bool,
) -> Case:
    """A case assigned to Dmitri, its reasonable grounds decision due on `due`: the person,
    living with `provider`, went missing on 1 March and Dmitri suspended the decision on 2
    March; with `back`, Maya recorded their return on 3 March."""
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False):
        case = case_factories.housed(
            alice,
            police,
            authority,
            cora,
            maya,
            provider,
            submitted_at=timezone.now(),
            reasonable_grounds_due=due,
            assigned_to=dmitri,
        )
    case = factories.suspended_while_missing(
        case,
        reported_by=maya,
        decider=dmitri,
        missing_at="2026-03-01 09:00:00+00:00",
        suspended_at="2026-03-02 10:00:00+00:00",
        returned_at="2026-03-03 15:00:00+00:00" if back else None,
    )
    assert case.status == CaseStatus.RG_SUSPENDED
    assert MissingEpisode.objects.filter(case=case, returned_on=None).exists() is not back
    return case


def _digest(user: User) -> Notification:
    return Notification.objects.get(recipient=user, kind__startswith="decision.")


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_a_suspended_case_whose_person_is_back_is_reminded_when_due_soon(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> None:
    """Dmitri suspended a reasonable grounds decision while the person was missing; they came
    back the day before the decision falls due. The morning's run reminds him of it, due soon,
    with the date the queue and the case page show (the stored deadline: the clock does not
    stop while the person is missing), and records the reminder."""
    case = _suspended(
        alice=alice,
        police=northmoor_police,
        authority=authority,
        cora=cora,
        maya=maya,
        provider=provider,
        dmitri=dmitri,
        due=date(2026, 3, 5),
        back=True,
    )
    result = reminders.run(RUN_DAY)
    assert (result.reminders, result.escalations) == (1, 0)
    digest = _digest(dmitri)
    assert digest.kind == "decision.reminder"
    assert digest.subject == "Reasonable grounds decisions: 1 due within 2 days"
    assert f"due within 2 days: {case.reference} (due 5 March)." in digest.body
    assert list(Reminder.objects.filter(case=case).values_list("kind", "due_on")) == [
        ("rg_due_soon", date(2026, 3, 5))
    ]


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_a_suspended_case_whose_person_is_still_missing_is_not_reminded(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """The same case while the person is still missing, and another suspended without a
    missing episode recorded at all: nobody can decide on them yet, so neither Dmitri nor Sally
    hears of them, overdue or not, and no reminder is recorded. (A case awaiting its decision
    as usual, due soon, is in the digest, so the run did read the queue.)"""
    missing = _suspended(
        alice=alice,
        police=northmoor_police,
        authority=authority,
        cora=cora,
        maya=maya,
        provider=provider,
        dmitri=dmitri,
        due=date(2026, 3, 3),
        back=False,
    )
    never_recorded = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RG_SUSPENDED,
        reasonable_grounds_due=date(2026, 3, 5),
        assigned_to=dmitri,
    )
    awaited = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        reasonable_grounds_due=date(2026, 3, 5),
        assigned_to=dmitri,
    )
    result = reminders.run(RUN_DAY)
    assert (result.reminders, result.escalations) == (1, 0)
    digest = _digest(dmitri)
    assert awaited.reference in digest.body
    assert missing.reference not in digest.body
    assert never_recorded.reference not in digest.body
    assert not Notification.objects.filter(recipient=sally, kind__startswith="decision.").exists()
    assert not Reminder.objects.filter(case__in=[missing, never_recorded]).exists()


@time_machine.travel("2026-03-04 06:00:00+00:00", tick=False)
def test_a_suspended_case_overdue_after_the_return_is_escalated(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """The person came back on 3 March; the decision was due on 2 March, while they were
    missing. The morning's run lists the case as overdue, to Dmitri and to Sally, the senior
    decision maker, and records the escalation."""
    case = _suspended(
        alice=alice,
        police=northmoor_police,
        authority=authority,
        cora=cora,
        maya=maya,
        provider=provider,
        dmitri=dmitri,
        due=date(2026, 3, 2),
        back=True,
    )
    result = reminders.run(RUN_DAY)
    assert (result.reminders, result.escalations) == (0, 1)
    for user in (dmitri, sally):
        digest = _digest(user)
        assert digest.kind == "decision.escalation"
        assert digest.subject == "Reasonable grounds decisions: 1 overdue"
        assert (
            f"Cases needing a reasonable grounds decision, overdue: {case.reference} "
            "(due 2 March)." in digest.body
        )
    assert list(Reminder.objects.filter(case=case).values_list("kind", "due_on")) == [
        ("rg_overdue", date(2026, 3, 2))
    ]
