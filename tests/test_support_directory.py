"""The directory a provider keeps: its sites, rooms and beds, and its services (issue 6, items 1
and 2). Only its own safe-house managers change them; every form says what is wrong and keeps
what was typed."""

from __future__ import annotations

import pytest

from opennrm.accommodation.models import Bed, BedEvent, Room, Service, Site
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent

from . import factories
from . import support_factories as s

SITE = {
    "name": "North House 2",
    "kind": "safe_house",
    "setting": "women_only",
    "ages": "adults",
    "region": "north_west",
    "area": "Testshire",
    "address": "3 Lowfold Yard, Brackendale",
    "postcode": "bd9 9zz",
    "latitude": "53.48",
    "longitude": "-2.24",
    "staff_languages": ["en", "sq"],
    "specialisms": ["mental_health"],
}


@pytest.mark.page("support:room_new")
@pytest.mark.page("support:site_new")
def test_a_manager_adds_a_site_its_rooms_and_beds(maya: User, provider: Organisation) -> None:
    client = factories.signed_in_client(maya)
    response = client.post("/support/sites/new/", SITE)
    site = Site.objects.get()
    assert response.status_code == 302
    assert (site.provider, site.postcode, site.location) == (provider, "BD9 9ZZ", [53.48, -2.24])
    assert site.address == SITE["address"]
    response = client.post(
        f"/support/sites/{site.pk}/rooms/new/",
        {
            "name": "Family room",
            "beds": "1",
            "takes_dependants": "2",
            "wheelchair_accessible": "on",
        },
    )
    assert response.status_code == 302
    room = Room.objects.get()
    assert (room.takes_dependants, room.wheelchair_accessible, room.beds.count()) == (2, True, 1)
    assert BedEvent.objects.get().state == "available"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"site.created", "room.created"} <= actions
    # The events name the site, never its address.
    assert not [e for e in AuditEvent.objects.all() if "Lowfold" in str(e.detail)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Enter a code name for the site"),
        ({"region": ""}, "Select the region"),
        ({"address": ""}, "Enter the address"),
        ({"longitude": ""}, "Enter both the latitude and the longitude, or neither"),
        ({"latitude": "north"}, "Enter the latitude as a number"),
        ({"latitude": "40.0"}, "The location must be in the UK"),
        ({"staff_languages": ["xx"]}, "Select languages from the list"),
    ],
)
def test_site_form_problems_are_named_and_nothing_typed_is_lost(
    maya: User, change: dict[str, object], message: str
) -> None:
    response = factories.signed_in_client(maya).post("/support/sites/new/", SITE | change)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    if change.get("name") != "":
        assert 'value="North House 2"' in page
    assert not Site.objects.exists()


def test_a_second_site_of_the_same_name_is_refused(maya: User, provider: Organisation) -> None:
    s.site(maya, provider, name="North House 2")
    response = factories.signed_in_client(maya).post("/support/sites/new/", SITE)
    assert "already has a site with this name" in response.content.decode()
    assert Site.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"beds": "0"}, "A room has at least 1 bed"),
        ({"beds": "two"}, "Enter the number of beds as a whole number"),
        ({"name": ""}, "Enter the room&#39;s name"),
    ],
)
def test_room_form_problems(
    maya: User, provider: Organisation, change: dict[str, str], message: str
) -> None:
    site = s.site(maya, provider)
    data = {"name": "Room 1", "beds": "2", "takes_dependants": "0"} | change
    page = factories.signed_in_client(maya).post(f"/support/sites/{site.pk}/rooms/new/", data)
    assert message in page.content.decode()
    assert not Room.objects.exists()


@pytest.mark.page("support:bed_service")
def test_taking_a_bed_out_of_service_and_back_through_the_page(
    maya: User, provider: Organisation
) -> None:
    site = s.site(maya, provider)
    (bed,) = s.beds(maya, site)
    client = factories.signed_in_client(maya)
    client.post(f"/support/beds/{bed.pk}/service/", {"action": "out_of_service", "reason": ""})
    assert Bed.objects.get(pk=bed.pk).out_of_service_since is None
    client.post(
        f"/support/beds/{bed.pk}/service/", {"action": "out_of_service", "reason": "Boiler"}
    )
    page = client.get(f"/support/sites/{site.pk}/").content.decode()
    assert "Out of service: Boiler" in page
    client.post(f"/support/beds/{bed.pk}/service/", {"action": "in_service"})
    assert Bed.objects.get(pk=bed.pk).out_of_service_since is None


def test_another_providers_manager_changes_nothing(
    maya: User, omar: User, cora: User, provider: Organisation
) -> None:
    site = s.site(maya, provider)
    (bed,) = s.beds(maya, site)
    for person in (omar, cora):
        client = factories.signed_in_client(person)
        assert client.get(f"/support/sites/{site.pk}/change/").status_code == 404
        assert client.post(f"/support/sites/{site.pk}/rooms/new/", {}).status_code == 404
        response = client.post(
            f"/support/beds/{bed.pk}/service/", {"action": "out_of_service", "reason": "x"}
        )
        assert response.status_code == 404
    assert factories.signed_in_client(omar).get(f"/support/sites/{site.pk}/").status_code == 404
    assert Bed.objects.get(pk=bed.pk).out_of_service_since is None


SERVICE = {
    "name": "Safe housing for women",
    "description": "A key worker and a safe room.",
    "eligible_sexes": ["female"],
    "minimum_age": "18",
    "exploitation_types": ["sexual", "labour"],
    "languages": ["en", "sq"],
    "accessibility": "Step-free entrance",
}


@pytest.mark.page("support:directory")
@pytest.mark.page("support:service_new")
def test_a_manager_describes_a_service_for_the_directory(
    maya: User, alice: User, provider: Organisation
) -> None:
    client = factories.signed_in_client(maya)
    assert client.post("/support/services/new/", SERVICE).status_code == 302
    service = Service.objects.get()
    assert (service.provider, service.eligible_sexes, service.minimum_age) == (
        provider,
        ["female"],
        18,
    )
    response = client.post(f"/support/services/{service.pk}/", SERVICE | {"maximum_age": "16"})
    assert "The oldest age must not be below the youngest" in response.content.decode()
    client.post(f"/support/services/{service.pk}/", SERVICE | {"maximum_age": "25"})
    service.refresh_from_db()
    assert service.maximum_age == 25
    s.site(maya, provider, name="Quiet House")
    directory = factories.signed_in_client(alice).get("/support/directory/").content.decode()
    assert "Safe housing for women" in directory
    assert "Quiet House" in directory
    assert s.ADDRESS not in directory


@pytest.mark.page("support:service_edit")
@pytest.mark.page("support:site_edit")
def test_an_edit_records_the_fields_that_changed_never_all_of_them(
    maya: User, provider: Organisation
) -> None:
    site = s.site(maya, provider, name="North House 2", address=SITE["address"])
    client = factories.signed_in_client(maya)
    client.post(
        f"/support/sites/{site.pk}/change/",
        SITE | {"near_school": "on", "expected_version": site.version},
    )
    event = AuditEvent.objects.filter(action="site.updated").get()
    assert "near_school" in event.detail["fields"]
    assert "address" not in event.detail["fields"]
