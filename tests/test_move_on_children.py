"""No adult move-on period for a child (ADR 0025, addendum of stop 29), and the move-on
reminders and support plan around it: the move-on periods of the England and Wales profiles are
the adult victim care contract's, so a positive conclusive decision for a child or a presumed
child starts none; the daily reminders leave out children, age-disputed people and closed cases,
and remind Scotland's support period before it ends; a plan measure's dates lie within the
case's life; the support plan shows the person's safety profile (Convention Art. 12(2))."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Jurisdiction
from opennrm.audit.models import AuditEvent
from opennrm.care import reminders
from opennrm.care import services as care
from opennrm.care.models import Measure, MeasureStatus, MoveOnReminder, SupportMeasure
from opennrm.cases import selectors as case_selectors
from opennrm.cases.choices import AgeGroup, CaseStatus, CloseReason
from opennrm.cases.models import Case
from opennrm.cases.services import case_close, support_running
from opennrm.decisions import services as decisions
from opennrm.notifications.models import Notification
from opennrm.policy import clock
from opennrm.policy.profiles import OutcomeKind, ProfileError, parse_profile, profile_for
from opennrm.safeguarding import services as safeguarding
from opennrm.safety import services as safety

from . import case_factories, factories
from . import support_factories as s
from . import support_plan_helpers as h

UTC = timezone.get_fixed_timezone(0)


def morning(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def run_on(day: date) -> reminders.RunResult:
    with time_machine.travel(datetime.combine(day, time(6, 15), tzinfo=UTC), tick=False):
        return reminders.run(day)


@pytest.fixture
def adult_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.consenting(
        alice, northmoor_police, authority, submitted_at=timezone.now()
    )


# --- No adult move-on period for a child --------------------------------------------------------


@pytest.mark.parametrize("age_group", [AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD])
def test_a_childs_conclusive_decision_starts_no_adult_move_on_period(
    age_group: AgeGroup,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A positive conclusive decision for a child (or age-disputed person) set the adult
    victim care contract's 45-day move-on end, which then drove the move-on reminders and the
    "move-on support ended" exit. A child's support is the local authority's and does not end
    with an adult move-on period."""
    referred_on = date(2026, 3, 2)
    with time_machine.travel(morning(referred_on), tick=False) as traveller:
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=age_group,
        )
        decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="positive",
            reasons="Credible account.",
            expected_version=case.version,
        )
        case.refresh_from_db()
        traveller.move_to(morning(case.conclusive_grounds_from))
        decisions.decision_record_conclusive_grounds(
            by=dmitri,
            case=case,
            outcome=next(
                o.code
                for o in profile_for(
                    case.jurisdiction, case.conclusive_grounds_from
                ).conclusive_grounds_outcomes
                if o.kind == OutcomeKind.POSITIVE
            ),
            reasons="Balance of probabilities.",
            expected_version=case.version,
        )
        case.refresh_from_db()
        assert case.status == CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
        assert case.move_on_ends is None, (
            f"an adult move-on end applied to a child: {case.move_on_ends}"
        )


def test_the_profiles_say_move_on_is_for_adults_and_the_clocks_follow() -> None:
    """The England and Wales profiles carry `"adults_only": true` on both move-on periods, as
    Scotland's carries it on its support period; the clocks start neither for a child."""
    decided = date(2026, 3, 2)
    profile = profile_for(Jurisdiction.ENGLAND_AND_WALES, decided)
    for period in (
        profile.move_on_after_positive_conclusive,
        profile.move_on_after_negative_conclusive,
    ):
        assert period is not None
        assert period.adults_only
        assert str(period).endswith("(adults)")
    for outcome in profile.conclusive_grounds_outcomes:
        adult = clock.clocks_after_conclusive(decided, profile.jurisdiction, outcome.code)
        child = clock.clocks_after_conclusive(
            decided, profile.jurisdiction, outcome.code, adult=False
        )
        assert adult.move_on_ends is not None
        assert child.move_on_ends is None
        assert child.reconsideration_closes == adult.reconsideration_closes
    with pytest.raises(clock.NotInProfile, match="adults only"):
        clock.move_on_end(decided, profile, positive=True, adult=False)


def test_a_profile_without_adults_only_keeps_its_move_on_for_everyone() -> None:
    """The flag is optional: a deployment's profile written before it existed means what it
    meant then (everyone), and a flag that is not true or false is reported."""
    text = (profile_for(Jurisdiction.ENGLAND_AND_WALES, date(2026, 3, 2)).source_file).strip()
    with open(text, encoding="utf-8") as file:
        bundled = file.read()
    plain = bundled.replace(',\n    "adults_only": true', "")
    assert '"adults_only"' not in plain
    profile = parse_profile(plain.replace('"ew-2023-01-30"', '"ew-test"'))
    assert profile.move_on_after_positive_conclusive is not None
    assert not profile.move_on_after_positive_conclusive.adults_only
    moved = clock.clocks_after_conclusive(
        date(2026, 3, 2), "england_and_wales", "recognised_slavery", adult=False, profile=profile
    )
    assert moved.move_on_ends == date(2026, 4, 16)
    with pytest.raises(ProfileError, match=r"move_on_after_positive_conclusive\.adults_only"):
        parse_profile(bundled.replace('"adults_only": true', '"adults_only": "yes"', 1))


