"""The public pages of official statistics (ADR 0036), under /official-statistics/, open
without signing in: the published releases, and each published version as a bulletin.

Everything shown comes from the version's frozen snapshot: these pages never read the live
data, and never say who prepared or approved a release. A version not yet published is not
found. A version's synthetic dataset (ADR 0037), frozen with it, is the one download not in the
snapshot: its rows are in `SyntheticDataset`, its guarantee in the snapshot's "synthetic"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import charts, layout, releases, spreadsheets
from .layout import SnapshotTable
from .models import ReleaseVersion, SyntheticDataset, VersionState
from .views import cell

SYMBOLS = (
    ("[c]", "confidential: a small count, or one that would let a small count be worked out"),
    ("[x]", "not available: the data does not hold this figure"),
    ("[z]", "not applicable"),
)


def _charted(table: SnapshotTable) -> list[tuple[str, float]]:
    """The bars of a table's chart: each row's total (or median, for days), figures only."""
    headers = table["headers"]
    column = headers.index("Median") if "Median" in headers else len(headers) - 1
    return [
        (str(row[0]), float(row[column]))
        for row in table["rows"]
        if isinstance(row[column], int | float) and not isinstance(row[column], bool)
    ]


def chart_of(table: SnapshotTable) -> charts.Svg:
    headers = table["headers"]
    measure = "median days" if "Median" in headers else headers[-1].lower()
    hidden = [str(row[0]) for row in table["rows"] if not isinstance(row[-1], int | float)]
    summary = f"{table['caption']}: a bar for each row, its length the {measure}."
    if hidden:
        summary += f" Not drawn, as not published ([c] or [x]): {', '.join(hidden)}."
    summary += " The figures are in the table beside the chart."
    return charts.bar_chart(
        ident=f"chart-{table['slug']}",
        title=table["caption"],
        summary=summary,
        bars=_charted(table),
    )


def synthetic_statement(snapshot: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the bulletin says of the version's synthetic dataset, from the snapshot; None when
    the version has none."""
    stated = snapshot.get("synthetic")
    if not stated:
        return None
    return {
        **stated,
        "epsilon_text": f"{stated['epsilon']:g}",
        "delta_text": f"{stated['delta']:g}",
        "empty_columns": ", ".join(stated["unfilled"]),
    }


def bulletin_context(version: ReleaseVersion, *, public: bool) -> dict[str, Any]:
    """What the bulletin template needs, from the snapshot alone (and the version's number,
    state, dates and revision reason)."""
    snapshot = version.snapshot
    sections = [
        {
            "title": section["title"],
            "counts": section["counts"],
            "notes": section["notes"],
            "chart": chart_of(section["tables"][0]),
            "tables": [layout.display(t) for t in section["tables"]],
        }
        for section in snapshot["sections"]
    ]
    return {
        "snapshot": snapshot,
        "sections": sections,
        "symbols": SYMBOLS,
        "cell": cell,
        "published_on": releases.published_on(version),
        "superseded_by": releases.superseded_by(version)
        if version.state == VersionState.PUBLISHED
        else None,
        "public": public,
        "contact": settings.STATISTICS_CONTACT,
        "downloads": download_links(version) if version.state == VersionState.PUBLISHED else None,
        "synthetic": synthetic_statement(snapshot),
    }


@require_http_methods(["GET", "HEAD"])
def release_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "official_statistics/index.html",
        {"title": "Official statistics", "versions": releases.published_versions()},
    )


# The largest key a database column holds: a number in the address beyond it names nothing
# (and would overflow the query rather than find nothing).
LARGEST_KEY = 2**31 - 1


def published_version(release: int, version: int) -> ReleaseVersion:
    if not (0 < release <= LARGEST_KEY and 0 < version <= LARGEST_KEY):
        raise Http404
    return get_object_or_404(
        ReleaseVersion.objects.select_related("release"),
        release_id=release,
        number=version,
        state=VersionState.PUBLISHED,
    )


