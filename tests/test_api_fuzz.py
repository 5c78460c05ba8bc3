"""The API fuzzed with schemathesis, against the running app and its OpenAPI document.

Django's live test server runs the app. For every operation in the OpenAPI document it serves
(`/api/v1/openapi.json`), schemathesis sends generated requests, valid and invalid, over HTTP,
authenticated with real tokens acting for members whose roles the operation allows, so that
requests get past the door and reach the handlers. In valid requests, path parameters are
swapped, three times in four, for records that exist (cases at each stage, a decision awaiting
approval, a request for reconsideration, each queue; safe-house sites, placement requests, and
placements at each step from proposed to occupied), so that handlers go past "not found" and
into their forms and services. Every response must be no server error and must keep to the document: a status code
it lists, its content type, its headers, a body that fits the schema for that status; invalid
requests must be refused.

Run with `make test-fuzz` (CI runs it); `make test-suite` leaves it out (marker `fuzz`). The
number of examples per operation is bounded (`FUZZ_EXAMPLES`, default 50) and the run is
derandomised, so CI sees the same requests every time; set `FUZZ_EXAMPLES` higher, or
`FUZZ_RANDOM=1`, to search further by hand.

Everything the server writes goes to the test database, which is emptied after each operation's
test; Hypothesis keeps no example database and schemathesis no cache or report on disk (only
Hypothesis's own git-ignored cache of Unicode tables in .hypothesis/, as for every Hypothesis
test).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from opennrm.accommodation import services as support
from opennrm.accounts import access
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.api.urls import api
from opennrm.cases.choices import CaseStatus
from opennrm.decisions import services as decisions
from opennrm.screening import catalogue
from opennrm.screening import services as screening
from opennrm.screening.models import IndicatorCatalogue

from . import api_helpers as a
from . import case_factories, factories, operation_helpers, routes
from . import support_factories as s

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") != "1"
# The members the fuzzer's tokens act for, in the order a token is chosen for an operation.
FUZZ_ROLES = (
    Role.FIRST_RESPONDER,
    Role.DECISION_MAKER,
    Role.SENIOR_DECISION_MAKER,
    Role.SUPPORT_COORDINATOR,
    Role.SAFE_HOUSE_MANAGER,
    Role.ANALYST,
    Role.IMMIGRATION_ENFORCEMENT,
)
QUEUES = ("reasonable-grounds", "conclusive-grounds", "reconsiderations", "approvals")


def _document() -> dict[str, Any]:
    """The OpenAPI document as the app serves it (through JSON: the app's own dict has whole
    numbers for status codes)."""
    return json.loads(json.dumps(api.get_openapi_schema()))


# The answers that refuse a request the schema does not allow: schemathesis's own list, and 413.
NEGATIVE_REFUSALS = [
    *("400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"),
    "5xx",
]

# Loaded when the tests are collected, so that each operation is a test of its own (and pytest
# can report them apart). The `server` fixture checks that the live server serves exactly this
# document before any request is sent.
schema = schemathesis.openapi.from_dict(
    _document(),
    config=schemathesis.Config.from_dict(
        {
            "cache": {"enabled": False},
            "generation": {"max-examples": EXAMPLES},
            # A body over the API's limit is refused unread with 413 (the request screening
            # middleware), before anything could check it: as good a refusal as a 400.
            "checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_REFUSALS}},
        }
    ),
)


@dataclass
class World:
    """Records that exist, and a token for each role the fuzzer acts in."""

    tokens: dict[Role, str]
    references: list[str]
    decision_ids: list[int]
    reconsideration_ids: list[int]
    site_ids: list[int]
    placement_request_ids: list[int]
    placement_ids: list[int]
    operation_ids: list[int]


# The world of the test running now, for the auth provider below (schemathesis calls it as it
# generates each request, outside the test function).
_current: dict[str, World] = {}


@schema.auth(refresh_interval=None, retry_on=[])
class Tokens:
    """A real token for every generated request, acting for a member whose role the operation
    allows. Requests that schemathesis makes without credentials on purpose are left without."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
        return token_for(_current["world"], case.operation.method, case.operation.path)

    def set(
        self, case: schemathesis.Case, data: str | None, context: schemathesis.AuthContext
    ) -> None:
        if data is not None:  # the published statistics take no token
            case.headers["Authorization"] = f"Bearer {data}"


