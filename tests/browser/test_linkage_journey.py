"""Issue 15's journey: one fictional person is referred by a police force (her name in Cyrillic,
born 3 July 1999) and then by a charity (her name in Latin letters, the day and month of birth
read the other way). The check at submission, with a model trained on synthetic people,
proposes the pair; the decision maker sees the flag on the charity's case, compares the two
records with the waterfall of match weights, confirms they are one person, and the case page
shows the police referral linked; an analyst's count of people referred in the quarter drops by
one while the count of referrals does not. Every page passes axe, the pair page on a 375-pixel
screen too, and every page that showed a name was audited."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.models import Case
from opennrm.linkage import engine, prepare, synthetic
from opennrm.linkage.models import CandidatePair, ClusterMember, PairStatus
from opennrm.linkage.services import linkage_model_store
from tests import factories
from tests import referral_helpers as r

from .test_narrow_screen import overflow
from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, user: User) -> None:
    TOTPDevice.objects.filter(user=user).update(last_t=-1)
    _sign_in_with_device(page, user)


def refer(by: User, organisation: Organisation, person: dict[str, str]) -> Case:
    """A referral through the referral services, whose submission runs the linkage check."""
    from opennrm.referrals import services as referrals

    pages = {**r.ADULT_REFERRAL, "person": {**r.PERSON, "aliases": "", **person}}
    draft = r.draft_through_services(by, organisation, pages)
    case = referrals.referral_submit(by=by, draft=draft).case
    assert case is not None
    return case


def test_a_decision_maker_reviews_a_possible_earlier_referral_and_links_it(
    new_page,
    axe,
    reads,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    routing: Organisation,
    monitoring: Organisation,
) -> None:
    # A model trained on 300 synthetic people (60 referred twice), stored as a run stores it.
    truth = synthetic.people(300, duplicates=60, seed=99)
    linkage_model_store(
        splink_settings=engine.train([prepare.prepare(p) for p in truth.records]),
        trained_on_records=len(truth.records),
    )
    charity = factories.organisation(
        "Haven Charity", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    hana = factories.user(
        "hana@example.org", organisation=charity, role=Role.FIRST_RESPONDER, full_name="Hana Hale"
    )
    police_case = refer(
        alice,
        northmoor_police,
        {
            "given_names": "Юлия",
            "family_name": "Иванова",
            "date_of_birth_day": "3",
            "date_of_birth_month": "7",
            "date_of_birth_year": "1999",
            "nationality_1": "UA",
        },
    )
    charity_case = refer(
        hana,
        charity,
        {
            "given_names": "Yuliya",
            "family_name": "Ivanova",
            "date_of_birth_day": "7",
            "date_of_birth_month": "3",
            "date_of_birth_year": "1999",
            "nationality_1": "UA",
        },
    )
    # Four more people referred by each, alike but for their names and dates of birth, so that
    # no cell of the analyst's tables is too small to publish (disclosure control would show
    # "[c]" for a count under five, and for enough others to hide it).
    others = ["Mara Testeva", "Dina Probova", "Lena Vzorova", "Ira Obraztsova"]
    for n, name in enumerate(others * 2):
        given, family = name.split()
        by, organisation = (alice, northmoor_police) if n < len(others) else (hana, charity)
        refer(
            by,
            organisation,
            {
                "given_names": given,
                "family_name": f"{family}{'' if n < len(others) else 'ich'}",
                "date_of_birth_day": str(n + 1),
                "date_of_birth_month": str(n + 1),
                "date_of_birth_year": str(1980 + n),
                "nationality_1": "UA",
            },
        )
    today = timezone.localdate()
    tables = (
        f"/statistics/tables/?year={today.year}&quarter={(today.month - 1) // 3 + 1}&jurisdiction="
    )
    analyst = factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ana Lyst")
    factories.totp_device(analyst)
    analyst_page = new_page()
    sign_in(analyst_page, analyst)
    analyst_page.goto(tables)
    expect(analyst_page.locator("#referral-count")).to_have_text("10")
    expect(analyst_page.locator("#people-count")).to_have_text("10")
    axe.check(analyst_page)

    pair = CandidatePair.objects.get(case_a=police_case, case_b=charity_case)
    assert pair.status == PairStatus.PROPOSED
    labels = {row["comparison"]: row["label"] for row in pair.comparisons}
    assert labels["birth"] == "Day and month swapped"

    factories.totp_device(dmitri)
    page = new_page()
    sign_in(page, dmitri)
    expect(page.get_by_role("link", name="1 possible earlier referral to review")).to_be_visible()
    axe.check(page)

    # The flag on the charity's case.
    page.goto(f"/cases/{charity_case.reference}/")
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("Possible earlier referral")
    expect(banner).to_contain_text(police_case.reference)
    axe.check(page)

    # The pair side by side, with its waterfall.
    banner.get_by_role("link", name="Compare the two referrals and answer").click()
    expect(
        page.get_by_role("heading", name="Are these referrals of the same person?")
    ).to_be_visible()
    records = page.locator("table.govuk-table").first
    expect(records).to_contain_text("Юлия Иванова")
    expect(records).to_contain_text("Yuliya Ivanova")
    expect(records).to_contain_text("3 July 1999")
    expect(records).to_contain_text("7 March 1999")
    chart = page.get_by_role("img", name="Match weights of the pair, as a waterfall")
    expect(chart).to_be_visible()
    weights = page.locator("table", has_text="Match weight of each compared detail")
    expect(weights).to_contain_text("Day and month swapped")
    expect(weights).to_contain_text("Prior")
    axe.check(page)
    page.set_viewport_size({"width": 375, "height": 800})
    axe.check(page)
    assert overflow(page) == 0  # the tables scroll in their box, the chart shrinks
    page.set_viewport_size({"width": 1280, "height": 800})

    # Nothing chosen: the error; then "Same person".
    page.get_by_role("button", name="Save answer").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select whether these referrals are of the same person"
    )
    axe.check(page)
    page.get_by_label("Same person", exact=True).check()
    page.get_by_role("button", name="Save answer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Answer recorded: Same person"
    )
    expect(page.get_by_text("Answered by Dmitri Dane")).to_be_visible()
    axe.check(page)

    # The case page shows the police referral linked.
    page.get_by_role("link", name=charity_case.reference).first.click()
    expect(page.get_by_role("heading", name="Linked referrals")).to_be_visible()
    expect(page.get_by_role("link", name=police_case.reference, exact=True)).to_be_visible()
    expect(page.get_by_text("referred by Northmoor Police")).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_have_count(0)
    axe.check(page)

    assert ClusterMember.objects.filter(case__in=(police_case, charity_case)).count() == 2

    # The analyst's count of people drops by one; the referrals stay ten.
    analyst_page.reload()
    expect(analyst_page.locator("#referral-count")).to_have_text("10")
    expect(analyst_page.locator("#people-count")).to_have_text("9")

    # The link can be undone from the pair (not done here), and the quality page counts it.
    page.get_by_role("link", name=f"see the link with {police_case.reference}").click()
    page.get_by_role("link", name="Unlink these referrals").click()
    expect(page.get_by_role("heading", name="Unlink these referrals")).to_be_visible()
    axe.check(page)
    page.goto("/linkage/quality/")
    expect(page.get_by_role("heading", name="Record linkage quality")).to_be_visible()
    expect(page.get_by_text("Same person (linked)")).to_be_visible()
    axe.check(page)
    page.set_viewport_size({"width": 375, "height": 800})
    axe.check(page)
    assert overflow(page) == 0
    # Every page that showed either name was recorded as a read.
    shown = reads.check(typed=["Yuliya", "Иванова"])
    assert {s.route for s in shown} >= {"cases:detail", "linkage:pair"}
