"""An adult still living in an adult house after their case closed, whose age is then
disputed: the dispute is recorded (they are treated as a child) and the house told. Found in
review: the whole dispute was refused, because a children's services task could not be opened
on a closed case."""

from __future__ import annotations

from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus, CloseReason
from opennrm.cases.models import Case
from opennrm.cases.services import case_close
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services

from . import case_factories
from . import support_factories as s


def test_age_dispute_on_a_closed_case_of_someone_living_in_an_adult_house_is_recorded(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    cora: User,
    maya: User,
    provider: Organisation,
    council: Organisation,
) -> None:
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RG_WITHDRAWN,
    )
    (bed,) = s.beds(maya, s.site(maya, provider, setting="mixed"))
    placement = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    accommodation.placement_respond(by=maya, placement=placement, accept=True)
    accommodation.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    fresh = Case.objects.get(pk=case.pk)
    case_close(by=dmitri, case=fresh, reason=CloseReason.LEFT, expected_version=fresh.version)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.CLOSED
    placement.refresh_from_db()
    assert placement.status == "occupied"  # closing the case left them in the adult house

    # The first responder / decision maker learns they may be 16.
    services.age_dispute_raise(
        by=dmitri, case=fresh, basis="says_so", expected_version=fresh.version
    )

    fresh.refresh_from_db()
    assert fresh.age_group == AgeGroup.PRESUMED_CHILD
    assert Notification.objects.filter(
        kind="placement.child_in_adult_house", recipient=maya
    ).exists()