@require_http_methods(["GET", "HEAD"])
def release_version(request: HttpRequest, release: int, version: int) -> HttpResponse:
    found = published_version(release, version)
    return render(
        request,
        "official_statistics/bulletin.html",
        {
            "title": f"{found.snapshot['title']}",
            "version": found,
            **bulletin_context(found, public=True),
        },
    )


# --- Downloads ---------------------------------------------------------------------------

SOURCE = (
    "OpenNRM: the referrals, decisions and support recorded in the service, frozen when this "
    "version was prepared"
)
ODS = "application/vnd.oasis.opendocument.spreadsheet"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def file_stem(version: ReleaseVersion) -> str:
    """The start of each download's file name: the release's period, area and version."""
    snapshot = version.snapshot
    period = snapshot["period"]
    if "operation" in snapshot:  # an operation's account (ADR 0046)
        return f"operation-account-{period['start']}-to-{period['end']}-v{version.number}"
    area = (snapshot["jurisdiction"] or "uk").replace("_", "-")
    return f"official-statistics-{period['start']}-to-{period['end']}-{area}-v{version.number}"


def download_links(version: ReleaseVersion) -> dict[str, Any]:
    """The download addresses of a published version, for the bulletin."""
    kwargs = {"release": version.release_id, "version": version.number}
    return {
        "ods": reverse("official_statistics:download_ods", kwargs=kwargs),
        "xlsx": reverse("official_statistics:download_xlsx", kwargs=kwargs),
        "csv": reverse("official_statistics:download_csv", kwargs=kwargs),
        "synthetic": reverse("official_statistics:download_synthetic", kwargs=kwargs)
        if "synthetic" in version.snapshot
        else None,
        "tables": {
            table["slug"]: reverse(
                "official_statistics:table_csv", kwargs={**kwargs, "table": table["slug"]}
            )
            for table in releases.snapshot_tables(version.snapshot).values()
        },
    }


def _about(version: ReleaseVersion) -> spreadsheets.About:
    published_on = releases.published_on(version)
    if published_on is None:  # only published versions are served
        raise Http404
    return spreadsheets.About(
        version=version.number,
        published_on=published_on,
        revision_reason=version.revision_reason,
        source=SOURCE,
        contact=settings.STATISTICS_CONTACT,
    )


def _file(content: bytes | str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "HEAD"])
def download_ods(request: HttpRequest, release: int, version: int) -> HttpResponse:
    found = published_version(release, version)
    workbook = spreadsheets.workbook_ods(found.snapshot, _about(found))
    return _file(workbook, ODS, f"{file_stem(found)}.ods")


@require_http_methods(["GET", "HEAD"])
def download_xlsx(request: HttpRequest, release: int, version: int) -> HttpResponse:
    found = published_version(release, version)
    workbook = spreadsheets.workbook_xlsx(found.snapshot, _about(found))
    return _file(workbook, XLSX, f"{file_stem(found)}.xlsx")


@require_http_methods(["GET", "HEAD"])
def download_csv(request: HttpRequest, release: int, version: int) -> HttpResponse:
    found = published_version(release, version)
    return _file(spreadsheets.release_csv(found.snapshot), CSV, f"{file_stem(found)}.csv")


@require_http_methods(["GET", "HEAD"])
def table_csv(request: HttpRequest, release: int, version: int, table: str) -> HttpResponse:
    found = published_version(release, version)
    chosen = releases.snapshot_tables(found.snapshot).get(table)
    if chosen is None:
        raise Http404
    return _file(spreadsheets.table_csv(chosen), CSV, f"{file_stem(found)}-{table}.csv")


@require_http_methods(["GET", "HEAD"])
def download_synthetic(request: HttpRequest, release: int, version: int) -> HttpResponse:
    """The version's synthetic dataset (ADR 0037), as it was approved: 404 when it has none."""
    found = published_version(release, version)
    dataset = get_object_or_404(SyntheticDataset, version=found)
    return _file(dataset.csv, CSV, f"{file_stem(found)}-synthetic.csv")
