"""The public pages of official statistics, under /official-statistics/ (namespace
`official_statistics`), open to anyone without signing in (ADR 0036)."""

from django.urls import path

from . import public_views

app_name = "official_statistics"

urlpatterns = [
    path("", public_views.release_list, name="releases"),
    path("<int:release>/<int:version>/", public_views.release_version, name="release"),
    # Downloads, from the snapshot too (statistics.spreadsheets).
    path("<int:release>/<int:version>/release.ods", public_views.download_ods, name="download_ods"),
    path(
        "<int:release>/<int:version>/release.xlsx", public_views.download_xlsx, name="download_xlsx"
    ),
    path("<int:release>/<int:version>/release.csv", public_views.download_csv, name="download_csv"),
    path(
        "<int:release>/<int:version>/synthetic.csv",
        public_views.download_synthetic,
        name="download_synthetic",
    ),
    path(
        "<int:release>/<int:version>/tables/<slug:table>.csv",
        public_views.table_csv,
        name="table_csv",
    ),
]
