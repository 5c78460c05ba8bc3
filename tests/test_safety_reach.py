"""What is recorded about a person's safety after they are housed reaches those who house them
(ADR 26, addendum of stop 29): a risk that rose, or whose reasons changed, reaches the house the
person lives in; any change to a child's profile reaches the local authority arranging the
child's accommodation. Each person is told once for one change, never of a place or of anyone
who exploited the person, with a link they may open; the change's one audit event counts who
was told."""

from __future__ import annotations

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services as safeguarding
from opennrm.safety import services as safety

from . import case_factories, factories
from . import support_plan_helpers as h


def _newest() -> int:
    """The newest notification's id (ids, not a count: PostgreSQL's sequence skips numbers)."""
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _told_since(before: int) -> list[Notification]:
    return list(Notification.objects.filter(pk__gt=before).select_related("recipient"))


def _last_profile_event() -> AuditEvent:
    event = AuditEvent.objects.filter(action__startswith="safety_profile.").order_by("-pk").first()
    assert event is not None
    return event


def test_a_risk_raised_to_very_high_reaches_the_house_the_person_lives_in(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The referrer learns the exploiter has found out where she is and raises the risk to very
    high. Only a change that breaks a matching constraint (a place, a women-only house) used to
    be told to the house; a new risk level and its reasons reached nobody who houses her."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    placement = h.living(cora, maya, provider, case)
    # A manager of the provider not assigned to the site, and another provider's coordinator
    # and manager: none of them runs the house.
    unassigned = factories.user(
        "uma@example.org", organisation=provider, role=Role.SAFE_HOUSE_MANAGER
    )
    elsewhere = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    other_coordinator = factories.user(
        "oscar@example.org", organisation=elsewhere, role=Role.SUPPORT_COORDINATOR
    )
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The controller has learnt which town she is in",
        exploiters="A man called 'Uncle'",
    )
    told = _told_since(before)
    assert sorted(n.recipient.email for n in told) == [cora.email, maya.email]
    assert unassigned not in {n.recipient for n in told}
    assert other_coordinator not in {n.recipient for n in told}
    for notification in told:
        assert notification.kind == "placement.risk_changed"
        assert "very high" in notification.subject
        text = notification.subject + notification.body
        assert "town" not in text
        assert "Uncle" not in text
        # The link is one they may open, and it shows the risk and its reasons.
        page = factories.signed_in_client(notification.recipient).get(notification.url)
        assert page.status_code == 200
        assert "The controller has learnt which town she is in" in page.content.decode()
    assert notification.url.endswith(f"/placements/{placement.pk}/")
    assert _last_profile_event().detail["told"] == {"house": 2}
    assert case.events.filter(kind="support.house_told_of_risk").count() == 1

    # New reasons for the same risk are told again; a lower risk or another field is not.
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="She has been followed home",
    )
    assert {n.recipient for n in _told_since(before)} == {cora, maya}
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="high",
        risk_reasons="She has been followed home",
        medical_needs="Inhaler",
    )
    assert _told_since(before) == []
    assert "told" not in _last_profile_event().detail


def test_a_change_that_breaks_the_place_and_raises_the_risk_is_told_once_to_each(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case, area="Hollowmere")
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The controller lives there",
        keep_away=["Hollowmere"],
    )
    told = _told_since(before)
    assert sorted(n.recipient.email for n in told) == [cora.email, maya.email]
    assert {n.kind for n in told} == {"placement.safety_broken"}
    assert all("Hollowmere" not in n.subject + n.body for n in told)
    assert _last_profile_event().detail["told"] == {"house": 2}


def test_a_place_to_keep_away_from_reaches_the_local_authority_housing_a_child(
    alice: User,
    cora: User,
    lena: User,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A child's accommodation is the local authority's task. A place to keep away from and a
    very high risk learnt afterwards are recorded on the profile, but the local authority that
    is arranging (or has arranged) the child's placement was never told: the only hook on a
    profile change was accommodation's, about adult placements."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        submitted_at=case_factories.REFERRED_AT,
    )
    task = safeguarding.children_accommodation_redirect(
        by=cora, case=child, needs=["bed_tonight"], due_on=timezone.localdate()
    )
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=child,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="Seen with the people who exploited him",
        exploiters="Two brothers, a red car",
        keep_away=["Dunmarsh"],
    )
    (told,) = _told_since(before)
    assert (told.recipient, told.kind) == (lena, "children.safety_changed")
    assert "very high" in told.subject
    text = told.subject + told.body
    for secret in ("Dunmarsh", "brothers", "Test Person"):
        assert secret not in text
    # The link is the local authority's open task, which shows the profile to its lead.
    assert told.url.endswith(f"/{task.pk}/")
    page = factories.signed_in_client(lena).get(told.url)
    assert page.status_code == 200
    assert "Seen with the people who exploited him" in page.content.decode()
    assert _last_profile_event().detail["told"] == {"local_authority": 1}

    # Once the task is done, a later change links to the case, which the lead may open.
    safeguarding.children_services_task_done(by=lena, task=task, outcome="Foster placement")
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=child,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="Seen with the people who exploited him",
        keep_away=["Dunmarsh", "Quayside"],
    )
    (told,) = _told_since(before)
    assert told.recipient == lena
    assert factories.signed_in_client(lena).get(told.url).status_code == 200


def test_an_adults_profile_change_does_not_reach_the_local_authority(
    alice: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    case = case_factories.consenting(alice, northmoor_police, authority)
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="Seen with the people who exploited her",
        keep_away=["Dunmarsh"],
    )
    assert _told_since(before) == []
