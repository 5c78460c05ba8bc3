"""Who may ask for a reconsideration from the support plan: a support provider supporting the
person. An adult support coordinator whose only part in the case was a request for an adult place,
withdrawn when the person's age was disputed (children's services now look after them, ADR 0025),
does not support the person."""

from __future__ import annotations

from django.urls import reverse

from opennrm.accommodation.models import PlacementRequest, PlacementRequestStatus
from opennrm.accounts.models import Organisation, User
from opennrm.safeguarding.services import age_dispute_raise
from tests import case_factories, factories
from tests import support_factories as s


def test_a_coordinator_cannot_ask_as_supporting_a_child_whose_adult_request_was_withdrawn(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    case = case_factories.consenting(alice, northmoor_police, authority)
    s.request(case)
    case.refresh_from_db()
    age_dispute_raise(by=alice, case=case, basis="appearance", expected_version=case.version)
    case.refresh_from_db()
    assert case.is_child
    assert not PlacementRequest.objects.filter(
        case=case, status=PlacementRequestStatus.OPEN
    ).exists()
    case = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    url = reverse("support:reconsideration_request", args=[case.reference])
    response = factories.signed_in_client(cora).post(
        url, {"grounds": "We think so.", "expected_version": case.version}
    )
    assert response.status_code == 404, (
        f"{response.status_code}: an adult support coordinator asked, as '{provider.name}, "
        "supporting the person', for a child it does not support"
    )
