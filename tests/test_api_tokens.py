"""API tokens: only a working token of the right scope, acting for a member with the right role,
reaches an operation; sessions reach nothing; every token write is audited; every operation has
a rule; the documentation is served."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from opennrm.accommodation import services as support
from opennrm.accommodation.models import Bed
from opennrm.accounts import access
from opennrm.accounts import services as account_services
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.api import selectors, services
from opennrm.api.models import ApiToken, TokenScope
from opennrm.api.urls import api
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.referrals import api_submission
from opennrm.referrals.models import ReferralDraft

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r
from . import support_factories as s

NO_TOKEN = "Send an API token in the Authorization header: 'Authorization: Bearer <token>'"


def refused(response, status: int = 401) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    return str(error["message"])


class TestWhoGetsIn:
    def test_a_working_token_gets_in_and_its_use_is_noted(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        token, secret = a.token(alice, northmoor_police)
        assert token.last_used_at is None
        assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 200
        token.refresh_from_db()
        assert token.last_used_at is not None

    @pytest.mark.parametrize(
        ("headers", "message"),
        [
            ({}, NO_TOKEN),
            ({"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}, NO_TOKEN),
            ({"Authorization": "Bearer onrm_not-a-real-token"}, "This API token is not known"),
            ({"Authorization": "Bearer "}, "This API token is not known"),
        ],
    )
    def test_no_token_or_an_unknown_one_gets_401(
        self, alice: User, northmoor_police: Organisation, headers: dict, message: str
    ) -> None:
        a.token(alice, northmoor_police)
        assert refused(Client(headers=headers).get(a.REFERRALS_URL)) == message
        assert refused(a.post_referral(Client(headers=headers), r.ADULT_REFERRAL)) == message
        assert not ReferralDraft.objects.exists()

    def test_an_expired_token_gets_401(self, alice: User, northmoor_police: Organisation) -> None:
        _, secret = a.token(alice, northmoor_police, days=1)
        with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
            message = refused(a.client_with(secret).get(a.REFERRALS_URL))
        assert message == "This API token has expired"

    def test_a_revoked_token_gets_401(
        self, alice: User, olivia: User, northmoor_police: Organisation
    ) -> None:
        token, secret = a.token(alice, northmoor_police)
        services.api_token_revoke(by=olivia, token=token)
        assert refused(a.client_with(secret).get(a.REFERRALS_URL)) == (
            "This API token has been revoked"
        )

    def test_a_token_whose_member_was_removed_gets_401(
        self, alice: User, olivia: User, northmoor_police: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police)
        account_services.membership_set_active(
            by=olivia, membership=alice.memberships.get(), active=False
        )
        assert "no longer active" in refused(a.client_with(secret).get(a.REFERRALS_URL))

    def test_a_token_whose_member_account_was_closed_gets_401(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police)
        User.objects.filter(pk=alice.pk).update(is_active=False)
        assert "no longer active" in refused(a.client_with(secret).get(a.REFERRALS_URL))

    def test_a_token_of_a_closed_organisation_gets_401(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police)
        Organisation.objects.filter(pk=northmoor_police.pk).update(is_active=False)
        assert "no longer active" in refused(a.client_with(secret).get(a.REFERRALS_URL))

    def test_a_demo_accounts_token_works_only_in_demo_mode(
        self, northmoor_police: Organisation, settings
    ) -> None:
        """Demo accounts have a published password, so anything made with one is as good as
        public: outside demo mode their tokens are refused, as their sign-in is."""
        demo = factories.user(
            "another-responder@demo.opennrm.test",
            organisation=northmoor_police,
            role=Role.FIRST_RESPONDER,
            is_demo_account=True,
        )
        token, secret = a.token(demo, northmoor_police)
        settings.DEMO = False
        message = refused(a.client_with(secret).get(a.REFERRALS_URL))
        assert (
            message == "This API token belongs to a demonstration account, which cannot be "
            "used on this service"
        )
        token.refresh_from_db()
        assert token.last_used_at is None
        settings.DEMO = True
        assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 200

    def test_a_read_only_token_cannot_submit(
        self, alice: User, northmoor_police: Organisation, routing: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police, scopes=[a.READ])
        client = a.client_with(secret)
        message = refused(a.post_referral(client, r.ADULT_REFERRAL), status=403)
        assert "'referrals:write' scope" in message
        assert not ReferralDraft.objects.exists()
        assert client.get(a.REFERRALS_URL).status_code == 200

    def test_a_write_only_token_cannot_read(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police, scopes=[a.WRITE])
        message = refused(a.client_with(secret).get(a.REFERRALS_URL), status=403)
        assert "'referrals:read' scope" in message

    def test_a_token_gets_exactly_its_members_roles(
        self, olivia: User, northmoor_police: Organisation, routing: Organisation
    ) -> None:
        """Olivia administers Northmoor Police's accounts but refers nobody: nor can her token."""
        _, secret = a.token(olivia, northmoor_police)
        client = a.client_with(secret)
        assert "does not hold a role" in refused(client.get(a.REFERRALS_URL), status=403)
        refused(a.post_referral(client, r.ADULT_REFERRAL), status=403)
        assert not ReferralDraft.objects.exists()

    def test_roles_elsewhere_do_not_come_with_the_token(
        self, olivia: User, northmoor_police: Organisation, southvale_police: Organisation
    ) -> None:
        """A first responder at Southvale is only an administrator at Northmoor; a Northmoor
        token acting for her may not refer, and sees nothing of Southvale's."""
        Membership.objects.create(
            user=olivia, organisation=southvale_police, role=Role.FIRST_RESPONDER
        )
        _, secret = a.token(olivia, northmoor_police)
        refused(a.client_with(secret).get(a.REFERRALS_URL), status=403)

    def test_a_signed_in_session_reaches_nothing(self, alice: User, routing: Organisation) -> None:
        """The API takes bearer tokens only: a browser's session cookie gets 401, even for a
        safe GET, so no page can be tricked into using the API for its user."""
        browser = factories.signed_in_client(alice)
        browser.handler.enforce_csrf_checks = True
        assert refused(browser.get(a.REFERRALS_URL)) == NO_TOKEN
        assert refused(a.post_referral(browser, r.ADULT_REFERRAL)) == NO_TOKEN
        assert not ReferralDraft.objects.exists()

    def test_a_token_needs_no_csrf_token(
        self, alice: User, northmoor_police: Organisation, routing: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police)
        client = a.client_with(secret, enforce_csrf_checks=True)
        assert a.post_referral(client, r.ADULT_REFERRAL).status_code == 201
        assert Case.objects.count() == 1


