"""The pages that had no test of their own through the test client (issue 11, item 4): each
one's happy path with its effect asserted, the wrong method, and an outsider's 404. Deleting
a view's body fails its test here (tests/test_page_tests.py wants one for every route)."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as support
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.decisions.models import ReconsiderationState
from opennrm.notifications.models import Notification
from opennrm.referrals.models import ReferralDraft

from . import factories
from . import support_factories as s
from . import support_plan_helpers as h

MONDAY = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def outsider_decider(db: None) -> User:
    """A decision maker at another competent authority: nothing of Test's is theirs."""
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


def _reads(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action="person.viewed"))


# --- Decisions ------------------------------------------------------------------------------


@pytest.mark.page("decisions:extend")
def test_a_decision_maker_extends_the_recovery_period(
    case: Case, dmitri: User, outsider_decider: User
) -> None:
    url = reverse("decisions:extend", args=[case.reference])
    with time_machine.travel(MONDAY, tick=False):
        decisions.decision_record_reasonable_grounds(
            by=dmitri, case=case, outcome="positive", reasons="Credible.", expected_version=1
        )
        case.refresh_from_db()
        ends, earliest = case.recovery_period_ends, case.conclusive_grounds_from
        assert factories.signed_in_client(outsider_decider).get(url).status_code == 404
        client = factories.signed_in_client(dmitri)
        assert client.put(url).status_code == 405
        assert "Extend the recovery period" in client.get(url).content.decode()
        response = client.post(
            url,
            {"days": "14", "reasons": "Needs time to recover.", "expected_version": case.version},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    case.refresh_from_db()
    assert (case.recovery_period_ends - ends).days == 14
    assert (case.conclusive_grounds_from - earliest).days == 14
    assert AuditEvent.objects.filter(action="decision.recovery_extended", actor=dmitri).exists()


@pytest.mark.page("decisions:reconsideration")
def test_a_decision_maker_decides_a_reconsideration(
    case: Case, alice: User, dmitri: User, sally: User, outsider_decider: User
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        decision = decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="None.",
            expected_version=1,
        )
        decisions.decision_approve(by=sally, decision=decision, approve=True)
        case.refresh_from_db()
        request = decisions.reconsideration_request(
            by=alice, case=case, grounds="A medical report arrived.", expected_version=case.version
        )
        url = reverse("decisions:reconsideration", args=[request.pk])
        assert factories.signed_in_client(outsider_decider).get(url).status_code == 404
        client = factories.signed_in_client(dmitri)
        assert client.put(url).status_code == 405
        page = client.get(url).content.decode()
        assert "A medical report arrived." in page
        assert [r.detail["fields"] for r in _reads(dmitri)] == [["reconsideration_grounds"]]
        case.refresh_from_db()
        response = client.post(
            url,
            {"accept": "no", "reasons": "Nothing new.", "expected_version": case.version},
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == ReconsiderationState.REFUSED
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS


# --- Support: requests, proposals and placements -------------------------------------------


@pytest.mark.page("support:request_new")
def test_a_coordinator_asks_for_a_place_for_someone_referred(
    case: Case, cora: User, maya: User
) -> None:
    url = reverse("support:request_new")
    client = factories.signed_in_client(cora)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(maya).get(url).status_code == 404
    tomorrow = s.day(1)
    response = client.post(
        url,
        {
            "reference": case.reference,
            "urgency": "routine",
            "needed_from_day": str(tomorrow.day),
            "needed_from_month": str(tomorrow.month),
            "needed_from_year": str(tomorrow.year),
        },
    )
    assert response.status_code == 302
    (request,) = case.placement_requests.all()
    assert response["Location"] == reverse("support:request_edit", args=[request.pk])
    assert (request.urgency, request.needed_from) == ("routine", tomorrow)


@pytest.mark.page("support:request_close")
def test_a_coordinator_closes_a_request_no_longer_needed(
    case: Case, cora: User, omar: User
) -> None:
    request = s.request(case)
    url = reverse("support:request_close", args=[request.pk])
    client = factories.signed_in_client(cora)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(omar).get(url).status_code == 404
    assert "Why is the request closed?" in client.get(url).content.decode()
    response = client.post(url, {"outcome": "withdrawn"})
    assert response.status_code == 302
    assert response["Location"] == reverse("support:requests")
    request.refresh_from_db()
    assert request.status == "withdrawn"


@pytest.mark.page("support:proposal_decide")
def test_a_coordinator_confirms_a_proposal_and_turns_another_down(
    case: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
) -> None:
    from . import case_factories

    other = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    s.beds(maya, s.site(maya, provider), 2)
    first, second = s.request(case), s.request(other)
    support.matching_run(by=cora)
    confirmed, turned_down = first.placements.get(), second.placements.get()
    client = factories.signed_in_client(cora)
    url = reverse("support:proposal_decide", args=[confirmed.pk])
    assert client.get(url).status_code == 405
    assert factories.signed_in_client(maya).post(url, {"action": "confirm"}).status_code == 404
    response = client.post(url, {"action": "confirm"})
    assert response.status_code == 302
    assert response["Location"] == reverse("support:proposals")
    client.post(reverse("support:proposal_decide", args=[turned_down.pk]), {"action": "reject"})
    confirmed.refresh_from_db()
    turned_down.refresh_from_db()
    assert (confirmed.status, turned_down.status) == ("reserved", "cancelled")
    assert Notification.objects.filter(recipient=maya, kind="placement.offered").exists()


@pytest.mark.page("support:placement_cancel")
def test_a_coordinator_cancels_an_offer_not_yet_taken_up(
    case: Case, cora: User, maya: User, omar: User, provider: Organisation
) -> None:
    placement = h.offered(cora, maya, provider, case)
    url = reverse("support:placement_cancel", args=[placement.pk])
    client = factories.signed_in_client(cora)
    assert client.get(url).status_code == 405
    assert factories.signed_in_client(omar).post(url).status_code == 404
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("support:placement", args=[placement.pk])
    placement.refresh_from_db()
    assert placement.status == "cancelled"
    assert "The place offered is cancelled" in client.get(response["Location"]).content.decode()


@pytest.mark.page("support:placement_respond")
def test_the_provider_accepts_the_place_offered(
    case: Case, cora: User, maya: User, omar: User, provider: Organisation
) -> None:
    placement = h.offered(cora, maya, provider, case)
    url = reverse("support:placement_respond", args=[placement.pk])
    client = factories.signed_in_client(maya)
    assert client.get(url).status_code == 405
    assert factories.signed_in_client(omar).post(url, {"answer": "accept"}).status_code == 404
    response = client.post(url, {"answer": "accept"})
    assert response.status_code == 302
    placement.refresh_from_db()
    assert placement.status == "accepted"


@pytest.mark.page("support:placement_arrived")
def test_the_provider_records_the_arrival(
    case: Case, cora: User, maya: User, omar: User, provider: Organisation
) -> None:
    placement = h.offered(cora, maya, provider, case)
    support.placement_respond(by=maya, placement=placement, accept=True)
    url = reverse("support:placement_arrived", args=[placement.pk])
    today = timezone.localdate()
    form = {
        "arrived_on_day": str(today.day),
        "arrived_on_month": str(today.month),
        "arrived_on_year": str(today.year),
    }
    client = factories.signed_in_client(maya)
    assert client.get(url).status_code == 405
    assert factories.signed_in_client(omar).post(url, form).status_code == 404
    response = client.post(url, form)
    assert response.status_code == 302
    placement.refresh_from_db()
    assert (placement.status, placement.arrived_on) == ("occupied", today)


@pytest.mark.page("support:placements")
def test_placements_list_each_place_by_case_reference(
    case: Case, cora: User, maya: User, omar: User, provider: Organisation
) -> None:
    placement = h.offered(cora, maya, provider, case)
    url = reverse("support:placements")
    assert case.reference in factories.signed_in_client(maya).get(url).content.decode()
    assert case.reference not in factories.signed_in_client(omar).get(url).content.decode()
    assert f"/support/placements/{placement.pk}/" in (
        factories.signed_in_client(cora).get(url).content.decode()
    )


@pytest.mark.page("support:placement")
def test_a_placement_page_says_where_things_stand(
    case: Case, cora: User, maya: User, omar: User, provider: Organisation
) -> None:
    placement = h.offered(cora, maya, provider, case)
    url = reverse("support:placement", args=[placement.pk])
    assert factories.signed_in_client(omar).get(url).status_code == 404
    page = factories.signed_in_client(maya).get(url).content.decode()
    assert case.reference in page
    assert reverse("support:placement_respond", args=[placement.pk]) in page


# --- Pages for everyone -----------------------------------------------------------------------


@pytest.mark.page("pages:privacy")
def test_the_privacy_page_names_the_cookies(db: None) -> None:
    page = Client().get(reverse("pages:privacy")).content.decode()
    assert "Cookies and privacy" in page
    assert "Essential cookies we use" in page
    assert "opennrm_device" in page  # every cookie set is listed (accounts/devices.py)


@pytest.mark.page("notifications:open")
def test_opening_a_notification_marks_it_read_and_follows_its_link(alice: User, bob: User) -> None:
    notification = Notification.objects.create(
        recipient=alice,
        kind="case.status_changed",
        subject="A case changed",
        body="",
        url="/referrals/",
    )
    url = reverse("notifications:open", args=[notification.pk])
    client = factories.signed_in_client(alice)
    assert client.get(url).status_code == 405
    assert factories.signed_in_client(bob).post(url).status_code == 404
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/referrals/"
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.page("referrals:draft_start")
def test_starting_a_referral_makes_a_draft_and_opens_its_task_list(alice: User) -> None:
    client = factories.signed_in_client(alice)
    assert client.get(reverse("referrals:draft_start")).status_code == 405
    response = client.post(reverse("referrals:draft_start"))
    draft = ReferralDraft.objects.get(created_by=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:task_list", args=[draft.public_id])


@pytest.mark.page("accounts:member_list")
def test_an_administrator_sees_their_organisations_members(
    olivia: User, alice: User, oscar: User, northmoor_police: Organisation
) -> None:
    url = reverse("accounts:member_list", args=[northmoor_police.pk])
    assert factories.signed_in_client(oscar).get(url).status_code == 404
    page = factories.signed_in_client(olivia).get(url).content.decode()
    assert "Northmoor Police" in page
    assert alice.email in page


@pytest.mark.page("privacy:person")
def test_the_officer_sees_what_is_held_about_a_person(case: Case, dpo: User, dmitri: User) -> None:
    url = reverse("privacy:person", args=[case.person_id])
    assert factories.signed_in_client(dmitri).get(url).status_code == 404
    page = factories.signed_in_client(dpo).get(url).content.decode()
    assert case.reference in page


@pytest.mark.page("support:sites")
def test_a_manager_sees_their_providers_sites_and_nobody_elses(
    maya: User, omar: User, provider: Organisation
) -> None:
    site = s.site(maya, provider, name="Larkspur House")
    url = reverse("support:sites")
    page = factories.signed_in_client(maya).get(url).content.decode()
    assert "Larkspur House" in page
    assert reverse("support:site", args=[site.pk]) in page
    assert "Larkspur House" not in factories.signed_in_client(omar).get(url).content.decode()


@pytest.mark.page("support:directory_hsds")
def test_the_directory_downloads_as_an_hsds_document(
    alice: User, maya: User, provider: Organisation
) -> None:
    """Without the HSDS schemas at hand (tests/test_hsds_export.py validates it with them)."""
    support.service_create(by=maya, provider=provider, name="Larkspur refuge")
    url = reverse("support:directory_hsds")
    response = factories.signed_in_client(alice).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = response.json()
    assert "Test Refuge" in [o["name"] for o in document["organizations"]]
    assert "Larkspur refuge" in [service["name"] for service in document["services"]]
