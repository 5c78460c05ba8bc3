"""Official statistics releases (issue 13, item 3; ADR 0036): an analyst prepares a release
from the live data, a second analyst approves it, and it is published frozen.

`build_snapshot` makes every table of the release (`tables.release_tables`), protects them
(`tables.protect`), checks the protection afresh with the linear-programming checker
(`disclosure.problems`) and lays them out (`layout.laid_out`) as the snapshot, the one record
of what was published: the public pages, the downloads and the API read nothing else.
`key_results` writes the main points in words from the snapshot's own (protected) figures.

A version may carry a differentially private synthetic dataset (issue 13, item 6; ADR 0037):
`prepare_release` and `revise_release` generate it, with the epsilon the analyst chose, in the
same transaction as the version; it is approved and frozen with the version, and the snapshot
states its guarantee under `"synthetic"`. Every published version stays public, so a revision's
dataset states the privacy spent in all with the earlier versions' datasets of the same
referrals, and is refused past `synthetic.RELEASE_EPSILON_BUDGET` in all.

The write services each record one audit event: `prepare_release`, `approve_release`,
`revise_release`, `withdraw_draft`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.roles import Jurisdiction
from opennrm.audit.services import audit_record
from opennrm.lib.text import as_lines, multi_line_problem, single_line_problem

from . import disclosure, layout, selectors, synthetic, tables
from . import operation_account as account
from .layout import SnapshotTable
from .models import Release, ReleaseVersion, SyntheticDataset, VersionState

FORMAT = 1
ALL_OF_THE_UK = "All of the UK"
NOT_PUBLISHED = "is not published: it is small enough that it could identify someone"


class ReleaseRefused(ValidationError):
    """The release cannot be prepared, approved or revised as asked: nothing was written."""


# --- Periods -----------------------------------------------------------------------------


def period_label(period: tables.Period) -> str:
    """ "July to September 2026", "January to December 2026" (a quarter or a year)."""
    if period.start.year == period.end.year:
        return f"{period.start:%B} to {period.end:%B %Y}"
    return f"{period.start:%B %Y} to {period.end:%B %Y}"


def jurisdiction_label(jurisdiction: str | None) -> str:
    return Jurisdiction(jurisdiction).label if jurisdiction else ALL_OF_THE_UK


def period_of(release: Release) -> tables.Period:
    return tables.Period(release.period_start, release.period_end)


# --- The snapshot ------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    snapshot: dict[str, Any]
    problems: list[str]  # the titles of the tables whose suppression the checker refuses


def _notes(text: str) -> list[str]:
    """The analyst's notes as paragraphs (separated by a blank line)."""
    return [" ".join(part.split()) for part in as_lines(text).split("\n\n") if part.strip()]


def unsafe_tables(made: Sequence[tables.AnyTable], protected: disclosure.Protected) -> list[str]:
    """The titles of the tables holding a cell that the checker, auditing afresh, finds
    published when it must not be or suppressed with a range narrower than the protection."""
    found = disclosure.problems(
        protected.release,
        protected.published,
        threshold=protected.threshold,
        protection=protected.protection,
    )
    if not found:
        return []
    cells = {problem.cell for problem in found}
    titles = {t.name: t.title for t in made if isinstance(t, tables.StatTable)}
    return [
        titles.get(table.name, table.name)
        for table in protected.release.tables
        if any(table.cell(*values) in cells for values in table.all_cells())
    ]


def build_snapshot(
    period: tables.Period, jurisdiction: str | None, title: str, notes: str
) -> Built:
    """The release as it would be published now, from the live data."""
    made = tables.release_tables(period, jurisdiction)
    protected = tables.protect(made)
    snapshot = _laid_out(made, protected, title, notes)
    snapshot["period"] = {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label": period_label(period),
    }
    snapshot["jurisdiction"] = jurisdiction
    snapshot["jurisdiction_label"] = jurisdiction_label(jurisdiction)
    snapshot["key_results"] = key_results(snapshot)
    return Built(snapshot, unsafe_tables(made, protected))


def build_operation_snapshot(found: account.Account, title: str, notes: str) -> Built:
    """The public account of an operation as it would be published now (ADR 0046): its tables
    protected and checked as one release, like any other. Its period is the operation's days;
    its area, the operation's region. The operation's name is in it: only an operation that
    has ended is ever released."""
    made = account.account_tables(found)
    protected = account.protect(made)
    snapshot = _laid_out(made, protected, title, notes)
    operation = found.operation
    snapshot["period"] = {
        "start": operation.starts_on.isoformat(),
        "end": operation.ends_on.isoformat(),
        "label": str(tables.Period(operation.starts_on, operation.ends_on)),
    }
    snapshot["jurisdiction"] = None
    snapshot["jurisdiction_label"] = operation.region_label
    snapshot["operation"] = {
        "name": operation.name,
        "region": operation.region_label,
        "as_of": found.as_of.isoformat(),
    }
    snapshot["key_results"] = key_results(snapshot)
    return Built(snapshot, unsafe_tables(made, protected))


def _laid_out(
    made: Sequence[tables.AnyTable], protected: disclosure.Protected, title: str, notes: str
) -> dict[str, Any]:
    """The snapshot's sections from protected tables; the caller adds the period and area."""
    sections = []
    not_available = []
    for table in made:
        if isinstance(table, tables.Missing):
            not_available.append({"title": table.title, "reason": table.why})
            continue
        sections.append(
            {
                "title": table.title,
                "counts": table.counts,
                "notes": list(table.notes),
                "tables": layout.laid_out(table, protected),
            }
        )
    return {
        "format": FORMAT,
        "title": title,
        "period": {},
        "jurisdiction": None,
        "jurisdiction_label": "",
        "threshold": protected.threshold,
        "key_results": [],
        "notes": _notes(notes),
        "sections": sections,
        "not_available": not_available,
    }


