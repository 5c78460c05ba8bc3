"""A person referred as an adult who may be a child: the decision maker or the referrer records
it, and from then they are treated as a child (ADR 0025): adult places withdrawn, children's
services told and arranging their place."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import Placement, PlacementRequest, PlacementStatus
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services
from opennrm.safeguarding.models import ChildrenServicesTask

from . import case_factories, factories
from . import support_factories as s


@pytest.fixture
def case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )


def _dispute(by: User, case: Case, basis: str = "says_so") -> Case:
    return services.age_dispute_raise(by=by, case=case, basis=basis, expected_version=case.version)


def test_an_adult_whose_age_is_disputed_leaves_the_adult_bed_offered_and_children_s_services_arrange(
    case: Case,
    dmitri: User,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    council: Organisation,
    lena: User,
    gail: User,
) -> None:
    (bed,) = s.beds(maya, s.site(maya, provider, setting="mixed"))
    offered = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    assert offered.status == PlacementStatus.RESERVED
    _dispute(dmitri, case)
    case.refresh_from_db()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    offered.refresh_from_db()
    assert offered.status == PlacementStatus.CANCELLED
    assert not Placement.objects.holding_a_bed().filter(request__case=case).exists()
    assert not PlacementRequest.objects.filter(case=case, status="open").exists()
    task = ChildrenServicesTask.objects.get(case=case)
    assert task.due_on == timezone.localdate()
    told = set(
        Notification.objects.filter(kind="case.age_disputed").values_list("recipient", flat=True)
    )
    assert {lena.pk, gail.pk, dmitri.pk, alice.pk} <= told
    assert Notification.objects.filter(kind="placement.cancelled", recipient=maya).exists()
    # A child's offer can never be accepted into the adult bed now.
    event = AuditEvent.objects.get(action="age_dispute.raised")
    assert event.detail["places"] == {
        "offers_cancelled": 1,
        "requests_withdrawn": 1,
        "adult_houses_lived_in": 0,
    }


def test_the_house_an_adult_now_treated_as_a_child_lives_in_is_told(
    case: Case, dmitri: User, cora: User, maya: User, provider: Organisation, council: Organisation
) -> None:
    (bed,) = s.beds(maya, s.site(maya, provider, setting="mixed"))
    placement = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    accommodation.placement_respond(by=maya, placement=placement, accept=True)
    accommodation.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    _dispute(dmitri, case)
    told = Notification.objects.filter(kind="placement.child_in_adult_house")
    assert {n.recipient for n in told} == {maya, cora}
    assert ChildrenServicesTask.objects.filter(case=case).exists()


def test_without_a_place_wanted_no_accommodation_task_is_raised(case: Case, alice: User) -> None:
    _dispute(alice, case, basis="document")
    case.refresh_from_db()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    assert not ChildrenServicesTask.objects.exists()
    assert (
        case.events.filter(kind="case.age_group_changed")
        .get()
        .description.endswith(
            "age disputed (a document says they are under 18): treated as a child until an age "
            "assessment"
        )
    )


def test_only_the_decision_maker_or_the_referrer_may_and_only_for_an_adult(
    case: Case, cora: User, lena: User, dmitri: User
) -> None:
    for outsider in (cora, lena):
        with pytest.raises(ValidationError, match="Only a decision maker"):
            _dispute(outsider, case)
    with pytest.raises(ValidationError, match="Select why"):
        _dispute(dmitri, case, basis="a hunch")
    _dispute(dmitri, case)
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        _dispute(dmitri, case)


@pytest.mark.page("safeguarding:age_dispute")
def test_the_page_treats_the_person_as_a_child(case: Case, dmitri: User) -> None:
    client = factories.signed_in_client(dmitri)
    detail = client.get(reverse("cases:detail", args=[case.reference])).content.decode()
    url = reverse("safeguarding:age_dispute", args=[case.reference])
    assert url in detail
    page = client.get(url)
    assert page.status_code == 200
    assert "Why may the person be under 18?" in page.content.decode()
    refused = client.post(url, {"version": case.version})
    assert "Select why the person may be under 18" in refused.content.decode()
    response = client.post(url, {"basis": "appearance", "version": case.version})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    case.refresh_from_db()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    # Now a child's case: nothing more to record here.
    assert client.get(url).status_code == 404


def test_the_page_takes_get_and_post_only(case: Case, dmitri: User) -> None:
    url = reverse("safeguarding:age_dispute", args=[case.reference])
    assert factories.signed_in_client(dmitri).put(url).status_code == 405


def test_an_outsider_gets_404(case: Case, northmoor_police: Organisation) -> None:
    other = factories.user(
        "other.dm@example.org",
        organisation=factories.organisation("Other Authority", "competent_authority"),
        role="decision_maker",
    )
    url = reverse("safeguarding:age_dispute", args=[case.reference])
    client = factories.signed_in_client(other)
    assert client.get(url).status_code == 404
    assert client.post(url, {"basis": "says_so", "version": case.version}).status_code == 404
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
