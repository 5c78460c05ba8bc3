"""Found in review, stop 41: a person taken in at an operation as looking adult, whose age is
disputed later on their case (the case is a presumed child's from then: treated as a child until
assessed), is treated as a child by every reader of the operation, not only by the reception
API and the public account's age group (stop 40).

One rule (`ReceptionRecord.treated_as_child`, and `selectors.age_group_now` for the group): the
case's age group once the record's draft became a case, reception's own otherwise, and never an
adult once a child (taken in as one, found to be one at the referral, or a child on the case).

Protected here:
- the record itself says they are treated as a child, read without a query per row;
- `selectors.children_taken_in` counts them: the operation's page warns that no children's
  services partner is invited to hear of them, the local authority may still be invited once
  the operation has ended, and is told of them;
- the operation's report never counts them among the adults waiting for a place, nor in the
  adult places needed per kind that it compares with the forecast;
- the board's "Child" tag, the public account's age group and the protection check of their
  reception reference (the case's answer, with its children's services alerted) stay as they
  were (guards: these already read the case).

An adult taken in as one, whose case stays an adult's, stays an adult everywhere.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.operations import selectors
from opennrm.operations import services as operations
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord
from opennrm.operations.protection import reception_source
from opennrm.operations.public_account import SOURCE
from opennrm.operations.report import operation_report
from opennrm.safeguarding.models import DisputeBasis
from opennrm.safeguarding.services import age_dispute_raise

from . import case_factories, factories
from . import operation_helpers as op

pytestmark = pytest.mark.django_db

SUBMITTED = "2027-03-14 10:00:00+00:00"
DISPUTED = "2027-03-20 10:00:00+00:00"
AFTER_THE_END = "2027-03-21 10:00:00+00:00"


def _referred_as_adult(
    record: ReceptionRecord, alice: User, police: Organisation, authority: Organisation
) -> Case:
    """The record's draft submitted, two days after they were taken in, as an adult's case
    (the referral's own steps are not under test)."""
    with time_machine.travel(SUBMITTED, tick=False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup.ADULT,
        )
    op.submitted_as(record, case)
    return case


def _age_disputed(alice: User, case: Case) -> None:
    """Their first responder records on the case that their age is disputed (they say 16)."""
    with time_machine.travel(DISPUTED, tick=False):
        case.refresh_from_db()
        age_dispute_raise(
            by=alice, case=case, basis=DisputeBasis.SAYS_SO, expected_version=case.version
        )
    case.refresh_from_db()
    assert case.is_child


@pytest.fixture
def operation(alice: User, northmoor_police: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        return op.operation(alice, northmoor_police)


@pytest.fixture
def people(
    alice: User, northmoor_police: Organisation, authority: Organisation, operation: Operation
) -> tuple[ReceptionRecord, ReceptionRecord, Case]:
    """Person 1, taken in as looking adult, referred as an adult, then disputed on the case;
    person 2, taken in as an adult and still one on their case."""
    with time_machine.travel(op.DURING, tick=False):
        disputed = op.taken_in_as_adult(alice, operation, urgent_needs=["bed_tonight"])
        adult = op.taken_in_as_adult(
            alice, operation, "man in a grey coat", urgent_needs=["bed_tonight"]
        )
    disputed_case = _referred_as_adult(disputed, alice, northmoor_police, authority)
    _referred_as_adult(adult, alice, northmoor_police, authority)
    _age_disputed(alice, disputed_case)
    return disputed, adult, disputed_case


def test_the_record_of_a_person_disputed_on_their_case_is_treated_as_a_child(
    operation: Operation, people: tuple[ReceptionRecord, ReceptionRecord, Case], alice: User
) -> None:
    """A lead reading the people taken in (the board's rows) after person 1's age was disputed
    on their case: person 1's record says they are treated as a child, as their age group now
    says (age disputed); person 2 is an adult. Read from the rows the board reads, with no
    query per row; the board tags person 1 alone as a child."""
    rows = list(selectors.reception_of(operation))
    with CaptureQueriesContext(connection) as queries:
        treated = [record.treated_as_child for record in rows]
        groups = [selectors.age_group_now(record) for record in rows]
    assert treated == [True, False]
    assert groups == ["age_disputed", "adult"]
    assert len(queries) == 0

    with time_machine.travel(DISPUTED, tick=False):
        board = factories.signed_in_client(alice).get(
            reverse("operations:board", args=[operation.pk])
        )
    page = board.content.decode()
    first, second = page.split('id="person-1"')[1].split('id="person-2"')
    assert 'govuk-tag--red">Child</strong>' in first
    assert "Child</strong>" not in second.split("</tr>")[0]


def test_children_taken_in_counts_a_person_disputed_on_their_case(
    operation: Operation,
    people: tuple[ReceptionRecord, ReceptionRecord, Case],
    alice: User,
    council: Organisation,
    lena: User,
) -> None:
    """No local authority was invited to the operation. Once person 1's age is disputed on their
    case, the operation counts one person treated as a child: its page warns the lead that no
    children's services partner is there to hear of them; after the operation has ended, the
    lead may still invite the local authority (refused for an operation with no child), and its
    safeguarding lead is told that 1 person taken in is treated as a child."""
    assert selectors.children_taken_in(operation) == 1
    with time_machine.travel(AFTER_THE_END, tick=False):
        page = (
            factories.signed_in_client(alice)
            .get(reverse("operations:detail", args=[operation.pk]))
            .content.decode()
        )
    assert "1 person taken in is treated as a child, and no local authority" in page

    last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with time_machine.travel(AFTER_THE_END, tick=False):
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    told = list(Notification.objects.filter(pk__gt=last, kind="operations.children_so_far"))
    assert [n.recipient for n in told] == [lena]
    assert "1 person taken in" in told[0].body


def test_an_adult_whose_case_stays_an_adults_is_not_counted_as_a_child(
    operation: Operation, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Person taken in as an adult, referred as an adult, nothing disputed: no child is counted
    and the operation's page gives no warning about children's services."""
    with time_machine.travel(op.DURING, tick=False):
        record = op.taken_in_as_adult(
            alice, operation, "man in a grey coat", urgent_needs=["bed_tonight"]
        )
    _referred_as_adult(record, alice, northmoor_police, authority)
    record = selectors.reception_of(operation).get(pk=record.pk)
    assert not record.treated_as_child
    assert selectors.children_taken_in(operation) == 0
    with time_machine.travel(AFTER_THE_END, tick=False):
        page = (
            factories.signed_in_client(alice)
            .get(reverse("operations:detail", args=[operation.pk]))
            .content.decode()
        )
    assert "treated as a child" not in page


def test_the_report_never_counts_a_person_disputed_on_their_case_among_adults_waiting(
    operation: Operation, people: tuple[ReceptionRecord, ReceptionRecord, Case]
) -> None:
    """Both men needed a bed on the night and waited until their referrals were submitted two
    days later. Read after person 1's age was disputed on their case, the operation's report
    counts only person 2 among the adults waiting on those days and in the men's places needed
    (the figure compared with the adult forecast): a child's place is the local authority's."""
    report = operation_report(operation, today=date(2027, 3, 20))
    by_day = {day.day: day for day in report.days}
    for waited in (date(2027, 3, 12), date(2027, 3, 13)):
        assert by_day[waited].waiting == 1
        assert by_day[waited].needed_by_kind["men"] == 1
    assert by_day[date(2027, 3, 14)].waiting == 0
    assert report.by_sex_and_age[("male", "age_disputed")] == 1
    assert report.by_sex_and_age[("male", "adult")] == 1


def test_protection_and_the_public_account_follow_the_case(
    operation: Operation, people: tuple[ReceptionRecord, ReceptionRecord, Case]
) -> None:
    """Guard (these already read the case): an immigration enforcement officer checking person
    1's reception reference gets their case's answer (protected, the case named, so its
    children's services are alerted of a planned removal); the operation's public account
    publishes person 1 as age disputed and person 2 as an adult."""
    disputed, _, case = people
    finding = reception_source(disputed.reference, date(2027, 3, 20))
    assert finding is not None
    assert finding.protection.protected
    assert finding.case == case

    account = SOURCE.account(operation.pk, date(2027, 4, 1))
    assert sorted(person.age_group for person in account.people) == ["adult", "age_disputed"]