def snapshot_tables(snapshot: Mapping[str, Any]) -> dict[str, SnapshotTable]:
    """Every table of a snapshot by its slug."""
    return {t["slug"]: t for section in snapshot["sections"] for t in section["tables"]}


# --- Main points in words ----------------------------------------------------------------


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _n(value: int, one: str, many: str) -> str:
    return f"{value:,} {one if value == 1 else many}"


def _referrals(found: Mapping[str, SnapshotTable], label: str, threshold: int) -> list[str]:
    referrals = found.get("referrals-by-competent-authority")
    if not referrals or not referrals["footer"]:
        return []
    total = _count(referrals["footer"][-1])
    if total is None:
        return [f"The number of referrals made in {label} {NOT_PUBLISHED}."]
    said = [
        f"In {label}, {_n(total, 'referral was', 'referrals were')} made to the National "
        "Referral Mechanism."
    ]
    ages = found.get("referrals-by-age-group")
    children = next((row[-1] for row in ages["rows"] if row[0] == "Child"), None) if ages else None
    if total and isinstance(children, int | str):
        share = disclosure.percentage(children, total, threshold=threshold)
        if isinstance(share, float):
            said.append(
                f"{share:.0f}% of them were children when they were exploited (including "
                "people whose age is disputed)."
            )
        else:
            said.append(f"The share of referrals that were of children {NOT_PUBLISHED}.")
    return said


def _commonest_exploitation(found: Mapping[str, SnapshotTable]) -> list[str]:
    types = found.get("referrals-by-exploitation-and-age-group")
    if not types:
        return []
    single = [
        (str(row[0]), row[-1])
        for row in types["rows"]
        if row[0] not in ("More than one type", "Not specified or unknown")
    ]
    counted = [(name, n) for name, n in single if _count(n)]
    if not counted:
        return []
    name, n = max(counted, key=lambda item: int(item[1]))
    hidden = any(value == disclosure.CONFIDENTIAL for _, value in single)
    return [
        f"The commonest type of exploitation{' among those published' if hidden else ''} was "
        f"“{name.removesuffix(' only')}”, in {_n(int(n), 'referral', 'referrals')}."
    ]


def _decisions_issued(shares: SnapshotTable | None, kind: str) -> str | None:
    """ "12 reasonable grounds decisions (75% positive)", or why not, or None (no table)."""
    if not shares or not shares["footer"]:
        return None
    _, decisions, _, share = shares["footer"]
    issued = _count(decisions)
    if issued is None:
        return f"a number of {kind} decisions that is not published"
    words = _n(issued, f"{kind} decision", f"{kind} decisions")
    return f"{words} ({share:.0f}% positive)" if isinstance(share, float) else words


def _decisions(found: Mapping[str, SnapshotTable]) -> list[str]:
    said = []
    issued = [
        text
        for text in (
            _decisions_issued(
                found.get("rg-decisions-by-competent-authority-share"), "reasonable grounds"
            ),
            _decisions_issued(
                found.get("cg-decisions-by-competent-authority-share"), "conclusive grounds"
            ),
        )
        if text
    ]
    if issued:
        said.append(f"Decisions issued: {' and '.join(issued)}.")
    days = found.get("days-rg-to-cg")
    if days and days["footer"] and days["footer"][1] != 0:  # none issued: nothing to say
        median = days["footer"][4]
        if isinstance(median, float):
            said.append(
                "The median time from the reasonable grounds to the conclusive grounds decision "
                f"was {median:,.0f} days."
            )
        elif median == disclosure.CONFIDENTIAL:
            said.append(
                "The median time to a conclusive grounds decision is not published: it is "
                "over too few decisions, or over a number that is not published."
            )
    return said


def _turned_away(found: Mapping[str, SnapshotTable]) -> list[str]:
    turned = found.get("turned-away-by-reason-and-region")
    if not turned or not turned["footer"]:
        return []
    away = _count(turned["footer"][-1])
    if away is None:
        return [f"The number of requests for a bed that could not be met {NOT_PUBLISHED}."]
    if away == 0:
        return ["No request for a safe-house bed went unmet for lack of a suitable bed."]
    return [
        f"{_n(away, 'request', 'requests')} for a safe-house bed could not be met because no "
        "suitable bed was free."
    ]


# --- An operation's account in words (ADR 0046) -----------------------------------------


def _row_count(table: SnapshotTable | None, label: str) -> int | str | None:
    """The total of the row labelled `label` (its last column): a count, a symbol, or None when
    there is no such table or row."""
    if table is None:
        return None
    if label == "Total":
        row = table["footer"]
    else:
        row = next((r for r in table["rows"] if r[0] == label), None)
    if not row:
        return None
    value = row[-1]
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _figure(value: int | str | None, one: str, many: str) -> str:
    """ "12 people", or "a number of people that is not published" for `[c]`."""
    count = _count(value)
    if count is None:
        return f"a number of {many.split()[0]} that is not published"
    return _n(count, one, many)


def _shown(value: int | str | None) -> str:
    count = _count(value)
    return f"{count:,}" if count is not None else "not published"


def _sum_of(table: SnapshotTable | None, labels: Sequence[str]) -> int | str | None:
    """The sum of the rows labelled `labels`: `[c]` if any is not published."""
    counts = [_row_count(table, label) for label in labels]
    if any(count is None for count in counts):
        return None
    published = [_count(count) for count in counts]
    if any(count is None for count in published):
        return disclosure.CONFIDENTIAL
    return sum(count or 0 for count in published)


