"""Review gaps of stop 38 in protection and the children's pathway: an adult exploited as a
child keeps that answer through an age dispute; a child who turned 18 is not shown as having
refused consent; an age dispute says whether children's services were told; a removal planned
for a child alerts the local authority and the guardian service (ADR 0025, 0040)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup, ExploitationAgeGroup
from opennrm.cases.models import Case, CaseEvent, Person
from opennrm.notifications.models import Notification
from opennrm.protection.services import planned_removal_record
from opennrm.safeguarding import coming_of_age, services
from tests import case_factories, factories


def test_an_assessment_finding_an_adult_keeps_the_referrers_answer_child_at_exploitation(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
) -> None:
    """Who is hurt: a person trafficked at 15 and referred at 19, whose age is then disputed
    (they say they are 17) and whom the local authority's assessment finds to be an adult.

    What happens: the referrer answered "Yes, under 18 when the exploitation began", so the
    case was "child at the time of exploitation". The dispute sets it to "child" (right), but
    the assessment finding an adult now sets it to "not known"
    (`cases.services.case_age_group_change`: `was != ADULT` -> NOT_KNOWN), as if the "child"
    had only followed from the disputed age. The referrer's own answer about the past is lost:
    the decision maker can now refuse for "no means" (a child needs none, CETS art. 4(c)), the
    decision page no longer says "Child at the time of exploitation", and the official tables
    count a child victim as "not specified".

    What should happen: an assessment of the age now says nothing about the age when the
    exploitation began; the answer the referrer gave before the dispute ("child") is kept."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.ADULT,
        age_group_at_exploitation=ExploitationAgeGroup.CHILD,
    )
    case.refresh_from_db()
    assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD
    services.age_dispute_raise(by=dmitri, case=case, basis="says_so", expected_version=case.version)
    case.refresh_from_db()
    services.age_assessment_record(
        by=lena,
        case=case,
        outcome="adult",
        assessed_on=timezone.localdate(),
        reasons="Assessed as about 19.",
        expected_version=case.version,
    )
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
    assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD, (
        "the referrer's answer 'under 18 when the exploitation began' was lost: now "
        f"{case.age_group_at_exploitation!r}"
    )
    assert case.exploited_as_child, "no_means would now be accepted for a child victim"


