"""Review: the safety profile is shown only to those who act on the person.

The placement page shows the provider's safe-house managers the person's *current* risk, its
reasons, medical needs and dependants (ADR 26), read live from the profile. It keeps doing so
for every placement the provider ever had for the person: an offer it declined, an offer the
coordinator cancelled, a stay that ended when the person moved to another provider. A house
that no longer acts on the person keeps reading what is recorded about their safety now,
including reasons written after they left (where the controller found them next).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.safety import services as safety

from . import factories
from . import support_factories as s

LATER_REASONS = "The controller traced her to her new town and waits outside the college"


def _save(by: User, case: Case, reasons: str) -> None:
    safety.safety_profile_save(
        by=by,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons=reasons,
        medical_needs="Insulin twice a day",
    )


def test_a_provider_that_declined_the_offer_does_not_read_the_profile_written_afterwards(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    _save(alice, case, "The controller is looking for her")
    (bed,) = s.beds(maya, s.site(maya, provider, name="Moor House", area="Southvale"))
    offer = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    accommodation.placement_respond(by=maya, placement=offer, accept=False, reason="bed_not_ready")
    # Afterwards, with this house long out of the picture, the risk's reasons change.
    _save(alice, case, LATER_REASONS)
    page = factories.signed_in_client(maya).get(reverse("support:placement", args=[offer.pk]))
    assert LATER_REASONS not in page.content.decode()


def test_a_provider_whose_stay_ended_does_not_read_the_profile_written_afterwards(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    _save(alice, case, "The controller is looking for her")
    (bed,) = s.beds(maya, s.site(maya, provider, name="Moor House", area="Southvale"))
    stay = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    accommodation.placement_respond(by=maya, placement=stay, accept=True)
    today = timezone.localdate()
    accommodation.placement_arrive(by=maya, placement=stay, on=today)
    accommodation.placement_end(by=maya, placement=stay, on=today, reason="transferred")
    _save(alice, case, LATER_REASONS)
    page = factories.signed_in_client(maya).get(reverse("support:placement", args=[stay.pk]))
    assert LATER_REASONS not in page.content.decode()
