"""Gaps a review found in safe houses, safety profiles and an operation's reception (stop 42).

- A person's recorded sex or gender corrected under a place offered to them, or lived in, of a
  single-sex house (or one their safety profile rules them out of): nobody was told, and a safety
  profile's women-only requirement made a women-only house one a man could be matched to.
- An adult taken in at an operation who refused support showed on the board as "Waiting for a
  bed", and counted in the operation's bed demand.
- "Add surge places" changed after going Back, then sent twice, added the changed places twice.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import selectors as support_selectors
from opennrm.accommodation.models import Bed
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case, Person
from opennrm.operations import selectors as op_selectors
from opennrm.operations import services as operations
from opennrm.operations.models import Operation, ReceptionRecord, SurgePlaces
from opennrm.operations.report import operation_report
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.safety.models import SafetyProfile

from . import case_factories, factories, operation_helpers, surge_helpers
from . import support_factories as s

# --- 1. A person's sex or gender corrected under a single-sex place --------------------------


def _woman(alice: User, police: Organisation, authority: Organisation) -> Case:
    return case_factories.consenting(alice, police, authority, submitted_at=timezone.now())


def _corrected_to_a_man(case: Case) -> None:
    """The person's recorded sex and gender corrected (no page corrects them yet: the rows are
    changed as such a service would)."""
    Person.objects.filter(pk=case.person_id).update(sex="male", gender="Masculine")
    case.refresh_from_db()
    case.person.refresh_from_db()


def test_a_profile_requiring_a_women_only_house_matches_no_man_to_one(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A woman's safety profile requires a women-only house. Her recorded sex and gender are
    corrected to a man's. Before, the profile's requirement went on adding women-only houses to
    where he could be placed, and narrowed his request to them: matching proposed him a bed in a
    women-only refuge. Now a requirement the person's sex and gender rule out adds nothing."""
    case = _woman(alice, northmoor_police, authority)
    s.at_risk_with_a_child(alice, case, keep_away="Northmoor", medical_needs="")
    assert SafetyProfile.objects.get(case=case).setting_required == "women_only"
    request = s.request(case)

    _corrected_to_a_man(case)

    assert "women_only" not in support_selectors.settings_allowed(case)
    matched = support_selectors.matching_request(request, timezone.localdate())
    assert {str(setting) for setting in matched.accepted_settings} <= {"men_only", "mixed"}


# --- 2. An adult who refused support is not waiting for a bed ---------------------------------


@pytest.fixture
def refused_support(alice: User, northmoor_police: Organisation) -> ReceptionRecord:
    """An adult woman taken in during an operation, who needed a bed that night, and who then
    consents to a referral but not to support."""
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        operation = operation_helpers.operation(alice, northmoor_police)
    with time_machine.travel(operation_helpers.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="woman in a grey coat",
            sex="female",
            age_group="adult",
            urgent_needs=["bed_tonight"],
        )
        assert record.draft is not None
        referrals.draft_save_answers(
            by=alice, draft=record.draft, step=steps.STEP_BY_SLUG["age"], data={"under_18": "no"}
        )
        referrals.draft_save_answers(
            by=alice,
            draft=record.draft,
            step=steps.STEP_BY_SLUG["consent"],
            data={
                "consents_to_referral": "yes",
                "consents_to_support": "no",
                "explanation_version": "opennrm-consent-2026-1",
                "explanation_language": "en",
            },
        )
    return ReceptionRecord.objects.get(pk=record.pk)


def test_an_adult_who_refused_support_is_not_shown_waiting_for_a_bed(
    alice: User, refused_support: ReceptionRecord
) -> None:
    """Alice, the lead's first responder, reads the board: the woman who refused support read
    "Waiting for a bed", and the coordinators looked for a place she had said she did not want.
    Now the board says support was refused and no bed is sought."""
    assert op_selectors.standing_of(refused_support) == op_selectors.Standing.SUPPORT_REFUSED
    url = reverse("operations:board", args=[refused_support.operation_id])
    with time_machine.travel(operation_helpers.DURING, tick=False):
        page = factories.signed_in_client(alice).get(url).content.decode()
    row = page[page.index(f'id="person-{refused_support.sequence}"') :]
    row = row[: row.index("</tr>")]
    assert "Support refused" in row
    assert "Waiting for a bed" not in page


def test_an_adult_who_refused_support_is_not_counted_in_bed_demand(
    refused_support: ReceptionRecord,
) -> None:
    """The operation's report counted her among the adults waiting for a place each day, so
    the shortfall it showed was a bed too many."""
    operation = Operation.objects.get(pk=refused_support.operation_id)
    with time_machine.travel(operation_helpers.DURING, tick=False):
        report = operation_report(operation)
    assert all(day.waiting == 0 for day in report.days)
    assert report.standings[op_selectors.Standing.WAITING_FOR_BED] == 0


# --- 3. Surge places changed after Back, then sent twice -------------------------------------


def _date(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def _key(page: HttpResponse) -> str:
    found = re.search(r'name="submission_key"[^>]*value="([0-9a-f-]+)"', page.content.decode())
    assert found, "the page has no submission key"
    return found.group(1)


def _surge_answers(site_pk: int, places: str) -> dict[str, object]:
    return (
        {"site": site_pk, "places": places, "funding_note": "Operation budget"}
        | _date("starts_on", date(2027, 3, 10))
        | _date("ends_on", date(2027, 3, 20))
    )


@pytest.mark.django_db
def test_surge_places_changed_after_back_then_sent_twice_are_added_once(
    alice: User, northmoor_police: Organisation, maya: User, provider: Organisation
) -> None:
    """Maya adds 10 places, goes Back, changes them to 4 and clicks "Add" twice (a slow
    answer). Before, the 4 were added twice: 18 places shown agreed for 14, the operation's
    shortfall hidden and 4 beds offered that do not exist. Now the second send adds nothing and
    says so."""
    planned = surge_helpers.invited_operation(alice, northmoor_police, provider)
    house = s.site(maya, provider, setting="women_only")
    url = reverse("operations:surge_add", args=[planned.id])
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        client = factories.signed_in_client(maya)
        key = _key(client.get(url))
        assert client.post(url, _surge_answers(house.pk, "10") | {"submission_key": key})
        changed = _surge_answers(house.pk, "4") | {"submission_key": key}
        assert client.post(url, changed).status_code == 302
        again = client.post(url, changed, follow=True)
    assert sorted(
        SurgePlaces.objects.filter(operation=planned).values_list("places", flat=True)
    ) == [
        4,
        10,
    ]
    assert Bed.objects.filter(operation_id=planned.pk).count() == 14
    assert "4 surge places added once: this page was sent twice" in again.content.decode()
