"""The public account of an enforcement operation (issue 14, item 6; ADR 0046): prepared by one
analyst from an operation that has ended, approved by another, published through the official
statistics pages, downloads and API with the same disclosure control as any release."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from opennrm.accommodation.matching import constraint_label
from opennrm.accommodation.models import Placement, PlacementStatus, UnmetNeed
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.care.models import MissingEpisode
from opennrm.cases.choices import CaseStatus, Sex
from opennrm.cases.models import Case
from opennrm.operations import services as operation_services
from opennrm.operations.models import Operation, ReceptionRecord
from opennrm.protection.services import planned_removal_record
from opennrm.referrals.models import DraftStatus
from opennrm.statistics import disclosure, operation_account, releases
from opennrm.statistics.models import Release, ReleaseVersion, SyntheticDataset, VersionState

from . import case_factories, factories, support_factories
from . import operation_helpers as op

LONDON = ZoneInfo("Europe/London")
FOUND_ON = date(2027, 3, 12)  # op.DURING, in London
C = disclosure.CONFIDENTIAL
SEX_LABELS = {sex.value: sex.label for sex in Sex}


@pytest.fixture
def analysts(monitoring: Organisation) -> tuple[User, User]:
    return (
        factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada Preparer"),
        factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ben Approver"),
    )


def take_in(by: User, operation: Operation, **changes: Any) -> ReceptionRecord:
    values: dict[str, Any] = {
        "name_or_description": "Person in room 3",
        "sex": "female",
        "age_group": "adult",
        "language": "ro",
        "urgent_needs": [],
        "interpreter_needed": False,
    }
    values.update(changes)
    with time_machine.travel(op.DURING, tick=False):
        return operation_services.reception_take_in(by=by, operation=operation, **values)


def referred(record: ReceptionRecord, case: Case) -> None:
    """The draft became this case (as referrals.services.referral_submit leaves it)."""
    draft = record.draft
    assert draft is not None
    draft.status = DraftStatus.SUBMITTED
    draft.case = case
    draft.answers = {}
    draft.save()


class World:
    """What the test made, kept so that the expected figures are counted from it, not from
    the code under test."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.people: list[dict[str, str]] = []  # one per person: every dimension's code
        self.turned_away: list[str] = []
        self.removals: list[str] = []


@pytest.fixture
def larkspur(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    maya: User,
    cora: User,
    provider: Organisation,
    border_enforcement: Organisation,
) -> World:
    """An operation that found 20 adults: 12 women referred (all with a positive reasonable
    grounds decision; 7 placed the day they were found, 2 of whom went missing, and 5 waiting,
    their requests unmet for lack of a bed), 6 men reported under the duty to notify (each with
    a removal planned: none protected) and 2 women who declined."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    world = World(operation)
    house = support_factories.site(maya, provider, region="north_east")
    beds = support_factories.beds(maya, house, 7)
    officer = factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )
    with time_machine.travel(op.DURING, tick=False):
        for n in range(12):
            record = take_in(alice, operation)
            case = case_factories.case(
                referred_by=alice,
                referring_organisation=northmoor_police,
                authority=authority,
                status=CaseStatus.RECOVERY_PERIOD,
                given_names=f"Testa {n}",
            )
            referred(record, case)
            person = {
                "sex": "female",
                "age_group": "adult",
                "decisions": "rg_positive_cg_awaiting",
                "went_missing": "did_not_go_missing",
            }
            if n < 7:
                request = support_factories.request(case, status="placed")
                Placement.objects.create(
                    request=request,
                    bed=beds[n],
                    status=PlacementStatus.OCCUPIED,
                    proposed_at=datetime(2027, 3, 12, 11, tzinfo=LONDON),
                    proposed_by=cora,
                    arrived_on=FOUND_ON,
                )
                person |= {"became": "referred_placed", "time": "same_day"}
                if n < 2:
                    MissingEpisode.objects.create(
                        case=case,
                        went_missing_on=date(2027, 3, 14),
                        reported_at=datetime(2027, 3, 14, 9, tzinfo=LONDON),
                        reported_by=cora,
                        returned_on=date(2027, 3, 15),
                    )
                    person["went_missing"] = "went_missing"
            else:
                request = support_factories.request(case)
                for on in (FOUND_ON, date(2027, 3, 13)):  # found unmet twice: counted once
                    UnmetNeed.objects.create(
                        request=request, on=on, constraint="no_beds", reason="None free."
                    )
                world.turned_away.append("no_beds")
                person |= {"became": "referred_waiting", "time": "not_placed"}
            world.people.append(person)
        for _ in range(6):
            record = take_in(alice, operation, sex="male")
            assert record.draft is not None
            record.draft.status = DraftStatus.REPORTED
            record.draft.save()
            planned = planned_removal_record(
                by=officer,
                organisation=border_enforcement,
                reference=record.reference,
                planned_on=date(2027, 3, 20),
            )
            world.removals.append("protected" if planned.planned.protected else "not_protected")
            world.people.append(
                {
                    "sex": "male",
                    "age_group": "adult",
                    "became": "duty_to_notify",
                    "decisions": "not_referred",
                    "time": "not_placed",
                    "went_missing": "did_not_go_missing",
                }
            )
        for _ in range(2):
            record = take_in(alice, operation)
            assert record.draft is not None
            record.draft.delete()
            world.people.append(
                {
                    "sex": "female",
                    "age_group": "adult",
                    "became": "declined",
                    "decisions": "not_referred",
                    "time": "not_placed",
                    "went_missing": "did_not_go_missing",
                }
            )
    return world


def prepare(world: World, by: User, **changes: Any) -> ReleaseVersion:
    with time_machine.travel(op.AFTER, tick=False):
        return releases.prepare_operation_release(
            by=Actor(by),
            operation_id=changes.pop("operation_id", world.operation.pk),
            title=changes.pop("title", "Operation Larkspur: the people found"),
            **changes,
        )


def published(world: World, analysts: tuple[User, User]) -> ReleaseVersion:
    version = prepare(world, analysts[0])
    with time_machine.travel(op.AFTER, tick=False):
        return releases.approve_release(by=Actor(analysts[1]), version=version)


def column(table: dict[str, Any]) -> dict[str, Any]:
    """A one-way table's rows and total, by row label, as published."""
    assert table["footer"] is not None
    return {str(row[0]): row[-1] for row in [*table["rows"], table["footer"]]}


