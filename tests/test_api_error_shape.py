"""The API promises one error shape for every error response (src/opennrm/api/urls.py
DESCRIPTION: 'Every error response has the same shape: {"errors": [...]}'). A request with a
method the operation does not take gets 405 in that shape too (ninja answers in bare text), with
its Allow header; the pages keep their own 405 page."""

from __future__ import annotations

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from tests import api_helpers as a


def test_a_wrong_method_gets_405_in_the_apis_error_shape(
    dmitri: User, authority: Organisation, case: Case
) -> None:
    _, secret = a.token(dmitri, authority, a.EVERY_SCOPE)
    client = a.client_with(secret)
    response = client.get(f"/api/v1/cases/{case.reference}/decisions")  # POST only
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json"), response.content
    assert response["Allow"] == "POST"
    (error,) = response.json()["errors"]
    assert error["message"] == "This address does not take GET requests; it takes POST"
