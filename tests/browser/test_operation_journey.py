"""Issue 14's acceptance journey, in Chromium with axe on every page: a police lead plans a
confidential operation and invites a support provider, the local authority and the competent
authority; an uninvited organisation gets 404 on it; the forecast shows a shortfall of women's
places; the provider adds surge places and the shortfall shrinks. On the day two responders take
people in, each in their own browser (the reception page on a 375-pixel screen); a child is
routed as a child; the board updates; a draft is completed through the normal referral journey
and matching places her in a surge place of the operation; an immigration enforcement officer
checking a reference is told the person is protected; the lead reads the operation's report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accommodation.models import (
    Bed,
    Placement,
    PlacementRequestStatus,
    PlacementStatus,
)
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case, Person
from opennrm.notifications.models import Notification
from opennrm.operations.models import Operation, ReceptionRecord
from tests import case_factories, factories
from tests import support_factories as s

from .test_casework_pages import _check, _signed_in
from .test_narrow_screen import overflow
from .test_referral_journeys import (
    answer_age,
    answer_consent,
    answer_exploitation,
    answer_indicators,
    answer_person,
    check_and_submit,
    save,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Operation Juniper"


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def _history(alice: User, police: Organisation, authority: Organisation, maya: User, provider):
    """What the forecast learns from: twelve women referred in the North West last year, eight
    of whom needed a place and stayed a few weeks. Their beds are out of service now, so the
    region has no free women's place of its own."""
    old = s.site(maya, provider, name="Closed House")
    beds = s.beds(maya, old, 8)
    last_year = timezone.localdate() - timedelta(days=300)
    for n in range(12):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=police,
            authority=authority,
            area="Testshire",
            submitted_at=_at(last_year),
        )
        Person.objects.filter(pk=case.person_id).update(sex="female")
        if n < 8:
            request = s.request(case, status=PlacementRequestStatus.PLACED)
            Placement.objects.create(
                request=request,
                bed=beds[n],
                status=PlacementStatus.ENDED,
                proposed_at=_at(last_year),
                arrived_on=last_year,
                ended_on=last_year + timedelta(days=20 + 3 * n),
            )
    Bed.objects.filter(room__site=old).update(
        out_of_service_since=timezone.now(), out_of_service_reason="Closed for repairs"
    )


def _women_short(page: Page) -> int:
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Women's places"))
    return int(row.locator("td").last.inner_text())


def _fill_date(page: Page, group: str, day: date) -> None:
    fieldset = page.get_by_role("group", name=group)
    fieldset.get_by_label("Day").fill(str(day.day))
    fieldset.get_by_label("Month").fill(str(day.month))
    fieldset.get_by_label("Year").fill(str(day.year))


def _take_in(page: Page, name: str, age: str, *, needs: tuple[str, ...] = ()) -> None:
    page.get_by_label("Name, or a description").fill(name)
    page.get_by_role("group", name="Adult or child?").get_by_label(age, exact=True).check()
    page.get_by_role("group", name="Sex").get_by_label("Female").check()
    page.get_by_label("Language (optional)").select_option("sq")
    page.get_by_role("group", name="Do they need an interpreter?").get_by_label("Yes").check()
    for need in needs:
        page.get_by_label(need).check()
    page.get_by_role("button", name="Take in").click()