def expected(counts: Counter[str], labels: dict[str, str]) -> dict[str, int]:
    return {labels[code]: counts.get(code, 0) for code in labels} | {"Total": sum(counts.values())}


def agrees(published_cells: dict[str, Any], truth: dict[str, int], threshold: int) -> None:
    """Every published count equals the true one; every small count is suppressed; a
    suppressed cell is `[c]` (secondary suppression may hide a large one too)."""
    assert published_cells.keys() == truth.keys()
    for label, value in published_cells.items():
        true = truth[label]
        if 0 < true < threshold:
            assert value == C, label
        else:
            assert value in (true, C), label


def leaks(body: bytes, markers: list[str]) -> list[str]:
    """The markers in a response body, looking inside a zip container (ODS, XLSX) too."""
    texts = [body]
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            texts += [archive.read(name) for name in archive.namelist()]
    decoded = [text.decode("utf-8", errors="replace") for text in texts]
    return [marker for marker in markers if any(marker in text for text in decoded)]


# --- The service -------------------------------------------------------------------------


def test_an_analyst_prepares_the_account_and_a_second_publishes_it_with_the_true_counts(
    larkspur: World, analysts: tuple[User, User]
) -> None:
    version = published(larkspur, analysts)
    assert version.state == VersionState.PUBLISHED
    assert version.release.operation_id == larkspur.operation.pk
    snapshot = version.snapshot
    threshold = int(snapshot["threshold"])
    assert threshold == disclosure.DEFAULT_THRESHOLD
    found = releases.snapshot_tables(snapshot)
    people = larkspur.people

    def truth(key: str, labels: dict[str, str]) -> dict[str, int]:
        return expected(Counter(p[key] for p in people), labels)

    agrees(column(found["people-found-by-sex"]), truth("sex", SEX_LABELS), threshold)
    agrees(
        column(found["people-found-by-age-group"]),
        truth("age_group", operation_account.AGE_LABELS),
        threshold,
    )
    became = column(found["people-by-what-became-of-them"])
    agrees(became, truth("became", operation_account.BECAME_LABELS), threshold)
    agrees(
        column(found["people-by-decisions"]),
        truth("decisions", operation_account.DECISION_LABELS),
        threshold,
    )
    agrees(
        column(found["people-by-time-to-a-place"]),
        truth("time", operation_account.TIME_LABELS),
        threshold,
    )
    agrees(
        column(found["people-gone-missing"]),
        truth("went_missing", operation_account.MISSING_LABELS),
        threshold,
    )
    agrees(
        column(found["turned-away-by-reason"]),
        expected(Counter(larkspur.turned_away), {"no_beds": constraint_label("no_beds")}),
        threshold,
    )
    agrees(
        column(found["planned-removals-by-protection"]),
        expected(Counter(larkspur.removals), operation_account.PROTECTED_LABELS),
        threshold,
    )
    # The figures the release exists for are published, not hidden: 20 found, 12 referred (7
    # placed, 5 waiting), 7 placed the same day, 5 turned away, no removal planned while
    # protected. The 2 who declined are suppressed, and with them the 6 reported (else 20 less
    # the rest would give the 2).
    labels = operation_account.BECAME_LABELS
    assert column(found["people-found-by-sex"])["Total"] == 20
    assert became[labels["referred_placed"]] == 7
    assert became[labels["referred_waiting"]] == 5
    assert became[labels["declined"]] == C
    assert became[labels["duty_to_notify"]] == C
    assert (
        column(found["people-by-decisions"])[
            operation_account.DECISION_LABELS["rg_positive_cg_awaiting"]
        ]
        == 12
    )
    assert column(found["people-by-time-to-a-place"])["The same day"] == 7
    assert column(found["people-gone-missing"])["Went missing at least once"] == C  # 2
    assert column(found["turned-away-by-reason"])["Total"] == 5
    protected = operation_account.PROTECTED_LABELS["protected"]
    assert column(found["planned-removals-by-protection"])[protected] == 0
    # The main points, in words, from the published figures only.
    said = " ".join(snapshot["key_results"])
    assert "Operation Larkspur (10 March 2027 to 16 March 2027) found 20 people" in said
    assert "12 people were referred to the National Referral Mechanism" in said
    assert "a number of people that is not published were reported under the duty" in said
    assert "a number of people that is not published declined both" in said
    assert "for the people referred: positive: 12; negative: 0; awaited: 0." in said
    assert (
        "7 people were accommodated in a safe house, 7 of them on the day they were found" in said
    )
    assert "The number of people who went missing from support is not published" in said
    assert "5 requests for a bed could not be met" in said
    assert "No removal was recorded as planned for any of them while they were protected" in said
    assert snapshot["period"]["label"] == "10 March 2027 to 16 March 2027"
    assert snapshot["jurisdiction_label"] == "North East"
    assert snapshot["operation"]["name"] == "Operation Larkspur"
    assert [item["title"] for item in snapshot["not_available"]] == [
        m.title for m in operation_account.NOT_IN_AN_ACCOUNT
    ]
    # The same checker as every release finds nothing to refuse.
    prepared_event = AuditEvent.objects.get(action="statistics.release_prepared")
    assert prepared_event.detail["operation"] == larkspur.operation.pk
    assert AuditEvent.objects.filter(action="statistics.release_approved").count() == 1


