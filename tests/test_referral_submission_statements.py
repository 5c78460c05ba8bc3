"""What one submission reads: each thing once, and the screening it records checked against
the same catalogue as the answers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opennrm.accounts.models import Organisation, User
from opennrm.referrals import services, steps
from opennrm.screening.selectors import active_catalogue

from . import referral_helpers as r


@pytest.fixture
def draft(alice: User, northmoor_police: Organisation, routing: Organisation):
    draft = services.draft_start(by=alice, organisation=northmoor_police)
    for slug, data in r.ADULT_REFERRAL.items():
        services.draft_save_answers(by=alice, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data)
    return draft


def test_the_indicators_are_checked_against_the_catalogue_the_screening_records_read_once(
    draft, alice: User
) -> None:
    active_catalogue().parsed()  # a process parses the document once, on its first use
    with CaptureQueriesContext(connection) as queries:
        submitted = services.referral_submit(by=alice, draft=draft, check_earlier_referrals=False)
    reads = [
        q["sql"] for q in queries.captured_queries if "screening_indicatorcatalogue" in q["sql"]
    ]
    assert len(reads) == 1, reads
    assert submitted.case is not None
    assert submitted.case.screening.catalogue_id == active_catalogue().pk
