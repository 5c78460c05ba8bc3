"""The operation report (issue 14, item 6; ADR 0045): its counts against a world whose outcome
each test knows from how it was built, the page and the API route with the operation's own 404
for everyone not invited."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import (
    Bed,
    PlacementRequest,
    PlacementRequestStatus,
    UnmetNeed,
)
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup as CaseAgeGroup
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from opennrm.operations import services, surge
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord
from opennrm.operations.report import hours_text, operation_report
from opennrm.operations.selectors import Standing
from opennrm.policy.profiles import OutcomeKind
from opennrm.protection.services import planned_removal_record
from opennrm.referrals.models import DraftStatus, ReferralDraft
from opennrm.safeguarding.models import ChildrenServicesTask, TaskKind, TaskStatus

from . import api_helpers as a
from . import case_factories, factories
from . import operation_helpers as op
from . import support_factories as s

# Operation Larkspur runs 10 to 16 March 2027 in the North East (operation_helpers); March in
# London is on GMT, so these UTC moments are the local ones.
TAKEN_IN = datetime(2027, 3, 12, 10, 0, tzinfo=UTC)
REPORT_DAY = date(2027, 3, 20)


def at(day: int, hour: int = 12) -> str:
    return f"2027-03-{day:02d} {hour:02d}:00:00+00:00"


@pytest.fixture
def larkspur(
    alice: User, northmoor_police: Organisation, provider: Organisation, council: Organisation
) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=provider, role=PartnerRole.SUPPORT_PROVIDER
        )
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    return operation


@pytest.fixture
def immigration_officer(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


# Who is taken in, in order: (sex, age group, urgent needs). Person n is PEOPLE[n - 1].
PEOPLE = [
    ("female", "adult", ["bed_tonight"]),  # 1: referred, placed, still there
    ("male", "adult", []),  # 2: referred, negative RG, turned away (setting)
    ("female", "child", []),  # 3: referred, child, local authority accommodated
    ("female", "adult", []),  # 4: referred, missing
    ("female", "adult", []),  # 5: duty to notify only
    ("female", "adult", []),  # 6: declined (draft deleted: only an adult can decline)
    ("unknown", "adult", ["bed_tonight"]),  # 7: still a draft, needs a bed
    ("female", "adult", []),  # 8: referred, positive CG, placed, left without notice
    ("male", "adult", []),  # 9: referred, negative CG, turned away (closed)
]


def _take_in(by: User, operation: Operation) -> list[ReceptionRecord]:
    with time_machine.travel(TAKEN_IN, tick=False):
        return [
            services.reception_take_in(
                by=by,
                operation=operation,
                name_or_description=f"Person {n} Testova",
                sex=sex,
                age_group=age,
                language="ro",
                urgent_needs=needs,
                interpreter_needed=False,
            )
            for n, (sex, age, needs) in enumerate(PEOPLE, start=1)
        ]


def _decision(case: Case, kind: DecisionKind, outcome_kind: str, state: DecisionState) -> None:
    Decision.objects.create(
        case=case,
        kind=kind,
        outcome=outcome_kind,
        outcome_label=outcome_kind,
        outcome_kind=outcome_kind,
        reasons="Synthetic.",
        decided_by=case.referred_by,
        decided_at=timezone.now(),
        state=state,
        policy_profile_key="test",
        policy_profile_version="1",
    )


@pytest.fixture
def world(
    larkspur: Operation,
    alice: User,
    authority: Organisation,
    council: Organisation,
    provider: Organisation,
    cora: User,
    maya: User,
    immigration_officer: User,
    border_enforcement: Organisation,
    case: Case,
) -> dict[str, Any]:
    """Nine people taken in on 12 March; what became of each is in PEOPLE's comments."""
    with time_machine.travel(op.BEFORE, tick=False):
        house = s.site(maya, provider, region="north_east", setting="women_only")
        beds = s.beds(maya, house, 3)
        elsewhere = s.site(maya, provider, region="north_west", setting="women_only")
        s.beds(maya, elsewhere, 2)  # another region: never counted
        surge.surge_add(
            by=cora,
            operation=larkspur,
            provider=provider,
            site=house,
            places=2,
            starts_on=date(2027, 3, 12),
            ends_on=date(2027, 3, 14),
        )
    records = _take_in(alice, larkspur)
    cases: dict[int, Case] = {}

    def referred(n: int, status: CaseStatus, **values: Any) -> Case:
        made = case_factories.case(
            referred_by=alice,
            referring_organisation=alice.memberships.get().organisation,
            authority=authority,
            status=status,
            given_names=f"Person {n}",
            **values,
        )
        draft = records[n - 1].draft
        assert draft is not None
        ReferralDraft.objects.filter(pk=draft.pk).update(
            status=DraftStatus.SUBMITTED, case=made, answers={}
        )
        cases[n] = made
        return made

    with time_machine.travel(at(12, 11), tick=False):
        one = referred(1, CaseStatus.AWAITING_REASONABLE_GROUNDS)
        # Waiting for a second decision maker: not in effect, so still awaited.
        _decision(
            one,
            DecisionKind.REASONABLE_GROUNDS,
            OutcomeKind.POSITIVE,
            DecisionState.AWAITING_APPROVAL,
        )
        two = referred(2, CaseStatus.NEGATIVE_REASONABLE_GROUNDS)
        three = referred(3, CaseStatus.RECOVERY_PERIOD, age_group=CaseAgeGroup.CHILD)
        four = referred(4, CaseStatus.RG_SUSPENDED)
        _decision(
            four, DecisionKind.REASONABLE_GROUNDS, OutcomeKind.NEGATIVE, DecisionState.SUPERSEDED
        )
        _decision(
            four, DecisionKind.REASONABLE_GROUNDS, OutcomeKind.NOT_DECIDED, DecisionState.IN_EFFECT
        )
        eight = referred(8, CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS)
        nine = referred(9, CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS)
        requests = {n: s.request(cases[n]) for n in (1, 2, 8, 9)}
        reported, declined = records[4].draft, records[5].draft
        assert reported is not None
        assert declined is not None
        ReferralDraft.objects.filter(pk=reported.pk).update(status=DraftStatus.REPORTED)
        declined.delete()

    # Person 1: offered at noon, accepted at 15:00 (5 hours), arrived on the 13th.
    with time_machine.travel(at(12, 12), tick=False):
        first = accommodation.placement_make(by=cora, request=requests[1], bed=beds[0])
    with time_machine.travel(at(12, 15), tick=False):
        accommodation.placement_respond(by=maya, placement=first, accept=True)
    with time_machine.travel(at(13, 9), tick=False):
        accommodation.placement_arrive(by=maya, placement=first, on=date(2027, 3, 13))
    # Person 8: offered and accepted at 10:00 on the 13th (24 hours), arrived, left on the 14th.
    with time_machine.travel(at(13, 10), tick=False):
        second = accommodation.placement_make(by=cora, request=requests[8], bed=beds[1])
        accommodation.placement_respond(by=maya, placement=second, accept=True)
        accommodation.placement_arrive(by=maya, placement=second, on=date(2027, 3, 13))
    with time_machine.travel(at(14, 9), tick=False):
        accommodation.placement_end(by=maya, placement=second, on=date(2027, 3, 14), reason="left")
    # Person 2: matching found no bed of the right setting on the 13th; closed on the 15th.
    UnmetNeed.objects.create(
        request=requests[2], on=date(2027, 3, 13), constraint="setting", reason="No men's bed"
    )
    with time_machine.travel(at(15), tick=False):
        accommodation.placement_request_close(
            by=cora, request=requests[2], status=PlacementRequestStatus.UNMET
        )
    # Person 9: closed by the coordinator the day it was raised, nothing found by matching.
    with time_machine.travel(at(12, 16), tick=False):
        accommodation.placement_request_close(
            by=cora, request=requests[9], status=PlacementRequestStatus.UNMET
        )
    # Person 3, a child: the local authority recorded the accommodation done at 18:00 (8 hours).
    ChildrenServicesTask.objects.create(
        case=three,
        kind=TaskKind.ACCOMMODATION,
        owner=council,
        area="Testshire",
        needs=[],
        due_on=date(2027, 3, 12),
        status=TaskStatus.DONE,
        raised_at=datetime(2027, 3, 12, 11, tzinfo=UTC),
        done_at=datetime(2027, 3, 12, 18, tzinfo=UTC),
    )
    # Planned removals: person 1 by both references, and person 7 (a draft), all protected; the
    # declined person 6 (not protected) and a case of no operation (protected) are not counted.
    with time_machine.travel(at(15), tick=False):
        recorded = {
            reference: planned_removal_record(
                by=immigration_officer,
                organisation=border_enforcement,
                reference=reference,
                planned_on=date(2027, 3, 20),
            ).protection.protected
            for reference in (
                records[0].reference,
                one.reference,
                records[6].reference,
                records[5].reference,
                case.reference,
            )
        }
    assert recorded == {
        records[0].reference: True,
        one.reference: True,
        records[6].reference: True,
        records[5].reference: False,
        case.reference: True,
    }
    assert (two, nine) == (cases[2], cases[9])
    return {"records": records, "cases": cases, "beds": beds, "eight": eight}


