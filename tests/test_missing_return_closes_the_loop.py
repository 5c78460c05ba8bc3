"""Review (safeguarding lead, support worker): when a person who was not referred by the police
goes missing, OpenNRM tells no police force; it asks the support staff to report them missing
to the police themselves ("report them missing to the police now"), and for a child in an area
OpenNRM knows no children's services for, to "contact the area's children's services now".
When the person comes back, the staff's message only says they are back: nobody is asked to
tell the police (whose missing-person report stays open, and who may keep searching or, worse,
treat a later disappearance as the same one), nor the children's services the staff alerted
(a missing child's return calls for a return interview). The loop the report opened is never
closed. `care.services._tell_about_missing`, the `returned` branch of `to_staff`.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.care import services as care
from opennrm.cases.choices import AgeGroup
from opennrm.notifications.models import Notification

from . import case_factories, factories
from . import support_plan_helpers as h

UTC = timezone.get_fixed_timezone(0)


def _charity_case(authority: Organisation, **fields):
    charity = factories.organisation(
        "Harbour Outreach", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    outreach = factories.user("sam@example.org", organisation=charity, role=Role.FIRST_RESPONDER)
    return case_factories.case(
        referred_by=outreach,
        referring_organisation=charity,
        authority=authority,
        consent_to_support=True,
        submitted_at=timezone.now() - timedelta(days=10),
        **fields,
    )


def _missing_then_back(by: User, case) -> None:
    today = timezone.localdate()
    episode = care.missing_report(
        by=by, case=case, went_missing_on=today - timedelta(days=1), last_seen="At the bus stop"
    )
    care.missing_return(by=by, episode=episode, returned_on=today)


def _body(email: str, kind: str) -> str:
    return Notification.objects.get(recipient__email=email, kind=kind).body


def test_staff_asked_to_report_to_the_police_are_asked_to_tell_them_of_the_return(
    cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    case = _charity_case(authority)
    h.living(cora, maya, provider, case)
    _missing_then_back(maya, case)
    assert "report them missing to the police now" in _body(cora.email, "missing.reported")
    back = _body(cora.email, "missing.returned")
    assert "police" in back.lower(), (
        "the coordinators reported the person missing to the police themselves, and are not "
        f"asked to tell the police they are back: {back!r}"
    )


def test_staff_asked_to_contact_childrens_services_are_asked_to_tell_them_of_the_return(
    cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    # An area OpenNRM knows no local authority or child guardian service for.
    child = _charity_case(authority, age_group=AgeGroup.CHILD, area="Nowhereshire")
    h.living(cora, maya, provider, child, ages="children")
    _missing_then_back(maya, child)
    assert "children's services now" in _body(cora.email, "missing.reported")
    back = _body(cora.email, "missing.returned")
    assert "children's services" in back, (
        "the staff alerted the area's children's services themselves, and are not asked to "
        f"tell them the child is back: {back!r}"
    )
