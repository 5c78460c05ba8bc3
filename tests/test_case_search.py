"""Finding a case: by reference, whole name, date of birth, nationality and status, among the
cases the user may open and no others; names shown only when the search names a person, each
such result's read recorded, and nothing typed ever stored in the audit trail."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case, Person
from opennrm.cases.selectors import (
    SEARCH_PAGE_SIZE,
    CaseSearch,
    cases_matching,
    cases_visible_to,
)

from . import case_factories, factories

URL = "/cases/search/"
BORN = date(1990, 1, 2)


def _case(
    *,
    by: User,
    organisation: Organisation,
    authority: Organisation,
    given_names: str,
    family_name: str,
    born: date | None = None,
    nationalities: tuple[str, ...] = ("AL",),
    status: CaseStatus = CaseStatus.AWAITING_REASONABLE_GROUNDS,
    age_group: AgeGroup = AgeGroup.ADULT,
    area: str = "Testshire",
) -> Case:
    case = case_factories.case(
        referred_by=by,
        referring_organisation=organisation,
        authority=authority,
        given_names=given_names,
        family_name=family_name,
        date_of_birth=born,
        status=status,
        age_group=age_group,
        area=area,
    )
    Person.objects.filter(pk=case.person_id).update(nationalities=list(nationalities))
    return case


@pytest.fixture
def zorica(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """Alice's referral of Zorica Testova, born 2 January 1990, Albanian."""
    return _case(
        by=alice,
        organisation=northmoor_police,
        authority=authority,
        given_names="Zorica",
        family_name="Testova",
        born=BORN,
    )


@pytest.fixture
def namesake(charlie: User, southvale_police: Organisation) -> Case:
    """Southvale's case of someone with the same name and date of birth, routed elsewhere."""
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return _case(
        by=charlie,
        organisation=southvale_police,
        authority=elsewhere,
        given_names="Zorica",
        family_name="Testova",
        born=BORN,
        nationalities=("GB",),
        status=CaseStatus.RECOVERY_PERIOD,
    )


def search(client: Client, **data: str) -> str:
    response = client.post(URL, data)
    assert response.status_code == 200
    return response.content.decode()


def born_on(day: date) -> dict[str, str]:
    return {
        "date_of_birth_day": str(day.day),
        "date_of_birth_month": str(day.month),
        "date_of_birth_year": str(day.year),
    }


