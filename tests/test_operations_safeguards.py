"""Safeguards around an enforcement operation's people and places.

- A child, or a person whose age is disputed, taken in during an operation stays protected from
  removal: they do not consent to a referral, so cannot decline one, and their reception draft
  cannot be deleted (ADR 0043; MSA 2015 s.51, CETS Art. 10(3)).
- An operation's start cannot move later than the first day of its surge places: places free
  before the operation starts would show in every coordinator's free beds and in the capacity
  figures while a confidential operation is secret (ADR 0039, 0044).
- A person who went missing before their referral was submitted is missing in the public
  account, as on the board and in the report (ADR 0043, 0046).
- A removal can be planned at most a year ahead, as surge places and bed holds (ADR 0040).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import selectors as accommodation_selectors
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.models import Case
from opennrm.operations import selectors as operation_selectors
from opennrm.operations import services as operation_services
from opennrm.operations import surge
from opennrm.operations.models import Operation, ReceptionRecord
from opennrm.operations.public_account import SOURCE
from opennrm.operations.report import operation_report
from opennrm.operations.selectors import Standing, standing_of
from opennrm.protection.models import PlannedRemoval
from opennrm.protection.services import protection_check
from opennrm.referrals.models import ReferralDraft
from opennrm.referrals.services import draft_delete
from opennrm.statistics import capacity, disclosure, operation_account
from opennrm.statistics.operation_account import became_of

from . import api_helpers as api
from . import factories
from . import operation_helpers as op
from . import support_factories as s

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def _take_in(by: User, operation: Operation, age_group: str) -> ReceptionRecord:
    return operation_services.reception_take_in(
        by=by,
        operation=operation,
        name_or_description="Girl in blue jacket, room 2",
        sex="female",
        age_group=age_group,
    )


# --- A child taken in keeps protection from removal ---------------------------------------------


@pytest.mark.parametrize("age_group", ["child", "age_disputed"])
def test_the_draft_of_a_child_taken_in_cannot_be_deleted_and_they_stay_protected(
    alice: User, northmoor_police: Organisation, officer: User, age_group: str
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = _take_in(alice, operation, age_group)
        assert record.draft is not None
        with pytest.raises(ValidationError) as refused:
            draft_delete(by=alice, draft=record.draft)
        record.refresh_from_db()
        answer = protection_check(by=officer, reference=record.reference)
    assert "taken in as a child or with their age disputed" in refused.value.messages[0]
    assert "cannot be deleted" in refused.value.messages[0]
    assert record.draft is not None
    assert standing_of(record) == Standing.DRAFT
    assert answer.protected
    assert answer.source == "operations"


@pytest.mark.parametrize("age_group", ["child", "age_disputed"])
def test_a_child_taken_in_whose_draft_is_gone_all_the_same_stays_protected(
    alice: User, northmoor_police: Organisation, officer: User, age_group: str
) -> None:
    """Deleted other than by hand (as retention deletes drafts never submitted): a child has
    not declined anything."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = _take_in(alice, operation, age_group)
        assert record.draft is not None
        ReferralDraft.objects.filter(pk=record.draft.pk).delete()
        record.refresh_from_db()
        assert record.draft is None
        answer = protection_check(by=officer, reference=record.reference)
    assert answer.protected
    assert answer.source == "operations"
    # Nor does the board say they declined.
    assert standing_of(record) == Standing.NOT_REFERRED


