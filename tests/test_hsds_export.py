"""The support directory as an Open Referral HSDS document (issue 6, item 10): it validates
against the HSDS schemas kept in `../shared/standards/hsds/` (3.0, with the 3.1 draft's
`service`, `location` with `location_type: "redacted"`, `service_capacity` and `unit`), strictly:
every object's fields are its schema's, every id a UUID, every date-time RFC 3339. No address,
postcode or coordinates ever appear in it, whoever asks. The API and the directory page's
download serve the same document."""

from __future__ import annotations

import copy
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from opennrm.accommodation import hsds, services
from opennrm.accommodation.models import Bed, BedEvent, Service, Site
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role

from . import api_helpers as a
from . import case_factories, factories
from . import support_factories as s


def _hsds_folder() -> Path:
    """The HSDS schemas in the project's shared reference folder: `OPENNRM_SHARED_DIR` when set,
    otherwise `shared/` beside the checkout or beside any folder above it (a CI clone may sit a
    level or two deeper than the working checkout)."""
    if os.environ.get("OPENNRM_SHARED_DIR"):
        return Path(os.environ["OPENNRM_SHARED_DIR"]) / "standards" / "hsds"
    root = Path(__file__).resolve().parents[1]
    for folder in root.parents:
        candidate = folder / "shared" / "standards" / "hsds"
        if candidate.is_dir():
            return candidate
    return root.parent / "shared" / "standards" / "hsds"


HSDS = _hsds_folder()
# The 3.1 draft's versions replace 3.0's where they exist; the redacted-location branch's
# location is the `location.json` every reference reaches.
DRAFT_FILES = {
    "service.json": "service.json",
    "location.json": "location.redacted-branch.json",
    "service_capacity.json": "service_capacity.json",
    "unit.json": "unit.json",
    "url.json": "url.json",
}
NOT_OBJECT_SCHEMAS = {"openapi.json"}
LEAKS = [s.ADDRESS, "Quietwater", "Hollowmere", s.POSTCODE, "HX9"]
COORDINATES = (53.48, -2.24)  # the test sites' location (support_factories.site)

# Only the validation against the schemas needs them (the product never does): it is skipped,
# saying where it looked, on a machine without the shared reference folder.
needs_the_schemas = pytest.mark.skipif(
    not HSDS.is_dir(),
    reason=f"the HSDS schemas are not at {HSDS} (shared/ beside the checkout, or "
    "OPENNRM_SHARED_DIR)",
)


# --- The schemas ----------------------------------------------------------------------------------


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, refusing fields it does not define: HSDS leaves objects open, so without
    this a misspelt field (or an `address`) would pass unseen."""
    strict = copy.deepcopy(schema)
    if strict.get("type") == "object" and "properties" in strict:
        strict["additionalProperties"] = False
    return strict


def _schemas() -> dict[str, dict[str, Any]]:
    found = {
        path.name: json.loads(path.read_text())
        for path in sorted((HSDS / "3.0" / "schema").glob("*.json"))
        if path.name not in NOT_OBJECT_SCHEMAS
    }
    for name, draft in DRAFT_FILES.items():
        found[name] = json.loads((HSDS / "3.1-draft" / "schema" / draft).read_text())
    return found


def _registry() -> Registry:
    return Registry().with_resources(
        (name, Resource.from_contents(_strict(schema), default_specification=DRAFT202012))
        for name, schema in _schemas().items()
    )


def _formats() -> FormatChecker:
    """jsonschema checks `uuid` and `email` itself; `date-time` and `uri` need packages we do not
    install, so they are checked here."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return "T" in value and parsed.tzinfo is not None

    @checker.checks("uri")
    def uri(value: object) -> bool:
        return not isinstance(value, str) or bool(urlsplit(value).scheme)

    return checker


DOCUMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["hsds_version", "hsds_drafts_used", "generated_at", "organizations", "services"],
    "properties": {
        "hsds_version": {"const": "3.0"},
        "hsds_drafts_used": {"type": "array", "items": {"type": "string"}},
        "generated_at": {"type": "string", "format": "date-time"},
        "organizations": {"type": "array", "items": {"$ref": "organization.json"}},
        "services": {"type": "array", "items": {"$ref": "service.json"}},
    },
}