class TestTheAccessTable:
    def operations(self) -> set[tuple[str, str]]:
        """Every API operation, as (method, route name), from the OpenAPI document."""
        schema = api.get_openapi_schema()
        found = set()
        for path, methods in schema["paths"].items():
            route = resolve(path.replace("{reference}", "NRM-TEST-0001")).view_name
            found |= {(method.upper(), route) for method in methods}
        return found

    def test_every_api_operation_has_a_rule_and_every_rule_an_operation(self) -> None:
        # The public ones (published statistics) take no token, so have no rule: listed apart.
        assert self.operations() == set(access.API_OPERATIONS) | access.PUBLIC_API_OPERATIONS
        assert not set(access.API_OPERATIONS) & access.PUBLIC_API_OPERATIONS

    def test_every_rule_names_a_scope_a_token_can_carry(self) -> None:
        assert {rule.scope for rule in access.API_OPERATIONS.values()} <= set(TokenScope.values)

    def test_an_operation_without_a_rule_is_refused(
        self,
        alice: User,
        northmoor_police: Organisation,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.delitem(access.API_OPERATIONS, ("GET", "api:referrals"))
        _, secret = a.token(alice, northmoor_police)
        assert refused(a.client_with(secret).get(a.REFERRALS_URL), status=404) == "Not found"

    def test_the_api_namespace_is_in_the_access_table(self) -> None:
        assert access.NAMESPACES["api"] == access.API


class TestCreatingAndRevoking:
    def test_only_a_hash_of_the_secret_is_stored(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        token, secret = a.token(alice, northmoor_police)
        assert secret.startswith(token.prefix)
        assert token.prefix.startswith("onrm_")
        assert len(secret) > 40
        stored = str(ApiToken.objects.filter(pk=token.pk).values().get())
        assert secret not in stored
        assert secret[len(token.prefix) :] not in stored
        assert token.secret_hash == selectors.hash_secret(secret)

    def test_an_administrator_creates_tokens_for_their_organisation_only(
        self, alice: User, olivia: User, oscar: User, northmoor_police: Organisation
    ) -> None:
        expires = timezone.now() + timedelta(days=30)
        services.api_token_create(
            by=olivia,
            organisation=northmoor_police,
            acts_as=alice,
            name="Sync",
            scopes=[a.READ],
            expires_at=expires,
        )
        for outsider in (oscar, alice):
            with pytest.raises(ValidationError, match="only for organisations you administer"):
                services.api_token_create(
                    by=outsider,
                    organisation=northmoor_police,
                    acts_as=alice,
                    name="Sync",
                    scopes=[a.READ],
                    expires_at=expires,
                )

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"acts_as": "charlie"}, "acts_as"),
            ({"name": "  "}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"scopes": []}, "scopes"),
            ({"scopes": ["referrals:read", "cases:delete"]}, "scopes"),
            ({"expires_at": timedelta(seconds=-1)}, "expires_at"),
            ({"expires_at": timedelta(days=366)}, "expires_at"),
        ],
    )
    def test_a_token_that_cannot_be_made_is_refused_saying_why(
        self,
        alice: User,
        charlie: User,
        northmoor_police: Organisation,
        change: dict,
        field: str,
    ) -> None:
        arguments = {
            "by": None,
            "organisation": northmoor_police,
            "acts_as": alice,
            "name": "Sync",
            "scopes": [a.READ],
            "expires_at": timezone.now() + timedelta(days=30),
        }
        arguments.update(change)
        if change.get("acts_as"):
            arguments["acts_as"] = charlie
        if isinstance(change.get("expires_at"), timedelta):
            arguments["expires_at"] = timezone.now() + change["expires_at"]
        with pytest.raises(ValidationError) as refusal:
            services.api_token_create(**arguments)
        assert set(refusal.value.message_dict) == {field}
        assert not ApiToken.objects.exists()


