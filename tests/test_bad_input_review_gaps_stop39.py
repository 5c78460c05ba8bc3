"""Bad input the review found (stop 39): text an analyst pastes into a statistics release (from
Word, a PDF) carrying control characters that the published spreadsheets cannot hold, and
management commands given bad input: a clear CommandError, and nothing half-written."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts import services as account_services
from opennrm.accounts.models import Invitation, Organisation, User
from opennrm.accounts.roles import Jurisdiction, OrganisationKind
from opennrm.audit import anchor
from opennrm.lib.text import multi_line_problem
from opennrm.screening.catalogue import CatalogueError, decode
from opennrm.statistics import releases, spreadsheets, tables
from opennrm.statistics.models import Release, ReleaseVersion

from . import factories
from .test_statistics_releases import (  # noqa: F401
    Q2,
    actor,
    analysts,
    prepared,
    published,
    referrals,
)

# --- Release text with control characters ------------------------------------------------

# Word's manual line break (Shift+Enter) is pasted as a vertical tab, U+000B.
PASTED_REASON = "Late referrals were added.\x0bSee the notes for details."


def test_a_revision_reason_pasted_from_word_does_not_break_the_published_workbook(
    referrals: list[object],  # noqa: F811
    analysts: tuple[User, User],  # noqa: F811
) -> None:
    """Who is hurt: every member of the public (and every journalist or researcher) who
    downloads a revised official statistics release as Excel; and the analysts, who cannot
    take a published version back.

    What happens now: the revise form accepts a reason containing a vertical tab (what Word's
    Shift+Enter line break becomes when pasted). `_reason_required` only strips it. Once the
    second analyst approves, `release.xlsx` for that published version raises openpyxl's
    IllegalCharacterError on every download: a 500, for ever, since a published version
    cannot be changed.

    What should happen: the reason is either refused on the form with a clear message
    (nothing written), or cleaned of control characters so the published workbook opens."""
    ada, ben = analysts
    first = published(ada, ben)
    client = factories.signed_in_client(ada)
    response = client.post(
        f"/statistics/releases/{first.release_id}/revise/",
        {"reason": PASTED_REASON, "synthetic": "no"},
    )
    second = ReleaseVersion.objects.filter(release=first.release, number=2).first()
    if second is None:
        # Refused on the form: acceptable, as long as it is said, not a 500.
        assert response.status_code == 200
        return
    releases.approve_release(by=actor(ben), version=second)

    public = Client(raise_request_exception=False)
    xlsx = public.get(f"/official-statistics/{first.release_id}/2/release.xlsx")
    assert xlsx.status_code == 200, "the published revision's Excel workbook cannot be downloaded"

    from openpyxl import load_workbook

    load_workbook(io.BytesIO(xlsx.content))  # it opens


@pytest.mark.parametrize("where", ["title", "notes"])
def test_a_release_title_or_notes_with_a_control_character_do_not_break_the_workbook(
    referrals: list[object],  # noqa: F811
    analysts: tuple[User, User],  # noqa: F811
    where: str,
) -> None:
    """Who is hurt: the public downloading an official statistics release as Excel.

    What happens now: `prepare_release` only folds whitespace in the title and the notes
    (`" ".join(text.split())`), so a control character such as U+0002 or U+001B (pasted from a
    PDF or a terminal) is kept in the snapshot. After approval, `release.xlsx` raises openpyxl's
    IllegalCharacterError: a 500 on every download of a version that can no longer change.

    What should happen: the prepare form refuses the control character with a message naming
    the field (nothing written), as the operation's name already does (`single_line`), or it
    is removed before the snapshot is frozen."""
    ada, ben = analysts
    client = factories.signed_in_client(ada)
    title = "NRM statistics: April to June 2024"
    notes = "Figures are provisional."
    if where == "title":
        title += "\x02"
    else:
        notes += "\x1b"
    response = client.post(
        "/statistics/releases/prepare/",
        {
            "year": "2024",
            "quarter": "2",
            "jurisdiction": "",
            "title": title,
            "notes": notes,
            "synthetic": "no",
        },
    )
    version = ReleaseVersion.objects.filter(number=1).first()
    if version is None:
        assert response.status_code == 200
        return
    releases.approve_release(by=actor(ben), version=version)
    public = Client(raise_request_exception=False)
    xlsx = public.get(f"/official-statistics/{version.release_id}/1/release.xlsx")
    assert xlsx.status_code == 200, "the published release's Excel workbook cannot be downloaded"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "NRM statistics\x02"}, "title"),
        ({"notes": "Figures are provisional.\x1b[0m"}, "notes"),
    ],
)
def test_the_prepare_service_refuses_a_control_character_naming_the_field(
    referrals: list[object],  # noqa: F811
    analysts: tuple[User, User],  # noqa: F811
    change: dict[str, str],
    field: str,
) -> None:
    """The service refuses what the form refuses, for any other caller: nothing is written."""
    asked = {"title": "NRM statistics: April to June 2024", "notes": "", **change}
    with pytest.raises(releases.ReleaseRefused) as refused:
        releases.prepare_release(by=actor(analysts[0]), period=Q2, jurisdiction=None, **asked)
    assert "control characters" in refused.value.message_dict[field][0]
    assert not Release.objects.exists()


def test_the_revise_service_refuses_a_control_character_in_the_reason_or_notes(
    referrals: list[object],  # noqa: F811
    analysts: tuple[User, User],  # noqa: F811
) -> None:
    ada, ben = analysts
    first = published(ada, ben)
    for asked, field in (
        ({"reason": "Late referrals.\x0bMore below."}, "reason"),
        ({"reason": "Late referrals.", "notes": "Provisional.\x07"}, "notes"),
    ):
        with pytest.raises(releases.ReleaseRefused) as refused:
            releases.revise_release(by=actor(ada), release=first.release, **asked)
        assert "control characters" in refused.value.message_dict[field][0]
    assert ReleaseVersion.objects.filter(release=first.release).count() == 1


def test_notes_and_reasons_keep_their_line_breaks_and_tabs(
    referrals: list[object],  # noqa: F811
    analysts: tuple[User, User],  # noqa: F811
) -> None:
    """A browser sends a text area's line breaks as CRLF: paragraphs are not refused."""
    assert multi_line_problem("One.\r\n\r\nTwo,\tand three.", "The notes") is None
    assert multi_line_problem("One.\x0bTwo.", "The notes") is not None
    assert multi_line_problem("Evil \u202e text", "The notes") is not None
    version = releases.prepare_release(
        by=actor(analysts[0]),
        period=Q2,
        jurisdiction=None,
        title="NRM statistics: April to June 2024",
        notes="First paragraph.\r\n\r\nSecond,\twith a tab.",
    )
    assert version.snapshot["notes"] == ["First paragraph.", "Second, with a tab."]


