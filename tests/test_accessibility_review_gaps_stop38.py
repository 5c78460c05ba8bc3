"""Accessibility and error states found in review (stop 38): a missing date on an operation's
plan, and the statistics pages' error summaries, titles and table captions."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.urls import reverse

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.cases.choices import AgeGroup
from opennrm.operations.models import Operation
from opennrm.statistics import releases, tables
from tests import case_factories, factories
from tests import operation_helpers as op


def test_a_plan_sent_without_its_start_date_says_so_instead_of_failing(alice: User) -> None:
    """Alice, a police first responder planning an operation late at night on her phone, fills
    in the name, region and the numbers expected, but has not yet got the start date and sends
    the plan. OperationForm._clean_dates (operations/forms.py) adds "Enter the start date",
    which makes Django drop `starts_on` from cleaned_data, then reads `data["starts_on"]` and
    raises KeyError: she gets the 500 "Sorry, there is a problem with the service" page, loses
    everything she typed, and a screen reader hears no error summary pointing at the date.
    The plan should come back with "Error:" in the title and an error summary linking to the
    start date box (GOV.UK error summary and date input patterns, WCAG 3.3.1)."""
    data = op.plan_input(starts_on_day="", starts_on_month="", starts_on_year="")
    with time_machine.travel(op.BEFORE, tick=False):
        client = Client(raise_request_exception=False)
        signed_in = factories.signed_in_client(alice)
        client.cookies = signed_in.cookies
        response = client.post(reverse("operations:plan"), data)
    assert response.status_code == 200, (
        f"a plan sent without a start date gets a {response.status_code} page, not the form "
        "with its errors"
    )
    page = response.content.decode()
    assert "<title>Error:" in page
    assert 'href="#id_starts_on"' in page
    assert not Operation.objects.exists()


def test_changing_a_plan_and_clearing_both_dates_says_so_instead_of_failing(
    alice: User, northmoor_police
) -> None:
    """The lead changes an operation's plan (operations:edit) and clears the dates to re-enter
    them: the same KeyError in OperationForm._clean_dates gives a 500 page and the change is
    lost. The form should come back with "Enter the start date" and "Enter the end date" in an
    error summary linking to the date boxes."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        data = op.plan_input(
            starts_on_day="",
            starts_on_month="",
            starts_on_year="",
            ends_on_day="",
            ends_on_month="",
            ends_on_year="",
        )
        client = Client(raise_request_exception=False)
        client.cookies = factories.signed_in_client(alice).cookies
        response = client.post(reverse("operations:edit", args=[operation.id]), data)
    assert response.status_code == 200, (
        f"a changed plan without dates gets a {response.status_code} page, not the form with "
        "its errors"
    )
    page = response.content.decode()
    assert "Enter the start date" in page
    assert "Enter the end date" in page


LONDON = ZoneInfo("Europe/London")


def _analyst(monitoring: Organisation, name: str) -> User:
    return factories.user(organisation=monitoring, role=Role.ANALYST, full_name=name)


def _prepared(by: User) -> object:
    police = factories.organisation("Quarter Police", Kind.STATUTORY_FIRST_RESPONDER)
    authority = factories.organisation("Quarter Authority", Kind.COMPETENT_AUTHORITY)
    referrer = factories.user(organisation=police)
    for n in range(12):
        case_factories.case(
            referred_by=referrer,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup.ADULT,
            submitted_at=datetime(2024, 5, 1 + n, 12, tzinfo=LONDON),
        )
    return releases.prepare_release(
        by=Actor(by),
        period=tables.Period.quarter(2024, 2),
        jurisdiction=None,
        title="NRM statistics: April to June 2024",
    )


def test_the_extract_page_shows_one_error_summary_not_two(monitoring: Organisation) -> None:
    """Owen, an analyst, asks for the de-identified extract with the year mistyped ("20x5")
    and k too small. base.html already draws the error summary for any page whose `form` has
    errors, and statistics/extract.html draws its own as well, so the page has two "There is a
    problem" boxes, each a role="alert" that govuk-frontend focuses on load: a screen reader
    announces the same errors twice and the second box steals focus from the first, and on a
    phone the form is pushed a further screen down. There should be one error summary, at the
    top (remove the one in statistics/extract.html)."""
    analyst = _analyst(monitoring, "Owen Analyst")
    page = (
        factories.signed_in_client(analyst)
        .get("/statistics/extract/", {"year": "20x5", "k": "3"})
        .content.decode()
    )
    assert "Enter the year as four digits, like 2025" in page
    summaries = len(re.findall(r'class="govuk-error-summary"', page))
    assert summaries == 1, f"the page has {summaries} error summaries"


def test_a_refused_approval_puts_error_in_the_page_title(monitoring: Organisation) -> None:
    """Hana opens a release awaiting approval; meanwhile Owen, who prepared it, withdraws it.
    Hana presses "Approve and publish": the page comes back with status 400 and an error summary
    ("Version 1 is withdrawn: only a version awaiting approval can be approved"), but its
    <title> is the release's plain title. A screen reader user, who hears the title first when
    the page loads, is not told the approval failed (GOV.UK error summary pattern: add "Error: "
    to the start of the title; WCAG 3.3.1). statistics/release_version.html should override
    pageTitle with "Error: " when `refusal` is set, as support/site.html and operations/
    cancel.html do."""
    owen = _analyst(monitoring, "Owen Preparer")
    hana = _analyst(monitoring, "Hana Approver")
    version = _prepared(owen)
    releases.withdraw_draft(by=Actor(owen), version=version)
    response = factories.signed_in_client(hana).post(
        f"/statistics/releases/{version.release_id}/1/approve/"
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()
    assert title.startswith("Error:"), f"the refused approval's title is {title!r}"


def test_the_release_tables_have_a_caption_naming_them(monitoring: Organisation) -> None:
    """On the analysts' releases page (statistics/releases.html, macro version_rows) the
    "Awaiting approval", "Published" and "Withdrawn" tables have no <caption> (nor
    aria-label): a screen reader user jumping between tables (T key, or the tables list) hears
    "table, 4 columns" for each and cannot tell the release awaiting their approval from those
    already published. Every other table in the service carries a caption; these should too
    (GOV.UK table component: use a caption; WCAG 1.3.1)."""
    owen = _analyst(monitoring, "Owen Preparer")
    _prepared(owen)
    page = factories.signed_in_client(owen).get("/statistics/releases/").content.decode()
    found = re.findall(r"<table\b.*?</table>", page, re.S)
    assert found, "no table of releases"
    unnamed = [t for t in found if "<caption" not in t and "aria-label" not in t.split(">")[0]]
    assert not unnamed, f"{len(unnamed)} of {len(found)} release tables have no caption"
