"""Screening pages, as first responders and safeguarding leads use them; everyone else gets 404.

Alice and Bob are first responders at Northmoor Police; Charlie is at Southvale Police.
"""

from __future__ import annotations

import html
import inspect
import re
from urllib.parse import urlencode

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.screening import services
from opennrm.screening.models import Screening

from . import factories

SCREENERS = {Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD}
START = reverse("screening:start")


def checklist_url(list_key: str = "adult_labour", **extra: str) -> str:
    return f"{reverse('screening:checklist')}?{urlencode({'list': list_key, **extra})}"


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def record(user: User, organisation: Organisation, codes: list[str] | None = None) -> Screening:
    return services.screening_record(
        by=user,
        organisation=organisation,
        list_key="adult_labour",
        is_child=False,
        observed_codes=codes or ["AL-DR-01", "AL-DR-02"],
    )


# The indicators that together complete the adult pattern in the bundled labour list.
ADULT_PATTERN = ["AL-DR-01", "AL-DR-04", "AL-EX-01", "AL-EX-02", "AL-CD-02", "AL-CD-03"]


# --- Who may use the pages ----------------------------------------------------------------------


@pytest.mark.page("screening:checklist")
@pytest.mark.parametrize("role", sorted(SCREENERS))
def test_each_screening_role_screens_and_sees_the_result(
    people_in_every_role: dict[Role, User], role: Role
) -> None:
    client = factories.signed_in_client(people_in_every_role[role])
    assert client.get(START).status_code == 200
    response = client.post(START, {"age_group": "adult", "exploitation": "labour"})
    assert response.status_code == 302
    assert response["Location"] == checklist_url("adult_labour")
    assert client.get(response["Location"]).status_code == 200
    response = client.post(checklist_url("adult_labour"), {"observed": ADULT_PATTERN})
    screening = Screening.objects.get()
    assert response["Location"] == reverse("screening:detail", args=[screening.pk])
    page = text_of(client.get(response["Location"]))
    assert "This is guidance, not a decision." in page
    assert "The pattern is shown" in page
    assert "OpenNRM indicators of trafficking, version 1" in page


