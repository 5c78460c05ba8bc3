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