def test_the_tables_are_protected_as_one_release_with_what_a_reader_knows_across_them(
    larkspur: World,
) -> None:
    with time_machine.travel(op.AFTER, tick=False):
        found = operation_account.source().account(larkspur.operation.pk, date(2027, 4, 1))
    made = operation_account.account_tables(found)
    protected = operation_account.protect(made)
    assert not disclosure.problems(
        protected.release,
        protected.published,
        threshold=protected.threshold,
        protection=protected.protection,
    )
    # The people not referred (8) are published in the table of decisions; the reader knows
    # they are those reported, declined or not yet submitted, and the checker knows it too.
    assert (
        protected.published[disclosure.Cell.of(operation_account.PEOPLE, decisions="not_referred")]
        == 8
    )
    for row in ("declined", "duty_to_notify"):
        cell = disclosure.Cell.of(operation_account.PEOPLE, became=row)
        assert protected.published[cell] == C
        low, high = protected.audit[cell]
        assert high - low >= protected.threshold


def test_a_removal_planned_while_protected_is_counted_and_suppressed_when_small(
    larkspur: World, analysts: tuple[User, User], border_enforcement: Organisation
) -> None:
    placed = ReceptionRecord.objects.filter(
        operation=larkspur.operation, draft__status=DraftStatus.SUBMITTED
    ).first()
    assert placed is not None
    assert placed.draft is not None
    assert placed.draft.case is not None
    officer = factories.user(
        "ida@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )
    with time_machine.travel(op.AFTER, tick=False):
        recorded = planned_removal_record(
            by=officer,
            organisation=border_enforcement,
            reference=placed.draft.case.reference,
            planned_on=date(2027, 4, 5),
        )
    assert recorded.planned.protected  # in the recovery period
    snapshot = prepare(larkspur, analysts[0]).snapshot
    removals = column(releases.snapshot_tables(snapshot)["planned-removals-by-protection"])
    assert removals[operation_account.PROTECTED_LABELS["protected"]] == C  # 1
    said = " ".join(snapshot["key_results"])
    assert "while they were protected from removal is not published" in said


@pytest.mark.parametrize(
    "state", ["planned_confidential", "under_way", "cancelled", "no_such_operation"]
)
def test_only_an_operation_that_took_place_and_ended_can_be_released(
    state: str,
    alice: User,
    bob: User,
    northmoor_police: Organisation,
    analysts: tuple[User, User],
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police, name="Operation Secret")
    when = op.AFTER
    if state == "planned_confidential":
        when = op.BEFORE
    elif state == "under_way":
        when = op.DURING
    elif state == "cancelled":
        Operation.objects.filter(pk=operation.pk).update(
            cancelled_at=datetime(2027, 3, 1, tzinfo=LONDON)
        )
    operation_id = operation.pk + 1000 if state == "no_such_operation" else operation.pk
    with time_machine.travel(when, tick=False):
        listed = [o.id for o in releases.releasable_operations()]
        assert listed == ([operation.pk] if state == "no_such_operation" else [])
        with pytest.raises(releases.ReleaseRefused) as refused:
            releases.prepare_operation_release(
                by=Actor(analysts[0]), operation_id=operation_id, title="Account"
            )
    # One message for all, naming nothing: an analyst learns nothing of a planned operation.
    assert refused.value.message_dict == {
        "operation": [
            "Only an operation that took place and has ended can have its account published: "
            "choose one of the operations listed."
        ]
    }
    assert not Release.objects.exists()
    assert not ReleaseVersion.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="statistics.").exists()


