"""Published official statistics through the API (issue 13, item 8; ADR 0036): the list of
published release versions and each version's frozen snapshot. Read-only and public, like the
public pages: no token (`auth=None`; `accounts.access.PUBLIC_API_OPERATIONS`), rate limited per
address. Never a version awaiting approval or withdrawn, never who prepared or approved it."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema

from opennrm.api import throttling
from opennrm.api.schemas import ErrorsOut

from . import releases
from .public_views import published_version

router = Router(tags=["Official statistics"])

Cell = int | float | str


class PeriodOut(Schema):
    start: date
    end: date
    label: str = Field(description='In words, like "July to September 2026"')


class TableOut(Schema):
    slug: str = Field(description="The table's name in the release, as in its CSV file's name")
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = Field(
        description="Each row: its label(s), then its figures: a count, a figure rounded to 1 "
        "decimal place (a percentage to none), or a symbol: [c] confidential (suppressed), "
        "[x] not available, [z] not applicable"
    )
    footer: list[Cell] | None = Field(description="The totals row, if the table has one")
    labels: int = Field(description="How many leading columns of each row are labels")


class SectionOut(Schema):
    title: str
    counts: str = Field(description='What one unit counted is: "referrals", "decisions", ...')
    notes: list[str]
    tables: list[TableOut]


class NotAvailableOut(Schema):
    title: str
    reason: str


class OperationOut(Schema):
    name: str = Field(description="The operation's name (published only once it has ended)")
    region: str
    as_of: date = Field(description="The day the records were read, when the version was prepared")


class SnapshotOut(Schema):
    format: int = Field(description="The version of this layout: 1")
    title: str
    period: PeriodOut
    jurisdiction: str | None = Field(description="The jurisdiction's code; null for all of the UK")
    jurisdiction_label: str
    threshold: int = Field(description="Counts from 1 to one less than this are not published")
    key_results: list[str] = Field(description="The main points in words")
    notes: list[str]
    sections: list[SectionOut]
    not_available: list[NotAvailableOut]
    operation: OperationOut | None = Field(
        default=None,
        description="For the public account of an enforcement operation that has ended (ADR "
        "0046): which operation; null for a release of a period",
    )


class VersionSummaryOut(Schema):
    release: int = Field(description="The release's id")
    version: int
    title: str
    period: PeriodOut
    jurisdiction: str | None
    jurisdiction_label: str
    published_at: datetime
    revision_reason: str = Field(description="Why this version revises the one before; empty for 1")
    superseded_by: int | None = Field(description="The version that replaced this one, if any")
    page: str = Field(description="The public page of this version")


class SyntheticOut(Schema):
    epsilon: float = Field(description="The differential privacy epsilon, for each referral")
    delta: float = Field(description="The differential privacy delta, for each referral")
    # A program needs the total as a number, not only inside `privacy`'s sentence (ADR 0037).
    epsilon_in_all: float = Field(
        description="The epsilon spent in all, for each referral, by this dataset and the "
        "release's earlier published ones (basic composition); `epsilon` for a first"
    )
    delta_in_all: float = Field(
        description="The delta spent in all, for each referral, likewise; `delta` for a first"
    )
    method: str = Field(description="How the dataset was generated (MST)")
    rows: int = Field(description="The number of synthetic rows: itself a noisy estimate")
    privacy: str = Field(description="The guarantee in words")
    notes: list[str]
    unfilled: list[str] = Field(description="CTDC's columns that are empty in every row")
    download: str = Field(description="The dataset as CSV, in CTDC's synthetic columns")


class VersionOut(VersionSummaryOut):
    snapshot: SnapshotOut = Field(description="The figures as published, frozen")
    synthetic: SyntheticOut | None = Field(
        description="The differentially private synthetic dataset published with the version "
        "(ADR 0037), or null when it has none"
    )


class ReleasesOut(Schema):
    versions: list[VersionSummaryOut] = Field(description="Every published version, newest first")


def _summary(version: releases.ReleaseVersion) -> dict[str, object]:
    snapshot = version.snapshot
    later = releases.superseded_by(version)
    return {
        "release": version.release_id,
        "version": version.number,
        "title": snapshot["title"],
        "period": snapshot["period"],
        "jurisdiction": snapshot["jurisdiction"],
        "jurisdiction_label": snapshot["jurisdiction_label"],
        "published_at": version.published_at,
        "revision_reason": version.revision_reason,
        "superseded_by": later.number if later else None,
        "page": reverse(
            "official_statistics:release",
            kwargs={"release": version.release_id, "version": version.number},
        ),
    }


@router.get(
    "/statistics/releases",
    url_name="statistics_releases",
    operation_id="statistics_releases",
    summary="The published official statistics releases",
    auth=None,
    response={200: ReleasesOut, 429: ErrorsOut},
)
def release_list(request: HttpRequest) -> ReleasesOut:
    """Every published version of every release, newest first. No token needed."""
    throttling.check_address(request)
    return ReleasesOut.model_validate(
        {"versions": [_summary(v) for v in releases.published_versions()]}
    )


@router.get(
    "/statistics/releases/{release_id}/versions/{number}",
    url_name="statistics_release_version",
    operation_id="statistics_release_version",
    summary="One published version of a release, with its figures",
    auth=None,
    response={200: VersionOut, 404: ErrorsOut, 422: ErrorsOut, 429: ErrorsOut},
)
def release_version(request: HttpRequest, release_id: int, number: int) -> VersionOut:
    """The version's frozen snapshot: the same figures as its public page and its downloads.
    404 for a version not published. No token needed."""
    throttling.check_address(request)
    version = published_version(release_id, number)
    return VersionOut.model_validate(
        {**_summary(version), "snapshot": version.snapshot, "synthetic": _synthetic(version)}
    )


def _synthetic(version: releases.ReleaseVersion) -> dict[str, object] | None:
    stated = version.snapshot.get("synthetic")
    if not stated:
        return None
    download = reverse(
        "official_statistics:download_synthetic",
        kwargs={"release": version.release_id, "version": version.number},
    )
    return {
        **stated,
        # Version 1's snapshot, and one with no earlier dataset, states no total: its own is.
        "epsilon_in_all": stated.get("epsilon_in_all", stated["epsilon"]),
        "delta_in_all": stated.get("delta_in_all", stated["delta"]),
        "download": download,
    }