# Each case calls one write service of the api app (or the API's referral submission) once; test_every_write_service_is_covered
# checks that every public function there is listed, or says why it writes no event.
WRITES: dict[str, Callable[[dict], object]] = {
    "api_token_create": lambda w: a.token(w["alice"], w["org"]),
    "api_token_revoke": lambda w: services.api_token_revoke(by=w["olivia"], token=w["token"]),
    "api_referral_submit": lambda w: api_submission.api_referral_submit(
        by=w["alice"], organisation=w["org"], answers=r.ADULT_REFERRAL, idempotency_key="k"
    ),
}
NOT_AUDITED = {
    # Runs on every request; what the request does is audited by the service it calls.
    "api_token_record_use",
    # A read: the forms' verdict on a referral's answers.
    "answer_errors",
}


@pytest.fixture
def world(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    routing: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
) -> dict:
    token, _ = a.token(alice, northmoor_police)
    return {
        "alice": alice,
        "olivia": olivia,
        "org": northmoor_police,
        "token": token,
        **_support_world(alice, northmoor_police, routing, cora, maya, provider),
    }


def _support_world(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
) -> dict:
    """A safe house; a proposal from a matching run; a place offered, one accepted, one lived
    in; a request waiting to be placed by hand in a free bed; and API clients for the
    coordinator and the safe-house manager."""

    def request() -> object:
        case = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        return s.request(case)

    beds = s.beds(maya, s.site(maya, provider), 5)
    offered = support.placement_make(by=cora, request=request(), bed=beds[0])
    accepted = support.placement_make(by=cora, request=request(), bed=beds[1])
    support.placement_respond(by=maya, placement=accepted, accept=True)
    lived_in = support.placement_make(by=cora, request=request(), bed=beds[2])
    support.placement_respond(by=maya, placement=lived_in, accept=True)
    support.placement_arrive(by=maya, placement=lived_in, on=timezone.localdate())
    waiting = request()
    support.matching_run(by=cora)
    (proposed,) = waiting.placements.all()
    free = Bed.objects.exclude(pk=proposed.bed_id).filter(pk__in=[b.pk for b in beds[3:]]).get()
    return {
        "coordinator": a.client_with(a.token(cora, provider, scopes=[a.SUPPORT_WRITE])[1]),
        "manager": a.client_with(a.token(maya, provider, scopes=[a.SUPPORT_WRITE])[1]),
        "proposed": proposed,
        "offered": offered,
        "accepted": accepted,
        "lived_in": lived_in,
        "to_place": request(),
        "free_bed": free,
    }


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_api_write_leaves_one_event_of_its_own(world: dict, name: str) -> None:
    own = AuditEvent.objects.filter(action__startswith="api")
    before = own.count()
    WRITES[name](world)
    assert own.count() == before + 1


