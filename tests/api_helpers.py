"""API tokens and clients for the API tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.api import services
from opennrm.api.models import ApiToken

READ = "referrals:read"
WRITE = "referrals:write"
CASES_READ = "cases:read"
DECISIONS_READ = "decisions:read"
DECISIONS_WRITE = "decisions:write"
SUPPORT_READ = "support:read"
SUPPORT_WRITE = "support:write"
DIRECTORY_READ = "directory:read"
STATISTICS_QUERY = "statistics:query"
OPERATIONS_READ = "operations:read"
OPERATIONS_WRITE = "operations:write"
PROTECTION_CHECK = "protection:check"
EVERY_SCOPE = (
    READ,
    WRITE,
    CASES_READ,
    DECISIONS_READ,
    DECISIONS_WRITE,
    SUPPORT_READ,
    SUPPORT_WRITE,
    DIRECTORY_READ,
    STATISTICS_QUERY,
    OPERATIONS_READ,
    OPERATIONS_WRITE,
    PROTECTION_CHECK,
)
REFERRALS_URL = "/api/v1/referrals"
NOT_FOUND = {"errors": [{"step": None, "field": None, "message": "Not found"}]}

# Every response body a RecordingClient received: the API tests check after each test that no
# body named the person (their autouse fixtures clear it first).
BODIES: list[bytes] = []


class RecordingClient(Client):
    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        BODIES.append(response.content)
        return response


def token(
    user: User,
    organisation: Organisation,
    scopes: Iterable[str] = (READ, WRITE),
    days: int = 30,
) -> tuple[ApiToken, str]:
    return services.api_token_create(
        by=None,
        organisation=organisation,
        acts_as=user,
        name="Test case management system",
        scopes=scopes,
        expires_at=timezone.now() + timedelta(days=days),
    )


def client_with(secret: str, **kwargs: Any) -> Client:
    """A client that sends the token on every request, and no session cookie."""
    return Client(headers={"Authorization": f"Bearer {secret}"}, **kwargs)


def post_referral(client: Client, answers: Any, idempotency_key: str | None = None):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    return client.post(REFERRALS_URL, answers, content_type="application/json", headers=headers)


def post_json(client: Client, url: str, body: Any):
    return client.post(url, body, content_type="application/json")


def errors(response: Any, status: int = 422) -> list[dict[str, Any]]:
    """The API's errors list, once the response is seen to have `status`."""
    assert response.status_code == status, response.content
    return response.json()["errors"]
