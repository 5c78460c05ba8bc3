"""Demo work waiting for the demo logins, so that each role's home has something that needs it
(`pages/attention.py`): three fictional referrals from Harbour Light Outreach, one of them with
its reasonable grounds decision overdue and one due today (referred in the past, dated as the
clock would have dated them), one with a negative decision waiting for the senior decision
maker's approval; and two of them placed by the coordinator at the demo safe-house manager's
provider, one offer still to be answered and one accepted, the person expected.

It spans referrals, decisions and accommodation, so it is composed here, above those apps, after
their own demo data. Made through the real services, except the referral dates (the services
stamp the present). Idempotent: nothing is added once Harbour Light Outreach has referred.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from opennrm.accommodation import selectors as accommodation_selectors
from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.decisions.demo import decided_in_the_past
from opennrm.policy import clock
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.referrals.demo import REFERRALS
from opennrm.referrals.models import ReferralDraft

OUTREACH = "Harbour Light Outreach"
PROVIDER = "Lanternhouse Refuge Trust"
# (given names, family name, what the outreach worker saw), all fictional.
PEOPLE = [
    ("Mirela", "Exemplu", "Met at a drop-in after leaving a car wash (fictional demo case)."),
    ("Daniela", "Probova", "Came to the outreach van at night (fictional demo case)."),
    ("Ana", "Testeanu", "Referred on by a church volunteer (fictional demo case)."),
]


def _referral(given: str, family: str, account: str) -> dict[str, dict[str, Any]]:
    pages = copy.deepcopy(REFERRALS[0])
    pages["person"] |= {
        "given_names": given,
        "family_name": family,
        "language_1": "en",
        "interpreter_needed": "no",
    }
    pages["account"] = {"persons_account": "", "responders_account": account}
    pages["needs"] = {"needs": ["none"], "details": ""}
    return pages


def _referred_on_for_due(due: date, jurisdiction: str, *, before: bool) -> date | None:
    """The latest day a referral could have been made for its reasonable grounds decision to
    be due on `due` (`before`: due before it, overdue); None if no day gives that."""
    today = timezone.localdate()
    for days in range(1, 60):
        referred_on = today - timedelta(days=days)
        target = clock.reasonable_grounds_due(referred_on, jurisdiction)
        if (target < due) if before else (target == due):
            return referred_on
    return None


def _backdate(case: Case, referred_on: date | None) -> None:
    if referred_on is not None:
        referred = timezone.make_aware(datetime.combine(referred_on, time(10, 0)))
        decided_in_the_past(case, referred=referred, reasonable_grounds=None)


@transaction.atomic
def seed() -> None:
    outreach = Organisation.objects.get(name=OUTREACH)
    if ReferralDraft.objects.filter(organisation=outreach).exists():
        return
    worker = User.objects.get(email="outreach@demo.opennrm.test")
    cases = []
    for given, family, account in PEOPLE:
        draft = referrals.draft_start(by=worker, organisation=outreach)
        for slug, data in _referral(given, family, account).items():
            draft = referrals.draft_save_answers(
                by=worker, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
            )
        case = referrals.referral_submit(by=worker, draft=draft).case
        if case is None:  # an adult without consent: a report, not a case (never here)
            return
        cases.append(case)
    overdue, due_today, negative = cases
    today = timezone.localdate()
    _backdate(overdue, _referred_on_for_due(today, overdue.jurisdiction, before=True))
    _backdate(due_today, _referred_on_for_due(today, due_today.jurisdiction, before=False))

    decider = User.objects.get(email="decisions@demo.opennrm.test")
    negative.refresh_from_db()
    decisions.decision_record_reasonable_grounds(
        by=decider,
        case=negative,
        outcome="negative",
        negative_reason="no_purpose",
        reasons="The account does not show that the person was moved or housed with a view to "
        "exploiting them (fictional demo decision, waiting for a second decision maker).",
        expected_version=negative.version,
    )
    _place(overdue, due_today)


def _place(offered: Case, expected: Case) -> None:
    """A place offered to the safe-house manager's provider for one person, and one accepted
    for the other (each a bed of a site of theirs that the person may take)."""
    coordinator = User.objects.get(email="coordinator@demo.opennrm.test")
    manager = User.objects.get(email="safehouse@demo.opennrm.test")
    today = timezone.localdate()
    for case, accept in ((offered, False), (expected, True)):
        request = accommodation.placement_request_raise(
            by=coordinator, case=case, urgency="urgent", needed_from=today
        )
        if not isinstance(request, PlacementRequest):
            continue  # a child's need went to the local authority: no adult place to offer
        bed = next(
            (
                bed
                for bed, problems in accommodation_selectors.free_beds_for(request, today)
                if not problems and bed.room.site.provider.name == PROVIDER
            ),
            None,
        )
        if bed is None:
            continue
        placement = accommodation.placement_make(by=coordinator, request=request, bed=bed)
        if accept:
            accommodation.placement_respond(by=manager, placement=placement, accept=True)