def _report(operation: Operation) -> Any:
    with time_machine.travel(at(20), tick=False):
        return operation_report(operation, REPORT_DAY)


def test_the_report_counts_the_people_their_standing_and_the_decisions(
    world: dict[str, Any], larkspur: Operation
) -> None:
    report = _report(larkspur)

    assert report.taken_in == len(PEOPLE)
    expected = Counter((sex, age) for sex, age, _ in PEOPLE)
    assert {k: v for k, v in report.by_sex_and_age.items() if v} == dict(expected)
    assert sum(report.by_sex_and_age.values()) == len(PEOPLE)
    assert report.cases == 6  # all but 5 (reported), 6 (declined) and 7 (a draft)
    assert report.standings == {
        Standing.DRAFT: 0,
        Standing.REFERRED: 4,  # 2, 3, 9, and 8 who left their place (none asked for since)
        Standing.DUTY_TO_NOTIFY: 1,  # 5
        Standing.DECLINED: 1,  # 6
        Standing.NOT_REFERRED: 0,
        Standing.PLACED: 1,  # 1 (8 left their place: placed means in a place now)
        Standing.WAITING_FOR_BED: 1,  # 7
        Standing.SUPPORT_REFUSED: 0,
        Standing.MISSING: 1,  # 4
    }
    rg, cg = report.reasonable_grounds, report.conclusive_grounds
    # Positive: 3, 8, 9; negative: 2; not decided: 4 (the superseded negative not counted);
    # awaited: 1 (its decision waits for approval).
    assert (rg.positive, rg.negative, rg.not_decided, rg.awaited) == (3, 1, 1, 1)
    # Among the positive RG (3, 8, 9): 8 positive, 9 negative, 3 awaited.
    assert (cg.positive, cg.negative, cg.not_decided, cg.awaited) == (1, 1, 0, 1)