# Each write of the support API, called once through the API: the action of the one audit
# event it must leave (its service's), and the call. test_every_support_api_write_is_covered
# checks that every operation with the support:write scope is listed.
SUPPORT_API_WRITES: dict[tuple[str, str], tuple[str, Callable[[dict], Any]]] = {
    ("POST", "api:support_matching"): (
        "matching.run",
        lambda w: w["coordinator"].post("/api/v1/support/matching"),
    ),
    ("POST", "api:support_proposal_decision"): (
        "placement.confirmed",
        lambda w: a.post_json(
            w["coordinator"],
            f"/api/v1/support/proposals/{w['proposed'].pk}/decision",
            {"confirm": True},
        ),
    ),
    ("POST", "api:support_request_placement"): (
        "placement.made",
        lambda w: a.post_json(
            w["coordinator"],
            f"/api/v1/support/requests/{w['to_place'].pk}/placement",
            {"bed_id": w["free_bed"].pk},
        ),
    ),
    ("POST", "api:support_placement_response"): (
        "placement.declined",
        lambda w: a.post_json(
            w["manager"],
            f"/api/v1/support/placements/{w['offered'].pk}/response",
            {"accept": False, "reason": "safety"},
        ),
    ),
    ("POST", "api:support_placement_arrival"): (
        "placement.arrived",
        lambda w: a.post_json(
            w["manager"],
            f"/api/v1/support/placements/{w['accepted'].pk}/arrival",
            {"arrived_on": timezone.localdate().isoformat()},
        ),
    ),
    ("POST", "api:support_placement_exit"): (
        "placement.ended",
        lambda w: a.post_json(
            w["manager"],
            f"/api/v1/support/placements/{w['lived_in'].pk}/exit",
            {"ended_on": timezone.localdate().isoformat(), "reason": "moved_on"},
        ),
    ),
}


@pytest.mark.parametrize("operation", sorted(SUPPORT_API_WRITES))
def test_every_support_api_write_leaves_one_event_of_its_own(
    world: dict, operation: tuple[str, str]
) -> None:
    action, call = SUPPORT_API_WRITES[operation]
    before = AuditEvent.objects.count()
    response = call(world)
    assert response.status_code in (200, 201), response.content
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("id").action == action


def test_every_support_api_write_is_covered() -> None:
    writes = {op for op, rule in access.API_OPERATIONS.items() if rule.scope == "support:write"}
    assert writes == set(SUPPORT_API_WRITES)
    assert all(method == "POST" for method, _ in writes)


def test_every_write_service_is_covered() -> None:
    public = {
        name
        for module in (services, api_submission)
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    }
    assert public - NOT_AUDITED == set(WRITES)


