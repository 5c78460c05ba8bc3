"""The protection check, found by review: a person is protected by any of their referrals (one
Person, or confirmed linked), whichever reference is given (a reception reference too), and no
erasure lifts it; the pages are rate limited like the API; a planned removal is a read like a
check; the recovery period's end is not the protection's. And (stop 36) the coordinators told
when an assessment finds an adult whom children's services housed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.choices import CaseStatus as S
from opennrm.cases.models import Case
from opennrm.linkage.models import PairStatus
from opennrm.linkage.services import candidate_pair_review
from opennrm.notifications.models import Notification
from opennrm.operations import services as operations
from opennrm.privacy.models import Erasure
from opennrm.protection.selectors import protection_for_reference
from opennrm.protection.services import protection_check
from opennrm.referrals.models import DraftStatus
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import TaskStatus

from . import api_helpers, case_factories, factories, linkage_helpers
from . import operation_helpers as op


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def test_an_earlier_reference_of_a_protected_person_says_protected(
    case: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    ivan: User,
) -> None:
    """A person refused at reasonable grounds is referred again and the new referral awaits its
    RG decision: they are protected (CETS Art. 10(2); ADR 40: "removal is paused from referral
    until a negative RG"). Immigration enforcement usually holds the first reference. Both
    cases are one `Person` (ADR 52: "Referrals are one person when ... recorded for one Person
    row"), yet the old reference answers "No NRM protection recorded" and the officer may
    remove a protected person. ADR 40 already makes two references of one person (reception
    and case) give the same answer; the same should hold for a person's cases."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    Case.objects.filter(pk=case.pk).update(person=old.person)  # the new referral, same person
    assert protection_check(by=ivan, reference=case.reference).protected
    assert protection_check(by=ivan, reference=old.reference).protected


@override_settings(API_TOKEN_REQUESTS_PER_MINUTE=3)
def test_the_check_page_is_rate_limited_like_the_api(ivan: User) -> None:
    """The same check through the API is limited per token (ADR 13: "a leaked token could be
    used to read ... as fast as the server answers"). The page, reached with a stolen or shared
    officer session, is limited the same way: past the limit within a minute a check (or a
    planned removal) is refused with 429, nothing looked up or recorded, what was typed kept."""
    client = factories.signed_in_client(ivan)
    checks = AuditEvent.objects.filter(actor=ivan, action="person.viewed")
    before = checks.count()
    statuses = [
        client.post(reverse("protection:check"), {"reference": f"NRM-ZZZZ-{n:04d}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 200]
    refused = client.post(reverse("protection:check"), {"reference": "NRM-ZZZZ-0009"})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many requests: you may make 3 a minute" in page
    assert 'value="NRM-ZZZZ-0009"' in page
    removal = client.post(
        reverse("protection:planned_removal"),
        {"reference": "NRM-ZZZZ-0001", "planned_on-day": "1", "planned_on-month": "1"},
    )
    assert removal.status_code == 429
    assert checks.count() == before + 3


def test_a_referral_confirmed_as_the_same_person_protects_the_other(
    case: Case,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    ivan: User,
) -> None:
    """Two referrals of different `Person` rows that a decision maker confirmed are one person
    (linkage): the refused one is protected while the other awaits its decision, as a person's
    own referrals are. Unconfirmed, they are not: nothing is inferred from a possible match."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(old, case)
    assert not protection_check(by=ivan, reference=old.reference).protected

    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)

    assert protection_check(by=ivan, reference=old.reference).protected


def test_erasing_a_linked_earlier_referral_does_not_lift_the_protection_of_its_reference(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    ivan: User,
) -> None:
    """What the officer did: checked the reference enforcement holds for a person, an earlier
    referral (refused, closed) that a decision maker confirmed is the same person as a new
    referral now awaiting its reasonable grounds decision. Protected, as ADR 40's addendum and
    threat 35 promise ("a person ... confirmed linked to another referral, is protected
    whichever of their references is given").

    What happened: the earlier referral's person was then erased (on request here; retention
    does the same once that case has been closed long enough, ADR 52: "retention stays per
    person"). Erasure deletes the cluster memberships (`linkage_records_pseudonymise`), so
    `linkage.protection.linked_source` finds no link and the same reference now answers "No
    NRM protection recorded": the officer may remove a person whose other referral awaits its
    decision (CETS Art. 10(2)).

    What should happen: erasing identifying details must not lift protection from removal. The
    link that protects (case ids only, nothing identifying) should survive erasure for the
    protection source, or the erasure be refused while a linked referral protects the person."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(old, case)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    linkage_helpers.closed(old)
    assert protection_check(by=ivan, reference=old.reference).protected

    def erase() -> Erasure:
        return factories.person_erased(
            old.person,
            recorded_by=dpo,
            request_reference="DP-2027-001",
            request_received_on=timezone.localdate(),
        )

    # The fix: the erasure is refused, naming the referral that protects them for the officer.
    with pytest.raises(ValidationError, match=case.reference):
        erase()

    case.refresh_from_db()
    assert case.status == S.AWAITING_REASONABLE_GROUNDS  # still awaiting: still protected
    assert protection_check(by=ivan, reference=old.reference).protected
    assert not Erasure.objects.filter(person=old.person).exists()

    # Refused at reasonable grounds but still open (a reconsideration may reopen it): waits.
    Case.objects.filter(pk=case.pk).update(status=S.NEGATIVE_REASONABLE_GROUNDS)
    with pytest.raises(ValidationError, match=case.reference):
        erase()
    # Closed, protecting nobody: the erasure goes ahead.
    linkage_helpers.closed(case)
    erase()
    assert Erasure.objects.filter(person=old.person).exists()


def test_the_reception_reference_of_a_person_referred_again_says_protected(
    case: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    ivan: User,
) -> None:
    """What the officer did: checked the reception reference (OPR-...) their own operation gave
    a person taken in (ADR 43: "a reception reference is protected"); its draft became a case
    later refused at reasonable grounds, and the same person (one `Person`) was referred again
    and awaits the new decision.

    What happened: the case's reference says protected (ADR 40 addendum: "A reference now
    answers for the person"), but the reception reference, the one enforcement holds after an
    operation, answers "No NRM protection recorded": `operations.protection.reception_source`
    returns `case_finding(draft.case)`, the refused case's own finding, and never looks at the
    person's other referrals (nor confirmed links).

    What should happen: ADR 40, "both references give the same answer": the reception reference
    answers as the case's reference does (`nrm_source`/`first_protecting` over the person's
    other referrals and the confirmed links)."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="Ana Testova",
            sex="female",
            age_group="adult",
            language="ro",
            urgent_needs=[],
            interpreter_needed=False,
        )
    first = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    draft = record.draft
    assert draft is not None
    draft.status, draft.case, draft.answers = DraftStatus.SUBMITTED, first, {}
    draft.save()
    # Referred again: the new referral (awaiting its RG decision) is the same person.
    Case.objects.filter(pk=case.pk).update(person=first.person)

    assert protection_check(by=ivan, reference=first.reference).protected
    assert protection_check(by=ivan, reference=record.reference).protected


def test_a_planned_removal_is_on_the_data_protection_officers_page_like_a_check(
    ivan: User, dpo: User, case: Case
) -> None:
    """What the officer did: instead of the check page, recorded a planned removal for a
    reference (page or API), which answers the same question ("Removal must not proceed: a
    reasonable grounds decision is awaited") for any day within a year.

    What happened: the answer was given, but it is recorded only as a write
    (`removal.planned`, against the PlannedRemoval row); no read of the person is recorded, so
    the data-protection officer's "who looked at this person" page does not list it. An
    officer can learn a person's protection status, reason and dates through this route with
    nothing on the person's page (threat model 35: "every check is a read event naming who
    checked which reference, listed on the data-protection officer's page").

    What should happen: `planned_removal_record` records the answer it gives as a read of the
    person too (as `protection_check` does), so the DPO's page lists it."""
    day = timezone.localdate() + timedelta(days=3)
    response = factories.signed_in_client(ivan).post(
        reverse("protection:planned_removal"),
        {
            "reference": case.reference,
            "planned_on_day": str(day.day),
            "planned_on_month": str(day.month),
            "planned_on_year": str(day.year),
        },
    )
    assert "Removal must not proceed: a reasonable grounds decision is awaited" in (
        response.content.decode()
    )
    html = (
        factories.signed_in_client(dpo)
        .get(reverse("privacy:person_reads"), {"reference": case.reference})
        .content.decode()
    )
    assert "ivan@example.org" in html


def test_the_api_does_not_give_the_recovery_periods_end_as_the_last_day_of_protection(
    ivan: User, border_enforcement: Organisation, case: Case
) -> None:
    """What the officer did: checked, through the API, a person in their recovery period
    (positive RG, conclusive decision not made), whose recovery period ends in 10 days.

    What happened: the answer is `"until": <the recovery period's last day>`, which docs/api.md
    defines as "the protection's last day where one is known" (and `PlannedRemoval.
    protected_until` stores it so). But the protection does not end then: ADR 40's rule keeps
    the person protected after the recovery period until the conclusive grounds decision
    (CETS Art. 10(2)), and the check for the day after says so. An officer's system that plans
    from `until` is told a removal may proceed on a day it must not.

    What should happen: for a positive RG awaiting the CG, `until` is null (protection lasts
    until a decision), or the answer says the day is a minimum ("at least until"), as it
    already does for a negative CG's reconsideration window."""
    ends = timezone.localdate() + timedelta(days=10)
    Case.objects.filter(pk=case.pk).update(status=S.RECOVERY_PERIOD, recovery_period_ends=ends)
    _, secret = api_helpers.token(ivan, border_enforcement, scopes=[api_helpers.PROTECTION_CHECK])
    body = api_helpers.client_with(secret).get(f"/api/v1/protection/{case.reference}").json()
    assert body["protected"]
    # The day after that "last day", the same person is still protected (awaiting the CG).
    assert protection_for_reference(case.reference, ends + timedelta(days=1)).protection.protected
    assert body["until"] is None or "at least" in body["answer"], body


def test_found_an_adult_after_children_s_services_placed_them_the_coordinators_are_told(
    lena: User,
    cora: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """What the lead did: children's services placed an age-disputed person (the accommodation
    task marked done: "placed in foster care"), then recorded the age assessment, which found
    an adult.

    What happened: the case moves to the adult pathway and the children's placement, a duty
    owed to a child only, will end; but the support coordinators are told only if an
    accommodation task is still *open* (`services._tell_age_group_changed`: `wanted_place`
    looks at the tasks it closes). Here nobody in adult support is told that the person needs
    an adult place, and the adult pathway never picks them up.

    What should happen: ADR 25, "the decision maker, the referrer, the guardian service and (if
    a place was wanted) the support coordinators are told": a place was wanted (and children's
    services provided it), so the coordinators are told that the person found an adult needs
    an adult place."""
    disputed = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
    )
    task, _ = safeguarding.children_accommodation_task_open(
        case=disputed, needs=["A safe place to stay tonight"], due_on=timezone.localdate(), by=None
    )
    safeguarding.children_services_task_done(
        by=lena, task=task, outcome="Placed with foster carers by the council"
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    disputed = Case.objects.get(pk=disputed.pk)

    safeguarding.age_assessment_record(
        by=lena,
        case=disputed,
        outcome="adult",
        assessed_on=timezone.localdate(),
        reasons="A Merton-compliant assessment by two social workers.",
        expected_version=disputed.version,
    )

    disputed.refresh_from_db()
    assert disputed.age_group == AgeGroup.ADULT
    assert Notification.objects.filter(
        recipient=cora, case=disputed, kind="case.age_group_changed"
    ).exists()


def test_a_retention_run_reaches_the_people_behind_a_full_batch_it_must_pass_over(
    monkeypatch: pytest.MonkeyPatch,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Erasure now waits for a linked referral that still protects the person, and retention
    passes over whoever it refuses. Its loop stopped at a batch in which nobody was erased, so
    a batch's worth of people waiting stopped everyone behind them, night after night."""
    from opennrm.cases.models import Person
    from opennrm.privacy import selectors as privacy_selectors
    from opennrm.privacy import services as privacy

    from . import case_factories

    people = [
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            closed_at=timezone.now(),
        ).person_id
        for _ in range(3)
    ]
    monkeypatch.setattr(
        privacy_selectors,
        "people_past_retention",
        lambda today: Person.objects.filter(pk__in=people, erasure__isnull=True).order_by("pk"),
    )
    real_erase = privacy._erase
    refused = set(people[:2])

    def erase(*, person: Person, **kwargs: object) -> object:
        if person.pk in refused:
            raise ValidationError("A linked referral still protects them")
        return real_erase(person=person, **kwargs)

    monkeypatch.setattr(privacy, "_erase", erase)
    assert privacy.retention_apply(today=timezone.localdate(), batch=2).people_pseudonymised == 1
    assert list(Person.objects.filter(erasure__isnull=False).values_list("pk", flat=True)) == [
        people[2]
    ]
