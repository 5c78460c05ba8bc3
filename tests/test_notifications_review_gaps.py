"""Review of notifications: who is told, what the worker e-mails, and the notification pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.accounts.services import membership_set_active
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, CaseEvent, Person, PersonIdentity
from opennrm.decisions import services as decisions
from opennrm.decisions.models import ReconsiderationRequest
from opennrm.notifications import tasks
from opennrm.notifications.models import Notification
from opennrm.notifications.services import deliver
from opennrm.privacy import services as privacy
from opennrm.referrals import services as referrals
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.coming_of_age import eighteenth_birthday, years_later

from . import case_factories, factories

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def test_a_decision_maker_who_left_is_not_told_the_referrer_answered_their_request(
    alice: User, authority: Organisation, case: Case, dmitri: User, sally: User
) -> None:
    """Dmitri asked Northmoor Police for more information, then left the competent authority
    (his membership was taken away). When Alice answers, the news of the victim's case must go
    to the decision makers still at the authority, not by e-mail to someone who has left
    (ADR 0008 addendum 2026-12-04: "nobody who has left is told"; threat model row 27)."""
    asked = referrals.information_request_ask(
        by=dmitri,
        case=case,
        question="When was she first recruited?",
        respond_by=timezone.localdate() + timedelta(days=7),
    )
    admin = factories.user(organisation=authority, role=Role.ORGANISATION_ADMIN)
    membership_set_active(
        by=admin,
        membership=Membership.objects.get(user=dmitri, organisation=authority),
        active=False,
    )
    referrals.referral_addition_add(
        by=alice, case=case, text="Recruited in March.", answers=asked, max_bytes=10**6
    )
    told = set(
        Notification.objects.filter(case=case, kind="referral.information_added").values_list(
            "recipient__email", flat=True
        )
    )
    assert sally.email in told, told
    assert dmitri.email not in told, told


@pytest.mark.django_db
def test_retrying_a_partly_failed_email_task_does_not_email_the_others_again(
    monkeypatch: Any,
) -> None:
    """ADR 0008: "An e-mail that fails is retried ... through the worker", and the task fails
    when one e-mail of several could not be sent. Retrying it must send only what was not
    sent: each person told once, not a second copy of the news of a victim's case to everyone
    the first run already reached (a duplicate alert also teaches people to ignore alerts)."""
    organisation = factories.organisation()
    people = [
        factories.user(
            email=f"retry{i}@example.test", organisation=organisation, role=Role.FIRST_RESPONDER
        )
        for i in range(3)
    ]
    with override_settings(TASKS=DUMMY_TASKS):
        sent = deliver(recipients=people, kind="test", subject="Case NRM-1", body="Read it")
    ids = [n.pk for n in sent]
    real = tasks._send
    down = {"first": True}

    def failing_once_for_the_first(notification: Any) -> None:
        if notification.pk == ids[0] and down["first"]:
            down["first"] = False
            raise OSError("mail server down")
        real(notification)

    monkeypatch.setattr(tasks, "_send", failing_once_for_the_first)
    mail.outbox.clear()
    with pytest.raises(RuntimeError):
        tasks.email_notifications.call(ids)
    tasks.email_notifications.call(ids)  # the retry
    received = sorted(m.to[0] for m in mail.outbox)
    assert received == sorted(p.email for p in people), received


@pytest.mark.django_db
def test_the_worker_does_not_email_an_account_switched_off_before_it_ran() -> None:
    """The e-mail goes out later, from the worker (ADR 0008; with the database backend the task
    waits in a queue, and is retried). An account switched off meanwhile (someone who left, or
    an account taken over) must not be e-mailed the news: `deliver` itself tells no inactive
    account, and the e-mail leaves the service (threat model row 27)."""
    leaver = factories.user(
        email="leaver@example.test",
        organisation=factories.organisation(),
        role=Role.FIRST_RESPONDER,
    )
    with override_settings(TASKS=DUMMY_TASKS):
        sent = deliver(recipients=[leaver], kind="test", subject="Case NRM-1", body="News")
    User.objects.filter(pk=leaver.pk).update(is_active=False)
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in sent])
    assert [m.to for m in mail.outbox] == []


def _asked_then_moved(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> tuple[Case, ReconsiderationRequest]:
    """Maya, a safe-house manager at Test Refuge where the person lives, asks for their negative
    decision to be reconsidered, then leaves Test Refuge for another charity's safe house."""
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    request = decisions.reconsideration_request(
        by=maya,
        case=case,
        grounds="She has told us more about the work.",
        expected_version=case.version,
        support_provider=provider,
    )
    Membership.objects.filter(user=maya, organisation=provider).update(is_active=False)
    elsewhere = factories.organisation("Elsewhere Charity", OrganisationKind.SUPPORT_PROVIDER)
    Membership.objects.create(user=maya, organisation=elsewhere, role=Role.SAFE_HOUSE_MANAGER)
    return case, request