def test_token_events_say_which_token_and_never_its_secret(
    alice: User, olivia: User, northmoor_police: Organisation
) -> None:
    token, secret = a.token(alice, northmoor_police)
    services.api_token_revoke(by=olivia, token=token)
    created, revoked = AuditEvent.objects.filter(action__startswith="api_token.").order_by("id")
    assert (created.action, created.actor, created.organisation) == (
        "api_token.created",
        None,
        northmoor_police,
    )
    assert created.detail["prefix"] == token.prefix
    assert created.detail["acts_as"] == alice.email
    assert (revoked.action, revoked.actor) == ("api_token.revoked", olivia)
    assert secret not in str(list(AuditEvent.objects.values()))


class TestCommands:
    def create(self, *args: str) -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        call_command("create_api_token", *args, stdout=out, stderr=err)
        return out.getvalue().strip(), err.getvalue()

    def test_create_prints_the_secret_once_and_it_works(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        secret, said = self.create(
            "--email",
            "ALICE@example.org",
            "--organisation",
            "northmoor police",
            "--name",
            "Case management sync",
            "--scopes",
            "referrals:read, referrals:write",
            "--days",
            "30",
        )
        token = ApiToken.objects.get()
        assert secret.startswith(token.prefix)
        assert secret not in said
        assert "only time the token is shown" in said
        assert (token.acts_as, token.organisation) == (alice, northmoor_police)
        assert token.scopes == ["referrals:read", "referrals:write"]
        assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
        assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 200

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"--email": "nobody@example.org"}, "--email: no account has the address"),
            (
                {"--email": "charlie@example.org"},
                "--email: charlie@example.org is not an active member of Northmoor Police",
            ),
            ({"--organisation": "Atlantis Police"}, "--organisation: no organisation is called"),
            ({"--scopes": "referrals:delete"}, "--scopes: Unknown scope referrals:delete"),
            ({"--scopes": " , "}, "--scopes: Give at least one scope"),
            ({"--days": "0"}, "--days: give a number of days from 1 to 365"),
            ({"--days": "400"}, "--days: give a number of days from 1 to 365"),
            ({"--name": " "}, "--name: Give the token a name"),
        ],
    )
    def test_create_says_what_is_wrong_with_its_arguments(
        self,
        alice: User,
        charlie: User,
        northmoor_police: Organisation,
        change: dict[str, str],
        message: str,
    ) -> None:
        arguments = {
            "--email": "alice@example.org",
            "--organisation": "Northmoor Police",
            "--name": "Sync",
            "--scopes": "referrals:read",
            "--days": "30",
            **change,
        }
        with pytest.raises(CommandError, match=message):
            self.create(*[part for pair in arguments.items() for part in pair])
        assert not ApiToken.objects.exists()

    def test_revoke_stops_the_token_at_once(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        token, secret = a.token(alice, northmoor_police)
        out = io.StringIO()
        call_command("revoke_api_token", "--prefix", token.prefix, stdout=out)
        assert "Revoked" in out.getvalue()
        assert refused(a.client_with(secret).get(a.REFERRALS_URL)) == (
            "This API token has been revoked"
        )
        with pytest.raises(CommandError, match="no API token starts with"):
            call_command("revoke_api_token", "--prefix", "onrm_nope")


class TestDocumentation:
    def test_the_openapi_schema_is_served_and_lists_the_operations(self) -> None:
        response = Client().get("/api/v1/openapi.json")
        assert response.status_code == 200
        schema = response.json()
        operations = {
            (method, path): operation
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        }
        assert set(operations) == {
            ("post", "/api/v1/referrals"),
            ("get", "/api/v1/referrals"),
            ("get", "/api/v1/referrals/{reference}"),
            ("get", "/api/v1/cases/{reference}"),
            ("get", "/api/v1/cases/{reference}/timeline"),
            ("post", "/api/v1/cases/{reference}/reconsideration"),
            ("get", "/api/v1/cases/{reference}/information-requests"),
            ("post", "/api/v1/cases/{reference}/information-requests"),
            ("post", "/api/v1/cases/{reference}/disqualification"),
            ("post", "/api/v1/cases/{reference}/additions"),
            ("get", "/api/v1/queues/{name}"),
            ("post", "/api/v1/cases/{reference}/decisions"),
            ("post", "/api/v1/decisions/{decision_id}/approval"),
            ("post", "/api/v1/reconsiderations/{request_id}/decision"),
            ("post", "/api/v1/cases/{reference}/assignment"),
            ("get", "/api/v1/support/requests"),
            ("post", "/api/v1/support/matching"),
            ("get", "/api/v1/support/proposals"),
            ("post", "/api/v1/support/proposals/{placement_id}/decision"),
            ("post", "/api/v1/support/requests/{placement_request_id}/placement"),
            ("get", "/api/v1/support/beds/free"),
            ("get", "/api/v1/support/placements"),
            ("get", "/api/v1/support/placements/{placement_id}"),
            ("post", "/api/v1/support/placements/{placement_id}/response"),
            ("post", "/api/v1/support/placements/{placement_id}/arrival"),
            ("post", "/api/v1/support/placements/{placement_id}/exit"),
            ("get", "/api/v1/support/sites"),
            ("get", "/api/v1/support/sites/{site_id}"),
            ("get", "/api/v1/support/capacity"),
            ("post", "/api/v1/statistics/private-counts"),
            ("get", "/api/v1/directory/hsds"),
            ("get", "/api/v1/statistics/releases"),
            ("get", "/api/v1/statistics/releases/{release_id}/versions/{number}"),
            ("get", "/api/v1/operations"),
            ("post", "/api/v1/operations"),
            ("get", "/api/v1/operations/{operation_id}"),
            ("get", "/api/v1/operations/{operation_id}/reception"),
            ("post", "/api/v1/operations/{operation_id}/reception"),
            ("get", "/api/v1/operations/{operation_id}/report"),
            ("get", "/api/v1/protection/{reference}"),
            ("post", "/api/v1/protection/{reference}/planned-removals"),
        }
        submit = operations[("post", "/api/v1/referrals")]
        assert submit["operationId"] == "referral_submit"
        assert set(submit["responses"]) >= {"201", "401", "403", "422"}
        assert "404" in operations[("get", "/api/v1/referrals/{reference}")]["responses"]
        public = {
            ("get", "/api/v1/statistics/releases"),
            ("get", "/api/v1/statistics/releases/{release_id}/versions/{number}"),
        }
        assert all(
            op["security"] == [{"TokenAuth": []}]
            for key, op in operations.items()
            if key not in public
        )
        assert all("security" not in operations[key] for key in public)
        assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
        # The body lists every step and, for each, the questions its page asks.
        body = schema["components"]["schemas"]["ReferralAnswers"]
        assert set(body["properties"]) == {
            "age",
            "consent",
            "person",
            "exploitation",
            "indicators",
            "account",
            "needs",
            "safety",
            "intelligence",
        }
        person = schema["components"]["schemas"]["PersonAnswers"]["properties"]
        assert {"given_names", "date_of_birth_day", "nationality_1"} <= set(person)

    def test_every_operation_with_a_body_documents_the_400_for_a_body_that_is_not_json(
        self, dmitri: User, authority: Organisation
    ) -> None:
        """Found by the fuzzer: the decision operations answered 400 without listing it."""
        document = Client().get("/api/v1/openapi.json").json()
        with_body = [
            (method, path, operation)
            for path, methods in document["paths"].items()
            for method, operation in methods.items()
            if "requestBody" in operation
        ]
        # 11, the two of referrals.api after submission, statistics' private counts, and
        # planning an operation and taking a person in during one; protection's planned removals
        assert len(with_body) == 18
        for method, path, operation in with_body:
            assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorsOut"
            }, (method, path)
        _, secret = a.token(dmitri, authority, scopes=a.EVERY_SCOPE)
        response = a.client_with(secret).post(
            "/api/v1/cases/NRM-0000-0000/assignment", b"\x00", content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json() == {
            "errors": [{"step": None, "field": None, "message": "Cannot parse request body"}]
        }

    def test_the_documentation_page_is_served_without_any_outside_script(self) -> None:
        response = Client().get("/api/v1/docs")
        assert response.status_code == 200
        html = response.content.decode()
        assert "/static/ninja/swagger-ui-bundle.js" in html
        assert "cdn." not in html