def test_a_version_stored_with_control_characters_still_gives_both_workbooks(
    referrals: list[object],  # noqa: F811
    analysts: tuple[User, User],  # noqa: F811
) -> None:
    """A version published before the services refused control characters keeps them, frozen:
    the workbooks leave them out (a vertical tab, Word's line break, becomes a line break)."""
    from odf.opendocument import load
    from openpyxl import load_workbook

    snapshot = dict(prepared(analysts[0]).snapshot)
    snapshot["title"] = "NRM statistics\x02: April to June 2024\uffff"
    snapshot["notes"] = ["Provisional\x1b[0m figures."]
    about = spreadsheets.About(
        version=2,
        published_on=date(2024, 8, 1),
        revision_reason="Late referrals.\x0bSee the notes.",
        source="OpenNRM",
        contact="statistics@example.org",
    )
    book = load_workbook(io.BytesIO(spreadsheets.workbook_xlsx(snapshot, about)))
    assert book.properties.title == "NRM statistics: April to June 2024"
    cover = [cell.value for cell in book["Cover_sheet"]["A"]]
    assert cover[0] == "NRM statistics: April to June 2024"
    assert "Late referrals.\nSee the notes." in cover
    assert book["Notes"]["B4"].value == "Provisional[0m figures."
    load(io.BytesIO(spreadsheets.workbook_ods(snapshot, about)))  # it opens


