"""The analyst's preview of the official tables, under /statistics/ (namespace `statistics`)."""

from django.urls import path

from . import tables_views

app_name = "statistics"

urlpatterns = [
    path("tables/", tables_views.tables_preview, name="tables"),
]
