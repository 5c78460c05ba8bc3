"""Requests are refused before their body is read if it is larger than any page or API operation
takes (413), and a path with a NUL byte is a page that does not exist (404), never a server error
(issue 10, item 9). The API answers both in its own error shape."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.referrals.models import EvidenceFile

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r

PDF = b"%PDF-1.7\n" + b"0" * 64 + b"\n%%EOF"


def api_error(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    return str(error["message"])


@override_settings(EVIDENCE_MAX_BYTES=1024, DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(
    alice: User, council: Organisation, settings, tmp_path
) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
    page = reverse("referrals:evidence", args=[draft.public_id])
    response = client.post(page, {"file": SimpleUploadedFile("big.pdf", PDF + b"0" * 10_000)})
    assert response.status_code == 413
    html = response.content.decode()
    assert "The file you sent is too large" in html
    assert "smaller than 1 MB" not in html
    assert not EvidenceFile.objects.exists()
    # Just over the file limit, the page itself says so, next to the field.
    near = client.post(page, {"file": SimpleUploadedFile("big.pdf", PDF + b"0" * 2048)})
    assert near.status_code == 200
    assert "The selected file must be smaller than" in near.content.decode()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_a_file_sent_to_a_page_that_takes_none_is_refused_before_it_is_read(db: None) -> None:
    response = Client().post(
        reverse("accounts:sign_in"),
        {"email": "a@example.org", "password": "x", "file": SimpleUploadedFile("x.pdf", PDF * 200)},
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_the_api_refuses_a_body_too_large_in_its_own_shape(
    alice: User, northmoor_police: Organisation
) -> None:
    _, secret = a.token(alice, northmoor_police)
    response = a.post_json(a.client_with(secret), a.REFERRALS_URL, {"padding": "x" * 10_000})
    assert "too large" in api_error(response, 413)


def test_the_api_document_lists_413_on_every_operation_taking_a_body(db: None) -> None:
    """Any operation with a body can answer 413 before its handler runs: the document says so
    (the fuzzer holds every answer to it)."""
    document = Client().get("/api/v1/openapi.json").json()
    with_body = [
        operation
        for methods in document["paths"].values()
        for operation in methods.values()
        if "requestBody" in operation
    ]
    assert with_body
    for operation in with_body:
        assert "413" in operation["responses"], operation["operationId"]


@pytest.mark.parametrize(
    "path", ["/cases/%00/", "/cases/NRM%00/close/", "/join/%00/", "/referrals/%00/", "/%00"]
)
def test_a_nul_byte_in_a_page_path_is_not_found(alice: User, path: str) -> None:
    client = factories.signed_in_client(alice)
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_nul_byte_in_a_case_reference_is_not_found(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    client = factories.signed_in_client(alice)
    client.raise_request_exception = False
    assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 200
    assert client.get(f"/cases/{case.reference}%00/").status_code == 404
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/%00",
        "/api/v1/referrals/%00",
        "/api/v1/cases/x%00/",
        "/api/v1/%00",
        "/api/v1/no-such-operation",
    ],
)
def test_the_api_answers_a_path_it_does_not_have_in_its_own_shape(
    alice: User, northmoor_police: Organisation, path: str
) -> None:
    _, secret = a.token(alice, northmoor_police, scopes=a.EVERY_SCOPE)
    client = a.client_with(secret, raise_request_exception=False)
    assert api_error(client.get(path), 404) == "Not found"


def test_a_nul_byte_in_a_query_is_refused(alice: User, northmoor_police: Organisation) -> None:
    _, secret = a.token(alice, northmoor_police)
    client = a.client_with(secret, raise_request_exception=False)
    assert "NUL" in api_error(client.get(a.REFERRALS_URL + "?status=%00"), 422)
    page = factories.signed_in_client(alice)
    page.raise_request_exception = False
    response = page.get(reverse("pages:home") + "?tab=%00")
    assert response.status_code == 400
    assert "There is a problem with your request" in response.content.decode()
