"""Gaps a review found in the safe-house lists (stop 41): the placements page's three lists
("Offered", "Accepted: waiting for the person to arrive", "Living there now"), which a
safe-house manager and a support coordinator act on, did not say whether the person is a child
or treated as one. A child, or a person whose age is disputed, is never treated as an adult
anywhere, and the staff who act on it must see it at a glance: each list now has the "Adult or
child" column that "My tasks" and the decision queue have, by the same rule (`Case.is_child`:
a child, or a person whose age is disputed) and in the same words."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as support
from opennrm.accommodation.models import Placement
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, Person
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.coming_of_age import years_later

from . import case_factories, factories
from . import support_plan_helpers as h

CAPTIONS = {
    "offered": "offers-caption",
    "expected": "expected-caption",
    "living": "living-caption",
}


def _person(
    alice: User,
    police: Organisation,
    authority: Organisation,
    age_group: AgeGroup,
    **fields: object,
) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=police,
        authority=authority,
        age_group=age_group,
        **fields,
    )


def _at(stage: str, cora: User, maya: User, provider: Organisation, case: Case) -> Placement:
    """The person offered a bed at one of `provider`'s sites (a children's one if they are
    treated as a child), then taken to `stage`: offered, expected (accepted) or living."""
    ages = "children" if case.is_child else "adults"
    placement = h.offered(cora, maya, provider, case, ages=ages)
    if stage in ("expected", "living"):
        support.placement_respond(by=maya, placement=placement, accept=True)
    if stage == "living":
        support.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    return placement


def _age_column(page: str, stage: str) -> dict[str, str]:
    """The list of `stage` on the placements page: each row's case reference and what its
    "Adult or child" cell says (the header must be there, or nothing is read)."""
    start = page.index(f'<caption id="{CAPTIONS[stage]}"')
    table = page[start : page.index("</table>", start)]
    headers = re.findall(r'<th scope="col" class="govuk-table__header">(.*?)</th>', table)
    assert "Adult or child" in headers, f"no 'Adult or child' column on the {stage} list"
    column = headers.index("Adult or child")
    found: dict[str, str] = {}
    for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', table, re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)
        ]
        found[cells[0]] = cells[column]
    return found


@pytest.mark.parametrize("stage", ["offered", "expected", "living"])
def test_each_safe_house_list_marks_a_child_and_an_age_disputed_person_as_a_child(
    stage: str,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Maya, a safe-house manager, has three people offered to her houses, expected, or living
    there: a child, a person referred as an adult whose age is disputed (treated as a child
    until assessed), and an adult. On her placements page the list they are on reads "Child",
    "Child" and "Adult", as "My tasks" and the decision queue would, and so does the support
    coordinator's, who sees the same lists nationally."""
    child = _person(alice, northmoor_police, authority, AgeGroup.CHILD)
    disputed = _person(alice, northmoor_police, authority, AgeGroup.PRESUMED_CHILD)
    adult = _person(alice, northmoor_police, authority, AgeGroup.ADULT)
    for case in (child, disputed, adult):
        _at(stage, cora, maya, provider, case)

    for user in (maya, cora):
        page = factories.signed_in_client(user).get(reverse("support:placements"))
        assert _age_column(page.content.decode(), stage) == {
            child.reference: "Child",
            disputed.reference: "Child",
            adult.reference: "Adult",
        }


def test_an_adult_whose_age_is_disputed_while_living_in_an_adult_house_shows_as_a_child(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """An adult lives in one of Maya's adult safe houses; the first responder who referred her
    then records that she may be under 18 (an age dispute: treated as a child until assessed).
    Her stay does not end by itself, so Maya must see at once that a person treated as a child
    is living in her adult house: the "Living there now" list says "Child" beside her
    reference, and "Adult" beside the adult living next door."""
    disputed = _person(alice, northmoor_police, authority, AgeGroup.ADULT)
    neighbour = _person(alice, northmoor_police, authority, AgeGroup.ADULT)
    for case in (disputed, neighbour):
        _at("living", cora, maya, provider, case)
    safeguarding.age_dispute_raise(
        by=alice, case=disputed, basis="says_so", expected_version=disputed.version
    )

    page = factories.signed_in_client(maya).get(reverse("support:placements")).content.decode()
    assert _age_column(page, "living") == {
        disputed.reference: "Child",
        neighbour.reference: "Adult",
    }


def test_a_child_living_in_a_childrens_house_who_turns_18_shows_as_the_daily_task_decides(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A girl referred at 17, with her date of birth, lives in one of Maya's children's houses
    and is 18 today. The list follows the one rule every list follows (`Case.is_child`, the
    age group recorded): she is still "Child" until the daily task moves her case to the adult
    pathway (`safeguarding.coming_of_age`; never guessed from a birthday on the page), and
    "Adult" after it, as on "My tasks" and the decision queue."""
    today = timezone.localdate()
    case = _person(
        alice,
        northmoor_police,
        authority,
        AgeGroup.CHILD,
        date_of_birth=years_later(today, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    _at("living", cora, maya, provider, case)
    client = factories.signed_in_client(maya)
    url = reverse("support:placements")

    assert _age_column(client.get(url).content.decode(), "living") == {case.reference: "Child"}
    assert coming_of_age.run(today).turned_18 == 1
    assert _age_column(client.get(url).content.decode(), "living") == {case.reference: "Adult"}


def test_the_adult_or_child_column_costs_no_query_per_row(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Maya's placements page with one person on each list, then with three: the page shows
    each person's "Adult or child" and reads the same number of queries however many rows
    there are (the case comes with the placement, `selectors.placements_visible_to`)."""

    def queries() -> int:
        client = factories.signed_in_client(maya)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("support:placements")).content.decode()
        for stage in CAPTIONS:
            assert set(_age_column(page, stage).values()) <= {"Child", "Adult"}
        return len(captured)

    def one_of_each() -> None:
        for stage, age_group in zip(
            CAPTIONS, (AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD, AgeGroup.ADULT), strict=True
        ):
            _at(stage, cora, maya, provider, _person(alice, northmoor_police, authority, age_group))

    one_of_each()
    few = queries()
    one_of_each()
    one_of_each()
    assert queries() == few
