"""Three gaps in enforcement operations, mended:

1. A person taken in as an adult whose referral's age page later says they are under 18 (or
   their age is disputed) is a child from then: the operation's children's services are told,
   once, as they would have been at reception.
2. The alert of a child taken in finds a stand-in: when a children's services partner has no
   safeguarding lead left, its administrators (else the system administrators) are told that
   news waits, never the news, and the audit event does not count them as told.
3. A provider whose beds held for an operation end sooner, because the operation's end moved
   earlier, is told the new end of the hold (and, for an operation still secret, nothing of it).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup as CaseAgeGroup
from opennrm.notifications.models import Notification
from opennrm.operations import selectors, surge
from opennrm.operations import services as operations
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord
from opennrm.referrals import services as referrals
from opennrm.referrals import steps

from . import factories
from . import operation_helpers as op
from . import support_factories as s

pytestmark = pytest.mark.django_db

NAME = "young man in red"
CHILD_NEWS = "operations.child_taken_in"
STAND_IN = "operations.no_safeguarding_lead"
HOLDS_NEWS = "operations.holds_shortened"


def _last_notification() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _notified_since(last: int, kind: str | None = None) -> list[Notification]:
    found = Notification.objects.filter(pk__gt=last)
    if kind is not None:
        found = found.filter(kind=kind)
    return list(found.order_by("pk"))


def _last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-pk").first()  # type: ignore[return-value]


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        return op.operation(alice, northmoor_police)


def _invite(alice: User, operation: Operation, organisation: Organisation, role: str) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=organisation, role=role
        )


@pytest.fixture
def invited(
    larkspur: Operation, alice: User, council: Organisation, lena: User, gail: User
) -> Operation:
    """The council (Lena its safeguarding lead) and the guardian service (Gail) invited."""
    _invite(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    _invite(
        alice,
        larkspur,
        gail.memberships.get().organisation,
        PartnerRole.CHILD_GUARDIAN_SERVICE,
    )
    return larkspur


def _take_in(
    alice: User, operation: Operation, age_group: str = "adult", when: str = op.DURING
) -> ReceptionRecord:
    with time_machine.travel(when, tick=False):
        return operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description=NAME,
            sex="male",
            age_group=age_group,
            urgent_needs=["bed_tonight"],
        )


def _age_page(alice: User, record: ReceptionRecord, answers: dict[str, str]) -> None:
    assert record.draft is not None
    with time_machine.travel(op.DURING, tick=False):
        referrals.draft_save_answers(
            by=alice, draft=record.draft, step=steps.STEP_BY_SLUG["age"], data=answers
        )


# --- 1. A child found at referral -------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ({"under_18": "yes"}, "under 18"),
        ({"under_18": "not_sure", "reason_to_believe_child": "yes"}, "age is disputed"),
    ],
)
def test_children_services_are_told_once_when_the_age_page_says_child(
    invited: Operation,
    alice: User,
    lena: User,
    gail: User,
    answers: dict[str, str],
    said: str,
) -> None:
    record = _take_in(alice, invited)
    last = _last_notification()
    assert not _notified_since(0, CHILD_NEWS)  # an adult at reception: nobody told then

    _age_page(alice, record, answers)

    told = _notified_since(last, CHILD_NEWS)
    assert {n.recipient for n in told} == {lena, gail}
    for notice in told:
        shown = f"{notice.subject} {notice.body}"
        assert NAME not in shown
        assert f"person {record.sequence}" in shown
        assert said in notice.body
    saved = _last_event("referral.answers_saved")
    assert saved.detail["children_services_told"] == 2
    record.refresh_from_db()
    assert record.found_child_at is not None

    # Saved again, or changed to adult and back: never told twice.
    last = _last_notification()
    _age_page(alice, record, answers)
    _age_page(alice, record, {"under_18": "no"})
    _age_page(alice, record, answers)
    assert not _notified_since(last)
    assert "children_services_told" not in _last_event("referral.answers_saved").detail


def test_a_child_taken_in_is_not_told_again_when_the_age_page_is_saved(
    invited: Operation, alice: User
) -> None:
    record = _take_in(alice, invited, age_group="child")
    assert len(_notified_since(0, CHILD_NEWS)) == 2
    last = _last_notification()
    _age_page(alice, record, {"under_18": "yes"})
    assert not _notified_since(last)
    assert "children_services_told" not in _last_event("referral.answers_saved").detail


def test_an_adult_whose_age_page_says_adult_is_not_reported(
    invited: Operation, alice: User
) -> None:
    record = _take_in(alice, invited)
    _age_page(alice, record, {"under_18": "not_sure", "reason_to_believe_child": "no"})
    _age_page(alice, record, {"under_18": "no"})
    assert not _notified_since(0, CHILD_NEWS)
    record.refresh_from_db()
    assert record.found_child_at is None


def test_a_draft_of_no_operation_tells_nobody(alice: User, northmoor_police: Organisation) -> None:
    draft = referrals.draft_start(by=alice, organisation=northmoor_police)
    referrals.draft_save_answers(
        by=alice, draft=draft, step=steps.STEP_BY_SLUG["age"], data={"under_18": "yes"}
    )
    assert not Notification.objects.exists()
    assert "children_services_told" not in _last_event("referral.answers_saved").detail


# --- 2. The stand-in of the alert of a child taken in -----------------------------------------


@pytest.fixture
def council_admin(council: Organisation) -> User:
    return factories.user(
        "colin@example.org", organisation=council, role=Role.ORGANISATION_ADMIN, full_name="Colin"
    )


def _lena_leaves(lena: User, council: Organisation) -> None:
    Membership.objects.filter(user=lena, organisation=council).update(is_active=False)


def _says_no_news(notice: Notification, operation: Operation, record: ReceptionRecord) -> None:
    shown = f"{notice.subject} {notice.body} {notice.url}".lower()
    assert notice.case_id is None
    for detail in (operation.name.lower(), NAME, "child", f"person {record.sequence}"):
        assert detail not in shown, detail
    assert "safeguarding lead" in shown


def test_a_child_taken_in_with_no_safeguarding_lead_left_tells_the_administrators_news_waits(
    larkspur: Operation,
    alice: User,
    council: Organisation,
    lena: User,
    council_admin: User,
    sysadmin: User,
) -> None:
    _invite(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    _lena_leaves(lena, council)
    record = _take_in(alice, larkspur, age_group="child")

    assert not _notified_since(0, CHILD_NEWS)
    (notice,) = _notified_since(0, STAND_IN)
    assert notice.recipient == council_admin  # not the system administrators: Colin can act
    _says_no_news(notice, larkspur, record)
    assert notice.url == f"/organisations/{council.pk}/"
    taken_in = _last_event("operations.person_taken_in")
    assert taken_in.detail["children_services_told"] == 0


def test_with_no_administrator_either_the_system_administrators_are_told(
    larkspur: Operation, alice: User, council: Organisation, lena: User, sysadmin: User
) -> None:
    _invite(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    _lena_leaves(lena, council)
    record = _take_in(alice, larkspur, age_group="age_disputed")
    (notice,) = _notified_since(0, STAND_IN)
    assert notice.recipient == sysadmin
    _says_no_news(notice, larkspur, record)


def test_each_partner_with_nobody_left_finds_its_stand_in_while_the_other_is_told(
    invited: Operation,
    alice: User,
    council: Organisation,
    lena: User,
    gail: User,
    council_admin: User,
) -> None:
    _lena_leaves(lena, council)
    _take_in(alice, invited, age_group="child")
    assert [n.recipient for n in _notified_since(0, CHILD_NEWS)] == [gail]
    assert [n.recipient for n in _notified_since(0, STAND_IN)] == [council_admin]
    assert _last_event("operations.person_taken_in").detail["children_services_told"] == 1


def test_a_child_found_at_referral_with_no_safeguarding_lead_left_finds_the_stand_in(
    larkspur: Operation,
    alice: User,
    council: Organisation,
    lena: User,
    council_admin: User,
) -> None:
    _invite(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    record = _take_in(alice, larkspur)
    _lena_leaves(lena, council)
    _age_page(alice, record, {"under_18": "yes"})
    assert not _notified_since(0, CHILD_NEWS)
    (notice,) = _notified_since(0, STAND_IN)
    assert notice.recipient == council_admin
    _says_no_news(notice, larkspur, record)
    assert _last_event("referral.answers_saved").detail["children_services_told"] == 0


# --- 3. Holds brought forward: the provider is told -------------------------------------------


def _midnight_after(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time(0)))


@pytest.fixture
def held(
    larkspur: Operation, alice: User, provider: Organisation, maya: User, cora: User
) -> Operation:
    """Test Refuge (Cora coordinates, Maya manages its house) invited, with beds to hold."""
    _invite(alice, larkspur, provider, PartnerRole.SUPPORT_PROVIDER)
    house = s.site(maya, provider, name="Larch House")
    s.beds(maya, house, 3)
    return larkspur


def _hold(maya: User, operation: Operation, provider: Organisation, until: date, when: str) -> None:
    with time_machine.travel(when, tick=False):
        surge.beds_hold(
            by=maya,
            operation=operation,
            provider=provider,
            site=surge.sites_to_hold_at(operation, provider).get(),
            count=2,
            expires_at=_midnight_after(until),
        )


def _end_on(alice: User, operation: Operation, ends_on: date, when: str) -> None:
    operation.refresh_from_db()
    with time_machine.travel(when, tick=False):
        operations.operation_change(
            by=alice,
            operation=operation,
            name=operation.name,
            confidential=operation.confidential,
            starts_on=operation.starts_on,
            ends_on=ends_on,
            region=operation.region,
            expected={("female", "adult", "sexual"): 30},
            languages=["ro"],
        )


def test_the_provider_is_told_the_new_end_of_its_holds(
    held: Operation, alice: User, provider: Organisation, maya: User, cora: User, uma: User
) -> None:
    _hold(maya, held, provider, date(2027, 3, 18), op.DURING)
    last = _last_notification()
    _end_on(alice, held, date(2027, 3, 13), op.DURING)  # holds end with 15 March now

    told = _notified_since(last, HOLDS_NEWS)
    assert {n.recipient for n in told} == {cora, maya}
    for notice in told:
        assert held.name in notice.subject
        assert "15 March 2027" in notice.body
        assert "2 beds" in notice.body
    changed = _last_event("operation.changed")
    assert changed.detail["holds_brought_forward"] == 2
    assert changed.detail["told_of_holds_brought_forward"] == 2


def test_holds_not_shortened_tell_nobody(
    held: Operation, alice: User, provider: Organisation, maya: User
) -> None:
    _hold(maya, held, provider, date(2027, 3, 12), op.DURING)
    last = _last_notification()
    _end_on(alice, held, date(2027, 3, 13), op.DURING)  # the holds end before the new bound
    assert not _notified_since(last, HOLDS_NEWS)
    assert "told_of_holds_brought_forward" not in _last_event("operation.changed").detail


def test_holds_of_a_secret_operation_are_told_without_the_operation_or_its_dates(
    held: Operation, alice: User, provider: Organisation, maya: User, cora: User
) -> None:
    assert held.confidential
    _hold(maya, held, provider, date(2027, 3, 18), op.BEFORE)
    last = _last_notification()
    _end_on(alice, held, date(2027, 3, 14), op.BEFORE)  # still secret: it starts on 10 March

    told = _notified_since(last, HOLDS_NEWS)
    assert {n.recipient for n in told} == {cora, maya}
    for notice in told:
        shown = f"{notice.subject} {notice.body}"
        assert "confidential" in shown
        assert held.name not in shown
        assert "March" not in shown
        assert "2027" not in shown
    assert _last_event("operation.changed").detail["told_of_holds_brought_forward"] == 2


@pytest.fixture
def uma(db: None) -> User:
    """A support coordinator at a provider nobody invited to the operation."""
    other = factories.organisation("Uninvited Refuge", OrganisationKind.SUPPORT_PROVIDER)
    return factories.user("uma@example.org", organisation=other, role=Role.SUPPORT_COORDINATOR)


# --- The midnight rule, written once ----------------------------------------------------------


def test_a_hold_until_the_end_of_a_day_ends_at_the_midnight_after_it() -> None:
    assert surge.end_of_day(date(2027, 3, 18)) == _midnight_after(date(2027, 3, 18))


# Found by this stop's review.


def test_a_lead_of_both_childrens_services_partners_is_told_once_and_counted_once(
    larkspur: Operation, alice: User, council: Organisation, lena: User, gail: User
) -> None:
    """Someone who is the safeguarding lead of both the local authority and the child guardian
    service is told once and counted once, though each partner is told on its own."""
    guardians = gail.memberships.get().organisation
    Membership.objects.create(user=lena, organisation=guardians, role=Role.SAFEGUARDING_LEAD)
    _invite(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    _invite(alice, larkspur, guardians, PartnerRole.CHILD_GUARDIAN_SERVICE)
    last = _last_notification()
    with time_machine.travel(op.DURING, tick=False):
        operations.reception_take_in(
            by=alice,
            operation=larkspur,
            name_or_description="a girl",
            sex="female",
            age_group="child",
        )
    told = list(Notification.objects.filter(pk__gt=last, kind=CHILD_NEWS))
    assert sorted(n.recipient.email for n in told) == ["gail@example.org", "lena@example.org"]
    event = AuditEvent.objects.filter(action="operations.person_taken_in").latest("pk")
    assert event.detail["children_services_told"] == 2


def test_a_secret_operations_holds_message_says_no_more_than_its_invitation(
    larkspur: Operation, alice: User, provider: Organisation, maya: User, cora: User
) -> None:
    """The invitation to a confidential operation not yet started is e-mailed saying only
    "Your organisation has been invited to a confidential operation" (`_tell_the_partner`):
    no organisation, date, place or figure. Neither does the message of its holds brought
    forward (not the provider, nor how many beds it holds: the operation's scale)."""
    _invite(alice, larkspur, provider, PartnerRole.SUPPORT_PROVIDER)
    house = s.site(maya, provider, name="Larch House")
    s.beds(maya, house, 3)
    with time_machine.travel(op.BEFORE, tick=False):
        surge.beds_hold(
            by=maya,
            operation=larkspur,
            provider=provider,
            site=surge.sites_to_hold_at(larkspur, provider).get(),
            count=2,
            expires_at=_midnight_after(date(2027, 3, 18)),
        )
    larkspur.refresh_from_db()
    assert larkspur.confidential
    last = _last_notification()
    with time_machine.travel(op.BEFORE, tick=False):
        operations.operation_change(
            by=alice,
            operation=larkspur,
            name=larkspur.name,
            confidential=True,
            starts_on=larkspur.starts_on,
            ends_on=date(2027, 3, 14),
            region=larkspur.region,
            expected={("female", "adult", "sexual"): 30},
            languages=["ro"],
        )
    told = list(Notification.objects.filter(pk__gt=last, kind=HOLDS_NEWS))
    assert told
    for notice in told:
        shown = f"{notice.subject} {notice.body}"
        assert provider.name not in shown, shown
        assert "2 beds" not in shown, shown


# --- 4. Children's services invited after children were taken in -------------------------------

CHILDREN_SO_FAR = "operations.children_so_far"


def _invite_during(
    alice: User, operation: Operation, organisation: Organisation, role: str, when: str = op.DURING
) -> None:
    with time_machine.travel(when, tick=False):
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=organisation, role=role
        )


