"""The protection check promises never to answer 404 (its OpenAPI entry lists 200, 401, 403, 422
and 429 only, and its docstring says 'Never 404: a reference the system does not know gets the
answer of one that is not protected'; a malformed reference gets 422 naming `reference`).

A reference holding a NUL byte is malformed, yet `RequestScreeningMiddleware` answers it 404
before the operation runs: a status the OpenAPI document does not list for this operation.
(docs/api.md's error table does say a NUL byte in a path is 404, which contradicts its own
"never a 404" for this operation.) A client generated from the schema meets an undocumented
answer. Either the schema should list 404 here or the answer should be the documented 422."""

from __future__ import annotations

import inspect
import re

import pytest

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role

from . import api_helpers, factories


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan.review@example.org",
        organisation=border_enforcement,
        role=Role.IMMIGRATION_ENFORCEMENT,
        full_name="Ivan Review",
    )


def test_a_nul_byte_in_a_protection_reference_gets_a_status_the_schema_declares(
    ivan: User, border_enforcement: Organisation
) -> None:
    _, secret = api_helpers.token(ivan, border_enforcement, scopes=[api_helpers.PROTECTION_CHECK])
    client = api_helpers.client_with(secret)
    declared = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/protection/{reference}"][
        "get"
    ]["responses"]
    response = client.get("/api/v1/protection/NRM-7K3Q-9XP%00")
    assert response.json()["errors"]  # the error shape holds; the status is what is wrong
    assert str(response.status_code) in declared, (response.status_code, sorted(declared))


def test_every_operation_that_can_answer_a_refusal_declares_409() -> None:
    """`schemas.refusal` answers 409 when the record changed meanwhile: an operation returning
    it must list 409, or ninja turns the answer into a server error (a client generated from
    the schema could not handle it either)."""
    from opennrm.api.urls import api

    undeclared = [
        op.view_func.__qualname__
        for _, router in api._routers
        for path_view in router.path_operations.values()
        for op in path_view.operations
        if re.search(r"\b_?refus(al|ed)\(", inspect.getsource(op.view_func))
        and 409 not in op.response_models
    ]
    assert undeclared == []
