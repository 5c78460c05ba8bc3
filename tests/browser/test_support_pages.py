"""Every support page, in Chromium with axe on each, as the people who use them would go:

1. A safe-house manager adds a site, a room and a service and changes them, takes a bed out of
   service and back; answers a place offered, records the arrival, keeps the person's support
   plan, reports them missing and records their return, and records that they left.
2. An organisation administrator lets a coordinator see safe-house addresses; the coordinator
   changes a person's needs, places them by hand, asks for a place for someone already
   referred, turns down matching's proposal and closes the request, reads the capacity
   dashboard and the directory; the administrator withdraws the permission.

Each form is sent wrong once: the error summary must say what is wrong and keep what was typed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from opennrm.accommodation import services
from opennrm.accommodation.models import Bed, Placement, PlacementRequest, PlacementRequestStatus
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from tests import case_factories, factories
from tests import support_factories as s

from .test_sign_in_journey import _sign_in_with_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()


def banner(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner")).to_contain_text(text)


def fill_date(page: Page, name: str, day: date) -> None:
    page.locator(f"#id_{name}").fill(str(day.day))
    page.locator(f"#id_{name}_month").fill(str(day.month))
    page.locator(f"#id_{name}_year").fill(str(day.year))


def shows_errors(page: Page, axe, *messages: str) -> None:
    """The GOV.UK error summary, with each message, on a page titled as an error; scanned."""
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    for message in messages:
        expect(summary).to_contain_text(message)
    axe.check(page)


def error_links_to(page: Page, message: str, field_id: str) -> None:
    """The summary's message links to the field, and the field itself says what is wrong."""
    link = page.locator(".govuk-error-summary a", has_text=message)
    expect(link).to_have_attribute("href", f"#{field_id}")
    expect(page.locator(".govuk-error-message", has_text=message)).to_be_visible()


def a_case(alice: User, police: Organisation, authority: Organisation, name: str) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=police,
        authority=authority,
        given_names=name,
        consent_to_support=True,
        # Referred a month ago: nothing recorded about them can come before it.
        submitted_at=timezone.now() - timedelta(days=30),
    )


# --- 1. The safe-house manager ----------------------------------------------------------------


