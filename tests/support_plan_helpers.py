"""People placed and living in a place, built through the support services, for the tests of
support plans, missing episodes and exits."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accommodation.models import Placement
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case

from . import support_factories as s


def offered(cora: User, maya: User, provider: Organisation, case: Case, **site: Any) -> Placement:
    """A place offered to `provider` for the person (reserved), by the coordinator."""
    (bed,) = s.beds(maya, s.site(maya, provider, **site))
    return services.placement_make(by=cora, request=s.request(case), bed=bed)


def living(cora: User, maya: User, provider: Organisation, case: Case, **site: Any) -> Placement:
    """The person placed with `provider` and arrived today (an occupied placement)."""
    placement = offered(cora, maya, provider, case, **site)
    services.placement_respond(by=maya, placement=placement, accept=True)
    return services.placement_arrive(by=maya, placement=placement, on=timezone.localdate())


def reconsidering_while_living(
    alice: User,
    cora: User,
    maya: User,
    police: Organisation,
    provider: Organisation,
    authority: Organisation,
) -> tuple[Case, Placement]:
    """An adult living with `provider`, given a negative conclusive decision whose move-on
    support ends in 5 days; the referrer (`alice`, of `police`) asks for a reconsideration
    today. The case (in reconsideration) and the placement."""
    from datetime import timedelta

    from opennrm.cases.choices import CaseStatus
    from opennrm.decisions import services as decisions

    from . import case_factories

    today = timezone.localdate()
    case = case_factories.consenting(
        alice,
        police,
        authority,
        status=CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
        submitted_at=timezone.now(),
        move_on_ends=today + timedelta(days=5),
        reconsideration_until=today + timedelta(days=25),
    )
    placement = living(cora, maya, provider, case)
    case.refresh_from_db()
    decisions.reconsideration_request(
        by=alice,
        case=case,
        grounds="New evidence from the person's solicitor about the exploitation.",
        expected_version=case.version,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONSIDERATION
    return case, placement