def validator(schema: dict[str, Any] | None = None) -> Draft202012Validator:
    return Draft202012Validator(
        schema or DOCUMENT_SCHEMA, registry=_registry(), format_checker=_formats()
    )


def problems(document: Any, schema: dict[str, Any] | None = None) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(schema).iter_errors(document)
    ]


# --- A directory ----------------------------------------------------------------------------------


@pytest.fixture
def directory(
    maya: User,
    cora: User,
    alice: User,
    omar: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> dict[str, Any]:
    """Test Refuge: a safe house (women only, three beds: one offered, one out of service) and
    dispersed flats (mixed, a wheelchair-accessible family room), an eligibility-rich service at
    both and an outreach service with no beds; a closed site and a withdrawn service, which the
    directory leaves out. Other Shelter: one house, no services."""
    refuge_service = services.service_create(
        by=maya,
        provider=provider,
        name="Safe accommodation for women",
        description="Safe houses for women and their children.",
        eligible_sexes=["female"],
        minimum_age=18,
        maximum_age=25,
        exploitation_types=["sexual", "labour"],
        languages=["en", "sq", "ro"],
        accessibility="Step-free entrance; hearing loop in the office.",
    )
    outreach = services.service_create(by=maya, provider=provider, name="Outreach advice")
    withdrawn = services.service_create(by=maya, provider=provider, name="Old service")
    services.service_update(by=maya, service=withdrawn, is_active=False)
    house = s.site(maya, provider, name="North House", specialisms=["sexual_exploitation"])
    offered, broken, _free = s.beds(maya, house, 3)
    flats = s.site(maya, provider, name="Flats", kind="dispersed", setting="mixed", region="london")
    s.beds(maya, flats, 1, takes_dependants=2, wheelchair_accessible=True)
    closed = s.site(maya, provider, name="Closed House")
    s.beds(maya, closed, 2)
    services.site_update(by=maya, site=closed, is_active=False)
    office = s.site(maya, provider, name="Drop-in", kind="outreach", setting="mixed")
    house.services.add(refuge_service)
    flats.services.add(refuge_service)
    closed.services.add(refuge_service)
    office.services.add(outreach)
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    services.placement_make(by=cora, request=s.request(case), bed=offered)
    services.bed_set_in_service(by=maya, bed=broken, in_service=False, reason="Damp")
    other_house = s.site(omar, omar.memberships.get().organisation, name="Other House")
    s.beds(omar, other_house, 1)
    return {
        "service": refuge_service,
        "outreach": outreach,
        "withdrawn": withdrawn,
        "house": house,
        "flats": flats,
        "closed": closed,
        "office": office,
        "other_house": other_house,
    }


def export() -> dict[str, Any]:
    return hsds.directory_export()


def numbers(node: Any) -> list[float]:
    """Every number in a JSON document."""
    if isinstance(node, dict):
        return [n for value in node.values() for n in numbers(value)]
    if isinstance(node, list):
        return [n for value in node for n in numbers(value)]
    return [node] if isinstance(node, int | float) and not isinstance(node, bool) else []


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


# --- Validation -----------------------------------------------------------------------------------


@needs_the_schemas
def test_the_export_validates_against_the_hsds_schemas(directory: dict[str, Any]) -> None:
    document = export()
    assert problems(document) == []
    # Each object against its own schema too, by name.
    for organization in document["organizations"]:
        assert problems(organization, {"$ref": "organization.json"}) == []
        for location in organization["locations"]:
            assert problems(location, {"$ref": "location.json"}) == []
    for service in document["services"]:
        assert problems(service, {"$ref": "service.json"}) == []
        for capacity in service["capacities"]:
            assert problems(capacity, {"$ref": "service_capacity.json"}) == []
        for at in service["service_at_locations"]:
            assert problems(at, {"$ref": "service_at_location.json"}) == []
    # The document is not empty: every kind of object was checked.
    assert document["organizations"]
    assert any(s["capacities"] for s in document["services"])
    assert any(s["attributes"] for s in document["services"])
    assert any(s["languages"] for s in document["services"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["services"][0].update(id="service-1"), "is not a 'uuid'"),
        (lambda d: d["services"][0].update(status="open"), "is not one of"),
        (lambda d: d["services"][0].pop("name"), "'name' is a required property"),
        (lambda d: d["services"][0].update(capacity=3), "Additional properties"),
        (
            lambda d: d["organizations"][0]["locations"][0].update(location_type="secret"),
            "is not one of",
        ),
        (
            lambda d: d["organizations"][0]["locations"][0].update(postal_code="HX9 4QT"),
            "Additional properties",
        ),
        (
            lambda d: d["services"][0]["capacities"][0].update(updated="yesterday"),
            "is not a 'date-time'",
        ),
        (lambda d: d["services"][0]["capacities"][0].pop("unit"), "'unit' is a required property"),
        (lambda d: d["services"][0]["languages"][0].update(id=7), "is not of type 'string'"),
    ],
)
@needs_the_schemas
def test_the_validation_catches_what_is_not_hsds(
    directory: dict[str, Any], change: Any, expected: str
) -> None:
    """The validator is not vacuous: each of these breaks one rule of the schemas."""
    document = export()
    document["services"].sort(key=lambda s: -len(s["capacities"]))
    change(document)
    found = problems(document)
    assert any(expected in problem for problem in found), found


