"""Official statistics releases (issue 13, item 3; ADR 0036): prepared by one analyst, approved
by another, frozen when published, revised as a new version; the analysts' pages and the
public bulletin, which shows the frozen snapshot and nothing else."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.test import Client, override_settings

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.statistics import disclosure, layout, releases, synthetic, tables
from opennrm.statistics.models import (
    PublishedVersionChanged,
    Release,
    ReleaseVersion,
    SyntheticDataset,
    VersionState,
)

from . import case_factories, factories
from .test_statistics_tables import table_rows

LONDON = ZoneInfo("Europe/London")
Q2 = tables.Period.quarter(2024, 2)


@pytest.fixture
def analysts(monitoring: Organisation) -> tuple[User, User]:
    return (
        factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ada Preparer"),
        factories.user(organisation=monitoring, role=Role.ANALYST, full_name="Ben Approver"),
    )


@pytest.fixture
def referrals(db: None) -> list[object]:
    """Twelve referrals in April to June 2024: nine adults and three children, to one
    authority from one police force."""
    police = factories.organisation("Quarter Police", Kind.STATUTORY_FIRST_RESPONDER)
    authority = factories.organisation("Quarter Authority", Kind.COMPETENT_AUTHORITY)
    referrer = factories.user(organisation=police)
    return [
        add_referral(referrer, police, authority, "child" if n < 3 else "adult", n)
        for n in range(12)
    ]


def add_referral(referrer: User, police: Organisation, authority: Organisation, age: str, n: int):
    from opennrm.cases.choices import AgeGroup

    return case_factories.case(
        referred_by=referrer,
        referring_organisation=police,
        authority=authority,
        age_group=AgeGroup(age),
        submitted_at=datetime(2024, 5, 1 + n, 12, tzinfo=LONDON),
    )


def actor(user: User) -> Actor:
    return Actor(user)


def prepared(by: User) -> ReleaseVersion:
    return releases.prepare_release(
        by=actor(by), period=Q2, jurisdiction=None, title="NRM statistics: April to June 2024"
    )


def published(preparer: User, approver: User) -> ReleaseVersion:
    return releases.approve_release(by=actor(approver), version=prepared(preparer))


def without_nonces(page: bytes) -> bytes:
    """The page without its per-request script nonces (the CSP's, different on every request)."""
    return re.sub(rb'nonce="[^"]*"', b"", page)


# --- The snapshot ------------------------------------------------------------------------


def test_the_snapshots_cells_are_the_protected_tables_cells(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    snapshot = prepared(analysts[0]).snapshot
    made = tables.release_tables(Q2)
    protected = tables.protect(made)
    laid = releases.snapshot_tables(snapshot)
    for table in made:
        if not isinstance(table, tables.StatTable):
            continue
        published_rows = protected.table(table.name)
        shown = laid[table.name.replace("_", "-")]
        assert [row[1:] for row in shown["rows"]] == published_rows[:-1], table.name
        assert shown["footer"] is not None
        assert shown["footer"][1:] == published_rows[-1], table.name
    assert snapshot["format"] == 1
    assert snapshot["period"] == {
        "start": "2024-04-01",
        "end": "2024-06-30",
        "label": "April to June 2024",
    }
    assert snapshot["jurisdiction"] is None
    assert snapshot["jurisdiction_label"] == "All of the UK"
    assert snapshot["threshold"] == disclosure.DEFAULT_THRESHOLD
    assert laid["referrals-by-competent-authority"]["footer"] == ["Total", 12]
    assert [item["title"] for item in snapshot["not_available"]] == [
        missing.title for missing in tables.NOT_AVAILABLE_TABLES
    ]
    # Every cell is a count, a rounded figure or a symbol.
    for table_dict in laid.values():
        for row in [*table_dict["rows"], table_dict["footer"] or []]:
            for value in row[1:]:
                assert isinstance(value, int | float) or value in disclosure.SYMBOLS


def test_the_main_points_use_published_figures_and_say_when_one_is_not(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    said = prepared(analysts[0]).snapshot["key_results"]
    assert 3 <= len(said) <= 6
    assert said[0] == (
        "In April to June 2024, 12 referrals were made to the National Referral Mechanism."
    )
    # Three children of twelve: a count under the threshold, so suppressed, never computed on.
    assert "The share of referrals that were of children is not published" in said[1]
    assert not any("25%" in sentence for sentence in said)


def test_key_results_report_a_published_share_of_children() -> None:
    snapshot = {
        "threshold": 5,
        "period": {"label": "July to September 2026"},
        "sections": [
            {
                "tables": [
                    {
                        "slug": "referrals-by-competent-authority",
                        "rows": [["A", 40]],
                        "footer": ["Total", 40],
                    },
                    {
                        "slug": "referrals-by-age-group",
                        "rows": [["Adult", 30], ["Child", 10]],
                        "footer": ["Total", 40],
                    },
                ]
            }
        ],
    }
    said = releases.key_results(snapshot)
    assert said == [
        "In July to September 2026, 40 referrals were made to the National Referral Mechanism.",
        "25% of them were children when they were exploited (including people whose age is "
        "disputed).",
    ]


# --- Four eyes, the disclosure check, freezing, revising ----------------------------------


def test_the_preparer_cannot_approve_and_a_second_analyst_publishes(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    ada, ben = analysts
    version = prepared(ada)
    assert version.state == VersionState.AWAITING_APPROVAL
    with pytest.raises(releases.ReleaseRefused, match="Another analyst must approve"):
        releases.approve_release(by=actor(ada), version=version)
    version.refresh_from_db()
    assert version.state == VersionState.AWAITING_APPROVAL
    assert not AuditEvent.objects.filter(action="statistics.release_approved").exists()

    done = releases.approve_release(by=actor(ben), version=version)
    assert done.state == VersionState.PUBLISHED
    assert done.approved_by == ben
    assert done.published_at is not None
    assert AuditEvent.objects.filter(action="statistics.release_prepared", actor=ada).count() == 1
    assert AuditEvent.objects.filter(action="statistics.release_approved", actor=ben).count() == 1
    with pytest.raises(releases.ReleaseRefused, match="only a version awaiting approval"):
        releases.approve_release(by=actor(ben), version=done)


def test_the_database_itself_refuses_an_approval_by_the_preparer(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    from django.db import IntegrityError, transaction

    version = prepared(analysts[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        ReleaseVersion.objects.filter(pk=version.pk).update(approved_by=analysts[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        ReleaseVersion.objects.filter(pk=version.pk).update(number=2)  # a revision needs a reason


def test_the_real_checker_refuses_a_suppressed_count_put_back(
    referrals: list[object], analysts: tuple[User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Suppression gone wrong (the three children published after all): the linear-programming
    checker, auditing afresh, finds it, and nothing is written."""
    protect = tables.protect

    def leaky(made: list[tables.AnyTable]) -> disclosure.Protected:
        protected = protect(made)
        table = next(t for t in protected.release.tables if t.name == "referrals_by_age_group")
        children = table.cell("child")
        assert protected.published[children] == disclosure.CONFIDENTIAL
        protected.published[children] = protected.release.values[children]
        return protected

    monkeypatch.setattr(tables, "protect", leaky)
    with pytest.raises(releases.ReleaseRefused) as refused:
        prepared(analysts[0])
    assert "Referrals by age group" in " ".join(refused.value.messages)
    assert not ReleaseVersion.objects.exists()


def test_a_release_the_disclosure_check_refuses_is_not_written(
    referrals: list[object], analysts: tuple[User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_narrow(release: disclosure.Release, published: object, **_: object) -> list[object]:
        table = next(t for t in release.tables if t.name == "referrals_by_sex")
        cell = table.cell(*next(iter(table.all_cells())))
        return [disclosure.Problem(cell, "can be worked out to lie between 1 and 2")]

    monkeypatch.setattr(disclosure, "problems", too_narrow)
    with pytest.raises(releases.ReleaseRefused) as refused:
        prepared(analysts[0])
    message = " ".join(refused.value.messages)
    assert "Referrals by sex" in message
    assert "Nothing was saved" in message
    assert not Release.objects.exists()
    assert not ReleaseVersion.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="statistics.release").exists()


def test_a_published_release_never_changes_when_new_data_arrives(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = published(*analysts)
    frozen = ReleaseVersion.objects.get(pk=version.pk).snapshot
    url = f"/official-statistics/{version.release_id}/1/"
    before = Client().get(url)
    assert before.status_code == 200

    case = referrals[0]
    for n in range(7):  # seven more referrals in the same quarter
        add_referral(
            case.referred_by, case.referring_organisation, case.competent_authority, "adult", n
        )
    assert tables.release_tables(Q2)[0].table.counts  # the live tables do see them
    assert ReleaseVersion.objects.get(pk=version.pk).snapshot == frozen
    after = Client().get(url)
    assert without_nonces(after.content) == without_nonces(before.content)
    assert "12 referrals were made" in after.content.decode()

    version.notes = "changed"
    with pytest.raises(PublishedVersionChanged):
        version.save()
    with pytest.raises(PublishedVersionChanged):
        version.delete()


def test_a_revision_is_a_new_version_and_both_stay_readable(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    ada, ben = analysts
    first = published(ada, ben)
    with pytest.raises(releases.ReleaseRefused):
        releases.revise_release(by=actor(ben), release=first.release, reason="  ")
    case = referrals[0]
    for n in range(7):
        add_referral(
            case.referred_by, case.referring_organisation, case.competent_authority, "adult", n
        )
    second = releases.revise_release(
        by=actor(ben), release=first.release, reason="Late referrals were added"
    )
    assert second.number == 2
    assert second.state == VersionState.AWAITING_APPROVAL
    assert AuditEvent.objects.filter(action="statistics.release_revised").count() == 1
    with pytest.raises(releases.ReleaseRefused, match="already awaiting approval"):
        releases.revise_release(by=actor(ada), release=first.release, reason="Again")
    with pytest.raises(releases.ReleaseRefused, match="Another analyst"):
        releases.approve_release(by=actor(ben), version=second)
    releases.approve_release(by=actor(ada), version=second)

    old = Client().get(f"/official-statistics/{first.release_id}/1/").content.decode()
    new = Client().get(f"/official-statistics/{first.release_id}/2/").content.decode()
    assert "12 referrals were made" in old
    assert "superseded by" in old
    assert "version 2" in old
    assert "Late referrals were added" in old
    assert "19 referrals were made" in new
    assert "Reason: Late referrals were added" in new
    listing = Client().get("/official-statistics/").content.decode()
    assert listing.index("(version 2)") < listing.index(
        f"/official-statistics/{first.release_id}/1/"
    )


def test_a_second_release_of_the_same_period_is_refused(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = prepared(analysts[0])
    with pytest.raises(releases.ReleaseRefused, match="revise it instead"):
        prepared(analysts[1])
    releases.withdraw_draft(by=actor(analysts[1]), version=version)
    assert AuditEvent.objects.filter(action="statistics.release_withdrawn").count() == 1
    assert prepared(analysts[1]).number == 1  # once withdrawn, the period is free again


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database refuses a second writer at once ('table is "
    "locked') instead of queueing it: run with DATABASE_URL set to PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_analysts_preparing_the_same_period_at_once_make_one_release(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    """Each in their own thread and connection, both start at the same moment: one release is
    written and the other analyst is told to revise it, never two releases of one period."""
    start = threading.Barrier(len(analysts))
    outcomes: list[object] = []

    def analyst(user: User) -> None:
        try:
            start.wait()
            outcomes.append(prepared(user))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=analyst, args=(user,)) for user in analysts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    refused = [o for o in outcomes if isinstance(o, releases.ReleaseRefused)]
    assert len(outcomes) == 2
    assert len(refused) == 1, outcomes
    assert "revise it instead" in str(refused[0])
    assert Release.objects.filter(period_start=Q2.start, period_end=Q2.end).count() == 1


# --- The analysts' pages -----------------------------------------------------------------


@pytest.mark.page("statistics:releases")
def test_the_releases_page_lists_those_awaiting_approval_and_published(
    referrals: list[object], analysts: tuple[User, User], alice: User
) -> None:
    waiting = prepared(analysts[0])
    client = factories.signed_in_client(analysts[1])
    page = client.get("/statistics/releases/").content.decode()
    awaiting = page.split('id="awaiting"')[1].split('id="published"')[0]
    assert f"/statistics/releases/{waiting.release_id}/1/" in awaiting
    assert "Ada Preparer" in awaiting
    assert client.post("/statistics/releases/").status_code == 405
    assert factories.signed_in_client(alice).get("/statistics/releases/").status_code == 404


@pytest.mark.page("statistics:release_prepare")
def test_an_analyst_prepares_a_release_from_the_form(
    referrals: list[object],
    analysts: tuple[User, User],
    alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = factories.signed_in_client(analysts[0])
    assert client.get("/statistics/releases/prepare/").status_code == 200
    form = {
        "year": "2024",
        "quarter": "2",
        "jurisdiction": "",
        "title": "Spring figures",
        "synthetic": "no",
    }
    response = client.post("/statistics/releases/prepare/", {**form, "notes": "One.\n\nTwo."})
    version = ReleaseVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/statistics/releases/{version.release_id}/1/"
    assert version.prepared_by == analysts[0]
    assert version.snapshot["notes"] == ["One.", "Two."]
    assert version.snapshot["title"] == "Spring figures"

    bad = client.post("/statistics/releases/prepare/", {**form, "year": "1999", "title": ""})
    text = bad.content.decode()
    assert "The year must be 2009 or later" in text
    assert "Enter the title of the release" in text
    assert 'value="1999"' in text
    again = client.post("/statistics/releases/prepare/", form).content.decode()
    assert "revise it instead" in again

    # The disclosure check's refusal is an error on the form, and nothing is written.
    monkeypatch.setattr(releases, "unsafe_tables", lambda made, protected: ["Referrals by sex"])
    refused = client.post(
        "/statistics/releases/prepare/",
        {**form, "year": "2025", "title": "Unsafe", "notes": "Kept"},
    ).content.decode()
    assert "There is a problem" in refused
    assert "“Referrals by sex”" in refused
    assert "Kept" in refused
    assert ReleaseVersion.objects.count() == 1

    assert client.delete("/statistics/releases/prepare/").status_code == 405
    assert factories.signed_in_client(alice).get("/statistics/releases/prepare/").status_code == 404


@pytest.mark.page("statistics:release_version")
def test_a_version_shows_its_tables_and_only_another_analyst_may_approve(
    referrals: list[object], analysts: tuple[User, User], alice: User
) -> None:
    version = prepared(analysts[0])
    url = f"/statistics/releases/{version.release_id}/1/"
    own = factories.signed_in_client(analysts[0]).get(url).content.decode()
    assert "another analyst must approve it" in own
    assert "Approve and publish" not in own
    assert table_rows(own, "referrals-by-competent-authority")[-1] == ["Total", "12"]
    other = factories.signed_in_client(analysts[1]).get(url).content.decode()
    assert "Approve and publish" in other
    assert factories.signed_in_client(analysts[1]).post(url).status_code == 405
    assert factories.signed_in_client(alice).get(url).status_code == 404
    assert factories.signed_in_client(analysts[1]).get(url.replace("/1/", "/2/")).status_code == 404


@pytest.mark.page("statistics:release_approve")
def test_approving_publishes_and_the_preparer_is_refused_with_a_message(
    referrals: list[object], analysts: tuple[User, User], alice: User
) -> None:
    version = prepared(analysts[0])
    url = f"/statistics/releases/{version.release_id}/1/approve/"
    refused = factories.signed_in_client(analysts[0]).post(url)
    assert refused.status_code == 400
    assert "Another analyst must approve this release" in refused.content.decode()
    assert factories.signed_in_client(alice).post(url).status_code == 404
    assert factories.signed_in_client(analysts[1]).get(url).status_code == 405
    response = factories.signed_in_client(analysts[1]).post(url)
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.state == VersionState.PUBLISHED
    assert version.approved_by == analysts[1]


@pytest.mark.page("statistics:release_withdraw")
def test_a_version_awaiting_approval_can_be_withdrawn(
    referrals: list[object], analysts: tuple[User, User], alice: User
) -> None:
    version = prepared(analysts[0])
    url = f"/statistics/releases/{version.release_id}/1/withdraw/"
    assert factories.signed_in_client(alice).post(url).status_code == 404
    assert factories.signed_in_client(analysts[0]).get(url).status_code == 405
    assert factories.signed_in_client(analysts[0]).post(url)["Location"] == "/statistics/releases/"
    version.refresh_from_db()
    assert version.state == VersionState.WITHDRAWN
    assert Client().get(f"/official-statistics/{version.release_id}/1/").status_code == 404
    again = factories.signed_in_client(analysts[0]).post(url)
    assert again.status_code == 400
    assert "Only a version awaiting approval" in again.content.decode()


@pytest.mark.page("statistics:release_revise")
def test_revising_asks_for_the_reason_and_makes_version_two(
    referrals: list[object], analysts: tuple[User, User], alice: User
) -> None:
    first = published(*analysts)
    url = f"/statistics/releases/{first.release_id}/revise/"
    client = factories.signed_in_client(analysts[0])
    assert client.get(url).status_code == 200
    missing = client.post(url, {"reason": ""}).content.decode()
    assert "Enter the reason for the revision" in missing
    assert "Select yes if a synthetic dataset is to be published with the release" in missing
    response = client.post(url, {"reason": "A late decision", "synthetic": "no"})
    assert response["Location"] == f"/statistics/releases/{first.release_id}/2/"
    second = ReleaseVersion.objects.get(number=2)
    assert second.revision_reason == "A late decision"
    assert client.delete(url).status_code == 405
    assert factories.signed_in_client(alice).get(url).status_code == 404


# --- The public pages --------------------------------------------------------------------


@pytest.mark.page("official_statistics:releases")
def test_the_public_list_shows_published_releases_only(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = published(*analysts)
    page = Client().get("/official-statistics/").content.decode()
    assert "NRM statistics: April to June 2024" in page
    assert f"/official-statistics/{version.release_id}/1/" in page
    assert Client().post("/official-statistics/").status_code == 405


def test_a_draft_is_not_public(referrals: list[object], analysts: tuple[User, User]) -> None:
    version = prepared(analysts[0])
    assert Client().get(f"/official-statistics/{version.release_id}/1/").status_code == 404
    assert "April to June 2024" not in Client().get("/official-statistics/").content.decode()


@override_settings(STATISTICS_CONTACT="figures@example.org")
@pytest.mark.page("official_statistics:release")
def test_the_public_bulletin_shows_the_snapshot_with_a_chart_beside_each_table(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = published(*analysts)
    response = Client().get(f"/official-statistics/{version.release_id}/1/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Main points" in page
    for sentence in version.snapshot["key_results"]:
        assert sentence.replace("“", "&ldquo;").replace("”", "&rdquo;") in page or sentence in page
    for section in version.snapshot["sections"]:
        for table_dict in section["tables"]:
            shown = layout.display(table_dict)
            rows = table_rows(page, table_dict["slug"])
            expected = [
                [str(c) if not isinstance(c, int) else f"{c:,}" for c in row]
                for row in [*shown.rows, shown.footer]
            ]
            assert rows == expected, table_dict["slug"]
        first = section["tables"][0]["slug"]
        assert f'aria-labelledby="chart-{first}-title chart-{first}-desc"' in page
    assert page.count('role="img"') == len(version.snapshot["sections"])
    assert "[c]</strong>: confidential" in page
    assert 'href="mailto:figures@example.org"' in page
    # Who prepared or approved it is never shown publicly.
    assert "Ada Preparer" not in page
    assert "Ben Approver" not in page
    assert Client().post(f"/official-statistics/{version.release_id}/1/").status_code == 405
    assert Client().get(f"/official-statistics/{version.release_id}/9/").status_code == 404


def test_key_results_cover_decisions_waits_and_beds_without_suppressed_figures() -> None:
    def share(decisions: object, positive: object, percent: object) -> dict[str, object]:
        return {"rows": [], "footer": ["Total", decisions, positive, percent]}

    found = {
        "referrals-by-exploitation-and-age-group": {
            "rows": [
                ["Labour only", 3, 4, 0, 7],
                ["Sexual only", "[c]", "[c]", 0, "[c]"],
                ["More than one type", 9, 9, 0, 18],
            ],
            "footer": ["Total", "[c]", "[c]", 0, 30],
        },
        "rg-decisions-by-competent-authority-share": share(40, 30, 75.0),
        "cg-decisions-by-competent-authority-share": share("[c]", "[c]", "[c]"),
        "days-rg-to-cg": {"rows": [], "footer": ["Total", "[c]", "[c]", "[c]", "[c]", "[c]"]},
        "turned-away-by-reason-and-region": {"rows": [], "footer": ["Total", 0, 6]},
    }
    snapshot = {
        "threshold": 5,
        "period": {"label": "2026"},
        "sections": [{"tables": [{"slug": slug, **table} for slug, table in found.items()]}],
    }
    assert releases.key_results(snapshot) == [
        "The commonest type of exploitation among those published was “Labour”, in 7 referrals.",
        "Decisions issued: 40 reasonable grounds decisions (75% positive) and a number of "
        "conclusive grounds decisions that is not published.",
        "The median time to a conclusive grounds decision is not published: it is over too few "
        "decisions, or over a number that is not published.",
        "6 requests for a safe-house bed could not be met because no suitable bed was free.",
    ]


def test_each_release_write_service_records_exactly_one_audit_event(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    """The write services of `statistics.releases` (those calling `audit_record`), each run
    once with exactly one new event asserted (tests/test_audit_services.py checks only the
    apps' `services` modules)."""
    import inspect

    writes = {
        name
        for name, fn in inspect.getmembers(releases, inspect.isfunction)
        if fn.__module__ == releases.__name__ and "audit_record(" in inspect.getsource(fn)
    }
    assert writes == {
        "prepare_release",
        "prepare_operation_release",  # its one event: tests/test_statistics_operation_release.py
        "approve_release",
        "revise_release",
        "withdraw_draft",
    }
    ada, ben = analysts

    def one_event(action: str) -> None:
        assert AuditEvent.objects.filter(action=action).count() == 1
        event = AuditEvent.objects.get(action=action)
        assert event.detail["release"] == first.release_id

    events = AuditEvent.objects.count()
    first = prepared(ada)
    one_event("statistics.release_prepared")
    releases.approve_release(by=actor(ben), version=first)
    one_event("statistics.release_approved")
    second = releases.revise_release(by=actor(ada), release=first.release, reason="Corrected")
    one_event("statistics.release_revised")
    releases.withdraw_draft(by=actor(ada), version=second)
    one_event("statistics.release_withdrawn")
    assert AuditEvent.objects.count() == events + 4


# --- The public API ----------------------------------------------------------------------


def test_the_api_lists_published_versions_and_returns_each_snapshot_without_a_token(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    first = published(*analysts)
    waiting = releases.revise_release(by=actor(analysts[0]), release=first.release, reason="Fix")
    listing = Client().get("/api/v1/statistics/releases")
    assert listing.status_code == 200
    versions = listing.json()["versions"]
    assert [(v["release"], v["version"]) for v in versions] == [(first.release_id, 1)]
    assert versions[0]["period"]["label"] == "April to June 2024"
    assert versions[0]["superseded_by"] is None
    assert versions[0]["page"] == f"/official-statistics/{first.release_id}/1/"

    url = f"/api/v1/statistics/releases/{first.release_id}/versions/1"
    one = Client().get(url)
    assert one.status_code == 200
    body = one.json()
    # The snapshot as stored; the API says `operation: null` for a release of a period (ADR 46).
    stored = ReleaseVersion.objects.get(pk=first.pk).snapshot
    assert body["snapshot"] == {**stored, "operation": None}
    assert "Ada Preparer" not in one.content.decode()
    assert "Ben Approver" not in one.content.decode()
    assert Client().get(url.replace("/versions/1", "/versions/2")).status_code == 404
    assert waiting.state == VersionState.AWAITING_APPROVAL
    assert Client().post(url).status_code == 405


# --- Downloads ---------------------------------------------------------------------------


def _table_count(snapshot: dict) -> int:
    return sum(len(section["tables"]) for section in snapshot["sections"])


@pytest.mark.page("official_statistics:download_ods")
def test_the_ods_has_a_cover_contents_notes_and_a_sheet_per_table(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    import io

    from odf.opendocument import load
    from odf.table import Table

    draft = prepared(analysts[0])
    url = f"/official-statistics/{draft.release_id}/1/release.ods"
    assert Client().get(url).status_code == 404  # not published yet
    version = releases.approve_release(by=actor(analysts[1]), version=draft)
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert (
        "official-statistics-2024-04-01-to-2024-06-30-uk-v1.ods" in response["Content-Disposition"]
    )
    document = load(io.BytesIO(response.content))
    names = [sheet.getAttribute("name") for sheet in document.spreadsheet.getElementsByType(Table)]
    tables_count = _table_count(version.snapshot)
    assert names == [
        "Cover_sheet",
        "Contents",
        "Notes",
        *(f"Table_{n}" for n in range(1, tables_count + 1)),
    ]
    assert Client().post(url).status_code == 405
    page = Client().get(f"/official-statistics/{draft.release_id}/1/").content.decode()
    assert f'href="{url}"' in page


@pytest.mark.page("official_statistics:download_xlsx")
def test_the_xlsx_has_the_same_sheets(referrals: list[object], analysts: tuple[User, User]) -> None:
    import io

    from openpyxl import load_workbook

    version = published(*analysts)
    url = f"/official-statistics/{version.release_id}/1/release.xlsx"
    response = Client().get(url)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:3] == ["Cover_sheet", "Contents", "Notes"]
    assert len(workbook.sheetnames) == 3 + _table_count(version.snapshot)
    assert workbook["Cover_sheet"]["A1"].value == "NRM statistics: April to June 2024"
    assert Client().post(url).status_code == 405


@pytest.mark.page("official_statistics:download_csv")
def test_the_release_csv_holds_every_table(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    import csv
    import io

    version = published(*analysts)
    url = f"/official-statistics/{version.release_id}/1/release.csv"
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["table"] for row in rows} == set(releases.snapshot_tables(version.snapshot))
    total = next(
        row
        for row in rows
        if row["table"] == "referrals-by-competent-authority" and row["row"] == "Total"
    )
    assert total["value"] == "12"
    assert Client().post(url).status_code == 405


@pytest.mark.page("official_statistics:table_csv")
def test_each_table_downloads_as_its_own_csv(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    from opennrm.statistics import spreadsheets

    version = published(*analysts)
    base = f"/official-statistics/{version.release_id}/1/tables/"
    page = Client().get(f"/official-statistics/{version.release_id}/1/").content.decode()
    for slug, table in releases.snapshot_tables(version.snapshot).items():
        response = Client().get(f"{base}{slug}.csv")
        assert response.status_code == 200
        assert response.content.decode() == spreadsheets.table_csv(table)
        assert f'href="{base}{slug}.csv"' in page
    assert Client().get(f"{base}no-such-table.csv").status_code == 404
    assert Client().post(f"{base}referrals-by-sex.csv").status_code == 405


# --- The synthetic dataset (issue 13, item 6; ADR 0037) ----------------------------------


def prepared_with_synthetic(by: User, epsilon: str = "1") -> ReleaseVersion:
    return releases.prepare_release(
        by=actor(by),
        period=Q2,
        jurisdiction=None,
        title="NRM statistics: April to June 2024",
        synthetic_epsilon=Decimal(epsilon),
    )


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_synthetic_dataset_is_generated_with_the_version_and_frozen_with_it(
    referrals: list[object], analysts: tuple[User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, object]] = []
    real = synthetic.synthetic_dataset

    def spy(*args: object, **kwargs: object) -> synthetic.SyntheticDataset:
        calls.append({"args": args, **kwargs})
        return real(*args, **kwargs)

    monkeypatch.setattr(synthetic, "synthetic_dataset", spy)
    version = prepared_with_synthetic(analysts[0], "1.5")
    assert calls == [{"args": (Q2, None, Decimal("1.5"))}]  # no seed: OpenDP's secure noise

    stored = SyntheticDataset.objects.get(version=version)
    rows = csv_rows(stored.csv)
    assert tuple(rows[0]) == synthetic.SYNTHETIC_COLUMNS
    assert stored.rows == len(rows) - 1
    assert stored.epsilon == Decimal("1.5")
    assert stored.delta == synthetic.DELTA
    assert stored.method == synthetic.METHOD
    assert stored.unfilled == list(synthetic.UNFILLED)
    assert "epsilon = 1.5" in stored.privacy
    assert stored.notes[0] == stored.privacy
    for row in rows[1:]:
        for column, value in zip(synthetic.SYNTHETIC_COLUMNS, row, strict=True):
            if column in synthetic.UNFILLED:
                assert value == ""
    stated = ReleaseVersion.objects.get(pk=version.pk).snapshot["synthetic"]
    assert stated == {
        "epsilon": 1.5,
        "delta": synthetic.DELTA,
        "method": synthetic.METHOD,
        "rows": stored.rows,
        "privacy": stored.privacy,
        "notes": stored.notes,
        "unfilled": list(synthetic.UNFILLED),
    }
    event = AuditEvent.objects.get(action="statistics.release_prepared")
    assert event.detail["synthetic_epsilon"] == "1.5"

    # Approved with the version, then frozen with it, whatever data arrives later.
    releases.approve_release(by=actor(analysts[1]), version=version)
    frozen = stored.csv
    case = referrals[0]
    for n in range(7):
        add_referral(
            case.referred_by, case.referring_organisation, case.competent_authority, "adult", n
        )
    stored = SyntheticDataset.objects.get(version=version)
    assert stored.csv == frozen
    stored.csv = "changed"
    with pytest.raises(PublishedVersionChanged):
        stored.save()
    with pytest.raises(PublishedVersionChanged):
        stored.delete()
    assert SyntheticDataset.objects.get(version=version).csv == frozen


def test_a_version_without_one_has_none_and_its_audit_event_says_so(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = prepared(analysts[0])
    assert not SyntheticDataset.objects.exists()
    assert "synthetic" not in version.snapshot
    event = AuditEvent.objects.get(action="statistics.release_prepared")
    assert event.detail["synthetic_epsilon"] is None


@pytest.mark.parametrize(
    ("epsilon", "message"),
    [
        ("0.05", "Enter the epsilon as a number from 0.1 to 10"),
        ("10.5", "Enter the epsilon as a number from 0.1 to 10"),
        ("NaN", "Enter the epsilon as a number from 0.1 to 10"),
        ("0.125", "Enter the epsilon with up to 2 decimal places"),
    ],
)
def test_a_bad_epsilon_is_refused_and_nothing_is_written(
    referrals: list[object], analysts: tuple[User, User], epsilon: str, message: str
) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(releases.ReleaseRefused) as refused:
        prepared_with_synthetic(analysts[0], epsilon)
    assert refused.value.message_dict == {"epsilon": [message]}
    assert not Release.objects.exists()
    assert not ReleaseVersion.objects.exists()
    assert not SyntheticDataset.objects.exists()
    assert AuditEvent.objects.count() == events

    first = published(*analysts)
    with pytest.raises(releases.ReleaseRefused):
        releases.revise_release(
            by=actor(analysts[0]),
            release=first.release,
            reason="Fix",
            synthetic_epsilon=Decimal(epsilon),
        )
    assert ReleaseVersion.objects.count() == 1
    assert not SyntheticDataset.objects.exists()


def test_a_revision_carries_its_own_synthetic_dataset_or_none(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    ada, ben = analysts
    first = releases.approve_release(by=actor(ben), version=prepared_with_synthetic(ada, "1"))
    second = releases.revise_release(
        by=actor(ben), release=first.release, reason="Late", synthetic_epsilon=Decimal("0.5")
    )
    assert second.synthetic.epsilon == Decimal("0.5")
    assert second.snapshot["synthetic"]["epsilon"] == 0.5
    assert SyntheticDataset.objects.get(version=first).epsilon == Decimal("1")
    event = AuditEvent.objects.get(action="statistics.release_revised")
    assert event.detail["synthetic_epsilon"] == "0.5"
    releases.withdraw_draft(by=actor(ada), version=second)
    third = releases.revise_release(by=actor(ben), release=first.release, reason="Again")
    assert not SyntheticDataset.objects.filter(version=third).exists()
    assert "synthetic" not in third.snapshot


def test_the_prepare_form_asks_for_a_synthetic_dataset_and_keeps_every_answer_on_an_error(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    client = factories.signed_in_client(analysts[0])
    page = client.get("/statistics/releases/prepare/").content.decode()
    assert "Publish a synthetic dataset with the release?" in page
    assert "Smaller means more privacy and less accurate data" in page
    assert "on top of the tables" in page
    assert re.search(r'name="epsilon"[^>]*value="1"', page)  # 1 unless changed
    assert 'data-app-show-when="synthetic" data-app-show-value="yes"' in page  # by "Yes"
    form = {
        "year": "2024",
        "quarter": "2",
        "jurisdiction": "",
        "title": "Spring figures",
        "notes": "Kept notes",
    }
    unanswered = client.post("/statistics/releases/prepare/", form).content.decode()
    assert "Select yes if a synthetic dataset is to be published with the release" in unanswered
    for epsilon in ("", "abc", "0", "20", "1e400"):
        bad = client.post(
            "/statistics/releases/prepare/", {**form, "synthetic": "yes", "epsilon": epsilon}
        )
        text = bad.content.decode()
        assert bad.status_code == 200
        assert "There is a problem" in text
        assert text.count("Enter the epsilon as a number from 0.1 to 10") == 2, epsilon  # both
        assert 'value="Spring figures"' in text
        assert "Kept notes" in text
        assert re.search(r'value="yes"\s+checked', text), epsilon
        if epsilon:
            assert f'value="{epsilon}"' in text
    places = client.post(
        "/statistics/releases/prepare/", {**form, "synthetic": "yes", "epsilon": "0.333"}
    ).content.decode()
    assert "Enter the epsilon with up to 2 decimal places, like 0.5" in places
    assert not ReleaseVersion.objects.exists()

    response = client.post(
        "/statistics/releases/prepare/", {**form, "synthetic": "yes", "epsilon": " 2 "}
    )
    assert response.status_code == 302
    version = ReleaseVersion.objects.get()
    assert version.synthetic.epsilon == Decimal("2")
    shown = client.get(response["Location"]).content.decode()
    assert f"Yes: epsilon 2, delta 1e-09, {version.synthetic.rows:,} rows, by MST" in shown
    assert 'id="synthetic-data"' in shown
    assert "Download the synthetic dataset" not in shown  # not public until approved


def test_answering_no_ignores_whatever_is_in_the_epsilon_box(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    client = factories.signed_in_client(analysts[0])
    response = client.post(
        "/statistics/releases/prepare/",
        {
            "year": "2024",
            "quarter": "2",
            "jurisdiction": "",
            "title": "Spring",
            "synthetic": "no",
            "epsilon": "nonsense, and longer than any number",
        },
    )
    assert response.status_code == 302
    version = ReleaseVersion.objects.get()
    assert not SyntheticDataset.objects.exists()
    shown = client.get(response["Location"]).content.decode()
    assert re.search(r"Synthetic dataset\s*</dt>\s*<dd[^>]*>\s*None", shown)
    assert 'id="synthetic-data"' not in shown
    assert version.number == 1


def test_the_revise_form_asks_for_a_synthetic_dataset_too(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    first = published(*analysts)
    url = f"/statistics/releases/{first.release_id}/revise/"
    client = factories.signed_in_client(analysts[0])
    bad = client.post(
        url, {"reason": "A late decision", "synthetic": "yes", "epsilon": "11"}
    ).content.decode()
    assert "Enter the epsilon as a number from 0.1 to 10" in bad
    assert "A late decision" in bad
    assert ReleaseVersion.objects.count() == 1
    response = client.post(url, {"reason": "A late decision", "synthetic": "yes", "epsilon": "1"})
    assert response["Location"] == f"/statistics/releases/{first.release_id}/2/"
    assert ReleaseVersion.objects.get(number=2).synthetic.epsilon == Decimal("1")


@pytest.mark.page("official_statistics:download_synthetic")
def test_the_public_downloads_the_synthetic_dataset_of_a_published_version_only(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = prepared_with_synthetic(analysts[0])
    url = f"/official-statistics/{version.release_id}/1/synthetic.csv"
    assert Client().get(url).status_code == 404  # a draft's is not public
    releases.approve_release(by=actor(analysts[1]), version=version)
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="official-statistics-2024-04-01-to-2024-06-30-uk-v1-synthetic.csv"'
    )
    rows = csv_rows(response.content.decode())
    assert tuple(rows[0]) == synthetic.SYNTHETIC_COLUMNS
    assert response.content.decode() == SyntheticDataset.objects.get(version=version).csv
    assert Client().post(url).status_code == 405
    # A version without one has nothing to download.
    second = releases.revise_release(by=actor(analysts[0]), release=version.release, reason="Fix")
    releases.approve_release(by=actor(analysts[1]), version=second)
    assert Client().get(url.replace("/1/", "/2/")).status_code == 404


def test_the_public_bulletin_explains_the_synthetic_dataset_and_links_it(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = releases.approve_release(
        by=actor(analysts[1]), version=prepared_with_synthetic(analysts[0], "1")
    )
    page = Client().get(f"/official-statistics/{version.release_id}/1/").content.decode()
    section = page.split('id="synthetic-data"')[1].split('id="about"')[0]
    rows = version.synthetic.rows
    assert f"{rows:,} records that look like the referrals of April to June 2024" in section
    assert "No row is a real person" in section
    assert "It is not for counting" in section
    assert "use the tables above" in section
    assert "epsilon 1 and delta 1e-09 for each referral" in section
    assert "MST (McKenna, Miklau and Sheldon 2021)" in section
    assert ", ".join(synthetic.UNFILLED) in section
    assert "OpenNRM does not record the means of control" in section
    link = f"/official-statistics/{version.release_id}/1/synthetic.csv"
    assert f'href="{link}">Download the synthetic dataset (CSV)' in section
    assert 'href="#synthetic-data">Synthetic data' in page

    second = releases.revise_release(by=actor(analysts[0]), release=version.release, reason="Fix")
    releases.approve_release(by=actor(analysts[1]), version=second)
    without = Client().get(f"/official-statistics/{version.release_id}/2/").content.decode()
    assert "ynthetic" not in without


def test_the_api_gives_the_synthetic_datasets_figures_and_download(
    referrals: list[object], analysts: tuple[User, User]
) -> None:
    version = releases.approve_release(
        by=actor(analysts[1]), version=prepared_with_synthetic(analysts[0], "0.5")
    )
    body = Client().get(f"/api/v1/statistics/releases/{version.release_id}/versions/1").json()
    stored = version.synthetic
    assert body["synthetic"] == {
        "epsilon": 0.5,
        "delta": synthetic.DELTA,
        "epsilon_in_all": 0.5,
        "delta_in_all": synthetic.DELTA,
        "method": synthetic.METHOD,
        "rows": stored.rows,
        "privacy": stored.privacy,
        "notes": stored.notes,
        "unfilled": list(synthetic.UNFILLED),
        "download": f"/official-statistics/{version.release_id}/1/synthetic.csv",
    }
    second = releases.revise_release(by=actor(analysts[0]), release=version.release, reason="Fix")
    releases.approve_release(by=actor(analysts[1]), version=second)
    other = Client().get(f"/api/v1/statistics/releases/{version.release_id}/versions/2").json()
    assert other["synthetic"] is None


@pytest.mark.django_db
def test_a_number_too_large_for_any_key_is_404_on_the_public_page_and_the_api() -> None:
    """Found by the fuzzer: it overflowed the query (a server error) instead of naming nothing."""
    huge = 256110838966589259776
    assert Client().get(f"/official-statistics/{huge}/1/").status_code == 404
    assert Client().get(f"/api/v1/statistics/releases/{huge}/versions/1").status_code == 404
    assert Client().get(f"/api/v1/statistics/releases/1/versions/{huge}").status_code == 404


def test_a_number_too_large_for_any_key_is_404_on_the_analysts_pages(
    analysts: tuple[User, User],
) -> None:
    huge = 256110838966589259776
    client = factories.signed_in_client(analysts[0])
    assert client.get(f"/statistics/releases/{huge}/1/").status_code == 404
    assert client.get(f"/statistics/releases/1/{huge}/").status_code == 404
