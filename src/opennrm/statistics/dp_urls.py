"""The statistics pages for analysts, in the `statistics` URL namespace under /statistics/."""

from django.urls import path

from . import dp_views

app_name = "statistics"

urlpatterns = [
    path("private-counts/", dp_views.dp_query, name="dp_query"),
]
