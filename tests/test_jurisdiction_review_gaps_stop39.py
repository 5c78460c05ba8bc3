"""Which nation's law governs a case, and what follows from it: stop 39 review gaps (a
reviewer playing first responders and decision makers across the UK's three jurisdictions)."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role
from opennrm.cases.choices import CaseStatus, CloseReason
from opennrm.cases.models import Case
from opennrm.cases.services import case_close, close_refusal
from opennrm.referrals import services
from opennrm.referrals.models import DutyToNotifyReport
from opennrm.statistics import tables
from tests import case_factories, decision_helpers, factories
from tests import referral_helpers as r

# --- 1. The duty to notify outside England and Wales -----------------------------------------
# The duty to notify (Modern Slavery Act 2015 s.52) binds public authorities in England and
# Wales only (FACTS 2.4). A Police Scotland or PSNI officer whose adult declines a referral has no
# such duty: the journey must not turn the refusal into a Home Office duty to notify report.


@pytest.mark.parametrize(
    ("jurisdiction", "area"),
    [(Jurisdiction.SCOTLAND, "Glasgow"), (Jurisdiction.NORTHERN_IRELAND, "Belfast")],
)
def test_a_police_force_outside_england_and_wales_files_no_duty_to_notify_report(
    db: None, routing, jurisdiction: Jurisdiction, area: str
) -> None:
    """Who is hurt: a Police Scotland (or PSNI) first responder and the adult who declined
    the NRM, whose refusal is filed with the Home Office as a statutory report under an English
    Act that does not apply to them; the UK duty to notify statistics then count Scottish and
    Northern Irish reports the Act never asked for.
    Now: `steps.with_organisation` decides the route by the organisation's kind only
    (`DUTY_TO_NOTIFY_KINDS`), so a statutory first responder of any jurisdiction is sent down
    the duty to notify route and `referral_submit` writes a `DutyToNotifyReport` (citing
    "Modern Slavery Act 2015, section 52").
    Should: for an organisation outside England and Wales an adult who does not consent leaves
    nothing to submit (as for a non-statutory first responder), and no report is written."""
    factories.organisation(
        f"{area} Council", OrganisationKind.LOCAL_AUTHORITY, jurisdiction=jurisdiction, area=area
    )
    force = factories.organisation(
        f"{area} police", OrganisationKind.STATUTORY_FIRST_RESPONDER, jurisdiction, area=area
    )
    officer = factories.user(organisation=force, role=Role.FIRST_RESPONDER)
    pages = {**r.DUTY_TO_NOTIFY, "exploitation": {**r.ANONYMOUS_EXPLOITATION, "area": area}}
    draft = r.draft_through_services(officer, force, pages)

    with contextlib.suppress(ValidationError):
        services.referral_submit(by=officer, draft=draft)

    assert not DutyToNotifyReport.objects.filter(organisation=force).exists(), (
        f"a {jurisdiction.label} police force was made to file a Modern Slavery Act s.52 report"
    )


def test_a_police_scotland_officer_is_told_a_refusal_leaves_nothing_to_submit(
    db: None, routing
) -> None:
    """Before the officer saves "No", the consent page says what follows: no anonymous report,
    as the duty to notify applies in England and Wales only (not "Police Scotland carries the
    duty to notify"); after it, the task list says there is nothing to submit."""
    force = factories.organisation(
        "Police Scotland", OrganisationKind.STATUTORY_FIRST_RESPONDER, Jurisdiction.SCOTLAND
    )
    officer = factories.user(organisation=force, role=Role.FIRST_RESPONDER)
    client = factories.signed_in_client(officer)
    draft = r.start(client)
    r.answer(client, draft, "age", r.ADULT)

    html = client.get(reverse("referrals:step", args=[draft.public_id, "consent"])).content
    assert "applies in England and Wales only" in html.decode()
    assert "Police Scotland carries the duty to notify" not in html.decode()

    r.answer(client, draft, "consent", r.DUTY_TO_NOTIFY["consent"])
    task_list = client.get(reverse("referrals:task_list", args=[draft.public_id])).content
    assert "there is nothing to submit" in task_list.decode()


# --- 2. A case's jurisdiction follows the person ---------------------------------------------
# Which nation's law governs a case. The referral asks "Which local authority area is the
# person in now? This decides who safeguards a child and where support is found", but the case's
# jurisdiction (and so its policy profile, its support period, its bank holidays and the release
# it is counted in) is copied from the referring organisation instead. A UK-wide first responder
# (a Home Office unit, set up as England and Wales) referring an adult found in Glasgow gives that
# person English rules.


def _refer_from_glasgow(routing) -> tuple[Case, object]:
    factories.organisation(
        "Glasgow City Council",
        OrganisationKind.LOCAL_AUTHORITY,
        jurisdiction=Jurisdiction.SCOTLAND,
        area="Glasgow",
    )
    home_office = factories.organisation(
        "Home Office Border Force (national)",
        OrganisationKind.STATUTORY_FIRST_RESPONDER,
        Jurisdiction.ENGLAND_AND_WALES,
        area="National",
    )
    officer = factories.user(organisation=home_office, role=Role.FIRST_RESPONDER)
    pages = {**r.ADULT_REFERRAL, "exploitation": {**r.EXPLOITATION, "area": "Glasgow"}}
    draft = r.draft_through_services(officer, home_office, pages)
    submitted = services.referral_submit(by=officer, draft=draft, check_earlier_referrals=False)
    return Case.objects.get(pk=submitted.case.pk), home_office


def test_an_adult_found_in_glasgow_gets_scotlands_90_days_whoever_referred_them(
    db: None, routing, dmitri
) -> None:
    """Who is hurt: an adult victim in Scotland referred by a UK-wide first responder (Border
    Force at Glasgow Airport, UKVI, the NCA), and the decision maker and Scottish support
    provider handling the case.
    Now: `referrals.services._open_case` sets `jurisdiction=organisation.jurisdiction`, so the
    case runs under `uk-nrm-england-and-wales`: no 90 days of support under the Human
    Trafficking and Exploitation (Scotland) Act 2015 s.9 (FACTS 2.8), an English move-on
    period, English bank holidays for the reasonable grounds target.
    Should: the case's jurisdiction is that of the area the person is in (the local authority
    the referral names, here a Scottish one), so a positive reasonable grounds decision gives
    an adult s.9 support to the 90th day."""
    case, _ = _refer_from_glasgow(routing)

    assert case.jurisdiction == Jurisdiction.SCOTLAND

    decided = decision_helpers.positive_rg(case, dmitri)
    today = timezone.localdate()
    assert decided.support_ends == today + timedelta(days=89)


def test_a_scotland_release_counts_a_referral_of_a_person_in_scotland(db: None, routing) -> None:
    """Who is hurt: readers of official statistics for Scotland (the Home Office publishes by
    UK nation and police force area, STATISTICS.md).
    Now: `tables.load_referrals(period, "scotland")` filters on the case's jurisdiction, copied
    from the referrer's organisation, so a referral of a person in Glasgow by a UK-wide first
    responder is counted in England and Wales and missing from Scotland's figures.
    Should: it is counted for Scotland, where the person was."""
    case, _ = _refer_from_glasgow(routing)
    day = timezone.localdate(case.submitted_at)
    period = tables.Period(day, day)

    scottish = tables.load_referrals(period, Jurisdiction.SCOTLAND)

    assert [x.area for x in scottish] == ["Glasgow"]


# --- 3. Northern Ireland's s.18 support ------------------------------------------------------
# Northern Ireland's support under the Human Trafficking and Exploitation (Criminal Justice and
# Support for Victims) Act (NI) 2015 s.18 (as amended in 2022): an adult is supported until the
# conclusive decision, and, if that is positive and made within 45 days of the positive
# reasonable grounds decision, at least to the end of those 45 days (`Case.support_ends`).


def _ni_case(authority, **fields) -> Case:
    psni = factories.organisation("PSNI Belfast", jurisdiction=Jurisdiction.NORTHERN_IRELAND)
    officer = factories.user(organisation=psni, role=Role.FIRST_RESPONDER)
    return case_factories.case(
        referred_by=officer, referring_organisation=psni, authority=authority, **fields
    )


def test_a_case_is_not_closed_as_support_ended_while_s18_support_still_runs(
    authority, dmitri
) -> None:
    """Who is hurt: an adult in Northern Ireland recognised as a victim within 45 days of the
    reasonable grounds decision, whose s.18 support runs to the 45th day (the case page and
    the RG letter told them so).
    Now: `cases.services.close_refusal` (through `support_running`) looks only at
    `move_on_ends`, which Northern Ireland's profiles never set, so the decision maker may close
    the case on the day of the positive conclusive decision for "Support and move-on support
    have ended" while support has weeks to run; closed, the case drops out of the support
    reminders (`care.reminders` excludes closed cases) and its retention clock starts.
    Should: as for an English case with move-on running, closing for "support ended" is refused
    until the s.18 date has passed."""
    case = _ni_case(authority, status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS)
    today = timezone.localdate()
    assert case.move_on_ends is None
    assert case.support_ends == today + timedelta(days=45)  # s.18: the Act's least

    assert close_refusal(case, CloseReason.SUPPORT_ENDED) is not None
    with pytest.raises(ValidationError):
        case_close(
            by=dmitri, case=case, reason=CloseReason.SUPPORT_ENDED, expected_version=case.version
        )


def test_the_case_page_does_not_say_s18_support_ended_while_the_conclusive_decision_is_awaited(
    authority, dmitri
) -> None:
    """Who is hurt: a Northern Ireland support worker or decision maker reading the case of an
    adult still awaiting the conclusive decision 60 days after a positive reasonable grounds
    decision, and the person, whose support must run until that decision (s.18(3)).
    Now: `cases.selectors.clocks_of` marks the row not `current` (own_support says the date is
    an end only after a positive conclusive decision), but `cases/detail.html` ignores
    `current` and prints "Support under the Northern Ireland Act ends <date> (15 days ago)", as
    if support had stopped.
    Should: while the conclusive decision is awaited the page does not present the 45th day as
    an end that has passed (leave the row out, or say support runs until the decision)."""
    referred = timezone.now() - timedelta(days=60)
    case = _ni_case(authority, status=CaseStatus.RECOVERY_PERIOD, submitted_at=referred)
    assert case.support_ends is not None
    assert case.support_ends < timezone.localdate()

    page = factories.signed_in_client(dmitri).get(reverse("cases:detail", args=[case.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    row = re.search(
        r"Support under the Northern Ireland Act ends</dt>\s*<dd[^>]*>(.*?)</dd>", html, re.S
    )
    shown = row.group(1) if row else ""
    assert f"{case.support_ends:%-d %B %Y}" not in shown or "ago" not in shown, shown


def test_after_a_positive_conclusive_decision_the_case_page_counts_down_s18_support(
    authority, dmitri
) -> None:
    """Once a positive conclusive decision is made, the 45th day is the end of s.18 support:
    the case page counts down to it, and closing for "support ended" names that support."""
    case = _ni_case(authority, status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS)
    page = factories.signed_in_client(dmitri).get(reverse("cases:detail", args=[case.reference]))
    row = re.search(
        r"Support under the Northern Ireland Act ends</dt>\s*<dd[^>]*>(.*?)</dd>",
        page.content.decode(),
        re.S,
    )
    assert row is not None
    assert "(45 days left)" in row.group(1)
    refusal = close_refusal(case, CloseReason.SUPPORT_ENDED)
    assert refusal is not None
    assert refusal.startswith("Support under the Northern Ireland Act runs until")
