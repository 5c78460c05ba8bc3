"""A token answers for a safe house only through its own organisation's roles."""

from __future__ import annotations

from typing import Any

from opennrm.accommodation.models import PlacementStatus, Site
from opennrm.accounts.models import Membership, User
from opennrm.accounts.roles import OrganisationKind, Role

from . import api_helpers as a
from . import factories
from .test_api_support import api, beds_of, house, new_case, offer  # noqa: F401 (fixtures)


def test_a_token_of_another_organisation_cannot_answer_an_offer_for_this_provider(
    cora: User,
    maya: User,
    house: Site,  # noqa: F811
    new_case: Any,  # noqa: F811
) -> None:
    """Maya manages North House for Test Refuge. She is also a coordinator and a safe-house
    manager at Other Coordination, and that organisation's system holds a token acting for her.
    Docs/api.md: a token acts "through their roles in the token's organisation only". Today the
    token of Other Coordination accepts North House's offer (200, the placement accepted):
    accommodation.services._lock_for_provider checks `Actor.of_session(by)`, all of Maya's
    roles everywhere, not the token's actor, so a system of another organisation answers for
    Test Refuge. It should be refused (404 or 422) and the offer left waiting."""
    elsewhere = factories.organisation("Other Coordination", OrganisationKind.SUPPORT_PROVIDER)
    Membership.objects.create(user=maya, organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    Membership.objects.create(user=maya, organisation=elsewhere, role=Role.SAFE_HOUSE_MANAGER)
    placement = offer(cora, new_case(), beds_of(house)[0])
    response = a.post_json(
        api(maya, elsewhere),
        f"/api/v1/support/placements/{placement.pk}/response",
        {"accept": True},
    )
    assert response.status_code in (404, 422), response.content
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.RESERVED
