"""The researchers' extract, for analysts, under /statistics/ in the `statistics` namespace
(ADR 0034)."""

from django.urls import path

from . import extract_views

app_name = "statistics"

urlpatterns = [
    path("extract/", extract_views.extract_page, name="extract"),
    path("extract/<slug:kind>.csv", extract_views.extract_download, name="extract_download"),
]