def test_the_task_list_of_a_child_taken_in_offers_no_delete_and_a_delete_sent_is_refused(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = _take_in(alice, operation, "age_disputed")
        assert record.draft is not None
        client = factories.signed_in_client(alice)
        task_list = reverse("referrals:task_list", args=[record.draft.public_id])
        assert "Delete this draft" not in client.get(task_list).content.decode()
        delete = reverse("referrals:draft_delete", args=[record.draft.public_id])
        response = client.post(delete, follow=True)
    assert response.redirect_chain == [(task_list, 302)]
    assert "the draft cannot be deleted" in response.content.decode()
    assert ReferralDraft.objects.filter(pk=record.draft.pk).exists()


def test_an_adult_taken_in_may_decline_and_then_has_no_protection_from_the_operation(
    alice: User, northmoor_police: Organisation, officer: User
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = _take_in(alice, operation, "adult")
        assert record.draft is not None
        draft_delete(by=alice, draft=record.draft)
        record.refresh_from_db()
        answer = protection_check(by=officer, reference=record.reference)
    assert standing_of(record) == Standing.DECLINED
    assert not answer.protected


# --- Surge places and a start moved later --------------------------------------------------------


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        made = op.operation(alice, northmoor_police, region="north_west")
        operation_services.operation_partner_invite(
            by=alice, operation=made, organisation=provider, role="support_provider"
        )
    return made


@pytest.fixture
def outsider_coordinator(db: None) -> User:
    other = factories.organisation("Uninvited Refuge", OrganisationKind.SUPPORT_PROVIDER)
    return factories.user("uma@example.org", organisation=other, role=Role.SUPPORT_COORDINATOR)


def _api(user: User) -> Any:
    _, secret = api.token(user, user.memberships.get().organisation, scopes=api.EVERY_SCOPE)
    return api.client_with(secret)


def _change_start(by: User, operation: Operation, starts_on: date) -> Operation:
    return operation_services.operation_change(
        by=by,
        operation=operation,
        name=operation.name,
        confidential=True,
        starts_on=starts_on,
        ends_on=date(2027, 3, 30),
        region=operation.region,
        expected={("female", "adult", "sexual"): 30},
        languages=["ro"],
    )


def _surge(by: User, operation: Operation, provider: Organisation, starts_on: date) -> Any:
    house = s.site(by, provider, setting="women_only")
    (ordinary,) = s.beds(by, house, 1)
    added = surge.surge_add(
        by=by,
        operation=operation,
        provider=provider,
        site=house,
        places=2,
        starts_on=starts_on,
        ends_on=date(2027, 3, 20),
    )
    return added, ordinary


def test_a_start_later_than_the_first_day_of_surge_places_is_refused_naming_the_start(
    planned: Operation, alice: User, maya: User, provider: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        _surge(maya, planned, provider, date(2027, 3, 12))
        with pytest.raises(ValidationError) as refused:
            _change_start(alice, planned, date(2027, 3, 13))
        page = factories.signed_in_client(alice).post(
            reverse("operations:edit", args=[planned.id]),
            op.plan_input(starts_on_day="24", ends_on_day="30"),
        )
        # The surge's own first day is still a start the places allow.
        _change_start(alice, planned, date(2027, 3, 12))
    assert set(refused.value.message_dict) == {"starts_on"}
    assert (
        "Surge places for this operation start on 12 March 2027"
        in (refused.value.message_dict["starts_on"][0])
    )
    assert page.status_code == 200
    assert "Surge places for this operation start on 12 March 2027" in page.content.decode()
    planned.refresh_from_db()
    assert planned.starts_on == date(2027, 3, 12)


def test_once_its_surge_places_have_ended_a_confidential_operations_start_may_move_later(
    planned: Operation,
    alice: User,
    maya: User,
    provider: Organisation,
    outsider_coordinator: User,
) -> None:
    """The places ended stay out of everyone's free beds and figures while it is secret."""
    with time_machine.travel(op.BEFORE, tick=False):
        added, ordinary = _surge(maya, planned, provider, date(2027, 3, 10))
        surge.surge_end(by=maya, surge=added)
        # The raid is put back two weeks, still confidential.
        _change_start(alice, planned, date(2027, 3, 24))
    planned.refresh_from_db()
    assert planned.starts_on == date(2027, 3, 24)
    surge_beds = set(added.room.beds.values_list("pk", flat=True))
    with time_machine.travel(noon(date(2027, 3, 12)), tick=False):
        assert operation_selectors.operation_is_secret(planned)
        free = set(accommodation_selectors.free_beds().values_list("pk", flat=True))
        listed = _api(outsider_coordinator).get("/api/v1/support/beds/free").json()["items"]
        counted = capacity.beds_now().total.beds
    assert not (free & surge_beds)
    assert [item["id"] for item in listed] == [ordinary.pk]
    assert counted == 1


# --- The public account counts the missing before referral ----------------------------------------


def test_a_person_gone_missing_before_referral_is_missing_in_the_public_account(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    with time_machine.travel(op.DURING, tick=False):
        record = operation_services.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="Woman in red coat",
            sex="female",
            age_group="adult",
        )
        operation_services.reception_missing(by=alice, record=record, missing=True)
    record.refresh_from_db()
    assert standing_of(record) == Standing.MISSING  # the board
    with time_machine.travel("2027-03-20 12:00:00+00:00", tick=False):
        assert operation_report(operation, date(2027, 3, 20)).missing_now == 1  # the report
        (person,) = SOURCE.account(operation.pk, date(2027, 3, 20)).people
    assert person.went_missing
    assert became_of(person) == "draft_missing"
    assert operation_account.BECAME_LABELS["draft_missing"] == (
        "Referral not yet submitted: missing"
    )


def test_the_missing_before_referral_are_among_the_not_referred_for_the_checker() -> None:
    """The people with no decision are those not referred in the table of what became of
    them, the missing before referral included: the checker knows it, so no suppressed count
    can be worked out from it."""

    def person(outcome: str, standing: str, went_missing: bool = False) -> Any:
        rg = "awaiting" if outcome == "referred" else operation_account.NOT_REFERRED
        return operation_account.Person(
            "female", "adult", outcome, standing, rg, "not_due", None, went_missing
        )

    people = (
        [person("referred", "referred")] * 12
        + [person("not_yet_submitted", "missing", went_missing=True)] * 2
        + [person("not_yet_submitted", "draft")] * 6
    )
    found = operation_account.Account(
        operation=operation_account.Summary(
            1, "Operation Wren", date(2027, 3, 10), date(2027, 3, 16), "North East"
        ),
        as_of=date(2027, 4, 1),
        people=tuple(people),
        turned_away=(),
        planned_removals=(),
    )
    (relation,) = operation_account.account_relations()
    assert disclosure.Cell.of(operation_account.PEOPLE, became="draft_missing") in relation.parts
    protected = operation_account.protect(operation_account.account_tables(found))
    assert not disclosure.problems(
        protected.release,
        protected.published,
        threshold=protected.threshold,
        protection=protected.protection,
    )
    missing = disclosure.Cell.of(operation_account.PEOPLE, became="draft_missing")
    assert protected.published[missing] == disclosure.CONFIDENTIAL
    low, high = protected.audit[missing]
    assert high - low >= protected.threshold
    assert (
        protected.published[
            disclosure.Cell.of(operation_account.PEOPLE, decisions=operation_account.NOT_REFERRED)
        ]
        == 8
    )


# --- A removal planned at most a year ahead -----------------------------------------------------


def _removal(reference: str, planned_on: date) -> dict[str, str]:
    return {
        "reference": reference,
        "planned_on_day": str(planned_on.day),
        "planned_on_month": str(planned_on.month),
        "planned_on_year": str(planned_on.year),
    }


def test_a_removal_planned_thousands_of_years_ahead_is_refused_naming_the_day(
    officer: User, border_enforcement: Organisation, case: Case
) -> None:
    _, secret = api.token(officer, border_enforcement, scopes=[api.PROTECTION_CHECK])
    response = api.post_json(
        api.client_with(secret),
        f"/api/v1/protection/{case.reference}/planned-removals",
        {"planned_on": "9999-12-31"},
    )
    page = factories.signed_in_client(officer).post(
        reverse("protection:planned_removal"), _removal(case.reference, date(9999, 12, 31))
    )
    assert not PlannedRemoval.objects.exists()
    assert response.status_code == 422
    assert [e["field"] for e in api.errors(response)] == ["planned_on"]
    assert page.status_code == 200
    assert "The date of the planned removal must be" in page.content.decode()
    assert "within a year" in page.content.decode()


def test_a_removal_may_be_planned_up_to_a_year_ahead(
    officer: User, border_enforcement: Organisation, case: Case
) -> None:
    _, secret = api.token(officer, border_enforcement, scopes=[api.PROTECTION_CHECK])
    client = api.client_with(secret)
    url = f"/api/v1/protection/{case.reference}/planned-removals"
    latest = timezone.localdate() + timedelta(days=366)
    beyond = api.post_json(client, url, {"planned_on": (latest + timedelta(days=1)).isoformat()})
    taken = api.post_json(client, url, {"planned_on": latest.isoformat()})
    assert beyond.status_code == 422
    assert f"must be {latest:%-d %B %Y} or earlier" in api.errors(beyond)[0]["message"]
    assert taken.status_code == 201
    assert list(PlannedRemoval.objects.values_list("planned_on", flat=True)) == [latest]