# --- Management commands given bad input ----------------------------------------------


def test_invite_system_admin_refuses_an_organisation_name_of_two_lines(
    transactional_db: None,
) -> None:
    """Who is hurt: the person installing a new deployment, inviting its first system
    administrator (pasting the organisation's name across two lines in a terminal).

    What happens now: the command checks the name only for NUL and length, so
    "Example NRM\\nService Desk" is accepted; the organisation and the invitation are committed,
    then the invitation e-mail (sent on commit, its subject "You have been invited to OpenNRM
    by <name>") raises BadHeaderError. The operator sees a traceback, the single-use link is
    never printed, and the organisation is left stored with a two-line name (which breaks every
    later e-mail whose subject names it).

    What should happen: the name is refused before anything is written, with a CommandError
    naming --organisation, as the web forms refuse a line break in a one-line name
    (`opennrm.lib.text.single_line`)."""
    with pytest.raises(CommandError, match="--organisation"):
        call_command(
            "invite_system_admin",
            "--email",
            "root@example.org",
            "--organisation",
            "Example NRM\nService Desk",
        )
    assert not Organisation.objects.exists()
    assert not Invitation.objects.exists()


def test_an_organisation_of_two_lines_is_refused_by_the_service_and_the_form(
    sysadmin: User,
) -> None:
    """The organisation's name is in the subject of every invitation e-mail."""
    with pytest.raises(ValidationError) as refused:
        account_services.organisation_create(
            by=sysadmin,
            name="Example NRM\nService Desk",
            kind=OrganisationKind.SUPPORT_PROVIDER,
            jurisdiction=Jurisdiction.SCOTLAND,
        )
    assert "one line" in refused.value.message_dict["name"][0]
    response = factories.signed_in_client(sysadmin).post(
        reverse("accounts:organisation_create"),
        {
            "name": "Westfield\x1b Refuge",
            "kind": OrganisationKind.SUPPORT_PROVIDER,
            "jurisdiction": "scotland",
        },
    )
    assert response.status_code == 200
    assert "must be one line" in response.content.decode()
    assert not Organisation.objects.filter(name__startswith="Westfield").exists()


def test_verify_audit_reports_a_malformed_anchor_file_without_a_traceback(
    db: None, tmp_path: Path
) -> None:
    """Who is hurt: the operator (or the monitoring job) running `verify_audit` to prove the
    audit trail has not been tampered with.

    What happens now: an anchor line whose count is a JSON number too large for an integer
    (`1e999`, read as infinity) makes `anchor.read` call int(inf), an OverflowError it does not
    catch: the command dies with a traceback instead of its own verdict.

    What should happen: like any other line that is not an anchor, it is reported as a
    CommandError saying the anchor file cannot be trusted (the command's promise: a clear
    message and exit status 1 on any failure)."""
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text(
        json.dumps({"at": "2026-01-01T00:00:00+00:00", "last_id": 1, "hash": "ab"})[:-1]
        + ', "count": 1e999}\n'
    )
    with pytest.raises(CommandError, match="anchor"):
        call_command("verify_audit", "--anchor-file", str(anchors))


@pytest.mark.parametrize("count", ["2.5", '"2"', "true", "-1e999", "[[[[1]]]]"])
def test_an_anchor_count_that_is_not_a_whole_number_is_not_trusted(
    tmp_path: Path, count: str
) -> None:
    """int() would make 2.5 a 2 and "2" a 2: the file says something other than an anchor."""
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text(
        '{"at": "2026-01-01T00:00:00+00:00", "last_id": 2, "hash": "ab", "count": ' + count + "}\n"
    )
    with pytest.raises(anchor.AnchorError, match="cannot be trusted"):
        anchor.read(anchors)