# --- No address, ever -----------------------------------------------------------------------------


def test_no_address_postcode_or_coordinates_ever_appear(
    directory: dict[str, Any], maya: User, cora: User, provider: Organisation
) -> None:
    """Not even for those who may see the address on the pages: the site's own manager, and a
    coordinator holding the permission. Every location is redacted and has no place fields."""
    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    for site in Site.objects.filter(provider=provider):
        s.grant_address(cora, site, by=admin)
    texts = [json.dumps(export())]
    for person in (maya, cora):
        _, secret = a.token(person, provider, scopes=[a.DIRECTORY_READ])
        response = a.client_with(secret).get("/api/v1/directory/hsds")
        assert response.status_code == 200
        texts.append(response.content.decode())
        page = factories.signed_in_client(person).get("/support/directory/hsds.json")
        texts.append(page.content.decode())
    for text in texts:
        for leak in LEAKS:
            assert leak not in text
        assert not set(numbers(json.loads(text))) & set(COORDINATES)
    document = export()
    locations = [
        *(loc for org in document["organizations"] for loc in org["locations"]),
        *(at["location"] for svc in document["services"] for at in svc["service_at_locations"]),
    ]
    assert len(locations) == 7
    for location in locations:
        assert location["location_type"] == "redacted"
        assert not {"addresses", "latitude", "longitude", "url"} & set(location)
        assert "confidential" in location["description"]


# --- What it says ---------------------------------------------------------------------------------


def test_providers_services_and_sites_as_the_directory_page_lists_them(
    directory: dict[str, Any], provider: Organisation
) -> None:
    document = export()
    assert [o["name"] for o in document["organizations"]] == ["Other Shelter", "Test Refuge"]
    refuge = document["organizations"][1]
    assert refuge["id"] == str(hsds.organisation_id(provider.pk))
    assert {loc["name"] for loc in refuge["locations"]} == {"North House", "Flats", "Drop-in"}
    assert {svc["name"] for svc in document["services"]} == {
        "Safe accommodation for women",
        "Outreach advice",
    }
    # A closed provider leaves the directory, as on the page.
    Organisation.objects.filter(pk=provider.pk).update(is_active=False)
    assert [o["name"] for o in export()["organizations"]] == ["Other Shelter"]