def _found(found: Mapping[str, SnapshotTable], name: str, label: str) -> list[str]:
    total = _count(_row_count(found.get("people-found-by-sex"), "Total"))
    if total is None:
        return [f"The number of people found in {name} ({label}) {NOT_PUBLISHED}."]
    if not total:
        return [f"{name} ({label}) found nobody to take in."]
    said = [
        f"{name} ({label}) found {_n(total, 'person', 'people')} who were taken in as possible "
        "victims of modern slavery."
    ]
    became = found.get("people-by-what-became-of-them")
    if became and total:
        labels = account.BECAME_LABELS
        referred = _figure(
            _sum_of(became, [labels[row] for row in account.REFERRED_ROWS]), "person", "people"
        )
        reported, declined = (
            _figure(_row_count(became, labels[row]), "person", "people")
            for row in ("duty_to_notify", "declined")
        )
        said.append(
            f"Of them, {referred} were referred to the National Referral Mechanism, {reported} "
            f"were reported under the duty to notify only, and {declined} declined both."
        )
        # A child, or a person whose age is disputed, never declines: one whose unfinished
        # referral was deleted is said apart, whenever the row is not a published zero.
        children = _row_count(became, labels[account.CHILD_NOT_REFERRED])
        if children is not None and children != 0:
            who = _figure(
                children,
                "child or person whose age is disputed",
                "children or people whose age is disputed",
            )
            verb = "was" if children == 1 else "were"
            said.append(f"{who} {verb} not referred: their unfinished referral was deleted.")
    return said


def _decided(found: Mapping[str, SnapshotTable]) -> list[str]:
    decisions = found.get("people-by-decisions")
    if not decisions:
        return []
    labels = account.DECISION_LABELS
    if _row_count(decisions, "Total") == _row_count(decisions, labels[account.NOT_REFERRED]):
        return []  # nobody referred: no decision to speak of
    positive = _sum_of(
        decisions,
        [labels[f"rg_positive_cg_{cg}"] for cg in ("positive", "negative", "awaiting")],
    )
    shown = [
        f"positive: {_shown(positive)}",
        f"negative: {_shown(_row_count(decisions, labels['rg_negative']))}",
        f"awaited: {_shown(_row_count(decisions, labels['rg_awaiting']))}",
    ]
    return [f"Reasonable grounds decisions in effect for the people referred: {'; '.join(shown)}."]


def _accommodated(found: Mapping[str, SnapshotTable]) -> list[str]:
    times = found.get("people-by-time-to-a-place")
    if not times:
        return []
    total = _count(_row_count(times, "Total"))
    not_placed = _count(_row_count(times, account.TIME_LABELS[account.NOT_PLACED]))
    if not total:
        return []
    if not_placed is None:
        return [f"The number of people accommodated in a safe house {NOT_PUBLISHED}."]
    placed = total - not_placed
    said = f"{_n(placed, 'person was', 'people were')} accommodated in a safe house"
    if placed:
        same_day = _count(_row_count(times, account.TIME_LABELS["same_day"]))
        shown = f"{same_day:,}" if same_day is not None else "a number that is not published"
        said += f", {shown} of them on the day they were found"
    return [said + "."]


def _turned_away_and_missing(found: Mapping[str, SnapshotTable]) -> list[str]:
    said = []
    turned = _row_count(found.get("turned-away-by-reason"), "Total")
    if turned is not None:
        away = _count(turned)
        if away is None:
            said.append(
                "The number of requests for a bed that could not be met for lack of a suitable "
                f"bed {NOT_PUBLISHED}."
            )
        elif away == 0:
            said.append("No request for a bed went unmet for lack of a suitable bed.")
        else:
            said.append(
                f"{_n(away, 'request', 'requests')} for a bed could not be met for lack of a "
                "suitable bed."
            )
    missing = _row_count(found.get("people-gone-missing"), account.MISSING_LABELS["went_missing"])
    if missing is not None:
        gone = _count(missing)
        if gone is None:
            said.append(f"The number of people who went missing from support {NOT_PUBLISHED}.")
        elif gone == 0:
            said.append("No one went missing from support.")
        else:
            said.append(f"{_n(gone, 'person', 'people')} went missing from support.")
    return said


def _removed_while_protected(found: Mapping[str, SnapshotTable]) -> list[str]:
    protected = _row_count(
        found.get("planned-removals-by-protection"), account.PROTECTED_LABELS["protected"]
    )
    if protected is None:
        return []
    if protected == 0:
        return [
            "No removal was recorded as planned for any of them while they were protected from "
            "removal."
        ]
    count = _count(protected)
    if count is None:
        return [
            "The number of removals recorded as planned for people found while they were "
            f"protected from removal {NOT_PUBLISHED}; there should have been none."
        ]
    return [
        f"{_n(count, 'removal was', 'removals were')} recorded as planned for people found while "
        "they were protected from removal, when there should have been none."
    ]


def _operation_results(snapshot: Mapping[str, Any]) -> list[str]:
    found = snapshot_tables(snapshot)
    if _row_count(found.get("people-found-by-sex"), "Total") == 0:  # nothing more to say
        return _found(found, snapshot["operation"]["name"], snapshot["period"]["label"])
    return [
        *_found(found, snapshot["operation"]["name"], snapshot["period"]["label"]),
        *_decided(found),
        *_accommodated(found),
        *_turned_away_and_missing(found),
        *_removed_while_protected(found),
    ]


