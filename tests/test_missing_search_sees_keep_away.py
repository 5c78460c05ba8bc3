"""Review: whoever is asked to act on a missing person sees where they must keep away from.

When a person not referred by the police goes missing, the support coordinators are told
"report them missing to the police now", linking to the missing episode page. The places the
person must keep away from (where the controller lives: the first place a search looks) are
left off that page (`care.views.episode`, `keep_away=False`), although the same coordinators
read them on the person's request pages. The one asked to brief the police is not shown them.
"""

from __future__ import annotations

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.care import services as care
from opennrm.notifications.models import Notification
from opennrm.safety import services as safety

from . import case_factories, factories
from . import support_plan_helpers as h


def test_the_coordinator_asked_to_tell_the_police_sees_the_places_to_keep_away_from(
    cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    charity = factories.organisation(
        "Harbour Outreach", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    outreach = factories.user("sam@example.org", organisation=charity, role=Role.FIRST_RESPONDER)
    case = case_factories.case(
        referred_by=outreach,
        referring_organisation=charity,
        authority=authority,
        given_names="Wenna Testcombe",
        consent_to_support=True,
    )
    safety.safety_profile_save(
        by=outreach,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The controller has threatened to take her back",
        keep_away=["Dunmarsh"],
        medical_needs="Asthma inhaler",
    )
    h.living(cora, maya, provider, case)
    care.missing_report(
        by=maya,
        case=case,
        went_missing_on=timezone.localdate(),
        last_seen="Left the house after breakfast",
    )
    message = Notification.objects.get(kind="missing.reported", recipient=cora)
    assert "report them missing to the police now" in message.body
    page = factories.signed_in_client(cora).get(message.url).content.decode()
    assert "Asthma inhaler" in page  # what the page does show
    assert "Dunmarsh" in page, "where the controller is is not on the page the search starts from"
