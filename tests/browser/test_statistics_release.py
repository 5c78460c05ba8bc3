"""Issue 13's acceptance journey: an analyst prepares a quarterly release, a second analyst
approves it, and a signed-out visitor reads it on the public page (accessible, every chart with
its table, on a 375-pixel screen) and downloads the ODS, read back with odfpy: a cover sheet,
contents, notes and one sheet per table."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from odf import teletype
from odf.opendocument import load
from odf.table import Table, TableRow
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.cases.choices import AgeGroup
from opennrm.statistics.models import ReleaseVersion, VersionState
from tests import case_factories, factories

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")


def _signed_in(new_page, user: User) -> Page:
    factories.totp_device(user)
    page = new_page()
    _sign_in_with_device(page, user)
    return page


def _referrals() -> None:
    """Forty referrals in April to June 2024: thirty adults and ten children."""
    police = factories.organisation("Journey Police", Kind.STATUTORY_FIRST_RESPONDER)
    authority = factories.organisation("Journey Authority", Kind.COMPETENT_AUTHORITY)
    referrer = factories.user(organisation=police)
    for n in range(40):
        case_factories.case(
            referred_by=referrer,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup.CHILD if n % 4 == 0 else AgeGroup.ADULT,
            submitted_at=datetime(2024, 4, 1 + n % 30, 12, tzinfo=LONDON),
        )


def test_two_analysts_publish_a_release_and_anyone_reads_it(
    new_page, axe, monitoring: Organisation
) -> None:
    _referrals()
    ada = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada Preparer")
    ben = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ben Approver")

    # Analyst A prepares the release of April to June 2024.
    page = _signed_in(new_page, ada)
    page.goto("/statistics/releases/")
    axe.check(page)
    page.get_by_role("button", name="Prepare a release").click()
    expect(page.locator("h1")).to_have_text("Prepare a release")
    page.get_by_label("Year").fill("2024")
    page.get_by_label("Quarter").select_option("2")
    page.get_by_label("Title").fill("NRM statistics: April to June 2024")
    page.get_by_label("Notes for readers (optional)").fill("Figures for the journey test.")
    # A synthetic dataset with it: "Yes" reveals the epsilon, 1 unless changed.
    epsilon = page.get_by_label("Epsilon")
    expect(epsilon).to_be_hidden()
    page.get_by_label("Yes").check()
    expect(epsilon).to_be_visible()
    expect(epsilon).to_have_value("1")
    axe.check(page)
    page.get_by_role("button", name="Prepare the release").click()
    expect(page.locator("#four-eyes")).to_contain_text("another analyst must approve it")
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    axe.check(page)
    version = ReleaseVersion.objects.get()
    assert version.state == VersionState.AWAITING_APPROVAL
    assert version.synthetic.epsilon == 1

    # Analyst B approves it.
    approver = _signed_in(new_page, ben)
    approver.goto(f"/statistics/releases/{version.release_id}/1/")
    expect(approver.locator(".govuk-summary-list").first).to_contain_text(
        "Yes: epsilon 1, delta 1e-09"
    )
    axe.check(approver)
    approver.get_by_role("button", name="Approve and publish").click()
    expect(approver.get_by_role("link", name="See it on the public page")).to_be_visible()
    version.refresh_from_db()
    assert version.state == VersionState.PUBLISHED
    approver.set_viewport_size({"width": 375, "height": 812})
    for path in ("/statistics/releases/", f"/statistics/releases/{version.release_id}/revise/"):
        assert approver.goto(path).status == 200
        axe.check(approver)
        assert overflow(approver) <= 0, path

    # A signed-out visitor reads it on a small screen.
    visitor = new_page()
    visitor.set_viewport_size({"width": 375, "height": 812})
    visitor.goto("/official-statistics/")
    axe.check(visitor)
    visitor.get_by_role("link", name="NRM statistics: April to June 2024").click()
    expect(visitor.locator("h1")).to_have_text("NRM statistics: April to June 2024")
    expect(visitor.locator("#key-results")).to_contain_text(
        "In April to June 2024, 40 referrals were made"
    )
    expect(visitor.locator("#key-results")).to_contain_text("25% of them were children")
    axe.check(visitor)
    assert overflow(visitor) <= 0
    # Every chart has its table beside it: the chart's title is the table's caption.
    charts = visitor.locator("svg[role=img]")
    assert charts.count() == len(version.snapshot["sections"])
    for index in range(charts.count()):
        chart = charts.nth(index)
        title = chart.locator("title").text_content()
        table = chart.locator("xpath=following::table[1]")
        expect(table.locator("caption")).to_have_text(title or "")
    # The synthetic dataset's section says what it is and what it guarantees, and links it.
    synthetic = visitor.locator("#synthetic")
    expect(synthetic).to_contain_text("No row is a real person")
    expect(synthetic).to_contain_text("epsilon 1 and delta 1e-09 for each referral")
    expect(synthetic).to_contain_text("MST")
    with visitor.expect_download() as downloading:
        visitor.get_by_role("link", name="Download the synthetic dataset (CSV)").click()
    with open(downloading.value.path(), encoding="utf-8") as opened:
        assert opened.readline().startswith("yearOfRegistration,gender,ageBroad,citizenship")
    content = visitor.content()
    assert "Ada Preparer" not in content
    assert "Ben Approver" not in content

    # The visitor downloads the ODS, which opens with a cover sheet and one sheet per table.
    with visitor.expect_download() as downloading:
        visitor.get_by_role(
            "link", name="All the tables as an OpenDocument spreadsheet (ODS)"
        ).click()
    download = downloading.value
    assert download.suggested_filename.endswith(".ods")
    document = load(download.path())
    sheets = document.spreadsheet.getElementsByType(Table)
    names = [sheet.getAttribute("name") for sheet in sheets]
    tables = [t for section in version.snapshot["sections"] for t in section["tables"]]
    assert names == [
        "Cover_sheet",
        "Contents",
        "Notes",
        *(f"Table_{n}" for n in range(1, len(tables) + 1)),
    ]
    cover = teletype.extractText(sheets[0].getElementsByType(TableRow)[0])
    assert "NRM statistics: April to June 2024" in cover
    first_table = "\n".join(
        teletype.extractText(row) for row in sheets[3].getElementsByType(TableRow)
    )
    assert tables[0]["caption"] in first_table
    assert "Journey Authority" in first_table