def token_for(world: World, method: str, path: str) -> str | None:
    """A token for the operation, or None for a public one (the published statistics)."""
    if (method.upper(), _route_of(path)) in access.PUBLIC_API_OPERATIONS:
        return None
    rule = access.api_rule_for(method, _route_of(path))
    assert rule is not None, (method, path)
    for role in FUZZ_ROLES:
        if role in rule.roles:
            return world.tokens[role]
    raise AssertionError(f"None of the fuzzer's members may use {method.upper()} {path}")


def _route_of(path: str) -> str:
    return routes.api_route_of(path)


@pytest.fixture
def world(
    transactional_db: None,
    northmoor_police: Organisation,
    routing: Organisation,
    provider: Organisation,
    border_enforcement: Organisation,
) -> Iterator[World]:
    """A first responder's organisation and a competent authority with two decision makers, and
    cases at each stage: awaiting reasonable grounds; a negative decision awaiting approval; a
    negative decision in effect, with a request for reconsideration; in the recovery period.
    A support provider with a coordinator and a safe-house manager, two sites with beds, and
    placements at each step (proposed, offered, accepted, occupied) and requests waiting."""
    if not IndicatorCatalogue.objects.exists():
        # The database is emptied between live-server tests, catalogue and all.
        screening.catalogue_load(by=None, data=json.loads(catalogue.BUNDLED_PATH.read_text()))
    authority = routing
    people: dict[Role, User] = {
        role: factories.user(
            f"fuzz-{role.value}@example.org",
            organisation=(
                northmoor_police
                if role is Role.FIRST_RESPONDER
                else provider
                if role in (Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER)
                else border_enforcement
                if role is Role.IMMIGRATION_ENFORCEMENT
                else authority
            ),
            role=role,
        )
        for role in FUZZ_ROLES
    }
    responder = people[Role.FIRST_RESPONDER]
    decider, senior = people[Role.DECISION_MAKER], people[Role.SENIOR_DECISION_MAKER]

    def new_case(**fields: Any):
        return case_factories.case(
            referred_by=responder,
            referring_organisation=northmoor_police,
            authority=authority,
            **fields,
        )

    def negative(case):
        return decisions.decision_record_reasonable_grounds(
            by=decider,
            case=case,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="Fictional reasons.",
            expected_version=case.version,
        )

    waiting, awaiting_approval, refused = new_case(), new_case(), new_case()
    pending = negative(awaiting_approval)
    in_effect = decisions.decision_approve(by=senior, decision=negative(refused), approve=True)
    refused.refresh_from_db()
    request = decisions.reconsideration_request(
        by=responder, case=refused, grounds="New evidence.", expected_version=refused.version
    )
    recovery = new_case(status=CaseStatus.RECOVERY_PERIOD)
    sites, placement_requests, placements = _support_world(
        people[Role.SUPPORT_COORDINATOR], people[Role.SAFE_HOUSE_MANAGER], provider, new_case
    )
    built = World(
        tokens={
            role: a.token(person, person.memberships.get().organisation, scopes=a.EVERY_SCOPE)[1]
            for role, person in people.items()
        },
        references=[c.reference for c in (waiting, awaiting_approval, refused, recovery)],
        decision_ids=[pending.pk, in_effect.pk],
        reconsideration_ids=[request.pk],
        site_ids=sites,
        placement_request_ids=placement_requests,
        placement_ids=placements,
        operation_ids=_operations(responder, northmoor_police, provider),
    )
    _current["world"] = built
    yield built
    _current.clear()