def test_childrens_services_invited_late_hear_at_once_of_the_children_taken_in_so_far(
    larkspur: Operation, alice: User, council: Organisation, lena: User
) -> None:
    # Before any children's services partner is invited: a child taken in, and an adult whose
    # age page then says under 18. Nobody could be told then.
    _take_in(alice, larkspur, age_group="child")
    found = _take_in(alice, larkspur)
    _age_page(alice, found, {"under_18": "yes"})
    _take_in(alice, larkspur)  # an adult: not counted
    assert not _notified_since(0, CHILD_NEWS)
    last = _last_notification()

    _invite_during(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)

    told = _notified_since(last, CHILDREN_SO_FAR)
    assert [n.recipient for n in told] == [lena]
    notice = told[0]
    assert "2 people taken in" in notice.body
    assert "treated as children" in notice.body
    assert NAME not in f"{notice.subject} {notice.body}"
    assert notice.url == reverse("operations:board", args=[larkspur.id])
    assert _last_event("operation.partner_invited").detail["children_services_told"] == 1


def test_a_late_partner_with_no_safeguarding_lead_finds_the_stand_in(
    larkspur: Operation, alice: User, council: Organisation, council_admin: User
) -> None:
    record = _take_in(alice, larkspur, age_group="child")
    last = _last_notification()
    _invite_during(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    stand_in = _notified_since(last, STAND_IN)
    assert [n.recipient for n in stand_in] == [council_admin]
    _says_no_news(stand_in[0], larkspur, record)
    assert not _notified_since(last, CHILDREN_SO_FAR)
    assert _last_event("operation.partner_invited").detail["children_services_told"] == 0


def test_no_children_taken_in_and_other_partners_hear_nothing_of_children(
    larkspur: Operation, alice: User, council: Organisation, lena: User
) -> None:
    _take_in(alice, larkspur)  # an adult
    provider = factories.organisation("Late Shelter", OrganisationKind.SUPPORT_PROVIDER)
    last = _last_notification()
    _invite_during(alice, larkspur, provider, PartnerRole.SUPPORT_PROVIDER)
    assert "children_services_told" not in _last_event("operation.partner_invited").detail
    _invite_during(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    assert not _notified_since(last, CHILDREN_SO_FAR)
    assert _last_event("operation.partner_invited").detail["children_services_told"] == 0


# --- 5. Found in review, stop 33: a child stays a child, and is never left untold --------------

EXPECTED = {("female", "adult", "sexual"): 30, ("female", "child", "sexual"): 3}


def _move_start(alice: User, operation: Operation, starts_on: date, ends_on: date) -> None:
    operation.refresh_from_db()
    with time_machine.travel(op.DURING, tick=False):
        operations.operation_change(
            by=alice,
            operation=operation,
            name=operation.name,
            confidential=True,
            starts_on=starts_on,
            ends_on=ends_on,
            region=operation.region,
            expected=EXPECTED,
            languages=["ro"],
        )


def test_the_start_cannot_be_moved_past_people_already_taken_in(
    larkspur: Operation, alice: User
) -> None:
    """Else a confidential operation would be secret again with people on its board, and the
    messages about them (children's services told) would name it before its start."""
    _take_in(alice, larkspur, age_group="child")
    with pytest.raises(ValidationError) as refused:
        _move_start(alice, larkspur, date(2027, 3, 20), date(2027, 3, 26))
    assert "People were taken in during this operation from 12 March 2027" in str(refused.value)
    larkspur.refresh_from_db()
    assert larkspur.starts_on == date(2027, 3, 10)
    _move_start(alice, larkspur, date(2027, 3, 12), date(2027, 3, 16))  # that day itself: allowed


def _found_child_then_adult(alice: User, operation: Operation, lena: User) -> ReceptionRecord:
    record = _take_in(alice, operation)
    last = _last_notification()
    _age_page(alice, record, {"under_18": "yes"})
    told = _notified_since(last, CHILD_NEWS)
    assert [n.recipient for n in told] == [lena]
    assert "never by adult matching" in told[0].body
    # The answer changed back to adult: no age assessment, just an answer.
    _age_page(alice, record, {"under_18": "no"})
    record.refresh_from_db()
    assert record.found_child_at is not None
    return record


@pytest.fixture
def with_council(larkspur: Operation, alice: User, council: Organisation, lena: User) -> Operation:
    _invite(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY)
    return larkspur


def test_a_person_children_services_were_told_is_a_child_cannot_be_deleted_as_declined(
    with_council: Operation, alice: User, lena: User
) -> None:
    """CETS Art. 10(3): presumed a child until assessed, and a child does not decline."""
    record = _found_child_then_adult(alice, with_council, lena)
    assert record.draft is not None
    with pytest.raises(ValidationError), time_machine.travel(op.DURING, tick=False):
        referrals.draft_delete(by=alice, draft=record.draft)
    assert ReceptionRecord.objects.get(pk=record.pk).draft_id == record.draft.pk


def test_a_person_children_services_were_told_is_a_child_never_waits_for_an_adult_bed(
    with_council: Operation, alice: User, lena: User
) -> None:
    record = _found_child_then_adult(alice, with_council, lena)
    record = selectors.reception_of(with_council).get(pk=record.pk)
    assert selectors.standing_of(record) == selectors.Standing.DRAFT
    # Nor can the referral go as an adult's: the age page must say child or not sure.
    assert record.draft is not None
    assert record.draft.presumed_child
    assert steps.age_group(record.draft.answers) == CaseAgeGroup.PRESUMED_CHILD


def test_childrens_services_can_be_invited_after_the_end_when_children_were_never_told(
    larkspur: Operation, alice: User, council: Organisation, lena: User
) -> None:
    """A child taken in on the last day with nobody to tell: the next morning the operation
    has ended, and the lead can still invite the local authority, which hears of the child."""
    record = _take_in(alice, larkspur, age_group="child", when="2027-03-16 21:00:00+00:00")
    assert "ask the lead to invite the local authority now" in selectors.taken_in_message(
        larkspur, record
    )
    after = "2027-03-17 08:00:00+00:00"
    with time_machine.travel(after, tick=False):
        client = factories.signed_in_client(alice)
        page = client.get(reverse("operations:detail", args=[larkspur.id])).content.decode()
    assert "1 person taken in is treated as a child, and no local authority" in page
    assert "no local authority or child guardian service is invited" in page
    assert reverse("operations:partner_invite", args=[larkspur.id]) in page
    last = _last_notification()

    _invite_during(alice, larkspur, council, PartnerRole.LOCAL_AUTHORITY, when=after)

    assert [n.recipient for n in _notified_since(last, CHILDREN_SO_FAR)] == [lena]
    with time_machine.travel(after, tick=False):
        page = client.get(reverse("operations:detail", args=[larkspur.id])).content.decode()
    assert "no local authority or child guardian service is invited" not in page
    # Other partners still cannot join an operation that has ended.
    provider = factories.organisation("Late Shelter", OrganisationKind.SUPPORT_PROVIDER)
    with pytest.raises(ValidationError, match="has ended"):
        _invite_during(alice, larkspur, provider, PartnerRole.SUPPORT_PROVIDER, when=after)
