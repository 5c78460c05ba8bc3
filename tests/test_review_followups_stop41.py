"""Follow-ups of the reviews of stop 41: a Scottish extension letter granted after the s.9
support has ended says so instead of saying the support lasts until a day already past; the
page taking in a late reconsideration names in its audit the exceptional circumstances it shows
again; and the API's replay of a planned removal reads the removals through a selector (ADR
0017, addendum of stop 41).

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.decisions.letters import LetterText
from opennrm.decisions.models import Decision, Letter
from opennrm.protection import selectors as protection_selectors
from opennrm.protection import services as protection_services

from . import case_factories, factories
from .decision_helpers import fresh, positive_rg

RG_DAY = "2026-03-02 10:00:00+00:00"  # s.9 support: 90 days beginning with 2 March, to 30 May
EXTENDED = "2026-03-20 10:00:00+00:00"  # before the s.9 end
EXTENDED_AGAIN = "2026-06-10 10:00:00+00:00"  # after it, the recovery period still running


# --- A Scottish extension after the s.9 support has ended -------------------------------------


def _extend(case: Case, dmitri: User, moment: str, days: int) -> Decision:
    with time_machine.travel(moment, tick=False):
        case = fresh(case)
        return services.recovery_extend(
            by=dmitri, case=case, days=days, reasons="In hospital.", expected_version=case.version
        )


def _scottish_extended_twice(authority: Organisation, dmitri: User) -> tuple[Letter, Letter]:
    case = case_factories.referred_in_scotland(authority, given_names="Mirela")
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    with time_machine.travel(RG_DAY, tick=False):
        positive_rg(case, dmitri)
    assert fresh(case).support_ends == date(2026, 5, 30)
    first = _extend(case, dmitri, EXTENDED, 120)
    second = _extend(case, dmitri, EXTENDED_AGAIN, 10)
    case = fresh(case)
    assert case.recovery_period_ends == date(2026, 8, 8)
    # An extension does not move the s.9 end, counted from the reasonable grounds decision.
    assert case.support_ends == date(2026, 5, 30)
    return Letter.objects.get(decision=first), Letter.objects.get(decision=second)


def test_a_scottish_extension_after_the_s9_end_does_not_say_the_support_lasts_until_then(
    authority: Organisation, dmitri: User
) -> None:
    """Mirela, in Scotland, is in hospital: Dmitri extends her recovery period on 20 March and
    again on 10 June, after her s.9 support ended on 30 May (90 days from the positive
    reasonable grounds decision; an extension does not move it). The second letter should
    state the end recorded, say that support has already ended and whom to ask about support
    now; never that it "lasts until 30 May 2026", as it said before this follow-up."""
    _, after = _scottish_extended_twice(authority, dmitri)
    words = LetterText.from_json(after.text)
    assert after.issued_on == date(2026, 6, 10)
    assert words.language == "en"
    assert "8 August 2026" in words.next
    assert "lasts until 30 May 2026" not in words.next
    assert "30 May 2026" in words.next
    assert "that support has already ended" in words.next
    assert "what support you can get now" in words.next
    assert after.dates_stated == {
        "recovery_period_ends": "2026-08-08",
        "support_ends": "2026-05-30",
    }


def test_a_scottish_extension_before_the_s9_end_still_states_that_end(
    authority: Organisation, dmitri: User
) -> None:
    """The first extension, on 20 March, was granted while Mirela's s.9 support ran: its letter
    (the same text) should state that it ends on 30 May 2026, and say it has ended only if that
    day is before the letter's, which it is not: nothing in it tells her it is over."""
    before, _ = _scottish_extended_twice(authority, dmitri)
    words = LetterText.from_json(before.text)
    assert before.issued_on == date(2026, 3, 20)
    assert "29 July 2026" in words.next
    assert "30 May 2026" in words.next
    assert "If 30 May 2026 is before the date of this letter, that support has already ended" in (
        words.next
    )
    assert words.next.count("has already ended") == 1
    assert "You keep your support" not in words.next
    assert before.dates_stated == {
        "recovery_period_ends": "2026-07-29",
        "support_ends": "2026-05-30",
    }


# --- The late take-in page's audit of what it shows again --------------------------------------

REFUSED_RG = "2026-03-02 10:00:00+00:00"  # reconsideration until 1 April
LATE = "2026-05-04 10:00:00+00:00"


def _page_reads_after(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=mark, action="person.viewed").order_by("pk"))


def _post_late(case: Case, sally: User, grounds: str, circumstances: str) -> tuple[str, list[str]]:
    """The page Sally is shown after posting, and the fields its one read event names."""
    mark = AuditEvent.objects.order_by("pk").last()
    assert mark is not None
    html: str = (
        factories.signed_in_client(sally)
        .post(
            reverse("cases:reconsideration_take_late", args=[case.reference]),
            {
                "asked_by": "person",
                "received_on_day": "30",
                "received_on_month": "4",
                "received_on_year": "2026",
                "grounds": grounds,
                "circumstances": circumstances,
                "expected_version": fresh(case).version,
            },
        )
        .content.decode()
    )
    reads = _page_reads_after(mark.pk)
    assert len(reads) == 1, reads
    assert reads[0].person_id == case.person_id
    return html, sorted(reads[0].detail["fields"])


def test_the_late_take_in_page_names_the_circumstances_it_shows_again(
    case: Case, dmitri: User, sally: User
) -> None:
    """Sally takes in a late request: she types the exceptional circumstances but forgets the
    grounds. The page shows her circumstances again, free text about the person: its read
    event should name the circumstances field (`late_circumstances`), not the grounds, which
    were not shown."""
    with time_machine.travel(REFUSED_RG, tick=False):
        case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    with time_machine.travel(LATE, tick=False):
        html, fields = _post_late(
            case, sally, "", "In hospital from before the decision until April."
        )
    assert "Enter why the decision should be reconsidered" in html
    assert "In hospital from before the decision until April." in html
    assert fields == ["late_circumstances"]


def test_the_late_take_in_page_names_both_fields_when_it_shows_both(
    case: Case, dmitri: User, sally: User
) -> None:
    """Sally types both the grounds and the circumstances but a received day in the future: the
    page shows both again, and its read event should name both fields."""
    with time_machine.travel(REFUSED_RG, tick=False):
        case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    with time_machine.travel("2026-04-20 10:00:00+00:00", tick=False):
        html, fields = _post_late(case, sally, "A report from the GP.", "In hospital until April.")
    assert "A report from the GP." in html
    assert "In hospital until April." in html
    assert fields == ["late_circumstances", "reconsideration_grounds"]


# --- The planned removals a key was used for, read through a selector --------------------------


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def test_the_removal_key_selector_answers_for_the_user_who_used_it(
    ivan: User,
    border_enforcement: Organisation,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Ivan's system recorded a planned removal under key sync-0001. The selector the API asks
    before replaying a request refused only for its day should say that Ivan used that key,
    and not that he used another, nor that anyone else used his."""
    with time_machine.travel("2026-03-09 10:00:00+00:00", tick=False):
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        protection_services.planned_removal_record(
            by=ivan,
            organisation=border_enforcement,
            reference=case.reference,
            planned_on=date(2026, 3, 10),
            submission_key="sync-0001",
        )
    assert protection_selectors.planned_removal_key_used(ivan, "sync-0001")
    assert not protection_selectors.planned_removal_key_used(ivan, "sync-0002")
    assert not protection_selectors.planned_removal_key_used(alice, "sync-0001")
