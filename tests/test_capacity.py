"""The capacity dashboard (issue 6, item 7). During a police operation that finds many people at
once, a coordinator asks "how many more can we take?" and gets an exact count, by region and
provider, from the same rules matching uses. Coordinators, safe-house managers and analysts see
the beds now and occupancy, the waiting list, unmet need and length of stay over time, as charts
with their tables beside them, and download every table as CSV. Figures only: never a person,
a site's name or its address. Everyone else gets 404."""

from __future__ import annotations

import csv
import html
import inspect
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from itertools import product
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from opennrm.accommodation import matching, selectors, services
from opennrm.accommodation.models import (
    Placement,
    PlacementRequestStatus,
    PlacementStatus,
    Site,
    UnmetNeed,
)
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.statistics import capacity, charts
from opennrm.statistics import views as capacity_views

from . import case_factories, factories
from . import support_factories as s

CAPACITY = "/support/capacity/"
OVER_TIME = "/support/capacity/over-time/"
TODAY = date(2026, 4, 8)  # a Wednesday; the clocks went forward on Sunday 29 March 2026
PERSON = "Zofia Quillfeather"
SECRET_SITE = "Larkspur Hidden House"


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Noon on TODAY, moved by each test to build history; never a sleep."""
    with time_machine.travel(at(TODAY), tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann(monitoring: Organisation) -> User:
    """Analyst: sees anonymised figures, never a person's details."""
    return factories.user(
        "ann@example.org", organisation=monitoring, role=Role.ANALYST, full_name="Ann Analyst"
    )


@pytest.fixture
def other_shelter(omar: User) -> Organisation:
    """Omar's provider."""
    return Organisation.objects.get(name="Other Shelter")


@pytest.fixture
def new_case(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> Callable[..., Case]:
    def make(**fields: Any) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            given_names=PERSON,
            **fields,
        )

    return make


def ask(client: Client, **answers: object) -> str:
    query = {"who": "woman", "children": "0"} | {k: str(v) for k, v in answers.items()}
    response = client.get(CAPACITY, query)
    assert response.status_code == 200
    return response.content.decode()