def test_an_accounts_second_version_is_refused_and_a_revision_recounts(
    larkspur: World, analysts: tuple[User, User]
) -> None:
    first = published(larkspur, analysts)
    with pytest.raises(releases.ReleaseRefused, match="revise it instead"):
        prepare(larkspur, analysts[0], title="Again")
    # A person found went missing after the account was published: the revision counts them.
    case = Case.objects.filter(missing_episodes__isnull=True, placement_requests__status="placed")
    missing_case = case.first()
    assert missing_case is not None
    MissingEpisode.objects.create(
        case=missing_case,
        went_missing_on=date(2027, 3, 30),
        reported_at=datetime(2027, 3, 30, 9, tzinfo=LONDON),
        reported_by=analysts[0],
    )
    with time_machine.travel(op.AFTER, tick=False):
        with pytest.raises(releases.ReleaseRefused):
            releases.revise_release(
                by=Actor(analysts[0]),
                release=first.release,
                reason="A late report",
                synthetic_epsilon=releases.Decimal("1"),
            )
        second = releases.revise_release(
            by=Actor(analysts[0]), release=first.release, reason="A late report"
        )
    missing = column(releases.snapshot_tables(second.snapshot)["people-gone-missing"])
    assert missing["Went missing at least once"] in (3, C)
    assert missing["Did not go missing"] in (17, C)
    assert second.snapshot["operation"]["name"] == "Operation Larkspur"


def test_a_period_release_is_not_blocked_by_an_operations_account(
    larkspur: World, analysts: tuple[User, User]
) -> None:
    from opennrm.statistics import tables

    prepare(larkspur, analysts[0])
    with time_machine.travel(op.AFTER, tick=False):
        version = releases.prepare_release(
            by=Actor(analysts[0]),
            period=tables.Period(date(2027, 3, 10), date(2027, 3, 16)),
            jurisdiction=None,
            title="A week of referrals",
        )
    assert "operation" not in version.snapshot


# --- The pages ---------------------------------------------------------------------------

PREPARE = "/statistics/releases/prepare/operation/"