def test_an_operation_from_its_plan_to_its_account(
    new_page,
    axe,
    alice: User,
    bob: User,
    cora: User,
    maya: User,
    omar: User,
    lena: User,
    northmoor_police: Organisation,
    provider: Organisation,
    council: Organisation,
    authority: Organisation,
    routing: Organisation,
    border_enforcement: Organisation,
) -> None:
    today = timezone.localdate()
    _history(alice, northmoor_police, authority, maya, provider)
    s.site(maya, provider, name="Rowan House")  # where the surge places will be

    # The lead plans a confidential operation, starting today, and invites its partners.
    lead = _signed_in(new_page, alice)
    _check(lead, axe, reverse("operations:plan"), "Plan an operation")
    lead.get_by_label("Name of the operation").fill(NAME)
    lead.get_by_role("group", name="Is the operation confidential?").get_by_label("Yes").check()
    _fill_date(lead, "Start date", today)
    _fill_date(lead, "End date", today + timedelta(days=2))
    lead.get_by_label("Region").select_option(label="North West")
    lead.locator("#id_n_female_adult_sexual").fill("30")
    lead.locator("#id_n_female_child_sexual").fill("2")
    lead.get_by_label("Language expected").select_option("sq")
    lead.get_by_role("button", name="Plan the operation").click()
    expect(lead.get_by_role("heading", name=NAME, level=1)).to_be_visible()
    axe.check(lead)
    operation = Operation.objects.get(name=NAME)
    assert operation.confidential
    detail = reverse("operations:detail", args=[operation.pk])
    for organisation, role in (
        (provider, "Support provider"),
        (council, "Local authority"),
        (authority, "Competent authority"),
    ):
        lead.get_by_role("button", name="Invite an organisation").click()
        axe.check(lead)
        lead.get_by_label("Organisation", exact=True).select_option(label=organisation.name)
        lead.get_by_role("group", name="Its role in the operation").get_by_label(
            role, exact=True
        ).check()
        lead.get_by_role("button", name="Invite").click()
        expect(lead.locator(".govuk-notification-banner")).to_contain_text(
            f"{organisation.name} invited"
        )
    axe.check(lead)

    # Nobody uninvited learns it exists: another provider's manager gets 404.
    outsider = _signed_in(new_page, omar)
    response = outsider.goto(detail)
    assert response is not None
    assert response.status == 404
    expect(outsider.locator("main")).not_to_contain_text(NAME)

    # The forecast shows the shortfall of women's places.
    lead.goto(detail)
    expect(lead.locator("main")).to_contain_text("are not enough for the forecast")
    short_before = _women_short(lead)
    assert short_before > 0
    # ...and the lead and the invited provider's coordinator were warned of it.
    for warned in (alice, cora):
        assert Notification.objects.filter(
            recipient=warned, kind="operations.short_of_places"
        ).exists()
    assert not Notification.objects.filter(
        recipient=omar, kind="operations.short_of_places"
    ).exists()

    # The provider's manager adds ten surge places at Rowan House for the operation's days.
    manager = _signed_in(new_page, maya)
    _check(manager, axe, detail, NAME)
    manager.get_by_role("link", name="Add surge places").click()
    axe.check(manager)
    manager.get_by_label("Where are the places?").select_option(
        label=f"Rowan House ({provider.name}, women only)"
    )
    manager.get_by_label("How many places?").fill("10")
    _fill_date(manager, "First day", today)
    _fill_date(manager, "Last day", today + timedelta(days=20))
    manager.get_by_label("Funding (optional)").fill("Operation budget")
    manager.get_by_role("button", name="Add surge places").click()
    expect(manager.locator("main")).to_contain_text("Operation budget")
    axe.check(manager)

    # The shortfall shrinks by the ten places.
    lead.reload()
    assert _women_short(lead) == max(0, short_before - 10)
    axe.check(lead)

    # On the day: two responders take people in at once, on phone-sized screens.
    reception = reverse("operations:reception", args=[operation.pk])
    board = reverse("operations:board", args=[operation.pk])
    second = _signed_in(new_page, bob)
    for page in (lead, second):
        page.set_viewport_size({"width": 375, "height": 800})
        _check(page, axe, reception, "Take a person in")
    _take_in(lead, "Ana Testova", "Adult", needs=("A safe place to stay tonight",))
    _take_in(second, "girl in green coat", "Child")
    _take_in(lead, "Bianca Testova", "Adult")
    expect(second.locator(".govuk-notification-banner")).to_contain_text(
        "Person 2 taken in and treated as a child: children's services told"
    )
    expect(lead.locator(".govuk-notification-banner")).to_contain_text("Person 3 taken in")
    for page in (lead, second):
        axe.check(page)
        assert overflow(page) <= 0
    assert ReceptionRecord.objects.filter(operation=operation).count() == 3
    # The child was routed as a child: the local authority's safeguarding lead told at once.
    assert Notification.objects.filter(kind="operations.child_taken_in", recipient=lena).exists()

    _check(lead, axe, board, "People taken in")
    expect(lead.locator("#person-1")).to_contain_text("Waiting for a bed")
    expect(lead.locator("#person-2")).to_contain_text("Child")
    _take_in(second, "Dana Testova", "Adult")
    lead.get_by_role("link", name="Refresh the board").click()
    expect(lead.locator("tbody tr")).to_have_count(4)
    axe.check(lead)
    assert overflow(lead) <= 0

    # Later, the lead completes Ana's referral through the normal journey.
    lead.set_viewport_size({"width": 1280, "height": 900})
    ana = ReceptionRecord.objects.get(operation=operation, sequence=1)
    assert ana.draft is not None
    lead.goto(reverse("referrals:task_list", args=[ana.draft.public_id]))
    answer_age(lead, axe, "No")
    answer_consent(lead, axe, "Yes", "Yes")
    answer_person(lead, axe, "Ana Testova", estimated_age="31")
    answer_exploitation(lead, axe)
    answer_indicators(lead, axe)
    expect(lead.get_by_role("heading", name="What happened")).to_be_visible()
    lead.get_by_label("What happened, in the person's own words").fill("They kept my passport.")
    lead.get_by_label("What you saw and why you are referring them").fill("Found in the raid.")
    save(lead)
    # Her immediate needs were recorded when she was taken in: the journey skips the page.
    expect(lead.get_by_role("heading", name="Refer a potential victim")).to_be_visible()
    lead.get_by_role("link", name="Immediate needs").click()
    expect(lead.get_by_label("A safe place to stay tonight")).to_be_checked()
    axe.check(lead)
    save(lead)
    reference = check_and_submit(lead, axe, "Submit referral")

    # The coordinator runs matching: Ana is placed in a surge place kept for the operation.
    coordinator = _signed_in(new_page, cora)
    coordinator.set_viewport_size({"width": 1280, "height": 900})
    coordinator.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Waiting for a place"
    ).click()
    axe.check(coordinator)
    coordinator.get_by_role("button", name="Find places for everyone waiting").click()
    card = coordinator.locator(".govuk-summary-card", has_text=reference)
    expect(card).to_contain_text("Rowan House")
    axe.check(coordinator)
    card.get_by_role("button", name="Confirm").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(
        f"Place offered for case {reference}"
    )
    placement = Placement.objects.get(request__case__reference=reference)
    assert placement.bed.operation_id == operation.pk

    # The safe house's manager accepts her; the board shows her placed.
    manager.set_viewport_size({"width": 1280, "height": 900})
    manager.get_by_role("navigation", name="Menu").get_by_role("link", name="Placements").click()
    manager.get_by_role("link", name=reference).click()
    expect(manager.locator("main")).to_contain_text("Rowan House")
    axe.check(manager)
    manager.get_by_label("Yes, we accept").check()
    manager.get_by_role("button", name="Send answer").click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("Accepted")
    lead.goto(board)
    expect(lead.locator("#person-1")).to_contain_text("Placed")
    axe.check(lead)

    # An immigration enforcement officer checks the reference of a person taken in.
    officer = factories.user(
        "officer@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Owen Officer",
    )
    checker = _signed_in(new_page, officer)
    _check(checker, axe, reverse("protection:check"), "protection")
    bianca = ReceptionRecord.objects.get(operation=operation, sequence=3)
    checker.get_by_label("Reference").fill(bianca.reference)
    checker.get_by_role("button", name="Check").click()
    answer = checker.locator("#protection-answer")
    expect(answer).to_contain_text("protected")
    expect(answer).to_contain_text("Removal must not proceed")
    expect(checker.locator("main")).not_to_contain_text("Bianca")
    axe.check(checker)
    # The lead reads the operation's report, on a phone: counts, naming nobody.
    lead.set_viewport_size({"width": 375, "height": 800})
    lead.goto(detail)
    lead.get_by_role("link", name="Read the operation report").click()
    expect(lead.get_by_role("heading", name="Operation report", level=1)).to_be_visible()
    main = lead.locator("main")
    expect(main).to_contain_text("4 people taken in during the operation, of whom 1 referred")
    expect(lead.locator("#placed")).to_have_text("1")
    expect(lead.locator("#planned-removals")).to_have_text("0")
    expect(main).not_to_contain_text("Testova")
    axe.check(lead)
    assert overflow(lead) <= 0

    # Ana's case is the draft she was taken in with, still linked to the operation.
    assert Case.objects.get(reference=reference).draft.reception_record == ana
