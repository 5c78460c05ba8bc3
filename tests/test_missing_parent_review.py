"""A parent missing with a dependent child: children's services get a link they can open."""

from __future__ import annotations

from opennrm.accounts.models import Organisation, User
from opennrm.notifications.models import Notification

from . import case_factories, factories
from . import support_plan_helpers as h


def test_childrens_services_told_of_a_missing_parent_can_follow_the_link(
    alice: User,
    cora: User,
    maya: User,
    lena: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The local authority's safeguarding lead is now told that an adult went missing with a
    dependent child (care.services._tell_leads_dependent_child_missing), with a link to the
    adult's case page. A lead may not open an adult's case, so the only link in an urgent
    missing-child message is a 404. The project's rule for news is that it never goes with a
    link its recipient cannot open (cases.selectors.referrers_to_tell: "the link would be a
    404 for them"; referrers_stand_in's notice "links to" a page they can open). Expected: the
    link in the lead's message opens for them (or there is none)."""
    from django.utils import timezone

    from opennrm.care import services as care
    from opennrm.safety import services as safety

    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    safety.dependant_add(
        by=alice, case=case, expected_version=None, relationship="child", sex="female", age_years=6
    )
    Notification.objects.all().delete()
    care.missing_report(
        by=cora, case=case, went_missing_on=timezone.localdate(), last_seen="By the back gate"
    )
    told = Notification.objects.get(recipient=lena, kind="missing.reported")
    assert told.url
    client = factories.signed_in_client(lena)
    client.raise_request_exception = False
    assert client.get(told.url).status_code == 200
