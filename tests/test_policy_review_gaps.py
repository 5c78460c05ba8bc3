"""Gaps in the policy profiles found by review (stop 35).

Northern Ireland's support for adults (Human Trafficking and Exploitation (Criminal Justice and
Support for Victims) Act (Northern Ireland) 2015 s.18(3)-(4)): support until the conclusive
determination and, if a positive one comes within "the period of 45 days ... from the date" of
the reasonable grounds determination, until the end of those 45 days. It is named for Northern
Ireland wherever it is shown, never as "support under the Scottish Act".

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import time_machine
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Jurisdiction, Role
from opennrm.care import reminders
from opennrm.cases import selectors as case_selectors
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.policy import clock

from . import case_factories, factories
from . import support_plan_helpers as h

UTC = timezone.get_fixed_timezone(0)


def test_a_positive_rg_in_northern_ireland_starts_the_45_days_of_support_of_the_ni_act() -> None:
    """What a decision maker saw: the case page showed "Recovery period ends" at day 30 and no
    support date; what should happen: an adult's support under s.18 runs at least to day 45."""
    decided = date(2026, 3, 2)
    clocks = clock.clocks_after_positive_rg(decided, "northern_ireland", adult=True)
    assert clocks.recovery_period_ends == date(2026, 3, 31)
    assert clocks.support_ends is not None, "no NI s.18 support period"
    assert clocks.support_ends >= decided + timedelta(days=44)
    # "from the date": day 1 is the day after the decision.
    assert clocks.support_ends == date(2026, 4, 16)
    assert (
        clock.clocks_after_positive_rg(decided, "northern_ireland", adult=False).support_ends
        is None
    )


def referred_in_northern_ireland(authority: Organisation, **fields: object) -> Case:
    force = factories.organisation("Loughmoor Police", jurisdiction=Jurisdiction.NORTHERN_IRELAND)
    fergal = factories.user("fergal@example.org", organisation=force, role=Role.FIRST_RESPONDER)
    return case_factories.case(
        referred_by=fergal, referring_organisation=force, authority=authority, **fields
    )


def test_the_case_page_and_the_reminders_name_northern_irelands_own_support_period(
    cora: User, maya: User, provider: Organisation, authority: Organisation
) -> None:
    """Named for Northern Ireland's Act, not Scotland's; and, as s.18 support runs until the
    conclusive decision, its date is an end (current on the case page, reminded) only after a
    positive conclusive decision made within the 45 days."""
    case = referred_in_northern_ireland(
        authority,
        status=CaseStatus.RECOVERY_PERIOD,
        consent_to_support=True,
        submitted_at=timezone.now() - timedelta(days=40),
    )
    assert case.support_ends is not None
    (row,) = [r for r in case_selectors.clocks_of(case) if r["name"] == "support_ends"]
    assert row["label"] == "Support under the Northern Ireland Act ends"
    assert "Scottish" not in str(row["label"]) + str(row["note"])
    assert "(Northern Ireland) 2015 s.18" in str(row["note"])
    assert not row["current"], "s.18 support runs until the conclusive decision"
    assert reminders.support_end(case) is None

    Case.objects.filter(pk=case.pk).update(status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS)
    case.refresh_from_db()
    (row,) = [r for r in case_selectors.clocks_of(case) if r["name"] == "support_ends"]
    assert row["current"]
    assert case_selectors.next_deadline(case) == row
    assert reminders.support_end(case) == (
        case.support_ends,
        "support under the Northern Ireland Act",
    )

    h.living(cora, maya, provider, case)
    day = case.support_ends - timedelta(days=3)
    with time_machine.travel(datetime.combine(day, time(6, 15), tzinfo=UTC), tick=False):
        reminders.run(day)
    (told,) = Notification.objects.filter(recipient=maya, kind="support.move_on_reminder")
    assert f"{case.reference}: support under the Northern Ireland Act ends on" in told.body
    assert "Scottish" not in told.body