def key_results(snapshot: Mapping[str, Any]) -> list[str]:
    """Up to six plain sentences from the published figures of the snapshot, never from a
    suppressed one: where a figure is `[c]`, the sentence says it is not published. A
    sentence starting with a number puts the number in figures (GOV.UK style for statistics).
    An operation's account has its own sentences, up to seven (ADR 0046)."""
    if "operation" in snapshot:
        return _operation_results(snapshot)
    found = snapshot_tables(snapshot)
    said = [
        *_referrals(found, snapshot["period"]["label"], int(snapshot["threshold"])),
        *_commonest_exploitation(found),
        *_decisions(found),
        *_turned_away(found),
    ]
    return said[:6]


# --- Writes ------------------------------------------------------------------------------


def _refuse_unsafe(built: Built) -> None:
    if built.problems:
        raise ReleaseRefused(
            "The release cannot be prepared: the disclosure check found suppressed figures "
            "that could be worked out too closely in "
            + "; ".join(f"“{title}”" for title in built.problems)
            + ". Nothing was saved. Report this to the statistics team: the suppression must "
            "be fixed before these tables are published."
        )


def _published_counts(snapshot: Mapping[str, Any]) -> dict[tuple[str, str, str], int]:
    """Every count a snapshot publishes (not `[c]`, `[x]` or `[z]`, nor a rounded figure), by
    its table's slug, its row's label and its column's header: the same cell in two versions
    of a release has the same key."""
    found: dict[tuple[str, str, str], int] = {}
    for slug, table in snapshot_tables(snapshot).items():
        labels = table["labels"]
        rows = [*table["rows"], *([table["footer"]] if table["footer"] else [])]
        for row in rows:
            label = " / ".join(str(part) for part in row[:labels])
            for header, value in zip(table["headers"][labels:], row[labels:], strict=False):
                count = _count(value)
                if count is not None:
                    found[(slug, label, header)] = count
    return found


@dataclass(frozen=True)
class SmallChanges:
    tables: list[str]  # the captions of the new version's tables with such a cell
    versions: list[int]  # the earlier published versions it was compared with and differs from
    threshold: int


def small_changes(
    snapshot: Mapping[str, Any], earlier: Sequence[ReleaseVersion]
) -> SmallChanges | None:
    """The tables of a new version with a count published in it and in an earlier published
    version of the same release that differs by 1 to threshold - 1 (ADR 0036, addendum). Both
    versions stay public, and each is protected only on its own (ADR 0032), so their difference
    is itself a published count: 3 late child referrals would be a cell of 3 that no table
    shows. None if every such change is 0 or at least the threshold."""
    new = _published_counts(snapshot)
    threshold = snapshot.get("threshold", disclosure.DEFAULT_THRESHOLD)
    slugs: set[str] = set()
    versions: list[int] = []
    for version in earlier:
        k = max(threshold, version.snapshot.get("threshold", disclosure.DEFAULT_THRESHOLD))
        differs = {
            cell[0]
            for cell, before in _published_counts(version.snapshot).items()
            if cell in new and 0 < abs(new[cell] - before) < k
        }
        if differs:
            slugs |= differs
            versions.append(version.number)
            threshold = k
    if not slugs:
        return None
    captions = [t["caption"] for slug, t in snapshot_tables(snapshot).items() if slug in slugs]
    return SmallChanges(captions, versions, threshold)


def _refuse_small_changes(
    snapshot: Mapping[str, Any], earlier: Sequence[ReleaseVersion], refused: str, then: str
) -> None:
    """Refuse a revision that, beside a version already published, would give away a count of
    fewer than the threshold by subtraction (threat 40, differencing)."""
    found = small_changes(snapshot, earlier)
    if found is None:
        return
    k = found.threshold
    versions = ("versions " if len(found.versions) > 1 else "version ") + " and ".join(
        str(n) for n in found.versions
    )
    raise ReleaseRefused(
        f"{refused}: in "
        + "; ".join(f"“{caption}”" for caption in found.tables)
        + f", cells would change by fewer than {k} people from the published {versions}, "
        "which subtracting the versions would reveal: wait until more late referrals make "
        f"every change at least {k}, or publish them in the next period. {then}"
    )


EPSILON_PLACES = Decimal("0.01")  # as stored (SyntheticDataset.epsilon)


def _epsilon_checked(epsilon: Decimal | None) -> Decimal | None:
    """The synthetic dataset's epsilon, checked before anything is written (None: no dataset).
    At most two decimal places, as it is stored and published: never silently rounded."""
    if epsilon is None:
        return None
    try:
        checked = synthetic.check_epsilon(epsilon)
    except synthetic.SyntheticRefused:
        raise ReleaseRefused(
            {
                "epsilon": f"Enter the epsilon as a number from {synthetic.EPSILON_MIN} to "
                f"{synthetic.EPSILON_MAX}"
            }
        ) from None
    if checked != checked.quantize(EPSILON_PLACES):
        raise ReleaseRefused({"epsilon": "Enter the epsilon with up to 2 decimal places"})
    return checked


def _synthetic_made(
    period: tables.Period, jurisdiction: str | None, epsilon: Decimal | None
) -> synthetic.SyntheticDataset | None:
    """The synthetic dataset of the release's referrals, with OpenDP's secure noise (no seed)."""
    if epsilon is None:
        return None
    return synthetic.synthetic_dataset(period, jurisdiction, epsilon)


