"""Missing children and the risk they run (stop 29; ADR 0015's addendum): a missing child is
reported as a child to everyone told, with the risk level of their safety profile; the local
authority reports, finds and lists the children of its area missing now; an adult missing
whose age becomes disputed is a missing child to it; nobody is recorded as told who was not;
episodes never overlap, nor end before they were reported; and a report sent just after
someone else's keeps what was typed."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.care import services as care
from opennrm.care.models import MissingEpisode
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, CaseEvent
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services as safeguarding
from opennrm.safety import services as safety

from . import case_factories, factories
from . import support_plan_helpers as h

LAST_SEEN = "Seen leaving by the back gate at dusk"
RISK_REASONS = "The controller has threatened to take her back"


def report(by: User, case: Case, days_ago: int = 0, at: time | None = None) -> MissingEpisode:
    return care.missing_report(
        by=by,
        case=case,
        went_missing_on=timezone.localdate() - timedelta(days=days_ago),
        went_missing_time=at,
        last_seen=LAST_SEEN,
    )


def notes_to(user: User, kind: str = "missing.reported") -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


def very_high_risk(by: User, case: Case) -> None:
    safety.safety_profile_save(
        by=by,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons=RISK_REASONS,
    )


def report_form(**changes: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "went_missing_on_day": str(today.day),
        "went_missing_on_month": str(today.month),
        "went_missing_on_year": str(today.year),
        "last_seen": LAST_SEEN,
    } | changes


def _errors(html: str) -> list[str]:
    """The texts of the field error messages on a GOV.UK page."""
    found = re.findall(
        r'<p id="[^"]*" class="govuk-error-message">\s*<span class="govuk-visually-hidden">'
        r"Error:</span>(.*?)</p>",
        html,
        flags=re.S,
    )
    return [" ".join(text.split()) for text in found]


@pytest.fixture
def adult_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.consenting(alice, northmoor_police, authority)


# --- A missing child is reported as a child (S3) ---------------------------------------------


def test_the_police_are_told_that_the_missing_person_is_a_child(
    alice: User,
    cora: User,
    maya: User,
    lena: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A missing child is an emergency for the police too: the referring force's first
    responders are told it is a child, urgently."""
    child = case_factories.consenting(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    h.living(cora, maya, provider, child, ages="children")
    report(cora, child)
    [to_police] = notes_to(alice)
    assert "child" in (to_police.subject + to_police.body).lower()
    assert to_police.subject.startswith("Urgent")
    assert "Treat this as a missing child" in to_police.body


def test_staff_asked_to_tell_the_police_are_told_it_is_a_child(
    cora: User,
    maya: User,
    lena: User,
    provider: Organisation,
    authority: Organisation,
) -> None:
    """Not referred by the police: the coordinators are asked to report the person missing to
    the police, as a missing child (an age-disputed person is treated as one)."""
    charity = factories.organisation("Harbour Outreach", "non_statutory_first_responder")
    sam = factories.user("sam@example.org", organisation=charity, role="first_responder")
    child = case_factories.consenting(sam, charity, authority, age_group=AgeGroup.PRESUMED_CHILD)
    h.living(cora, maya, provider, child, ages="children")
    episode = report(maya, child)
    [to_cora] = notes_to(cora)
    assert "report them missing to the police now" in to_cora.body
    assert "as a missing child" in to_cora.body
    assert "child" in (to_cora.subject + to_cora.body).lower()
    care.missing_return(by=maya, episode=episode, returned_on=timezone.localdate())
    [back] = notes_to(cora, "missing.returned")
    assert "the child reported missing is back" in back.subject


# --- The risk level travels with the report (S4, S5) -----------------------------------------


def test_the_risk_level_reaches_those_told_of_a_missing_person(
    alice: User,
    cora: User,
    maya: User,
    dmitri: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A very high risk recorded in the safety profile is passed on with the missing report and
    the return: the level, never its reasons."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    very_high_risk(alice, case)
    h.living(cora, maya, provider, case)
    episode = report(maya, case)
    for told in (alice, cora, dmitri):
        [note] = notes_to(told)
        assert "very high" in (note.subject + note.body).lower(), told.email
        assert RISK_REASONS not in note.body
    care.missing_return(by=maya, episode=episode, returned_on=timezone.localdate())
    for told in (alice, cora, dmitri):
        [note] = notes_to(told, "missing.returned")
        assert "very high" in note.body.lower(), told.email


@pytest.mark.page("support:missing_episode")
def test_the_missing_episode_page_shows_the_risk(
    alice: User,
    cora: User,
    maya: User,
    omar: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The page of the missing report, where staff act (and record the return), shows the
    safety profile as the placement page does, and records the read of its fields."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    very_high_risk(alice, case)
    h.living(cora, maya, provider, case)
    episode = report(maya, case)
    page = factories.signed_in_client(cora).get(f"/support/missing/{episode.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Very high" in html
    assert RISK_REASONS in html
    assert "Who exploited them" not in html
    [read] = AuditEvent.objects.filter(action="person.viewed", actor=cora)
    assert read.detail["fields"] == ["missing_last_seen", "safety_risk_reasons"]
    assert factories.signed_in_client(omar).get(f"/support/missing/{episode.pk}/").status_code == (
        404
    )
    assert factories.signed_in_client(cora).put(f"/support/missing/{episode.pk}/").status_code == (
        405
    )


# --- Episodes in order (S6, S7) ----------------------------------------------------------------


def test_a_person_cannot_be_missing_twice_at_once(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A new episode cannot start inside an earlier, closed one (missing 10 to 2 days ago, and
    "again" from 5 days ago); the same day as the return, only at a time after it."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    # Reported on the day they went missing, 10 days ago (a return cannot precede the report).
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        h.living(cora, maya, provider, case)
        first = report(maya, case)
    care.missing_return(
        by=maya,
        episode=first,
        returned_on=timezone.localdate() - timedelta(days=2),
        returned_time=time(8, 15),
    )
    with pytest.raises(ValidationError) as inside:
        report(maya, case, days_ago=5)
    assert "went_missing_on" in inside.value.message_dict
    with pytest.raises(ValidationError, match="enter the time they went missing"):
        report(maya, case, days_ago=2)
    with pytest.raises(ValidationError, match="must be after that"):
        report(maya, case, days_ago=2, at=time(8, 0))
    again = report(maya, case, days_ago=2, at=time(21, 30))
    assert again.is_open


def test_found_before_being_reported_missing_is_refused(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Reported missing today (as gone 10 days ago), then recorded as back 5 days ago: back
    before anyone reported them missing is refused."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    episode = report(maya, case, days_ago=10)
    with pytest.raises(ValidationError) as refused:
        care.missing_return(
            by=maya, episode=episode, returned_on=timezone.localdate() - timedelta(days=5)
        )
    assert "before the day they were reported missing" in str(refused.value.message_dict)
    episode.refresh_from_db()
    assert episode.is_open


# --- Children's services told, or not (S8, S9) ----------------------------------------------


def test_no_false_record_that_the_local_authority_was_told(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A child missing in an area where OpenNRM knows no local authority: nobody from children's
    services is told, the timeline says so, and the staff are asked to contact them."""
    child = case_factories.consenting(
        alice, northmoor_police, authority, age_group=AgeGroup.CHILD, area="Fenmoor"
    )
    h.living(cora, maya, provider, child, ages="children")
    report(maya, child)
    told_leads = Notification.objects.filter(
        kind="missing.reported", subject__startswith="Child missing"
    ).count()
    assert told_leads == 0
    assert not CaseEvent.objects.filter(
        case=child, kind="support.missing_safeguarding_told"
    ).exists(), "the timeline says the local authority was told when nobody was"
    assert CaseEvent.objects.filter(
        case=child, kind="support.missing_safeguarding_not_told"
    ).exists()
    [to_cora] = notes_to(cora)
    assert "contact the area's children's services now" in to_cora.body


def test_an_adult_missing_whose_age_becomes_disputed_is_a_missing_child_to_the_council(
    alice: User,
    cora: User,
    maya: User,
    lena: User,
    gail: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Reported missing as an adult, then their age is disputed (now a presumed child): the
    local authority and the guardian service are told that this child is missing now."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    report(maya, case)
    case.refresh_from_db()
    safeguarding.age_dispute_raise(
        by=alice, case=case, basis="document", expected_version=case.version
    )
    for lead in (lena, gail):
        [missing] = notes_to(lead)
        assert missing.subject == f"Child missing in Testshire: {case.reference}"
        assert "act today" in missing.body
    assert CaseEvent.objects.filter(case=case, kind="support.missing_safeguarding_told").exists()
    event = AuditEvent.objects.get(action="age_dispute.raised")
    assert event.detail["told"]["missing_child_leads"] == 2


# --- The local authority reports and lists its missing children (S10, S11) --------------------


@pytest.mark.page("support:missing_report")
def test_the_local_authority_can_report_a_child_in_its_care_missing(
    alice: User,
    lena: User,
    gail: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A child on the children's pathway (accommodated by the local authority, never a placement
    request) is reported missing by the local authority's safeguarding lead, from the case page;
    the police and the competent authority are told, and the lead records the return. The child
    guardian service's lead, who does not act for the child, gets 404."""
    child = case_factories.consenting(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    episode = report(lena, child)
    assert episode.pk
    assert notes_to(alice), "the police"
    assert notes_to(dmitri), "the competent authority"
    care.missing_return(by=lena, episode=episode, returned_on=timezone.localdate())

    other = case_factories.consenting(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    client = factories.signed_in_client(lena)
    case_page = client.get(f"/cases/{other.reference}/").content.decode()
    assert f"/support/people/{other.reference}/missing/" in case_page
    form = client.get(f"/support/people/{other.reference}/missing/")
    assert form.status_code == 200
    assert "Report that the child has gone missing" in form.content.decode()
    response = client.post(
        f"/support/people/{other.reference}/missing/", report_form(went_missing_time="00:00")
    )
    reported = MissingEpisode.objects.get(case=other)
    assert response.status_code == 302
    assert response["Location"] == f"/support/missing/{reported.pk}/"
    page = client.get(f"/support/missing/{reported.pk}/")
    assert LAST_SEEN in page.content.decode()
    assert AuditEvent.objects.filter(action="person.viewed", actor=lena).exists()
    assert client.put(f"/support/people/{other.reference}/missing/").status_code == 405
    guardian = factories.signed_in_client(gail)
    assert guardian.get(f"/support/people/{other.reference}/missing/").status_code == 404
    assert guardian.get(f"/support/missing/{reported.pk}/").status_code == 404
    adult = case_factories.consenting(alice, northmoor_police, authority)
    assert client.get(f"/support/people/{adult.reference}/missing/").status_code == 404
    with pytest.raises(ValidationError, match="Only support coordinators"):
        report(lena, adult)


@pytest.mark.page("safeguarding:caseload")
def test_a_missing_child_is_on_the_local_authoritys_caseload(
    alice: User,
    cora: User,
    maya: User,
    lena: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The local authority's caseload ("what needs doing today for the children of the area")
    lists the children missing now, and its home page counts them (`care.selectors.
    children_missing_now`, added to the caseload by `care.apps`: safeguarding imports nothing
    of care)."""
    child = case_factories.consenting(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    h.living(cora, maya, provider, child, ages="children")
    episode = report(maya, child)
    page = factories.signed_in_client(lena).get("/children/")
    assert page.status_code == 200
    html = page.content.decode()
    assert child.reference in html, "a missing child is not on the caseload"
    assert "<strong>1</strong> child missing now" in html
    assert f"/support/missing/{episode.pk}/" in html
    assert LAST_SEEN not in html
    home = factories.signed_in_client(lena).get("/").content.decode()
    assert "1 child in your area missing now" in home
    care.missing_return(by=maya, episode=episode, returned_on=timezone.localdate())
    home = factories.signed_in_client(lena).get("/").content.decode()
    assert "in your area missing now" not in home


# --- What was typed is kept; one message for one mistake (I4, I5) ----------------------------


def test_a_report_sent_after_someone_elses_keeps_what_was_typed(
    cora: User,
    maya: User,
    provider: Organisation,
    adult_case: Case,
) -> None:
    """Maya opened the report form; Cora reported the person missing meanwhile. Maya's report
    is refused, and shown again with what she typed and a link to Cora's."""
    h.living(cora, maya, provider, adult_case)
    today = timezone.localdate()
    first = care.missing_report(
        by=cora, case=adult_case, went_missing_on=today, last_seen="Left after breakfast"
    )
    typed = "Seen by the night manager at the Dunmarsh bus stop, 23:10, with a tall man"
    response = factories.signed_in_client(maya).post(
        f"/support/people/{adult_case.reference}/missing/", report_form(last_seen=typed)
    )
    assert MissingEpisode.objects.count() == 1
    assert response.status_code == 200, "the form shown again, with the refusal"
    html = response.content.decode()
    assert typed in html
    assert "already recorded as missing since" in html
    assert f"/support/missing/{first.pk}/" in html


def test_a_missing_time_too_long_gets_one_message(
    cora: User, maya: User, provider: Organisation, adult_case: Case
) -> None:
    """A time too long for the box is refused once, naming the field."""
    h.living(cora, maya, provider, adult_case)
    response = factories.signed_in_client(maya).post(
        f"/support/people/{adult_case.reference}/missing/",
        report_form(went_missing_time="21:30pm", last_seen="At the bus station"),
    )
    assert response.status_code == 200
    (shown,) = [e for e in _errors(response.content.decode()) if "time they went missing" in e]
    assert shown.count("time they went missing") == 1, shown
