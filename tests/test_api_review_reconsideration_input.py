"""A reconsideration asked for through the API with a body the JSON parser accepts but the
database cannot store."""

from __future__ import annotations

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.decisions.models import ReconsiderationRequest

from . import api_helpers as a
from . import case_factories
from .decision_helpers import fresh
from .test_api_decisions import api, negative_in_effect


def test_a_lone_surrogate_in_the_grounds_is_a_422_not_a_500(
    alice: User,
    dmitri: User,
    sally: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A first responder's system sends grounds holding a JSON escape of a lone UTF-16 surrogate
    (`"\\ud800"`, valid JSON that a buggy client or a fuzzer easily produces). Today the
    encrypted field cannot encode it as UTF-8 and the API answers 500 (UnicodeEncodeError in
    lib/crypto.encrypt_text, via decisions.services._reconsideration_open). It should be a 422
    in the API's error shape naming `grounds` (as a NUL byte is), with nothing written. The same
    JSON escape reaches every free-text field of every API body (decision reasons,
    reconsideration reasons, referral answers)."""
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    negative_in_effect(case, dmitri, sally)
    response = api(alice, northmoor_police).generic(
        "POST",
        f"/api/v1/cases/{case.reference}/reconsideration",
        '{"grounds": "New evidence \\ud800", "expected_version": ' + f"{fresh(case).version}}}",
        content_type="application/json",
    )
    [error] = a.errors(response, 422)
    assert error["field"] == "grounds"
    assert not ReconsiderationRequest.objects.exists()
    assert fresh(case).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