def test_a_service_with_its_eligibility_languages_and_where_it_is_offered(
    directory: dict[str, Any],
) -> None:
    service = by_id(export()["services"])[str(directory["service"].public_id)]
    assert service["status"] == "active"
    assert service["eligibility_description"] == (
        "Sex: female. Ages 18 to 25. Survivors of sexual exploitation or labour exploitation."
    )
    assert (service["minimum_age"], service["maximum_age"]) == (18, 25)
    assert [(lang["code"], lang["name"]) for lang in service["languages"]] == [
        ("en", "English"),
        ("sq", "Albanian"),
        ("ro", "Romanian"),
    ]
    terms = {
        (at["link_type"], at["taxonomy_term"]["taxonomy"], at["taxonomy_term"]["code"])
        for at in service["attributes"]
    }
    assert terms == {
        ("eligibility", "OpenNRM: sex", "female"),
        ("eligibility", "OpenNRM: type of exploitation", "sexual"),
        ("eligibility", "OpenNRM: type of exploitation", "labour"),
    }
    assert all(at["link_id"] == service["id"] for at in service["attributes"])
    where = {at["location"]["name"]: at["location"] for at in service["service_at_locations"]}
    assert set(where) == {"North House", "Flats"}, "not the closed site"
    assert where["Flats"]["description"].startswith(
        "Dispersed accommodation (flats), mixed, in London."
    )
    accessibility = [item["description"] for item in where["Flats"]["accessibility"]]
    assert accessibility == [
        "Wheelchair-accessible rooms",
        "Step-free entrance; hearing loop in the office.",
    ]
    house_terms = {at["taxonomy_term"]["code"] for at in where["North House"]["attributes"]}
    assert house_terms == {"safe_house", "women_only", "north_west", "sexual_exploitation"}
    assert [lang["code"] for lang in where["North House"]["languages"]] == ["en", "sq"]


def test_capacity_in_beds_as_hsds_3_1_service_capacity(directory: dict[str, Any]) -> None:
    """The house's three beds (one offered, one out of service, one free) and the flats' one
    free bed: 2 of 4 available. The outreach service has no beds, and so no capacity."""
    services_by_id = by_id(export()["services"])
    [capacity] = services_by_id[str(directory["service"].public_id)]["capacities"]
    assert capacity["unit"] == {"id": str(hsds.BED_UNIT_ID), "name": "Bed"}
    assert capacity["unit_id"] == str(hsds.BED_UNIT_ID)
    assert (capacity["available"], capacity["maximum"]) == (2, 4)
    # Free and total only, and the day of the last change, not its moment: a referrer told
    # "offered with this provider" must not be able to match the time to a site.
    assert "reserved" not in capacity["description"]
    assert "occupied" not in capacity["description"]
    last = BedEvent.objects.filter(
        bed__room__site__in=[directory["house"], directory["flats"]]
    ).latest("at")
    assert capacity["updated"] == f"{last.at.astimezone(UTC):%Y-%m-%d}T00:00:00.000+00:00"
    assert services_by_id[str(directory["outreach"].public_id)]["capacities"] == []


def test_capacity_follows_the_beds(directory: dict[str, Any], cora: User, maya: User) -> None:
    before = by_id(export()["services"])[str(directory["service"].public_id)]["capacities"][0]
    free = Bed.objects.filter(room__site=directory["flats"]).get()
    services.bed_set_in_service(by=maya, bed=free, in_service=False, reason="Repairs")
    after = by_id(export()["services"])[str(directory["service"].public_id)]["capacities"][0]
    assert (before["available"], after["available"]) == (2, 1)
    assert after["maximum"] == 4
    change = BedEvent.objects.filter(bed=free).latest("id")
    assert after["updated"] == f"{change.at.astimezone(UTC):%Y-%m-%d}T00:00:00.000+00:00"


def test_surge_places_count_only_once_their_surge_is_under_way(
    directory: dict[str, Any], maya: User
) -> None:
    """The export is public, and a confidential operation is secret until it starts: its surge
    places at a site must not raise the site's capacity before then (found in review)."""
    from opennrm.accommodation import surge

    today = timezone.localdate()
    surge.add_surge_beds(
        directory["flats"],
        room_name="Extra places 1",
        places=3,
        operation_id=1,
        starts_on=today + timedelta(days=2),
        ends_on=today + timedelta(days=9),
        by=maya,
    )

    def capacity() -> tuple[int, int]:
        entry = by_id(export()["services"])[str(directory["service"].public_id)]
        return entry["capacities"][0]["available"], entry["capacities"][0]["maximum"]

    assert capacity() == (2, 4)
    with time_machine.travel(today + timedelta(days=3), tick=False):
        assert capacity() == (5, 7)