def _ni_case_after_cg(
    authority: Organisation, dmitri: User, sally: User, *, positive: bool, day: str
) -> Case:
    from opennrm.decisions import services as decisions

    from .decision_helpers import fresh, positive_rg

    case = referred_in_northern_ireland(authority)
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        positive_rg(case, dmitri)
    assert fresh(case).support_ends == date(2026, 4, 16)
    with time_machine.travel(f"{day} 10:00:00+00:00", tick=False):
        answers: dict[str, str] = (
            {"outcome": "recognised_trafficking"}
            if positive
            else {"outcome": "insufficient_evidence", "negative_reason": "insufficient_information"}
        )
        drafted = decisions.decision_record_conclusive_grounds(
            by=dmitri,
            case=fresh(case),
            reasons="Reasons given.",
            expected_version=fresh(case).version,
            **answers,
        )
        if not positive:
            decisions.decision_approve(by=sally, decision=drafted, approve=True)
    return fresh(case)


def test_in_northern_ireland_a_positive_decision_within_the_45_days_keeps_support_to_day_45(
    authority: Organisation, dmitri: User, sally: User
) -> None:
    case = _ni_case_after_cg(authority, dmitri, sally, positive=True, day="2026-04-06")
    assert case.support_ends == date(2026, 4, 16)


def test_in_northern_ireland_a_negative_decision_ends_the_s18_support_on_its_day(
    authority: Organisation, dmitri: User, sally: User
) -> None:
    """s.18 support lasts until the conclusive decision; only a positive one within the 45
    days carries it on to their end."""
    case = _ni_case_after_cg(authority, dmitri, sally, positive=False, day="2026-04-06")
    assert case.support_ends == date(2026, 4, 6)


def test_in_northern_ireland_support_runs_until_a_late_positive_decision(
    authority: Organisation, dmitri: User, sally: User
) -> None:
    case = _ni_case_after_cg(authority, dmitri, sally, positive=True, day="2026-05-11")
    assert case.support_ends == date(2026, 5, 11)


def _positive_rg_letter(case: Case, dmitri: User, language: str) -> dict[str, str]:
    from opennrm.decisions.models import Letter

    from .decision_helpers import fresh, positive_rg

    case.person.languages = [language]
    case.person.save(update_fields=["languages"])
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        positive_rg(case, dmitri)
    letter = Letter.objects.get(case=fresh(case))
    assert letter.text is not None
    return {"language": letter.language, **letter.text}


def test_a_scottish_adults_positive_rg_letter_states_their_support_under_the_scottish_act(
    authority: Organisation, dmitri: User
) -> None:
    """The letter told a Scottish adult of the recovery period only: their 90 days of support
    under the 2015 Act (s.9), or to the final decision if sooner, are theirs to know."""
    case = case_factories.referred_in_scotland(authority)
    words = _positive_rg_letter(case, dmitri, "en")
    assert "Human Trafficking and Exploitation (Scotland) Act 2015" in words["next"]
    assert "30 May 2026" in words["next"]  # 2 March + 89 days: 90 days beginning with the day


def test_a_northern_ireland_adults_positive_rg_letter_states_their_support_to_the_decision(
    authority: Organisation, dmitri: User
) -> None:
    case = referred_in_northern_ireland(authority)
    words = _positive_rg_letter(case, dmitri, "en")
    assert "(Northern Ireland) 2015" in words["next"]
    assert "16 April 2026" in words["next"]


def test_the_jurisdictions_own_letter_never_takes_a_persons_own_language_away(
    authority: Organisation, dmitri: User
) -> None:
    """No Albanian text of Scotland's letter yet: an Albanian speaker gets the usual letter in
    Albanian, not Scotland's in English."""
    case = case_factories.referred_in_scotland(authority)
    words = _positive_rg_letter(case, dmitri, "sq")
    assert words["language"] == "sq"
    assert "Scotland" not in words["next"]