def test_a_safe_house_manager_runs_her_sites_and_looks_after_a_resident(
    new_page,
    axe,
    reads,
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
) -> None:
    factories.totp_device(maya)
    harbour = s.site(maya, provider, name="Harbour View")
    (bed,) = s.beds(maya, harbour, 1)
    case = a_case(alice, northmoor_police, authority, "Ardita Testova")
    offer = services.placement_make(by=cora, request=s.request(case), bed=bed)

    page = new_page()
    _sign_in_with_device(page, maya)

    # Sites and beds: add a site.
    menu(page, "Sites and beds")
    expect(page.locator("table.govuk-table")).to_contain_text("Harbour View")
    axe.check(page)
    page.get_by_role("button", name="Add a site").click()
    expect(page.get_by_role("heading", name="Add a site")).to_be_visible()
    axe.check(page)
    page.get_by_label("Code name").fill("North House 9")
    page.get_by_label("Safe house").check()
    page.get_by_label("Women only").check()
    page.get_by_label("Adults (18 and over)").check()
    page.get_by_label("Region", exact=True).select_option(label="North West")
    page.get_by_label("Local authority area").fill("Testshire")
    page.get_by_label("Latitude").fill("53.4808")
    page.get_by_role("button", name="Save").click()
    shows_errors(page, axe, "Enter the address", "Enter both the latitude and the longitude")
    error_links_to(page, "Enter the address", "id_address")
    expect(page.get_by_label("Code name")).to_have_value("North House 9")
    expect(page.get_by_label("Women only")).to_be_checked()
    expect(page.get_by_label("Region", exact=True)).to_have_value("north_west")
    expect(page.get_by_label("Latitude")).to_have_value("53.4808")
    page.get_by_label("Address", exact=True).fill("3 Lantern Row, Hollowmere")
    page.get_by_label("Longitude").fill("-2.2426")
    page.get_by_role("button", name="Save").click()
    banner(page, "Site North House 9 added. Add its rooms and beds next.")
    expect(page.get_by_role("heading", name="North House 9", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("3 Lantern Row, Hollowmere")
    axe.check(page)

    # A room, and a bed out of service and back.
    page.get_by_role("button", name="Add a room").click()
    axe.check(page)
    page.get_by_label("Room name").fill("Attic")
    page.get_by_label("Beds in the room").fill("0")
    page.get_by_role("button", name="Add the room").click()
    shows_errors(page, axe, "A room has at least 1 bed")
    error_links_to(page, "A room has at least 1 bed", "id_beds")
    expect(page.get_by_label("Room name")).to_have_value("Attic")
    page.get_by_label("Beds in the room").fill("2")
    page.get_by_role("button", name="Add the room").click()
    banner(page, "Room added")
    beds = page.locator("table.govuk-table tbody tr")
    expect(beds).to_have_count(2)
    attic_1 = beds.filter(has=page.get_by_role("cell", name="Attic", exact=True)).first
    axe.check(page)
    attic_1.get_by_role("button", name="Take out of service").click()
    shows_errors(page, axe, "Enter why the bed is out of service")
    first_bed = Bed.objects.get(room__name="Attic", label="1")
    error_links_to(page, "Enter why the bed is out of service", f"reason-{first_bed.pk}")
    attic_1.get_by_label("Why out of service").fill("A broken window")
    attic_1.get_by_role("button", name="Take out of service").click()
    banner(page, "Bed taken out of service")
    expect(attic_1).to_contain_text("Out of service: A broken window")
    axe.check(page)
    attic_1.get_by_role("button", name="Back in service").click()
    banner(page, "Bed back in service")
    expect(attic_1).not_to_contain_text("Out of service")
    axe.check(page)

    # Change the site.
    page.get_by_role("link", name="Change the site").click()
    expect(page.get_by_label("Code name")).to_have_value("North House 9")
    expect(page.locator(".govuk-back-link")).to_have_text("Back to North House 9")
    axe.check(page)
    page.get_by_label("Code name").fill("")
    page.get_by_label("Local authority area").fill("Lowshire")
    page.get_by_role("button", name="Save").click()
    shows_errors(page, axe, "Enter a code name for the site")
    error_links_to(page, "Enter a code name for the site", "id_name")
    expect(page.get_by_label("Local authority area")).to_have_value("Lowshire")
    page.get_by_label("Code name").fill("North House 10")
    page.get_by_role("button", name="Save").click()
    banner(page, "Site saved")
    expect(page.locator("main")).to_contain_text("North West, Lowshire")
    axe.check(page)

    # A service for the directory, and a change to it.
    menu(page, "Sites and beds")
    page.get_by_role("link", name="Add a service").click()
    expect(page.get_by_role("heading", name="Add a service")).to_be_visible()
    axe.check(page)
    page.get_by_label("Youngest age (optional)").fill("30")
    page.get_by_label("Oldest age (optional)").fill("18")
    page.get_by_role("button", name="Save").click()
    shows_errors(
        page, axe, "Enter the name of the service", "The oldest age must not be below the youngest"
    )
    error_links_to(page, "Enter the name of the service", "id_name")
    expect(page.get_by_label("Youngest age (optional)")).to_have_value("30")
    page.get_by_label("Name of the service").fill("Drop-in advice")
    page.get_by_label("Youngest age (optional)").fill("18")
    page.get_by_label("Oldest age (optional)").fill("30")
    page.get_by_role("button", name="Save").click()
    banner(page, "Service added to the directory")
    axe.check(page)
    page.get_by_role("link", name="Drop-in advice").click()
    expect(page.get_by_role("heading", name="Change the service")).to_be_visible()
    expect(page.get_by_label("Name of the service")).to_have_value("Drop-in advice")
    axe.check(page)
    page.get_by_label("Youngest age (optional)").fill("-1")
    page.get_by_label("Accessibility (optional)").fill("Step-free entrance")
    page.get_by_role("button", name="Save").click()
    shows_errors(page, axe, "The youngest age must be 0 or more")
    expect(page.get_by_label("Accessibility (optional)")).to_have_value("Step-free entrance")
    page.get_by_label("Youngest age (optional)").fill("16")
    page.get_by_role("button", name="Save").click()
    banner(page, "Service saved")
    axe.check(page)

    # A place offered: she answers it.
    reference = case.reference
    menu(page, "Placements")
    expect(page.locator("#offers-caption")).to_be_visible()
    expect(page.locator("main")).to_contain_text(reference)
    axe.check(page)
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name="Answer the offer")).to_be_visible()
    expect(page.locator("main")).to_contain_text(s.ADDRESS)
    axe.check(page)
    page.get_by_label("No, we must decline").check()
    page.get_by_role("button", name="Send answer").click()
    shows_errors(page, axe, "Select why you cannot take this person")
    error_links_to(page, "Select why you cannot take this person", "id_reason")
    expect(page.get_by_label("No, we must decline")).to_be_checked()
    page.get_by_label("Yes, we accept").check()
    page.get_by_role("button", name="Send answer").click()
    banner(page, "Accepted. Tell us when the person arrives.")

    # Accepted: she records the arrival (a day in the future is refused).
    expect(page.get_by_role("heading", name="When the person arrives")).to_be_visible()
    axe.check(page)
    fill_date(page, "arrived_on", s.day(1))
    page.get_by_role("button", name="Record arrival").click()
    shows_errors(page, axe, "The day they arrived must be today or earlier")
    error_links_to(page, "The day they arrived must be today or earlier", "id_arrived_on")
    expect(page.locator("#id_arrived_on")).to_have_value(str(s.day(1).day))
    # Not before the day the place was offered (today, in this journey).
    fill_date(page, "arrived_on", s.day(-10))
    page.get_by_role("button", name="Record arrival").click()
    shows_errors(page, axe, "The day they arrived cannot be before the place was offered")
    fill_date(page, "arrived_on", s.day())
    page.get_by_role("button", name="Record arrival").click()
    banner(page, "Arrival recorded")
    expect(page.get_by_role("heading", name="When the person leaves")).to_be_visible()
    axe.check(page)

    # Living there: her support plan.
    page.get_by_role("link", name="Support plan").click()
    expect(page.get_by_role("heading", name=f"Support plan for case {reference}")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Emergency medical treatment").click()
    axe.check(page)
    page.get_by_label("Being provided").check()
    page.get_by_label("Notes (optional)").fill("Registered with a GP; asthma inhaler")
    page.get_by_role("button", name="Save").click()
    shows_errors(page, axe, "Enter the date it started", "Say who provides it")
    error_links_to(page, "Enter the date it started", "id_starts_on")
    expect(page.get_by_label("Being provided")).to_be_checked()
    expect(page.get_by_label("Notes (optional)")).to_have_value(
        "Registered with a GP; asthma inhaler"
    )
    fill_date(page, "starts_on", s.day(-9))
    page.get_by_label("Or the name of an outside service").fill("Hollowmere Surgery")
    page.get_by_role("button", name="Save").click()
    banner(page, "Emergency medical treatment: saved")
    expect(page.locator("main")).to_contain_text("By Hollowmere Surgery")
    axe.check(page)
    page.get_by_role("button", name="Record a service delivered").click()
    axe.check(page)
    page.get_by_label("What was delivered").fill("Two hours of counselling in Albanian")
    page.get_by_role("button", name="Record it").click()
    shows_errors(
        page, axe, "Select the measure it was delivered under", "Enter the day it was delivered"
    )
    expect(page.get_by_label("What was delivered")).to_have_value(
        "Two hours of counselling in Albanian"
    )
    page.get_by_label("Under which measure?").select_option(
        label="Psychological and material assistance"
    )
    fill_date(page, "delivered_on", s.day(-2))
    page.get_by_label("Delivered by an organisation").select_option(label="Test Refuge")
    page.get_by_role("button", name="Record it").click()
    banner(page, "Service delivered recorded")
    expect(page.locator("main table")).to_contain_text("Two hours of counselling in Albanian")
    axe.check(page)

    # She reports the person missing, and records their return.
    page.get_by_role("link", name="The placement").click()
    page.get_by_role("link", name="Report that the person has gone missing").click()
    axe.check(page)
    page.get_by_label("The time they went missing, if known (optional)").fill("9.30pm")
    page.get_by_label("When and where were they last seen?").fill("At the bus stop, in a red coat")
    page.get_by_role("button", name="Report missing").click()
    shows_errors(
        page,
        axe,
        "Enter the day they went missing",
        "The time they went missing: enter hours and minutes on the 24-hour clock",
    )
    expect(page.get_by_label("When and where were they last seen?")).to_have_value(
        "At the bus stop, in a red coat"
    )
    fill_date(page, "went_missing_on", s.day(-2))
    page.get_by_label("The time they went missing, if known (optional)").fill("21:30")
    page.get_by_role("button", name="Report missing").click()
    banner(page, "Reported missing.")
    expect(page.locator("main")).to_contain_text("At the bus stop, in a red coat")
    axe.check(page)
    page.goto("/")
    page.get_by_role("link", name="People missing").click()
    expect(page.locator("table.govuk-table")).to_contain_text(reference)
    axe.check(page)
    page.get_by_role("link", name=reference).click()
    fill_date(page, "returned_on", s.day(-3))
    page.get_by_role("button", name="Record their return").click()
    shows_errors(page, axe, "The day they came back cannot be before the day they went missing")
    expect(page.locator("#id_returned_on")).to_have_value(str(s.day(-3).day))
    # Back today, the day of the report (never before it: they were missing when reported).
    fill_date(page, "returned_on", s.day(0))
    page.get_by_label("The time they came back, if known (optional)").fill("00:00")
    page.get_by_role("button", name="Record their return").click()
    banner(page, "Their return is recorded.")
    expect(page.locator("main")).to_contain_text(f"{s.day(0):%-d %B %Y} at 00:00")
    axe.check(page)

    # She records that the person left.
    menu(page, "Placements")
    expect(page.locator("#living-caption")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Moved on to other accommodation").check()
    page.get_by_role("button", name="Record that they left").click()
    shows_errors(page, axe, "Enter the day they left")
    error_links_to(page, "Enter the day they left", "id_ended_on")
    expect(page.get_by_label("Moved on to other accommodation")).to_be_checked()
    fill_date(page, "ended_on", s.day(0))
    page.get_by_role("button", name="Record that they left").click()
    banner(page, "The stay has ended and the bed is free")
    axe.check(page)

    offer.refresh_from_db()
    assert offer.status == "ended"
    assert reads.check() == []


# --- 2. The coordinator, and the provider's administrator -------------------------------------


def test_a_coordinator_places_people_and_reads_capacity_with_an_address_grant(
    new_page,
    axe,
    reads,
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
) -> None:
    petra = factories.user(
        "petra@example.org",
        organisation=provider,
        role=Role.ORGANISATION_ADMIN,
        full_name="Petra Admin",
    )
    for person in (cora, petra):
        factories.totp_device(person)
    # Harbour View is in Manchester; Moor House near Leeds, about 58 km away.
    harbour = s.site(maya, provider, name="Harbour View")
    s.beds(maya, harbour, 1)
    moor = s.site(maya, provider, name="Moor House", region="yorkshire", location=[53.8, -1.55])
    moor_beds = s.beds(maya, moor, 2)
    waiting = a_case(alice, northmoor_police, authority, "Ardita Testova")
    s.request(waiting)
    referred = a_case(alice, northmoor_police, authority, "Blerta Testova")

    # The coordinator asks to see Moor House's address, saying why.
    page: Page = new_page()
    _sign_in_with_device(page, cora)
    page.get_by_role("link", name="Safe-house addresses").first.click()
    axe.check(page)
    page.get_by_role("button", name="Ask", exact=True).click()
    shows_errors(
        page, axe, "Select the site whose address you need", "Say why you need this address"
    )
    page.get_by_label("Site", exact=True).select_option(label="Moor House (Test Refuge)")
    page.get_by_label("Why do you need its address?").fill("To arrange a journey there")
    page.get_by_role("button", name="Ask", exact=True).click()
    banner(page, "Your request to see Moor House's address is sent")
    expect(page.locator("main")).to_contain_text("Waiting for a decision")
    axe.check(page)

    # The provider's administrator approves it.
    admin: Page = new_page()
    _sign_in_with_device(admin, petra)
    admin.get_by_role("link", name="Safe-house addresses").click()
    row = admin.locator("table.govuk-table tbody tr", has_text="Cora Coordinator")
    expect(row.first).to_contain_text("To arrange a journey there")
    axe.check(admin)
    admin.get_by_role("button", name="Approve Cora Coordinator, Moor House").click()
    banner(admin, "Cora Coordinator's request for Moor House has been approved")
    axe.check(admin)

    # The coordinator keeps the waiting woman away from Manchester.
    menu(page, "Waiting for a place")
    expect(page.locator("table.govuk-table")).to_contain_text(waiting.reference)
    axe.check(page)
    page.get_by_role("link", name=waiting.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Placement request for case {waiting.reference}"
    )
    axe.check(page)
    page.get_by_role("button", name="Change needs and constraints").click()
    axe.check(page)
    page.get_by_label("Place 1 to keep away from").select_option("Manchester")
    page.get_by_label("Needs wheelchair access").check()
    page.get_by_role("button", name="Save").click()
    shows_errors(page, axe, "Enter how far from Manchester to keep away")
    error_links_to(page, "Enter how far from Manchester to keep away", "id_keep_away_km_1")
    expect(page.get_by_label("Place 1 to keep away from")).to_have_value("Manchester")
    expect(page.get_by_label("Needs wheelchair access")).to_be_checked()
    page.get_by_label("Needs wheelchair access").uncheck()
    page.get_by_label("At least how many kilometres from place 1").fill("30")
    page.get_by_role("button", name="Save").click()
    banner(page, "Needs and constraints saved")
    expect(page.locator("main")).to_contain_text("Manchester")
    axe.check(page)

    # She places her by hand; the first bed she chooses is taken out of service meanwhile.
    page.get_by_role("link", name="Choose a bed by hand").click()
    harbour_row = page.locator("table.govuk-table tbody tr", has_text="Harbour View")
    expect(harbour_row).to_contain_text("No:")
    axe.check(page)
    services.bed_set_in_service(by=maya, bed=moor_beds[0], in_service=False, reason="A leak")
    free = page.locator("table.govuk-table tbody tr", has_text="Moor House")
    free.first.get_by_role("button", name="Offer this bed").click()
    shows_errors(page, axe, "This bed is no longer free. Choose another bed from the list")
    expect(free).to_have_count(1)  # bed 1 is no longer free
    free.first.get_by_role("button", name="Offer this bed").click()
    banner(page, "Place offered. The provider has been asked to accept it.")
    axe.check(page)
    page.get_by_role("link", name="Moor House").click()
    expect(page.locator("main")).to_contain_text(s.ADDRESS)
    axe.check(page)

    # She asks for a place for someone already referred.
    menu(page, "Waiting for a place")
    page.get_by_role("link", name="Ask for a place for someone already referred").click()
    axe.check(page)
    page.get_by_label("Case reference").fill("NRM-NONE-0000")
    page.get_by_label("Urgent: within 3 days").check()
    fill_date(page, "needed_from", s.day(0))
    page.get_by_role("button", name="Continue").click()
    shows_errors(page, axe, "No case has this reference: check it and try again")
    error_links_to(page, "No case has this reference", "id_reference")
    expect(page.get_by_label("Urgent: within 3 days")).to_be_checked()
    expect(page.locator("#id_needed_from_year")).to_have_value(str(s.day(0).year))
    page.get_by_label("Case reference").fill(referred.reference.lower())
    page.get_by_role("button", name="Continue").click()
    banner(page, "Request raised. Set the person's needs next.")
    axe.check(page)
    page.get_by_role("button", name="Save").click()
    banner(page, "Needs and constraints saved")

    # Matching proposes the Manchester bed for her; the coordinator turns it down, then closes
    # the request.
    menu(page, "Waiting for a place")
    page.get_by_role("button", name="Find places for everyone waiting").click()
    banner(page, "Matching proposed 1 place")
    card = page.locator(".govuk-summary-card", has_text=referred.reference)
    expect(card).to_contain_text("Harbour View")
    axe.check(page)
    card.get_by_role("button", name=f"Turn down the place for case {referred.reference}").click()
    banner(page, "Proposal turned down. The person is still waiting.")
    axe.check(page)
    page.get_by_role("link", name="Waiting for a place").first.click()
    page.get_by_role("link", name=referred.reference).click()
    page.get_by_role("link", name="Close the request").click()
    axe.check(page)
    page.get_by_role("button", name="Close the request").click()
    shows_errors(page, axe, "Select why the request is closed")
    error_links_to(page, "Select why the request is closed", "id_outcome")
    page.get_by_label("No suitable place can be found").check()
    page.get_by_role("button", name="Close the request").click()
    banner(page, "Request closed")
    expect(page.locator("main")).not_to_contain_text(referred.reference)
    axe.check(page)

    # Capacity now, with a question, and over time.
    menu(page, "Capacity")
    axe.check(page)
    page.get_by_label("A woman", exact=True).check()
    page.get_by_label("How many children are coming with them?").fill("two")
    page.get_by_role("button", name="Count the beds").click()
    shows_errors(page, axe, "Enter the number of children as a whole number, like 2")
    error_links_to(page, "Enter the number of children as a whole number", "id_children")
    expect(page.get_by_label("A woman", exact=True)).to_be_checked()
    expect(page.get_by_label("How many children are coming with them?")).to_have_value("two")
    page.get_by_label("How many children are coming with them?").fill("0")
    page.get_by_role("button", name="Count the beds").click()
    expect(page.locator("#answer")).to_contain_text("1 free bed can take a woman")
    axe.check(page)
    page.get_by_role("navigation", name="Capacity pages").get_by_role(
        "link", name="Over time"
    ).click()
    expect(page.get_by_role("heading", name="Capacity over time")).to_be_visible()
    for days in (30, 90, 365):
        page.get_by_label(f"{days} days").check()
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(rf"period={days}$"))
        expect(page.get_by_label(f"{days} days")).to_be_checked()
        axe.check(page)

    # The directory, with its open-format download.
    page.goto("/")
    page.get_by_role("link", name="Support directory").click()
    expect(page.locator("main")).to_contain_text("Moor House")
    expect(page.locator("main")).not_to_contain_text(s.ADDRESS)
    download = page.get_by_role("link", name=re.compile("Download the directory"))
    expect(download).to_have_attribute("href", "/support/directory/hsds.json")
    assert page.request.get("/support/directory/hsds.json").ok
    axe.check(page)

    # The administrator withdraws the grant; the coordinator no longer sees the address.
    admin.reload()
    admin.get_by_role("button", name="Withdraw Cora Coordinator, Moor House").click()
    banner(admin, "The permission for Moor House has ended")
    expect(admin.locator("main")).to_contain_text("No coordinator can see them now")
    axe.check(admin)
    placed = Placement.objects.get(request__case=waiting)
    page.goto(f"/support/placements/{placed.pk}/")
    expect(page.locator("main")).not_to_contain_text(s.ADDRESS)
    axe.check(page)

    assert placed.bed_id == moor_beds[1].pk
    assert Bed.objects.get(pk=moor_beds[0].pk).out_of_service_since is not None
    closed = PlacementRequest.objects.get(case=referred)
    assert closed.status == PlacementRequestStatus.UNMET
    assert reads.check() == []
