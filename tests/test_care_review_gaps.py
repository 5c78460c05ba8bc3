"""Gaps a review found in care (missing episodes, the support plan, the placement page) and
casework: a child reported missing who turns 18 while missing, a parent missing with a dependent
child where OpenNRM knows no children's services, move-on shown as ended while a reconsideration
waits, and free text about the person shown again after a refusal with no read recorded."""

from __future__ import annotations

import importlib
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.care import selectors as care_selectors
from opennrm.care import services as care
from opennrm.care.models import ChildMissing, MissingEpisode
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, Person
from opennrm.notifications.models import Notification
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding.coming_of_age import years_later
from opennrm.safety import services as safety

from . import case_factories, factories
from . import support_plan_helpers as h

# --- A child reported missing by the local authority turns 18 while still missing.


def test_the_local_authority_told_of_a_missing_child_is_told_they_are_back_after_they_turn_18(
    alice: User,
    cora: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Lena, the council's safeguarding lead, reports a 17-year-old on the children's pathway
    missing (ADR 15, stop 29: the local authority reports its children). The child turns 18
    while still missing, and the daily task moves the case to the adult pathway
    (`safeguarding.coming_of_age`; the council's duties to a care leaver go on, ADR 25). A
    support coordinator then records that the young person is back. ADR 15 says "the same
    people are told of the return", and the return message is what lets children's services
    hold a return interview; but `care.services._tell_about_missing` recomputes who to tell
    from the case's age group now (`childrens_services = case.is_child or ...`), so the council
    that was told of the missing child, and acted on it, is never told they are back (and can no
    longer open the episode: `missing_episodes_visible_to` goes by `children_acted_for`).
    Expected: whoever in children's services was told of the missing child is told of the
    return."""
    today = timezone.localdate()
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=years_later(today, -18),  # 18 today
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    episode = care.missing_report(
        by=lena,
        case=case,
        went_missing_on=today - timedelta(days=3),
        last_seen="Left the children's home after school",
    )
    assert coming_of_age.run(today).turned_18 == 1
    case = Case.objects.get(pk=case.pk)
    assert case.age_group == AgeGroup.ADULT

    care.missing_return(by=cora, episode=episode, returned_on=today)

    assert Notification.objects.filter(recipient=lena, kind="missing.returned").exists(), (
        "the council that reported the missing child is not told they are back"
    )


def test_the_council_still_opens_and_closes_the_episode_of_its_child_who_turned_18(
    alice: User,
    lena: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The same young person, 18 now and still missing: the council that reported them keeps
    the episode on its caseload (the reference only: the adult's case is no longer theirs to
    open), opens it, and records the return itself; the note of the return links to the
    episode (`MissingEpisode.child_missing`, kept from the report)."""
    today = timezone.localdate()
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=years_later(today, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    episode = care.missing_report(
        by=lena, case=case, went_missing_on=today - timedelta(days=3), last_seen="Left at night"
    )
    assert episode.child_missing == ChildMissing.PERSON
    coming_of_age.run(today)
    client = factories.signed_in_client(lena)
    caseload = client.get(reverse("safeguarding:caseload")).content.decode()
    assert reverse("support:missing_episode", args=[episode.pk]) in caseload
    assert reverse("cases:detail", args=[case.reference]) not in caseload
    url = reverse("support:missing_episode", args=[episode.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "returned_on_day": today.day,
            "returned_on_month": today.month,
            "returned_on_year": today.year,
        },
    )
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.returned_on == today


def test_episodes_reported_before_the_field_are_read_back_as_they_were_told(
    alice: User,
    cora: User,
    lena: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The migration that adds `child_missing` reads older episodes as the code then did: a
    child's as a child's, a parent's as one with a dependent child when the timeline says
    children's services were told (or the staff asked to) between the report and the return,
    anyone else's as no child."""
    migration = importlib.import_module(
        "opennrm.care.migrations.0003_missing_episode_child_missing"
    )
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    parent = case_factories.consenting(alice, northmoor_police, authority)
    adult = case_factories.consenting(alice, northmoor_police, authority)
    for case in (parent, adult):
        h.living(cora, maya, provider, case)
    safety.dependant_add(
        by=alice, case=parent, expected_version=None, relationship="child", sex="male", age_years=4
    )
    today = timezone.localdate()
    episodes = [
        care.missing_report(by=by, case=case, went_missing_on=today, last_seen="Gone")
        for by, case in ((lena, child), (cora, parent), (cora, adult))
    ]
    MissingEpisode.objects.update(child_missing=ChildMissing.NO)
    migration.as_reported(django_apps, None)
    assert [MissingEpisode.objects.get(pk=e.pk).child_missing for e in episodes] == [
        ChildMissing.PERSON,
        ChildMissing.WITH_THEM,
        ChildMissing.NO,
    ]


# --- A support worker reports a parent missing with a dependent child: what the reporter is told.


def test_reporter_of_a_parent_missing_with_a_child_is_told_to_contact_childrens_services(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Maya, the safe-house manager, reports a mother missing; her safety profile records a
    five-year-old daughter placed with her. The case's area (Elsewhere) has no local authority
    or child guardian service in OpenNRM. ADR 15's addendum says the child is taken to be
    missing with her and, where OpenNRM knows no lead, the support staff are asked to contact
    the area's children's services now (the timeline says exactly that). But the reporter is
    left out of the staff message (`_tell_about_missing` skips `by`), and the report page and
    the success message (`care.views._reported_message`, `leads_known`) look only at
    `case.is_child`: Maya is told "The police contact, the competent authority have been told"
    and nothing about a missing child. Expected: as for a missing child, the reporter is told
    that nobody in children's services could be told and to contact them now."""
    case = case_factories.consenting(alice, northmoor_police, authority, area="Elsewhere")
    h.living(cora, maya, provider, case)
    safety.dependant_add(
        by=alice, case=case, expected_version=None, relationship="child", sex="female", age_years=5
    )
    client = factories.signed_in_client(maya)
    today = timezone.localdate()
    response = client.post(
        f"/support/people/{case.reference}/missing/",
        {
            "went_missing_on_day": str(today.day),
            "went_missing_on_month": str(today.month),
            "went_missing_on_year": str(today.year),
            "last_seen": "Left by the back gate with her daughter",
        },
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "children&#39;s services" in page or "children's services" in page, (
        "the reporter is never told a child is missing with the parent, nor to contact "
        "children's services"
    )


# --- A safe-house manager's placement page and support plan while a negative conclusive decision is
# being reconsidered and the move-on end it set has passed (ADR 15, addendum "move-on runs on while
# a reconsideration waits").


UTC = timezone.get_fixed_timezone(0)


def test_the_placement_page_does_not_say_move_on_ended_while_a_reconsideration_waits(
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
    authority: Organisation,
) -> None:
    """The referrer asked for the negative conclusive decision to be reconsidered; ten days on
    it is still waiting, past the move-on end that decision set. Support runs on while it waits
    (`cases.services.support_running`; the reminders stop and `placement_end` refuses the
    reason "move-on support ended"). Yet Maya's placement page (accommodation.views.end_form_for)
    still says "Move-on support ended on ...", fills the exit form with that date and picks the
    reason "move-on support ended" for her; sending it is refused with "Move-on support runs
    until <a day already past>: it had not ended". Expected: while a reconsideration waits, the
    page says support runs on and does not offer the move-on-ended exit."""
    case, placement = h.reconsidering_while_living(
        alice, cora, maya, northmoor_police, provider, authority
    )
    later = case.move_on_ends + timedelta(days=5)
    with time_machine.travel(datetime.combine(later, time(10, 0), tzinfo=UTC), tick=False):
        client = factories.signed_in_client(maya)
        page = client.get(reverse("support:placement", args=[placement.pk])).content.decode()
    assert "Move-on support ended on" not in page, (
        "the placement page says move-on support has ended while the reconsideration waits"
    )
    assert 'value="move_on_ended" checked' not in page


def test_the_support_plan_does_not_end_accommodation_while_a_reconsideration_waits(
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
    authority: Organisation,
) -> None:
    """Same person, same day. The support plan's accommodation row follows the placement and
    runs "until" the move-on end (care.selectors._accommodation_from_placements, via
    accommodation.selectors.adult_move_on_ends), a day already past, though support runs on
    while the reconsideration waits. Expected: no end date on the accommodation while the
    reconsideration waits (as the reminders and the exit rule treat it)."""
    case, _ = h.reconsidering_while_living(alice, cora, maya, northmoor_police, provider, authority)
    later = case.move_on_ends + timedelta(days=5)
    with time_machine.travel(datetime.combine(later, time(10, 0), tzinfo=UTC), tick=False):
        row = next(r for r in care_selectors.plan_rows(case) if r.measure == "accommodation")
    assert row.ends_on is None or row.ends_on >= later, (
        f"the plan says accommodation ends {row.ends_on}, a day past, while support runs on"
    )


# --- Free text about the person, typed into a casework or care form and shown again after a
# refusal, is a read of their details like any other (the convention of referrals.views and
# decisions.views: "What was typed, shown again after a refusal: free text about the person").


SECRET = "Her brother Arben in Luton still calls her at night"


def _reads(user: User) -> list[list[str]]:
    return [
        e.detail.get("fields", [])
        for e in AuditEvent.objects.filter(action="person.viewed", actor=user).order_by("pk")
    ]


@pytest.mark.parametrize(
    ("who", "path", "data", "field"),
    [
        # A note without "who may read it": the note's text is shown again.
        ("dmitri", "/cases/{ref}/notes/new/", {"text": SECRET}, "case_notes"),
        # A measure without a status: the notes typed are shown again.
        (
            "maya",
            "/support/people/{ref}/plan/measures/counselling/",
            {"notes": SECRET, "expected_version": "1"},
            "support_notes",
        ),
        # A service delivered without its day: what was delivered is shown again.
        (
            "maya",
            "/support/people/{ref}/plan/delivered/",
            {
                "measure": "counselling",
                "outside_provider": "Luton Counselling",
                "description": SECRET,
            },
            "services_delivered",
        ),
        # A missing report without its day: where they were last seen is shown again.
        ("maya", "/support/people/{ref}/missing/", {"last_seen": SECRET}, "missing_last_seen"),
    ],
    ids=["case note", "plan measure notes", "service delivered", "missing last seen"],
)
def test_text_about_the_person_shown_again_after_a_refusal_is_recorded_as_read(
    who: str,
    path: str,
    data: dict[str, str],
    field: str,
    alice: User,
    cora: User,
    maya: User,
    dmitri: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A caseworker types free text about the person (a note, a plan measure's notes, what was
    delivered, where they were last seen) and leaves out a required answer. The page comes back
    with the text in the box (as it should: no lost input), but no read is recorded, though the
    same text shown on any other page is read-audited (ADR 15, ADR 27) and the referral and
    decision forms record exactly this re-showing (`referrals.views`, `decisions.views`: "shown
    again after a refusal: free text about the person"). The data-protection officer's "who
    looked at this person" page then misses who had it on screen. Expected: a `person.viewed`
    event naming the field, as the other forms record."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    user = {"dmitri": dmitri, "maya": maya}[who]
    before = len(_reads(user))
    response = factories.signed_in_client(user).post(path.format(ref=case.reference), data)
    assert response.status_code == 200
    assert SECRET in response.content.decode().replace("&#39;", "'")
    shown = [fields for fields in _reads(user)[before:]]
    assert any(field in fields for fields in shown), (
        f"the {field} typed were shown again with no read recorded (reads: {shown})"
    )


def test_the_authority_told_of_a_return_hears_its_suspended_decision_can_be_made(
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A reasonable grounds decision suspended while the person was missing waits apart on the
    queue; the decision makers told of the return are told it can be made now."""
    from .decision_helpers import rg

    today = timezone.localdate()
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        consent_to_support=True,
        submitted_at=timezone.now() - timedelta(days=10),
    )
    h.living(cora, maya, provider, case)
    episode = care.missing_report(
        by=cora, case=case, went_missing_on=today - timedelta(days=3), last_seen="At the station"
    )
    rg(case, dmitri, "suspended", "Missing before a decision.")
    care.missing_return(by=cora, episode=episode, returned_on=today)
    [told] = Notification.objects.filter(recipient=dmitri, kind="missing.returned")
    assert "suspended while they were missing can be made now" in told.body