@pytest.mark.parametrize("role", sorted(set(Role) - SCREENERS))
def test_other_roles_get_404_on_every_screening_page(
    people_in_every_role: dict[Role, User], role: Role, alice: User, northmoor_police: Organisation
) -> None:
    screening = record(alice, northmoor_police)
    client = factories.signed_in_client(people_in_every_role[role])
    for url in (START, checklist_url(), reverse("screening:detail", args=[screening.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(checklist_url(), {"observed": ["AL-DR-01"]}).status_code == 404
    assert Screening.objects.count() == 1


def test_an_outsider_gets_404_on_another_organisations_screening(
    alice: User, bob: User, charlie: User, northmoor_police: Organisation
) -> None:
    screening = record(alice, northmoor_police)
    url = reverse("screening:detail", args=[screening.pk])
    assert factories.signed_in_client(bob).get(url).status_code == 200
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    missing = reverse("screening:detail", args=[screening.pk + 1000])
    assert factories.signed_in_client(alice).get(missing).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(START)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_a_removed_membership_takes_screenings_away(
    alice: User, northmoor_police: Organisation
) -> None:
    screening = record(alice, northmoor_police)
    client = factories.signed_in_client(alice)
    alice.memberships.update(is_active=False)
    assert client.get(reverse("screening:detail", args=[screening.pk])).status_code == 404


@pytest.mark.page("screening:start")
def test_the_start_page_lists_only_my_organisations_screenings(
    alice: User,
    bob: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
) -> None:
    mine = record(bob, northmoor_police)
    theirs = record(charlie, southvale_police)
    page = factories.signed_in_client(alice).get(START).content.decode()
    assert reverse("screening:detail", args=[mine.pk]) in page
    assert "Bob Brown" in page
    assert reverse("screening:detail", args=[theirs.pk]) not in page


def test_first_responders_see_screening_in_the_menu_and_on_home(alice: User) -> None:
    page = factories.signed_in_client(alice).get(reverse("pages:home")).content.decode()
    assert f'href="{START}"' in page
    assert "Screen for indicators of trafficking" in page


# --- The start page ---------------------------------------------------------------------------


def test_no_choice_on_the_start_page_says_what_to_choose(alice: User) -> None:
    response = factories.signed_in_client(alice).post(START, {})
    page = text_of(response)
    assert response.status_code == 200
    assert "Error: Screen for indicators" in page
    assert "Select whether the person is an adult or a child" in page
    assert "Select the kind of exploitation you suspect" in page


def test_half_a_choice_keeps_what_was_chosen(alice: User) -> None:
    page = factories.signed_in_client(alice).post(START, {"age_group": "child"}).content.decode()
    assert re.search(r'value="child"\s+checked', page)
    assert "Select the kind of exploitation you suspect" in page
    assert "Select whether the person is an adult or a child" not in page


def test_a_child_goes_to_the_child_list(alice: User) -> None:
    client = factories.signed_in_client(alice)
    response = client.post(START, {"age_group": "child", "exploitation": "sexual"})
    assert response["Location"] == checklist_url("child_sexual")
    page = text_of(client.get(response["Location"]))
    assert "Child, sexual exploitation" in page
    assert "The child was groomed online" in page


def test_an_unknown_list_in_the_link_is_explained_on_the_start_page(alice: User) -> None:
    client = factories.signed_in_client(alice)
    page = text_of(client.get(checklist_url("adult_domestic")))
    assert "There is a problem" in page
    assert "\u201cadult_domestic\u201d is not one of the indicator lists" in page
    page = text_of(client.get(reverse("screening:checklist")))
    assert "Select whether the person is an adult or a child, and the kind of exploitation" in page
    response = client.post(checklist_url("<script>x</script>"), {"observed": ["AL-DR-01"]})
    assert "&lt;script&gt;x&lt;/script&gt;" in response.content.decode()
    assert not Screening.objects.exists()


def test_someone_screening_for_two_organisations_chooses_one(
    alice: User, northmoor_police: Organisation, council: Organisation
) -> None:
    Membership.objects.create(user=alice, organisation=council, role=Role.SAFEGUARDING_LEAD)
    client = factories.signed_in_client(alice)
    page = client.post(START, {"age_group": "adult", "exploitation": "labour"}).content.decode()
    assert "Select the organisation you are screening for" in page
    response = client.post(
        START, {"age_group": "adult", "exploitation": "labour", "organisation": str(council.pk)}
    )
    assert response["Location"] == checklist_url("adult_labour", organisation=str(council.pk))
    assert "Select the organisation" in text_of(client.get(checklist_url("adult_labour")))
    client.post(response["Location"], {"observed": ["AL-DR-01"]})
    assert Screening.objects.get().organisation == council


def test_an_organisation_i_do_not_screen_for_is_refused(
    alice: User, southvale_police: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    url = checklist_url("adult_labour", organisation=str(southvale_police.pk))
    page = text_of(client.post(url, {"observed": ["AL-DR-01"]}))
    assert "Select the organisation you are screening for" in page
    assert not Screening.objects.exists()


# --- The checklist ----------------------------------------------------------------------------


def test_the_checklist_groups_indicators_by_dimension_with_the_uk_group(alice: User) -> None:
    page = text_of(factories.signed_in_client(alice).get(checklist_url()))
    for legend in ("Deceptive recruitment", "Exploitative conditions", "Coercion at destination"):
        assert legend in page
    assert "Situational indicator, strong" in page
    assert 'id="id_observed"' in page
    assert "version 1" in page


def test_ticking_nothing_asks_for_a_choice(alice: User) -> None:
    page = text_of(factories.signed_in_client(alice).post(checklist_url(), {}))
    assert "Select the indicators you have seen, or select \u2018I have not seen any" in page
    assert 'href="#id_observed"' in page
    assert not Screening.objects.exists()


def test_an_unknown_code_is_named_and_the_other_ticks_are_kept(alice: User) -> None:
    response = factories.signed_in_client(alice).post(
        checklist_url(), {"observed": ["AL-DR-01", "ZZ-99", "AL-EX-02"]}
    )
    page = response.content.decode()
    assert "ZZ-99 is not an indicator in this list" in html.unescape(page)
    assert re.search(r'value="AL-DR-01"\s+checked', page)
    assert re.search(r'value="AL-EX-02"\s+checked', page)
    assert not re.search(r'value="AL-DR-02"\s+checked', page)
    assert not Screening.objects.exists()


def test_a_code_from_another_list_is_refused(alice: User) -> None:
    page = text_of(
        factories.signed_in_client(alice).post(checklist_url(), {"observed": ["CS-EX-01"]})
    )
    assert "CS-EX-01 is not an indicator in this list" in page


def test_none_and_some_together_is_refused(alice: User) -> None:
    page = text_of(
        factories.signed_in_client(alice).post(
            checklist_url(), {"observed": ["AL-DR-01"], "none_observed": "on"}
        )
    )
    assert "not both" in page
    assert not Screening.objects.exists()


def test_none_observed_records_a_screening_without_the_pattern(alice: User) -> None:
    client = factories.signed_in_client(alice)
    response = client.post(checklist_url(), {"none_observed": "on"})
    screening = Screening.objects.get()
    assert screening.observed_codes == []
    assert not screening.indicated
    page = text_of(client.get(response["Location"]))
    assert "The pattern is not complete" in page
    assert "This does not mean the person has not been trafficked" in page


# --- The result -------------------------------------------------------------------------------


def test_the_result_says_per_dimension_why(alice: User) -> None:
    client = factories.signed_in_client(alice)
    response = client.post(checklist_url(), {"observed": ["AL-DR-01", "AL-DR-04", "AL-EX-01"]})
    page = text_of(client.get(response["Location"]))
    assert "Met: you recorded 1 strong indicator and 1 medium indicator." in page
    assert (
        "Not met: you recorded 1 strong indicator, which is not enough on its own. "
        "One more indicator of any strength would meet it." in page
    )
    assert "Not met: none of coercion at destination or abuse of vulnerability" in page
    assert "Was told they would do one kind of work" in page
    assert re.search(r"Rule applied </dt> <dd [^>]*> Adult </dd>", page)


@pytest.mark.page("screening:detail")
def test_a_child_result_explains_that_no_means_are_needed(
    alice: User, northmoor_police: Organisation
) -> None:
    screening = services.screening_record(
        by=alice,
        organisation=northmoor_police,
        list_key="child_labour",
        is_child=True,
        observed_codes=["CL-CR-01", "CL-CR-02", "CL-EX-01", "CL-EX-03"],
    )
    page = text_of(
        factories.signed_in_client(alice).get(reverse("screening:detail", args=[screening.pk]))
    )
    assert screening.indicated
    assert "The pattern is shown" in page
    assert "Not needed for a child" in page


def test_script_in_a_loaded_catalogues_text_is_shown_escaped(
    alice: User, northmoor_police: Organisation
) -> None:
    from .test_screening_catalogue import small

    services.catalogue_load(by=None, data=small(text='<script>alert("x")</script>'))
    client = factories.signed_in_client(alice)
    for page in (
        client.get(checklist_url()).content.decode(),
        client.get(
            reverse(
                "screening:detail",
                args=[record(alice, northmoor_police, ["adult_labour-1"]).pk],
            )
        ).content.decode(),
    ):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


# --- The service --------------------------------------------------------------------------------


def test_recording_writes_one_audit_event(alice: User, northmoor_police: Organisation) -> None:
    before = AuditEvent.objects.count()
    screening = record(alice, northmoor_police, ADULT_PATTERN)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.actor, event.organisation) == (
        "screening.recorded",
        alice,
        northmoor_police,
    )
    assert event.object_id == str(screening.pk)
    assert event.detail == {
        "list_key": "adult_labour",
        "catalogue": "opennrm-indicators@1",
        "observed": 6,
        "indicated": True,
    }


def test_every_screening_service_is_covered_by_an_audit_test() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__ and not name.startswith("_")
    }
    # catalogue_load: test_screening_catalogue.py::test_loading_writes_one_audit_event.
    # screening_for_referral is called only inside referral_submit, whose one event records it
    # (tests/test_referral_audit.py); screening_summary writes nothing.
    assert public == {
        "catalogue_load",
        "screening_record",
        "screening_for_referral",
        "screening_summary",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"list_key": "adult_domestic"}, "list_key", '"adult_domestic" is not a list'),
        ({"is_child": True}, "is_child", "does not fit this age group"),
        ({"observed_codes": ["AL-DR-01", "NO-1", "NO-2"]}, "observed_codes", "NO-1, NO-2 are not"),
    ],
)
def test_the_service_refuses_what_the_catalogue_does_not_have(
    alice: User, northmoor_police: Organisation, changes: dict, field: str, message: str
) -> None:
    arguments = {
        "by": alice,
        "organisation": northmoor_police,
        "list_key": "adult_labour",
        "is_child": False,
        "observed_codes": ["AL-DR-01"],
        **changes,
    }
    with pytest.raises(ValidationError) as caught:
        services.screening_record(**arguments)
    assert message in caught.value.message_dict[field][0]
    assert not Screening.objects.exists()


def test_the_service_refuses_an_organisation_the_user_does_not_screen_for(
    alice: User, southvale_police: Organisation
) -> None:
    with pytest.raises(PermissionDenied):
        record(alice, southvale_police)
    assert not AuditEvent.objects.filter(action="screening.recorded").exists()


# --- Demo data --------------------------------------------------------------------------------


def test_demo_screenings_are_recorded_once(db: None, settings) -> None:
    from opennrm.accounts import demo as accounts_demo
    from opennrm.screening import demo

    accounts_demo.seed()
    assert demo.seed() == len(demo.DEMO_SCREENINGS)
    assert demo.seed() == 0
    assert Screening.objects.count() == len(demo.DEMO_SCREENINGS)
    assert Screening.objects.filter(indicated=True).count() == 2
