"""Review as a data-protection officer and a penetration tester (casework, case search,
erasure and retention, notifications). Each test shows one defect and fails until it is put
right. Synthetic data only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import time_machine

from opennrm.accounts.models import Organisation, User
from opennrm.casework.models import CaseNote
from opennrm.privacy import selectors as privacy_selectors
from opennrm.privacy import services as privacy
from opennrm.privacy.models import Erasure

from . import case_factories, factories


def test_a_note_form_key_sent_to_a_second_case_is_not_a_500(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """`case_note_add` looks for an earlier note with the form's key on the same case, but the
    unique constraint is (author, submission_key) across all cases: the same hidden key posted
    to another case's note form (a tampered or replayed form) fails with an IntegrityError, a
    500, instead of a note or a message."""
    first = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    second = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    client = factories.signed_in_client(alice)
    client.raise_request_exception = False
    key = str(uuid.uuid4())
    form = {"submission_key": key, "text": "Met at the drop-in.", "visibility": "own_organisation"}
    assert client.post(f"/cases/{first.reference}/notes/new/", form).status_code == 302
    response = client.post(f"/cases/{second.reference}/notes/new/", form)
    assert response.status_code in (200, 302), response.status_code
    # And the second case does not silently show the first case's note.
    assert CaseNote.objects.filter(case=first).count() == 1


def test_retention_ends_on_the_day_the_officer_is_told_in_a_leap_year(
    settings, dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """`retention_ends` tells the officer the first day a person's details may go; for a case
    closed on 28 February 2018 it says 29 February 2024. But `retention_cutoff(29 Feb 2024)`
    turns 29 February into 28 February 2018 (00:00), so a case closed later that day is not
    'before the cutoff' and the nightly run keeps the person's details a day longer than the
    rule (and the retention page) say."""
    settings.RETENTION_CLOSED_CASE_YEARS = 6
    with time_machine.travel(datetime(2018, 1, 10, 9, 0, tzinfo=UTC), tick=False):
        case = case_factories.withdrawn(alice, northmoor_police, authority)
    with time_machine.travel(datetime(2018, 2, 28, 12, 0, tzinfo=UTC), tick=False):
        closed = case_factories.closed(case, by=dmitri)
    first_day = privacy_selectors.retention_ends(closed.closed_at)
    assert first_day == date(2024, 2, 29)
    privacy.retention_apply(today=first_day)
    gone_on_the_first_day = Erasure.objects.filter(person=closed.person).exists()
    # The control: nothing else holds the person back; the next day's run removes them.
    privacy.retention_apply(today=date(2024, 3, 1))
    assert Erasure.objects.filter(person=closed.person).exists()
    assert gone_on_the_first_day, (
        "the retention period ended on 29 February 2024 but the run on that day kept the details"
    )