def test_the_report_counts_accommodation_waits_turned_away_missing_and_removals(
    world: dict[str, Any], larkspur: Operation
) -> None:
    report = _report(larkspur)

    assert report.placed.people == 2
    assert report.placed.timed == 2
    assert report.placed.median_hours == pytest.approx((5 + 24) / 2)
    assert report.placed.longest_hours == pytest.approx(24)
    assert (report.children_accommodated.people, report.children_accommodated.timed) == (1, 1)
    assert report.children_accommodated.median_hours == pytest.approx(8)
    assert report.turned_away == {"setting": 1, "closed": 1}
    assert report.turned_away_total == 2
    assert report.missing_now == 1
    assert report.left_without_notice == 1
    assert report.planned_removals_while_protected == 3
    assert report.people_with_planned_removal_while_protected == 2


def test_the_report_counts_places_needed_and_available_each_day(
    world: dict[str, Any], larkspur: Operation
) -> None:
    report = _report(larkspur)
    days = [date(2027, 3, 10) + timedelta(days=n) for n in range(11)]
    assert [d.day for d in report.days] == days

    def expected(day: date) -> tuple[int, int, int, int]:
        d = day.day
        # In a place: person 1 from the 13th; person 8 on the 13th only (left on the 14th).
        in_place = (d >= 13) + (d == 13)
        # Waiting: 1 and 8 on the 12th (requests open until they arrived); 2 from the 12th
        # until closed on the 15th; 7 (a draft needing a bed) from the 12th on; 9's request
        # closed the day it was raised.
        waiting = (d == 12) * 2 + (12 <= d < 15) + (d >= 12)
        # Kept for the operation: the 2 surge places from the 12th to the 14th, all free.
        kept = 2 if 12 <= d <= 14 else 0
        # The house's 3 beds: bed 1 reserved from the 12th and lived in; bed 2 from the 13th
        # until the 14th. The other region's beds never count.
        other = 3 - (d >= 12) - (d == 13)
        return in_place, waiting, kept, other

    got = [(d.in_place, d.waiting, d.kept_free, d.other_free) for d in report.days]
    assert got == [expected(day) for day in days]
    for d in report.days:
        assert d.needed == d.in_place + d.waiting
        assert d.available == d.in_place + d.kept_free + d.other_free
        assert d.short == max(0, d.needed - d.available)


