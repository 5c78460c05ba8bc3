"""The analysts' pages, under /statistics/ (namespace `statistics`): the official tables'
preview (ADR 33), the researchers' extract (ADR 34), differentially private counts
(ADR 35) and the releases (ADR 36). The capacity pages keep their older
`support:` routes (ADR 19)."""

from django.urls import path

from . import dp_views, extract_views, release_views, tables_views

app_name = "statistics"

urlpatterns = [
    path("tables/", tables_views.tables_preview, name="tables"),
    path("extract/", extract_views.extract_page, name="extract"),
    path("extract/<slug:kind>.csv", extract_views.extract_download, name="extract_download"),
    path("private-counts/", dp_views.dp_query, name="dp_query"),
    # Official statistics releases: prepared, approved by a second analyst, revised (ADR 36).
    path("releases/", release_views.release_list, name="releases"),
    path("releases/prepare/", release_views.release_prepare, name="release_prepare"),
    # The public account of an enforcement operation that has ended (ADR 46).
    path(
        "releases/prepare/operation/",
        release_views.release_prepare_operation,
        name="release_prepare_operation",
    ),
    path(
        "releases/<int:release>/<int:version>/",
        release_views.release_version,
        name="release_version",
    ),
    path(
        "releases/<int:release>/<int:version>/approve/",
        release_views.release_approve,
        name="release_approve",
    ),
    path(
        "releases/<int:release>/<int:version>/withdraw/",
        release_views.release_withdraw,
        name="release_withdraw",
    ),
    path("releases/<int:release>/revise/", release_views.release_revise, name="release_revise"),
]