class TestTheSearchPage:
    @pytest.mark.page("cases:search")
    def test_a_first_responder_finds_her_case_by_name_whatever_the_capitals_and_spaces(
        self, alice: User, zorica: Case, namesake: Case
    ) -> None:
        client = factories.signed_in_client(alice)
        form = client.get(URL).content.decode()
        assert "Name search is <strong>exact</strong>" in form
        assert "This search does not suggest spellings" in form

        page = search(client, name="  ZORICA   testova ")

        assert f"/cases/{zorica.reference}/" in page
        assert namesake.reference not in page, "Southvale's case is not Alice's to see"
        assert "1 case found" in page
        assert "Zorica Testova" in page
        assert "2 January 1990" in page
        assert "Awaiting reasonable grounds decision" in page
        # One read, of the one person shown, naming the fields shown.
        read = AuditEvent.objects.get(action="person.viewed")
        assert (read.actor, read.person_id, read.object_id) == (
            alice,
            zorica.person_id,
            str(zorica.pk),
        )
        assert read.detail == {"fields": ["given_names", "family_name", "date_of_birth"]}
        searched = AuditEvent.objects.get(action="case.searched")
        assert searched.detail == {"by": ["name"], "found": 1, "page": 1}
        assert "orica" not in json.dumps([e.detail for e in AuditEvent.objects.all()]).lower()

    def test_a_method_the_page_does_not_take_is_refused(self, alice: User) -> None:
        response = factories.signed_in_client(alice).put(URL)
        assert response.status_code == 405
        assert response["Allow"] == "GET, POST"

    @pytest.mark.parametrize("role", [Role.SUPPORT_COORDINATOR, Role.ANALYST, Role.SYSTEM_ADMIN])
    def test_roles_that_open_no_case_have_no_search(
        self, people_in_every_role: dict[Role, User], role: Role
    ) -> None:
        client = factories.signed_in_client(people_in_every_role[role])
        assert client.get(URL).status_code == 404
        assert client.post(URL, {"status": "awaiting_rg"}).status_code == 404

    @pytest.mark.parametrize(
        "criteria",
        [
            pytest.param(lambda case: {"reference": case.reference}, id="by reference"),
            pytest.param(lambda case: {"name": "Zorica Testova"}, id="by exact name"),
            pytest.param(lambda case: born_on(BORN), id="by date of birth"),
            pytest.param(lambda case: {"status": "awaiting_rg"}, id="by status"),
        ],
    )
    def test_an_outsider_finds_nothing_of_another_organisations(
        self, charlie: User, zorica: Case, criteria
    ) -> None:
        page = search(factories.signed_in_client(charlie), **criteria(zorica))
        results = page.split('id="results"')[1]
        assert "No cases found" in results
        assert zorica.reference not in results
        assert "Zorica" not in results
        assert not AuditEvent.objects.filter(action="person.viewed").exists()

    def test_a_search_by_reference_ignores_case_and_spaces(self, alice: User, zorica: Case) -> None:
        page = search(factories.signed_in_client(alice), reference=f" {zorica.reference.lower()} ")
        assert "1 case found" in page
        assert "Zorica Testova" in page
        assert AuditEvent.objects.get(action="person.viewed").person_id == zorica.person_id
        # A search by reference alone says nothing about a name: no search event.
        assert not AuditEvent.objects.filter(action="case.searched").exists()

    def test_name_and_date_of_birth_combine(self, alice: User, zorica: Case) -> None:
        client = factories.signed_in_client(alice)
        assert zorica.reference in search(client, name="Zorica Testova", **born_on(BORN))
        other_day = born_on(date(1990, 1, 3))
        assert "No cases found" in search(client, name="Zorica Testova", **other_day)
        assert "No cases found" in search(client, name="Zorica Testov")
        searched = AuditEvent.objects.filter(action="case.searched").order_by("id")
        assert [e.detail["found"] for e in searched] == [1, 0, 0]
        assert searched[0].detail["by"] == ["name", "date_of_birth"]
        # Only the search that found her shows her.
        assert AuditEvent.objects.filter(action="person.viewed").count() == 1

    def test_a_search_by_nationality_and_status_lists_cases_without_names(
        self, alice: User, zorica: Case, bob: User, northmoor_police: Organisation
    ) -> None:
        british = _case(
            by=bob,
            organisation=northmoor_police,
            authority=zorica.competent_authority,
            given_names="Brit",
            family_name="Demova",
            nationalities=("FR", "GB"),
        )
        decided = _case(
            by=bob,
            organisation=northmoor_police,
            authority=zorica.competent_authority,
            given_names="Other",
            family_name="Demova",
            nationalities=("GB",),
            status=CaseStatus.RECOVERY_PERIOD,
        )
        page = search(factories.signed_in_client(alice), nationality="GB", status="awaiting_rg")
        assert british.reference in page, "a second nationality matches too"
        assert zorica.reference not in page
        assert decided.reference not in page
        assert "Demova" not in page
        assert "Date of birth</th>" not in page
        assert "Names are shown only when you search by reference, name or date of birth" in page
        assert not AuditEvent.objects.filter(action__in=["person.viewed", "case.searched"]).exists()

    def test_decision_makers_and_safeguarding_leads_search_the_cases_they_may_open(
        self,
        dmitri: User,
        sally: User,
        lena: User,
        zorica: Case,
        namesake: Case,
        alice: User,
        northmoor_police: Organisation,
    ) -> None:
        child = _case(
            by=alice,
            organisation=northmoor_police,
            authority=zorica.competent_authority,
            given_names="Zorica",
            family_name="Testova",
            age_group=AgeGroup.PRESUMED_CHILD,
        )
        for decider in (dmitri, sally):
            page = search(factories.signed_in_client(decider), name="Zorica Testova")
            assert zorica.reference in page
            assert child.reference in page
            assert namesake.reference not in page, "routed to another authority"
        # The local authority's lead sees the children in its area only.
        page = search(factories.signed_in_client(lena), name="Zorica Testova")
        assert child.reference in page
        assert "treated as a child until assessed" in page
        assert zorica.reference not in page
        assert namesake.reference not in page
        reads = AuditEvent.objects.filter(action="person.viewed", actor=lena)
        assert list(reads.values_list("person_id", flat=True)) == [child.person_id]

    @pytest.mark.parametrize(
        ("data", "message", "kept"),
        [
            (
                {"name": "Zorica Testova", **born_on(BORN), "date_of_birth_day": "31"}
                | {"date_of_birth_month": "2"},
                "Date of birth must be a real date",
                'value="Zorica Testova"',
            ),
            (
                {"reference": "NRM-ABCD-EFGH", "date_of_birth_year": "90"}
                | {"date_of_birth_day": "2", "date_of_birth_month": "1"},
                "Date of birth: enter the year as 4 digits",
                'value="NRM-ABCD-EFGH"',
            ),
            (
                {"name": "Zorica Testova", **born_on(date(2999, 1, 1))},
                "Date of birth must be today or in the past",
                'value="2999"',
            ),
            (
                {"reference": "NRM-ABCD-EFGH", "status": "lost"},
                "Select a status from the list",
                'value="NRM-ABCD-EFGH"',
            ),
            (
                {"name": "Zorica Testova", "nationality": "Atlantis"},
                "Select a nationality from the list",
                'value="Zorica Testova"',
            ),
            ({"name": "   "}, "Enter a case reference, a whole name or a date of birth", ""),
        ],
    )
    def test_bad_input_says_what_is_wrong_searches_nothing_and_keeps_what_was_typed(
        self, alice: User, zorica: Case, data: dict[str, str], message: str, kept: str
    ) -> None:
        page = search(factories.signed_in_client(alice), **data)
        assert "There is a problem" in page
        assert message in page
        assert kept in page
        assert 'id="results"' not in page
        assert not AuditEvent.objects.filter(action__in=["person.viewed", "case.searched"]).exists()

    def test_many_results_come_a_page_at_a_time(
        self, alice: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        for number in range(SEARCH_PAGE_SIZE + 1):
            _case(
                by=alice,
                organisation=northmoor_police,
                authority=authority,
                given_names=f"Person{number}",
                family_name="Demova",
                nationalities=("VN",),
            )
        client = factories.signed_in_client(alice)
        first = search(client, nationality="VN")
        assert f"Cases 1 to {SEARCH_PAGE_SIZE}, and more" in first
        assert first.count("/cases/NRM-") == SEARCH_PAGE_SIZE
        assert "Next page" in first
        assert "Previous page" not in first
        second = search(client, nationality="VN", page="2")
        assert second.count("/cases/NRM-") == 1
        assert "Previous page" in second
        assert "Next page" not in second

    def test_the_navigation_offers_it_to_those_who_may_search(
        self, alice: User, people_in_every_role: dict[Role, User]
    ) -> None:
        assert (
            'href="/cases/search/"' in factories.signed_in_client(alice).get("/").content.decode()
        )
        coordinator = people_in_every_role[Role.SUPPORT_COORDINATOR]
        home = factories.signed_in_client(coordinator).get("/").content.decode()
        assert 'href="/cases/search/"' not in home


NAMES = ["Zorica Testova", "zorica  TESTOVA", "Mira Demova", "Zorica Testov", "Nobody Atall", ""]
DAYS = [None, BORN, date(2010, 5, 6), date(1990, 1, 3)]


@pytest.mark.django_db
def test_results_are_always_among_the_cases_the_actor_may_open_and_match_every_criterion(
    alice: User,
    charlie: User,
    dmitri: User,
    lena: User,
    cora: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    zorica: Case,
    namesake: Case,
) -> None:
    """Over random searches by random actors: every result is a case the actor may open, and
    every case the actor may open that matches every criterion is found (so nothing is hidden,
    and nothing the actor may not open is shown)."""
    _case(
        by=alice,
        organisation=northmoor_police,
        authority=authority,
        given_names="Mira",
        family_name="Demova",
        born=date(2010, 5, 6),
        nationalities=("VN",),
        age_group=AgeGroup.CHILD,
    )
    _case(
        by=charlie,
        organisation=southvale_police,
        authority=authority,
        given_names="Zorica",
        family_name="Testova",
        nationalities=("AL", "GB"),
        status=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
        age_group=AgeGroup.PRESUMED_CHILD,
        area="Elsewhere",
    )
    actors = [alice, charlie, dmitri, lena, cora]
    every_case = list(Case.objects.select_related("person__identity"))

    def matches(case: Case, wanted: CaseSearch) -> bool:
        identity = case.person.identity
        whole = f"{identity.given_names} {identity.family_name}"
        return (
            (not wanted.reference or case.reference == wanted.reference)
            and (not wanted.name or whole.casefold().split() == wanted.name.casefold().split())
            and (not wanted.date_of_birth or identity.date_of_birth == wanted.date_of_birth)
            and (not wanted.nationality or wanted.nationality in case.person.nationalities)
            and (not wanted.status or case.status == wanted.status)
        )

    @settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        user=st.sampled_from(actors),
        reference=st.sampled_from(["", *(c.reference for c in every_case), "NRM-NONE-0000"]),
        name=st.sampled_from(NAMES),
        born=st.sampled_from(DAYS),
        nationality=st.sampled_from(["", "AL", "GB", "VN", "FR"]),
        status=st.sampled_from(["", *CaseStatus.values]),
    )
    def check(
        user: User, reference: str, name: str, born: date | None, nationality: str, status: str
    ) -> None:
        actor = Actor.of_session(user)
        wanted = CaseSearch(
            reference=reference,
            name=name,
            date_of_birth=born,
            nationality=nationality,
            status=status,
        )
        found = set(cases_matching(actor, wanted).values_list("pk", flat=True))
        visible = set(cases_visible_to(actor).values_list("pk", flat=True))
        assert found <= visible
        expected = (
            {c.pk for c in every_case if c.pk in visible and matches(c, wanted)}
            if wanted.criteria
            else set()
        )
        assert found == expected

    check()