def test_a_bed_held_for_the_operation_counts_as_kept_and_one_held_for_another_for_nobody(
    larkspur: Operation, alice: User, northmoor_police: Organisation, provider: Organisation
) -> None:
    from opennrm.accommodation.models import BedHold

    with time_machine.travel(op.BEFORE, tick=False):
        other = op.operation(alice, northmoor_police, name="Operation Yarrow")
        maya = factories.user(organisation=provider, role=Role.SAFE_HOUSE_MANAGER)
        house = s.site(maya, provider, region="north_east", setting="mixed")
        ours, theirs, free = s.beds(maya, house, 3)
    for bed, operation in ((ours, larkspur), (theirs, other)):
        BedHold.objects.create(
            bed=bed,
            operation_id=operation.pk,
            held_at=datetime(2027, 3, 11, 9, tzinfo=UTC),
            held_by=alice,
            expires_at=datetime(2027, 3, 13, 9, tzinfo=UTC),
        )
    assert free.pk not in {ours.pk, theirs.pk}
    with time_machine.travel(at(12), tick=False):
        report = operation_report(larkspur, date(2027, 3, 12))
    # Held until the 13th at 09:00: at the end of the 10th no hold yet; the 11th and 12th held.
    assert [(d.kept_free, d.other_free) for d in report.days] == [(0, 3), (1, 1), (1, 1)]


def test_a_request_met_with_no_placement_to_time_counts_as_placed_with_its_wait_unknown(
    larkspur: Operation, alice: User, authority: Organisation
) -> None:
    (record,) = _take_in(alice, larkspur)[:1]
    made = case_factories.case(
        referred_by=alice,
        referring_organisation=alice.memberships.get().organisation,
        authority=authority,
    )
    assert record.draft is not None
    ReferralDraft.objects.filter(pk=record.draft.pk).update(
        status=DraftStatus.SUBMITTED, case=made, answers={}
    )
    s.request(made, status=PlacementRequestStatus.PLACED)
    with time_machine.travel(at(20), tick=False):
        report = operation_report(larkspur, REPORT_DAY)
        page = factories.signed_in_client(alice).get(_url(larkspur)).content.decode()
    assert (report.placed.people, report.placed.timed, report.placed.median_hours) == (1, 0, None)
    assert "Not recorded" in page


def test_an_operation_not_started_has_no_days_and_counts_nobody(larkspur: Operation) -> None:
    report = operation_report(larkspur, date(2027, 3, 1))
    assert report.days == ()
    assert report.taken_in == 0
    assert report.turned_away == {}
    assert report.placed.median_hours is None


def test_waits_read_in_words() -> None:
    assert hours_text(None) == "not known"
    assert hours_text(0.5) == "under an hour"
    assert hours_text(1) == "1 hour"
    assert hours_text(14.5) == "14 hours"
    assert hours_text(24) == "1 day"
    assert hours_text(50) == "2 days 2 hours"


# --- The page -----------------------------------------------------------------------------------


def _url(operation: Operation) -> str:
    return reverse("operations:report", args=[operation.id])