def _published_synthetic(versions: Sequence[ReleaseVersion]) -> list[SyntheticDataset]:
    """The synthetic datasets of the release's published versions among `versions`, oldest
    first: every published version stays public (ADR 0036), and with it its dataset of the same
    referrals, so each one's privacy loss counts against every later one (ADR 0037)."""
    published = [v.pk for v in versions if v.state == VersionState.PUBLISHED]
    return list(
        SyntheticDataset.objects.filter(version_id__in=published)
        .select_related("version")
        .order_by("version__number")
    )


def _epsilon_text(value: Decimal) -> str:
    """2, 0.5, 10: as the analyst would write it (never 2.00 or 1E+1)."""
    return f"{value.normalize():f}"


def _refuse_over_budget(epsilon: Decimal | None, earlier: Sequence[SyntheticDataset]) -> None:
    """Refuse a new synthetic dataset that would take the release's datasets, which all stay
    public and all describe the same referrals, past `synthetic.RELEASE_EPSILON_BUDGET` in all
    (the losses add up: ADR 0037, addendum of stop 40). Without a bound, every revision could
    publish another dataset and the referrals' protection would wear away to nothing."""
    if epsilon is None or not earlier:
        return
    spent = sum((d.epsilon for d in earlier), Decimal(0))
    budget = synthetic.RELEASE_EPSILON_BUDGET
    if spent + epsilon <= budget:
        return
    left = budget - spent
    already = (
        f"This release's synthetic datasets have spent epsilon {_epsilon_text(spent)} of its "
        f"{_epsilon_text(budget)} in all ({_earlier_epsilons(earlier)}), and they stay public"
    )
    raise ReleaseRefused(
        {
            "epsilon": f"{already}: enter an epsilon of {_epsilon_text(left)} or less, or "
            "publish no synthetic dataset with this revision"
            if left >= synthetic.EPSILON_MIN
            else f"{already}: no more can be published with this release, so publish no "
            "synthetic dataset with this revision"
        }
    )


def _earlier_epsilons(earlier: Sequence[SyntheticDataset]) -> str:
    """ "version 1: epsilon 1; version 2: epsilon 0.5" """
    return "; ".join(
        f"version {d.version.number}: epsilon {_epsilon_text(d.epsilon)}" for d in earlier
    )


def _versions_text(earlier: Sequence[SyntheticDataset]) -> str:
    """ "version 1's dataset", "versions 1 and 2's datasets" """
    numbers = [str(d.version.number) for d in earlier]
    if len(numbers) == 1:
        return f"version {numbers[0]}'s dataset"
    return f"versions {', '.join(numbers[:-1])} and {numbers[-1]}'s datasets"


def _synthetic_statement(
    made: synthetic.SyntheticDataset | None, earlier: Sequence[SyntheticDataset]
) -> dict[str, Any] | None:
    """What the version states of its synthetic dataset: its own guarantee and, when earlier
    published versions of the release have datasets of the same referrals, the privacy spent by
    all of them together (basic composition: the epsilons add up, and so do the deltas), which
    is the guarantee a reader of every public file actually has."""
    if made is None:
        return None
    stated: dict[str, Any] = {
        "epsilon": made.epsilon,
        "delta": made.delta,
        "method": made.method,
        "rows": len(made.rows),
        "privacy": made.privacy,
        "notes": list(made.notes),
        "unfilled": list(made.unfilled),
    }
    if not earlier:
        return stated
    epsilon = sum((d.epsilon for d in earlier), Decimal(str(made.epsilon)))
    delta = sum((d.delta for d in earlier), made.delta)
    with_them = _versions_text(earlier)
    in_all = (
        f"This release's earlier synthetic datasets of the same referrals stay public "
        f"({_earlier_epsilons(earlier)}), so the privacy losses add up: with {with_them}, "
        f"epsilon = {_epsilon_text(epsilon)} and delta = {delta:.3g} in all for each referral."
    )
    privacy = f"{made.privacy} {in_all}"
    return {
        **stated,
        "privacy": privacy,
        "notes": [privacy, *made.notes[1:]],
        "epsilon_in_all": float(epsilon),
        "delta_in_all": delta,
        "earlier": [
            {"version": d.version.number, "epsilon": float(d.epsilon), "delta": d.delta}
            for d in earlier
        ],
    }


def _with_synthetic(snapshot: dict[str, Any], stated: dict[str, Any] | None) -> dict[str, Any]:
    """The snapshot stating the synthetic dataset's guarantee, when there is one."""
    if stated is None:
        return snapshot
    return {**snapshot, "synthetic": stated}


def _store_synthetic(
    version: ReleaseVersion,
    made: synthetic.SyntheticDataset | None,
    stated: dict[str, Any] | None,
) -> None:
    if made is None or stated is None:
        return
    SyntheticDataset.objects.create(
        version=version,
        csv=made.csv,
        epsilon=Decimal(str(made.epsilon)),
        delta=made.delta,
        method=made.method,
        rows=len(made.rows),
        privacy=stated["privacy"],
        notes=list(stated["notes"]),
        unfilled=list(made.unfilled),
    )


def _epsilon_detail(epsilon: Decimal | None) -> dict[str, str | None]:
    return {"synthetic_epsilon": str(epsilon) if epsilon is not None else None}


# The key of the PostgreSQL advisory lock that lets one analyst prepare a release at a time
# (b"OpenNRMr").
PREPARE_LOCK_KEY = int.from_bytes(b"OpenNRMr", "big", signed=True)


