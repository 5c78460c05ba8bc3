"""Review: a placement a later safety change has made unsafe is flagged where those told act.

When a place to keep away from is learnt after the person moved in, the house and the support
coordinators get `placement.safety_broken` ("Open the placement today: they may need to move"),
linking to the placement page. That page must then say that the place no longer meets a safety
condition; it shows nothing of it (the keep-away places are hidden from the manager and no
banner says the placement is now unsafe), so the reader of the message finds nothing to act on.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.safety import services as safety

from . import factories
from . import support_factories as s


def test_the_placement_page_flags_a_place_that_no_longer_meets_a_safety_condition(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    (bed,) = s.beds(maya, s.site(maya, provider, name="Moor House", area="Hollowmere"))
    placement = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    accommodation.placement_respond(by=maya, placement=placement, accept=True)
    accommodation.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    # The controller lives in Hollowmere, where she now lives.
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="high",
        risk_reasons="The controller is looking for her",
        keep_away=["Hollowmere"],
    )
    told = Notification.objects.filter(kind="placement.safety_broken")
    assert {n.recipient for n in told} >= {maya, cora}
    url = reverse("support:placement", args=[placement.pk])
    assert all(n.url == url for n in told)
    for reader in (maya, cora):
        page = factories.signed_in_client(reader).get(url).content.decode()
        # The page the message sends them to says the place is now unsafe.
        assert "no longer meets a safety condition" in page, reader.email
