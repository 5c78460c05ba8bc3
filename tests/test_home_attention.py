"""Each role's home shows what needs its attention now, with counts and links to the lists that
show it; "Nothing needs your attention" only when every count is zero (issue 12, item 5)."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opennrm.accommodation import services as support
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.care import services as care
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.casework.models import CaseTask
from opennrm.decisions import services as decisions
from opennrm.notifications.models import Notification
from opennrm.pages.attention import ATTENTION

from . import case_factories, factories
from . import support_factories as s

NOTHING = "Nothing needs your attention"


def home(user: User) -> str:
    response = factories.signed_in_client(user).get("/")
    assert response.status_code == 200
    return response.content.decode()


def needs(html: str) -> list[tuple[str, str]]:
    """The attention items on a home page: (text, link)."""
    block = html.split("Needs your attention", 1)
    if len(block) == 1:
        return []
    items = block[1].split("</ul>", 1)[0]
    return [
        (html_lib.unescape(text), html_lib.unescape(href))
        for href, text in re.findall(r'<a class="[^"]*" href="([^"]+)">([^<]+)</a>', items)
    ]


def today(offset: int = 0) -> Any:
    return timezone.localdate() + timedelta(days=offset)


@pytest.fixture
def other_authority(db: None) -> Organisation:
    return factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)


def a_case(alice: User, police: Organisation, authority: Organisation, **fields: Any) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=police, authority=authority, **fields
    )


# --- Nothing, when nothing needs it --------------------------------------------------------


def test_every_role_is_told_nothing_needs_it_when_nothing_does(
    people_in_every_role: dict[Role, User],
) -> None:
    for role, user in people_in_every_role.items():
        html = home(user)
        assert NOTHING in html, role
        assert needs(html) == [], role


def test_every_role_with_attention_items_has_them_registered() -> None:
    roles = {item.role for item in ATTENTION}
    assert roles >= {
        Role.FIRST_RESPONDER,
        Role.DECISION_MAKER,
        Role.SENIOR_DECISION_MAKER,
        Role.SUPPORT_COORDINATOR,
        Role.SAFE_HOUSE_MANAGER,
        Role.SAFEGUARDING_LEAD,
    }


# --- Decision makers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "text", "link"),
    [
        (
            {"reasonable_grounds_due": today(-3)},
            "reasonable grounds decision{} overdue",
            "/decisions/?queue=reasonable-grounds&overdue=yes",
        ),
        (
            {"reasonable_grounds_due": today()},
            "reasonable grounds decision{} due today",
            "/decisions/?queue=reasonable-grounds&due=today",
        ),
        (
            {"status": CaseStatus.RECOVERY_PERIOD, "conclusive_grounds_from": today(-1)},
            "conclusive grounds decision{} that can be made now",
            "/decisions/?queue=conclusive-grounds&due=today",
        ),
        (
            {"status": CaseStatus.RECONSIDERATION, "reconsideration_decide_by": today(-1)},
            "reconsideration{} overdue",
            "/decisions/?queue=reconsiderations&overdue=yes",
        ),
        (
            {"status": CaseStatus.RECONSIDERATION, "reconsideration_decide_by": today()},
            "reconsideration{} due today",
            "/decisions/?queue=reconsiderations&due=today",
        ),
    ],
)
def test_a_decision_maker_sees_decisions_due_with_their_count_and_link(
    dmitri: User,
    sally: User,
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    other_authority: Organisation,
    fields: dict[str, Any],
    text: str,
    link: str,
) -> None:
    # Not due yet, and another authority's: neither needs Dmitri.
    later = {
        key: (value + timedelta(days=10) if key != "status" else value)
        for key, value in fields.items()
    }
    a_case(alice, northmoor_police, authority, **later)
    a_case(charlie, southvale_police, other_authority, **fields)
    a_case(charlie, southvale_police, other_authority, **fields)
    assert NOTHING in home(dmitri)

    a_case(alice, northmoor_police, authority, **fields)
    html = home(dmitri)
    assert needs(html) == [(f"1 {text.format('')}", link)]
    assert NOTHING not in html
    a_case(alice, northmoor_police, authority, **fields)
    assert needs(home(dmitri)) == [(f"2 {text.format('s')}", link)]
    # The senior decision maker decides too, and sees the same.
    assert needs(home(sally)) == [(f"2 {text.format('s')}", link)]
    # The link opens the queue showing exactly those cases.
    page = factories.signed_in_client(dmitri).get(link).content.decode()
    assert "2 cases, oldest deadline first" in page


def test_a_queue_count_past_the_cap_says_more_than(
    monkeypatch: pytest.MonkeyPatch,
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """ADR 0055: the home page's queue counts stop where the queue page's count stops (at a
    million cases the exact count of those overdue took 133 ms)."""
    from opennrm.lib import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    link = "/decisions/?queue=reasonable-grounds&overdue=yes"
    for _ in range(2):
        a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-3))
    assert needs(home(dmitri)) == [("2 reasonable grounds decisions overdue", link)]
    a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-3))
    assert needs(home(dmitri)) == [("More than 2 reasonable grounds decisions overdue", link)]
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    assert needs(home(dmitri)) == [("3 reasonable grounds decisions overdue", link)]


def test_a_conclusive_grounds_decision_not_yet_possible_needs_nobody(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    a_case(
        alice,
        northmoor_police,
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        conclusive_grounds_from=today(1),
    )
    assert NOTHING in home(dmitri)


def test_the_senior_sees_negative_decisions_waiting_for_their_approval(
    dmitri: User,
    sally: User,
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    other_authority: Organisation,
) -> None:
    far = {"reasonable_grounds_due": today(20)}
    elsewhere = factories.user(organisation=other_authority, role=Role.DECISION_MAKER)
    outsider_case = a_case(charlie, southvale_police, other_authority, **far)
    decisions.decision_record_reasonable_grounds(
        by=elsewhere,
        case=outsider_case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Weak.",
        expected_version=1,
    )
    assert NOTHING in home(sally)

    case = a_case(alice, northmoor_police, authority, **far)
    decisions.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Weak.",
        expected_version=1,
    )
    html = home(sally)
    assert needs(html) == [
        ("1 negative decision waiting for your approval", "/decisions/?queue=approvals")
    ]
    assert NOTHING not in html
    # The decision maker's role does not approve: nothing is asked of Dmitri.
    assert NOTHING in home(dmitri)


def test_the_seniors_own_negative_decision_waits_for_someone_else(
    sally: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(20))
    decisions.decision_record_reasonable_grounds(
        by=sally,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Weak.",
        expected_version=1,
    )
    assert NOTHING in home(sally)


def test_the_queue_filters_cases_due_today(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    overdue = a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-1))
    due = a_case(alice, northmoor_police, authority, reasonable_grounds_due=today())
    later = a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(1))
    client = factories.signed_in_client(dmitri)
    page = client.get("/decisions/?queue=reasonable-grounds&due=today").content.decode()
    assert due.reference in page
    assert overdue.reference not in page
    assert later.reference not in page
    assert 'name="due" type="checkbox" value="today" checked' in page
    everything = client.get("/decisions/?queue=reasonable-grounds").content.decode()
    assert all(c.reference in everything for c in (overdue, due, later))


# --- Support coordinators and safe-house managers -------------------------------------------


def test_the_coordinator_sees_people_waiting_proposals_and_offers_unanswered(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    assert NOTHING in home(cora)
    request = s.request(case)
    html = home(cora)
    assert needs(html) == [("1 person waiting for a place", "/support/requests/")]
    assert NOTHING not in html

    (bed,) = s.beds(maya, s.site(maya, provider))
    support.placement_make(by=cora, request=request, bed=bed)
    assert needs(home(cora)) == [
        ("1 person waiting for a place", "/support/requests/"),
        (
            "1 place offered and not yet answered by its provider",
            "/support/placements/#offers-caption",
        ),
    ]


def test_the_coordinator_sees_proposals_to_confirm(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    from opennrm.accommodation.models import Placement, PlacementStatus

    (bed,) = s.beds(maya, s.site(maya, provider))
    Placement.objects.create(
        request=s.request(case),
        bed=bed,
        status=PlacementStatus.PROPOSED,
        proposed_at=timezone.now(),
    )
    assert (
        "1 proposed place to check and confirm",
        "/support/proposals/",
    ) in needs(home(cora))


def test_the_manager_sees_offers_to_answer_then_arrivals_expected(
    cora: User, maya: User, omar: User, provider: Organisation, case: Case
) -> None:
    (bed,) = s.beds(maya, s.site(maya, provider))
    assert NOTHING in home(maya)
    placement = support.placement_make(by=cora, request=s.request(case), bed=bed)
    html = home(maya)
    assert needs(html) == [
        (
            "1 place offered to you, waiting for your answer",
            "/support/placements/#offers-caption",
        )
    ]
    assert NOTHING not in html
    # Another provider's manager: not theirs.
    assert NOTHING in home(omar)

    support.placement_respond(by=maya, placement=placement, accept=True)
    assert needs(home(maya)) == [("1 arrival expected", "/support/placements/#expected-caption")]
    assert NOTHING in home(omar)

    support.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    assert NOTHING in home(maya)

    # Gone missing from the place: the manager and every coordinator are asked to act.
    episode = care.missing_report(
        by=maya, case=case, went_missing_on=timezone.localdate(), last_seen="At the station"
    )
    missing = ("1 person missing from support, not yet back", "/support/missing/")
    assert needs(home(maya)) == [missing]
    assert missing in needs(home(cora))
    assert NOTHING in home(omar)
    care.missing_return(by=maya, episode=episode, returned_on=timezone.localdate())
    assert NOTHING in home(maya)


# --- Requests to see a safe house's address ---------------------------------------------------


def test_a_providers_administrator_and_a_senior_see_address_requests_to_decide(
    cora: User, maya: User, sally: User, olivia: User, provider: Organisation
) -> None:
    admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
    site = s.site(maya, provider)
    assert NOTHING in home(admin)
    support.address_grant_request(by=cora, site=site, reason="A journey.", emergency=False)
    html = home(admin)
    assert needs(html) == [
        (
            "1 request to see one of your sites' addresses, waiting for your decision",
            "/support/address-access/#to-decide",
        )
    ]
    assert NOTHING not in html
    # Another organisation's administrator; a senior, for a request that is no emergency.
    assert NOTHING in home(olivia)
    assert NOTHING in home(sally)

    other = s.site(maya, provider)
    support.address_grant_request(by=cora, site=other, reason="Tonight.", emergency=True)
    assert needs(home(sally)) == [
        (
            "1 emergency request to see a safe house's address, waiting for a decision",
            "/support/address-access/#to-decide",
        )
    ]
    assert "2 requests to see your sites' addresses" in html_lib.unescape(home(admin))


# --- Safeguarding leads ------------------------------------------------------------------------


def child_referred(lead: User, case: Case) -> Notification:
    return Notification.objects.create(
        recipient=lead,
        case=case,
        kind="case.child_referred",
        subject=f"Child referred: {case.reference}",
        body="A child has been referred.",
        url=f"/cases/{case.reference}/",
    )


def test_the_safeguarding_lead_sees_children_referred_not_yet_acted_on(
    lena: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    # A child in another area (told by mistake) is not Lena's to act on.
    elsewhere = a_case(
        alice, northmoor_police, authority, age_group=AgeGroup.CHILD, area="Otherfordshire"
    )
    child_referred(lena, elsewhere)
    assert NOTHING in home(lena)

    child = a_case(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    told = child_referred(lena, child)
    html = home(lena)
    link = "/notifications/?show=children"
    assert needs(html) == [("1 child newly referred in your area, not yet looked at", link)]
    assert NOTHING not in html
    listed = factories.signed_in_client(lena).get(link).content.decode()
    assert child.reference in listed
    # Not hers to open: neither counted nor listed (ADR 0008, stop 41).
    assert elsewhere.reference not in listed

    factories.signed_in_client(lena).post(f"/notifications/{told.pk}/open/")
    assert NOTHING in home(lena)


# --- First responders --------------------------------------------------------------------------


def test_the_first_responder_sees_referrals_with_a_new_outcome_until_they_open_it(
    alice: User, bob: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(20))
    assert NOTHING in home(alice)
    decisions.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="positive", reasons="Credible.", expected_version=1
    )
    html = home(alice)
    link = "/notifications/?show=outcomes"
    assert needs(html) == [("1 referral with a new outcome", link)]
    assert NOTHING not in html
    # Told to Alice, who referred: Bob, her colleague, was not told.
    assert NOTHING in home(bob)

    listed = factories.signed_in_client(alice).get(link).content.decode()
    assert case.reference in listed
    told = Notification.objects.get(recipient=alice, case=case, kind="case.status_changed")
    factories.signed_in_client(alice).post(f"/notifications/{told.pk}/open/")
    assert NOTHING in home(alice)
    assert "None of these are new." in factories.signed_in_client(alice).get(link).content.decode()


def test_an_outcome_on_another_organisations_case_never_counts(
    alice: User, charlie: User, southvale_police: Organisation, authority: Organisation
) -> None:
    theirs = a_case(charlie, southvale_police, authority)
    Notification.objects.create(
        recipient=alice,
        case=theirs,
        kind="case.status_changed",
        subject="Case changed",
        body="Changed.",
    )
    assert NOTHING in home(alice)


# --- Someone in two organisations ------------------------------------------------------------


def test_the_same_role_in_two_organisations_counts_each_under_its_own_heading(
    dmitri: User,
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    other_authority: Organisation,
) -> None:
    from opennrm.accounts.models import Membership

    Membership.objects.create(user=dmitri, organisation=other_authority, role=Role.DECISION_MAKER)
    a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-1))
    a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-2))
    a_case(charlie, southvale_police, other_authority, reasonable_grounds_due=today(-1))
    sections = home(dmitri).split("<section")[1:]
    (mine,) = [x for x in sections if f'caption-m">{authority.name}<' in x]
    (other,) = [x for x in sections if f'caption-m">{other_authority.name}<' in x]
    assert needs(mine) == [
        (
            "2 reasonable grounds decisions overdue",
            "/decisions/?queue=reasonable-grounds&overdue=yes",
        )
    ]
    assert needs(other) == [
        (
            "1 reasonable grounds decision overdue",
            "/decisions/?queue=reasonable-grounds&overdue=yes",
        )
    ]


# --- Cheap to show ---------------------------------------------------------------------------


def queries_for_home(user: User) -> int:
    client = factories.signed_in_client(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_home_page_counts_in_a_fixed_number_of_queries(
    dmitri: User,
    sally: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    django_assert_max_num_queries: Any,
) -> None:
    a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-1))
    few = queries_for_home(dmitri)
    for days in range(2, 12):
        a_case(alice, northmoor_police, authority, reasonable_grounds_due=today(-days))
        a_case(alice, northmoor_police, authority, reasonable_grounds_due=today())
    assert queries_for_home(dmitri) == few
    # The senior decision maker has the most items (nine). Sign-in, session, memberships and
    # the navigation take ten queries; then at most two for each of the seven decision items
    # and the additions not yet read (the authorities the member decides for, and the COUNT),
    # and three for their own tasks (the cases they may open, read as the case page reads
    # them), however many cases there are.
    client = factories.signed_in_client(sally)
    with django_assert_max_num_queries(10 + 2 * 8 + 3):
        client.get("/")


# --- The demo -----------------------------------------------------------------------------------


@override_settings(DEMO=True)
def test_every_demo_login_with_work_sees_some_on_their_home(db: None) -> None:
    from django.core.management import call_command

    from opennrm.accounts.actor import Actor
    from opennrm.pages.attention import attention_for

    call_command("demo_data")
    for email in (
        "responder@demo.opennrm.test",
        "decisions@demo.opennrm.test",
        "senior@demo.opennrm.test",
        "coordinator@demo.opennrm.test",
        "safehouse@demo.opennrm.test",
        "safeguarding@demo.opennrm.test",
    ):
        actor = Actor(User.objects.get(email=email))
        (membership,) = actor.memberships()
        assert attention_for(actor, membership), email
    senior = Actor(User.objects.get(email="senior@demo.opennrm.test"))
    texts = [item["text"] for item in attention_for(senior, senior.memberships().get())]
    assert "1 reasonable grounds decision overdue" in texts
    assert "1 negative decision waiting for your approval" in texts


# --- Case tasks --------------------------------------------------------------------------------


def test_a_task_due_today_or_overdue_needs_its_owner_and_no_one_else(
    alice: User, bob: User, oscar: User, case: Case
) -> None:
    from opennrm.casework import services as casework

    assert NOTHING in home(alice)
    task = casework.case_task_add(
        by=bob, case=case, title="Ring the safe contact", owner=alice, due_on=today(1)
    )
    # Due tomorrow: not yet.
    assert NOTHING in home(alice)
    CaseTask.objects.filter(pk=task.pk).update(due_on=today())
    assert needs(home(alice)) == [("1 of your tasks due today or overdue", "/tasks/")]
    # Not theirs: the colleague who set it, and another police force.
    assert NOTHING in home(bob)
    assert NOTHING in home(oscar)
    casework.case_task_done(by=alice, task=task)
    assert NOTHING in home(alice)


def test_the_safeguarding_lead_sees_children_waiting_for_the_local_authority(
    lena: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """An age-disputed child with no age assessment yet is on the caseload, needing action,
    until the assessment is recorded; a child in another area never counts."""
    from opennrm.safeguarding import services as safeguarding

    a_case(alice, northmoor_police, authority, age_group=AgeGroup.PRESUMED_CHILD, area="Elsewhere")
    assert NOTHING in home(lena)
    disputed = a_case(alice, northmoor_police, authority, age_group=AgeGroup.PRESUMED_CHILD)
    waiting = (
        "1 child in your area waiting for the local authority: a task or an age assessment",
        "/children/",
    )
    assert needs(home(lena)) == [waiting]
    safeguarding.age_assessment_record(
        by=lena,
        case=disputed,
        outcome="child",
        assessed_on=today(),
        reasons="Assessed by two social workers.",
        expected_version=disputed.version,
    )
    assert NOTHING in home(lena)
