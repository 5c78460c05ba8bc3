"""The public pages of official statistics (ADR 0036), under /official-statistics/, open
without signing in: the published releases, and each published version as a bulletin.

Everything shown comes from the version's frozen snapshot: these pages never read the live
data, and never say who prepared or approved a release. A version not yet published is not
found."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from . import charts, layout, releases
from .layout import SnapshotTable
from .models import ReleaseVersion, VersionState
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
        "downloads": None,
    }


@require_http_methods(["GET", "HEAD"])
def release_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "official_statistics/index.html",
        {"title": "Official statistics", "versions": releases.published_versions()},
    )


def published_version(release: int, version: int) -> ReleaseVersion:
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