@pytest.mark.page("statistics:release_prepare_operation")
def test_the_page_lists_only_ended_operations_and_prepares_the_account(
    larkspur: World,
    analysts: tuple[User, User],
    alice: User,
    northmoor_police: Organisation,
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        secret = op.operation(
            alice,
            northmoor_police,
            name="Operation Nightjar",
            starts_on=date(2027, 5, 1),
            ends_on=date(2027, 5, 2),
        )
    with time_machine.travel(op.AFTER, tick=False):
        client = factories.signed_in_client(analysts[0])
        page = client.get(PREPARE)
        text = page.content.decode()
        assert page.status_code == 200
        assert "no-store" in page["Cache-Control"]
        assert "Operation Larkspur: North East, 10 March 2027 to 16 March 2027" in text
        assert "Nightjar" not in text  # confidential and not yet started
        refused = client.post(
            PREPARE, {"operation": str(secret.pk), "title": "An account"}
        ).content.decode()
        assert "Select one of the operations listed" in refused
        assert "Nightjar" not in refused
        assert not ReleaseVersion.objects.exists()
        missing = client.post(PREPARE, {"operation": "", "title": ""}).content.decode()
        assert "Select the operation" in missing
        assert "Enter the title of the release" in missing
        response = client.post(
            PREPARE,
            {"operation": str(larkspur.operation.pk), "title": "Larkspur", "notes": "First."},
        )
        version = ReleaseVersion.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/statistics/releases/{version.release_id}/1/"
        assert version.snapshot["notes"] == ["First."]
        again = client.post(PREPARE, {"operation": str(larkspur.operation.pk), "title": "Again"})
        assert "revise it instead" in again.content.decode()
        assert client.delete(PREPARE).status_code == 405
        assert factories.signed_in_client(alice).get(PREPARE).status_code == 404
        assert factories.signed_in_client(alice).post(PREPARE, {}).status_code == 404
        assert Client().get(PREPARE).status_code in (302, 404)
        assert PREPARE in client.get("/statistics/releases/").content.decode()


def test_revising_an_account_asks_only_for_the_reason(
    larkspur: World, analysts: tuple[User, User]
) -> None:
    first = published(larkspur, analysts)
    url = f"/statistics/releases/{first.release_id}/revise/"
    with time_machine.travel(op.AFTER, tick=False):
        client = factories.signed_in_client(analysts[0])
        page = client.get(url).content.decode()
        assert "Why is the release being revised?" in page
        assert "synthetic dataset" not in page
        response = client.post(url, {"reason": "A late placement"})
    assert response["Location"] == f"/statistics/releases/{first.release_id}/2/"
    second = ReleaseVersion.objects.get(release=first.release, number=2)
    assert second.revision_reason == "A late placement"
    assert second.snapshot["operation"]["name"] == "Operation Larkspur"
    assert not SyntheticDataset.objects.filter(version=second).exists()


def test_the_page_says_when_no_operation_has_ended(analysts: tuple[User, User]) -> None:
    text = factories.signed_in_client(analysts[0]).get(PREPARE).content.decode()
    assert "No operation has ended yet" in text


def test_a_non_analyst_is_refused_the_accounts_pages_as_any_release(
    larkspur: World, analysts: tuple[User, User], alice: User, cora: User
) -> None:
    version = prepare(larkspur, analysts[0])
    url = f"/statistics/releases/{version.release_id}/1/"
    for outsider in (alice, cora):
        client = factories.signed_in_client(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url + "approve/").status_code == 404
    assert Client().get(f"/official-statistics/{version.release_id}/1/").status_code == 404
    other = factories.signed_in_client(analysts[1]).get(url).content.decode()
    assert "Approve and publish" in other
    assert "Operation Larkspur" in other


def test_the_public_pages_downloads_and_api_show_the_account_once_approved(
    larkspur: World, analysts: tuple[User, User]
) -> None:
    version = prepare(larkspur, analysts[0])
    assert "Larkspur" not in Client().get("/official-statistics/").content.decode()
    with time_machine.travel(op.AFTER, tick=False):
        releases.approve_release(by=Actor(analysts[1]), version=version)
    listing = Client().get("/official-statistics/").content.decode()
    base = f"/official-statistics/{version.release_id}/1/"
    assert "Operation Larkspur: the people found" in listing
    assert base in listing
    bulletin = Client().get(base).content.decode()
    assert "found 20 people" in bulletin
    assert "an enforcement operation in North East" in bulletin
    # Nothing that names a person, a responder or an analyst, anywhere it is published.
    markers = [
        "Person in room 3",
        "Alice Adams",
        "Ada Preparer",
        "Ben Approver",
        *ReceptionRecord.objects.values_list("reference", flat=True),
        *Case.objects.values_list("reference", flat=True),
        *(f"Testa {n}" for n in range(12)),
    ]
    slugs = releases.snapshot_tables(version.snapshot)
    for path in [
        base,
        f"{base}release.ods",
        f"{base}release.xlsx",
        f"{base}release.csv",
        *(f"{base}tables/{slug}.csv" for slug in slugs),
        "/api/v1/statistics/releases",
        f"/api/v1/statistics/releases/{version.release_id}/versions/1",
    ]:
        response = Client().get(path)
        assert response.status_code == 200, path
        assert leaks(response.content, markers) == [], path
    everything = Client().get(base + "release.csv")
    assert everything["Content-Disposition"].startswith(
        'attachment; filename="operation-account-2027-03-10-to-2027-03-16-v1'
    )
    rows = list(csv.reader(io.StringIO(everything.content.decode())))
    assert any("People found, by sex" in " ".join(row) for row in rows)
    for kind in ("release.ods", "release.xlsx"):
        assert Client().get(base + kind).status_code == 200
    table = Client().get(base + "tables/people-by-time-to-a-place.csv").content.decode()
    assert "The same day" in table
    api = Client().get(f"/api/v1/statistics/releases/{version.release_id}/versions/1")
    assert api.status_code == 200
    assert api.json()["snapshot"]["key_results"] == version.snapshot["key_results"]
    assert api.json()["snapshot"]["operation"]["name"] == "Operation Larkspur"
    listed = Client().get("/api/v1/statistics/releases").json()["versions"]
    assert [v["release"] for v in listed] == [version.release_id]


# --- The main points in words (pure) -----------------------------------------------------


def _account(people: list[operation_account.Person], **rows: Any) -> operation_account.Account:
    return operation_account.Account(
        operation=operation_account.Summary(
            1, "Operation Wren", date(2027, 3, 10), date(2027, 3, 16), "North East"
        ),
        as_of=date(2027, 4, 1),
        people=tuple(people),
        turned_away=rows.get("turned_away", ()),
        planned_removals=rows.get("planned_removals", ()),
    )


def test_an_operation_that_found_nobody_says_so_and_nothing_more() -> None:
    built = releases.build_operation_snapshot(_account([]), "Wren", "")
    assert built.problems == []
    assert built.snapshot["key_results"] == [
        "Operation Wren (10 March 2027 to 16 March 2027) found nobody to take in."
    ]


def test_small_figures_are_said_to_be_not_published_never_given() -> None:
    child = operation_account.Person(
        "female", "child", "referred", "missing", "awaiting", "not_due", None, True
    )
    built = releases.build_operation_snapshot(
        _account([child] * 3, turned_away=("taken",), planned_removals=(True,)), "Wren", ""
    )
    assert built.problems == []
    said = built.snapshot["key_results"]
    assert said[0].startswith("The number of people found in Operation Wren")
    assert all("3" not in sentence.replace("2027", "") for sentence in said)
    assert said[-1].startswith(
        "The number of removals recorded as planned for people found while they were protected"
    )


def test_the_key_results_say_children_whose_draft_was_deleted_apart_from_those_who_declined() -> (
    None
):
    """A child, or a person whose age is disputed, never declines (ADR 0046, addendum of stop
    37): the account's own row, and its own sentence, whose verb agrees with the count."""
    from opennrm.statistics import releases

    labels = operation_account.BECAME_LABELS

    def found(children: int | str) -> dict[str, Any]:
        became = [
            [labels["referred_placed"], 3],
            [labels["declined"], 0],
            [labels["duty_to_notify"], 0],
            [labels[operation_account.CHILD_NOT_REFERRED], children],
        ]
        return {
            "people-found-by-sex": {"rows": [], "footer": ["Total", 4]},
            "people-by-what-became-of-them": {"rows": became, "footer": ["Total", 4]},
        }

    one = " ".join(releases._found(found(1), "Operation Larkspur", "March 2027"))
    assert "1 child or person whose age is disputed was not referred" in one
    assert "0 people declined both" in one
    suppressed = " ".join(releases._found(found(C), "Operation Larkspur", "March 2027"))
    assert "a number of children that is not published were not referred" in suppressed
    none = " ".join(releases._found(found(0), "Operation Larkspur", "March 2027"))
    assert "not referred" not in none
