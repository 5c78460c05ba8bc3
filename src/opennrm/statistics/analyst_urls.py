"""The analysts' pages, under /statistics/ (namespace `statistics`): the official tables'
preview (ADR 33), the researchers' extract (ADR 34) and differentially private counts
(ADR 35). The capacity pages keep their older
`support:` routes (ADR 19)."""

from django.urls import path

from . import dp_views, extract_views, tables_views

app_name = "statistics"

urlpatterns = [
    path("tables/", tables_views.tables_preview, name="tables"),
    path("extract/", extract_views.extract_page, name="extract"),
    path("extract/<slug:kind>.csv", extract_views.extract_download, name="extract_download"),
    path("private-counts/", dp_views.dp_query, name="dp_query"),
]
