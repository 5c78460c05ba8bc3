"""Bad input on case search must get a clear answer, never a server error."""

from __future__ import annotations

import pytest

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from tests import factories

URL = "/cases/search/"


@pytest.mark.parametrize(
    "page",
    [
        "\u00b2",  # SUPERSCRIPT TWO: str.isdigit() is True, int() refuses it
        "1" * 5000,  # more digits than int() converts (sys.int_max_str_digits)
    ],
    ids=["superscript-digit", "5000-digits"],
)
def test_an_odd_page_number_is_not_a_server_error(alice: User, case: Case, page: str) -> None:
    client = factories.signed_in_client(alice)
    client.raise_request_exception = False
    response = client.post(URL, {"reference": case.reference, "page": page})
    assert response.status_code == 200, response.status_code