def test_a_manager_who_moved_to_another_provider_is_not_told_of_the_reconsideration(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Maya, a safe-house manager at Test Refuge where the person lives, asked for their negative
    decision to be reconsidered. She then left Test Refuge (her membership there was ended) and
    became a safe-house manager at another charity. When Dmitri refuses the reconsideration,
    Maya is still e-mailed "Reconsideration refused on <case>" with a link to the person's
    support plan, which she can no longer open (404): news of a victim's case reaching someone
    who left the provider, while nobody at Test Refuge hears it. Only someone who still acts for
    the provider that asked should be told (ADR 8: "nobody who has left is told")."""
    case, request = _asked_then_moved(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    # She cannot open the plan the message links to.
    plan = reverse("support:plan", args=[case.reference])
    assert factories.signed_in_client(maya).get(plan).status_code == 404

    case.refresh_from_db()
    decisions.reconsideration_decide(
        by=dmitri,
        request=ReconsiderationRequest.objects.get(pk=request.pk),
        accept=False,
        reasons="The new account does not change the decision.",
        expected_version=case.version,
    )
    told = Notification.objects.filter(kind="reconsideration.decided", recipient=maya)
    assert not told.exists(), [n.subject for n in told]


def test_erasing_a_person_who_turned_18_leaves_no_date_of_birth_on_the_timeline(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    """A child referred by Alice turned 18 by the date of birth recorded, and the daily task
    moved the case to the adult pathway (telling everyone acting on it). The case then closed
    and the person asked to be erased. After the erasure, the case's timeline (shown to the
    referrer, the decision makers and children's services) still reads "Age group changed from
    child to adult: turned 18 on <day month year>, by the date of birth recorded": the 18th
    birthday, which gives away the date of birth the erasure removed. Erasure must leave no
    date of birth anywhere (ADR 14); the timeline should say "turned 18" without the day, or
    the erasure should empty it."""
    born = years_later(timezone.localdate(), -18)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=born,
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    assert coming_of_age.run(timezone.localdate()).turned_18 == 1
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=timezone.now())

    privacy._erase(person=Person.objects.get(pk=case.person_id), reason="request", by=None)

    assert not PersonIdentity.objects.filter(person_id=case.person_id).exists()
    birthday = eighteenth_birthday(born)
    left = [
        e.description
        for e in CaseEvent.objects.filter(case=case)
        if f"{birthday:%-d %B %Y}" in e.description
    ]
    assert left == [], left


def test_the_worker_does_not_email_a_referrer_who_left_before_it_ran(
    alice: User,
    bob: User,
    olivia: User,
    northmoor_police: Organisation,
    case: Case,
    dmitri: User,
) -> None:
    """Dmitri asks Northmoor Police for more information on Alice's referral; the notices to
    Alice and Bob are written and their e-mails wait for the worker (the database queue, or a
    retry after the mail server failed). Meanwhile Alice leaves Northmoor Police: Olivia takes
    her membership away (her account stays, as it does when someone leaves one organisation).
    When the worker runs, Alice is still e-mailed "More information asked for on <case>" with a
    link she can no longer open. ADR 8 (2026-12-05): "each e-mail once, and only to who may still
    read it", and (2026-12-04) "nobody who has left is told": the worker should check that the
    recipient still holds a role in force, not only that the account is switched on."""
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
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in sent])
    received = sorted(m.to[0] for m in mail.outbox)
    assert received == [bob.email], received


def test_childrens_services_told_a_child_turned_18_can_open_the_link(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
    gail: User,
) -> None:
    """A child referred by Alice turns 18 and the daily task moves the case to the adult
    pathway. Lena (the local authority's safeguarding lead, told "Your duties to them as a care
    leaver may go on ... Plan their move to adult support with them") and Gail (the child
    guardian service) are each sent a notice linking to the case page. They open it and get
    "Page not found": a safeguarding lead sees only children's cases, and this one is now an
    adult's. ADR 8 (2026-12-04): "every link opens"; the link should lead somewhere they may
    open (their caseload or task), or they should be told without a link to the case."""
    born = years_later(timezone.localdate(), -18)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=born,
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    assert coming_of_age.run(timezone.localdate()).turned_18 == 1

    opened = {}
    for lead in (lena, gail):
        notice = Notification.objects.get(case=case, kind=coming_of_age.KIND, recipient=lead)
        assert notice.url
        opened[lead.email] = factories.signed_in_client(lead).get(notice.url).status_code
    assert opened == {lena.email: 200, gail.email: 200}, opened


def test_the_timeline_does_not_say_the_guardian_service_was_told_when_none_was(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
) -> None:
    """A child in Testshire needs a place: the need becomes a task of the local authority, whose
    safeguarding lead Lena is told. No child trafficking guardian service for Testshire uses
    OpenNRM, so nobody there is told (the service counts 0). Yet the case's timeline, which the
    decision maker and the referrer read to know who knows of the child, says "Accommodation
    need sent to Test Council children's services; the child guardian service told". Nobody
    refers the child to the guardian service because the record says it was done. ADR 15 "told
    means told": the timeline says "told" only of those OpenNRM actually told."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    _task, told = safeguarding.children_accommodation_task_open(
        case=child, needs=["A safe place tonight"], due_on=timezone.localdate(), by=alice
    )
    assert told == {"local_authority": 1, "guardian_service": 0}
    event = CaseEvent.objects.get(case=child, kind="safeguarding.accommodation_task")
    assert "guardian service told" not in event.description, event.description


def test_the_provider_that_asked_hears_the_answer_through_someone_who_still_acts_for_it(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Maya asked for Test Refuge, then left it for another provider. The answer goes to Test
    Refuge's own support coordinator, Cora, with a link to the support plan she can open."""
    case, request = _asked_then_moved(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    case.refresh_from_db()
    decisions.reconsideration_decide(
        by=dmitri,
        request=ReconsiderationRequest.objects.get(pk=request.pk),
        accept=False,
        reasons="The new account does not change the decision.",
        expected_version=case.version,
    )
    told = Notification.objects.filter(kind="reconsideration.decided")
    assert [n.recipient for n in told] == [cora]
    assert factories.signed_in_client(cora).get(told[0].url).status_code == 200


def test_no_message_of_a_child_turning_18_gives_the_birthday(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    """What everyone is told of a child turning 18 says so without the day, which would give
    away the date of birth: the timeline entry, and every notice sent."""
    born = years_later(timezone.localdate(), -18)
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=born,
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    assert coming_of_age.run(timezone.localdate()).turned_18 == 1
    birthday = eighteenth_birthday(born)
    days = {f"{day:%-d %B %Y}" for day in (born, birthday)} | {
        day.isoformat() for day in (born, birthday)
    }
    texts = [
        text for n in Notification.objects.filter(case=case) for text in (n.subject, n.body, n.url)
    ]
    texts += [e.description for e in CaseEvent.objects.filter(case=case)]
    assert len(texts) > 4
    assert [t for t in texts if any(day in t for day in days)] == []
    event = CaseEvent.objects.get(case=case, kind="case.age_group_changed")
    assert event.description.endswith("turned 18, by the date of birth recorded")


def test_the_guardian_service_told_a_person_was_found_an_adult_can_open_the_link(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    """An age assessment finds an age-disputed person an adult: the child guardian service,
    which sees only children's cases, is sent a link it can open and told whom to ask."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    case.refresh_from_db()
    safeguarding.age_dispute_raise(
        by=dmitri, case=case, basis="says_so", expected_version=case.version
    )
    case.refresh_from_db()
    safeguarding.age_assessment_record(
        by=lena,
        case=case,
        outcome="adult",
        assessed_on=timezone.localdate(),
        reasons="Synthetic reasons.",
        expected_version=case.version,
    )
    notice = Notification.objects.get(case=case, kind="case.age_group_changed", recipient=gail)
    assert factories.signed_in_client(gail).get(notice.url).status_code == 200
    assert authority.name in notice.body


def test_the_timeline_says_the_guardian_service_was_told_when_it_was(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
    gail: User,
) -> None:
    """Where the area's guardian service uses OpenNRM, the timeline says it was told."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    _task, told = safeguarding.children_accommodation_task_open(
        case=child, needs=["A safe place tonight"], due_on=timezone.localdate(), by=alice
    )
    assert told == {"local_authority": 1, "guardian_service": 1}
    event = CaseEvent.objects.get(case=child, kind="safeguarding.accommodation_task")
    assert event.description.endswith("; the child guardian service told"), event.description