def test_an_anchor_line_nested_too_deeply_is_not_trusted(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(anchor.AnchorError, match="cannot be trusted"):
        anchor.read(anchors)


@pytest.mark.parametrize("command", ["verify_audit", "rotate_keys"])
@pytest.mark.parametrize("size", [str(10**30), "100001", "0"])
def test_a_batch_size_out_of_range_is_refused_before_anything_runs(
    db: None, command: str, size: str
) -> None:
    """10**30 rows a batch overflowed the query (IntegrityError, OverflowError)."""
    with pytest.raises(CommandError, match="--batch-size must be a whole number from 1 to 100,000"):
        call_command(command, "--batch-size", size)


def test_load_indicator_catalogue_reports_a_deeply_nested_file(db: None, tmp_path: Path) -> None:
    """Who is hurt: the system administrator loading a deployment's licensed indicator
    catalogue from a file (a corrupt or wrong file).

    What happens now: a file of deeply nested JSON arrays makes `catalogue.decode` raise
    RecursionError, which it does not catch: a traceback, not the command's promised report
    ("the whole file is checked first and every problem is reported").

    What should happen: a CommandError saying the file is not a catalogue; nothing loaded."""
    path = tmp_path / "catalogue.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError):
        call_command("load_indicator_catalogue", str(path))


def test_a_deeply_nested_catalogue_is_reported_as_not_a_catalogue() -> None:
    with pytest.raises(CatalogueError) as refused:
        decode("[" * 100_000 + "]" * 100_000)
    assert refused.value.problems == [
        "The file is not an indicator catalogue: it is nested too deeply"
    ]


def test_synthetic_dataset_refuses_a_period_past_the_last_date_python_holds(
    db: None, tmp_path: Path
) -> None:
    """Who is hurt: the analyst or operator writing a synthetic dataset from the command line
    who mistypes the year (9999 for 2025).

    What happens now: `period_of` accepts any four-digit year from 2009, so `--period 9999Q4`
    reaches `Period.ends`, which adds a day to 31 December 9999: ValueError "year 10000 is out
    of range", a traceback.

    What should happen: a CommandError naming --period (a period that has not ended yet has
    no referrals to synthesise)."""
    with pytest.raises(CommandError, match="--period"):
        call_command(
            "synthetic_dataset",
            "--period",
            "9999Q4",
            "--epsilon",
            "1",
            "--out",
            str(tmp_path / "out.csv"),
        )


def _synthesis_must_not_start(*args: object, **kwargs: object) -> None:
    raise AssertionError("the synthesis started before the checks")


def test_synthetic_dataset_refuses_a_period_that_has_not_ended(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opennrm.statistics.management.commands import synthetic_dataset

    monkeypatch.setattr(synthetic_dataset, "synthetic_dataset", _synthesis_must_not_start)
    today = timezone.localdate(timezone=tables.LONDON)
    for period in (f"{today.year}Q{(today.month - 1) // 3 + 1}", str(today.year)):
        with pytest.raises(CommandError, match=r"--period: .* has not ended yet"):
            call_command(
                "synthetic_dataset",
                "--period",
                period,
                "--epsilon",
                "1",
                "--out",
                str(tmp_path / "out.csv"),
            )
    assert not (tmp_path / "out.csv").exists()


def test_synthetic_dataset_refuses_an_out_file_it_cannot_write_before_the_synthesis(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The synthesis takes a while: the file is checked first, not written to after it."""
    from opennrm.statistics.management.commands import synthetic_dataset

    monkeypatch.setattr(synthetic_dataset, "synthetic_dataset", _synthesis_must_not_start)
    too_long = tmp_path / ("x" * 300 + ".csv")  # longer than any file system's name allows
    with pytest.raises(CommandError, match=r"--out: .* cannot be written"):
        call_command(
            "synthetic_dataset", "--period", "2024Q2", "--epsilon", "1", "--out", str(too_long)
        )


def test_synthetic_dataset_leaves_no_empty_file_when_the_synthesis_fails(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opennrm.statistics.management.commands import synthetic_dataset

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(synthetic_dataset, "synthetic_dataset", fails)
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        call_command("synthetic_dataset", "--period", "2024Q2", "--epsilon", "1", "--out", str(out))
    assert not out.exists()
    kept = tmp_path / "kept.csv"
    kept.write_text("an earlier file\n")
    with pytest.raises(RuntimeError):
        call_command(
            "synthetic_dataset", "--period", "2024Q2", "--epsilon", "1", "--out", str(kept)
        )
    assert kept.read_text() == "an earlier file\n"