def test_ids_are_uuids_and_the_same_in_every_export(directory: dict[str, Any]) -> None:
    first, second = export(), export()
    first.pop("generated_at")
    second.pop("generated_at")
    assert first == second

    def ids(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [v for k, v in node.items() if k == "id" or k.endswith("_id")]
            return found + [i for v in node.values() for i in ids(v)]
        if isinstance(node, list):
            return [i for v in node for i in ids(v)]
        return []

    every = ids(first)
    assert len(every) > 50
    for value in every:
        assert str(uuid.UUID(value)) == value
    # Services and sites keep the ids they have in OpenNRM.
    assert str(directory["house"].public_id) in every
    assert str(directory["service"].public_id) in every


def test_a_withdrawn_service_and_a_closed_site_are_left_out(directory: dict[str, Any]) -> None:
    text = json.dumps(export())
    assert str(directory["withdrawn"].public_id) not in text
    assert str(directory["closed"].public_id) not in text
    assert "Closed House" not in text


@needs_the_schemas
def test_the_builder_is_pure(directory: dict[str, Any]) -> None:
    """The same document from plain values, without the database."""
    provider = hsds.Provider(pk=1, name="A Refuge")
    site = hsds.SiteEntry(
        public_id=uuid.UUID(int=1),
        provider_pk=1,
        name="House A",
        kind="safe_house",
        region="wales",
        setting="women_only",
        beds=hsds.BedCount(
            beds=3, free=1, occupied=2, updated=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        ),
    )
    service = hsds.ServiceEntry(
        public_id=uuid.UUID(int=2), provider_pk=1, name="Beds", sites=(site.public_id,)
    )
    document = hsds.document([provider], [service], [site], datetime(2026, 1, 3, tzinfo=UTC))
    assert problems(document) == []
    [capacity] = document["services"][0]["capacities"]
    assert (capacity["available"], capacity["maximum"], capacity["updated"]) == (
        1,
        3,
        "2026-01-02T00:00:00.000+00:00",
    )
    assert document["services"][0]["eligibility_description"] == (
        "Anyone referred as a potential victim of trafficking."
    )


# --- Who gets it ----------------------------------------------------------------------------------


def test_the_api_serves_it_to_any_role_with_the_scope(
    directory: dict[str, Any], people_in_every_role: dict[Role, User]
) -> None:
    expected = export()
    expected.pop("generated_at")
    for role, person in people_in_every_role.items():
        organisation = person.memberships.get().organisation
        _, secret = a.token(person, organisation, scopes=[a.DIRECTORY_READ])
        response = a.client_with(secret).get("/api/v1/directory/hsds")
        assert response.status_code == 200, role
        served = response.json()
        served.pop("generated_at")
        assert served == expected, role


def test_a_token_without_the_scope_is_refused(alice: User, northmoor_police: Organisation) -> None:
    _, secret = a.token(alice, northmoor_police, scopes=[a.CASES_READ])
    response = a.client_with(secret).get("/api/v1/directory/hsds")
    assert response.status_code == 403
    assert "'directory:read' scope" in response.json()["errors"][0]["message"]


@needs_the_schemas
def test_the_directory_page_offers_the_same_document_to_download(
    directory: dict[str, Any], alice: User
) -> None:
    client = factories.signed_in_client(alice)
    page = client.get("/support/directory/").content.decode()
    assert 'href="/support/directory/hsds.json"' in page
    response = client.get("/support/directory/hsds.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="opennrm-directory-hsds-'
    )
    downloaded = json.loads(response.content)
    expected = export()
    assert downloaded.pop("generated_at") <= expected.pop("generated_at")
    assert downloaded == expected
    assert problems(json.loads(response.content)) == []


def test_the_download_needs_a_signed_in_user(db: None) -> None:
    from django.test import Client

    response = Client().get("/support/directory/hsds.json")
    assert response.status_code in (302, 404)
    assert response["Content-Type"] != "application/json"


def test_the_services_and_sites_public_ids_are_their_own(directory: dict[str, Any]) -> None:
    """HSDS ids of services and sites are the model's `public_id` (not derived), so they are
    stable and unguessable; an organisation's is derived from its primary key."""
    assert Service.objects.filter(public_id=directory["service"].public_id).exists()
    assert Site.objects.filter(public_id=directory["house"].public_id).exists()
    organisation = factories.organisation("Newly Made", OrganisationKind.SUPPORT_PROVIDER)
    assert hsds.organisation_id(organisation.pk) == uuid.uuid5(
        hsds.NAMESPACE, f"organization/{organisation.pk}"
    )