@pytest.mark.page("operations:report")
def test_the_report_page_shows_the_figures_and_names_nobody(
    world: dict[str, Any], larkspur: Operation, alice: User
) -> None:
    reads_before = AuditEvent.objects.filter(action="person.viewed").count()
    with time_machine.travel(at(20), tick=False):
        response = factories.signed_in_client(alice).get(_url(larkspur))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    # Counts only: no person's details shown, so no read of one recorded.
    assert AuditEvent.objects.filter(action="person.viewed").count() == reads_before
    page = response.content.decode()
    assert "Operation report" in page
    assert "9 people taken in during the operation, of whom 6 referred" in page
    assert 'id="missing-now">1<' in page
    assert 'id="planned-removals">3<' in page
    assert "Median 14 hours; longest 1 day" in page
    assert "Setting (women only, men only or mixed)" in page
    assert "Closed by a coordinator: no suitable place" in page
    assert "20 Mar 2027" in page
    assert "Testova" not in page
    assert "NRM-TEST" not in page
    assert "OPR-" not in page
    # The operation page links to it.
    with time_machine.travel(at(20), tick=False):
        detail = factories.signed_in_client(alice).get(
            reverse("operations:detail", args=[larkspur.id])
        )
    assert _url(larkspur) in detail.content.decode()


def test_the_report_page_shows_zeros_before_anyone_is_taken_in(
    larkspur: Operation, alice: User
) -> None:
    with time_machine.travel(op.DURING, tick=False):
        page = factories.signed_in_client(alice).get(_url(larkspur)).content.decode()
    assert "0 people taken in" in page
    assert 'id="planned-removals">0<' in page
    assert "Never short on any day." in page


def test_a_partner_reads_the_report(world: dict[str, Any], larkspur: Operation, lena: User) -> None:
    with time_machine.travel(at(20), tick=False):
        response = factories.signed_in_client(lena).get(_url(larkspur))
    assert response.status_code == 200
    assert 'id="missing-now">1<' in response.content.decode()


def test_the_report_page_takes_only_get(larkspur: Operation, alice: User) -> None:
    assert factories.signed_in_client(alice).post(_url(larkspur)).status_code == 405


def test_the_report_page_is_404_to_outsiders_and_the_uninvited(
    larkspur: Operation, charlie: User, omar: User, dmitri: User
) -> None:
    # Another force's responder, a provider's manager never invited, a decision maker whose
    # authority was never invited: each 404, as for an operation that does not exist.
    for user in (charlie, omar, dmitri):
        assert factories.signed_in_client(user).get(_url(larkspur)).status_code == 404
    missing = reverse("operations:report", args=[larkspur.id + 1000])
    assert factories.signed_in_client(charlie).get(missing).status_code == 404


# --- The API ------------------------------------------------------------------------------------


def _api(operation: Operation) -> str:
    return f"/api/v1/operations/{operation.id}/report"