def _one_preparation_at_a_time() -> None:
    """Two analysts preparing the same period (or operation) at once would both find no release
    of it and both write one: the second waits here for the first to commit, then finds it and
    is refused. Nothing in one table can say "one live release per period" (a withdrawn
    version frees the period), so the check and the write are serialised instead. Preparing is
    rare, so one lock for every period costs nothing. (SQLite's immediate transactions already
    let one writer in at a time.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PREPARE_LOCK_KEY])


# The title, the notes and a revision's reason are published in the workbooks, which cannot
# hold a control character (openpyxl refuses one; XML has no way to write most): one stored in
# a version would make its downloads fail for ever, since a published version never changes.


def _title_checked(title: str) -> str:
    """The release's title on one line, refused if it is empty or holds a control character."""
    title = " ".join(title.split())
    if not title:
        raise ReleaseRefused({"title": "Enter the title of the release"})
    if problem := single_line_problem(title, "The title"):
        raise ReleaseRefused({"title": problem})
    return title


def _notes_checked(notes: str) -> str:
    """The notes for readers, refused if they hold a control character (other than line breaks
    and tabs)."""
    if problem := multi_line_problem(notes, "The notes"):
        raise ReleaseRefused({"notes": problem})
    return notes.strip()


def _reason_required(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ReleaseRefused({"reason": "Enter the reason for the revision"})
    if problem := multi_line_problem(reason, "The reason"):
        raise ReleaseRefused({"reason": problem})
    return reason


def _live_releases() -> QuerySet[Release]:
    """The period releases (an operation's account is not one) with a version published or
    awaiting approval: withdrawing a version that was never approved frees its period."""
    return Release.objects.filter(operation_id__isnull=True).filter(
        Exists(
            ReleaseVersion.objects.filter(release=OuterRef("pk")).exclude(
                state=VersionState.WITHDRAWN
            )
        )
    )


def _refuse_unfinished(period: tables.Period) -> None:
    """A release publishes a whole period's counts: a period not yet over would publish part of
    it as the whole, and the late referrals could then never be revised in when they change a
    cell by less than the threshold (ADR 0036). The tables page still previews it."""
    today = timezone.localdate(timezone=tables.LONDON)
    if period.end >= today:
        raise ReleaseRefused(
            {
                "quarter": f"{period_label(period)} has not ended yet: prepare its release "
                f"from {period.end + timedelta(days=1):%-d %B %Y}"
            }
        )


def _refuse_overlap(period: tables.Period, jurisdiction: str) -> None:
    """Refuse a release that another live one could be subtracted from, or added to (ADR 0056).
    Each release protects its own cells only (ADR 0032), so two releases that count some of
    the same referrals but not all of them publish, in their difference, counts that neither
    shows: a year less three of its quarters gives the fourth quarter; all of the UK less
    England and Wales (and Northern Ireland) gives Scotland. So a release may share referrals
    with another only by being the same one: the same period at the same level. All of the UK
    (blank) shares referrals with every jurisdiction; two jurisdictions share none."""
    levels = ["", jurisdiction] if jurisdiction else ["", *Jurisdiction.values]
    overlapping = list(
        _live_releases()
        .filter(jurisdiction__in=levels, period_start__lte=period.end, period_end__gte=period.start)
        .order_by("period_start", "jurisdiction", "pk")
    )
    for other in overlapping:
        if (other.period_start, other.period_end, other.jurisdiction) == (
            period.start,
            period.end,
            jurisdiction,
        ):
            raise ReleaseRefused(
                f"A release of {period_label(period)} for {jurisdiction_label(jurisdiction)} "
                f"already exists (“{other.title}”): revise it instead"
            )
    if not overlapping:
        return
    other = overlapping[0]
    raise ReleaseRefused(
        f"A release of {period_label(period)} for {jurisdiction_label(jurisdiction)} cannot "
        f"be prepared: “{other.title}” ({period_label(period_of(other))}, "
        f"{jurisdiction_label(other.jurisdiction)}) is published or awaiting approval and "
        "counts some of the same referrals, so anyone could subtract one release from the "
        "other and recover counts that each of them suppresses. Publish fixed periods (every "
        "quarter, or every year, never both) at one level (all of the UK, or each "
        "jurisdiction, never both), and revise a release rather than publish one that overlaps "
        "it."
    )


@transaction.atomic
def prepare_release(
    *,
    by: Actor,
    period: tables.Period,
    jurisdiction: str | None,
    title: str,
    notes: str = "",
    synthetic_epsilon: Decimal | None = None,
) -> ReleaseVersion:
    """Version 1 of a new release, awaiting a second analyst's approval, with a synthetic
    dataset of the period's referrals when `synthetic_epsilon` is given. Refused (nothing
    written) if a release of the period and jurisdiction is already published or awaiting
    approval (revise it instead), if one of an overlapping period or level is (they could be
    subtracted: `_refuse_overlap`, ADR 0056), if the disclosure check fails, or if the epsilon
    is not from 0.1 to 10."""
    organisation = selectors.analyst_organisation(by)
    synthetic_epsilon = _epsilon_checked(synthetic_epsilon)
    title = _title_checked(title)
    notes = _notes_checked(notes)
    _refuse_unfinished(period)
    _one_preparation_at_a_time()
    _refuse_overlap(period, jurisdiction or "")
    built = build_snapshot(period, jurisdiction, title, notes)
    _refuse_unsafe(built)
    made = _synthetic_made(period, jurisdiction, synthetic_epsilon)
    stated = _synthetic_statement(made, [])
    release = Release.objects.create(
        period_start=period.start,
        period_end=period.end,
        jurisdiction=jurisdiction or "",
        title=title,
    )
    version = ReleaseVersion.objects.create(
        release=release,
        number=1,
        notes=notes,
        snapshot=_with_synthetic(built.snapshot, stated),
        prepared_by=by.user,
        prepared_at=timezone.now(),
    )
    _store_synthetic(version, made, stated)
    audit_record(
        by=by.user,
        action="statistics.release_prepared",
        obj=version,
        organisation=organisation,
        detail={
            "release": release.pk,
            "version": 1,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "jurisdiction": jurisdiction or "",
            **_epsilon_detail(synthetic_epsilon),
        },
    )
    return version


def releasable_operations() -> list[account.Summary]:
    """The operations whose account may be released: taken place, ended, not cancelled."""
    return account.source().releasable(timezone.localdate())


def _operation_account(operation_id: int) -> account.Account:
    try:
        return account.source().account(operation_id, timezone.localdate())
    except account.NotReleasable as refusal:
        raise ReleaseRefused({"operation": str(refusal)}) from None


@transaction.atomic
def prepare_operation_release(
    *, by: Actor, operation_id: int, title: str, notes: str = ""
) -> ReleaseVersion:
    """Version 1 of the public account of an enforcement operation (ADR 0046), awaiting a second
    analyst's approval. Refused (nothing written) for an operation that has not taken place and
    ended (planned, under way, cancelled, or none: one message for all, so that nothing is
    learnt of an operation an analyst may not know of), if its account is already published or
    awaiting approval (revise it instead), or if the disclosure check fails."""
    organisation = selectors.analyst_organisation(by)
    title = _title_checked(title)
    notes = _notes_checked(notes)
    found = _operation_account(operation_id)
    _one_preparation_at_a_time()
    existing = (
        ReleaseVersion.objects.filter(release__operation_id=operation_id)
        .exclude(state=VersionState.WITHDRAWN)
        .select_related("release")
        .first()
    )
    if existing is not None:
        raise ReleaseRefused(
            f"The account of {found.operation.name} already exists (“{existing.release.title}”): "
            "revise it instead"
        )
    built = build_operation_snapshot(found, title, notes)
    _refuse_unsafe(built)
    release = Release.objects.create(
        period_start=found.operation.starts_on,
        period_end=found.operation.ends_on,
        jurisdiction="",
        title=title,
        operation_id=operation_id,
    )
    version = ReleaseVersion.objects.create(
        release=release,
        number=1,
        notes=notes,
        snapshot=built.snapshot,
        prepared_by=by.user,
        prepared_at=timezone.now(),
    )
    audit_record(
        by=by.user,
        action="statistics.release_prepared",
        obj=version,
        organisation=organisation,
        detail={"release": release.pk, "version": 1, "operation": operation_id},
    )
    return version


def _locked(version: ReleaseVersion) -> ReleaseVersion:
    return ReleaseVersion.objects.select_for_update().select_related("release").get(pk=version.pk)


def _refuse_unstated_synthetic(version: ReleaseVersion) -> None:
    """`revise_release` states the privacy a new synthetic dataset spends in all with the
    release's published ones and keeps it within the budget; checked again here for a version
    prepared before that rule. (Nothing else can be published while a version awaits approval,
    so the published datasets are the ones it was prepared against.)"""
    own = SyntheticDataset.objects.filter(version=version).first()
    if own is None:
        return
    earlier = _published_synthetic(
        list(
            ReleaseVersion.objects.filter(release_id=version.release_id, number__lt=version.number)
        )
    )
    if not earlier:
        return
    spent = sum((d.epsilon for d in earlier), own.epsilon)
    stated = version.snapshot.get("synthetic") or {}
    if stated.get("epsilon_in_all") == float(spent) and spent <= synthetic.RELEASE_EPSILON_BUDGET:
        return
    raise ReleaseRefused(
        f"Version {version.number} cannot be approved: with {_versions_text(earlier)}, which "
        f"stay public, its synthetic dataset spends epsilon {_epsilon_text(spent)} in all, "
        "which it does not state or which is more than the release's budget of "
        f"{_epsilon_text(synthetic.RELEASE_EPSILON_BUDGET)}. Withdraw it."
    )


@transaction.atomic
def approve_release(*, by: Actor, version: ReleaseVersion) -> ReleaseVersion:
    """A second analyst approves the version: it is published, frozen from now on. Refused for
    the analyst who prepared it (four eyes), for a version not awaiting approval, and for a
    revision whose counts differ from a published version's by fewer than the threshold."""
    organisation = selectors.analyst_organisation(by)
    version = _locked(version)
    if version.state != VersionState.AWAITING_APPROVAL:
        raise ReleaseRefused(
            f"Version {version.number} is {version.get_state_display().lower()}: only a version "
            "awaiting approval can be approved"
        )
    if version.prepared_by_id == by.user.pk:
        raise ReleaseRefused(
            "Another analyst must approve this release: you prepared it, and a release needs "
            "a second pair of eyes"
        )
    # `revise_release` checked this; checked again in case the version was prepared before
    # the rule (nothing else can be published while a version awaits approval).
    _refuse_small_changes(
        version.snapshot,
        list(
            ReleaseVersion.objects.filter(
                release_id=version.release_id,
                state=VersionState.PUBLISHED,
                number__lt=version.number,
            ).order_by("number")
        ),
        f"Version {version.number} cannot be approved",
        "Withdraw it.",
    )
    _refuse_unstated_synthetic(version)
    version.state = VersionState.PUBLISHED
    version.approved_by = by.user
    version.published_at = timezone.now()
    version.save()
    audit_record(
        by=by.user,
        action="statistics.release_approved",
        obj=version,
        organisation=organisation,
        detail={"release": version.release_id, "version": version.number},
    )
    return version


@transaction.atomic
def revise_release(
    *,
    by: Actor,
    release: Release,
    reason: str,
    notes: str | None = None,
    synthetic_epsilon: Decimal | None = None,
) -> ReleaseVersion:
    """A new version of a published release, from the data as it is now, with the reason,
    awaiting approval, and a new synthetic dataset when `synthetic_epsilon` is given (a
    revision never carries an earlier version's). The versions already published stay as they
    are. `notes` default to the latest version's. Refused (nothing written) if the disclosure
    check fails, or if a count published both in it and in an earlier published version would
    change by fewer than the threshold (`small_changes`: subtracting one from the other would
    give it away), or if the new synthetic dataset would take the release's published ones past
    their budget in all (`_refuse_over_budget`). The statement of a new dataset gives the
    privacy spent with the earlier ones too (`_synthetic_statement`)."""
    organisation = selectors.analyst_organisation(by)
    reason = _reason_required(reason)
    if notes is not None:
        notes = _notes_checked(notes)
    synthetic_epsilon = _epsilon_checked(synthetic_epsilon)
    release = Release.objects.select_for_update().get(pk=release.pk)
    versions = list(release.versions.order_by("number"))
    if not any(v.state == VersionState.PUBLISHED for v in versions):
        raise ReleaseRefused("Only a published release can be revised")
    if any(v.state == VersionState.AWAITING_APPROVAL for v in versions):
        raise ReleaseRefused(
            "A version of this release is already awaiting approval: approve or withdraw it first"
        )
    notes = versions[-1].notes if notes is None else notes
    earlier = _published_synthetic(versions)
    _refuse_over_budget(synthetic_epsilon, earlier)
    if release.operation_id is not None:
        if synthetic_epsilon is not None:
            raise ReleaseRefused(
                {"synthetic": "An operation's account is published without a synthetic dataset"}
            )
        built = build_operation_snapshot(
            _operation_account(release.operation_id), release.title, notes
        )
    else:
        built = build_snapshot(
            period_of(release), release.jurisdiction or None, release.title, notes
        )
    _refuse_unsafe(built)
    _refuse_small_changes(
        built.snapshot,
        [v for v in versions if v.state == VersionState.PUBLISHED],
        "The revision cannot be prepared",
        "Nothing was saved.",
    )
    made = _synthetic_made(period_of(release), release.jurisdiction or None, synthetic_epsilon)
    stated = _synthetic_statement(made, earlier)
    version = ReleaseVersion.objects.create(
        release=release,
        number=versions[-1].number + 1,
        notes=notes,
        revision_reason=reason,
        snapshot=_with_synthetic(built.snapshot, stated),
        prepared_by=by.user,
        prepared_at=timezone.now(),
    )
    _store_synthetic(version, made, stated)
    audit_record(
        by=by.user,
        action="statistics.release_revised",
        obj=version,
        organisation=organisation,
        detail={
            "release": release.pk,
            "version": version.number,
            **_epsilon_detail(synthetic_epsilon),
        },
    )
    return version


@transaction.atomic
def withdraw_draft(*, by: Actor, version: ReleaseVersion) -> ReleaseVersion:
    """An analyst withdraws a version awaiting approval: it will never be published. A
    published version cannot be withdrawn (revise it instead)."""
    organisation = selectors.analyst_organisation(by)
    version = _locked(version)
    if version.state != VersionState.AWAITING_APPROVAL:
        raise ReleaseRefused(
            "Only a version awaiting approval can be withdrawn; a published one is revised"
        )
    version.state = VersionState.WITHDRAWN
    version.withdrawn_by = by.user
    version.withdrawn_at = timezone.now()
    version.save()
    audit_record(
        by=by.user,
        action="statistics.release_withdrawn",
        obj=version,
        organisation=organisation,
        detail={"release": version.release_id, "version": version.number},
    )
    return version


# --- Reads -------------------------------------------------------------------------------


def published_on(version: ReleaseVersion) -> date | None:
    return timezone.localdate(version.published_at) if version.published_at else None


def published_versions() -> list[ReleaseVersion]:
    """Every published version, newest first."""
    return list(
        ReleaseVersion.objects.filter(state=VersionState.PUBLISHED)
        .select_related("release")
        .order_by("-published_at", "-pk")
    )


def synthetic_left(release: Release) -> Decimal:
    """How much epsilon a new synthetic dataset of this release may still spend: its budget
    less what its published datasets have spent (ADR 0037)."""
    earlier = _published_synthetic(list(release.versions.all()))
    spent = sum((d.epsilon for d in earlier), Decimal(0))
    return max(synthetic.RELEASE_EPSILON_BUDGET - spent, Decimal(0))


def synthetic_spent(release: Release) -> str | None:
    """What the release's published synthetic datasets have spent of its budget, in words, for
    the analyst revising it; None when it has none."""
    earlier = _published_synthetic(list(release.versions.all()))
    if not earlier:
        return None
    spent = sum((d.epsilon for d in earlier), Decimal(0))
    budget = synthetic.RELEASE_EPSILON_BUDGET
    return (
        f"This release's published synthetic datasets ({_earlier_epsilons(earlier)}) stay "
        "public and are of the same referrals, so their privacy losses add up: they have spent "
        f"epsilon {_epsilon_text(spent)} of the release's {_epsilon_text(budget)} in all. A new "
        f"dataset may spend at most {_epsilon_text(budget - spent)}, and its statement will "
        "give the total."
    )


def superseded_by(version: ReleaseVersion) -> ReleaseVersion | None:
    """The published version that replaced this one (the first published after it), if any."""
    return (
        ReleaseVersion.objects.filter(
            release_id=version.release_id, state=VersionState.PUBLISHED, number__gt=version.number
        )
        .order_by("number")
        .first()
    )
