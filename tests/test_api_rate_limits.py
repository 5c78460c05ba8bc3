"""API rate limits: a token that makes too many requests gets 429 with Retry-After, alone; a
caller without a valid token is limited by its address, taken as the audit trail takes it; the
counts live in the database cache, which every process shares."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.api.throttling import address_key
from opennrm.api.urls import api

from . import api_helpers as a
from .test_settings import PRODUCTION, run_python


def too_many(response) -> tuple[int, str]:
    """A 429 in the API's error shape: the seconds to wait and the message."""
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60
    message = str(error["message"])
    # The message says when to retry, in the same number of seconds as the header.
    said = re.search(r"Try again in (\d+) seconds?$", message)
    assert said is not None, message
    assert int(said.group(1)) == wait
    return wait, message


class TestPerToken:
    @pytest.fixture(autouse=True)
    def _three_a_minute(self, settings) -> None:
        settings.API_TOKEN_REQUESTS_PER_MINUTE = 3

    def test_a_token_over_its_limit_gets_429_and_another_token_is_unaffected(
        self, alice: User, bob: User, northmoor_police: Organisation
    ) -> None:
        _, first = a.token(alice, northmoor_police)
        _, second = a.token(bob, northmoor_police)
        busy, other = a.client_with(first), a.client_with(second)
        with time_machine.travel(timezone.now(), tick=False):
            for _ in range(3):
                assert busy.get(a.REFERRALS_URL).status_code == 200
            wait, message = too_many(busy.get(a.REFERRALS_URL))
            assert "this API token may make 3 requests a minute" in message
            assert wait == 60
            assert other.get(a.REFERRALS_URL).status_code == 200

    def test_the_token_works_again_once_the_minute_has_passed(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police)
        client = a.client_with(secret)
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            client.get(a.REFERRALS_URL)
            traveller.shift(20)
            client.get(a.REFERRALS_URL)
            client.get(a.REFERRALS_URL)
            wait, _ = too_many(client.get(a.REFERRALS_URL))
            # The first request leaves the window 60 seconds after it was made.
            assert wait == 40
            traveller.shift(39)
            too_many(client.get(a.REFERRALS_URL))
            traveller.shift(2)
            assert client.get(a.REFERRALS_URL).status_code == 200

    def test_refused_requests_count_too(self, olivia: User, northmoor_police: Organisation) -> None:
        """Olivia's token may not list referrals (she refers nobody): each refusal still counts,
        so a token cannot probe the API without limit."""
        _, secret = a.token(olivia, northmoor_police)
        client = a.client_with(secret)
        for _ in range(3):
            assert client.get(a.REFERRALS_URL).status_code == 403
        too_many(client.get(a.REFERRALS_URL))

    def test_the_counts_are_kept_in_the_database_cache(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        """Every process serving the API must see the same counts, so they are not kept in the
        memory of one."""
        token, secret = a.token(alice, northmoor_police)
        a.client_with(secret).get(a.REFERRALS_URL)
        cache = django_settings.CACHES["default"]
        assert cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(cache["LOCATION"])
            cursor.execute(f"SELECT cache_key FROM {table}")  # noqa: S608 - our own table name
            keys = [row[0] for row in cursor.fetchall()]
        assert any(key.endswith(f"throttle_api_token_{token.pk}") for key in keys), keys


class TestWithoutAValidToken:
    @pytest.fixture(autouse=True)
    def _two_a_minute(self, settings) -> None:
        settings.API_ADDRESS_REQUESTS_PER_MINUTE = 2

    def test_callers_without_a_valid_token_are_limited_by_address(
        self, alice: User, northmoor_police: Organisation
    ) -> None:
        _, secret = a.token(alice, northmoor_police)
        with time_machine.travel(timezone.now(), tick=False):
            assert Client().get(a.REFERRALS_URL).status_code == 401
            assert a.client_with("onrm_guessed-token").get(a.REFERRALS_URL).status_code == 401
            wait, message = too_many(a.client_with("onrm_another-guess").get(a.REFERRALS_URL))
            assert "without a valid API token from this address" in message
            assert wait == 60
            too_many(Client().get(a.REFERRALS_URL))
            # Another address is counted apart, and so is a working token from the same one.
            assert Client(REMOTE_ADDR="203.0.113.9").get(a.REFERRALS_URL).status_code == 401
            assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 200

    def test_a_forwarded_header_is_ignored_unless_behind_the_proxy(self, db: None) -> None:
        """Without OPENNRM_BEHIND_PROXY a client could name any address in X-Forwarded-For, so
        it is not believed: changing it does not escape the limit."""
        for forged in ("198.51.100.1", "198.51.100.2"):
            Client(headers={"X-Forwarded-For": forged}).get(a.REFERRALS_URL)
        too_many(Client(headers={"X-Forwarded-For": "198.51.100.3"}).get(a.REFERRALS_URL))

    @override_settings(BEHIND_PROXY=True)
    def test_behind_the_proxy_the_address_it_appended_is_used(self, db: None) -> None:
        """Every request comes from the proxy; the client is the last X-Forwarded-For entry, and
        what the client wrote before it changes nothing."""
        proxy = {"REMOTE_ADDR": "10.0.0.5"}

        def from_client(address: str, forged: str = "192.0.2.77") -> Client:
            return Client(headers={"X-Forwarded-For": f"{forged}, {address}"}, **proxy)

        from_client("198.51.100.1", forged="192.0.2.1").get(a.REFERRALS_URL)
        from_client("198.51.100.1", forged="192.0.2.2").get(a.REFERRALS_URL)
        too_many(from_client("198.51.100.1", forged="192.0.2.3").get(a.REFERRALS_URL))
        assert from_client("198.51.100.2").get(a.REFERRALS_URL).status_code == 401


def test_an_ipv6_client_is_counted_by_its_64_network(rf) -> None:
    one = rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    same_network = rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    other_network = rf.get("/", REMOTE_ADDR="2001:db8:1:3::1")
    assert address_key(one) == address_key(same_network) == "2001:db8:1:2::/64"
    assert address_key(other_network) != address_key(one)
    assert address_key(rf.get("/", REMOTE_ADDR="192.0.2.10")) == "192.0.2.10"


def test_every_operation_documents_429() -> None:
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert 429 in operation["responses"], (method, path)


@pytest.mark.parametrize(
    "variable", ["OPENNRM_API_TOKEN_REQUESTS_PER_MINUTE", "OPENNRM_API_ADDRESS_REQUESTS_PER_MINUTE"]
)
def test_a_limit_below_one_stops_start_up(variable: str) -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup()",
        {**PRODUCTION, variable: "0"},
    )
    assert result.returncode != 0
    assert f"{variable} must be 1 or more, not 0" in result.stderr


def test_the_limits_are_read_from_the_environment() -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.API_TOKEN_REQUESTS_PER_MINUTE, s.API_ADDRESS_REQUESTS_PER_MINUTE)",
        {
            **PRODUCTION,
            "OPENNRM_API_TOKEN_REQUESTS_PER_MINUTE": "500",
            "OPENNRM_API_ADDRESS_REQUESTS_PER_MINUTE": "7",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["500", "7"]