# --- The move-on reminders ----------------------------------------------------------------------


@pytest.fixture
def recognised(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """An adult recognised as a victim, whose move-on support ends in 20 days."""
    return case_factories.consenting(
        alice,
        northmoor_police,
        authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        submitted_at=timezone.now(),
        move_on_ends=timezone.localdate() + timedelta(days=20),
    )


def test_no_adult_move_on_reminders_once_the_person_is_treated_as_a_child(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    recognised: Case,
) -> None:
    """Recognised as an adult victim (move-on ends in 20 days), living in an adult house, then
    their age is disputed: they are a presumed child, and the daily task no longer tells the
    house and the coordinators to "plan their move on" on the adult's timetable."""
    case, ends = recognised, recognised.move_on_ends
    h.living(cora, maya, provider, case)
    case.refresh_from_db()
    safeguarding.age_dispute_raise(
        by=alice, case=case, basis="says_so", expected_version=case.version
    )
    case.refresh_from_db()
    assert case.is_child
    run_on(ends - timedelta(days=7))
    assert not Notification.objects.filter(kind="support.move_on_reminder").exists()
    assert not MoveOnReminder.objects.exists()


def test_once_treated_as_a_child_the_adult_move_on_end_no_longer_runs(
    alice: User, recognised: Case
) -> None:
    """Recognised as an adult victim (move-on ends in 20 days), then their age is disputed: the
    case page no longer shows an adult's move-on as running, nor holds the case open for it;
    the date is kept, so that an assessment finding an adult brings it back."""
    case, ends = recognised, recognised.move_on_ends
    assert "move_on_ends" in [row["name"] for row in case_selectors.clocks_of(case)]
    assert support_running(case, timezone.localdate())
    safeguarding.age_dispute_raise(
        by=alice, case=case, basis="says_so", expected_version=case.version
    )
    case.refresh_from_db()
    assert case.is_child
    assert case.move_on_ends == ends
    assert "move_on_ends" not in [row["name"] for row in case_selectors.clocks_of(case)]
    assert case_selectors.next_deadline(case) is None
    assert not support_running(case, timezone.localdate())
    response = factories.signed_in_client(alice).get(reverse("cases:detail", args=[case.reference]))
    assert response.status_code == 200
    assert "Recovery period ends" in response.content.decode()
    assert "Move-on support ends" not in response.content.decode()


def test_no_move_on_reminders_for_a_closed_case(
    alice: User,
    dmitri: User,
    cora: User,
    maya: User,
    provider: Organisation,
    recognised: Case,
) -> None:
    """The case was closed (the person left the country) during move-on: no reminders go out
    for it."""
    case, ends = recognised, recognised.move_on_ends
    h.living(cora, maya, provider, case)
    case.refresh_from_db()
    case_close(by=dmitri, case=case, reason=CloseReason.LEFT, expected_version=case.version)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    run_on(ends - timedelta(days=7))
    assert not MoveOnReminder.objects.exists(), "a move-on reminder for a closed case"


def test_scotlands_support_period_is_reminded_before_it_ends(
    cora: User,
    maya: User,
    provider: Organisation,
    authority: Organisation,
) -> None:
    """Scotland sets no move-on period but a 90-day support period from the positive reasonable
    grounds decision (`case.support_ends`, 2015 Act s.9): the house and the coordinators are
    reminded before it ends, as before a move-on end."""
    case = case_factories.referred_in_scotland(
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        consent_to_support=True,
        submitted_at=timezone.now() - timedelta(days=80),
    )
    assert case.support_ends is not None
    assert case.move_on_ends is None
    h.living(cora, maya, provider, case)
    run_on(case.support_ends - timedelta(days=7))
    assert (
        MoveOnReminder.objects.exists()
        or Notification.objects.filter(recipient=maya, body__contains=case.reference).exists()
    ), "no reminder before the Scottish support period ends"
    (told,) = Notification.objects.filter(recipient=maya, kind="support.move_on_reminder")
    assert told.subject == "Support ends soon for 1 person"
    assert f"{case.reference}: support under the Scottish Act ends on" in told.body
    assert "move-on" not in told.body.split(".")[0]


def test_the_factory_gives_a_presumed_child_no_scottish_support_period(
    authority: Organisation,
) -> None:
    """The factory builds a presumed child as the decision service would: with no adult's
    Scottish support period (`Case.is_child` covers presumed children)."""
    case = case_factories.referred_in_scotland(
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        age_group=AgeGroup.PRESUMED_CHILD,
        submitted_at=timezone.now() - timedelta(days=80),
    )
    assert case.support_ends is None


def test_the_earlier_of_the_move_on_end_and_the_support_end_is_reminded(
    adult_case: Case,
) -> None:
    """Scotland's own support period counts while the recovery period lasts; a conclusive
    decision ends it (`decisions.services._effect` cuts `support_ends` to its day)."""
    today = timezone.localdate()
    adult_case.status = CaseStatus.RECOVERY_PERIOD
    adult_case.move_on_ends = today + timedelta(days=30)
    adult_case.support_ends = today + timedelta(days=5)
    assert reminders.support_end(adult_case) == (today + timedelta(days=5), reminders.OWN_SUPPORT)
    adult_case.status = CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
    assert reminders.support_end(adult_case) == (today + timedelta(days=30), reminders.MOVE_ON)
    adult_case.support_ends = None
    assert reminders.support_end(adult_case) == (today + timedelta(days=30), reminders.MOVE_ON)
    adult_case.move_on_ends = None
    assert reminders.support_end(adult_case) is None


# --- A plan measure's dates -----------------------------------------------------------------------


def test_a_measure_cannot_have_started_before_the_case_existed(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A service delivered before the referral is refused, and so is a plan measure "being
    provided" or "provided" that started (and ended) years before the person was referred."""
    case = case_factories.consenting(
        alice, northmoor_police, authority, submitted_at=timezone.now()
    )
    h.living(cora, maya, provider, case)
    long_ago = timezone.localdate() - timedelta(days=3 * 365)
    with pytest.raises(ValidationError) as refused:
        care.support_measure_update(
            by=cora,
            case=case,
            measure=Measure.EMERGENCY_MEDICAL,
            expected_version=1,
            status=MeasureStatus.PROVIDED,
            starts_on=long_ago,
            ends_on=long_ago + timedelta(days=2),
            outside_provider="Hollowmere Walk-in Centre",
        )
    problems = refused.value.message_dict
    assert problems["starts_on"] == [
        f"The start date cannot be before they were referred "
        f"({timezone.localdate(case.submitted_at):%-d %B %Y})"
    ]
    assert problems["ends_on"][0].startswith("The end date cannot be before they were referred")


def test_a_measure_planned_more_than_2_years_ahead_is_refused_and_within_is_kept(
    cora: User, adult_case: Case
) -> None:
    s.request(adult_case)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        care.support_measure_update(
            by=cora,
            case=adult_case,
            measure=Measure.TRANSLATION,
            expected_version=1,
            status=MeasureStatus.ARRANGED,
            starts_on=today + timedelta(days=30),
            ends_on=today + timedelta(days=3 * 365),
            outside_provider="Test interpreting service",
        )
    assert refused.value.message_dict == {"ends_on": ["The end date must be within 2 years"]}
    kept = care.support_measure_update(
        by=cora,
        case=adult_case,
        measure=Measure.TRANSLATION,
        expected_version=1,
        status=MeasureStatus.ARRANGED,
        starts_on=today,
        ends_on=today + timedelta(days=365),
        outside_provider="Test interpreting service",
    )
    assert (kept.starts_on, kept.ends_on) == (today, today + timedelta(days=365))


@pytest.mark.parametrize(("status", "year"), [("being_provided", "0001"), ("arranged", "9999")])
def test_a_support_measure_dated_in_the_year_1_or_9999_is_refused(
    cora: User, maya: User, provider: Organisation, adult_case: Case, status: str, year: str
) -> None:
    """A measure 'being provided since' the year 1, long before the referral, or 'arranged'
    to start in 9999, is refused, the form shown again naming the date."""
    s.request(adult_case)
    response = factories.signed_in_client(cora).post(
        f"/support/people/{adult_case.reference}/plan/measures/emergency_medical/",
        {
            "status": status,
            "starts_on_day": "1",
            "starts_on_month": "1",
            "starts_on_year": year,
            "provider": "",
            "outside_provider": "Test GP surgery",
            "notes": "",
            "expected_version": "1",
        },
    )
    saved = [m.starts_on for m in SupportMeasure.objects.filter(starts_on__isnull=False)]
    assert saved == [], f"saved as started on {saved}"
    assert response.status_code == 200, "refused, the form shown again"
    assert "The start date" in response.content.decode()


# --- The support plan shows the safety profile ----------------------------------------------------


def test_the_support_plan_shows_the_safety_profile(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Art. 12(2): assistance takes account of the person's safety and protection needs. The
    support plan page, where the measures are set (emergency medical treatment among them),
    shows the safety profile as the placement page does: the risk and the medical needs, never
    who exploited them nor where they must keep away from; the read names the fields shown."""
    case = case_factories.consenting(
        alice, northmoor_police, authority, submitted_at=timezone.now()
    )
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The controller has found her once before",
        medical_needs="Insulin twice a day",
        exploiters="A tall man called Testname",
        keep_away=["Hollowmere"],
    )
    h.living(cora, maya, provider, case)
    page = factories.signed_in_client(maya).get(f"/support/people/{case.reference}/plan/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Very high" in text
    assert "Insulin twice a day" in text
    assert "Testname" not in text
    assert "Hollowmere" not in text
    read = AuditEvent.objects.filter(action="person.viewed", actor=maya).latest("id")
    fields = read.detail["fields"]
    assert {"safety_risk_reasons", "safety_medical_needs"} <= set(fields)
    assert not {"safety_exploiters", "safety_keep_away"} & set(fields)