def _support_world(
    coordinator: User, manager: User, provider: Organisation, new_case: Any
) -> tuple[list[int], list[int], list[int]]:
    """Two sites with free beds; a place offered, one accepted, one lived in; two requests
    waiting, proposed a bed by a matching run. Returns the ids of the sites, the requests and
    the placements."""
    house = s.site(manager, provider)
    flats = s.site(manager, provider, kind="dispersed", setting="mixed", region="london")
    beds = s.beds(manager, house, 5) + s.beds(manager, flats, 2, wheelchair_accessible=True)
    offered = support.placement_make(by=coordinator, request=s.request(new_case()), bed=beds[0])
    accepted = support.placement_make(by=coordinator, request=s.request(new_case()), bed=beds[1])
    support.placement_respond(by=manager, placement=accepted, accept=True)
    lived_in = support.placement_make(by=coordinator, request=s.request(new_case()), bed=beds[2])
    support.placement_respond(by=manager, placement=lived_in, accept=True)
    support.placement_arrive(by=manager, placement=lived_in, on=s.day())
    waiting = [s.request(new_case()), s.request(new_case(), urgency="routine")]
    support.matching_run(by=coordinator)
    proposed = [p.pk for r in waiting for p in r.placements.all()]
    assert proposed, "matching proposed a bed for the requests waiting"
    return (
        [house.pk, flats.pk],
        [r.pk for r in waiting] + [offered.request_id],
        # Each step within the first four, which the fuzzer draws from.
        [offered.pk, accepted.pk, lived_in.pk, *proposed],
    )


@pytest.fixture
def server(world: World, live_server, settings) -> str:
    """The running app's address, once it is seen to serve the document being fuzzed."""
    # The fuzzer is one client making many requests: the rate limit is not under test here.
    settings.API_TOKEN_REQUESTS_PER_MINUTE = 1_000_000
    settings.API_ADDRESS_REQUESTS_PER_MINUTE = 1_000_000
    served = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == _document()
    return str(live_server.url)


@schema.parametrize()
# Three requests in four name records that exist; the fourth keeps what was generated.
@schema.given(
    known=st.sampled_from([True, True, True, False]),
    which=st.integers(min_value=0, max_value=len(QUEUES) - 1),
)
@hypothesis.settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_api_survives_fuzzing_and_keeps_to_its_schema(
    case: schemathesis.Case, known: bool, which: int, world: World, server: str
) -> None:
    negative_path = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    if known and case.path_parameters and not negative_path:
        real: dict[str, Any] = {
            "reference": world.references[which % len(world.references)],
            "decision_id": world.decision_ids[which % len(world.decision_ids)],
            "request_id": world.reconsideration_ids[which % len(world.reconsideration_ids)],
            "name": QUEUES[which],
            "site_id": world.site_ids[which % len(world.site_ids)],
            "placement_request_id": world.placement_request_ids[
                which % len(world.placement_request_ids)
            ],
            "placement_id": world.placement_ids[which % len(world.placement_ids)],
            "operation_id": world.operation_ids[which % len(world.operation_ids)],
        }
        case.path_parameters = {
            name: real.get(name, value) for name, value in case.path_parameters.items()
        }
    # Every check schemathesis has, but one: "a request the schema allows is accepted" cannot
    # hold for an API whose forms and services refuse what no schema can express (the decision
    # maker who made a decision approving it, an e-mail address that is no decision maker's,
    # a conclusive decision before its date). Those refusals are 422s the document lists, and
    # the status, content type and body of every response are still checked against it.
    case.call_and_validate(base_url=server, excluded_checks=[positive_data_acceptance])


def _operations(responder: User, police: Organisation, provider: Organisation) -> list[int]:
    """Operations the police lead and the provider is invited to: the handlers run past
    "not found" for the first responder, the coordinator and the safe-house manager. One is
    planned; one is under way, with a person taken in, so that taking people in reaches the
    service and the list of people taken in has someone in it."""
    from opennrm.operations import services as operations

    today = timezone.localdate()
    planned = operation_helpers.operation(responder, police)
    under_way = operation_helpers.operation(
        responder,
        police,
        name="Operation Foxglove",
        starts_on=today,
        ends_on=today + timedelta(days=6),
    )
    for operation in (planned, under_way):
        operations.operation_partner_invite(
            by=responder, operation=operation, organisation=provider, role="support_provider"
        )
    operations.reception_take_in(
        by=responder,
        operation=under_way,
        name_or_description="Fuzz Testova",
        sex="female",
        age_group="adult",
    )
    return [planned.pk, under_way.pk]


def test_every_operation_has_a_fuzzing_token(world: World) -> None:
    """Each operation in the document can be fuzzed past the door: one of the fuzzer's members
    holds a role its rule allows (an operation for other roles only needs one added here)."""
    for path, methods in _document()["paths"].items():
        for method in methods:
            if (method.upper(), _route_of(path)) in access.PUBLIC_API_OPERATIONS:
                continue  # no token at all: the published statistics
            assert token_for(world, method, path) in world.tokens.values()
