"""What one submission reads: each thing once, and the screening it records checked against
the same catalogue as the answers."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from opennrm import screening
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.referrals import forms, services, steps
from opennrm.referrals.models import DraftStatus
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


# Issue 10, item 23: every statement of a submission is about a millisecond of the service's
# time with a million cases stored; the ones below asked the database what the submission knew.


def _submitted_with_sql(by: User, organisation: Organisation, pages) -> tuple[object, list[str]]:
    draft = services.draft_start(by=by, organisation=organisation)
    for slug, data in pages.items():
        services.draft_save_answers(by=by, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data)
    active_catalogue().parsed()
    with CaptureQueriesContext(connection) as queries:
        submitted = services.referral_submit(by=by, draft=draft, check_earlier_referrals=False)
    return submitted, [q["sql"] for q in queries.captured_queries]


CHILD_WITH_NEEDS = {**r.CHILD_REFERRAL, "needs": r.NEEDS}


def test_a_childs_referral_writes_every_notification_in_one_statement(
    alice: User,
    northmoor_police: Organisation,
    routing: Organisation,
    dmitri: User,
    lena: User,
    gail: User,
) -> None:
    submitted, sql = _submitted_with_sql(alice, northmoor_police, r.CHILD_REFERRAL)
    inserts = [s for s in sql if s.startswith('INSERT INTO "notifications_notification"')]
    assert len(inserts) == 1, inserts
    told = set(
        Notification.objects.filter(case=submitted.case).values_list("recipient__email", "kind")
    )
    assert told == {
        ("dmitri@example.org", "case.received"),
        ("alice@example.org", "case.submitted"),
        ("lena@example.org", "case.child_referred"),
        ("gail@example.org", "case.child_referred"),
    }
    # The authority's decision makers and the area's safeguarding leads, read together.
    reads = [s for s in sql if s.startswith('SELECT "accounts_membership"')]
    assert len(reads) == 1, reads


def test_a_childs_needs_ask_who_the_local_authority_is_once(
    alice: User, northmoor_police: Organisation, routing: Organisation, lena: User, gail: User
) -> None:
    submitted, sql = _submitted_with_sql(alice, northmoor_police, CHILD_WITH_NEEDS)
    organisations = [s for s in sql if s.startswith('SELECT "accounts_organisation"."id"')]
    assert len(organisations) == 1, organisations
    users = [s for s in sql if s.startswith('SELECT "accounts_user"')]
    assert users == []  # the referrer is the one submitting, already known
    task = submitted.case.children_services_tasks.get()
    assert task.owner is not None
    assert task.owner.area == "Testshire"
    assert task.raised_by == alice
    told = set(
        Notification.objects.filter(case=submitted.case).values_list("recipient__email", "kind")
    )
    assert ("lena@example.org", "children.accommodation_needed") in told
    assert ("gail@example.org", "children.accommodation_needed") in told


def test_an_adults_request_reads_no_safety_profile_when_the_referral_gave_none(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    submitted, sql = _submitted_with_sql(alice, northmoor_police, r.ADULT_REFERRAL)
    assert [s for s in sql if "safety_safetyprofile" in s] == []
    request = submitted.case.placement_requests.get()
    assert request.accepted_settings  # from the person's sex, with no profile to narrow it


def test_the_reference_is_not_looked_up_first_and_a_taken_one_is_drawn_again(
    alice: User, northmoor_police: Organisation, routing: Organisation, case, monkeypatch
) -> None:
    drawn = iter([case.reference, "NRM-0000-0001"])
    monkeypatch.setattr(services, "new_reference", lambda prefix: next(drawn))
    submitted, sql = _submitted_with_sql(alice, northmoor_police, r.ADULT_REFERRAL)
    assert submitted.case.reference == "NRM-0000-0001"
    assert not [s for s in sql if s.startswith('SELECT 1 AS "a" FROM "cases_case"')]
    assert Case.objects.filter(reference=case.reference).count() == 1


def test_a_draft_without_evidence_moves_no_files(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    submitted, sql = _submitted_with_sql(alice, northmoor_police, r.ADULT_REFERRAL)
    assert submitted.case is not None
    assert [s for s in sql if s.startswith('UPDATE "referrals_evidencefile"')] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "held",
    [
        # What another submission of the same organisation holds until it commits (the
        # organisation's key, for its new rows' links to it).
        "FOR KEY SHARE",
        # What an administrator changing the organisation's details holds.
        "FOR NO KEY UPDATE",
    ],
)
def test_a_submission_does_not_wait_for_another_of_the_same_organisation(
    alice: User, northmoor_police: Organisation, routing: Organisation, held: str
) -> None:
    """The draft is locked, not its organisation: two first responders of one police force
    submitting at once must not queue behind each other, nor behind a change to the
    organisation's details."""
    import psycopg

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks")
    _bundled_catalogue_active()  # an earlier transactional test may have emptied the tables
    draft = r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    ) as other:
        other.execute(
            f"SELECT id FROM accounts_organisation WHERE id = %s {held}",  # noqa: S608
            [northmoor_police.pk],
        )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            submitted = services.referral_submit(
                by=alice, draft=draft, check_earlier_referrals=False
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
        other.rollback()
    assert submitted.case is not None


def _bundled_catalogue_active() -> None:
    from django.core.management import call_command

    from opennrm.screening.selectors import NoActiveCatalogue

    try:
        active_catalogue()
    except NoActiveCatalogue:
        bundled = Path(screening.__file__).parent / "catalogues" / "opennrm-indicators-v1.json"
        call_command("load_indicator_catalogue", str(bundled), stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_taken_reference_is_drawn_again_outside_any_transaction(
    alice: User, northmoor_police: Organisation, routing: Organisation, case, monkeypatch
) -> None:
    _bundled_catalogue_active()
    draft = r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    drawn = iter([case.reference, case.reference, "NRM-0000-0002"])
    monkeypatch.setattr(services, "new_reference", lambda prefix: next(drawn))
    submitted = services.referral_submit(by=alice, draft=draft, check_earlier_referrals=False)
    assert submitted.case.reference == "NRM-0000-0002"
    assert Case.objects.filter(reference=case.reference).count() == 1


def test_a_taken_reference_is_drawn_again_inside_the_callers_transaction(
    alice: User, northmoor_police: Organisation, routing: Organisation, case, monkeypatch
) -> None:
    draft = r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    drawn = iter([case.reference, "NRM-0000-0003"])
    monkeypatch.setattr(services, "new_reference", lambda prefix: next(drawn))
    with transaction.atomic():
        submitted = services.referral_submit(by=alice, draft=draft, check_earlier_referrals=False)
        # The caller's transaction is still usable after the retry.
        assert Case.objects.filter(reference="NRM-0000-0003").exists()
    assert submitted.case.person_id is not None
    assert Case.objects.count() == 2


def test_five_taken_references_in_a_row_are_a_fault_and_nothing_is_written(
    alice: User, northmoor_police: Organisation, routing: Organisation, case, monkeypatch
) -> None:
    draft = r.draft_through_services(alice, northmoor_police, r.ADULT_REFERRAL)
    monkeypatch.setattr(services, "new_reference", lambda prefix: case.reference)
    with pytest.raises(IntegrityError, match="taken"):
        services.referral_submit(by=alice, draft=draft, check_earlier_referrals=False)
    assert Case.objects.count() == 1
    draft.refresh_from_db()
    assert draft.status == DraftStatus.DRAFT


def test_the_long_lists_still_refuse_what_is_not_in_them_and_treat_the_blank_as_before() -> None:
    def person(**changes: str) -> forms.PersonForm:
        return forms.PersonForm(data={**r.PERSON, **changes})

    assert person().is_valid(), person().errors
    assert "nationality_1" in person(nationality_1="XX").errors
    assert "nationality_1" in person(nationality_1="").errors  # required
    assert person(nationality_2="").is_valid()  # optional blank
    assert "nationality_2" in person(nationality_2="XX").errors
    assert "language_2" in person(language_2="zz").errors