def answer(page: str) -> str:
    found = re.search(r'id="answer">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)).strip() if found else ""


def table_rows(page: str, slug: str) -> list[list[str]]:
    """The body rows of the table with this id, as the page shows them."""
    found = re.search(rf'<table[^>]*id="{slug}"[^>]*>(.*?)</table>', page, re.S)
    assert found, f"no table {slug}"
    body = found.group(1).split("<tbody", 1)[1]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def download(client: Client, slug: str, **query: str) -> list[list[str]]:
    response = client.get(f"/support/capacity/{slug}.csv", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="capacity-{slug}-{day}.csv"'
    return list(csv.reader(io.StringIO(response.content.decode())))


def live(bed: Any) -> Placement:
    return Placement.objects.get(bed=bed, status__in=["reserved", "accepted", "occupied"])


# --- How many more can we take? -----------------------------------------------------------------


@pytest.fixture
def houses(maya: User, provider: Organisation, omar: User, other_shelter: Organisation) -> None:
    """Test Refuge: a women-only house in the North West (3 single beds and 2 family rooms for a
    parent and up to 2 children; staff speak English and Albanian; mental health support) and a
    men-only one (4 beds; English and Polish). Other Shelter: a mixed house in London (2 single
    beds and a wheelchair-accessible family room for up to 3 children; English and Romanian)."""
    women = s.site(
        maya,
        provider,
        name="Women North",
        region="north_west",
        setting="women_only",
        staff_languages=["en", "sq"],
        specialisms=["mental_health"],
    )
    s.beds(maya, women, 3)
    s.beds(maya, women, 1, takes_dependants=2)
    s.beds(maya, women, 1, takes_dependants=2)
    men = s.site(
        maya,
        provider,
        name="Men North",
        region="north_west",
        setting="men_only",
        staff_languages=["en", "pl"],
    )
    s.beds(maya, men, 4)
    mixed = s.site(
        omar,
        other_shelter,
        name="Mixed London",
        region="london",
        setting="mixed",
        staff_languages=["en", "ro"],
        specialisms=["labour_exploitation"],
    )
    s.beds(omar, mixed, 2)
    s.beds(omar, mixed, 1, takes_dependants=3, wheelchair_accessible=True)


class TestHowManyMore:
    @pytest.mark.parametrize(
        ("question", "expected"),
        [
            ({}, "8 free beds can take a woman anywhere in the country today."),
            (
                {"children": 2, "region": "north_west"},
                "2 free beds can take a woman with 2 children in the North West today.",
            ),
            ({"children": 2}, "3 free beds can take a woman with 2 children anywhere"),
            ({"children": 3}, "1 free bed can take a woman with 3 children anywhere"),
            ({"children": 4}, "No free bed can take a woman with 4 children anywhere"),
            ({"who": "man"}, "7 free beds can take a man anywhere"),
            ({"who": "man", "region": "north_west"}, "4 free beds can take a man in the North"),
            ({"who": "man", "region": "london"}, "3 free beds can take a man in London today."),
            ({"who": "anyone"}, "3 free beds can take anyone (in a mixed setting) anywhere"),
            ({"wheelchair": "on"}, "1 free bed can take a woman who needs wheelchair access"),
            (
                {"who": "man", "wheelchair": "on", "region": "north_west"},
                "No free bed can take a man who needs wheelchair access in the North West",
            ),
            (
                {"language": "sq"},
                "5 free beds can take a woman, with staff who speak Albanian, anywhere",
            ),
            ({"language": "en"}, "8 free beds can take a woman, with staff who speak English,"),
            ({"who": "man", "language": "pl"}, "4 free beds can take a man, with staff who speak"),
            (
                {"specialism": "mental_health"},
                "5 free beds can take a woman, specialising in mental health support, anywhere",
            ),
            (
                {"who": "anyone", "specialism": "labour_exploitation", "children": 1},
                "1 free bed can take anyone (in a mixed setting) with 1 child, specialising in "
                "survivors of labour exploitation, anywhere in the country today.",
            ),
        ],
    )
    @pytest.mark.page("support:capacity")
    def test_the_coordinator_gets_an_exact_count_for_who_is_coming(
        self, clock: Any, cora: User, houses: None, question: dict[str, object], expected: str
    ) -> None:
        page = ask(factories.signed_in_client(cora), **question)
        assert answer(page).startswith(expected)

    def test_a_later_date_is_said_and_the_table_splits_by_region_and_provider(
        self, clock: Any, cora: User, houses: None
    ) -> None:
        page = ask(
            factories.signed_in_client(cora),
            needed_by_day="15",
            needed_by_month="4",
            needed_by_year="2026",
        )
        assert (
            answer(page) == "8 free beds can take a woman anywhere in the country by 15 April 2026."
        )
        assert table_rows(page, "how-many-more") == [
            ["North West", "Test Refuge", "5"],
            ["London", "Other Shelter", "3"],
            ["Total", "", "8"],
        ]

    def test_a_bed_reserved_occupied_or_out_of_service_is_not_counted(
        self, clock: Any, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        house = s.site(maya, provider, region="north_west", setting="women_only")
        s.beds(maya, house, 3)
        client = factories.signed_in_client(cora)

        def count() -> str:
            return answer(ask(client, region="north_west")).split(" can take")[0]

        assert count() == "3 free beds"
        s.request(new_case())
        services.matching_run(by=cora)
        assert count() == "3 free beds", "a proposal holds no bed"

        proposal = Placement.objects.get(status=PlacementStatus.PROPOSED)
        services.placement_confirm(by=cora, placement=proposal)
        assert count() == "2 free beds", "confirming the proposal reserves the bed"
        services.placement_respond(by=maya, placement=proposal, accept=True)
        services.placement_arrive(by=maya, placement=proposal, on=TODAY)
        assert count() == "2 free beds", "accepted, then occupied: still not free"

        other = services.placement_make(
            by=cora, request=s.request(new_case()), bed=selectors.free_beds().first()
        )
        assert count() == "1 free bed"
        services.bed_set_in_service(
            by=maya, bed=selectors.free_beds().get(), in_service=False, reason="Broken window"
        )
        assert count() == "No free bed"

        services.placement_cancel(by=cora, placement=other)
        assert count() == "1 free bed"
        services.placement_end(by=maya, placement=proposal, on=TODAY, reason="moved_on")
        assert count() == "2 free beds"

    def test_closed_sites_and_outreach_offices_are_not_counted(
        self, clock: Any, cora: User, maya: User, provider: Organisation
    ) -> None:
        s.beds(maya, s.site(maya, provider), 2)
        closed = s.site(maya, provider)
        s.beds(maya, closed, 4)
        services.site_update(by=maya, site=closed, is_active=False)
        # An outreach office takes no new rooms; beds left from before it became one count not.
        office = s.site(maya, provider)
        s.beds(maya, office, 3)
        # Beds left from before a site could not become an office with beds in service.
        Site.objects.filter(pk=office.pk).update(kind="outreach")
        page = ask(factories.signed_in_client(cora))
        assert answer(page).startswith("2 free beds")

    def test_the_count_is_every_free_bed_that_matching_allows(
        self, clock: Any, houses: None, cora: User, maya: User, new_case: Any
    ) -> None:
        """The same rules as `matching.check` for one bed at a time (as placing by hand uses),
        for every combination of the questions."""
        held = selectors.free_beds().filter(room__site__name="Women North").first()
        services.placement_make(by=cora, request=s.request(new_case()), bed=held)
        beds = list(selectors.free_beds().select_related("room__site"))
        assert len(beds) == 11
        for who, children, wheelchair, region, language, specialism in product(
            ["woman", "man", "anyone"],
            [0, 1, 2, 3],
            [False, True],
            ["", "north_west", "london"],
            ["", "sq", "ro"],
            ["", "mental_health"],
        ):
            sex = {"woman": "female", "man": "male", "anyone": ""}[who]
            request = matching.Request(
                id=1,
                accepted_settings=frozenset(services.settings_for(sex, "")),
                needed_from=TODAY,
                waiting_since=TODAY,
                dependants=children,
                needs_wheelchair=wheelchair,
                languages=frozenset([language] if language else []),
                required_specialisms=frozenset([specialism] if specialism else []),
            )
            expected = sum(
                1
                for bed in beds
                if region in ("", bed.room.site.region)
                and not matching.check(request, selectors.matching_bed(bed, TODAY), today=TODAY)
            )
            question = capacity.Question(
                who=who,
                needed_by=TODAY,
                children=children,
                wheelchair=wheelchair,
                region=region,
                language=language,
                specialism=specialism,
            )
            assert capacity.how_many_more(question, TODAY).total == expected, question


class TestTheQuestionForm:
    BASE = {
        "who": "woman",
        "children": "2",
        "wheelchair": "on",
        "region": "north_west",
        "specialism": "mental_health",
        "language": "sq",
        "needed_by_day": "8",
        "needed_by_month": "4",
        "needed_by_year": "2026",
    }

    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ({"who": ""}, "who", "Select who needs a place"),
            ({"who": "alien"}, "who", "Select who needs a place from the list"),
            ({"children": ""}, "children", "Enter how many children are coming with them"),
            ({"children": "two"}, "children", "Enter the number of children as a whole number"),
            ({"children": "-1"}, "children", "The number of children must be 0 or more"),
            ({"children": "11"}, "children", "The number of children must be 10 or fewer"),
            ({"region": "atlantis"}, "region", "Select a region from the list"),
            ({"specialism": "x"}, "specialism", "Select the support they need from the list"),
            ({"language": "xx"}, "language", "Select a language from the list"),
            (
                {"needed_by_day": "", "needed_by_month": "", "needed_by_year": ""},
                "needed_by",
                "Enter the date the place is needed by",
            ),
            ({"needed_by_day": "7"}, "needed_by", "must be today or in the future"),
            ({"needed_by_year": "2028"}, "needed_by", "must be within a year from today"),
            ({"needed_by_year": "26"}, "needed_by", "enter the year as 4 digits, like 2007"),
            ({"needed_by_month": ""}, "needed_by", "The date needed by must include a month"),
            ({"needed_by_day": "31", "needed_by_month": "2"}, "needed_by", "must be a real date"),
        ],
    )
    def test_each_problem_is_named_at_its_field_and_nothing_typed_is_lost(
        self, clock: Any, cora: User, change: dict[str, str], field: str, message: str
    ) -> None:
        query = self.BASE | change
        response = factories.signed_in_client(cora).get(CAPACITY, query)
        page = html.unescape(response.content.decode())
        assert response.status_code == 200
        assert "<title>Error: Capacity" in page
        assert "There is a problem" in page
        assert f'href="#id_{field}">' in page
        assert message in page
        assert 'id="answer"' not in page
        for name, value in query.items():
            if name == field or name in change or not value:
                continue
            if name in ("region", "specialism", "language"):
                assert f'value="{value}" selected' in page, name
            elif name in ("who",):
                assert f'value="{value}" checked' in page
            elif name == "wheelchair":
                assert re.search(r'name="wheelchair"[^>]*checked', page)
            else:
                assert f'value="{value}"' in page, name
        if field == "children" and change["children"]:
            assert f'value="{change["children"]}"' in page, "what was typed is shown again"

    def test_the_first_visit_asks_with_today_filled_in_and_no_error(
        self, clock: Any, cora: User
    ) -> None:
        page = factories.signed_in_client(cora).get(CAPACITY).content.decode()
        assert "There is a problem" not in page
        assert 'id="answer"' not in page
        assert 'name="needed_by_day" type="text" value="8"' in page
        assert 'name="needed_by_month" type="text" value="4"' in page
        assert 'name="needed_by_year" type="text" value="2026"' in page
        assert 'name="children" type="text" value="0"' in page


# --- Beds now -----------------------------------------------------------------------------------


class TestBedsNow:
    def test_beds_by_state_region_provider_and_what_they_offer(
        self,
        clock: Any,
        cora: User,
        maya: User,
        omar: User,
        provider: Organisation,
        other_shelter: Organisation,
        new_case: Any,
    ) -> None:
        north = s.site(
            maya, provider, region="north_west", setting="women_only", specialisms=["mental_health"]
        )
        reserved, occupied, broken, _ = s.beds(maya, north, 4)
        s.beds(maya, north, 1, takes_dependants=2)
        london = s.site(omar, other_shelter, region="london", setting="mixed")
        s.beds(omar, london, 2, wheelchair_accessible=True)
        office = s.site(maya, provider)  # beds left from before it became an outreach office
        s.beds(maya, office, 2)
        # Beds left from before a site could not become an office with beds in service.
        Site.objects.filter(pk=office.pk).update(kind="outreach")
        closed = s.site(maya, provider)
        s.beds(maya, closed, 3)
        services.site_update(by=maya, site=closed, is_active=False)
        services.placement_make(by=cora, request=s.request(new_case()), bed=reserved)
        stay = services.placement_make(by=cora, request=s.request(new_case()), bed=occupied)
        services.placement_respond(by=maya, placement=stay, accept=True)
        services.placement_arrive(by=maya, placement=stay, on=TODAY)
        services.bed_set_in_service(by=maya, bed=broken, in_service=False, reason="Repairs")

        now = capacity.beds_now()
        assert now.total == capacity.BedCounts(
            beds=7, free=4, reserved=1, occupied=1, out_of_service=1
        )
        assert now.total.free == selectors.free_beds().count()

        page = factories.signed_in_client(cora).get(CAPACITY).content.decode()
        assert table_rows(page, "beds-by-region") == [
            ["North West", "5", "2", "1", "1", "1"],
            ["London", "2", "2", "0", "0", "0"],
            ["Total", "7", "4", "1", "1", "1"],
        ]
        assert table_rows(page, "beds-by-provider") == [
            ["Other Shelter", "2", "2", "0", "0", "0"],
            ["Test Refuge", "5", "2", "1", "1", "1"],
            ["Total", "7", "4", "1", "1", "1"],
        ]
        offers = {row[0]: row[1:] for row in table_rows(page, "free-beds-by-attribute")}
        assert offers["Women only setting"] == ["2", "5"]
        assert offers["Men only setting"] == ["0", "0"]
        assert offers["Mixed setting"] == ["2", "2"]
        assert offers["Family rooms (take children)"] == ["1", "1"]
        assert offers["Wheelchair accessible"] == ["2", "2"]
        assert offers["Specialism: Mental health support"] == ["2", "5"]
        assert offers["Specialism: Survivors of sexual exploitation"] == ["0", "0"]


# --- Over time ----------------------------------------------------------------------------------


class TestOverTime:
    def test_occupancy_is_every_bed_as_it_was_at_the_end_of_each_day(
        self, clock: Any, cora: User, maya: User, ann: User, provider: Organisation, new_case: Any
    ) -> None:
        clock.move_to(at(ago(10)))  # the day the clocks went forward
        house = s.site(maya, provider)
        first, second = s.beds(maya, house, 2)
        clock.move_to(at(ago(8)))
        placement = services.placement_make(by=cora, request=s.request(new_case()), bed=first)
        clock.move_to(at(ago(7)))
        services.placement_respond(by=maya, placement=placement, accept=True)
        services.placement_arrive(by=maya, placement=placement, on=ago(7))
        # Half past midnight, summer time: 23:30 the day before in UTC, but this day here.
        clock.move_to(at(ago(5), 0, 30))
        services.bed_set_in_service(by=maya, bed=second, in_service=False, reason="Repairs")
        clock.move_to(at(ago(3), 23, 30))
        services.placement_end(by=maya, placement=placement, on=ago(3), reason="moved_on")
        clock.move_to(at(ago(2)))
        services.bed_set_in_service(by=maya, bed=second, in_service=True)
        clock.move_to(at(TODAY))

        history = capacity.bed_history(ago(11), TODAY)
        # (in service, reserved, occupied) at the end of each day, from 11 days ago to today
        assert [(d.counts.in_service, d.counts.reserved, d.counts.occupied) for d in history] == [
            (0, 0, 0),
            (2, 0, 0),
            (2, 0, 0),
            (2, 1, 0),
            (2, 0, 1),
            (2, 0, 1),
            (1, 0, 1),
            (1, 0, 1),
            (1, 0, 0),
            (2, 0, 0),
            (2, 0, 0),
            (2, 0, 0),
        ]
        later = capacity.bed_history(ago(6), TODAY)
        assert later == history[5:], "a period starting mid-way starts from the beds' state"
        assert history[-1].counts == capacity.beds_now().total

        rows = download(factories.signed_in_client(ann), "occupancy", period="30")
        assert rows[0] == ["Day", "Beds in service", "Occupied", "Reserved", "Free", "Occupied (%)"]
        assert len(rows) == 31
        by_day = {row[0]: row[1:] for row in rows[1:]}
        assert by_day[ago(7).isoformat()] == ["2", "1", "0", "1", "50%"]
        assert by_day[ago(5).isoformat()] == ["1", "1", "0", "0", "100%"]
        assert by_day[ago(20).isoformat()] == ["0", "0", "0", "0", ""]

    @pytest.mark.page("support:capacity_over_time")
    def test_the_waiting_list_each_day(
        self, clock: Any, cora: User, maya: User, provider: Organisation, new_case: Any
    ) -> None:
        clock.move_to(at(ago(45)))
        gone = s.request(new_case())  # raised and withdrawn before the period
        clock.move_to(at(ago(40)))
        s.request(new_case())  # raised before the period, still waiting
        services.placement_request_close(
            by=cora, request=gone, status=PlacementRequestStatus.WITHDRAWN
        )
        clock.move_to(at(ago(10)))
        (bed,) = s.beds(maya, s.site(maya, provider), 1)
        clock.move_to(at(ago(6)))
        placed = s.request(new_case())
        clock.move_to(at(ago(5), 0, 30))
        withdrawn = s.request(new_case())
        clock.move_to(at(ago(4)))
        placement = services.placement_make(by=cora, request=placed, bed=bed)
        clock.move_to(at(ago(3)))
        services.placement_respond(by=maya, placement=placement, accept=True)
        services.placement_arrive(by=maya, placement=placement, on=ago(3))
        clock.move_to(at(ago(2)))
        services.placement_request_close(
            by=cora, request=withdrawn, status=PlacementRequestStatus.WITHDRAWN
        )
        clock.move_to(at(TODAY))

        page = factories.signed_in_client(cora).get(OVER_TIME, {"period": "30"}).content.decode()
        rows = {row[0]: row[1:] for row in table_rows(page, "waiting-list")}
        assert len(rows) == 30
        # (waiting without a place, offered a place, all open) at the end of each day
        assert [rows[capacity.day_text(ago(n))] for n in range(29, -1, -1)] == [
            *[["1", "0", "1"]] * 23,  # 29 to 7 days ago: only the request raised before
            ["2", "0", "2"],  # 6 days ago
            ["3", "0", "3"],  # 5
            ["2", "1", "3"],  # 4: a place offered
            ["2", "0", "2"],  # 3: arrived
            ["1", "0", "1"],  # 2: withdrawn
            ["1", "0", "1"],
            ["1", "0", "1"],
        ]

    def test_unmet_need_each_week_by_what_kept_people_out_and_where(
        self, clock: Any, cora: User, maya: User, ann: User, provider: Organisation, new_case: Any
    ) -> None:
        monday = TODAY - timedelta(days=TODAY.weekday() + 14)
        clock.move_to(at(monday))
        s.beds(maya, s.site(maya, provider), 2)  # no wheelchair access
        needs_access = s.request(new_case(area="Northmoor"), needs_wheelchair=True)
        for day in (monday + timedelta(days=1), monday + timedelta(days=2)):
            clock.move_to(at(day))
            assert services.matching_run(by=cora).unplaced == 1
        clock.move_to(at(monday + timedelta(days=8)))
        turned_away = s.request(new_case(area="Eastvale"))
        services.placement_request_close(
            by=cora, request=turned_away, status=PlacementRequestStatus.UNMET, reason="None fit"
        )
        clock.move_to(at(TODAY))
        assert UnmetNeed.objects.filter(request=needs_access).count() == 2

        unmet = capacity.unmet_history(*capacity.period(TODAY, 30))
        weeks = {w.week: (w.people, w.by_constraint) for w in unmet.weeks}
        assert weeks[monday] == (1, {"wheelchair": 1}), "two days in one week: one person"
        assert weeks[monday + timedelta(days=7)] == (1, {"closed": 1})
        assert sum(people for people, _ in weeks.values()) == 2
        assert min(weeks) == date(2026, 3, 9), "the Monday of the period's first day"

        page = factories.signed_in_client(ann).get(OVER_TIME, {"period": "30"}).content.decode()
        assert table_rows(page, "unmet-need-by-reason") == [
            ["Wheelchair access", "1"],
            ["Closed by a coordinator: no suitable place", "1"],
            ["People in all", "2"],
        ]
        assert table_rows(page, "unmet-need-by-place") == [
            ["Not recorded", "Eastvale", "1"],
            ["Not recorded", "Northmoor", "1"],
            ["People in all", "", "2"],
        ]
        week_rows = download(factories.signed_in_client(ann), "unmet-need-by-week", period="30")
        assert week_rows[0] == [
            "Week beginning",
            "People",
            "Wheelchair access",
            "Closed by a coordinator: no suitable place",
        ]
        assert [monday.isoformat(), "1", "1", "0"] in week_rows
        assert [(monday + timedelta(days=7)).isoformat(), "1", "0", "1"] in week_rows
        assert len(week_rows) == 1 + 5, "the weeks beginning 9 March to 6 April"

    def test_length_of_stay_of_the_stays_that_ended(
        self, clock: Any, cora: User, maya: User, ann: User, provider: Organisation, new_case: Any
    ) -> None:
        clock.move_to(at(ago(401)))
        beds = s.beds(maya, s.site(maya, provider), 6)
        # (arrived, left) in days ago; the last is still living there
        stays = [(3, 1), (100, 10), (400, 5), (47, 40), (20, 0), (30, None)]
        for bed, (arrived, _left) in zip(beds, stays, strict=True):
            # Offered and accepted on the day they arrived: an arrival never precedes its offer.
            clock.move_to(at(ago(arrived)))
            placement = services.placement_make(by=cora, request=s.request(new_case()), bed=bed)
            services.placement_respond(by=maya, placement=placement, accept=True)
            services.placement_arrive(by=maya, placement=placement, on=ago(arrived))
        for placement, (_, left) in zip(Placement.objects.order_by("pk"), stays, strict=True):
            if left is not None:
                clock.move_to(at(ago(left)))
                services.placement_end(by=maya, placement=placement, on=ago(left), reason="other")
        clock.move_to(at(TODAY))

        # The last 30 days: stays of 2, 20, 90 and 395 days ended.
        figures = capacity.length_of_stay(*capacity.period(TODAY, 30))
        assert figures.buckets == [
            ("Under 1 week", 1),
            ("1 to 4 weeks", 1),
            ("1 to 3 months", 1),
            ("3 to 6 months", 0),
            ("6 to 12 months", 0),
            ("Over a year", 1),
        ]
        assert (figures.count, figures.median_days) == (4, 55)
        # The last 90 days add the stay of exactly 7 days: one week is not "under 1 week".
        figures = capacity.length_of_stay(*capacity.period(TODAY, 90))
        assert dict(figures.buckets)["1 to 4 weeks"] == 2
        assert (figures.count, figures.median_days) == (5, 20)

        page = factories.signed_in_client(ann).get(OVER_TIME, {"period": "30"}).content.decode()
        assert "The median stay was 55 days (about 8 weeks)." in page
        assert table_rows(page, "length-of-stay")[0] == ["Under 1 week", "0 to 6 days", "1"]
        assert table_rows(page, "length-of-stay")[-1] == ["All stays", "", "4"]

    def test_a_period_other_than_30_90_or_365_days_is_refused_by_name(
        self, clock: Any, cora: User
    ) -> None:
        client = factories.signed_in_client(cora)
        page = client.get(OVER_TIME, {"period": "7"}).content.decode()
        assert "There is a problem" in page
        assert "Select 30, 90 or 365 days" in page
        assert client.get("/support/capacity/occupancy.csv", {"period": "7"}).status_code == 400
        page = client.get(OVER_TIME).content.decode()
        assert "There is a problem" not in page
        assert 'value="90" checked' in page
        assert len(table_rows(page, "occupancy")) == 90


# --- CSV downloads ------------------------------------------------------------------------------


class TestDownloads:
    @pytest.mark.page("support:capacity_csv")
    def test_every_table_downloads_as_csv_with_the_rows_the_page_shows(
        self, clock: Any, cora: User, ann: User, houses: None
    ) -> None:
        client = factories.signed_in_client(ann)
        now = client.get(CAPACITY).content.decode()
        over_time = client.get(OVER_TIME, {"period": "30"}).content.decode()
        for slug in capacity_views.NOW_TABLES + capacity_views.OVER_TIME_TABLES:
            page = now if slug in capacity_views.NOW_TABLES else over_time
            assert f'href="/support/capacity/{slug}.csv' in page, slug
            rows = download(client, slug, period="30")
            shown = table_rows(page, slug)
            assert len(rows) == len(shown) + 1, slug  # the header row
            for got, seen in zip(rows[1:], shown, strict=True):
                assert got[1:] == [cell.replace(",", "") for cell in seen[1:]], slug
        assert download(client, "beds-by-provider") == [
            ["Provider", "Beds", "Free", "Reserved", "Occupied", "Out of service"],
            ["Other Shelter", "3", "3", "0", "0", "0"],
            ["Test Refuge", "9", "9", "0", "0", "0"],
            ["Total", "12", "12", "0", "0", "0"],
        ]

    def test_the_answer_downloads_for_the_same_question(
        self, clock: Any, cora: User, houses: None
    ) -> None:
        client = factories.signed_in_client(cora)
        page = ask(client, who="man")
        found = re.search(r'href="(/support/capacity/how-many-more\.csv[^"]*)"', page)
        assert found
        link = html.unescape(found.group(1))
        assert "who=man" in link
        response = client.get(link)
        assert list(csv.reader(io.StringIO(response.content.decode()))) == [
            ["Region", "Provider", "Free beds"],
            ["North West", "Test Refuge", "4"],
            ["London", "Other Shelter", "3"],
            ["Total", "", "7"],
        ]
        assert client.get("/support/capacity/how-many-more.csv", {"who": "x"}).status_code == 400
        assert client.get("/support/capacity/no-such-table.csv").status_code == 404

    def test_a_provider_name_is_never_run_as_a_spreadsheet_formula(
        self, clock: Any, cora: User
    ) -> None:
        sly = factories.organisation('=HYPERLINK("http://x.invalid")', Kind.SUPPORT_PROVIDER)
        manager = factories.user(organisation=sly, role=Role.SAFE_HOUSE_MANAGER)
        s.beds(manager, s.site(manager, sly), 1)
        rows = download(factories.signed_in_client(cora), "beds-by-provider")
        assert rows[1][0] == '\'=HYPERLINK("http://x.invalid")'


# --- Figures only, for the right people ---------------------------------------------------------


class TestWhoSeesWhat:
    def test_no_site_name_address_or_person_anywhere_on_the_dashboard(
        self,
        clock: Any,
        cora: User,
        maya: User,
        ann: User,
        provider: Organisation,
        new_case: Any,
    ) -> None:
        admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
        house = s.site(maya, provider, name=SECRET_SITE)
        s.grant_address(cora, house, by=admin)
        first, second, _ = s.beds(maya, house, 3, takes_dependants=1)
        case = new_case()
        clock.move_to(at(ago(20)))
        stay = services.placement_make(by=cora, request=s.request(case), bed=first)
        services.placement_respond(by=maya, placement=stay, accept=True)
        services.placement_arrive(by=maya, placement=stay, on=ago(20))
        clock.move_to(at(TODAY))
        services.placement_end(by=maya, placement=stay, on=ago(2), reason="moved_on")
        services.placement_make(by=cora, request=s.request(new_case()), bed=second)
        s.request(new_case(), needs_wheelchair=True)
        services.matching_run(by=cora)
        secrets = [SECRET_SITE, s.ADDRESS, "Quietwater", "Hollowmere", s.POSTCODE, PERSON]
        secrets += [case.reference, "Quillfeather"]
        for person in (cora, maya, ann):
            client = factories.signed_in_client(person)
            texts = [
                ask(client, region="north_west", children=1),
                client.get(OVER_TIME, {"period": "365"}).content.decode(),
            ]
            assert "2 free beds can take a woman with 1 child" in answer(texts[0])
            for slug in ("how-many-more", *capacity_views.NOW_TABLES):
                texts.append(
                    client.get(
                        f"/support/capacity/{slug}.csv", {"who": "woman", "children": "0"}
                    ).content.decode()
                )
            for slug in capacity_views.OVER_TIME_TABLES:
                texts.append(download_text(client, slug))
            for text in texts:
                found = [secret for secret in secrets if secret.casefold() in text.casefold()]
                assert not found, (person.email, found)

    def test_only_coordinators_safe_house_managers_and_analysts_may_open_it(
        self, people_in_every_role: dict[Role, User], alice: User, omar: User
    ) -> None:
        allowed = {Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER, Role.ANALYST}
        paths = [CAPACITY, OVER_TIME, "/support/capacity/occupancy.csv"]
        for role, person in people_in_every_role.items():
            client = factories.signed_in_client(person)
            for path in paths:
                status = client.get(path).status_code
                assert status == (200 if role in allowed else 404), (role, path, status)
        outsider = factories.signed_in_client(alice)
        assert [outsider.get(path).status_code for path in paths] == [404, 404, 404]
        # A safe-house manager sees the national picture, not only their own provider's.
        assert factories.signed_in_client(omar).get(CAPACITY).status_code == 200

    def test_the_home_page_and_navigation_lead_there(
        self, cora: User, ann: User, maya: User, alice: User
    ) -> None:
        for person in (cora, ann, maya):
            page = factories.signed_in_client(person).get("/").content.decode()
            assert 'href="/support/capacity/"' in page, person.email
        assert (
            'href="/support/capacity/"'
            not in factories.signed_in_client(alice).get("/").content.decode()
        )


def download_text(client: Client, slug: str) -> str:
    response = client.get(f"/support/capacity/{slug}.csv", {"period": "365"})
    assert response.status_code == 200
    return response.content.decode()


# --- Charts -------------------------------------------------------------------------------------


def svg(page: str, ident: str) -> str:
    found = re.search(
        rf'<svg[^>]*aria-labelledby="{ident}-title {ident}-desc"[^>]*>.*?</svg>', page, re.S
    )
    assert found, ident
    return found.group(0)


class TestCharts:
    def test_each_chart_is_a_named_image_with_its_numbers_in_the_table_beside_it(
        self, clock: Any, cora: User, houses: None
    ) -> None:
        page = factories.signed_in_client(cora).get(CAPACITY).content.decode()
        chart = svg(page, "chart-free-by-region")
        assert 'role="img"' in chart
        assert '<title id="chart-free-by-region-title">Free beds now, by region</title>' in chart
        assert "12 of 12 beds are free now" in chart
        texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart)]
        drawn = list(zip(texts[0::2], texts[1::2], strict=True))
        table = [(row[0], row[2]) for row in table_rows(page, "beds-by-region")[:-1]]
        assert drawn == table == [("North West", "9"), ("London", "3")]
        assert "style=" not in page, "the Content Security Policy forbids inline styles"

    def test_every_chart_on_the_page_over_time_is_named(self, clock: Any, ann: User) -> None:
        page = factories.signed_in_client(ann).get(OVER_TIME).content.decode()
        for ident in (
            "chart-occupancy",
            "chart-waiting",
            "chart-unmet-weeks",
            "chart-unmet-reasons",
            "chart-length-of-stay",
        ):
            chart = svg(page, ident)
            assert 'role="img"' in chart
            assert f'<title id="{ident}-title">' in chart
            assert f'<desc id="{ident}-desc">' in chart
        assert "style=" not in page

    def test_lines_differ_by_dash_as_well_as_colour_and_every_text_is_escaped(self) -> None:
        drawn = charts.line_chart(
            ident="c",
            title="Beds <in> service",
            summary="A & B",
            labels=["1 Apr", "2 Apr", "3 Apr"],
            series=[charts.Series("Beds", [1, 2, 3]), charts.Series("<Occupied>", [0, 1, 2])],
        )
        assert '<title id="c-title">Beds &lt;in&gt; service</title>' in drawn
        assert "&lt;Occupied&gt;" in drawn
        assert "<Occupied>" not in drawn
        lines = re.findall(r"<polyline[^>]*>", drawn)
        assert len(lines) == 2
        assert "stroke-dasharray" not in lines[0]
        assert 'stroke-dasharray="10 6"' in lines[1]
        assert re.findall(r'stroke="([^"]+)"', lines[0]) != re.findall(
            r'stroke="([^"]+)"', lines[1]
        )
        # the legend draws each line's own dash beside its name
        assert drawn.count('stroke-dasharray="10 6"') == 2
        with pytest.raises(ValueError, match="one value per label"):
            charts.line_chart(
                ident="c", title="t", summary="s", labels=["a"], series=[charts.Series("x", [1, 2])]
            )

    def test_an_empty_chart_says_so_and_bars_carry_their_values_as_text(self) -> None:
        assert "No figures yet" in charts.bar_chart(ident="e", title="t", summary="s", bars=[])
        drawn = charts.bar_chart(ident="b", title="t", summary="s", bars=[("A", 3), ("B", 0)])
        assert re.findall(r"<text[^>]*>([^<]*)</text>", drawn) == ["A", "3", "B", "0"]
        assert drawn.count("<rect") == 1, "a zero draws no bar, only its value"
        drawn = charts.column_chart(
            ident="w", title="t", summary="s", columns=[("3 Mar", 2), ("10 Mar", 5)]
        )
        assert ">5<" in drawn
        assert ">3 Mar<" in drawn
        assert ">10 Mar<" in drawn

    def test_the_charts_are_pure_functions_without_django(self) -> None:
        source = inspect.getsource(charts)
        assert "import django" not in source
        assert "from django" not in source
        assert charts.scale(0) == (1, 1)
        assert charts.scale(5) == (5, 1)
        assert charts.scale(7) == (8, 2)
        assert charts.scale(23) == (25, 5)
        assert charts.scale(101) == (125, 25)
        assert charts.spread(365, 6) == [0, 73, 146, 218, 291, 364]
