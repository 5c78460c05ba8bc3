"""The public pages of official statistics, under /official-statistics/ (namespace
`official_statistics`), open to anyone without signing in (ADR 0036)."""

from django.urls import path

from . import public_views

app_name = "official_statistics"

urlpatterns = [
    path("", public_views.release_list, name="releases"),
    path("<int:release>/<int:version>/", public_views.release_version, name="release"),
]