def test_a_child_who_turned_18_is_not_shown_as_having_refused_referral_and_support(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Who is hurt: a child referred at 17 (no consent asked: a child needs none) who turns 18
    while the case is open, and the coordinator or decision maker who reads their case.

    What happens: the daily task moves the case to the adult pathway and tells the
    coordinators "if they need an adult place, ask for one". The case page's "Consent" row
    then reads `To referral: no; to support: no`
    (`templates/cases/detail.html`: `"yes" if case.consent_to_support else "no"`, with the
    stored value None: never asked). The person is recorded as having refused both the
    referral and support, which they never did: a coordinator reading it does not seek the
    place the person needs, and a decision maker reads a referral made without consent.

    What should happen: a consent never asked is shown as such (for example "Not asked: they
    were referred as a child"), never as "no", as the referrer's PDF copy already says
    ("Not asked")."""
    today = timezone.localdate()
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=coming_of_age.years_later(today, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    assert coming_of_age.run(today).turned_18 == 1
    case = Case.objects.get(pk=case.pk)
    assert case.age_group == AgeGroup.ADULT
    assert case.consent_to_referral is None
    assert case.consent_to_support is None

    page = factories.signed_in_client(alice).get(reverse("cases:detail", args=[case.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    shows_refused_referral = "To referral: no" in html
    shows_refused_support = "to support: no" in html
    assert not shows_refused_referral, (
        "a person referred as a child, never asked, is shown as having refused the referral"
    )
    assert not shows_refused_support, (
        "a person referred as a child, never asked, is shown as having refused support"
    )


def test_a_dispute_in_an_area_with_no_local_authority_is_not_said_to_have_told_it(
    case: Case, dmitri: User
) -> None:
    """Who is hurt: a person referred as an adult who says they are 16, in an area whose
    council does not (yet) use OpenNRM; and the decision maker who records the dispute.

    What happens: `safeguarding.views.age_dispute` always says "The local authority and the
    guardian service of their area have been told", and the timeline says nothing more. But
    `services._tell_age_disputed` found no safeguarding lead in the area and told nobody: no
    council is asked to arrange an age assessment, and nobody looks after the child, while the
    decision maker believes children's services have it in hand and makes no call.

    What should happen: as `redirect_message` already does for a child's accommodation need,
    the page (and the timeline) say plainly that nobody at the area's children's services uses
    OpenNRM, so they were not told, and that the decision maker must contact them today."""
    assert not Organisation.objects.filter(
        kind=OrganisationKind.LOCAL_AUTHORITY, area=case.area
    ).exists()
    client = factories.signed_in_client(dmitri)
    response = client.post(
        reverse("safeguarding:age_dispute", args=[case.reference]),
        {"basis": "says_so", "version": case.version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    # Nobody in children's services was told: there is nobody there to tell.
    childrens_services = [OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE]
    assert not Notification.objects.filter(
        kind="case.age_disputed",
        recipient__memberships__organisation__kind__in=childrens_services,
    ).exists()
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    claims_told = "local authority and the guardian service of their area have been told" in said
    assert not claims_told, f"the decision maker was told children's services know: {said!r}"


def test_a_removal_planned_for_a_protected_child_alerts_children_s_services(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    """Who is hurt: a 16-year-old (or a person whose age is disputed, treated as a child)
    awaiting a reasonable grounds decision, whom an immigration enforcement unit plans to
    remove next week; and the local authority that accommodates them.

    What happens: `protection.services.planned_removal_record` alerts only those the NRM
    source names (`protection.selectors.case_finding`: the competent authority's decision
    makers and the referring first responder), exactly as for an adult. The safeguarding leads
    of the council that looks after the child (ADR 0025: a child is the local authority's
    responsibility) and the child trafficking guardian service (whose role is to speak for the
    child with immigration authorities) hear nothing; only a timeline entry records it, on a
    case they have no reason to open that day.

    What should happen: for a case treated as a child, the area's local authority and guardian
    service safeguarding leads are alerted too, by reference, as the other children's news is
    (an age dispute, a missing child)."""
    officer = factories.user(
        "ivan-protect@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Ivan Ives",
    )
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
    )
    recorded = planned_removal_record(
        by=officer,
        organisation=border_enforcement,
        reference=child.reference,
        planned_on=timezone.localdate() + timedelta(days=7),
    )
    assert recorded.protection.protected
    told = {n.recipient for n in Notification.objects.filter(kind="protection.planned_removal")}
    assert dmitri in told
    assert alice in told
    assert lena in told, "the council looking after the child was not told of its removal"
    assert gail in told, "the child's guardian service was not told of its removal"


# --- What the fixes keep ------------------------------------------------------------------------


def _disputed_then_found_adult(case: Case, dmitri: User, lena: User) -> Case:
    services.age_dispute_raise(by=dmitri, case=case, basis="says_so", expected_version=case.version)
    case.refresh_from_db()
    services.age_assessment_record(
        by=lena,
        case=case,
        outcome="adult",
        assessed_on=timezone.localdate(),
        reasons="Assessed as about 25.",
        expected_version=case.version,
    )
    case.refresh_from_db()
    return case


def test_an_adult_who_answered_adult_or_not_known_keeps_that_answer_after_an_assessment(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
) -> None:
    """Whatever the referrer answered before the dispute comes back, twice disputed or not."""
    for answer in (ExploitationAgeGroup.ADULT, ExploitationAgeGroup.NOT_KNOWN):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group_at_exploitation=answer,
        )
        case = _disputed_then_found_adult(case, dmitri, lena)
        assert case.age_group_at_exploitation == answer
        case = _disputed_then_found_adult(case, dmitri, lena)
        assert case.age_group_at_exploitation == answer


def test_a_person_referred_as_age_disputed_and_found_an_adult_is_not_known_at_exploitation(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    lena: User,
) -> None:
    """Treated as a child since the referral, nobody was asked: "child" followed from the age
    now found wrong, so it becomes "not known", never "adult" (ADR 0042)."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
    )
    case.refresh_from_db()
    assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD
    services.age_assessment_record(
        by=lena,
        case=case,
        outcome="adult",
        assessed_on=timezone.localdate(),
        reasons="Assessed as about 19.",
        expected_version=case.version,
    )
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
    assert case.age_group_at_exploitation == ExploitationAgeGroup.NOT_KNOWN


def test_an_adult_who_refused_support_is_still_shown_as_refusing_it(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Only a consent never asked reads "not asked": a refusal is a "no"."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        consent_to_referral=True,
        consent_to_support=False,
    )
    page = factories.signed_in_client(alice).get(reverse("cases:detail", args=[case.reference]))
    html = page.content.decode()
    assert "To referral: yes; to support: no" in html
    assert "Not asked" not in html


def test_a_dispute_where_children_s_services_use_opennrm_says_they_were_told(
    case: Case, dmitri: User, lena: User, gail: User
) -> None:
    """The page and the timeline say the council was told and asked to assess, and the
    guardian service told, naming the council."""
    client = factories.signed_in_client(dmitri)
    response = client.post(
        reverse("safeguarding:age_dispute", args=[case.reference]),
        {"basis": "says_so", "version": case.version},
    )
    assert response.status_code == 302
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Test Council children's services have been told" in said
    assert "The child trafficking guardian service has been told" in said
    entry = CaseEvent.objects.get(case=case, kind="safeguarding.age_dispute_told")
    assert entry.data == {"local_authority": 1, "guardian_service": 1}
    assert entry.description in said


def test_the_timeline_says_nobody_at_children_s_services_was_told(case: Case, dmitri: User) -> None:
    """With nobody there in OpenNRM, the timeline tells whoever reads the case to contact them."""
    services.age_dispute_raise(by=dmitri, case=case, basis="says_so", expected_version=case.version)
    entry = CaseEvent.objects.get(case=case, kind="safeguarding.age_dispute_told")
    assert entry.description.startswith(
        "Nobody at the local authority for Testshire children's services uses OpenNRM, so they "
        "have not been told: contact them directly today"
    )
    assert entry.data == {"local_authority": 0, "guardian_service": 0}


def test_a_removal_planned_for_an_adult_does_not_alert_children_s_services(
    case: Case,
    border_enforcement: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    """An adult's removal is the competent authority's and the referrer's news only."""
    officer = factories.user(
        "ivan-adult@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Ivan Ives",
    )
    planned_removal_record(
        by=officer,
        organisation=border_enforcement,
        reference=case.reference,
        planned_on=timezone.localdate() + timedelta(days=7),
    )
    told = {n.recipient for n in Notification.objects.filter(kind="protection.planned_removal")}
    assert dmitri in told
    assert lena not in told
    assert gail not in told