def test_the_api_returns_the_reports_figures(
    world: dict[str, Any], larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(at(20), tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=(a.OPERATIONS_READ,))
        response = a.client_with(secret).get(_api(larkspur))
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["operation_id"] == larkspur.id
    assert body["as_of"] == "2027-03-20"
    assert body["taken_in"] == 9
    assert body["standings"]["missing"] == 1
    assert body["standings"]["draft"] == 0
    assert body["reasonable_grounds"] == {
        "positive": 3,
        "negative": 1,
        "not_decided": 1,
        "awaited": 1,
    }
    assert body["placed"]["people"] == 2
    assert body["placed"]["median_hours"] == pytest.approx(14.5)
    assert body["turned_away"] == [
        {"reason": "closed", "label": "Closed by a coordinator: no suitable place", "people": 1},
        {"reason": "setting", "label": "Setting (women only, men only or mixed)", "people": 1},
    ]
    assert body["planned_removals_while_protected"] == 3
    assert {"sex": "female", "age_group": "adult", "people": 5} in body["taken_in_by_group"]
    assert len(body["days"]) == 11
    assert body["days"][3] == {
        "day": "2027-03-13",
        "needed": 4,
        "in_place": 2,
        "waiting": 2,
        "kept_free": 2,
        "other_free": 1,
        "available": 5,
        "short": 0,
    }
    # Nothing before the first day to learn from: no forecast, and why.
    assert body["forecast"] is None
    assert body["no_forecast"]
    assert "Testova" not in response.content.decode()


def test_the_api_is_404_for_an_operation_the_organisation_does_not_see(
    larkspur: Operation, charlie: User, southvale_police: Organisation
) -> None:
    _, secret = a.token(charlie, southvale_police, scopes=(a.OPERATIONS_READ,))
    response = a.client_with(secret).get(_api(larkspur))
    assert response.status_code == 404


def test_the_report_counts_nothing_of_another_operation(
    world: dict[str, Any], larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    """A second operation's report is its own: none of Larkspur's people or removals."""
    with time_machine.travel(op.BEFORE, tick=False):
        other = op.operation(alice, northmoor_police, name="Operation Yarrow")
    report = _report(other)
    assert report.taken_in == 0
    assert report.planned_removals_while_protected == 0
    assert report.placed.people == 0
    assert PlacementRequest.objects.count() == 4
    assert Bed.objects.filter(operation_id=other.pk).count() == 0


# --- Beside the forecast ------------------------------------------------------------------------


def test_the_forecast_beside_is_made_from_the_history_recorded_before_the_first_day(
    larkspur: Operation,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
    maya: User,
) -> None:
    """The history the forecast learns from is the one on the eve of the operation: a case
    referred during it is left out, and a stay that ended after the first day was still going
    on then. The figures equal a forecast made here from that history written out by hand."""
    from opennrm.accommodation.models import Placement, PlacementStatus
    from opennrm.operations import forecast as model

    with time_machine.travel(op.BEFORE, tick=False):
        site = s.site(maya, provider, region="north_east", area="Northshire")
        (bed,) = s.beds(maya, site)

    def stay(submitted: datetime, arrived: date, ended: date) -> None:
        made = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            area="Northshire",
            submitted_at=submitted,
        )
        request = s.request(made, status=PlacementRequestStatus.PLACED)
        PlacementRequest.objects.filter(pk=request.pk).update(created_at=submitted)
        Placement.objects.create(
            request=request,
            bed=bed,
            status=PlacementStatus.ENDED,
            proposed_at=submitted,
            arrived_on=arrived,
            ended_on=ended,
        )

    lengths = [10, 20, 30] * 8 + [10]  # 25 stays ended long before
    for length in lengths:
        stay(
            datetime(2026, 6, 1, 9, tzinfo=UTC),
            date(2026, 6, 2),
            date(2026, 6, 2) + timedelta(length),
        )
    # Begun before the first day (10 March), ended after it: 8 days so far on the 9th.
    stay(datetime(2027, 2, 28, 9, tzinfo=UTC), date(2027, 3, 1), date(2027, 3, 15))
    # Referred during the operation: not yet in the history.
    stay(datetime(2027, 3, 11, 9, tzinfo=UTC), date(2027, 3, 11), date(2027, 3, 12))

    # Three weeks in, so that the lengths of stay tell in the figures too.
    with time_machine.travel("2027-04-01 12:00:00+00:00", tick=False):
        report = operation_report(larkspur, date(2027, 4, 1))

    history = {
        model.Group("female", "adult"): model.GroupHistory(
            referred=26,
            needed_place=26,
            stays_ended=dict(Counter(lengths)),
            stays_ongoing={8: 1},
        )
    }
    expected = model.forecast(
        {
            model.Group("female", "adult"): 30.0,
            model.Group("male", "adult"): 5.0,
            model.Group("female", "child"): 3.0,
        },
        history,
        first_day=op.STARTS,
        operation_days=7,
    )
    assert report.no_forecast == ""
    assert report.forecast is not None
    days = [date(2027, 3, 10) + timedelta(days=n) for n in range(23)]
    assert [d.day for d in report.forecast.days] == days
    for n, day in enumerate(report.forecast.days):
        for kind in day.kinds:
            figures = expected.kinds[kind.kind]
            assert (kind.median, kind.lower, kind.upper) == (
                figures.median[n],
                figures.lower[n],
                figures.upper[n],
            )
            assert kind.needed == 0  # nobody taken in
    assert report.forecast.days_within == sum(
        all(expected.kinds[k].lower[n] == 0 for k in ("women", "men", "mixed"))
        for n in range(len(days))
    )


def test_with_no_stay_recorded_before_the_operation_there_is_no_forecast_to_compare(
    world: dict[str, Any], larkspur: Operation, alice: User
) -> None:
    # The world's stays all began during the operation.
    report = _report(larkspur)
    assert report.forecast is None
    assert report.no_forecast
    with time_machine.travel(at(20), tick=False):
        page = factories.signed_in_client(alice).get(_url(larkspur)).content.decode()
    assert "No forecast to compare with" in page
